/**
 * `hermes-doctor guard` off systemd: the pure decision on hand-built inputs, a host with no
 * supervisor (allow), a real s6 tree (refuse from a shell, allow from inside the slot), COMMAND's exit
 * code and forwarded SIGTERM, and the shell hooks run in real bash, zsh and fish with a fake `hermes`
 * on PATH. The real-systemd half is test/guard-systemd.test.ts.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type GuardCaller, type GuardDecision, callerInside, decideGuard, resolveGuardTarget } from '../src/core/guard.js';
import type { HomeSupervisor } from '../src/core/supervision.js';
import type { ProcessVerdict, Report } from '../src/types.js';
import { parseGuardV1 } from './guard-contract.js';
import { NO_S6, runCli } from './harness/cli.js';
import { CLI_BIN as CLI, MINIMAL_PATH, startProcess, waitFor } from './harness/processes.js';
import { addGatewaySlot, startS6Tree } from './harness/s6.js';
import { cleanUpAfterEach } from './harness/cleanup.js';
import { cleanupAllScratch, makeScratch, profileHome } from './harness/scratch.js';
import { hasBinary, hasPython3, hasS6, isLinux, requireOrSkip } from './harness/skip.js';

const NO_SYSTEMD = { systemdMarker: '/nonexistent/hermes-doctor-no-systemd' };

/** Runs the real CLI in-process with no systemd on the host. */
const cli = (args: string[]) => runCli(args, { scan: NO_SYSTEMD });

// ------------------------------------------------------------------------------------------ pure

const outsider: GuardCaller = {
  pid: 500,
  cgroups: [{ hierarchy: 0, controllers: '', path: '/user.slice/user-0.slice/session-3.scope' }],
  ancestors: [{ pid: 400, argv: ['-bash'] }, { pid: 1, argv: ['/sbin/init'] }],
  invocationId: true,
};
const unitSup: HomeSupervisor = {
  kind: 'systemd', unit: 'hermes-gateway-argus.service', mainPid: 42, state: 'active/running',
  restart: 'systemctl restart hermes-gateway-argus.service', controlGroup: '/system.slice/hermes-gateway-argus.service',
};
const slotSup: HomeSupervisor = { kind: 's6', unit: 'gateway-argus', mainPid: 77, state: 'up', restart: 's6-svc -r /run/service/gateway-argus' };
const jobSup: HomeSupervisor = { kind: 'launchd', unit: 'ai.hermes.gateway-argus', mainPid: 88, state: 'running', restart: 'launchctl kickstart -k gui/501/ai.hermes.gateway-argus' };

function pv(pid: number, verdict: ProcessVerdict['verdict'], over: Partial<ProcessVerdict> = {}): ProcessVerdict {
  return {
    pid, ppid: 1, uid: 0, startTicks: 1, startTime: null, argv: ['python3', '-m', 'hermes_cli.main', '-p', 'argus', 'gateway', 'run', '--replace'],
    role: 'gateway', hermesHome: '/root/.hermes/profiles/argus', homeSource: 'argv -p argus', profile: 'argus', kanbanRoot: '/root/.hermes',
    supervisor: null, verdict, reasons: [], handles: [], tty: null, sid: pid, ...over,
  };
}

function report(processes: ProcessVerdict[]): Report {
  return {
    schema: 'hermes-doctor.orphans/v1', takenAt: '2026-11-23T00:00:00.000Z', hostname: 't', processes, kanban: [], findings: [], supervisors: [],
    summary: { processes: processes.length, byVerdict: {}, critical: 0, unknown: 0, warnings: 0, exitCode: 0, scanMs: 1 },
  };
}

const target = { home: '/root/.hermes/profiles/argus', root: '/root/.hermes', source: 'argv -p argus', command: ['hermes', '-p', 'argus', 'gateway', 'run', '--replace'] };
const decide = (over: Partial<Parameters<typeof decideGuard>[0]> = {}): GuardDecision =>
  decideGuard({ report: report([]), supervisors: [unitSup], target, caller: outsider, judged: true, force: false, ...over });

