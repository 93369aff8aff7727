/**
 * The data model of hermes-doctor.
 *
 * A scan is a pipeline: sources observe the host and produce a {@link HostSnapshot} (plain JSON data,
 * no functions, no secrets), the pure core turns a snapshot into a {@link Report}, and outputs render
 * the report. Everything in this file is serialisable with JSON.stringify, so a snapshot can be
 * written to a file, attached to a bug report and classified offline.
 */

/** Access mode of an open file, from the O_ACCMODE bits of `flags` in /proc/PID/fdinfo/FD (octal). */
export type AccessMode = 'r' | 'w' | 'rw';

/** Why a piece of a process could not be read: `denied` is EACCES/EPERM, `gone` the process exited. */
export type Visibility = 'ok' | 'denied' | 'gone' | 'unsupported';

/**
 * One open file of interest: an fd that points at a Hermes identity, lock or kanban file.
 * `path` is the link target of /proc/PID/fd/FD with the kernel's ` (deleted)` suffix removed.
 */
export interface Handle {
  /** File descriptor number. */
  fd: number;
  /** Absolute path the fd points at (without ` (deleted)`). */
  path: string;
  /** Access mode from fdinfo; null when fdinfo could not be read. */
  mode: AccessMode | null;
  /** True when the kernel marked the link target ` (deleted)` (the file was unlinked while open). */
  deleted: boolean;
  /** Inode number of the open file (from fdinfo `ino:`), when known. */
  inode?: number;
}

/**
 * One line of a cgroup membership, from /proc/PID/cgroup (man 7 cgroups):
 * `hierarchy-ID:controller-list:cgroup-path`. v2 is `0::/path`, the v1 systemd hierarchy is
 * `N:name=systemd:/path`.
 */
export interface CgroupLine {
  hierarchy: number;
  controllers: string;
  path: string;
}

/** A process as the process-table source saw it. */
export interface ProcessRecord {
  pid: number;
  ppid: number;
  /** Real UID; -1 when unknown. */
  uid: number;
  /**
   * Start time. Linux: clock ticks since boot (field 22 of /proc/PID/stat, man 5 proc). macOS and
   * Windows: centiseconds since the epoch (what Hermes writes as `start_time` there), 0 when unknown;
   * compared only for equality with identity records and between parent and child.
   */
  startTicks: number;
  /**
   * Start time as an ISO-8601 UTC string (btime + startTicks / CLK_TCK), or null. Not clock ticks, unlike
   * `startTime` on an {@link IdentityFile}.
   */
  startTime: string | null;
  /** argv as the kernel shows it (cmdline split on NUL; invalid UTF-8 bytes become U+FFFD). */
  argv: string[];
  /** Kernel thread name (/proc/PID/comm, 15 bytes at most). */
  comm: string;
  /** Target of /proc/PID/exe, or null when not readable. */
  exe: string | null;
  /** Target of /proc/PID/cwd, or null when not readable. */
  cwd: string | null;
  /** Controlling terminal as a name (`pts/3`), or null when the process has none. */
  tty: string | null;
  /** Session id (field 6 of /proc/PID/stat). */
  sid: number;
  /** Process group id (field 5 of /proc/PID/stat). */
  pgid: number;
  /** cgroup memberships; empty when not readable. */
  cgroups: CgroupLine[];
  /** Only the allow-listed environment variables (see ENV_ALLOWLIST). Never anything else. */
  env: Record<string, string>;
  /** Open files of interest. */
  handles: Handle[];
  /** What could be read of this process. */
  visibility: { fd: Visibility; environ: Visibility; cgroup: Visibility };
  /**
   * Off Linux only (absent on Linux): what the macOS/Windows source proved about this process without
   * its environment (Windows cannot read another process's environment). See docs/platforms.md.
   */
  platformHints?: PlatformHints;
}

/** Identity facts a non-Linux source proved for a process (docs/platforms.md). */
export interface PlatformHints {
  /** HERMES_HOME proven by a record: gateway.pid whose pid and start stamp match, or the task launcher that started it. */
  hermesHome?: { path: string; via: string };
  /** Default Hermes root of the process's user when it is not `$HOME/.hermes` (Windows: `%LOCALAPPDATA%/hermes`, hermes_constants.py:_get_platform_default_hermes_home at 306e2d2). */
  defaultRoot?: string;
  /** Windows: the venv launcher stub (same command line, hermes_cli/gateway.py:_filter_venv_launcher_stubs) that stood between this process and `ppid` was dropped. */
  launcherStub?: { pid: number; ppid: number };
  /** Windows: a living ancestor runs this Scheduled Task launcher (`<HOME>/gateway-service/<Task>.vbs|.cmd|.js`, normalised). */
  taskLauncher?: { pid: number; launcher: string };
}

/**
 * Kinds of lock in /proc/locks (man 5 proc; fs/locks.c `lock_get_status`): flock(2), fcntl(2) record
 * locks, open file description locks, leases and NFS delegations. macOS records lsof's locks as FLOCK.
 */
export const LOCK_KINDS = ['FLOCK', 'POSIX', 'OFDLCK', 'LEASE', 'DELEG'] as const;
export type LockKind = (typeof LOCK_KINDS)[number];

/** A lock from /proc/locks (man 5 proc; on macOS from lsof), matched by inode to a file of interest. */
export interface LockRecord {
  /** Path of the locked file of interest. */
  path: string;
  /** Inode of the locked file (0 on macOS: lsof names the file). */
  inode: number;
  /** What kind of lock: Hermes takes FLOCK on gateway.lock and the dispatcher lock. */
  kind: LockKind;
  /** `READ` or `WRITE`. */
  access: string;
  /** PID the kernel records for the lock (the process that took it). -1 for OFD locks. */
  pid: number;
}

