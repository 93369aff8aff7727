// Processes started by tests, and /proc helpers to look at them.
//
// Every process a test starts is recorded here with its PID and start time (field 22 of
// /proc/PID/stat); cleanup signals only those PIDs, and only while the start time still matches
// (so a reused PID is never hit). Nothing is ever signalled by name or pattern.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT: string = fileURLToPath(new URL('../../', import.meta.url));
export const STANDIN_PYTHONPATH: string = path.join(REPO_ROOT, 'fixtures', 'standin');
/** bin/hermes-doctor.js: the CLI as a program (it runs dist/, so it needs a build). */
export const CLI_BIN: string = path.join(REPO_ROOT, 'bin', 'hermes-doctor.js');
export const MINIMAL_PATH = '/usr/local/bin:/usr/bin:/bin';
/** Obvious fake secret for test environments. */
export const FAKE_SECRET = 'sk-test-not-a-secret';

export type LaunchMode = 'setsid' | 'child';
export type EnvPatch = Record<string, string | undefined>;

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface StartedProcess {
  pid: number;
  /** Field 22 of /proc/PID/stat right after launch (-1 if the process was already gone). */
  startTicks: number;
  /** argv as exec'd (argv[0] is resolved through PATH by the kernel/shell). */
  argv: string[];
  mode: LaunchMode;
  /** Environment the process was started with. */
  env: Record<string, string>;
  /** HERMES_HOME the stand-in resolves to (gateways and workers only). */
  home?: string;
  /** 'child' mode only: resolves when the child exited and its stdout/stderr reached EOF (at most 2 s after the exit). */
  exited?: Promise<ExitInfo>;
  /** 'child' mode only: stdout / stderr captured so far. */
  output(): { stdout: string; stderr: string };
  /** 'child' mode with stdin 'pipe' only: write to stdin (kept open until stop()). */
  write(data: string): void;
  /** Alive (not gone, not a zombie, same start time)? */
  alive(): boolean;
  /** Send a signal if still alive (same start time). */
  signal(sig: NodeJS.Signals): void;
  /** SIGTERM, wait up to graceMs (default 3000), then SIGKILL; resolves once it is gone. */
  stop(graceMs?: number): Promise<void>;
}

export interface GatewayOptions {
  /** The Hermes root (`~/.hermes` or a custom root); see homeVia. */
  root: string;
  /** Put `-p <profile>` in argv (before the subcommand). Omit for the default profile without -p. */
  profile?: string;
  /** Extra / overriding environment; a value of undefined removes the key. */
  env?: EnvPatch;
  /** Command after the profile flag. Default ['gateway', 'run', '--replace']. */
  args?: string[];
  /** 'setsid' (default): launched by a shell with setsid and reparented, like the incident. */
  detached?: LaunchMode;
  /**
   * How the root is conveyed. 'HOME' (default when basename(root) is '.hermes'): HOME=dirname(root),
   * no HERMES_HOME. 'HERMES_HOME' (default otherwise): HERMES_HOME=root exported.
   */
  homeVia?: 'HOME' | 'HERMES_HOME';
  cwd?: string;
  /** 'setsid' mode: append stdout/stderr here instead of /dev/null. */
  logFile?: string;
}

export interface WorkerOptions {
  root: string;
  /** Assignee profile (`-p`), default 'default'. */
  profile?: string;
  taskId?: string;
  /** Kanban DB path, default <root>/kanban.db. */
  db?: string;
  env?: EnvPatch;
  /** Default 'setsid' (Hermes starts workers with start_new_session=True). */
  detached?: LaunchMode;
  logFile?: string;
}

export interface ProcessOptions {
  env?: EnvPatch;
  /** Start from a minimal env (default true); false inherits process.env. */
  minimalEnv?: boolean;
  cwd?: string;
  /** Default 'child'. */
  detached?: LaunchMode;
  /** 'child' mode: 'pipe' keeps stdin open until stop() (e.g. `sqlite3 kanban.db`). Default 'ignore'. */
  stdin?: 'pipe' | 'ignore';
  logFile?: string;
}

