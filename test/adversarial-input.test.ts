/**
 * What a local user can put on the host must neither hang hermes-doctor nor make it judge from what it
 * could not read: FIFOs and symlinks at the files it reads, a supervisor tool that hangs (with children),
 * numeric flags out of range, a home it may not look into, a profile name Hermes would refuse, a kill
 * target that changes its argv during the grace, and every spelling of the profile flag in the shell
 * hooks. Real FIFOs, real processes, real shells; the CLI runs as a child process wherever the old
 * behaviour was to block, so a regression fails on a bounded timeout instead of hanging the suite.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { shellHook } from '../src/actions/guard/hook.js';
import { execRunner } from '../src/sources/runner.js';
import type { Report } from '../src/types.js';
import { NO_S6, homesArgs, runCli, verdictOf } from './harness/cli.js';
import { cliBinFor, removeStagedCli } from './harness/cli-as-user.js';
import { CLI_BIN, MINIMAL_PATH, REPO_ROOT, isAlive, killAll, readStartTicks, startProcess, until } from './harness/processes.js';
import { cleanupAllScratch, makeScratch, profileHome } from './harness/scratch.js';
import { addGatewaySlot, startS6Tree, stopAllS6Trees } from './harness/s6.js';
import { hasBinary, hasPython3, hasS6, isLinux, isRoot, requireOrSkip } from './harness/skip.js';

const built = fs.existsSync(path.join(REPO_ROOT, 'dist', 'cli.js'));
const linux = isLinux();

afterEach(async () => {
  await killAll();
});
afterAll(async () => {
  await stopAllS6Trees();
  cleanupAllScratch();
  removeStagedCli();
});

/** Runs the built CLI in a child process, bounded: a hang is a failed run (status null), never a hung suite. */
function cliProcess(args: string[], opts: { timeoutMs?: number; uid?: number; env?: Record<string, string> } = {}) {
  const argv =
    opts.uid !== undefined
      ? ['setpriv', '--reuid', String(opts.uid), '--regid', String(opts.uid), '--clear-groups', process.execPath, cliBinFor(opts.uid), ...args]
      : [process.execPath, CLI_BIN, ...args];
  const started = Date.now();
  const r = spawnSync(argv[0]!, argv.slice(1), {
    encoding: 'utf8',
    timeout: opts.timeoutMs ?? 20_000,
    killSignal: 'SIGKILL',
    cwd: '/',
    env: { PATH: MINIMAL_PATH, LANG: 'C.UTF-8', NO_COLOR: '1', ...opts.env },
  });
  return { status: r.status, signal: r.signal, out: r.stdout, err: r.stderr, ms: Date.now() - started };
}

/**
 * A minimal `hermes_cli.main` (argv is all the scan judges by): sleeps; writes `$ADV_READY` once its
 * SIGTERM handler is installed; with ADV_EXEC_ON_TERM=1 it answers SIGTERM by exec'ing `sleep 1000`:
 * same PID, same start time, another argv.
 */
function fakeHermes(dir: string): string {
  const py = path.join(dir, 'py', 'hermes_cli');
  fs.mkdirSync(py, { recursive: true });
  fs.writeFileSync(path.join(py, '__init__.py'), '');
  fs.writeFileSync(
    path.join(py, 'main.py'),
    [
      'import os, signal, time',
      "if os.environ.get('ADV_EXEC_ON_TERM') == '1':",
      "    signal.signal(signal.SIGTERM, lambda s, f: os.execv('/bin/sleep', ['sleep', '1000']))",
      "if os.environ.get('ADV_READY'):",
      "    open(os.environ['ADV_READY'], 'w').close()",
      'while True:',
      '    time.sleep(1)',
      '',
    ].join('\n'),
  );
  return path.join(dir, 'py');
}

async function startFake(dir: string, args: string[], env: Record<string, string>) {
  const ready = path.join(dir, `ready-${Math.random().toString(36).slice(2)}`);
  const p = startProcess(['python3', '-m', 'hermes_cli.main', ...args], {
    env: { PYTHONPATH: fakeHermes(dir), ADV_READY: ready, ...env },
    cwd: dir,
  });
  await until(() => (fs.existsSync(ready) ? true : null), 10_000, `fake hermes PID ${p.pid} to start`);
  return p;
}