describe('guard decision (pure)', () => {
  it('refuses from a shell outside the unit, names the unit and `systemctl restart UNIT`; INVOCATION_ID proves nothing', () => {
    const d = decide();
    expect(d.exitCode).toBe(1);
    expect(d.allowed).toBe(false);
    expect(d.inside).toBeNull();
    expect(d.problems[0]).toContain('hermes-gateway-argus.service (systemd, active/running, MainPID 42) supervises /root/.hermes/profiles/argus');
    expect(d.problems[0]).toContain('cgroup /user.slice/user-0.slice/session-3.scope is not in /system.slice/hermes-gateway-argus.service');
    expect(d.problems[0]).toContain('INVOCATION_ID is set but proves nothing');
    expect(d.remedies).toEqual(['systemctl restart hermes-gateway-argus.service']);
  });

  it('the right command for every supervisor kind: s6-svc -r, launchctl kickstart -k, systemctl --user', () => {
    expect(decide({ supervisors: [slotSup] }).remedies).toEqual(['s6-svc -r /run/service/gateway-argus']);
    expect(decide({ supervisors: [jobSup] }).remedies).toEqual(['launchctl kickstart -k gui/501/ai.hermes.gateway-argus']);
    const user = { ...unitSup, restart: 'systemctl --user restart hermes-gateway-argus.service' };
    expect(decide({ supervisors: [user] }).remedies).toEqual(['systemctl --user restart hermes-gateway-argus.service']);
  });

  it('allows inside: by the own cgroup (v2 or v1 name=systemd), by an ancestor that is MainPID, s6-supervise SLOT or the job PID', () => {
    const v2 = { ...outsider, cgroups: [{ hierarchy: 0, controllers: '', path: '/system.slice/hermes-gateway-argus.service' }] };
    expect(decide({ caller: v2 })).toMatchObject({ exitCode: 0, inside: { unit: 'hermes-gateway-argus.service', via: expect.stringContaining('cgroup') } });
    const v1 = { ...outsider, cgroups: [{ hierarchy: 1, controllers: 'name=systemd', path: '/system.slice/hermes-gateway-argus.service/sub' }] };
    expect(decide({ caller: v1 }).exitCode).toBe(0);
    const child = { ...outsider, ancestors: [{ pid: 42, argv: ['python3'] }, ...outsider.ancestors] };
    expect(callerInside(unitSup, child)?.via).toBe('its ancestor PID 42 is the MainPID of hermes-gateway-argus.service');
    const s6child = { ...outsider, ancestors: [{ pid: 900, argv: ['s6-supervise', 'gateway-argus'] }] };
    expect(decide({ supervisors: [slotSup], caller: s6child }).exitCode).toBe(0);
    expect(callerInside(slotSup, { ...outsider, ancestors: [{ pid: 900, argv: ['s6-supervise', 'gateway-other'] }] })).toBeNull();
    expect(decide({ supervisors: [jobSup], caller: { ...outsider, ancestors: [{ pid: 88, argv: ['python3'] }] } }).exitCode).toBe(0);
    // a sibling cgroup with the same prefix is not inside
    const sibling = { ...outsider, cgroups: [{ hierarchy: 0, controllers: '', path: '/system.slice/hermes-gateway-argus.service2' }] };
    expect(decide({ caller: sibling }).exitCode).toBe(1);
  });

  it('refuses with orphans, duplicates or a rival dispatcher on the home or kanban root, even from inside, with the --kill remedy', () => {
    const inside = { ...outsider, cgroups: [{ hierarchy: 0, controllers: '', path: '/system.slice/hermes-gateway-argus.service' }] };
    const procs = [
      pv(10, 'supervised'),
      pv(11, 'orphan'),
      pv(12, 'duplicate', { hermesHome: '/root/.hermes', profile: 'default' }),
      pv(13, 'orphan', { role: 'dispatcher-daemon', hermesHome: null }),
      pv(14, 'orphan', { hermesHome: '/other/.hermes', kanbanRoot: '/other/.hermes' }),
      pv(15, 'stray-holder', { role: 'stray-holder' }),
    ];
    const d = decide({ caller: inside, report: report(procs) });
    expect(d.inside).not.toBeNull();
    expect(d.exitCode).toBe(1);
    expect(d.rivals.map((r) => r.pid)).toEqual([11, 12, 13]);
    expect(d.remedies[0]).toBe('hermes-doctor orphans --kill --pid 11 12 13');
    expect(d.problems[0]).toContain('a --replace only sees the gateway.pid process');
    // the caller's own ancestors are never rivals
    expect(decide({ caller: { ...inside, ancestors: [{ pid: 11, argv: [] }] }, report: report([pv(11, 'orphan')]) }).exitCode).toBe(0);
  });

  it('--force turns a refusal into a warning; no supervisor and no rival allows; an unjudged command is not checked', () => {
    expect(decide({ force: true })).toMatchObject({ exitCode: 0, allowed: true, forced: true });
    expect(decide({ supervisors: [] })).toMatchObject({ exitCode: 0, allowed: true, forced: false, problems: [] });
    expect(decide({ judged: false, report: report([pv(11, 'orphan')]) }).exitCode).toBe(0);
  });

  it('reads the target like Hermes: --home, --profile, argv -p/--profile, env HERMES_HOME, active_profile, and judges only gateway run|restart|start', () => {
    const base = { command: null, env: { HOME: '/home/m' }, userHome: null, activeProfile: () => null };
    expect(resolveGuardTarget({ ...base, home: '/x/.hermes/profiles/a/' }).target).toMatchObject({ home: '/x/.hermes/profiles/a', root: '/x/.hermes', source: '--home' });
    expect(resolveGuardTarget({ ...base, profile: 'argus' }).target.home).toBe('/home/m/.hermes/profiles/argus');
    expect(resolveGuardTarget({ ...base, profile: 'default' }).target.home).toBe('/home/m/.hermes');
    const t = (command: string[], env: Record<string, string> = { HOME: '/home/m' }, active: string | null = null) =>
      resolveGuardTarget({ ...base, command, env, activeProfile: () => active });
    expect(t(['hermes', 'gateway', 'restart', '--profile', 'argus'])).toMatchObject({ judged: true, target: { home: '/home/m/.hermes/profiles/argus', source: 'argv -p argus' } });
    expect(t(['python3', '-m', 'hermes_cli.main', '-p=argus', 'gateway', 'run', '--replace']).target.home).toBe('/home/m/.hermes/profiles/argus');
    expect(t(['hermes', 'gateway', 'run'], { HOME: '/home/m', HERMES_HOME: '/srv/h/profiles/b' }).target).toMatchObject({ home: '/srv/h/profiles/b', source: 'env HERMES_HOME' });
    expect(t(['hermes', '-p', 'c', 'gateway', 'run'], { HOME: '/home/m', HERMES_HOME: '/srv/h' }).target.home).toBe('/srv/h/profiles/c');
    expect(t(['hermes', 'gateway', 'run'], { HOME: '/home/m' }, 'sticky').target).toMatchObject({ home: '/home/m/.hermes/profiles/sticky' });
    expect(t(['hermes', 'gateway', 'run'], { HOME: '/home/m', INVOCATION_ID: 'x' }, 'sticky').target.home).toBe('/home/m/.hermes');
    expect(t(['hermes', 'gateway', 'start']).judged).toBe(true);
    expect(t(['hermes', 'gateway', 'status']).judged).toBe(false);
    expect(t(['hermes', 'status']).judged).toBe(false);
    expect(t(['/usr/local/bin/start-my-gateway.sh']).judged).toBe(true);
    expect(() => resolveGuardTarget({ ...base, env: {} })).toThrow(/HOME is not set/);
  });
});

