/**
 * The facets of a Linux host (src/sources/facets.ts): the process table and open files over procfs,
 * /proc/locks, passwd(5), systemd and s6, and the host's own files.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { ProcessRecord, ScanNote } from '../../types.js';
import { parseHermesArgv } from '../../core/argv.js';
import { cleanPath } from '../../core/paths.js';
import { systemdCgroupPaths } from '../../core/supervision.js';
import type { HostFacets, Supervisors, UserAccounts } from '../facets.js';
import { realSourceFs } from '../hermes-source.js';
import { procListeners } from '../ports.js';
import { type HostFiles, realHostFiles } from '../hostfiles.js';
import { type CommandRunner, DEFAULT_COMMAND_TIMEOUT_MS, execRunner } from '../runner.js';
import { observeS6 } from '../supervisors/s6.js';
import { type CgroupUnit, cgroupUnit, observeSystemd } from '../supervisors/systemd.js';
import { linuxLocks } from './locks.js';
import { linuxOpenFiles } from './open-files.js';
import { linuxProcessTable } from './process-table.js';
import { processUid } from '../../util/uid.js';

/** Options of scanLinux: where procfs and the supervisors' tools are, and what the scan adds to what it finds. */
export interface LinuxScanOptions {
  /** procfs mount, default /proc. */
  procRoot?: string;
  /** Command runner for systemctl and s6-svstat. */
  runner?: CommandRunner;
  /** Timeout of each external command, ms (default DEFAULT_COMMAND_TIMEOUT_MS of src/sources/runner.ts). */
  timeoutMs?: number;
  /** s6 scan directory (default /run/service). */
  s6ScanDir?: string;
  /** Homes to inspect even when no process names them (`--home`). */
  extraHomes?: string[];
  /** PID of the scanner (default process.pid). */
  selfPid?: number;
  /** systemd booted marker (default /run/systemd/system); tests point it elsewhere. */
  systemdMarker?: string;
  /** passwd file (default /etc/passwd). */
  passwdFile?: string;
  /** Where user managers keep their runtime dirs (default /run/user; `UID/systemd/private` marks a running `systemd --user`). */
  userRuntimeRoot?: string;
  /** Identity files, profiles and Hermes sources (default the host's file system). */
  files?: HostFiles;
  /** Host name in the snapshot (default os.hostname()). */
  hostname?: string;
}

/** Parses /etc/passwd (passwd(5)): UID → home directory and UID → user name (the first line of a UID wins). */
export function parsePasswd(text: string): { homes: Record<string, string>; names: Record<string, string> } {
  const homes: Record<string, string> = {};
  const names: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const f = line.split(':');
    if (f.length >= 6 && /^\d+$/.test(f[2]!)) {
      homes[f[2]!] ??= f[5]!;
      names[f[2]!] ??= f[0]!;
    }
  }
  return { homes, names };
}

/** Every systemd service (system or user scope) a process's cgroups name (v2 `0::` and v1 `name=systemd`). */
export function cgroupUnitsOfProcess(p: ProcessRecord): CgroupUnit[] {
  const out: CgroupUnit[] = [];
  for (const cg of systemdCgroupPaths(p)) {
    const u = cgroupUnit(cg);
    if (u && !out.some((x) => x.unit === u.unit && x.scope === u.scope)) out.push(u);
  }
  return out;
}

/** The users of passwd(5); no default root of its own (a Linux root is always a process's or a `--home`'s). */
function passwdUsers(file: string): UserAccounts {
  const notes: ScanNote[] = [];
  let homes: Record<string, string> = {};
  let names: Record<string, string> = {};
  try {
    ({ homes, names } = parsePasswd(fs.readFileSync(file, 'utf8')));
  } catch {
    notes.push({ what: 'passwd', detail: 'cannot read /etc/passwd: default roots of processes without HOME are unknown' });
  }
  return { homes, names, scannerUid: processUid(), defaultRoots: defaultRootsOf(homes, processUid()), notes };
}

/** Most passwd users whose default root is looked for. */
const MAX_ROOT_USERS = 5000;
/** passwd home directories that are no home (system accounts). */
const NO_HOME = new Set(['/', '/nonexistent', '/dev/null', '/proc', '/bin', '/sbin', '/usr/sbin']);