// ------------------------------------------------------------------------------ 3. nothing may block

describe.skipIf(requireOrSkip('Linux, python3, mkfifo and a build (npm run build)', linux && hasPython3() && hasBinary('mkfifo') && built))('FIFOs and symlinks at host files', () => {
  it('a FIFO at gateway.pid, gateway_state.json, active_profile and an s6 run script: orphans, guard and snapshot finish and say "is a FIFO"', async () => {
    const s = makeScratch();
    const root = s.root('argus');
    const home = profileHome(root, 'argus');
    const gw = await startFake(s.dir, ['-p', 'argus', 'gateway', 'run'], { HOME: path.dirname(root) });
    for (const f of [path.join(home, 'gateway.pid'), path.join(home, 'gateway_state.json'), path.join(root, 'active_profile')]) execFileSync('mkfifo', [f]);
    const scandir = path.join(s.dir, 's6');
    fs.mkdirSync(path.join(scandir, 'gateway-argus'), { recursive: true });
    execFileSync('mkfifo', [path.join(scandir, 'gateway-argus', 'run')]);

    const orphans = cliProcess(['orphans', '--json', '--s6-scandir', scandir, ...homesArgs(home)]);
    expect(orphans.signal, `orphans hung: ${orphans.err}`).toBeNull();
    const report = JSON.parse(orphans.out) as Report;
    // The s6 slot for this home could not be read (its run script is a FIFO): unknown when s6-svstat
    // fails on it, `starting` when it answers "down" while the gateway is inside its start-up window;
    // never a verdict that makes it a kill target.
    const v = verdictOf(report, gw.pid);
    expect(['unknown', 'starting'], JSON.stringify(v.reasons)).toContain(v.verdict);
    const bad = report.findings.filter((f) => f.code === 'IDENTITY_FILE_BAD').map((f) => f.message);
    expect(bad.some((m) => m.includes('gateway.pid') && m.includes('is a FIFO'))).toBe(true);
    expect(bad.some((m) => m.includes('gateway_state.json') && m.includes('is a FIFO'))).toBe(true);
    expect(report.findings.some((f) => f.code === 'NOT_VISIBLE' && f.message.includes('active_profile is a FIFO'))).toBe(true);

    const guard = cliProcess(['guard', '--json', '--home', home, '--s6-scandir', scandir]);
    expect(guard.signal, `guard hung: ${guard.err}`).toBeNull();
    expect([0, 1]).toContain(guard.status);

    const snap = cliProcess(['snapshot', '--s6-scandir', scandir, ...homesArgs(home)]);
    expect(snap.signal, `snapshot hung: ${snap.err}`).toBeNull();
    const h = (JSON.parse(snap.out) as { homes: { path: string; pidFile: { status: string; error?: string } }[] }).homes.find((x) => x.path === home)!;
    expect(h.pidFile).toMatchObject({ status: 'unreadable', error: expect.stringContaining('is a FIFO') });
  }, 90_000);

  it('a symlink at gateway.pid is not followed: reported, its target never read', async () => {
    const s = makeScratch();
    const root = s.root('argus');
    const home = profileHome(root, 'argus');
    const gw = await startFake(s.dir, ['-p', 'argus', 'gateway', 'run'], { HOME: path.dirname(root) });
    const target = path.join(s.dir, 'elsewhere.json');
    fs.writeFileSync(target, JSON.stringify({ pid: gw.pid, kind: 'hermes-gateway', start_time: gw.startTicks }));
    fs.symlinkSync(target, path.join(home, 'gateway.pid'));
    const r = cliProcess(['orphans', '--json', ...NO_S6, ...homesArgs(home)]);
    expect(r.signal).toBeNull();
    const report = JSON.parse(r.out) as Report;
    expect(report.findings.some((f) => f.code === 'IDENTITY_FILE_BAD' && f.message.includes('gateway.pid') && f.message.includes('is a symlink'))).toBe(true);
  }, 60_000);

  it('a FIFO at the audit log: --kill refuses the target at once and signals nothing', async () => {
    const s = makeScratch();
    const root = s.root();
    // A ghost: `-p ghosty` under a root without that profile folder; the kill step would end it.
    const ghost = await startFake(s.dir, ['-p', 'ghosty', 'gateway', 'run'], { HOME: path.dirname(root) });
    fs.mkdirSync(path.join(root, 'logs'));
    execFileSync('mkfifo', [path.join(root, 'logs', 'hermes-doctor.log')]);
    const r = cliProcess(['orphans', '--kill', '--yes', '--json', '--grace', '0', ...NO_S6, ...homesArgs(profileHome(root, 'ghosty'))]);
    expect(r.signal, `--kill hung on the FIFO: ${r.err}`).toBeNull();
    const report = JSON.parse(r.out) as Report;
    const a = report.actions!.find((x) => x.pid === ghost.pid)!;
    expect(a.outcome).toBe('refused');
    expect(a.reason).toMatch(/audit log unusable .*FIFO/);
    expect(ghost.alive()).toBe(true);
  }, 60_000);
});