/** Parse outcome of an identity file (gateway.pid, gateway_state.json). */
export type IdentityFileStatus = 'ok' | 'missing' | 'legacy' | 'corrupt' | 'unreadable';

/**
 * gateway.pid, gateway_state.json or the record inside gateway.lock of a HERMES_HOME. Format: JSON
 * written by Hermes (gateway/status.py `_build_pid_record`, `_build_runtime_status_record` at v0.15.1
 * e71a2bd and 306e2d2, the same in both): `{"pid", "kind":"hermes-gateway", "argv", "start_time"}`
 * (`json.dump` default separators in gateway.pid and gateway.lock; compact in gateway_state.json, which
 * adds `gateway_state`, `exit_reason`, `restart_requested`, `active_agents`, `platforms`, `updated_at`).
 * `argv` is Hermes's `sys.argv` after `-p/--profile NAME` was stripped, so it never names the profile;
 * the file's folder does. A legacy gateway.pid holds a bare integer. Recorded samples: fixtures/real/.
 */
export interface IdentityFile {
  path: string;
  status: IdentityFileStatus;
  pid: number | null;
  /**
   * The record's `start_time`: the process start in clock ticks since boot (field 22 of /proc/PID/stat,
   * gateway/status.py `_get_process_start_time` at v0.15.1 and 306e2d2), compared with
   * {@link ProcessRecord.startTicks}; null where Hermes could not read it (no /proc: macOS, Windows) or
   * the file has none. Not an ISO time, unlike `startTime` on a process.
   */
  startTime: number | null;
  /** gateway_state.json only: `gateway_state`. */
  gatewayState?: string | null;
  /** gateway_state.json only: `desired_state` (written by the s6 lifecycle and web UIs). */
  desiredState?: string | null;
  /** hermes_home, written by some builds (neither v0.15.1 nor 306e2d2 write it). */
  hermesHome?: string | null;
  /** `kind` (`hermes-gateway`), when present. */
  kind?: string | null;
  /** `argv` of the record (strings only; the profile selector already stripped by Hermes), when present. */
  argv?: string[] | null;
  /** gateway_state.json only: `exit_reason`. */
  exitReason?: string | null;
  /** gateway_state.json only: `restart_requested`. */
  restartRequested?: boolean | null;
  /** gateway_state.json only: `active_agents`. */
  activeAgents?: number | null;
  /** gateway_state.json only: `updated_at` (ISO-8601, `+00:00`). */
  updatedAt?: string | null;
  /**
   * gateway_state.json only: `platforms`, one entry per messaging platform, sorted by name (gateway/status.py
   * `write_runtime_status` at 306e2d2: `platforms{name:{state, error_code, error_message, updated_at}}`).
   * Absent when the file has none.
   */
  platforms?: PlatformRecord[];
  /** What was wrong, when status is corrupt or unreadable. */
  error?: string;
}

/**
 * One messaging platform of a gateway as gateway_state.json records it. `state` as Hermes writes it
 * (gateway/run.py at 306e2d2: `connecting`, `connected`, `retrying`, `fatal`, `paused`, …); every string
 * is host input (escape it before printing).
 */
export interface PlatformRecord {
  /** Platform key (`telegram`, `discord`, …). */
  name: string;
  state: string | null;
  /** `error_code`, when the platform failed. */
  errorCode: string | null;
  /** `error_message`, masked (core/mask.ts maskText) and cut to 300 characters. */
  errorMessage: string | null;
  updatedAt: string | null;
}

/**
 * `.gateway-planned-stop.json` of a home (gateway/status.py at v0.15.1 and 306e2d2:
 * `{"target_pid", "target_start_time", "stopper_pid", "written_at"}`, TTL 60 s): an operator's stop
 * (`hermes gateway stop`, the s6 lifecycle's stop) was requested for that process.
 */
export interface PlannedStopRecord {
  status: IdentityFileStatus;
  targetPid: number | null;
  /** Clock ticks since boot on Linux, like {@link IdentityFile.startTime}. */
  targetStartTime: number | null;
  /** ISO-8601, as written. */
  writtenAt: string | null;
  error?: string;
}

/**
 * A port a home's gateway is configured to listen on, found the way Hermes finds it, and who listens on it.
 * `variable` names the setting (`API_SERVER_PORT`, `WEBHOOK_PORT`, `GATEWAY_PORT`); `source` says where
 * the value came from (`<home>/.env`, `config.yaml platforms.api_server.port`, the process environment
 * of PID N, …).
 */
export interface HomePortRecord {
  home: string;
  variable: string;
  port: number;
  source: string;
  /** Who listens on it (TCP LISTEN); empty when nobody does; null when it could not be told (`error`). */
  listeners: { pid: number; name: string }[] | null;
  error?: string;
}

/** What the scan knows about one HERMES_HOME (a root is the `default` profile, a profile is root/profiles/NAME). */
export interface HomeRecord {
  /** Absolute path of the HERMES_HOME. */
  path: string;
  /** The root this home belongs to (itself for a root). */
  root: string;
  /** `default` for a root, else the profile name. */
  profile: string;
  /** Whether the directory exists (false also when it could not be checked: see accessError). */
  exists: boolean;
  /**
   * Why existence could not be checked (EACCES on a folder above it, …), when it could not. A home that
   * cannot be checked is never taken for a deleted one.
   */
  accessError?: string;
  /** Whether `<root>/profiles/.deleted/<name>` exists (a deleted profile's tombstone). */
  tombstoned: boolean;
  /** Whether `.gateway-launchd-unsupported` exists (macOS detached fallback). */
  launchdUnsupported: boolean;
  pidFile: IdentityFile;
  stateFile: IdentityFile;
  /**
   * The record inside `gateway.lock` (Hermes rewrites it after taking the flock and leaves it after exit;
   * gateway/status.py `_write_gateway_lock_record`). `missing` when the file is absent or still empty.
   * Absent in older snapshots.
   */
  lockFile?: IdentityFile;
  /** `.gateway-planned-stop.json`; absent in older snapshots, `missing` when the file is not there. */
  plannedStop?: PlannedStopRecord;
  /** Whether `.clean_shutdown` exists (gateway/run.py at v0.15.1 and 306e2d2: touched after a drained shutdown, removed at the next start). Absent in older snapshots. */
  cleanShutdown?: boolean;
  /** Whether `SOUL.md` exists (hermes_cli/container_boot.py at 306e2d2 registers an s6 slot only for a profile that has one). Absent in older snapshots. */
  hasSoul?: boolean;
}

