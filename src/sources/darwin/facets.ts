/**
 * The facets of a macOS host (src/sources/facets.ts): the process table from ps-list and `ps` (argv of
 * every process; the allow-listed environment of the caller's own), open files and locks of the Hermes
 * files from lsof, launchd jobs from launchctl, and find-process for the ports of web-UI gateways.
 *
 * Off Linux a process has no cgroup and no session id (`sid`/`pgid` are -1); `startTicks` is the start
 * time in centiseconds since the epoch (ps-list's `lstart`, one-second resolution, so always a multiple of 100),
 * compared with Hermes's records to the second (core/identify.ts `startStampsAgree`).
 */
import os from 'node:os';
import path from 'node:path';
import type { HomeRecord, LockRecord, ProcessRecord, ScanNote, SupervisorObservation } from '../../types.js';
import { DARWIN_START_RESOLUTION, recordNames } from '../../core/identify.js';
import { FILES, cleanPath } from '../../core/paths.js';
import type { FileHolders, HostFacets, Locks, OpenFiles, ProcessTable, TableListing } from '../facets.js';
import { realHostFiles } from '../hostfiles.js';
import { type CommandHostScanOptions, type PortLookup, type ProcessRow, findProcessPortLookup, psListLister } from '../processlist.js';
import { DEFAULT_COMMAND_TIMEOUT_MS, execRunner } from '../runner.js';
import { LAUNCHD_LABEL_RE, observeLaunchd } from '../supervisors/launchd.js';
import { isWriteLock, parseLsofF } from './lsof.js';
import { type PsCommandLine, argvOfPsCommand, envFromPsE, parsePsCommands, startStamp } from './ps.js';
import { UNKNOWN_UID, processUid } from '../../util/uid.js';

/** Options of scanDarwin: the shared command-host options plus the scanning user and the port lookup. */
export interface DarwinScanOptions extends CommandHostScanOptions {
  /** UID of the scanning user (default processUid()). */
  uid?: number;
  /** Home directory of the scanning user (default os.homedir()). */
  homeDir?: string;
  /** Port lookup for web-UI gateways (default find-process). */
  findPort?: PortLookup;
}

/**
 * The macOS process table: ps-list for pid, ppid, uid, name, path and start time; `ps -A -ww` for the
 * whole command line and tty; `ps -A -E -ww` for the environment ps shows of the caller's own processes.
 */
function darwinProcessTable(opts: DarwinScanOptions, uid: number): ProcessTable {
  const runner = opts.runner ?? execRunner;
  const t = { timeoutMs: opts.timeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS };
  let rows = new Map<number, ProcessRow>();
  const cmdOf = new Map<number, Pick<PsCommandLine, 'tty' | 'command'>>();
  let envRows: Map<number, PsCommandLine> | null = null;
  const argvOf = (pid: number) => argvOfPsCommand(cmdOf.get(pid)?.command ?? '');
  return {
    bootTimeMs: null,
    environHint: 'ps shows it only for your own processes',
    async list(): Promise<TableListing> {
      const notes: ScanNote[] = [];
      let table: ProcessRow[];
      try {
        table = await (opts.listProcesses ?? psListLister)();
      } catch (err) {
        throw new Error(`cannot list processes (ps-list: ${(err as Error).message}); nothing can be decided`);
      }
      rows = new Map(table.filter((r) => Number.isInteger(r.pid) && r.pid > 0).map((r) => [r.pid, r]));
      const bare = await runner('ps', ['-A', '-ww', '-o', 'pid=,tty=,command='], t);
      if (!bare.error && bare.code === 0) {
        const parsed = parsePsCommands(bare.stdout, true);
        for (const [pid, r] of parsed.rows) cmdOf.set(pid, r);
        if (parsed.bad > 0) notes.push({ what: 'ps', detail: `${parsed.bad} line(s) of ps output not understood and skipped` });
      } else {
        notes.push({ what: 'ps', detail: `ps failed (${bare.error ?? `exit ${bare.code}`}); command lines from ps-list` });
        for (const r of rows.values()) if (r.cmd) cmdOf.set(r.pid, { tty: null, command: r.cmd });
      }
      if (cmdOf.size === 0) throw new Error('cannot read any command line (ps and ps-list gave none); nothing can be decided');
      const withEnv = await runner('ps', ['-A', '-E', '-ww', '-o', 'pid=,command='], t);
      envRows = !withEnv.error && withEnv.code === 0 ? parsePsCommands(withEnv.stdout, false).rows : null;
      if (!envRows) notes.push({ what: 'environ', detail: `ps -E failed (${withEnv.error ?? `exit ${withEnv.code}`}); environments unknown` });
      const all = new Set([...rows.keys(), ...cmdOf.keys()]);
      return { argv: new Map([...all].map((pid) => [pid, argvOf(pid)])), count: all.size, notes };
    },
    read(pid, _argv, handles): ProcessRecord | null {
      const row = rows.get(pid);
      const cmd = cmdOf.get(pid);
      if (!row && !cmd) return null;
      const procUid = row?.uid ?? UNKNOWN_UID;
      let env: Record<string, string> = {};
      let envVis: ProcessRecord['visibility']['environ'] = 'denied';
      const e = envRows?.get(pid);
      if (!envRows) envVis = 'unsupported';
      else if (e && cmd) {
        const parsed = envFromPsE(e.command, cmd.command);
        if (parsed) {
          env = parsed;
          envVis = procUid === uid || Object.keys(parsed).length > 0 ? 'ok' : 'denied';
        } else envVis = 'gone';
      }
      const start = row?.startTime instanceof Date ? row.startTime : row?.startTime ? new Date(row.startTime as unknown as string) : undefined;
      return {
        pid,
        ppid: row?.ppid ?? 0,
        uid: procUid,
        startTicks: startStamp(start),
        startTime: start && !Number.isNaN(start.getTime()) ? start.toISOString() : null,
        argv: argvOf(pid),
        comm: row?.name ?? '',
        exe: row?.path ?? null,
        cwd: null,
        tty: cmd?.tty ?? null,
        sid: -1,
        pgid: -1,
        cgroups: [],
        env,
        handles: handles(),
        visibility: { fd: 'unsupported', environ: envVis, cgroup: 'unsupported' },
      };
    },
    ppidOf: (pid) => rows.get(pid)?.ppid,
  };
}