// ------------------------------------------------------------------- hanging supervisor tools, deadline

/** A script that forks `sleep 1000`, writes the sleeper's PID to `pidfile` and hangs. */
function hangingScript(dir: string): { script: string; pidfile: string } {
  const pidfile = path.join(dir, `sleeper-${Math.random().toString(36).slice(2)}.pid`);
  const script = path.join(dir, 'hang.sh');
  fs.writeFileSync(script, `#!/bin/sh\nsleep 1000 &\necho $! >> "${pidfile}"\nwait\n`, { mode: 0o755 });
  return { script, pidfile };
}

/** The sleeper PIDs a hanging script wrote (one per run), recorded for cleanup. */
function sleepersOf(pidfile: string): number[] {
  const pids = fs.existsSync(pidfile) ? fs.readFileSync(pidfile, 'utf8').trim().split('\n').filter(Boolean).map(Number) : [];
  sleepers.push(...pids);
  return pids;
}

const sleepers: number[] = [];
afterEach(() => {
  for (const pid of sleepers.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      /* gone, as it should be */
    }
  }
});

describe.skipIf(requireOrSkip('Linux', linux))('a hanging external command', () => {
  it('on timeout the whole process group ends: the child it forked does not survive', async () => {
    const s = makeScratch();
    const { script, pidfile } = hangingScript(s.dir);
    const r = await execRunner(script, [], { timeoutMs: 500 });
    expect(r.error).toBe('timeout after 500 ms');
    const [sleeper] = sleepersOf(pidfile);
    expect(sleeper).toBeGreaterThan(1);
    await until(() => (!isAlive(sleeper!) ? true : null), 5_000, `the forked sleep (PID ${sleeper}) to be gone after the timeout`);
  }, 20_000);

  it.skipIf(!built)('a hanging s6-svstat that forked a child: the scan ends after --timeout, s6 is unknown, and no child survives the run', async () => {
    const s = makeScratch();
    const { script, pidfile } = hangingScript(s.dir);
    const bin = path.join(s.dir, 'bin');
    fs.mkdirSync(bin);
    fs.symlinkSync(script, path.join(bin, 's6-svstat'));
    const scandir = path.join(s.dir, 's6');
    fs.mkdirSync(path.join(scandir, 'gateway-argus'), { recursive: true });
    fs.writeFileSync(path.join(scandir, 'gateway-argus', 'run'), '#!/bin/sh\nexec hermes -p argus gateway run\n', { mode: 0o755 });
    const r = cliProcess(['orphans', '--json', '--timeout', '700', '--s6-scandir', scandir, ...homesArgs(s.root('argus'))], { env: { PATH: `${bin}:${MINIMAL_PATH}` } });
    expect(r.signal, `the scan hung: ${r.err}`).toBeNull();
    const s6 = (JSON.parse(r.out) as Report).supervisors.find((x) => x.kind === 's6')!;
    expect(s6.status).toBe('unknown');
    expect(s6.detail).toContain('timeout after 700 ms');
    const pids = sleepersOf(pidfile);
    expect(pids.length).toBeGreaterThan(0);
    // The run has exited: a child that outlived its group's timeout would now be reparented and alive.
    for (const pid of pids) expect(isAlive(pid), `sleep PID ${pid} forked by the hung s6-svstat`).toBe(false);
  }, 30_000);

  it('--deadline bounds the whole scan: every command hangs, the run ends in time and the supervisors are unknown', async () => {
    const s = makeScratch();
    const { script, pidfile } = hangingScript(s.dir);
    const runner = (_f: string, _a: readonly string[], o?: { timeoutMs?: number }) => execRunner(script, [], o);
    const started = Date.now();
    // systemdMarker '/' exists: systemd is taken as booted, so systemctl (here: the hanging script) is asked.
    const r = await runCli(['orphans', '--json', '--timeout', '600000', '--deadline', '1500', ...NO_S6, ...homesArgs(s.root())], { scan: { runner, systemdMarker: '/' } });
    const ms = Date.now() - started;
    expect(ms).toBeLessThan(6_000);
    const report = JSON.parse(r.out) as Report;
    const systemd = report.supervisors.find((x) => x.kind === 'systemd')!;
    expect(systemd.status).toBe('unknown');
    expect(systemd.detail).toMatch(/timeout after \d+ ms/);
    expect(report.findings.some((f) => f.code === 'SUPERVISOR_UNKNOWN')).toBe(true);
    const pids = sleepersOf(pidfile);
    expect(pids.length).toBeGreaterThan(0);
    for (const pid of pids) await until(() => (!isAlive(pid) ? true : null), 5_000, `the forked sleep (PID ${pid}) to be gone`);
  }, 30_000);

  it('a scan that cannot finish by --deadline ends the run with exit 3 and says so', async () => {
    const never = () => new Promise<never>(() => {});
    const started = Date.now();
    const r = await runCli(['orphans', '--json', '--deadline', '500', ...NO_S6, ...homesArgs(makeScratch().root())], { scan: { runner: never, systemdMarker: '/' } });
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(r.code).toBe(3);
    expect(r.err).toContain('did not finish within --deadline 500 ms');
  }, 20_000);
});