// --------------------------------------------------------------------------- /proc helpers

export interface ProcStat {
  pid: number;
  comm: string;
  state: string;
  ppid: number;
  pgrp: number;
  session: number;
  /** Field 22: start time in clock ticks since boot. */
  startTicks: number;
}

export function readStat(pid: number): ProcStat | null {
  let raw: string;
  try {
    raw = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  const open = raw.indexOf('(');
  const close = raw.lastIndexOf(')');
  const rest = raw.slice(close + 2).trim().split(/\s+/);
  // rest[0] = field 3 (state)
  return {
    pid,
    comm: raw.slice(open + 1, close),
    state: rest[0] ?? '?',
    ppid: Number(rest[1]),
    pgrp: Number(rest[2]),
    session: Number(rest[3]),
    startTicks: Number(rest[19]),
  };
}

export function readStartTicks(pid: number): number | null {
  return readStat(pid)?.startTicks ?? null;
}

export function readCmdline(pid: number): string[] {
  try {
    const raw = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return raw.split('\0').filter((s, i, a) => !(s === '' && i === a.length - 1));
  } catch {
    return [];
  }
}

export function readEnviron(pid: number): Record<string, string> {
  const out: Record<string, string> = {};
  try {
    for (const kv of fs.readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0')) {
      const i = kv.indexOf('=');
      if (i > 0) out[kv.slice(0, i)] = kv.slice(i + 1);
    }
  } catch {
    /* gone */
  }
  return out;
}

/** Alive = /proc entry exists, not a zombie, and (if given) the same start time. */
export function isAlive(pid: number, startTicks?: number): boolean {
  const st = readStat(pid);
  if (!st) return false;
  if (st.state === 'Z' || st.state === 'X' || st.state === 'x') return false;
  if (startTicks !== undefined && startTicks >= 0 && st.startTicks !== startTicks) return false;
  return true;
}

/** Targets of /proc/PID/fd/* (readlink), e.g. '/x/kanban.db', '/x/gateway.lock (deleted)'. */
export function fdTargets(pid: number): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(`/proc/${pid}/fd`);
  } catch {
    return [];
  }
  const out: string[] = [];
  for (const n of names) {
    try {
      out.push(fs.readlinkSync(`/proc/${pid}/fd/${n}`));
    } catch {
      /* closed meanwhile */
    }
  }
  return out;
}

/** Has pid a file open whose path ends with `suffix` (e.g. 'kanban.db-wal')? False once it is gone. */
export function hasOpen(pid: number, suffix: string): boolean {
  return fdTargets(pid).some((t) => t.endsWith(suffix));
}

export interface ProcLock {
  kind: string; // FLOCK | POSIX | OFDLCK | LEASE
  mode: string; // ADVISORY | MANDATORY
  type: string; // WRITE | READ
  pid: number;
  dev: string;
  inode: number;
}

export function readProcLocks(): ProcLock[] {
  const out: ProcLock[] = [];
  for (const line of fs.readFileSync('/proc/locks', 'utf8').split('\n')) {
    // "3: FLOCK  ADVISORY  WRITE 4227 fe:00:2146530 0 EOF"; blocked waiters have "-> " after the id
    const m = /^\d+:\s+(?:->\s+)?(\S+)\s+(\S+)\s+(\S+)\s+(-?\d+)\s+([0-9a-f]+:[0-9a-f]+):(\d+)\s/.exec(line);
    if (!m) continue;
    if (line.includes('->')) continue; // waiting, not holding
    out.push({ kind: m[1]!, mode: m[2]!, type: m[3]!, pid: Number(m[4]), dev: m[5]!, inode: Number(m[6]) });
  }
  return out;
}

/** Does pid hold a FLOCK WRITE on file (matched by inode; /proc/locks device numbers can differ on overlayfs)? */
export function holdsFlock(pid: number, file: string): boolean {
  let ino: number;
  try {
    ino = Number(fs.statSync(file).ino);
  } catch {
    return false;
  }
  return readProcLocks().some((l) => l.kind === 'FLOCK' && l.type === 'WRITE' && l.pid === pid && l.inode === ino);
}