/** What the scan learnt before it asks for locks: the home records and the launchd jobs (filled as the scan goes). */
export interface DarwinSeen {
  homes: readonly HomeRecord[];
  supervisors: SupervisorObservation[];
}

/**
 * The owner of `<home>/gateway.lock` when lsof printed no lock on it. lsof on macOS leaves its lock
 * column blank (`l ` for every file: the Darwin dialect never fills it, lsof
 * `dialects/darwin/libproc/dfile.c`), so the flock Hermes holds on gateway.lock for the gateway's life
 * (gateway/status.py `acquire_gateway_runtime_lock`, v0.15.1 and 306e2d2) is read from other evidence,
 * among the processes that have the file open:
 * 1. Hermes's own record: the gateway.lock record (written only by the flock holder), else gateway.pid,
 *    whose pid and start_time name the process, the start compared to the second (ps `lstart` has no
 *    finer resolution; Hermes writes centiseconds: core/identify.ts `startStampsAgree`);
 * 2. else launchd: exactly one opener is a Hermes job's PID or the child of it (the stderr wrapper's
 *    gateway), and no record names another process.
 * Returns the owner's PID, or null when nothing shows one.
 */
export function darwinGatewayLockOwner(lockPath: string, openers: readonly ProcessRecord[], seen: DarwinSeen): number | null {
  const home = cleanPath(path.posix.dirname(lockPath));
  const rec = seen.homes.find((h) => cleanPath(h.path) === home);
  const named = openers.find((p) => recordNames(rec?.lockFile, p, DARWIN_START_RESOLUTION) || recordNames(rec?.pidFile, p, DARWIN_START_RESOLUTION));
  if (named) return named.pid;
  const jobPids = new Set(seen.supervisors.flatMap((o) => (o.launchdJobs ?? []).map((j) => j.pid)).filter((pid) => pid > 0));
  const ofJob = openers.filter((p) => jobPids.has(p.pid) || jobPids.has(p.ppid));
  if (ofJob.length !== 1) return null;
  // A record whose pid is another opener (its start stamp not matching) leaves the owner undecided.
  const recordPids = [rec?.lockFile?.pid, rec?.pidFile?.pid].filter((x): x is number => typeof x === 'number' && x > 0);
  if (openers.some((p) => p !== ofJob[0] && recordPids.includes(p.pid))) return null;
  return ofJob[0]!.pid;
}

/**
 * lsof asked about the files of interest only (never the whole machine), and the locks it printed on
 * them: lsof does not tell flock from fcntl locks; Hermes takes flock (gateway/status.py at v0.15.1).
 * Real macOS lsof prints none (see {@link darwinGatewayLockOwner}); a lock it does print is kept.
 */
