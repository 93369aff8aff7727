/**
 * The REAL Hermes Agent gateway for tests (NousResearch/hermes-agent, MIT), from the minimal source
 * tarballs in ../shared/hermes-agent/ (hermes-agent-<version>.tar.xz) or from a checkout named by
 * HERMES_AGENT_SRC, made runnable on Debian's /usr/bin/python3 by ../shared/hermes-agent/real-hermes.sh.
 *
 * Kits are prepared once per version into a cache shared by every test file and every worktree on the
 * machine, `os.tmpdir()/hermes-doctor-real/<version>`, under `flock` on `<cache>/<version>.lock` so
 * parallel runs never race; a `.ready` stamp (tarball name, size, mtime + the script's) skips the
 * preparation when nothing changed. The sources are byte-compiled there once (so gateways do not race
 * writing __pycache__), and gateways run with PYTHONDONTWRITEBYTECODE=1.
 *
 * /tmp HAZARD: the cache is under /tmp, which is a private, EMPTY tmpfs inside the namespaced systemd
 * (test/harness/systemd.ts). Pass `kit.dest` (and every test folder under /tmp) in `bindPaths` of
 * bootSystemd, or use nsScratchDir() for homes. Every unit must keep `DefaultDependencies=no`, or
 * sysinit's tmpfiles service would empty the host's /tmp, cache included; realSystemdUnit() adds it.
 *
 * Launchers, with the argv real launchers use (real-gateway.md, "Launchers and what the process shows"):
 *   'console'  `DEST/venv/bin/hermes [-p P] ARGS` (the pip console script; /proc shows
 *              `/usr/bin/python3 DEST/venv/bin/hermes ...`)
 *   'module'   `/usr/bin/python3 -m hermes_cli.main [-p P] ARGS` (the systemd unit's ExecStart style)
 *   s6         the run script Hermes's own S6ServiceManager._render_run_script renders (realS6RunScript)
 *   systemd    the unit Hermes's own generate_systemd_unit writes (realSystemdUnit)
 *
 * Waiting is on files and locks (gateway.pid naming the PID, the flock on gateway.lock in /proc/locks),
 * always bounded, with a message naming what was awaited and the tail of the gateway's log.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  MINIMAL_PATH,
  REPO_ROOT,
  holdsFlock,
  isAlive,
  readProcLocks,
  registerPid,
  startProcess,
  waitFor,
  type StartedProcess,
} from './processes.js';
import { slotPid, type S6Slot, type S6Tree } from './s6.js';
import { profileHome } from './scratch.js';

/** Debian's interpreter: the python3-* packages live in its dist-packages (real-hermes.sh, "Why"). */
export const HERMES_PY = '/usr/bin/python3';
/** ../shared/hermes-agent beside the repository: the tarballs, real-hermes.sh and real-gateway.md. */
export const KIT_SHARED = path.resolve(REPO_ROOT, '..', 'shared', 'hermes-agent');
/** The two upstream versions of the kit: the incident's (no dispatcher lock) and main of 2026-07-15. */
export const KIT_VERSIONS = ['v0.15.1', '306e2d2'] as const;
/** Cache of prepared kits, shared by test files and worktrees (see the /tmp HAZARD above). */
export const KIT_CACHE = path.join(os.tmpdir(), 'hermes-doctor-real');

/** What the tests must know of a version, read from its source (never assumed from the label). */
export interface HermesTraits {
  /** `<root>/kanban/.dispatcher.lock` exists in the source (306e2d2: yes; v0.15.1: no, every gateway dispatches). */
  dispatcherLock: boolean;
  /** The generated systemd unit's ExecStart has `--replace` (v0.15.1: yes; 306e2d2: no, so a takeover crash-loops it). */
  unitReplace: boolean;
  /** The rendered s6 run script's exec has `--replace` (306e2d2: yes; v0.15.1: no). */
  s6Replace: boolean;
}

export interface HermesKit {
  /** Label: `v0.15.1`, `306e2d2`, or `checkout` for HERMES_AGENT_SRC. */
  version: string;
  /** Prepared folder: src/, venv/bin/hermes, noproctitle/, env.sh. */
  dest: string;
  src: string;
  /** DEST/venv/bin/hermes (shebang #!/usr/bin/python3). */
  hermesBin: string;
  /** PYTHONPATH the kit needs: the setproctitle blocker first (unless setproctitle is wanted), then src. */
  pythonPath(setproctitle?: boolean): string;
  traits: HermesTraits;
}