// ------------------------------------------------------------------------------------ live host

const ready = isLinux() && hasPython3();

describe.skipIf(requireOrSkip('Linux /proc and python3', ready))('guard on this host (no supervisor)', () => {
  cleanUpAfterEach();

  it('allows on a host with no supervisor (exit 0) and says why; --json follows hermes-doctor.guard/v1', async () => {
    const root = makeScratch().root('argus');
    const r = await cli(['guard', '--home', profileHome(root, 'argus'), ...NO_S6]);
    expect(r.code).toBe(0);
    expect(r.err).toContain('no supervisor owns it');
    const j = await cli(['guard', '--json', '--profile', 'argus', ...NO_S6]);
    const d = parseGuardV1<GuardDecision>(j.out);
    expect(d).toMatchObject({ schema: 'hermes-doctor.guard/v1', allowed: true, exitCode: 0, supervisors: [], rivals: [] });
    expect(j.code).toBe(0);
  });

  it('usage errors exit 3: --home with --profile, an unknown shell, nothing after --', async () => {
    expect((await cli(['guard', '--home', '/a', '--profile', 'b'])).code).toBe(3);
    expect((await cli(['guard', '--shell-hook', 'tcsh'])).code).toBe(3);
    expect((await cli(['guard', '--home', '/a', '--'])).code).toBe(3);
    expect((await cli(['guard', '--shell-hook', 'bash', '--', 'hermes'])).code).toBe(3);
  });

  it('passes COMMAND its stdio and exit code through (7; 128+15 for a SIGTERM death; 127 for a missing program)', async () => {
    const root = makeScratch().root();
    expect((await cli(['guard', '--home', root, ...NO_S6, '--', 'sh', '-c', 'exit 7'])).code).toBe(7);
    expect((await cli(['guard', '--home', root, ...NO_S6, '--', 'sh', '-c', 'kill -TERM $$'])).code).toBe(143);
    expect((await cli(['guard', '--home', root, ...NO_S6, '--', '/nonexistent/hermes-doctor-no-such-program'])).code).toBe(127);
    // COMMAND's own options are its own, not the guard's
    const out = path.join(root, 'out.txt');
    expect((await cli(['guard', '--home', root, ...NO_S6, '--', 'sh', '-c', `echo "$@" > ${out}`, 'sh', '--json', '--home', 'x'])).code).toBe(0);
    expect(fs.readFileSync(out, 'utf8').trim()).toBe('--json --home x');
  });

  it('forwards SIGTERM (and SIGINT) to COMMAND and exits with its code', async () => {
    const root = makeScratch().root();
    const script = [
      // The handler may run while the main thread is still inside print("ready"): a print there is a
      // reentrant call on the same BufferedWriter (RuntimeError), so it writes the fd directly.
      'import os, signal, sys, time',
      'def h(n, f):',
      '    os.write(1, ("got %s\\n" % signal.Signals(n).name).encode()); os._exit(40 + (n == signal.SIGTERM) * 2)',
      'signal.signal(signal.SIGTERM, h); signal.signal(signal.SIGINT, h)',
      'print("ready", flush=True)',
      'time.sleep(60)',
    ].join('\n');
    for (const [sig, want] of [['SIGTERM', 42], ['SIGINT', 40]] as const) {
      const g = startProcess([process.execPath, CLI, 'guard', '--home', root, ...NO_S6, '--', '/usr/bin/python3', '-c', script], { env: { HOME: path.dirname(root) } });
      await waitFor(() => g.output().stdout.includes('ready'), 20_000, 'the guarded command to start');
      g.signal(sig); // the guard: a process this test started, by PID
      const exit = await g.exited!;
      expect(g.output().stdout).toContain(`got ${sig}`);
      expect(exit.code).toBe(want);
    }
  }, 60_000);

  describe.skipIf(requireOrSkip('s6 (apt-get install -y s6)', hasS6()))('with a real s6 tree', () => {
    it('refuses from a shell for a slot’s home and names `s6-svc -r SCAN/gateway-P`; allows from inside the slot (its run script)', async () => {
      const scratch = makeScratch();
      const root = scratch.root('argus');
      const home = profileHome(root, 'argus');
      const tree = await startS6Tree(path.join(scratch.dir, 'service'));
      const slot = await addGatewaySlot(tree, { profile: 'argus', root });
      const r = await cli(['guard', '--home', home, '--s6-scandir', tree.scanDir, '--no-color', '--', 'hermes', '-p', 'argus', 'gateway', 'run', '--replace']);
      expect(r.code).toBe(1);
      expect(r.err).toContain(`REFUSED`);
      expect(r.err).toContain(`gateway-argus (s6, up, PID ${slot.pid}) supervises ${home}`);
      expect(r.err).toContain(`s6-svc -r ${tree.scanDir}/gateway-argus`);
      const forced = await cli(['guard', '--force', '--home', home, '--s6-scandir', tree.scanDir, '--no-color', '--', 'sh', '-c', 'exit 5']);
      expect(forced.err).toContain('WARNING (--force)');
      expect(forced.code).toBe(5);

      // Inside: a slot whose run script asks the guard first (the guard's ancestor is s6-supervise gateway-inside).
      const inHome = profileHome(root, 'inside');
      fs.mkdirSync(inHome, { recursive: true });
      const slotDir = path.join(tree.scanDir, 'gateway-inside');
      fs.mkdirSync(slotDir);
      const verdict = path.join(scratch.dir, 'inside.json');
      fs.writeFileSync(
        path.join(slotDir, 'run'),
        `#!/bin/sh\nexport HERMES_HOME=${root}\n${process.execPath} ${CLI} guard --json --home ${inHome} --s6-scandir ${tree.scanDir} > ${verdict}.tmp 2>&1; echo "exit=$?" >> ${verdict}.tmp; mv ${verdict}.tmp ${verdict}\nexec sleep 300\n`,
        { mode: 0o755 },
      );
      execFileSync('/usr/bin/s6-svscanctl', ['-a', tree.scanDir]);
      await waitFor(() => fs.existsSync(verdict), 30_000, 'the guard inside the slot to answer');
      const text = fs.readFileSync(verdict, 'utf8');
      expect(text).toContain('exit=0');
      const d = parseGuardV1<GuardDecision>(text.slice(0, text.lastIndexOf('exit=')));
      expect(d.inside).toMatchObject({ kind: 's6', unit: 'gateway-inside' });
      expect(d.allowed).toBe(true);
    }, 90_000);
  });
});