/** Status of a supervisor kind as a whole. */
export type SupervisorStatus = 'present' | 'absent' | 'unknown';

/** A systemd unit that holds, or is named for, Hermes processes (`systemctl show`, systemd.exec(5)). */
export interface SystemdUnit {
  /** Unit name, e.g. `hermes-gateway-argus.service`. */
  unit: string;
  scope: 'system' | 'user';
  /** MainPID; 0 when not running. */
  mainPid: number;
  /** ControlGroup, e.g. `/system.slice/hermes-gateway-argus.service`. */
  controlGroup: string;
  activeState: string;
  subState: string;
  nRestarts: number;
  /** ExecStart argv of the first command, as parsed from `argv[]=` of systemctl show. */
  execStart: string[];
  workingDirectory: string | null;
  /** HERMES_HOME from the unit's Environment=, when set. Other variables are never kept. */
  hermesHome: string | null;
  /** FragmentPath (the unit file). */
  fragmentPath: string | null;
  /** `Result` (success, exit-code, signal, start-limit-hit, …; systemd.exec(5)); absent in older snapshots. */
  result?: string;
  /** `ExecMainStatus`: exit status of the last main process (200 = CHDIR, 203 = EXEC; systemd.exec(5) "Process Exit Codes"). */
  execMainStatus?: number | null;
  /** Owner UID of the user manager for `scope: 'user'` (from the cgroup `user@UID.service`). */
  uid?: number;
  /** Owner's user name (passwd) for `scope: 'user'`, for `systemctl --user --machine=NAME@`. */
  userName?: string;
  /** `UnitFileState` (`enabled`, `disabled`, `static`, `masked`, `linked`, …); absent in older snapshots. */
  unitFileState?: string | null;
  /** `Restart=` (`no`, `always`, `on-failure`, `on-abnormal`, …; systemd.service(5)); absent in older snapshots. */
  restart?: string | null;
  /** `SuccessExitStatus=` as systemctl shows it (exit statuses and signals besides 0 that count as success); absent in older snapshots. */
  successExitStatus?: string | null;
  /**
   * Paths the unit needs that do not exist when the scan ran: WorkingDirectory (unless prefixed `-`) and
   * the ExecStart executable. Checked by the source (I/O); a unit whose paths vanished crash-loops
   * (seed 003: status=200/CHDIR).
   */
  missingPaths?: string[];
}

/** An s6 service slot (s6-svstat(8)); `gateway-<profile>` in the official image's /run/service. */
export interface S6Slot {
  /** Slot directory name, e.g. `gateway-argus`. */
  name: string;
  /** Absolute slot directory. */
  dir: string;
  /** Whether s6-svstat says the service is up. */
  up: boolean;
  /** Supervised PID, 0 when down. */
  pid: number;
  /** Whether s6 wants it up. */
  wantedUp: boolean | null;
  /** HERMES_HOME read from the slot's run script, when it sets one. */
  hermesHome: string | null;
  /** Profile from `-p NAME` in the run script or the slot name. */
  profile: string | null;
  /** Whether s6 starts it when the scan directory is scanned (no `down` file in the slot; s6-svstat `normallyup`). Absent in older snapshots. */
  normallyUp?: boolean | null;
  /** Exit code of the last run (s6-svstat `exitcode`, -1 when it was killed by a signal or never ran). Absent in older snapshots. */
  exitCode?: number | null;
  /** Seconds since the slot last went up or down (s6-svstat `updownfor`). Absent in older snapshots. */
  upDownForS?: number | null;
  /** When s6-svstat failed for this slot. */
  error?: string;
}

/** A supervisor observation: one per kind the source knows. */
export interface SupervisorObservation {
  kind: 'systemd' | 's6' | 'launchd' | 'windows-task';
  status: SupervisorStatus;
  /** Why the status is unknown or absent (missing binary, timeout, not booted). */
  detail: string;
  systemdUnits?: SystemdUnit[];
  s6Slots?: S6Slot[];
  /** s6 scan directory used. */
  s6ScanDir?: string;
  launchdJobs?: LaunchdJob[];
  windowsTasks?: WindowsTask[];
}

/** A launchd job `ai.hermes.gateway*` (launchctl(1) `list` / `print`). */
export interface LaunchdJob {
  label: string;
  domain: string;
  /** PID of the job's process, 0 when not running. */
  pid: number;
  state: string | null;
  hermesHome: string | null;
  profile: string | null;
  /** ProgramArguments (`launchctl print` `arguments = {…}` or `launchctl list LABEL` `"ProgramArguments"`). */
  arguments?: string[];
  /** The plist (`path =` of `launchctl print`), when known. */
  plist?: string | null;
  /** `LastExitStatus` (`launchctl list LABEL`: the raw wait status, 19968 = exit 78) or `last exit code` of `print`; absent when unknown. */
  lastExitStatus?: number | null;
  /** Whether the plist asks launchd to keep it alive (`KeepAlive` true or a dictionary); null when unknown. */
  keepAlive?: boolean | null;
}

