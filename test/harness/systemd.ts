/**
 * A real, throwaway systemd for tests: Debian's /lib/systemd/systemd booted as PID 1 of fresh
 * pid/mount/uts/ipc/net namespaces, on a machine whose own PID 1 is not systemd. Needs root.
 *
 * Inside, units run for real: `systemctl show -p MainPID,ControlGroup,...` answers, /proc/PID/cgroup
 * shows `/system.slice/UNIT`, Restart=always restarts. Everything that must see that systemd runs
 * through `nsenter -t PID -m -p -u -i -n` (see SystemdNs.exec). PIDs inside differ from PIDs outside.
 *
 * HAZARD and guards. A unit with default dependencies pulls in sysinit.target, whose
 * systemd-tmpfiles-setup empties the machine's real /tmp and writes /etc/mtab, /root/.ssh,
 * /var/log/wtmp; systemd-sysctl, systemd-binfmt and modprobe@ would change the host kernel. So:
 *   1. bootSystemd() refuses every unit lacking `DefaultDependencies=no` (throws).
 *   2. /run, /tmp and /var/tmp (and /var/log/journal, when present) are private tmpfs inside.
 *   3. sysinit.target, basic.target and the dangerous sysinit units are masked (symlinks to
 *      /dev/null in /run/systemd/system.control), so even `systemd-run` without
 *      `-p DefaultDependencies=no` (transient services get default deps!) fails instead of
 *      running tmpfiles on the host.
 *
 * Where test files must live: /tmp, /run and /var/tmp inside are EMPTY private tmpfs. A path under
 * them that a unit or an in-namespace command must see has to be passed in `bindPaths` (it is then
 * bind-mounted at the same path inside, so os.tmpdir() folders work). Everything else (/work/...,
 * /var/lib/..., /home/...) is the host's file system and is visible inside as is. `nsScratchDir()`
 * gives a fresh folder under /var/lib/hermes-doctor-test/ that needs no bind and is removed by
 * teardownAll().
 *
 * Node builtins only.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { REPO_ROOT, isAlive, sleep } from './processes.js';

const SYSTEMD_BIN = '/lib/systemd/systemd';
const CGROUP_ROOT = '/sys/fs/cgroup';
/** Host folder for harness state and scratch dirs; outside /tmp, /run and /var/tmp. */
const NS_SCRATCH_BASE = '/var/lib/hermes-doctor-test';
const INNER_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** Units masked inside so nothing can reach the host through sysinit.target. */
const MASKED_UNITS = [
  'sysinit.target',
  'basic.target',
  'local-fs.target',
  'systemd-tmpfiles-setup.service',
  'systemd-tmpfiles-setup-dev.service',
  'systemd-tmpfiles-setup-dev-early.service',
  'systemd-tmpfiles-clean.service',
  'systemd-tmpfiles-clean.timer',
  'systemd-sysctl.service',
  'systemd-binfmt.service',
  'systemd-modules-load.service',
  'modprobe@.service',
  'systemd-update-utmp.service',
  'systemd-update-utmp-runlevel.service',
  'systemd-journal-flush.service',
  'systemd-random-seed.service',
  'systemd-udevd.service',
  'systemd-udev-trigger.service',
  'systemd-remount-fs.service',
  'systemd-hwdb-update.service',
  'systemd-machine-id-commit.service',
  'systemd-firstboot.service',
  'systemd-sysusers.service',
  'systemd-timesyncd.service',
  'systemd-logind.service',
  'ldconfig.service',
];

export interface SystemdAvailability {
  ok: boolean;
  why: string;
}

export interface BootOptions {
  /** unit file name (e.g. `hermes-gateway.service`) -> content. Each needs `DefaultDependencies=no`. */
  units: Record<string, string>;
  /** Absolute host paths (files or dirs) made visible at the same path inside; needed for paths under /tmp, /run, /var/tmp. */
  bindPaths?: string[];
  /** How long to wait for `systemctl is-system-running`; default 10000 ms. */
  bootTimeoutMs?: number;
  /**
   * Start systemd-journald inside and switch the manager's log target to it, so `journalctl -u UNIT`
   * shows the unit's output and systemd's Started/Stopped lines. Default false: systemd boots with
   * --log-target=null, journald is not running, and `journalctl` prints "No journal files were found".
   * The journal lives on private tmpfs inside (/run/log/journal, /var/log/journal).
   */
  journal?: boolean;
}