// ------------------------------------------------------------------------------------ shell hooks

const shells = ['bash', 'zsh', 'fish'] as const;
const shellArgs: Record<(typeof shells)[number], string[]> = {
  bash: ['--norc', '--noprofile', '-c'],
  zsh: ['-f', '-c'],
  fish: ['--no-config', '-c'],
};

describe.skipIf(requireOrSkip('Linux, python3, bash, zsh and fish (apt-get install -y zsh fish)', ready && shells.every((s) => hasBinary(s))))('shell hooks in real shells', () => {
  afterAll(() => cleanupAllScratch());

  for (const sh of shells) {
    it(`${sh}: \`hermes … gateway run|restart|start\` go through the guard, other subcommands do not`, async () => {
      const scratch = makeScratch();
      const root = scratch.root('argus');
      const bin = path.join(scratch.dir, 'bin');
      fs.mkdirSync(bin);
      const log = path.join(scratch.dir, 'hermes.log');
      // The fake `hermes` logs its argv and its parent's argv: the guard (node … guard) or the shell itself.
      fs.writeFileSync(path.join(bin, 'hermes'), `#!/bin/sh\nprintf '%s|%s\\n' "$*" "$(tr '\\0' ' ' < /proc/$PPID/cmdline)" >> ${log}\nexit 0\n`, { mode: 0o755 });
      const hook = path.join(scratch.dir, `hook.${sh}`);
      const printed = await cli(['guard', '--shell-hook', sh]);
      expect(printed.code).toBe(0);
      fs.writeFileSync(hook, printed.out);
      const calls = [
        `hermes -p argus gateway run --replace`,
        `hermes gateway restart --profile argus`,
        `hermes gateway start`,
        `hermes status`,
        `hermes gateway status`,
        `hermes chat -q 'gateway run'`,
        `hermes -p argus kanban list`,
      ];
      const script = `source ${hook}; ${calls.join('; ')}`;
      const out = execFileSync(sh, [...shellArgs[sh], script], {
        env: { PATH: `${bin}:${MINIMAL_PATH}`, HOME: path.dirname(root), NO_COLOR: '1', LANG: 'C.UTF-8' },
        encoding: 'utf8',
        timeout: 60_000,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      void out;
      const lines = fs.readFileSync(log, 'utf8').trim().split('\n').map((l) => l.split('|'));
      const byArgs = new Map(lines.map(([a, parent]) => [a!, parent!]));
      const viaGuard = (args: string) => {
        const parent = byArgs.get(args);
        if (parent === undefined) throw new Error(`hermes ${args} did not run: ${JSON.stringify(lines)}`);
        return parent.includes(`${CLI} guard -- hermes`);
      };
      expect(viaGuard('-p argus gateway run --replace')).toBe(true);
      expect(viaGuard('gateway restart --profile argus')).toBe(true);
      expect(viaGuard('gateway start')).toBe(true);
      expect(viaGuard('status')).toBe(false);
      expect(viaGuard('gateway status')).toBe(false);
      expect(viaGuard('chat -q gateway run')).toBe(false);
      expect(viaGuard('-p argus kanban list')).toBe(false);
    }, 90_000);
  }
});

describe('guard decision: what it cannot see', () => {
  it('an unknown supervisor is a warning in the decision, not a silent allow', () => {
    const r = { ...report([]), supervisors: [{ kind: 'systemd', status: 'unknown' as const, detail: 'systemctl failed: timeout after 3000 ms' }] };
    const d = decideGuard({ report: r, supervisors: [], target, caller: outsider, judged: true, force: false });
    expect(d.exitCode).toBe(0);
    expect(d.warnings).toEqual(['systemd is unknown (systemctl failed: timeout after 3000 ms): a systemd supervisor of this home would be missed']);
  });
});