export interface KitAvailability {
  ok: boolean;
  why: string;
}

/** Where the sources come from: HERMES_AGENT_SRC (one checkout) or the kit's tarballs. */
function kitSources(): { version: string; tarball?: string; checkout?: string }[] {
  const src = process.env.HERMES_AGENT_SRC;
  if (src) return [{ version: 'checkout', checkout: path.resolve(src) }];
  return KIT_VERSIONS.map((v) => ({ version: v, tarball: path.join(KIT_SHARED, `hermes-agent-${v}.tar.xz`) }));
}

/** Versions the real suites run on: both tarball versions, or `checkout` alone with HERMES_AGENT_SRC. */
export function kitVersions(): string[] {
  return kitSources().map((s) => s.version);
}

/** Can the real gateway run here? Linux, /usr/bin/python3, flock, xz, the tarballs or checkout, real-hermes.sh. */
export function realHermesAvailable(): KitAvailability {
  if (process.platform !== 'linux') return { ok: false, why: `not Linux (${process.platform})` };
  if (!fs.existsSync(HERMES_PY)) return { ok: false, why: `${HERMES_PY} missing (Debian package python3)` };
  const script = path.join(KIT_SHARED, 'real-hermes.sh');
  if (!fs.existsSync(script)) return { ok: false, why: `${script} missing` };
  for (const bin of ['flock', 'xz', 'tar']) {
    if (spawnSync('sh', ['-c', `command -v ${bin}`], { stdio: 'ignore' }).status !== 0) return { ok: false, why: `${bin} not on PATH` };
  }
  for (const s of kitSources()) {
    const p = s.tarball ?? s.checkout!;
    if (!fs.existsSync(p)) return { ok: false, why: `${p} missing${s.checkout ? ' (HERMES_AGENT_SRC)' : ''}` };
    if (s.checkout && !fs.existsSync(path.join(p, 'hermes_cli', 'main.py'))) return { ok: false, why: `${p} is not a Hermes checkout` };
  }
  return { ok: true, why: `real Hermes ${kitVersions().join(', ')} from ${process.env.HERMES_AGENT_SRC ?? KIT_SHARED}` };
}

// The top-level entries the kit's tarballs hold (real-gateway.md, "Using the kit").
const CHECKOUT_ENTRIES = ['LICENSE', 'agent', 'cron', 'gateway', 'hermes_cli', 'plugins', 'providers', 'tools', 'skills',
  'hermes_bootstrap.py', 'hermes_constants.py', 'hermes_logging.py', 'hermes_state.py', 'hermes_time.py', 'toolsets.py', 'utils.py'];

const kits = new Map<string, HermesKit>();

/**
 * Prepares (once per machine and version) and returns the kit of `version`. Synchronous: runs
 * real-hermes.sh under flock, then compileall. Throws with the script's output when it fails.
 * A checkout (HERMES_AGENT_SRC) is packed into a tarball shaped like the kit's first.
 */