/** A Windows Scheduled Task `Hermes_Gateway*` (schtasks /query /fo csv /v). */
export interface WindowsTask {
  name: string;
  state: string;
  hermesHome: string | null;
  profile: string | null;
  /** The launcher the task runs (`<HOME>/gateway-service/<Task>.vbs|.cmd|.js`), normalised like every Windows path (docs/platforms.md). */
  launcher?: string | null;
  /** `Task To Run` as schtasks printed it. */
  taskToRun?: string;
  /** `Scheduled Task State` (Enabled/Disabled), when printed. */
  enabled?: boolean | null;
}

/**
 * What a scan note is about: a process's `fd` table or `environ`ment, the process table (`proc`, macOS
 * `ps`), `/etc/passwd`, a root's `active_profile`, `/proc/locks` (`locks`), macOS `lsof`, the Windows
 * default root (`home`) and open `handles`; the supervisor kinds for a supervisor's own notes.
 */
export const SCAN_NOTE_KINDS = ['fd', 'environ', 'proc', 'ps', 'passwd', 'active_profile', 'locks', 'lsof', 'home', 'handles', 'systemd', 's6', 'launchd', 'windows-task'] as const;
export type ScanNoteKind = (typeof SCAN_NOTE_KINDS)[number];

/** Something the scan could not see, reported rather than hidden. */
export interface ScanNote {
  what: ScanNoteKind;
  pid?: number;
  detail: string;
}

/** Everything the classifier needs about one host at one moment. Pure data. */
export interface HostSnapshot {
  schema: 'hermes-doctor.snapshot/v1';
  /** ISO time the scan started. */
  takenAt: string;
  platform: 'linux' | 'darwin' | 'win32';
  hostname: string;
  /**
   * Units of `startTicks` per second: 100. On Linux that is USER_HZ, 100 on every mainstream
   * architecture (man 7 time); hermes-doctor records 100 rather than calling sysconf(_SC_CLK_TCK). Off
   * Linux start stamps are centiseconds, also 100 per second.
   */
  clockTicks: number;
  /** Boot time in ms since the epoch (btime of /proc/stat × 1000), or null. */
  bootTimeMs: number | null;
  /** UID of the scanning process. */
  scannerUid: number;
  /** PID of the scanning process and its ancestors (never signalled). */
  scannerPids: number[];
  /** How long the scan took, ms. */
  scanMs: number;
  /** Processes of interest: Hermes processes, holders of Hermes files, and their parents. */
  processes: ProcessRecord[];
  /** Total processes seen in the process table. */
  processCount: number;
  /** UID (as text) → home directory from passwd(5), for the UIDs of the processes above. */
  userHomes: Record<string, string>;
  /**
   * Root → content of `<root>/active_profile` (the sticky profile of `hermes profile use`), or null
   * when the file is absent or says `default`. Hermes (hermes_cli/main.py at 306e2d23) applies it when no
   * `-p` is given and HERMES_HOME is unset or a root.
   */
  activeProfiles: Record<string, string | null>;
  locks: LockRecord[];
  homes: HomeRecord[];
  supervisors: SupervisorObservation[];
  notes: ScanNote[];
  /** macOS/Windows: who holds the port a web-UI-managed gateway was given (`GATEWAY_PORT`), from find-process. */
  portHolders?: PortHolder[];
  /** Hermes sources found for the scan's gateways, and whether each has the singleton dispatcher lock (sources/hermes-source.ts). Absent in older snapshots. */
  hermesSources?: HermesSource[];
  /** Kanban roots in sight and whether their `kanban/.dispatcher.lock` exists. Absent in older snapshots. */
  kanbanRoots?: KanbanRootRecord[];
  /** File-level facts of every kanban database of every root in sight and every home's state.db (sources/databases.ts). Absent in older snapshots. */
  databases?: DatabaseRecord[];
  /** Corruption messages in the tail of the homes' logs (sources/db-logs.ts); absent when there is none. */
  corruptionLogs?: CorruptionLogRecord[];
  /** The ports every home in sight is configured to serve, and their listeners (sources/ports.ts). Absent in older snapshots. */
  homePorts?: HomePortRecord[];
}

/**
 * The 100-byte SQLite database header as read from the file (https://www.sqlite.org/fileformat.html
 * §1.3): the magic `SQLite format 3\0` at 0–15, the page size at 16–17 (big-endian; 1 means 65536), the
 * file format write and read versions at 18 and 19 (1 = rollback journal, 2 = WAL).
 */
export interface SqliteHeader {
  /** Whether the first 16 bytes are the SQLite magic. */
  magic: boolean;
  /** Page size in bytes (1 in the header is 65536); null without the magic or when not a power of two in 512..65536. */
  pageSize: number | null;
  /** Byte 18: 1 = rollback journal, 2 = WAL; null without the magic. */
  writeVersion: number | null;
  /** Byte 19: 1 = rollback journal, 2 = WAL; null without the magic. */
  readVersion: number | null;
}

/** The quarantine copies beside one database: `<db>.corrupt.<token>.bak` and their `-wal`/`-shm` copies. */
export interface BackupSummary {
  /** Main backups (`<db>.corrupt.*.bak`). */
  count: number;
  /** Bytes of the main backups and their `.bak-wal`/`.bak-shm` sidecar copies. */
  bytes: number;
  /** Main backups whose mtime is within `windowMs` before the scan started. */
  recent: number;
  /** The window of `recent`, ms (3,600,000: one hour). */
  windowMs: number;
  /** Newest mtime of a main backup, ms since the epoch; null when there is none. */
  newestMtimeMs: number | null;
  /** True when the folder listing stopped at its bound: the counts are lower bounds. */
  truncated: boolean;
}

