/**
 * The Linux host scan: reads /proc directly (ps-list cannot give environ, cgroup, fds or start ticks),
 * /proc/locks, the identity files of every HERMES_HOME in sight, and the supervisors (systemd, s6),
 * and returns a {@link HostSnapshot}. Cost is kept linear: every process gets one cmdline read and one
 * fd-table listing; stat, status, environ, cgroup and fdinfo are read only for candidates (Hermes
 * processes, holders of Hermes files, and their ancestors).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Handle, HostSnapshot, LockRecord, ProcessRecord, ScanNote, SupervisorObservation } from '../../types.js';
import { ancestorChain } from '../../core/ancestry.js';
import { parseHermesArgv } from '../../core/argv.js';
import { defaultRoot, identify } from '../../core/identify.js';
import { FILES, cleanPath, dispatcherLockPath, kanbanDbOfFile, rootOfHome } from '../../core/paths.js';
import { systemdCgroupPaths } from '../../core/supervision.js';
import { filterEnvironBlock } from '../environ.js';
import { observeHermesSources } from '../hermes-source.js';
import { listProfileHomes, readActiveProfileFile, readHome } from '../homes.js';
import { type CommandRunner, DEFAULT_COMMAND_TIMEOUT_MS, execRunner } from '../runner.js';
import { observeS6 } from '../supervisors/s6.js';
import { type CgroupUnit, cgroupUnit, observeSystemd } from '../supervisors/systemd.js';
import { DELETED, interestingLinks, readPass1 } from './pass1.js';
import {
  type FdLink,
  devMajorMinor,
  parseLocks,
  readBootTimeMs,
  readCgroup,
  readCmdline,
  readEnvironBlock,
  readFdInfo,
  readFdLinks,
  readLink,
  readStat,
  readUid,
  ttyName,
} from './procfs.js';

/** USER_HZ: clock ticks per second of /proc times. 100 on every mainstream Linux architecture (man 7 time). */
export const LINUX_CLOCK_TICKS = 100;