export function prepareKit(version: string): HermesKit {
  const cached = kits.get(version);
  if (cached) return cached;
  const source = kitSources().find((s) => s.version === version);
  if (!source) throw new Error(`prepareKit: no source for ${version} (have ${kitVersions().join(', ')})`);
  fs.mkdirSync(KIT_CACHE, { recursive: true, mode: 0o755 });
  const dest = path.join(KIT_CACHE, version);
  const script = path.join(KIT_SHARED, 'real-hermes.sh');
  let tarball = source.tarball!;
  if (source.checkout) tarball = path.join(KIT_CACHE, 'checkout.tar.xz');
  const prep = [
    'set -e',
    ...(source.checkout
      ? [
          // Repacked only when the checkout's HEAD or tree changed is not worth detecting: packing is seconds.
          `entries=""; for e in ${CHECKOUT_ENTRIES.join(' ')}; do [ -e "$CHECKOUT/$e" ] && entries="$entries $e"; done`,
          'tar -cJf "$TARBALL.new" -C "$CHECKOUT" --transform "s,^,hermes-agent-checkout/," $entries',
          'if ! cmp -s "$TARBALL.new" "$TARBALL"; then mv "$TARBALL.new" "$TARBALL"; else rm -f "$TARBALL.new"; fi',
        ]
      : []),
    'stamp="$(basename "$TARBALL") $(stat -c "%s %Y" "$TARBALL") $(stat -c "%s %Y" "$SCRIPT")"',
    '[ -f "$DEST/.ready" ] && [ "$(cat "$DEST/.ready")" = "$stamp" ] && exit 0',
    'rm -f "$DEST/.ready"',
    'bash "$SCRIPT" "$TARBALL" "$DEST"',
    `${HERMES_PY} -m compileall -q -j 0 "$DEST/src" >/dev/null || true`,
    'chmod -R a+rX "$DEST"',
    'echo "$stamp" > "$DEST/.ready"',
  ].join('\n');
  const r = spawnSync('flock', [path.join(KIT_CACHE, `${version}.lock`), 'bash', '-c', prep], {
    env: { PATH: MINIMAL_PATH + ':/usr/sbin:/sbin', TARBALL: tarball, DEST: dest, SCRIPT: script, CHECKOUT: source.checkout ?? '', HOME: os.tmpdir(), LANG: 'C.UTF-8' },
    encoding: 'utf8',
    timeout: 600_000,
  });
  if (r.status !== 0) {
    throw new Error(`prepareKit(${version}): real-hermes.sh failed (${r.status ?? r.signal}):\n${r.stdout}\n${r.stderr}`);
  }
  const src = path.join(dest, 'src');
  const kit: HermesKit = {
    version,
    dest,
    src,
    hermesBin: path.join(dest, 'venv', 'bin', 'hermes'),
    pythonPath: (setproctitle = false) => (setproctitle ? src : `${path.join(dest, 'noproctitle')}:${src}`),
    traits: { dispatcherLock: false, unitReplace: false, s6Replace: false },
  };
  kit.traits = readTraits(kit);
  kits.set(version, kit);
  return kit;
}

function readTraits(kit: HermesKit): HermesTraits {
  const gatewayDir = path.join(kit.src, 'gateway');
  const dispatcherLock = fs
    .readdirSync(gatewayDir)
    .filter((f) => f.endsWith('.py'))
    .some((f) => fs.readFileSync(path.join(gatewayDir, f), 'utf8').includes('.dispatcher.lock'));
  const probeHome = path.join(KIT_CACHE, 'probe-home');
  const unit = realSystemdUnitText(kit, { userHome: probeHome, home: path.join(probeHome, '.hermes') });
  const run = realS6RunScriptText(kit, 'probe', {});
  const exec = /^ExecStart=(.*)$/m.exec(unit)?.[1] ?? '';
  return { dispatcherLock, unitReplace: exec.includes('--replace'), s6Replace: /exec s6-setuidgid hermes .*--replace/.test(run) };
}

// ---------------------------------------------------------------------------------------------- python

/** Runs `/usr/bin/python3 -c CODE ARGS...` with the kit on PYTHONPATH and `env` added; returns stdout; throws on failure. */
export function kitPython(kit: HermesKit, code: string, env: Record<string, string> = {}, args: string[] = [], timeoutMs = 60_000): string {
  const r = spawnSync(HERMES_PY, ['-c', code, ...args], {
    env: { PATH: MINIMAL_PATH, LANG: 'C.UTF-8', PYTHONDONTWRITEBYTECODE: '1', PYTHONPATH: kit.pythonPath(), HERMES_DISABLE_LAZY_INSTALLS: '1', ...env },
    cwd: '/',
    encoding: 'utf8',
    timeout: timeoutMs,
  });
  if (r.status !== 0) throw new Error(`kit ${kit.version} python failed (${r.status ?? r.signal}): ${r.stderr.slice(-2000)}`);
  return r.stdout;
}

// ---------------------------------------------------------------------------------------------- gateways