/** What a scan saw of one database file, without opening it as a database (no SQLite, nothing written). */
export interface DatabaseRecord {
  /** Absolute path of the database (`<root>/kanban.db`, `<root>/kanban/boards/<slug>/kanban.db`, `<home>/state.db`). */
  path: string;
  kind: 'kanban' | 'state';
  /** Kanban root (kanban) or HERMES_HOME (state) it belongs to. */
  owner: string;
  /** Size of the database file, bytes; null when it could not be read (see `error`). */
  bytes: number | null;
  /** The header; null when fewer than 100 bytes could be read (an empty file, an error). */
  header: SqliteHeader | null;
  /** Why the file could not be read (a FIFO, a symlink, permission denied), when it could not. */
  error?: string;
  /** Size of `<db>-wal`, bytes; null when absent. */
  walBytes: number | null;
  /** Size of `<db>-shm`, bytes; null when absent. */
  shmBytes: number | null;
  /** Size of `<db>-journal` (a rollback journal), bytes; null when absent. */
  journalBytes: number | null;
  backups: BackupSummary;
  /** Bytes available to an unprivileged user on the database's filesystem (statfs f_bavail × f_bsize); null when unknown. */
  freeBytes: number | null;
  /** A board whose `board.json` says `"archived": true` (Hermes hides it from `kanban boards`); absent otherwise. */
  archived?: boolean;
  /** The read-only `PRAGMA quick_check` of `--integrity` (sources/db-integrity.ts); absent when it was not asked for. */
  integrity?: IntegrityRecord;
  /** Kanban databases: `kanban.dispatch_in_gateway` of the root and of each home in sight under it (sources/kanban-config.ts). Additive. */
  dispatchConfig?: DispatchSetting[];
}

/**
 * `kanban.dispatch_in_gateway` of one home, as its gateway would read it (`load_config()` of
 * hermes_cli/config.py: `<HERMES_HOME>/config.yaml` deep-merged over the default `True`; the watcher tests
 * Python truthiness, gateway/run.py at v0.15.1, gateway/kanban_watchers.py at 306e2d2).
 * - `yes`: set truthy, or not set (the default is true, also when config.yaml is absent);
 * - `no`: set falsy (`false`, `0`, `""`, `null`);
 * - `unknown`: config.yaml could not be read or parsed, or `kanban` is not a mapping (`why` says which).
 */
export interface DispatchSetting {
  /** The HERMES_HOME (the root itself, or `<root>/profiles/<name>`). */
  home: string;
  dispatches: 'yes' | 'no' | 'unknown';
  /** Whether the value came from config.yaml (false: the default). */
  explicit: boolean;
  why: string;
}

/**
 * Outcome of one read-only `PRAGMA quick_check` (sources/db-integrity.ts).
 * - `ok`: quick_check answered `ok`;
 * - `corrupt`: it answered problems (`lines`), or SQLite refused the file as malformed / not a database;
 * - `not-checked`: busy, locked, sidecars in a state where a read could create or disturb something, the
 *   file changed during the check, no python3, or the time budget ran out (`reason` says which). Never corrupt.
 */
export interface IntegrityRecord {
  status: 'ok' | 'corrupt' | 'not-checked';
  /** quick_check's own lines (or SQLite's error), masked, control characters escaped, at most 20 of at most 300 characters. */
  lines: string[];
  /** How it was opened: `ro` (`file:…?mode=ro`, both sidecars existing), `immutable` (`?mode=ro&immutable=1`, no sidecars), null when not opened. */
  open: 'ro' | 'immutable' | null;
  /** Why it was not checked, or a note on the check. */
  reason?: string;
  /** Wall-clock time of the check, ms. */
  ms: number;
}

/** The corruption messages found in the tail of one home's log (sources/db-logs.ts). Only logs with a match are recorded. */
export interface CorruptionLogRecord {
  /** The HERMES_HOME whose `logs/` it is. */
  home: string;
  /** Absolute path of the log (`<home>/logs/gateway.log`, `<home>/logs/errors.log`). */
  file: string;
  /** Matching lines in the window, count. */
  count: number;
  /** Newest timestamp of a matching line (Hermes logs local time, `%(asctime)s`), ISO 8601; null when no matching line had one. */
  newest: string | null;
  /** The newest matching line, masked (core/mask.ts maskText), control characters escaped, at most 300 characters. */
  example: string;
  /** Bytes read from the end of the file (at most {@link MAX_LOG_TAIL_BYTES} of sources/db-logs.ts), bytes. */
  bytesRead: number;
  /** The window, ms: lines with an older timestamp are not counted. */
  windowMs: number;
}

/** A Hermes source folder (the one holding `hermes_cli/`) that gateways of the scan run. */
export interface HermesSource {
  dir: string;
  /** Whether its gateway code takes `<root>/kanban/.dispatcher.lock` (306e2d2: yes; v0.15.1: no). */
  singletonDispatcherLock: boolean;
  /** The file that says so (`gateway/kanban_watchers.py` or `gateway/run.py`). */
  file: string;
  /** PIDs of the gateways found running it. */
  pids: number[];
}

/** What the scan saw of one kanban root's lock files. */
export interface KanbanRootRecord {
  root: string;
  /** Whether `<root>/kanban/.dispatcher.lock` exists (306e2d2 creates it when a gateway's dispatcher starts). */
  dispatcherLockExists: boolean;
}

/** The holder of a port named in a gateway's environment (find-process `port` lookup). */
export interface PortHolder {
  /** The gateway whose environment names the port. */
  forPid: number;
  /** Environment variable that named it (`GATEWAY_PORT`, `HERMES_GATEWAY_PORT`, `API_SERVER_PORT`). */
  variable: string;
  port: number;
  /** PIDs listening on it; empty when nobody does. */
  pids: number[];
  /** Process names of those PIDs. */
  names: string[];
}