// ----------------------------------------------------------------------------- numeric flags

describe('numeric flags: integers in their documented range, else a usage error (exit 3) naming it', () => {
  const cases: [string[], RegExp][] = [
    [['orphans', '--timeout', '0'], /--timeout takes a whole number from 1 to 600000 \(ms\), not "0"/],
    [['orphans', '--timeout', '1e12'], /--timeout takes a whole number from 1 to 600000/],
    [['orphans', '--timeout', '600001'], /--timeout takes a whole number from 1 to 600000/],
    [['guard', '--timeout', '-1'], /--timeout takes a whole number from 1 to 600000/],
    [['snapshot', '--timeout', 'soon'], /--timeout takes a whole number/],
    [['orphans', '--deadline', '0'], /--deadline takes a whole number from 100 to 3600000/],
    [['orphans', '--kill', '--dry-run', '--pid', '0'], /--pid takes a whole number from 1 to 4194304, not "0"/],
    [['orphans', '--kill', '--dry-run', '--pid', '-5'], /--pid takes a whole number from 1 to 4194304/],
    [['orphans', '--kill', '--dry-run', '--pid', '4194305'], /--pid takes a whole number from 1 to 4194304/],
    [['orphans', '--kill', '--dry-run', '--grace', '-1'], /--grace takes seconds from 0 to 3600/],
    [['orphans', '--kill', '--dry-run', '--grace', '1e9'], /--grace takes seconds from 0 to 3600/],
    [['schedule', 'print', '--via', 'cron', '--every', '8d'], /--every .*1s to 7d/],
  ];
  for (const [args, message] of cases) {
    it(`${args.join(' ')} → exit 3`, async () => {
      const r = await runCli([...args, ...NO_S6.filter(() => args[0] !== 'schedule')]);
      expect(r.code).toBe(3);
      expect(r.err).toMatch(message);
      expect(r.out).toBe('');
    });
  }

  it('values inside the ranges are accepted', async () => {
    const s = makeScratch();
    const r = await runCli(['orphans', '--json', '--timeout', '600000', '--deadline', '3600000', ...NO_S6, ...homesArgs(s.root())]);
    expect(r.err).not.toMatch(/takes/);
    expect([0, 1, 3]).toContain(r.code);
    const k = await runCli(['orphans', '--kill', '--dry-run', '--json', '--grace', '0.5', '--pid', '4194304', ...NO_S6, ...homesArgs(s.root())]);
    expect(k.err).not.toMatch(/takes/);
    expect((JSON.parse(k.out) as Report).actions?.[0]?.reason).toMatch(/4194304|not/);
  }, 30_000);
});