export interface RealGatewayOptions {
  kit: HermesKit;
  /** The Hermes root (`<userHome>/.hermes`). The user home (HOME) is its parent. */
  root: string;
  /** `-p P` in argv, before the subcommand; omit for the default profile. */
  profile?: string;
  /** Default ['gateway', 'run']. */
  args?: string[];
  /** 'console' (default): the pip console script; 'module': `/usr/bin/python3 -m hermes_cli.main`. */
  launcher?: 'console' | 'module';
  /** Export HERMES_HOME=root (default true, as a service and most shells do); false leaves HOME alone to decide. */
  exportHome?: boolean;
  /** Let the real setproctitle module import (Debian's python3-setproctitle): cmdline becomes `hermes`. Default false. */
  setproctitle?: boolean;
  env?: Record<string, string | undefined>;
  /** Default 'setsid': a shell's `setsid CMD &`, reparented to PID 1 like the incident. */
  detached?: 'setsid' | 'child';
  /** Where stdout/stderr go; default `<root>/../gateway-<n>.log`. */
  logFile?: string;
}

export interface RealGateway extends StartedProcess {
  kit: HermesKit;
  /** The HERMES_HOME Hermes resolves this gateway to (profile home for -p, else the root). */
  home: string;
  root: string;
  logFile: string;
}

let logSeq = 0;

/** The environment a real gateway starts with: HOME, PATH with the kit's venv/bin first, the kit's PYTHONPATH. */
export function kitEnv(kit: HermesKit, root: string, opts: { exportHome?: boolean; setproctitle?: boolean } = {}): Record<string, string> {
  return {
    PATH: `${path.join(kit.dest, 'venv', 'bin')}:${MINIMAL_PATH}`,
    HOME: path.dirname(root),
    LANG: 'C.UTF-8',
    PYTHONPATH: kit.pythonPath(opts.setproctitle),
    PYTHONDONTWRITEBYTECODE: '1',
    // v0.15.1 otherwise runs `python3 -m pip install discord.py...` at start (refused by Debian's pip).
    HERMES_DISABLE_LAZY_INSTALLS: '1',
    ...(opts.exportHome === false ? {} : { HERMES_HOME: root }),
  };
}

/** Starts a real gateway (or any `hermes` command) the way a shell would; recorded for killAll(). */
export function startRealGateway(opts: RealGatewayOptions): RealGateway {
  const { kit } = opts;
  const root = path.resolve(opts.root);
  const args = [...(opts.profile ? ['-p', opts.profile] : []), ...(opts.args ?? ['gateway', 'run'])];
  const argv = (opts.launcher ?? 'console') === 'console' ? [kit.hermesBin, ...args] : [HERMES_PY, '-m', 'hermes_cli.main', ...args];
  const env: Record<string, string | undefined> = { ...kitEnv(kit, root, opts), ...(opts.env ?? {}) };
  const logFile = opts.logFile ?? path.join(path.dirname(root), `gateway-${++logSeq}.log`);
  const p = startProcess(argv, { env, detached: opts.detached ?? 'setsid', cwd: path.dirname(root), logFile });
  return Object.assign(p, { kit, home: profileHome(root, restartProfile(args) ?? opts.profile), root, logFile });
}

/** `gateway restart --profile NAME` targets NAME's home (the process becomes that home's gateway). */
function restartProfile(args: string[]): string | undefined {
  const i = args.indexOf('--profile');
  return args.includes('restart') && i >= 0 ? args[i + 1] : undefined;
}

/** The pid record Hermes writes to gateway.pid / gateway.lock: `{pid, kind, argv, start_time}` (gateway/status.py:_build_pid_record). */
export interface PidRecord {
  pid: number;
  kind?: string;
  argv?: string[];
  start_time?: number;
  /** gateway_state.json only: `starting`, `running`, `stopped`, ... (gateway/status.py:write_runtime_status). */
  gateway_state?: string;
}

/** Reads HOME/gateway.pid (or another record file); null when absent or not JSON yet. */
export function readRecord(home: string, file = 'gateway.pid'): PidRecord | null {
  try {
    return JSON.parse(fs.readFileSync(path.join(home, file), 'utf8')) as PidRecord;
  } catch {
    return null;
  }
}

/** PID holding the flock on `file` (from /proc/locks, matched by inode), or null. */
export function flockHolder(file: string): number | null {
  let ino: number;
  try {
    ino = Number(fs.statSync(file).ino);
  } catch {
    return null;
  }
  const l = readProcLocks().find((x) => x.kind === 'FLOCK' && x.type === 'WRITE' && x.inode === ino);
  return l ? l.pid : null;
}