/** Role of a process, decided by the matcher from argv (as gateway/status.py:_gateway_command_subcommand at 306e2d2) and, failing that, open files. */
export type Role =
  | 'gateway'
  | 'gateway-wrapper'
  | 'kanban-worker'
  | 'dispatcher-daemon'
  | 'dashboard'
  | 'tui'
  | 'web-ui'
  | 'hermes-cli'
  | 'stray-holder';

/** Verdict for one process. */
export type Verdict =
  | 'supervised'
  | 'manual'
  | 'orphan'
  | 'duplicate'
  | 'ghost'
  | 'orphaned-worker'
  | 'stray-holder'
  | 'starting'
  | 'unknown';

/** Who supervises a process, when something does. */
export interface SupervisorRef {
  kind: 'systemd' | 's6' | 'launchd' | 'windows-task' | 'web-ui' | 'desktop';
  /** Unit name, slot name, launchd label, task name, or the app's PID as text. */
  unit: string;
  /** MainPID, slot PID or job PID; null when the supervisor has no PID (Windows tasks). */
  mainPid: number | null;
  /** How membership was proven: `MainPID`, `cgroup`, `slot-pid`, `parent s6-supervise`, … */
  via: string;
}

/** The classifier's view of one process. */
export interface ProcessVerdict {
  pid: number;
  ppid: number;
  uid: number;
  /** {@link ProcessRecord.startTicks}: clock ticks since boot on Linux, a platform start stamp elsewhere. */
  startTicks: number;
  /** {@link ProcessRecord.startTime}: ISO-8601 UTC, or null. */
  startTime: string | null;
  argv: string[];
  role: Role;
  /** HERMES_HOME, or null when unknown. */
  hermesHome: string | null;
  /** How the home was found: `argv -p`, `env HERMES_HOME`, `gateway.lock fd`, … */
  homeSource: string | null;
  profile: string | null;
  kanbanRoot: string | null;
  supervisor: SupervisorRef | null;
  verdict: Verdict;
  /** The reasons, in words, for the verdict. */
  reasons: string[];
  /**
   * argv from the gateway.lock / gateway.pid record whose pid and start_time match this process, when its
   * own cmdline does not show it (setproctitle rewrote it to `hermes`). Absent otherwise.
   */
  recordArgv?: string[];
  handles: Handle[];
  /** Session and tty, for "started from pts/3, session 1234". */
  tty: string | null;
  sid: number;
}

/** Kanban risk for one DB; `unknown` when no evidence tells whether a rogue gateway dispatches on it. */
export type KanbanRisk = 'ok' | 'stray-writer' | 'rival-writers' | 'unknown';

/** Why one gateway (or `kanban daemon`) is, is not, or may be a dispatcher of a DB's root. */
export interface DispatcherEvidence {
  pid: number;
  role: Role;
  verdict: Verdict;
  dispatches: 'yes' | 'no' | 'unknown';
  /** The evidence, in words (a flock, an fd, the Hermes source, the absence of `.dispatcher.lock`). */
  why: string;
}

export interface KanbanHolder {
  pid: number;
  mode: AccessMode | null;
  role: Role | 'unknown';
  verdict: Verdict | null;
}

export interface KanbanReport {
  /** Absolute path of the kanban.db. */
  db: string;
  /** Kanban root it belongs to. */
  root: string;
  holders: KanbanHolder[];
  /** PID holding `<root>/kanban/.dispatcher.lock`, or null. */
  dispatcherLockHolder: number | null;
  /** Gateways that may write this DB (by kanban root), with verdicts. */
  writers: { pid: number; verdict: Verdict; role: Role }[];
  risk: KanbanRisk;
  reasons: string[];
  /** PID holding `<root>/kanban.db.dispatch.lock` (306e2d2, during a tick), or null. Additive. */
  dispatchLockHolder?: number | null;
  /** Whether the root's Hermes has the singleton dispatcher lock, and from what. Additive. */
  singletonLock?: { value: 'yes' | 'no' | 'unknown'; why: string };
  /** Per gateway of the root: does it dispatch, and from what evidence. Additive. */
  dispatchers?: DispatcherEvidence[];
}

/** critical → exit 2, unknown → exit 3 (could not decide), warning → exit 1, info → no effect. */
export type Severity = 'critical' | 'unknown' | 'warning' | 'info';

/**
 * Stable machine codes of findings: one per kind of problem (or note) the classifier, the filters and
 * the second look produce. A code is never renamed within v1.
 */
export type FindingCode =
  // One process (subject.pid).
  | 'ORPHAN_GATEWAY'
  | 'ORPHAN_DISPATCHER'
  | 'DUPLICATE_GATEWAY'
  | 'GHOST_GATEWAY'
  | 'ORPHANED_WORKER'
  | 'STRAY_WRITER'
  | 'STRAY_HOLDER'
  | 'GATEWAY_STARTING'
  | 'UNDECIDED'
  // One kanban database (subject.db).
  | 'RIVAL_WRITERS'
  | 'KANBAN_RISK_UNKNOWN'
  // One database file's health (subject.db; subject.pid for DELETED_WAL_HELD).
  | 'KANBAN_NOT_SQLITE'
  | 'KANBAN_NOT_WAL'
  | 'MULTIPLE_DISPATCHERS'
  | 'KANBAN_BACKUP_STORM'
  | 'DELETED_WAL_HELD'
  | 'WAL_GROWING'
  | 'KANBAN_CORRUPT'
  | 'CORRUPTION_LOGGED'
  // One HERMES_HOME's identity files (subject.home).
  | 'IDENTITY_FILE_BAD'
  | 'IDENTITY_FILE_LEGACY'
  | 'IDENTITY_FILE_STALE'
  | 'IDENTITY_FILE_CONTRADICTS_LOCK'
  // One systemd unit (subject.unit).
  | 'UNIT_CRASH_LOOP'
  // One HERMES_HOME's gateway as the per-home view sees it (subject.home; subject.unit / subject.pid where one applies).
  | 'GATEWAY_DOWN'
  | 'AUTOSTART_LOST'
  | 'PROFILE_RESPAWNS'
  | 'UNIT_WILL_FAIL'
  | 'PORT_HELD'
  | 'PLATFORM_DOWN'
  | 'SUPERVISOR_CONFLICT'
  // What the scan could not see or decide.
  | 'SUPERVISOR_UNKNOWN'
  | 'NOT_VISIBLE'
  // A `--home` / `--profile` filter that names nothing.
  | 'HOME_NOT_FOUND'
  | 'PROFILE_NOT_FOUND'
  // A first-look problem gone at the second look (src/core/second-look.ts).
  | 'RESOLVED';