// ------------------------------------------------------------- 4. never a harmful verdict from what could not be read

describe.skipIf(requireOrSkip('Linux, root, python3, setpriv and a build (npm run build)', linux && isRoot() && hasPython3() && hasBinary('setpriv') && built))('as a non-root caller', () => {
  it('a gateway whose home is guessed and cannot be checked (root environ, /root 0700) is unknown, never a ghost, and no remedy stops it', async () => {
    const s = makeScratch();
    const root = s.root('argus');
    // Root's process: as nobody its environ and fds are unreadable, so the home is guessed from passwd (/root/.hermes/profiles/argus).
    const gw = await startFake(s.dir, ['-p', 'argus', 'gateway', 'run'], { HOME: path.dirname(root) });
    const r = cliProcess(['orphans', '--json', '--all-users', ...NO_S6], { uid: 65534 });
    expect(r.signal).toBeNull();
    const report = JSON.parse(r.out) as Report;
    const p = verdictOf(report, gw.pid);
    expect(p.verdict).toBe('unknown');
    expect(report.findings.filter((f) => f.pid === gw.pid).every((f) => f.remedy === null)).toBe(true);
    expect(report.findings.some((f) => f.code === 'RIVAL_WRITERS' || f.code === 'GHOST_GATEWAY')).toBe(false);
  }, 60_000);

  it.skipIf(requireOrSkip('s6 (apt-get install -y s6)', hasS6()))('the s6-supervised slot gateway, seen by a non-root caller with --all-users, stays supervised: no ghost, no critical, no remedy that stops it', async () => {
    const s = makeScratch();
    const root = s.root('argus');
    const tree = await startS6Tree(path.join(s.dir, 'service'));
    const slot = await addGatewaySlot(tree, { profile: 'argus', root });
    const r = cliProcess(['orphans', '--json', '--all-users', '--s6-scandir', tree.scanDir], { uid: 65534 });
    expect(r.signal).toBeNull();
    const report = JSON.parse(r.out) as Report;
    const p = verdictOf(report, slot.pid);
    expect(p.verdict).toBe('supervised');
    expect(report.findings.filter((f) => f.pid === slot.pid).every((f) => f.remedy === null)).toBe(true);
    expect(report.findings.some((f) => f.code === 'RIVAL_WRITERS' || f.code === 'GHOST_GATEWAY')).toBe(false);
    expect(report.summary.critical).toBe(0);
  }, 90_000);

  it('a home behind a folder it may not enter has an access error, not "no longer exists"', () => {
    const s = makeScratch();
    const locked = path.join(s.dir, 'locked');
    fs.mkdirSync(path.join(locked, '.hermes', 'profiles', 'argus'), { recursive: true });
    fs.chmodSync(s.dir, 0o755);
    fs.chmodSync(locked, 0o700);
    const runRoot = path.dirname(path.dirname(cliBinFor(65534)));
    const code = `import(${JSON.stringify(path.join(runRoot, 'dist', 'sources', 'homes.js'))}).then((m) => process.stdout.write(JSON.stringify(m.readHome(${JSON.stringify(path.join(locked, '.hermes', 'profiles', 'argus'))}))))`;
    const out = execFileSync('setpriv', ['--reuid', '65534', '--regid', '65534', '--clear-groups', process.execPath, '-e', code], { encoding: 'utf8', timeout: 20_000, cwd: '/' });
    const rec = JSON.parse(out) as { exists: boolean; accessError?: string };
    expect(rec.accessError).toMatch(/EACCES/);
  }, 30_000);
});