function logTail(file: string | undefined): string {
  if (!file) return '';
  try {
    const t = fs.readFileSync(file, 'utf8');
    return `\n--- last lines of ${file}:\n${t.split('\n').slice(-15).join('\n')}`;
  } catch {
    return '';
  }
}

/**
 * Waits until `pid` is HOME's gateway: gateway.pid names it and it holds the flock on gateway.lock.
 * Throws after timeoutMs (default 60 s: a real gateway needs 1–7 s, more under load) or at once when
 * the process is gone, naming the log's last lines.
 */
export async function waitRealReady(home: string, pid: number, timeoutMs = 60_000, logFile?: string): Promise<void> {
  let gone = false;
  try {
    await waitFor(
      () => {
        if (!isAlive(pid)) {
          gone = true;
          return true;
        }
        return readRecord(home)?.pid === pid && holdsFlock(pid, path.join(home, 'gateway.lock'));
      },
      timeoutMs,
      `real gateway ${pid} to write ${home}/gateway.pid and flock gateway.lock`,
      50,
    );
  } catch (e) {
    throw new Error(`${(e as Error).message}${logTail(logFile)}`);
  }
  if (gone) throw new Error(`real gateway ${pid} for ${home} exited before it was ready${logTail(logFile)}`);
}

/** startRealGateway + waitRealReady. */
export async function startReadyGateway(opts: RealGatewayOptions, timeoutMs?: number): Promise<RealGateway> {
  const g = startRealGateway(opts);
  await waitRealReady(g.home, g.pid, timeoutMs, g.logFile);
  return g;
}

/** Waits until HOME's gateway.lock is flocked by some live PID other than `not`; returns it. */
export async function waitLockOwner(home: string, timeoutMs: number, what: string, not?: number): Promise<number> {
  let owner = 0;
  await waitFor(
    () => {
      const h = flockHolder(path.join(home, 'gateway.lock'));
      if (h === null || h === not || !isAlive(h) || readRecord(home)?.pid !== h) return false;
      owner = h;
      return true;
    },
    timeoutMs,
    what,
    50,
  );
  return owner;
}

/** A Hermes root `<dir>/<name>/.hermes` with empty `profiles/<p>/` folders (what `hermes profile create` needs at least). */
export function makeRoot(dir: string, name: string, ...profiles: string[]): string {
  const root = path.join(dir, name, '.hermes');
  fs.mkdirSync(root, { recursive: true });
  for (const p of profiles) fs.mkdirSync(path.join(root, 'profiles', p), { recursive: true });
  return root;
}

// ---------------------------------------------------------------------------------------------- s6

/**
 * The run script Hermes's own S6ServiceManager._render_run_script renders for PROFILE, adapted to
 * this machine only where the image's paths do not exist here:
 *   `#!/command/with-contenv sh` → `#!/bin/sh` (no s6-overlay; the env is exported by the script),
 *   `/opt/data` → the user home, `/opt/hermes/.venv/bin/activate` → the kit's activate,
 *   `exec s6-setuidgid hermes ` → `exec ` (no `hermes` user; the tests run as root or as the caller).
 * Every other line, the exec'd argv included, is Hermes's own.
 */