/**
 * Does pid ignore signal number `sig` (SIG_IGN)? From the SigIgn hex mask of /proc/PID/status
 * (proc(5)); bit sig-1. False when the process is gone.
 */
export function ignoresSignal(pid: number, sig: number): boolean {
  let status: string;
  try {
    status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return false;
  }
  const m = /^SigIgn:\s*([0-9a-f]+)$/m.exec(status);
  return m !== null && ((BigInt(`0x${m[1]}`) >> BigInt(sig - 1)) & 1n) === 1n;
}

export function childrenOf(ppid: number): number[] {
  const out: number[] = [];
  for (const n of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(n)) continue;
    const st = readStat(Number(n));
    if (st && st.ppid === ppid) out.push(st.pid);
  }
  return out;
}

export function readJson(file: string): unknown {
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

// --------------------------------------------------------------------------- waiting

/** Resolves after `ms` milliseconds. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Polls `fn` every `intervalMs` (default 100 ms) until it returns something other than null, and
 * returns that; throws `timed out after … waiting for WHAT` after `timeoutMs`. Errors of `fn` propagate.
 */
export async function until<T>(fn: () => Promise<T | null> | T | null, timeoutMs: number, what: string, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== null) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

export async function waitFor(
  predicate: () => boolean | Promise<boolean>,
  timeoutMs = 5000,
  what = 'condition',
  intervalMs = 20,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let ok = false;
    try {
      ok = await predicate();
    } catch {
      ok = false;
    }
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** waitFor (20 ms polls) until pid has a file open whose path ends with `suffix`; throws after timeoutMs. */
export async function waitForOpen(pid: number, suffix: string, timeoutMs: number, what: string): Promise<void> {
  await waitFor(() => hasOpen(pid, suffix), timeoutMs, what);
}

/** Wait until HOME/gateway.pid names pid and pid holds the flock on HOME/gateway.lock. */
export async function waitForGatewayReady(home: string, pid: number, timeoutMs = 20_000): Promise<void> {
  // waitFor treats a throwing predicate as "not yet", so a gateway that died is told apart here: it
  // would otherwise read as a slow start.
  let gone = false;
  await waitFor(
    () => {
      if (!isAlive(pid)) return (gone = true);
      const rec = readJson(path.join(home, 'gateway.pid')) as { pid?: unknown };
      return rec.pid === pid && holdsFlock(pid, path.join(home, 'gateway.lock'));
    },
    timeoutMs,
    `gateway ${pid} ready in ${home}`,
  );
  if (gone) throw new Error(`gateway ${pid} exited before it was ready in ${home}`);
}

// --------------------------------------------------------------------------- registry

interface Entry {
  pid: number;
  startTicks: number;
  child?: ChildProcess;
}
const registry = new Map<number, Entry>();

/** Record a PID the test caused to exist (e.g. an s6 slot gateway) so killAll() covers it. */
export function registerPid(pid: number): void {
  if (registry.has(pid)) return;
  const t = readStartTicks(pid);
  registry.set(pid, { pid, startTicks: t ?? -1 });
}

export function registeredPids(): number[] {
  return [...registry.keys()];
}

/** SIGKILL every registered PID still alive (same start time), wait until gone, clear the registry. */
export async function killAll(timeoutMs = 5000): Promise<void> {
  const entries = [...registry.values()];
  for (const e of entries) {
    e.child?.stdin?.destroy();
    if (e.startTicks >= 0 && isAlive(e.pid, e.startTicks)) {
      try {
        process.kill(e.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  }
  await waitFor(() => entries.every((e) => !isAlive(e.pid, e.startTicks)), timeoutMs, 'registered processes to die');
  for (const e of entries) registry.delete(e.pid);
}

// --------------------------------------------------------------------------- launching

export function shQuote(s: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

function buildEnv(base: Record<string, string>, patch?: EnvPatch): Record<string, string> {
  const env = { ...base };
  for (const [k, v] of Object.entries(patch ?? {})) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

/** The environment stand-ins start from: minimal PATH, HOME=home, C.UTF-8, the stand-in PYTHONPATH, no bytecode. */
export function minimalEnv(home: string): Record<string, string> {
  return {
    PATH: MINIMAL_PATH,
    HOME: home,
    LANG: 'C.UTF-8',
    PYTHONPATH: STANDIN_PYTHONPATH,
    PYTHONDONTWRITEBYTECODE: '1',
  };
}

function launch(
  argv: string[],
  env: Record<string, string>,
  mode: LaunchMode,
  opts: { cwd?: string; stdin?: 'pipe' | 'ignore'; logFile?: string; home?: string },
): StartedProcess {
  const cwd = opts.cwd ?? env.HOME ?? '/';
  let pid: number;
  let child: ChildProcess | undefined;
  let exited: Promise<ExitInfo> | undefined;
  let stdout = '';
  let stderr = '';
  if (mode === 'setsid') {
    const out = opts.logFile ? `>>${shQuote(opts.logFile)} 2>&1` : '>/dev/null 2>&1';
    const script = `setsid ${argv.map(shQuote).join(' ')} </dev/null ${out} & echo $!`;
    const res = execFileSync('bash', ['-c', script], { env, cwd, encoding: 'utf8', timeout: 10_000 });
    pid = Number(res.trim());
    if (!Number.isInteger(pid) || pid <= 0) throw new Error(`could not read PID from bash: ${JSON.stringify(res)}`);
  } else {
    const c = spawn(argv[0]!, argv.slice(1), { env, cwd, stdio: [opts.stdin ?? 'ignore', 'pipe', 'pipe'] });
    if (c.pid === undefined) throw new Error(`spawn failed: ${argv.join(' ')}`);
    child = c;
    pid = c.pid;
    c.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    c.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    c.stdin?.on('error', () => {});
    // 'exit' can come before the last bytes on stdout/stderr are read (they may even come from a
    // descendant that shares the pipe): resolve once both reached EOF, or 2 s after the exit when a
    // descendant keeps them open, so output() holds everything the process wrote before it exited.
    const eof = (s: NodeJS.ReadableStream): Promise<void> => new Promise((r) => s.once('end', r).once('close', r));
    const drained = Promise.all([eof(c.stdout!), eof(c.stderr!)]);
    const exit = new Promise<ExitInfo>((resolve) => {
      if (c.exitCode !== null || c.signalCode !== null) resolve({ code: c.exitCode, signal: c.signalCode });
      else c.once('exit', (code, signal) => resolve({ code, signal }));
    });
    exited = exit.then(async (info) => {
      await Promise.race([drained, new Promise((r) => setTimeout(r, 2000))]);
      return info;
    });
    c.on('error', () => {});
  }
  const startTicks = readStartTicks(pid) ?? -1;
  const entry: Entry = { pid, startTicks, child };
  registry.set(pid, entry);
  const alive = (): boolean => startTicks >= 0 && isAlive(pid, startTicks);
  const sig = (s: NodeJS.Signals): void => {
    if (!alive()) return;
    try {
      process.kill(pid, s);
    } catch {
      /* gone */
    }
  };
  return {
    pid,
    startTicks,
    argv,
    mode,
    env,
    home: opts.home,
    exited,
    output: () => ({ stdout, stderr }),
    write(data: string): void {
      if (!child?.stdin) throw new Error('stdin is not a pipe for this process');
      child.stdin.write(data);
    },
    alive,
    signal: sig,
    async stop(graceMs = 3000): Promise<void> {
      child?.stdin?.end();
      sig('SIGTERM');
      try {
        await waitFor(() => !alive(), graceMs, `pid ${pid} to exit after SIGTERM`);
      } catch {
        sig('SIGKILL');
        await waitFor(() => !alive(), 5000, `pid ${pid} to exit after SIGKILL`);
      }
      if (exited) await Promise.race([exited, new Promise((r) => setTimeout(r, 1000))]);
      registry.delete(pid);
    },
  };
}

/** Mirror of the stand-in's (and Hermes's) home resolution for an argv after `-m hermes_cli.main`. */
function resolveHermesHome(args: string[], env: Record<string, string>): string {
  let profile: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const t = args[i]!;
    if ((t === '-p' || t === '--profile') && i + 1 < args.length) profile = args[++i];
    else if (t.startsWith('-p=') || t.startsWith('--profile=')) profile = t.slice(t.indexOf('=') + 1);
  }
  const envHome = env.HERMES_HOME ? path.resolve(env.HERMES_HOME) : undefined;
  const dflt = path.join(env.HOME ?? '/', '.hermes');
  if (profile === undefined) return envHome ?? dflt;
  let root = dflt;
  if (envHome) root = path.basename(path.dirname(envHome)) === 'profiles' ? path.dirname(path.dirname(envHome)) : envHome;
  return profile === 'default' ? root : path.join(root, 'profiles', profile);
}

/** Start a stand-in gateway: `python3 -m hermes_cli.main [-p P] gateway run --replace`. */
export function startGateway(opts: GatewayOptions): StartedProcess {
  const root = path.resolve(opts.root);
  const homeVia = opts.homeVia ?? (path.basename(root) === '.hermes' ? 'HOME' : 'HERMES_HOME');
  const base = minimalEnv(path.dirname(root));
  if (homeVia === 'HERMES_HOME') base.HERMES_HOME = root;
  const env = buildEnv(base, opts.env);
  const args = [...(opts.profile !== undefined ? ['-p', opts.profile] : []), ...(opts.args ?? ['gateway', 'run', '--replace'])];
  const argv = ['python3', '-m', 'hermes_cli.main', ...args];
  return launch(argv, env, opts.detached ?? 'setsid', {
    cwd: opts.cwd,
    logFile: opts.logFile,
    home: resolveHermesHome(args, env),
  });
}

/** Start a stand-in kanban worker shaped like kanban_db._default_spawn. */
export function startWorker(opts: WorkerOptions): StartedProcess {
  const root = path.resolve(opts.root);
  const assignee = opts.profile ?? 'default';
  const taskId = opts.taskId ?? 't_test0001';
  const home = assignee === 'default' ? root : path.join(root, 'profiles', assignee);
  const workspace = path.join(root, 'kanban', 'workspaces', taskId);
  fs.mkdirSync(workspace, { recursive: true });
  const env = buildEnv(
    {
      ...minimalEnv(path.dirname(root)),
      HERMES_HOME: home,
      HERMES_PROFILE: assignee,
      HERMES_KANBAN_TASK: taskId,
      HERMES_KANBAN_DB: opts.db ?? path.join(root, 'kanban.db'),
      HERMES_KANBAN_BOARD: 'default',
      HERMES_KANBAN_WORKSPACES_ROOT: path.join(root, 'kanban', 'workspaces'),
      HERMES_KANBAN_WORKSPACE: workspace,
      HERMES_KANBAN_RUN_ID: '1',
      TERMINAL_CWD: workspace,
    },
    opts.env,
  );
  const args = ['-p', assignee, '--cli', '--accept-hooks', 'chat', '-q', `work kanban task ${taskId}`];
  return launch(['python3', '-m', 'hermes_cli.main', ...args], env, opts.detached ?? 'setsid', {
    cwd: workspace,
    logFile: opts.logFile,
    home,
  });
}

/** Start anything else (argv[0] resolved through the minimal PATH), recorded for cleanup. */
export function startProcess(argv: string[], opts: ProcessOptions = {}): StartedProcess {
  if (argv.length === 0) throw new Error('empty argv');
  const base =
    opts.minimalEnv === false
      ? (Object.fromEntries(Object.entries(process.env).filter(([, v]) => v !== undefined)) as Record<string, string>)
      : minimalEnv(opts.cwd ?? '/tmp');
  const env = buildEnv(base, opts.env);
  return launch(argv, env, opts.detached ?? 'child', { cwd: opts.cwd, stdin: opts.stdin, logFile: opts.logFile });
}