function darwinOpenFilesAndLocks(opts: DarwinScanOptions, seen: DarwinSeen): { openFiles: OpenFiles; locks: Locks } {
  const runner = opts.runner ?? execRunner;
  const t = { timeoutMs: opts.timeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS };
  let printed: LockRecord[] = [];
  const openFiles: OpenFiles = {
    async ofFiles(files): Promise<FileHolders> {
      const r = await runner('lsof', ['-n', '-P', '-w', '-F', 'pcfanl', '--', ...files], t);
      if (r.error || (r.code !== 0 && r.code !== 1)) {
        return {
          visibility: 'unsupported',
          holders: [],
          notes: [{ what: 'lsof', detail: `lsof failed (${r.error ?? `exit ${r.code}`}); holders of kanban.db and gateway.lock unknown` }],
        };
      }
      const parsed = parseLsofF(r.stdout);
      const notes: ScanNote[] = [];
      if (parsed.bad > 0) notes.push({ what: 'lsof', detail: `${parsed.bad} lsof field(s) not understood (truncated output?); some holders may be missing` });
      const seen = new Set<string>();
      printed = [];
      const holders: FileHolders['holders'] = [];
      for (const f of parsed.files) {
        const handle = { fd: f.fd, path: cleanPath(f.name), mode: f.mode, deleted: false };
        holders.push({ pid: f.pid, command: f.command, handle });
        if (isWriteLock(f.lock) || f.lock === 'R' || f.lock === 'r') {
          const key = `${handle.path}:${f.pid}`;
          if (seen.has(key)) continue;
          seen.add(key);
          printed.push({ path: handle.path, inode: 0, kind: 'FLOCK', access: isWriteLock(f.lock) ? 'WRITE' : 'READ', pid: f.pid });
        }
      }
      return { visibility: 'ok', holders, notes };
    },
  };
  const locks: Locks = {
    // The locks of the holders the scan could read (a holder that left the table has none).
    read(_lockFiles, records) {
      const pids = new Set(records.map((r) => r.pid));
      const locks = printed.filter((l) => pids.has(l.pid));
      const lockPaths = new Set(records.flatMap((r) => r.handles.map((h) => h.path)).filter((p) => path.posix.basename(p) === FILES.gatewayLock));
      for (const lp of [...lockPaths].sort()) {
        if (locks.some((l) => l.path === lp && l.access === 'WRITE')) continue;
        const openers = records.filter((r) => r.handles.some((h) => h.path === lp));
        const owner = darwinGatewayLockOwner(lp, openers, seen);
        if (owner !== null) locks.push({ path: lp, inode: 0, kind: 'FLOCK', access: 'WRITE', pid: owner });
      }
      return { locks, notes: [] };
    },
  };
  return { openFiles, locks };
}

/** The facets of a macOS host, or of its recorded outputs. */
export function darwinFacets(opts: DarwinScanOptions = {}): HostFacets {
  const uid = opts.uid ?? processUid();
  const homeDir = opts.homeDir ?? os.homedir();
  const runner = opts.runner ?? execRunner;
  const timeoutMs = opts.timeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
  const seen: DarwinSeen = { homes: [], supervisors: [] };
  const { openFiles, locks } = darwinOpenFilesAndLocks(opts, seen);
  const table = darwinProcessTable(opts, uid);
  return {
    platform: 'darwin',
    // The scan hands the home records over here, before it asks for locks (src/sources/scan.ts step 6).
    table: {
      ...table,
      proveHomes(_records, homes) {
        seen.homes = homes;
      },
    },
    openFiles,
    locks,
    files: opts.files ?? realHostFiles,
    users: () => ({ homes: { [String(uid)]: homeDir }, names: {}, scannerUid: uid, defaultRoots: [path.posix.join(homeDir, '.hermes')], notes: [] }),
    supervisors: {
      observe: async (records) => {
        // The job label a Hermes process runs under, as launchd put it into its environment.
        const extraLabels = records.map((r) => r.env.XPC_SERVICE_NAME).filter((l): l is string => !!l && LAUNCHD_LABEL_RE.test(l));
        seen.supervisors = [await observeLaunchd({ runner, timeoutMs, uid, extraLabels })];
        return seen.supervisors;
      },
    },
    ports: opts.findPort ?? findProcessPortLookup,
    normalise: cleanPath,
  };
}