export function realS6RunScript(kit: HermesKit, profile: string, userHome: string, extraEnv: Record<string, string>): string {
  const text = realS6RunScriptText(kit, profile, extraEnv);
  return text
    .replace(/^#!\/command\/with-contenv sh$/m, '#!/bin/sh')
    .replaceAll('/opt/data', userHome)
    .replace('/opt/hermes/.venv/bin/activate', path.join(kit.dest, 'venv', 'bin', 'activate'))
    .replace(/exec s6-setuidgid hermes /g, 'exec ');
}

function realS6RunScriptText(kit: HermesKit, profile: string, extraEnv: Record<string, string>): string {
  return kitPython(
    kit,
    'import json, sys\nfrom hermes_cli.service_manager import S6ServiceManager as S\n' +
      'sys.stdout.write(S._render_run_script(sys.argv[1], json.loads(sys.argv[2])))',
    {},
    [profile, JSON.stringify(extraEnv)],
  );
}

export interface RealSlotOptions {
  kit: HermesKit;
  root: string;
  profile: string;
  /** Extra env the run script exports (Hermes passes the container's; here HERMES_HOME and the test knobs). */
  env?: Record<string, string>;
  readyTimeoutMs?: number;
}

/**
 * Adds `<scan>/gateway-<profile>/run` with Hermes's rendered run script to a real s6 tree, and waits
 * until s6-svstat reports its PID and that PID is the home's ready gateway.
 */
export async function addRealS6Slot(tree: S6Tree, opts: RealSlotOptions): Promise<S6Slot> {
  const root = path.resolve(opts.root);
  const name = `gateway-${opts.profile}`;
  const dir = path.join(tree.scanDir, name);
  const home = profileHome(root, opts.profile);
  const extra = { HERMES_HOME: root, HERMES_DISABLE_LAZY_INSTALLS: '1', PYTHONDONTWRITEBYTECODE: '1', LANG: 'C.UTF-8', ...(opts.env ?? {}) };
  const logFile = path.join(path.dirname(root), `${name}.log`);
  const script = realS6RunScript(opts.kit, opts.profile, path.dirname(root), extra)
    // The rendered script writes to s6's stdout; keep its output for failure messages.
    .replace(/^set -e$/m, `set -e\nexec >>${JSON.stringify(logFile)} 2>&1`);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'run.tmp'), script, { mode: 0o755 });
  fs.renameSync(path.join(dir, 'run.tmp'), path.join(dir, 'run'));
  execFileSync('/usr/bin/s6-svscanctl', ['-a', tree.scanDir], { timeout: 5000 });
  const timeout = opts.readyTimeoutMs ?? 60_000;
  let pid = 0;
  await waitFor(
    () => {
      const p = slotPid(tree, name);
      if (!p) return false;
      pid = p;
      registerPid(p);
      return true;
    },
    timeout,
    `s6-svstat ${name} up with a pid`,
  );
  await waitRealReady(home, pid, timeout, logFile);
  const slot: S6Slot = { name, profile: opts.profile, dir, home, pid };
  tree.slots.set(name, slot);
  return slot;
}

// ---------------------------------------------------------------------------------------------- systemd

export interface RealUnitOptions {
  /** HOME of the gateway's user (the unit runs as root; its root is `<userHome>/.hermes`). */
  userHome: string;
  /** The HERMES_HOME the unit is generated for (root or `<root>/profiles/P`). */
  home: string;
  /** Debian's python3-setproctitle allowed (default: blocked like a default install). */
  setproctitle?: boolean;
}

function realSystemdUnitText(kit: HermesKit, opts: RealUnitOptions): string {
  return kitPython(kit, 'import sys\nfrom hermes_cli.gateway import generate_systemd_unit as g\nsys.stdout.write(g())', {
    HOME: opts.userHome,
    HERMES_HOME: opts.home,
  });
}

/**
 * The unit Hermes's own generate_systemd_unit() writes for HOME (as `hermes gateway install` would,
 * a user unit), with its own name (get_service_name(): `hermes-gateway[-P]`), adapted only to boot
 * in the namespaced systemd as a system unit:
 *   + `DefaultDependencies=no` (mandatory: see the /tmp HAZARD), − `After=`/`Wants=network-online.target`,
 *   + `Environment=HOME=… PYTHONPATH=… PYTHONDONTWRITEBYTECODE=1 HERMES_DISABLE_LAZY_INSTALLS=1`
 *     (a user unit has HOME; pip's site-packages is the kit's PYTHONPATH here),
 *   `StandardOutput/StandardError=journal` kept (no journald inside: systemd drops the output).
 * ExecStart, WorkingDirectory, Restart*, KillMode and the rest are Hermes's own.
 */
export function realSystemdUnit(kit: HermesKit, opts: RealUnitOptions): { name: string; text: string } {
  const env = { HOME: opts.userHome, HERMES_HOME: opts.home };
  const name = kitPython(kit, 'import sys\nfrom hermes_cli.gateway import get_service_name as n\nsys.stdout.write(n())', env).trim();
  const lines = realSystemdUnitText(kit, opts).split('\n').filter((l) => !/^(After|Wants)=network-online\.target$/.test(l));
  const out: string[] = [];
  for (const l of lines) {
    out.push(l);
    if (l === '[Unit]') out.push('DefaultDependencies=no');
    if (l === '[Service]') {
      out.push(
        `Environment="HOME=${opts.userHome}" "PYTHONPATH=${kit.pythonPath(opts.setproctitle)}" ` +
          '"PYTHONDONTWRITEBYTECODE=1" "HERMES_DISABLE_LAZY_INSTALLS=1"',
      );
    }
  }
  return { name: `${name}.service`, text: out.join('\n') };
}