describe.skipIf(requireOrSkip('Linux and python3', linux && hasPython3()))('what Hermes could not have, and what changed while waiting', () => {
  it('a profile name outside Hermes\'s id format is unknown, never a ghost, never a kill target', async () => {
    const s = makeScratch();
    const root = s.root();
    const bad = await startFake(s.dir, ['-p', 'Argus\x1b[2J', 'gateway', 'run'], { HOME: path.dirname(root) });
    const r = await runCli(['orphans', '--kill', '--dry-run', '--json', '--all-users', ...NO_S6]);
    const report = JSON.parse(r.out) as Report;
    const p = verdictOf(report, bad.pid);
    expect(p.verdict).toBe('unknown');
    expect(p.reasons.join(' ')).toMatch(/not a Hermes profile id/);
    expect(report.actions?.find((a) => a.pid === bad.pid && a.outcome === 'planned')).toBeUndefined();
  }, 60_000);

  it('--kill: a target that ignores SIGTERM and changes its argv during the grace is skipped, not "terminated", and gets no SIGKILL', async () => {
    const s = makeScratch();
    const root = s.root();
    const ghost = await startFake(s.dir, ['-p', 'ghosty', 'gateway', 'run'], { HOME: path.dirname(root), ADV_EXEC_ON_TERM: '1' });
    const r = await runCli(['orphans', '--kill', '--yes', '--json', '--grace', '0.5', ...NO_S6, ...homesArgs(profileHome(root, 'ghosty'))]);
    const report = JSON.parse(r.out) as Report;
    const a = report.actions!.find((x) => x.pid === ghost.pid)!;
    expect(a.signals).toEqual(['SIGTERM']);
    expect(a.outcome).toBe('skipped');
    expect(a.reason).toMatch(/argv changed.*still running with the same PID and start time/);
    // Still the same process (now `sleep 1000`): nothing more was sent.
    expect(isAlive(ghost.pid, readStartTicks(ghost.pid) ?? -2)).toBe(true);
    expect(readStartTicks(ghost.pid)).toBe(ghost.startTicks);
  }, 60_000);
});

// ---------------------------------------------------------------- 7. the shell hook sees every spelling

const shells = ['bash', 'zsh', 'fish'] as const;
const shellArgs: Record<(typeof shells)[number], string[]> = { bash: ['--norc', '--noprofile', '-c'], zsh: ['-f', '-c'], fish: ['--no-config', '-c'] };

describe.skipIf(requireOrSkip('bash, zsh and fish (apt-get install -y zsh fish)', shells.every((x) => hasBinary(x))))('shell hooks: the profile flag anywhere, in every spelling Hermes accepts', () => {
  for (const sh of shells) {
    it(`${sh}`, () => {
      const s = makeScratch();
      const bin = path.join(s.dir, 'bin');
      fs.mkdirSync(bin);
      fs.writeFileSync(path.join(bin, 'hermes'), '#!/bin/sh\necho "PLAIN $*"\n', { mode: 0o755 });
      const guard = path.join(s.dir, 'guard');
      fs.writeFileSync(guard, '#!/bin/sh\necho "GUARDED $*"\n', { mode: 0o755 });
      const hook = path.join(s.dir, `hook.${sh}`);
      fs.writeFileSync(hook, shellHook(sh, [guard]));
      const guarded = [
        'gateway --profile argus run --replace',
        'gateway -p argus restart',
        '--profile=argus gateway start',
        'gateway -p=argus run',
        '-p gateway gateway run',
        'gateway run --profile argus',
        '-p argus gateway',
      ];
      const plain = ['gateway --profile argus status', '-p argus gateway status', '--profile run kanban list', '-p argus chat'];
      const script = `source ${hook}; ${[...guarded, ...plain].map((c) => `hermes ${c}`).join('; ')}`;
      const out = execFileSync(sh, [...shellArgs[sh], script], { env: { PATH: `${bin}:${MINIMAL_PATH}`, HOME: s.dir }, encoding: 'utf8', timeout: 20_000 });
      const lines = out.trim().split('\n');
      for (const c of guarded) expect(lines, c).toContain(`GUARDED guard -- hermes ${c}`);
      for (const c of plain) expect(lines, c).toContain(`PLAIN ${c}`);
    }, 30_000);
  }
});