/**
 * What a finding is about, as data (additive in v1): the process, kanban database, systemd unit or
 * HERMES_HOME it concerns. Only the fields that apply are present; absent on findings about the scan as
 * a whole (`SUPERVISOR_UNKNOWN`, the `NOT_VISIBLE` summary of unreadable fd tables).
 */
export interface FindingSubject {
  /** The process. */
  pid?: number;
  /** Absolute path of the kanban.db (or, for the database findings, of the state.db). */
  db?: string;
  /** The systemd unit name (as in `units[].unit`). */
  unit?: string;
  /** The HERMES_HOME (absolute, cleaned). */
  home?: string;
}

export interface Finding {
  severity: Severity;
  /** Stable machine code, e.g. `ORPHAN_GATEWAY`, `RIVAL_WRITERS`. */
  code: FindingCode;
  pid: number | null;
  /** The cause, in one sentence. */
  message: string;
  /** The exact command that fixes it, or null when a person must decide. */
  remedy: string | null;
  /** What it is about, as data; the report's filters and the second look match findings by it. Additive in v1. */
  subject?: FindingSubject;
}

/** Exit codes, monitoring style (Nagios plugin convention). */
export const ExitCode = { OK: 0, WARNING: 1, CRITICAL: 2, UNKNOWN: 3 } as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/**
 * How one `--kill` target ended: `terminated` exited after SIGTERM (taskkill /PID) within the
 * grace; `killed` needed SIGKILL (taskkill /F); `already-gone` had exited before the first signal;
 * `skipped` its identity no longer matched the scan (PID reused, argv changed) so nothing was sent;
 * `refused` was never signalled (why in `reason`); `failed` a signal was not permitted (EPERM) or it
 * was still alive after SIGKILL; `planned` a `--dry-run` target (nothing sent).
 */
export type KillOutcome = 'terminated' | 'killed' | 'already-gone' | 'skipped' | 'refused' | 'failed' | 'planned';

/** One entry of `actions[]`: what `--kill` did (or refused to do) to one process. */
export interface KillAction {
  pid: number;
  /** Start stamp from the scan (clock ticks since boot on Linux), null when the PID was not in the scan. */
  startTicks: number | null;
  /** argv with secret-looking values masked (src/core/mask.ts); empty when unknown. */
  argv: string[];
  verdict: Verdict | null;
  role: Role | null;
  hermesHome: string | null;
  outcome: KillOutcome;
  /** Signals actually sent, in order: `SIGTERM`, `SIGKILL` (Windows: taskkill /PID, taskkill /PID /F). */
  signals: ('SIGTERM' | 'SIGKILL')[];
  /** Why it was refused, skipped or failed; what happened otherwise (null when nothing to add). */
  reason: string | null;
  /** Identity files put back after the target exited (absolute paths), when it rewrote or removed them. */
  restored: string[];
  /**
   * Identity files of the owner that were not put back, and why: the restore was refused (the file is now
   * a symlink: never written through), or the file could not be saved before the kill (a symlink, a FIFO).
   */
  notRestored: { file: string; reason: string }[];
  /** Whether the home's owner still holds its flock on gateway.lock afterwards; null when not checked. */
  ownerHoldsLock: boolean | null;
  /** Time from the first signal to the end, ms (0 when nothing was sent). */
  ms: number;
}

/** The classifier's whole answer. */
export interface Report {
  schema: 'hermes-doctor.orphans/v1';
  takenAt: string;
  hostname: string;
  processes: ProcessVerdict[];
  kanban: KanbanReport[];
  findings: Finding[];
  supervisors: { kind: string; status: SupervisorStatus; detail: string }[];
  summary: {
    processes: number;
    byVerdict: Partial<Record<Verdict, number>>;
    critical: number;
    unknown: number;
    warnings: number;
    exitCode: ExitCodeValue;
    scanMs: number;
  };
  /**
   * State of every supervisor unit that runs (or is named for) a Hermes gateway: systemd units (system
   * and user scope) with ActiveState, NRestarts, MainPID and a crash-loop warning. Additive in v1.
   */
  units?: UnitState[];
  /** Only after `--kill`: one entry per target or refusal; the rest of the report is the rescan after acting. */
  actions?: KillAction[];
  /**
   * After a second look (`--quiet`, `--kill`, Prometheus outputs; `--confirm-delay`): the delay, when the
   * first look was taken and its exit code, and how many of its problems resolved themselves (they are
   * the `RESOLVED` info findings). The rest of the report is the second look. Additive in v1.
   */
  confirmation?: { delayMs: number; firstTakenAt: string; firstExitCode: ExitCodeValue; resolved: number };
  /** Health of every database file in sight (core/db-health.ts), sorted by path. Additive in v1; absent when the snapshot has no database records. */
  databases?: DatabaseHealth[];
  /** Every HERMES_HOME in sight, one entry each, sorted by path (core/homes/): the per-home view of `status`. Additive in v1. */
  homes?: HomeStatus[];
}