// ---------------------------------------------------------------------------------------------- kanban

/** PID holding the flock on `<root>/kanban/.dispatcher.lock` (306e2d2's singleton dispatcher), or null. */
export function dispatcherHolder(root: string): number | null {
  return flockHolder(path.join(root, 'kanban', '.dispatcher.lock'));
}

/** Distinct `claimer` values of `<root>/kanban.db` table task_runs (`host:gatewaypid`), read-only; [] when none. */
export function kanbanClaimers(kit: HermesKit, root: string): string[] {
  const db = path.join(root, 'kanban.db');
  if (!fs.existsSync(db)) return [];
  const out = kitPython(
    kit,
    'import sqlite3, sys, json\n' +
      'c = sqlite3.connect("file:" + sys.argv[1] + "?mode=ro", uri=True, timeout=5)\n' +
      'cols = [r[1] for r in c.execute("pragma table_info(task_runs)")]\n' +
      'col = "claimer" if "claimer" in cols else ("claim_lock" if "claim_lock" in cols else None)\n' +
      'print(json.dumps(sorted({r[0] for r in c.execute(f"select {col} from task_runs where {col} is not null")}) if col else []))',
    {},
    [db],
  );
  return JSON.parse(out) as string[];
}

/**
 * The incident's profile name, made unique to this test process: Hermes's own `gateway restart
 * --profile P` (and its stale-gateway sweeps) SIGTERM every process on the machine whose argv holds
 * the substring `-p P` / `--profile P` (hermes_cli/gateway.py:find_gateway_pids), so on a shared host
 * another suite's `--profile argus` would end `-p argus-…` gateways, and ours theirs. `x<pid>-argus`
 * contains no other suite's `-p argus` and no other test process's name.
 */
export const ARGUS = `x${process.pid}-argus`;

/**
 * Creates a kanban task on `<root>/kanban.db` with Hermes's own CLI, `hermes kanban create TITLE
 * --assignee PROFILE --json` (hermes_cli/kanban.py), as a user of that root would (HERMES_HOME=root);
 * returns the task id (`t_<hex>`). Throws with the CLI's output when it fails.
 */
export function kanbanCreate(kit: HermesKit, root: string, title: string, assignee: string): string {
  const r = spawnSync(kit.hermesBin, ['kanban', 'create', title, '--assignee', assignee, '--json'], {
    env: kitEnv(kit, root),
    cwd: path.dirname(root),
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (r.status !== 0) throw new Error(`hermes kanban create failed (${r.status ?? r.signal}): ${r.stdout}\n${r.stderr}`);
  const id = (JSON.parse(r.stdout) as { id?: unknown }).id;
  if (typeof id !== 'string') throw new Error(`hermes kanban create printed no id: ${r.stdout}`);
  return id;
}

/** A task row of `<root>/kanban.db` as Hermes records it (hermes_cli/kanban_db.py, table `tasks`). */
export interface KanbanTaskRow {
  status: string;
  assignee: string | null;
  /** `<host>:<pid of the claiming gateway>`, null when unclaimed. */
  claim_lock: string | null;
  /** PID of the worker the dispatcher spawned, null before the spawn. */
  worker_pid: number | null;
}

/** Reads task `id` of `<root>/kanban.db` read-only; null when the DB or the task is missing. */
export function kanbanTask(kit: HermesKit, root: string, id: string): KanbanTaskRow | null {
  const db = path.join(root, 'kanban.db');
  if (!fs.existsSync(db)) return null;
  const out = kitPython(
    kit,
    'import sqlite3, sys, json\n' +
      'c = sqlite3.connect("file:" + sys.argv[1] + "?mode=ro", uri=True, timeout=5)\n' +
      'c.row_factory = sqlite3.Row\n' +
      'r = c.execute("select status, assignee, claim_lock, worker_pid from tasks where id = ?", (sys.argv[2],)).fetchone()\n' +
      'print(json.dumps(dict(r) if r else None))',
    {},
    [db, id],
  );
  return JSON.parse(out) as KanbanTaskRow | null;
}