export interface ExecOptions {
  /** Added to a minimal environment (PATH, LC_ALL=C, SYSTEMD_PAGER=, SYSTEMD_COLORS=0); the host env is NOT inherited. */
  env?: Record<string, string>;
  /** Default 15000 ms; on timeout the whole process group is SIGKILLed and code is null. */
  timeoutMs?: number;
  /** Written to stdin (stdin is empty otherwise). */
  input?: string;
  /** Working directory (a path as seen inside); default '/'. */
  cwd?: string;
}

export interface ExecResult {
  /** Exit code; null when killed by a signal (or the timeout). */
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  stdout: string;
  stderr: string;
}

export interface SystemdNs {
  /** Outer (host) PID of the namespace's systemd (PID 1 inside). */
  readonly pid: number;
  /** `pid:[inode]` of the namespace, as in readlink /proc/PID/ns/pid. */
  readonly pidNs: string;
  /** Host temp folder holding the unit files (removed by teardown). */
  readonly unitDir: string;
  /** Run argv inside via `nsenter -t PID -m -p -u -i -n`. Never rejects for a non-zero exit. */
  exec(argv: string[], opts?: ExecOptions): Promise<ExecResult>;
  /** `systemctl --no-pager ARGS...` inside. */
  systemctl(...args: string[]): Promise<ExecResult>;
  /** `systemctl show -p P1 -p P2 UNIT`, parsed to {P1: value, ...}; throws when systemctl fails. */
  show(unit: string, props: string[]): Promise<Record<string, string>>;
  /**
   * Reproduces the incident: `bash -c 'setsid CMD </dev/null >/dev/null 2>&1 & echo $!'` inside.
   * Returns the INNER pid; once bash exits its PPID is 1 (this systemd) and its cgroup is the
   * launcher's (here the host's: `0::/`, `N:name=systemd:/`), not any unit's.
   */
  launchOrphan(argv: string[], env?: Record<string, string>): Promise<number>;
  /** Outer (host) PID of an inner PID of this namespace, from NSpid in /proc/*\/status; null if none. */
  innerToOuterPid(innerPid: number): number | null;
  /** Polls until ActiveState=active (and MainPID != 0 for running services); throws on failed/timeout. Returns the props. */
  waitActive(unit: string, timeoutMs?: number): Promise<Record<string, string>>;
  /** Lines of /proc/INNERPID/cgroup as read inside (e.g. `9:name=systemd:/system.slice/x.service`, `0::/system.slice/x.service`). */
  cgroupOf(innerPid: number): Promise<string[]>;
  /**
   * Moves an inner pid into UNIT's cgroup (writes cgroup.procs of the name=systemd v1 hierarchy and of
   * the v2 `unified` one). systemd then lists it under the unit (not as MainPID) and
   * `systemctl stop/restart UNIT` kills it. For guard tests that need "a process inside a unit's cgroup".
   */
  moveIntoUnitCgroup(innerPid: number, unit: string): Promise<void>;
  /** kill -9 the namespace init, wait, remove new empty cgroup dirs and the unit dir. Idempotent. */
  teardown(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// availability

export function systemdAvailable(): SystemdAvailability {
  if (process.platform !== 'linux') return { ok: false, why: `not Linux (${process.platform})` };
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) {
    return { ok: false, why: 'needs root (to unshare namespaces and boot systemd)' };
  }
  if (!isExecutable(SYSTEMD_BIN)) return { ok: false, why: `${SYSTEMD_BIN} not found` };
  for (const tool of ['unshare', 'nsenter', 'setpriv', 'bash', 'mount']) {
    if (!which(tool)) return { ok: false, why: `${tool} not found on PATH` };
  }
  if (!fs.existsSync(path.join(CGROUP_ROOT, 'systemd')) && !fs.existsSync(path.join(CGROUP_ROOT, 'cgroup.controllers'))) {
    return { ok: false, why: `no name=systemd or cgroup2 hierarchy under ${CGROUP_ROOT}` };
  }
  const probe = spawnSync(
    'unshare',
    ['--pid', '--fork', '--mount', '--uts', '--ipc', '--net', '--mount-proc', '--propagation', 'private', 'true'],
    { stdio: ['ignore', 'ignore', 'pipe'], timeout: 5000 },
  );
  if (probe.status !== 0) {
    return { ok: false, why: `cannot create namespaces: ${String(probe.stderr ?? probe.error ?? '').trim() || `exit ${probe.status}`}` };
  }
  return { ok: true, why: `root, ${SYSTEMD_BIN}, unshare and nsenter present` };
}

function isExecutable(p: string): boolean {
  try {
    fs.accessSync(p, fs.constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function which(cmd: string): string | null {
  for (const dir of (process.env.PATH ?? '').split(':').concat(['/usr/sbin', '/usr/bin', '/sbin', '/bin'])) {
    if (dir && isExecutable(path.join(dir, cmd))) return path.join(dir, cmd);
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// scratch dirs

const scratchDirs = new Set<string>();

/** A fresh host folder under /var/lib/hermes-doctor-test/ (outside /tmp, /run, /var/tmp): visible inside without bindPaths. Removed by teardownAll(). */
export function nsScratchDir(prefix = 'scratch-'): string {
  fs.mkdirSync(NS_SCRATCH_BASE, { recursive: true, mode: 0o755 });
  const dir = fs.mkdtempSync(path.join(NS_SCRATCH_BASE, prefix));
  fs.chmodSync(dir, 0o755);
  scratchDirs.add(dir);
  return dir;
}

// ---------------------------------------------------------------------------------------------
// unit validation

const UNIT_NAME = /^[A-Za-z0-9:_.\\@-]+\.(service|timer|target|socket|path|slice|mount)$/;

/** Throws unless every unit is safe to start inside (see the HAZARD in the header). Exported for tests. */
export function assertUnitsSafe(units: Record<string, string>): void {
  const names = Object.keys(units);
  if (names.length === 0) throw new Error('bootSystemd: no units given');
  for (const name of names) {
    if (!UNIT_NAME.test(name) || name.includes('/')) {
      throw new Error(`bootSystemd: refusing unit name ${JSON.stringify(name)} (plain unit file names only)`);
    }
    if (name === 'hermes-test.target') {
      throw new Error('bootSystemd: hermes-test.target is generated by the harness; do not pass it');
    }
    if (MASKED_UNITS.includes(name)) throw new Error(`bootSystemd: refusing to override ${name}`);
    if (!hasDefaultDependenciesNo(units[name] ?? '')) {
      throw new Error(
        `bootSystemd: refusing ${name}: every unit needs "DefaultDependencies=no" in [Unit] ` +
          '(default dependencies pull in sysinit.target, whose tmpfiles service empties the real /tmp)',
      );
    }
  }
}

function hasDefaultDependenciesNo(content: string): boolean {
  let section = '';
  let found = false;
  for (const raw of content.split(/\r?\n/)) {
    const line = raw.trim();
    if (line.startsWith('[') && line.endsWith(']')) {
      section = line;
      continue;
    }
    const m = /^DefaultDependencies\s*=\s*(.*)$/i.exec(line);
    if (m && section === '[Unit]') found = /^(no|false|off|0)$/i.test((m[1] ?? '').trim());
  }
  return found;
}

// ---------------------------------------------------------------------------------------------
// cgroup bookkeeping

interface CgroupSnapshot {
  dirs: Set<string>;
  topEntries: Set<string>;
}

function snapshotCgroups(): CgroupSnapshot {
  const dirs = new Set<string>();
  const walk = (dir: string, depth: number): void => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (!e.isDirectory()) continue;
      const p = path.join(dir, e.name);
      dirs.add(p);
      if (depth < 12) walk(p, depth + 1);
    }
  };
  walk(CGROUP_ROOT, 0);
  let top: string[] = [];
  try {
    top = fs.readdirSync(CGROUP_ROOT);
  } catch {
    /* none */
  }
  return { dirs, topEntries: new Set(top) };
}

/** Mount points of every live mount namespace (one representative process each). */
function mountPointsEverywhere(): Set<string> {
  const seen = new Set<string>();
  const points = new Set<string>();
  for (const pid of listPids()) {
    let ns: string;
    try {
      ns = fs.readlinkSync(`/proc/${pid}/ns/mnt`);
    } catch {
      continue;
    }
    if (seen.has(ns)) continue;
    seen.add(ns);
    try {
      for (const line of fs.readFileSync(`/proc/${pid}/mountinfo`, 'utf8').split('\n')) {
        const mp = line.split(' ')[4];
        if (mp) points.add(mp.replace(/\\040/g, ' '));
      }
    } catch {
      /* gone */
    }
  }
  return points;
}

/**
 * Removes what systemd left under /sys/fs/cgroup that was not there before `before`: empty cgroup
 * dirs inside the hierarchies (rmdir; busy ones fail and stay), and the controller mount-point dirs
 * and symlinks (hugetlb, perf_event, net_cls,net_prio, ...) it created in the top-level tmpfs. That
 * tmpfs is read-only on the host, so those are removed from a private mount namespace after a
 * superblock remount rw, and remounted ro again (what systemd itself does at boot). A top-level
 * entry that is still a mount point in any live mount namespace (another test systemd) is kept.
 */
function cleanupCgroups(before: CgroupSnapshot): string[] {
  const problems: string[] = [];
  const after = snapshotCgroups();
  const hierarchyDirs: string[] = [];
  const topNew: string[] = [];
  for (const d of after.dirs) {
    if (before.dirs.has(d)) continue;
    if (path.dirname(d) === CGROUP_ROOT) topNew.push(d);
    else hierarchyDirs.push(d);
  }
  // deepest first
  hierarchyDirs.sort((a, b) => b.split('/').length - a.split('/').length || b.localeCompare(a));
  for (const d of hierarchyDirs) {
    if (topNew.some((t) => d.startsWith(t + '/'))) continue; // inside a leftover mount-point dir: plain tmpfs dirs, handled below
    try {
      fs.rmdirSync(d);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT') problems.push(`rmdir ${d}: ${code}`);
    }
  }
  const topLinks: string[] = [];
  for (const name of after.topEntries) {
    if (before.topEntries.has(name)) continue;
    const p = path.join(CGROUP_ROOT, name);
    try {
      if (fs.lstatSync(p).isSymbolicLink()) topLinks.push(p);
    } catch {
      /* gone */
    }
  }
  if (topNew.length + topLinks.length > 0) {
    const mounted = mountPointsEverywhere();
    const dirs = topNew.filter((d) => !mounted.has(d));
    const links = topLinks.filter((l) => {
      const target = path.resolve(CGROUP_ROOT, safeReadlink(l));
      return !mounted.has(target);
    });
    if (dirs.length + links.length > 0) {
      const script =
        `mount -o remount,rw ${CGROUP_ROOT} || exit 1\n` +
        links.map((l) => `rm -f ${shq(l)}\n`).join('') +
        dirs.map((d) => `find ${shq(d)} -depth -type d -exec rmdir {} + 2>/dev/null; rmdir ${shq(d)} 2>/dev/null\n`).join('') +
        `mount -o remount,ro ${CGROUP_ROOT}\n`;
      const r = spawnSync('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', script], {
        stdio: ['ignore', 'ignore', 'pipe'],
        timeout: 10000,
      });
      if (r.status !== 0) problems.push(`top-level cgroup cleanup: ${String(r.stderr ?? '').trim()}`);
    }
  }
  return problems;
}

function safeReadlink(p: string): string {
  try {
    return fs.readlinkSync(p);
  } catch {
    return '';
  }
}

// ---------------------------------------------------------------------------------------------
// process helpers

function listPids(): number[] {
  return fs
    .readdirSync('/proc')
    .filter((n) => /^\d+$/.test(n))
    .map(Number);
}

function pidsInNamespace(pidNs: string): number[] {
  const out: number[] = [];
  for (const pid of listPids()) {
    try {
      if (fs.readlinkSync(`/proc/${pid}/ns/pid`) === pidNs) out.push(pid);
    } catch {
      /* gone or not ours */
    }
  }
  return out;
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function childrenOf(pid: number): number[] {
  try {
    return fs
      .readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

/** Always single-quotes s for sh (processes.ts shQuote leaves safe words bare). */
function shq(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

// ---------------------------------------------------------------------------------------------
// boot

const live = new Set<NsImpl>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Last resort when afterAll never ran: synchronous teardown on process exit.
  process.on('exit', () => {
    for (const ns of [...live]) ns.teardownSync();
    removeScratchDirs();
  });
}

function removeScratchDirs(): void {
  for (const d of scratchDirs) {
    try {
      fs.rmSync(d, { recursive: true, force: true });
    } catch {
      /* keep going */
    }
    scratchDirs.delete(d);
  }
  try {
    fs.rmdirSync(NS_SCRATCH_BASE); // only if empty
  } catch {
    /* in use or not empty */
  }
}

/** Tears down every namespace booted by this process and removes nsScratchDir() folders. For afterAll. */
export async function teardownAll(): Promise<void> {
  const errors: unknown[] = [];
  for (const ns of [...live]) {
    try {
      await ns.teardown();
    } catch (e) {
      errors.push(e);
    }
  }
  removeScratchDirs();
  if (errors.length) throw errors[0];
}

/** The repository root (CI clones it under a temp dir, which is private inside: it is always bound). */
const REPO_DIR = path.resolve(REPO_ROOT);

/** True when a host path is hidden inside by the private tmpfs mounts on /tmp, /run and /var/tmp. */
function underPrivateMount(p: string): boolean {
  return ['/tmp', '/run', '/var/tmp'].some((m) => p === m || p.startsWith(m + '/'));
}

export async function bootSystemd(opts: BootOptions): Promise<SystemdNs> {
  assertUnitsSafe(opts.units);
  const requested = [...(opts.bindPaths ?? [])];
  if (underPrivateMount(REPO_DIR)) requested.push(REPO_DIR);
  const bindPaths = requested.map((p) => {
    if (!path.isAbsolute(p)) throw new Error(`bootSystemd: bindPaths must be absolute: ${p}`);
    const r = path.resolve(p);
    if (!fs.existsSync(r)) throw new Error(`bootSystemd: bind path does not exist: ${r}`);
    if (r === '/' || ['/tmp', '/run', '/var/tmp'].includes(r)) throw new Error(`bootSystemd: refusing to bind ${r} itself`);
    return r;
  }).filter((r, i, all) => all.indexOf(r) === i); // the same folder twice would be bind-mounted twice
  const avail = systemdAvailable();
  if (!avail.ok) throw new Error(`bootSystemd: systemd unavailable: ${avail.why}`);
  installExitHook();

  // Work dir outside /tmp, /run, /var/tmp so the staged bind mounts survive the tmpfs mounts.
  fs.mkdirSync(NS_SCRATCH_BASE, { recursive: true, mode: 0o755 });
  const work = fs.mkdtempSync(path.join(NS_SCRATCH_BASE, 'ns-'));
  const unitDir = path.join(work, 'units');
  const stageDir = path.join(work, 'stage');
  fs.mkdirSync(unitDir);
  fs.mkdirSync(stageDir);

  const wanted: string[] = [];
  for (const [name, content] of Object.entries(opts.units)) {
    fs.writeFileSync(path.join(unitDir, name), content.endsWith('\n') ? content : content + '\n');
    if (name.endsWith('.service') || name.endsWith('.timer')) {
      if (!name.includes('@.')) wanted.push(name);
    }
  }
  fs.writeFileSync(
    path.join(unitDir, 'hermes-test.target'),
    `[Unit]\nDescription=hermes-doctor test target\nDefaultDependencies=no\n${wanted.map((u) => `Wants=${u}\n`).join('')}`,
  );

  const lines: string[] = [
    '#!/bin/bash',
    'set -e',
    'mount --make-rprivate /',
    // stage binds first, before anything hides the host paths
  ];
  bindPaths.forEach((p, i) => {
    const st = path.join(stageDir, String(i));
    if (fs.statSync(p).isDirectory()) lines.push(`mkdir -p ${shq(st)}`);
    else lines.push(`touch ${shq(st)}`);
    lines.push(`mount --bind ${shq(p)} ${shq(st)}`);
  });
  lines.push(
    'mount -t tmpfs -o mode=755 tmpfs /run',
    'mkdir -p /run/systemd/system /run/systemd/system.control',
    `cp -a ${shq(unitDir)}/. /run/systemd/system/`,
    ...MASKED_UNITS.map((u) => `ln -sf /dev/null /run/systemd/system.control/${u}`),
    'mount -t tmpfs -o mode=1777 tmpfs /tmp',
    'mount -t tmpfs -o mode=1777 tmpfs /var/tmp',
    'if [ -d /var/log/journal ]; then mount -t tmpfs -o mode=2755 tmpfs /var/log/journal; fi',
  );
  bindPaths.forEach((p, i) => {
    const st = path.join(stageDir, String(i));
    if (fs.statSync(p).isDirectory()) lines.push(`mkdir -p ${shq(p)}`);
    else lines.push(`mkdir -p ${shq(path.dirname(p))}`, `[ -e ${shq(p)} ] || touch ${shq(p)}`);
    lines.push(`mount --move ${shq(st)} ${shq(p)}`);
  });
  lines.push(
    `exec setpriv --pdeathsig KILL env -i container=hermes-doctor-test PATH=${INNER_PATH} ` +
      `${SYSTEMD_BIN} --system --unit=hermes-test.target --log-target=null --show-status=no`,
  );
  const script = path.join(work, 'inner.sh');
  fs.writeFileSync(script, lines.join('\n') + '\n', { mode: 0o755 });

  const before = snapshotCgroups(); // before systemd can create anything
  const logPath = path.join(work, 'boot.log');
  const logFd = fs.openSync(logPath, 'w');
  let launcher: ChildProcess;
  try {
    // setpriv --pdeathsig: if this Node process dies, unshare gets SIGKILL, and systemd (whose own
    // pdeathsig is set in inner.sh) follows, so a crashed test run leaves no namespace behind.
    launcher = spawn(
      'setpriv',
      ['--pdeathsig', 'KILL', 'unshare', '--pid', '--fork', '--mount', '--uts', '--ipc', '--net', '--mount-proc',
        '--propagation', 'private', '/bin/bash', script],
      { stdio: ['ignore', logFd, logFd], env: { PATH: INNER_PATH } },
    );
  } finally {
    fs.closeSync(logFd);
  }
  let launcherExited = false;
  const launcherExit = new Promise<void>((resolve) => {
    launcher.once('exit', () => {
      launcherExited = true;
      resolve();
    });
    launcher.once('error', () => {
      launcherExited = true;
      resolve();
    });
  });

  const ns = new NsImpl(work, unitDir, launcher, launcherExit, before);
  live.add(ns);

  const deadline = Date.now() + (opts.bootTimeoutMs ?? 10000);
  let lastState = '';
  try {
    while (Date.now() < deadline) {
      if (launcherExited) break;
      const outer = launcher.pid ?? 0;
      const child = outer ? childrenOf(outer)[0] : undefined;
      if (child && ns.pid === 0) {
        // wait until the child has exec'd systemd (comm changes from bash to systemd)
        let comm = '';
        try {
          comm = fs.readFileSync(`/proc/${child}/comm`, 'utf8').trim();
        } catch {
          /* racing */
        }
        if (comm === 'systemd') ns.setPid(child);
      }
      if (ns.pid) {
        const r = await ns.exec(['systemctl', 'is-system-running'], { timeoutMs: 3000 });
        lastState = r.stdout.trim() || r.stderr.trim();
        if (r.code === 0 || lastState === 'degraded') {
          if (opts.journal) {
            const j = await ns.exec(['systemctl', 'start', 'systemd-journald.socket', 'systemd-journald.service']);
            const t = await ns.exec(['systemctl', 'log-target', 'journal']);
            if (j.code !== 0 || t.code !== 0) throw new Error(`bootSystemd: could not start the journal: ${j.stderr}${t.stderr}`);
          }
          return ns;
        }
      }
      await sleep(50);
    }
    let log = '';
    try {
      log = fs.readFileSync(logPath, 'utf8');
    } catch {
      /* none */
    }
    throw new Error(
      `bootSystemd: systemd did not come up within ${opts.bootTimeoutMs ?? 10000} ms ` +
        `(pid ${ns.pid || 'none'}, state ${JSON.stringify(lastState)}, launcher ${launcherExited ? 'exited' : 'running'})` +
        (log ? `\n${log}` : ''),
    );
  } catch (e) {
    await ns.teardown().catch(() => undefined);
    throw e;
  }
}

class NsImpl implements SystemdNs {
  pid = 0;
  pidNs = '';
  private done = false;
  private tearing: Promise<void> | null = null;

  constructor(
    private readonly work: string,
    readonly unitDir: string,
    private readonly launcher: ChildProcess,
    private readonly launcherExit: Promise<void>,
    private readonly cgroupsBefore: CgroupSnapshot,
  ) {}

  setPid(pid: number): void {
    this.pid = pid;
    try {
      this.pidNs = fs.readlinkSync(`/proc/${pid}/ns/pid`);
    } catch {
      this.pidNs = '';
    }
  }

  exec(argv: string[], opts: ExecOptions = {}): Promise<ExecResult> {
    if (this.done) return Promise.reject(new Error('SystemdNs: already torn down'));
    if (!this.pid) return Promise.reject(new Error('SystemdNs: not booted'));
    if (argv.length === 0) return Promise.reject(new Error('SystemdNs.exec: empty argv'));
    const env: Record<string, string> = {
      PATH: `${INNER_PATH}:${path.dirname(process.execPath)}`,
      LC_ALL: 'C',
      SYSTEMD_PAGER: '',
      SYSTEMD_COLORS: '0',
      ...(opts.env ?? {}),
    };
    const timeoutMs = opts.timeoutMs ?? 15000;
    return new Promise((resolve, reject) => {
      const child = spawn('nsenter', ['-t', String(this.pid), '-m', '-p', '-u', '-i', '-n', '--', ...argv], {
        env,
        cwd: opts.cwd ?? '/',
        // stdin /dev/null unless input is given: bash treats a socket stdin (Node's 'pipe') as
        // an ssh session and sources ~/.bashrc
        stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
        detached: true, // own process group, so a timeout can kill nsenter and its forked child together
      });
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      let timedOut = false;
      child.stdout!.on('data', (b: Buffer) => out.push(b));
      child.stderr!.on('data', (b: Buffer) => err.push(b));
      if (child.stdin) {
        child.stdin.on('error', () => undefined);
        child.stdin.end(opts.input);
      }
      const timer = setTimeout(() => {
        timedOut = true;
        try {
          if (child.pid) process.kill(-child.pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }, timeoutMs);
      child.once('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      child.once('close', (code, signal) => {
        clearTimeout(timer);
        resolve({
          code: timedOut ? null : code,
          signal,
          timedOut,
          stdout: Buffer.concat(out).toString('utf8'),
          stderr: Buffer.concat(err).toString('utf8'),
        });
      });
    });
  }

  systemctl(...args: string[]): Promise<ExecResult> {
    return this.exec(['systemctl', '--no-pager', ...args]);
  }

  async show(unit: string, props: string[]): Promise<Record<string, string>> {
    const r = await this.exec(['systemctl', '--no-pager', 'show', ...props.flatMap((p) => ['-p', p]), '--', unit]);
    if (r.code !== 0) throw new Error(`systemctl show ${unit} failed (${r.code}): ${r.stderr.trim()}`);
    const res: Record<string, string> = {};
    for (const line of r.stdout.split('\n')) {
      const i = line.indexOf('=');
      if (i > 0) res[line.slice(0, i)] = line.slice(i + 1);
    }
    return res;
  }

  async launchOrphan(argv: string[], env?: Record<string, string>): Promise<number> {
    if (argv.length === 0) throw new Error('launchOrphan: empty argv');
    const r = await this.exec(
      ['bash', '--norc', '--noprofile', '-c', 'setsid "$@" </dev/null >/dev/null 2>&1 & echo $!', 'bash', ...argv],
      { env: env ?? {} },
    );
    const pid = Number(r.stdout.trim());
    if (r.code !== 0 || !Number.isInteger(pid) || pid <= 0) {
      throw new Error(`launchOrphan failed (${r.code}): ${r.stdout}${r.stderr}`);
    }
    // $! names bash's fork, which still has to exec setsid and then argv[0]: until both execs are
    // done its /proc entry shows bash or setsid, and systemctl status, a scan or a kill would see that.
    await this.waitExecd(pid, argv);
    return pid;
  }

  /** Waits (≤ 10 s) until inner PID `pid` runs `argv` (its cmdline, or an exe other than bash/setsid). */
  private async waitExecd(pid: number, argv: string[]): Promise<void> {
    const want = argv.join('\0');
    const deadline = Date.now() + 10_000;
    for (;;) {
      const outer = this.innerToOuterPid(pid);
      if (outer === null) return; // already gone (it exists from the fork on): nothing to wait for
      {
        let cmdline = '';
        let exe = '';
        try {
          cmdline = fs.readFileSync(`/proc/${outer}/cmdline`, 'utf8').replace(/\0$/, '');
          exe = path.basename(fs.readlinkSync(`/proc/${outer}/exe`));
        } catch {
          /* exiting, or between execs */
        }
        if (cmdline === want || (exe !== '' && exe !== 'bash' && exe !== 'setsid')) return;
      }
      if (Date.now() > deadline) throw new Error(`timed out after 10000 ms waiting for inner PID ${pid} to exec ${argv.join(' ')}`);
      await sleep(20);
    }
  }

  innerToOuterPid(innerPid: number): number | null {
    if (!this.pidNs) return null;
    for (const pid of listPids()) {
      try {
        if (fs.readlinkSync(`/proc/${pid}/ns/pid`) !== this.pidNs) continue;
        const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
        const m = /^NSpid:\s*(.*)$/m.exec(status);
        const ids = (m?.[1] ?? '').trim().split(/\s+/).map(Number);
        if (ids[ids.length - 1] === innerPid) return pid;
      } catch {
        /* gone */
      }
    }
    return null;
  }

  async waitActive(unit: string, timeoutMs = 5000): Promise<Record<string, string>> {
    const deadline = Date.now() + timeoutMs;
    let props: Record<string, string> = {};
    for (;;) {
      props = await this.show(unit, ['ActiveState', 'SubState', 'MainPID', 'Type', 'ControlGroup', 'NRestarts']);
      const runningService = props.Type !== 'oneshot' && unit.endsWith('.service') && props.SubState === 'running';
      if (props.ActiveState === 'active' && (!runningService || props.MainPID !== '0')) return props;
      if (props.ActiveState === 'failed') throw new Error(`waitActive: ${unit} failed: ${JSON.stringify(props)}`);
      if (Date.now() > deadline) throw new Error(`waitActive: ${unit} not active after ${timeoutMs} ms: ${JSON.stringify(props)}`);
      await sleep(50);
    }
  }

  async cgroupOf(innerPid: number): Promise<string[]> {
    const r = await this.exec(['cat', `/proc/${innerPid}/cgroup`]);
    if (r.code !== 0) throw new Error(`cgroupOf(${innerPid}): ${r.stderr.trim()}`);
    return r.stdout.split('\n').filter(Boolean);
  }

  async moveIntoUnitCgroup(innerPid: number, unit: string): Promise<void> {
    const { ControlGroup: cg } = await this.show(unit, ['ControlGroup']);
    if (!cg) throw new Error(`moveIntoUnitCgroup: ${unit} has no ControlGroup (not running?)`);
    const targets = [`${CGROUP_ROOT}/systemd${cg}/cgroup.procs`, `${CGROUP_ROOT}/unified${cg}/cgroup.procs`, `${CGROUP_ROOT}${cg}/cgroup.procs`];
    const script = targets.map((t) => `if [ -e ${shq(t)} ]; then echo ${innerPid} > ${shq(t)} || exit 1; fi`).join('\n');
    const r = await this.exec(['sh', '-c', script]);
    if (r.code !== 0) throw new Error(`moveIntoUnitCgroup(${innerPid}, ${unit}): ${r.stderr.trim()}`);
  }

  teardown(): Promise<void> {
    if (!this.tearing) this.tearing = this.doTeardown();
    return this.tearing;
  }

  private killInit(): void {
    // Kill only the namespace init when known: unshare then reaps it at once and exits. Killing
    // unshare too would leave systemd's zombie to the host's PID 1, which may reap it late.
    const victims = this.pid ? [this.pid] : [this.launcher.pid].filter((p): p is number => !!p);
    for (const p of victims) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  }

  private async doTeardown(): Promise<void> {
    if (this.done) return;
    this.killInit();
    await Promise.race([this.launcherExit, sleep(5000)]);
    const deadline = Date.now() + 5000;
    while ((this.pid && isAlive(this.pid)) || (this.pidNs && pidsInNamespace(this.pidNs).length > 0)) {
      if (Date.now() > deadline) break;
      await sleep(10);
    }
    if (this.launcher.pid && isAlive(this.launcher.pid)) {
      try {
        process.kill(this.launcher.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    this.finish();
  }

  /** Synchronous variant for process 'exit'. */
  teardownSync(): void {
    if (this.done) return;
    this.killInit();
    const deadline = Date.now() + 3000;
    while ((this.pid && isAlive(this.pid)) || (this.pidNs && pidsInNamespace(this.pidNs).length > 0)) {
      if (Date.now() > deadline) break;
      sleepSync(10);
    }
    if (this.launcher.pid && isAlive(this.launcher.pid)) {
      try {
        process.kill(this.launcher.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    this.finish();
  }

  private finish(): void {
    if (this.done) return;
    this.done = true;
    live.delete(this);
    const leftovers = this.pidNs ? pidsInNamespace(this.pidNs) : [];
    const problems = cleanupCgroups(this.cgroupsBefore);
    try {
      fs.rmSync(this.work, { recursive: true, force: true });
    } catch (e) {
      problems.push(`rm ${this.work}: ${(e as Error).message}`);
    }
    try {
      fs.rmdirSync(NS_SCRATCH_BASE); // only if empty
    } catch {
      /* in use or not empty */
    }
    if (leftovers.length) problems.unshift(`processes still alive in ${this.pidNs}: ${leftovers.join(' ')}`);
    this.lastProblems = problems;
  }

  /** What teardown could not clean (empty when all went well). */
  lastProblems: string[] = [];
}

/** Problems the last teardown of `ns` reported (leftover processes, cgroup dirs it could not remove). */
export function teardownProblems(ns: SystemdNs): string[] {
  return ns instanceof NsImpl ? [...ns.lastProblems] : [];
}