/**
 * The one-line state of a home:
 * - `up`: a gateway runs for it and nothing wants otherwise (also: served through its host gateway);
 * - `down`: no gateway, and nothing wants one (no supervisor wants it up, the intent says stopped by an operator);
 * - `dark`: something wants a gateway here (a supervisor, the persisted intent) and none runs: messaging is dark;
 * - `deleted`: the profile folder is gone or tombstoned;
 * - `starting`: a gateway (or its supervisor) is starting, within the start-up window;
 * - `unknown`: what runs or what is wanted could not be told (a supervisor unknown, a home unreadable).
 */
export type HomeState = 'up' | 'down' | 'dark' | 'deleted' | 'starting' | 'unknown';

/** One supervisor that claims a home, as the per-home view shows it. */
export interface HomeSupervisorState {
  kind: SupervisorRef['kind'];
  /** Unit name, slot name, launchd label, task name, or the app's PID as text. */
  unit: string;
  /** The supervisor's own word for its state (`active (running)`, `failed`, `up`, `down (exitcode 1)`, `Ready`, …). */
  state: string;
  /** Whether it wants a gateway up (s6 wanted up, unit enabled or restarting, KeepAlive, task enabled); null when unknown. */
  wantsUp: boolean | null;
  /** Whether it starts the gateway at boot / container start (unit enabled, no s6 `down` file, RunAtLoad, task trigger); null when unknown. */
  enabled: boolean | null;
  /** Restart policy (`Restart=` of a unit, `KeepAlive`, s6 always restarts); null when unknown. */
  restart: string | null;
  /** MainPID, slot PID or job PID; null when none runs or the kind has none. */
  pid: number | null;
}

/** The per-home view of one HERMES_HOME: should a gateway run, does one, who owns it, what comes next. */
export interface HomeStatus {
  /** Absolute path of the HERMES_HOME. */
  home: string;
  root: string;
  profile: string;
  state: HomeState;
  /** The state in one sentence (why it is that state). */
  why: string;
  exists: boolean;
  tombstoned: boolean;
  /** Every supervisor that claims this home. */
  supervisors: HomeSupervisorState[];
  /** The persisted intent: gateway_state.json's `desired_state`, `gateway_state`, `exit_reason`; the planned-stop marker; `.clean_shutdown`. */
  intent: {
    desiredState: string | null;
    gatewayState: string | null;
    exitReason: string | null;
    plannedStop: boolean;
    cleanShutdown: boolean;
  };
  /** The home's live gateway (the flock owner, else the one gateway process of the home), or null when none runs. */
  gateway: {
    pid: number;
    verdict: Verdict;
    /** PID holding gateway.lock's flock, null when nobody does or it is unknown. */
    lockOwner: number | null;
    startTime: string | null;
    /** Age at the scan's takenAt, ms; null when the start time is unknown. */
    ageMs: number | null;
  } | null;
  /** PIDs of every gateway process of the home (more than one: a duplicate or a stray). */
  gatewayPids: number[];
  /** From gateway_state.json; `connected` per platform when the gateway runs. */
  platforms: PlatformRecord[];
  /** PID holding `<root>/kanban/.dispatcher.lock`, null when nobody does or unknown. */
  dispatcherLockHolder: number | null;
  /** The home's configured ports and whether someone other than its gateway holds them. */
  ports: { variable: string; port: number; listeners: number[] | null; heldByGateway: boolean | null }[];
  /** Codes of the findings about this home. */
  findings: FindingCode[];
}

/** The health section of one database in the report: the file-level facts and the codes of its findings. */
export interface DatabaseHealth {
  path: string;
  kind: 'kanban' | 'state';
  /** Kanban root or HERMES_HOME. */
  owner: string;
  bytes: number | null;
  /** `sqlite` (magic present), `not-sqlite`, `empty` (0 bytes: SQLite treats it as a new database), `unreadable`. */
  format: 'sqlite' | 'not-sqlite' | 'empty' | 'unreadable';
  /** From header bytes 18–19: `wal` (2), `rollback` (1), null when unknown. */
  journalMode: 'wal' | 'rollback' | null;
  pageSize: number | null;
  walBytes: number | null;
  shmBytes: number | null;
  journalBytes: number | null;
  backups: BackupSummary;
  freeBytes: number | null;
  /** PIDs holding a deleted generation of this database (the file, its -wal or -shm). */
  deletedHeldBy: number[];
  /** Codes of the findings about this database. */
  findings: FindingCode[];
  /** Why the file could not be read, when it could not. */
  error?: string;
  /** True for a board Hermes has archived (`board.json`); absent otherwise. */
  archived?: boolean;
  /** The read-only quick_check of `--integrity`; absent when not asked for. */
  integrity?: IntegrityRecord;
  /** Kanban databases: `kanban.dispatch_in_gateway` of the root and of each home in sight under it. Additive. */
  dispatchConfig?: DispatchSetting[];
}

/** One supervisor unit in the report: what `systemctl show` said and what it holds. */
export interface UnitState {
  kind: 'systemd';
  /** Unit name, e.g. `hermes-gateway-argus.service` or a custom `hermes-michel.service`. */
  unit: string;
  scope: 'system' | 'user';
  /** Owner UID of the user manager (user scope only). */
  uid?: number;
  activeState: string;
  subState: string;
  /** `Result` of the last run, when known. */
  result: string | null;
  /** Times systemd restarted it automatically since it was started by hand (`NRestarts`). */
  nRestarts: number;
  /** 0 when not running. */
  mainPid: number;
  controlGroup: string;
  /** The HERMES_HOME it runs (ExecStart `-p`, Environment= HERMES_HOME, or its gateway's), when known. */
  home: string | null;
  /** Hermes processes inside it (MainPID or its cgroup), by PID. */
  pids: number[];
  /** Why it looks like a crash loop, or null. */
  crashLoop: string | null;
  /** The supervised way to restart it (`systemctl [--user] restart UNIT`). */
  restart: string;
}