/**
 * The default Hermes roots (`<home>/.hermes`, hermes_constants.py `get_hermes_home` at 306e2d2) that exist,
 * so the per-home view shows a root whose gateway is down: every passwd user's when the scanner is root
 * (it may read them all), else the scanner's own. One stat per user; a home on a dead network mount can
 * make that stat slow, which is why only passwd homes are looked at, never a search.
 */
function defaultRootsOf(homes: Record<string, string>, uid: number): string[] {
  const uids = uid === 0 ? Object.keys(homes).slice(0, MAX_ROOT_USERS) : [String(uid)];
  const out = new Set<string>();
  for (const u of uids) {
    const h = homes[u];
    if (!h || !h.startsWith('/') || NO_HOME.has(cleanPath(h))) continue;
    const root = path.posix.join(cleanPath(h), '.hermes');
    try {
      if (fs.statSync(root).isDirectory()) out.add(root);
    } catch {
      // Absent or not reachable: no root in sight for that user.
    }
  }
  return [...out].sort();
}

/**
 * systemd and s6, in parallel. systemd is asked about units by content: every service whose cgroup
 * holds a Hermes process, system or user scope, and the user managers of the users running gateways (a
 * unit may exist while its gateway runs outside it).
 */
function linuxSupervisors(opts: LinuxScanOptions): Supervisors {
  const runner = opts.runner ?? execRunner;
  const timeoutMs = opts.timeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
  return {
    async observe(records, users) {
      const cgroupUnits = new Set<string>();
      const userUnits = new Map<number, Set<string>>();
      for (const rec of records) {
        const hermes = parseHermesArgv(rec.argv);
        if (!hermes && rec.handles.length === 0) continue;
        for (const u of cgroupUnitsOfProcess(rec)) {
          if (u.scope === 'system') cgroupUnits.add(u.unit);
          else userUnits.set(u.uid!, (userUnits.get(u.uid!) ?? new Set()).add(u.unit));
        }
        const userManager = `${opts.userRuntimeRoot ?? '/run/user'}/${rec.uid}/systemd/private`;
        if (hermes?.command === 'gateway' && rec.uid >= 0 && !userUnits.has(rec.uid) && fs.existsSync(userManager)) userUnits.set(rec.uid, new Set());
      }
      const [systemd, s6] = await Promise.all([
        observeSystemd({
          runner,
          timeoutMs,
          cgroupUnits: [...cgroupUnits],
          userUnits: [...userUnits].map(([uid, units]) => ({ uid, units: [...units] })),
          userNames: users.names,
          ...(opts.systemdMarker ? { bootedMarker: opts.systemdMarker } : {}),
        }),
        // Not started before the process table on purpose: forking s6-svstat while the heap grows made the
        // scan slower (copy-on-write faults; measured +30 to +50 ms at 2,000 processes, docs/benchmark.md).
        observeS6({ runner, timeoutMs, ...(opts.s6ScanDir ? { scanDir: opts.s6ScanDir } : {}) }),
      ]);
      return [systemd, s6];
    },
  };
}

/** The host's files, with the Hermes source detector reading the real file system. */
const linuxHostFiles: HostFiles = { ...realHostFiles, sources: realSourceFs };

/**
 * The facets of this Linux host (or of a copy of its /proc and files).
 *
 * @param duringRead see LinuxTableOptions.duringRead (tests)
 */
export function linuxFacets(opts: LinuxScanOptions = {}, duringRead?: (pid: number) => void): HostFacets {
  const procRoot = opts.procRoot ?? '/proc';
  return {
    platform: 'linux',
    table: linuxProcessTable({ procRoot, ...(duringRead ? { duringRead } : {}) }),
    openFiles: linuxOpenFiles(procRoot),
    locks: linuxLocks(procRoot),
    files: opts.files ?? linuxHostFiles,
    users: () => passwdUsers(opts.passwdFile ?? '/etc/passwd'),
    supervisors: linuxSupervisors(opts),
    listeners: procListeners(procRoot),
    normalise: cleanPath,
  };
}