export interface LinuxScanOptions {
  /** procfs mount, default /proc. */
  procRoot?: string;
  /** Command runner for systemctl and s6-svstat. */
  runner?: CommandRunner;
  /** Timeout of each external command, ms (default 3000). */
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

function argvOrEmpty(pid: number, procRoot: string): string[] {
  const r = readCmdline(pid, procRoot);
  return r.ok ? r.value : [];
}

/** Reads everything about one candidate process. Returns null when it left mid-read. */
function readProcess(
  pid: number,
  argv: string[],
  links: FdLink[] | null,
  fdVisibility: ProcessRecord['visibility']['fd'],
  procRoot: string,
  bootTimeMs: number | null,
): ProcessRecord | null {
  const stat = readStat(pid, procRoot);
  if (!stat.ok) return null;
  const uid = readUid(pid, procRoot);
  const environ = readEnvironBlock(pid, procRoot);
  const cgroup = readCgroup(pid, procRoot);
  const handles: Handle[] = [];
  for (const l of links ? interestingLinks(links) : []) {
    const deleted = l.target.endsWith(DELETED);
    const info = readFdInfo(pid, l.fd, procRoot);
    handles.push({
      fd: l.fd,
      path: deleted ? l.target.slice(0, -DELETED.length) : l.target,
      mode: info.ok ? info.value.mode : null,
      deleted,
      ...(info.ok && info.value.inode !== null ? { inode: info.value.inode } : {}),
    });
  }
  const exe = readLink(`${procRoot}/${pid}/exe`);
  const cwd = readLink(`${procRoot}/${pid}/cwd`);
  const s = stat.value;
  return {
    pid,
    ppid: s.ppid,
    uid: uid.ok ? uid.value : -1,
    startTicks: s.startTicks,
    startTime: bootTimeMs !== null ? new Date(bootTimeMs + (s.startTicks * 1000) / LINUX_CLOCK_TICKS).toISOString() : null,
    argv,
    comm: s.comm,
    exe: exe.ok ? exe.value : null,
    cwd: cwd.ok ? cwd.value : null,
    tty: ttyName(s.ttyNr),
    sid: s.sid,
    pgid: s.pgid,
    cgroups: cgroup.ok ? cgroup.value : [],
    env: environ.ok ? filterEnvironBlock(environ.value) : {},
    handles,
    visibility: {
      fd: fdVisibility,
      environ: environ.ok ? 'ok' : environ.why,
      cgroup: cgroup.ok ? 'ok' : cgroup.why,
    },
  };
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

/**
 * Scans this Linux host. Never throws for a vanished or unreadable process; a missing or hanging
 * supervisor tool makes that supervisor `unknown`.
 *
 * @throws Error only when /proc itself cannot be listed
 */
export async function scanLinux(opts: LinuxScanOptions = {}): Promise<HostSnapshot> {
  const started = performance.now();
  const takenAt = new Date().toISOString();
  const procRoot = opts.procRoot ?? '/proc';
  const runner = opts.runner ?? execRunner;
  const timeoutMs = opts.timeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
  const selfPid = opts.selfPid ?? process.pid;
  const bootTimeMs = readBootTimeMs(procRoot);
  const notes: ScanNote[] = [];

  // Pass 1: every process, one cmdline read and one fd listing.
  const pids = fs.readdirSync(procRoot).filter((n) => /^\d+$/.test(n)).map(Number);
  const argvOf = new Map<number, string[]>();
  const records = new Map<number, ProcessRecord>();
  const candidates: { pid: number; argv: string[]; links: FdLink[] | null; fdVis: ProcessRecord['visibility']['fd'] }[] = [];
  for (const e of pids.map((pid) => readPass1(pid, procRoot))) {
    const { pid, argv } = e;
    if (argv === null) continue; // left mid-scan, or unreadable cmdline (kernel threads read as empty)
    argvOf.set(pid, argv);
    if (e.fdVis === 'gone') continue;
    if (e.fdVis !== 'ok' && argv.length > 0) {
      notes.push({ what: 'fd', pid, detail: `fd table of PID ${pid} (${argv[0]}) not readable: ${e.fdError}` });
    }
    if (e.candidate) candidates.push({ pid, argv, links: e.links, fdVis: e.fdVis });
  }

  // Pass 2: candidates in full, then their ancestors (parents explain supervision: s6-supervise, node, wrappers).
  for (const c of candidates) {
    const rec = readProcess(c.pid, c.argv, c.links, c.fdVis, procRoot, bootTimeMs);
    if (rec) records.set(c.pid, rec);
  }
  for (const rec of [...records.values()]) {
    let ppid = rec.ppid;
    for (let depth = 0; depth < 64 && ppid > 1 && !records.has(ppid); depth++) {
      const argv = argvOf.get(ppid) ?? argvOrEmpty(ppid, procRoot);
      const fds = readFdLinks(ppid, procRoot);
      const parent = readProcess(ppid, argv, fds.ok ? fds.value : null, fds.ok ? 'ok' : fds.why, procRoot, bootTimeMs);
      if (!parent) break;
      records.set(ppid, parent);
      ppid = parent.ppid;
    }
  }

  // UID → home directory, for `-p NAME` of processes whose HOME is not visible.
  let userHomes: Record<string, string> = {};
  let userNames: Record<string, string> = {};
  try {
    const passwd = fs.readFileSync(opts.passwdFile ?? '/etc/passwd', 'utf8');
    ({ homes: userHomes, names: userNames } = parsePasswd(passwd));
  } catch {
    notes.push({ what: 'passwd', detail: 'cannot read /etc/passwd: default roots of processes without HOME are unknown' });
  }

  // The sticky active_profile of every root a process may default to (read before identifying).
  const activeProfiles: Record<string, string | null> = {};
  const unreadableActive = new Set<string>();
  for (const rec of records.values()) {
    const envHome = rec.env.HERMES_HOME ? rootOfHome(cleanPath(rec.env.HERMES_HOME)) : null;
    const root = envHome ?? defaultRoot(rec, userHomes);
    if (!root || root in activeProfiles || unreadableActive.has(root)) continue;
    const ap = readActiveProfileFile(root);
    if (ap.error === null) activeProfiles[root] = ap.profile;
    else {
      // Left out of the map: a gateway that would follow it has an unknown home, never a guessed one.
      unreadableActive.add(root);
      notes.push({ what: 'active_profile', detail: `${ap.error}: the sticky profile of ${root} is unknown` });
    }
  }

  // Homes in sight: from processes, from --home, and every profile of each root seen.
  const homes = new Set<string>((opts.extraHomes ?? []).map(cleanPath));
  const kanbanRoots = new Set<string>();
  for (const rec of records.values()) {
    const id = identify(rec, { userHomes, activeProfiles });
    if (id.hermesHome && id.role && id.role !== 'web-ui') homes.add(id.hermesHome);
    if (id.kanbanRoot) kanbanRoots.add(id.kanbanRoot);
    for (const h of rec.handles) {
      const base = path.posix.basename(h.path);
      if (base === FILES.gatewayLock || base === FILES.gatewayPid || base === FILES.gatewayState) homes.add(path.posix.dirname(h.path));
      const db = kanbanDbOfFile(h.path);
      if (db) kanbanRoots.add(db.root);
    }
  }

  // Supervisors, in parallel.
  // Units by content: every service whose cgroup holds a Hermes process, system or user scope; and the
  // user managers of the users running gateways (a unit may exist while its gateway runs outside it).
  const cgroupUnits = new Set<string>();
  const userUnits = new Map<number, Set<string>>();
  for (const rec of records.values()) {
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
      userNames,
      ...(opts.systemdMarker ? { bootedMarker: opts.systemdMarker } : {}),
    }),
    // Not started before pass 1 on purpose: forking s6-svstat while the heap grows made the scan slower
    // (copy-on-write faults; measured +30 to +50 ms at 2,000 processes, docs/benchmark.md).
    observeS6({ runner, timeoutMs, ...(opts.s6ScanDir ? { scanDir: opts.s6ScanDir } : {}) }),
  ]);
  const supervisors: SupervisorObservation[] = [systemd, s6];
  for (const u of systemd.systemdUnits ?? []) if (u.hermesHome) homes.add(cleanPath(u.hermesHome));
  for (const s of s6.s6Slots ?? []) if (s.hermesHome) homes.add(cleanPath(s.hermesHome));
  // Slot PIDs must be in the snapshot even if their argv did not match (setproctitle can blank it).
  for (const s of s6.s6Slots ?? []) {
    if (s.pid > 0 && !records.has(s.pid)) {
      const argv = argvOf.get(s.pid) ?? [];
      const fds = readFdLinks(s.pid, procRoot);
      const rec = readProcess(s.pid, argv, fds.ok ? fds.value : null, fds.ok ? 'ok' : fds.why, procRoot, bootTimeMs);
      if (rec) records.set(s.pid, rec);
    }
  }
  for (const u of systemd.systemdUnits ?? []) {
    if (u.mainPid > 0 && !records.has(u.mainPid)) {
      const argv = argvOf.get(u.mainPid) ?? [];
      const fds = readFdLinks(u.mainPid, procRoot);
      const rec = readProcess(u.mainPid, argv, fds.ok ? fds.value : null, fds.ok ? 'ok' : fds.why, procRoot, bootTimeMs);
      if (rec) records.set(u.mainPid, rec);
    }
  }
  for (const root of new Set([...homes].map(rootOfHome))) {
    homes.add(root);
    for (const h of listProfileHomes(root)) homes.add(h);
    kanbanRoots.add(root);
  }
  const homeRecords = [...homes].sort().map(readHome);
  // Whether each root's Hermes has the singleton dispatcher lock: its lock file, and the gateways' source.
  const kanbanRootRecords = [...kanbanRoots].sort().map((root) => ({ root, dispatcherLockExists: fs.existsSync(dispatcherLockPath(root)) }));
  const hermesSources = observeHermesSources([...records.values()], homeRecords);
  // PIDs named by identity files (PID 1 included, which the ancestor walk stops at), so "not running"
  // is said only of a PID that is not running.
  for (const h of homeRecords) {
    for (const f of [h.pidFile, h.stateFile]) {
      if (f.pid === null || f.pid <= 0 || records.has(f.pid)) continue;
      const argv = argvOf.get(f.pid) ?? argvOrEmpty(f.pid, procRoot);
      const fds = readFdLinks(f.pid, procRoot);
      const rec = readProcess(f.pid, argv, fds.ok ? fds.value : null, fds.ok ? 'ok' : fds.why, procRoot, bootTimeMs);
      if (rec) records.set(f.pid, rec);
    }
  }

  // Locks: one pass over /proc/locks, matched by device+inode to the lock files of every home and root,
  // and by inode to lock fds (a deleted gateway.lock can still be held).
  const locks: LockRecord[] = [];
  let procLocks: ReturnType<typeof parseLocks> = [];
  try {
    procLocks = parseLocks(fs.readFileSync(`${procRoot}/locks`, 'latin1'));
  } catch (err) {
    notes.push({ what: 'locks', detail: `cannot read ${procRoot}/locks: ${(err as Error).message}; lock owners unknown` });
  }
  const lockFiles = new Set<string>();
  for (const h of homes) lockFiles.add(path.posix.join(h, FILES.gatewayLock));
  for (const r of kanbanRoots) {
    lockFiles.add(dispatcherLockPath(r));
    lockFiles.add(path.posix.join(r, 'kanban.db.dispatch.lock'));
  }
  const seen = new Set<string>();
  for (const file of lockFiles) {
    let st: fs.Stats;
    try {
      st = fs.statSync(file);
    } catch {
      continue;
    }
    const { major, minor } = devMajorMinor(st.dev);
    let matches = procLocks.filter((l) => l.inode === st.ino && l.major === major && l.minor === minor);
    if (matches.length === 0) {
      // On overlayfs (Docker) stat() reports the overlay's device while /proc/locks names the upper
      // layer's: accept an inode-only match when all such locks sit on one device.
      const byInode = procLocks.filter((l) => l.inode === st.ino);
      if (new Set(byInode.map((l) => `${l.major}:${l.minor}`)).size === 1) matches = byInode;
    }
    for (const l of matches) {
      const key = `${file}:${l.pid}:${l.kind}`;
      if (seen.has(key)) continue;
      seen.add(key);
      locks.push({ path: file, inode: st.ino, kind: l.kind, access: l.access, pid: l.pid });
    }
  }
  for (const rec of records.values()) {
    for (const h of rec.handles) {
      const base = path.posix.basename(h.path);
      if (!h.deleted || h.inode === undefined || (base !== FILES.gatewayLock && base !== FILES.dispatcherLock)) continue;
      for (const l of procLocks) {
        if (l.inode === h.inode && l.pid === rec.pid) {
          const key = `${h.path} (deleted):${l.pid}:${l.kind}`;
          if (seen.has(key)) continue;
          seen.add(key);
          locks.push({ path: `${h.path} (deleted)`, inode: h.inode, kind: l.kind, access: l.access, pid: l.pid });
        }
      }
    }
  }

  // The scanner and its ancestors are never targets.
  const scannerPids = ancestorChain(selfPid, (pid) => {
    const st = readStat(pid, procRoot);
    return st.ok ? st.value.ppid : undefined;
  });
  for (const rec of records.values()) {
    if (rec.visibility.environ !== 'ok' && rec.visibility.environ !== 'gone' && parseHermesArgv(rec.argv)) {
      notes.push({ what: 'environ', pid: rec.pid, detail: `environment of PID ${rec.pid} not readable (${rec.visibility.environ})` });
    }
  }

  return {
    schema: 'hermes-doctor.snapshot/v1',
    takenAt,
    platform: 'linux',
    hostname: os.hostname(),
    clockTicks: LINUX_CLOCK_TICKS,
    bootTimeMs,
    scannerUid: process.getuid ? process.getuid() : -1,
    scannerPids,
    scanMs: Math.round((performance.now() - started) * 10) / 10,
    processes: [...records.values()].sort((a, b) => a.pid - b.pid),
    processCount: pids.length,
    activeProfiles,
    userHomes: Object.fromEntries(
      [...new Set([...records.values()].map((r) => String(r.uid)))].filter((u) => userHomes[u]).map((u) => [u, userHomes[u]!]),
    ),
    locks,
    homes: homeRecords,
    supervisors,
    notes,
    hermesSources,
    kanbanRoots: kanbanRootRecords,
  };
}
