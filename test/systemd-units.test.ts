/**
 * systemd ownership from recorded outputs: what cannot run on this machine — user managers
 * (`systemd --user`), cgroup v1 layouts, a unit in seed 003's CHDIR crash loop seen by a user manager —
 * replayed from fixtures/systemd-user/ (see its README for where each format comes from). The live
 * system-manager behaviour is covered on a real systemd in test/systemd-e2e.test.ts.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { classify } from '../src/core/classify.js';
import { crashLoopReason } from '../src/core/supervision.js';
import { recordedRunner } from '../src/sources/runner.js';
import { cgroupUnit, missingUnitPaths, observeSystemd, parseSystemctlShow, SYSTEMD_PROPS } from '../src/sources/supervisors/systemd.js';
import { parseCgroup } from '../src/sources/linux/procfs.js';
import { renderTable } from '../src/output/table.js';
import type { CgroupLine, HostSnapshot, ProcessRecord, SupervisorObservation } from '../src/types.js';
import { assertOrphansV1 } from './contract.js';
import { FIXTURES } from './harness/fixtures.js';
import { home, proc as baseProc, snapshot as hostSnapshot } from './harness/records.js';

const FIX = path.join(FIXTURES, 'systemd-user');
const fx = (name: string) => fs.readFileSync(path.join(FIX, name), 'utf8');
const cg = (name: string): CgroupLine[] => parseCgroup(fx(name));

const LIST = ['list-units', '--all', '--plain', '--no-legend', '--no-pager', '--type=service', 'hermes*'];
const FILES = ['list-unit-files', '--plain', '--no-legend', '--no-pager', '--type=service', 'hermes*'];
const USER = ['--user', '--machine=michel@'];
const showKey = (m: string[], units: string[]) =>
  ['systemctl', ...m, 'show', '--no-pager', ...SYSTEMD_PROPS.map((p) => `--property=${p}`), ...units].join(' ');

function recorded() {
  return recordedRunner({
    [['systemctl', ...LIST].join(' ')]: { stdout: '' },
    [['systemctl', ...FILES].join(' ')]: { stdout: '' },
    [['systemctl', ...USER, ...LIST].join(' ')]: { stdout: fx('systemctl-user-list-units.txt') },
    [['systemctl', ...USER, ...FILES].join(' ')]: { stdout: fx('systemctl-user-list-unit-files.txt') },
    [showKey(USER, ['hermes-gateway-argus.service', 'hermes-gateway.service'])]: { stdout: fx('systemctl-user-show.txt') },
  });
}

/** Everything exists except the deleted worktree the argus unit still points at (seed 003). */
const exists = (p: string) => !p.includes('/.worktrees/');

async function observeUser(): Promise<SupervisorObservation> {
  const marker = fs.mkdtempSync(path.join(process.env.TMPDIR ?? '/tmp', 'hd-booted-'));
  try {
    return await observeSystemd({
      runner: recorded(),
      timeoutMs: 1000,
      cgroupUnits: [],
      userUnits: [{ uid: 1000, units: ['hermes-gateway.service'] }],
      userNames: { '1000': 'michel' },
      selfUid: 0,
      bootedMarker: marker,
      pathExists: exists,
    });
  } finally {
    fs.rmSync(marker, { recursive: true, force: true });
  }
}

/** A process of user 1000 with no cgroup lines unless given. */
const proc = (pid: number, argv: string[], over: Partial<ProcessRecord> = {}): ProcessRecord =>
  baseProc(pid, argv, { uid: 1000, comm: 'python', cgroups: [], ...over });

/** Michel's laptop: his root and argus profile, `systemd` beside no s6. */
const snapshot = (processes: ProcessRecord[], systemd: SupervisorObservation): HostSnapshot =>
  hostSnapshot({
    takenAt: '2026-11-23T09:00:00.000Z',
    hostname: 'laptop',
    processes,
    userHomes: { '1000': '/home/michel' },
    activeProfiles: { '/home/michel/.hermes': null },
    homes: [home('/home/michel/.hermes'), home('/home/michel/.hermes/profiles/argus')],
    supervisors: [systemd, { kind: 's6', status: 'absent', detail: 'none', s6Slots: [] }],
  });

const PY = '/home/michel/.hermes/hermes-agent/venv/bin/python';
const HOME_ENV = { HOME: '/home/michel' };

describe('cgroup paths as systemd lays them out', () => {
  it('v2 and v1 user units, a terminal scope, a worker scope, system units', () => {
    expect(cg('cgroup-v2-gateway.txt')).toEqual([{ hierarchy: 0, controllers: '', path: '/user.slice/user-1000.slice/user@1000.service/app.slice/hermes-gateway.service' }]);
    const v1 = cg('cgroup-v1-gateway.txt').find((l) => l.controllers === 'name=systemd')!;
    expect(cgroupUnit(v1.path)).toEqual({ unit: 'hermes-gateway.service', scope: 'user', uid: 1000 });
    expect(cgroupUnit(cg('cgroup-v2-gateway.txt')[0]!.path)).toEqual({ unit: 'hermes-gateway.service', scope: 'user', uid: 1000 });
    expect(cgroupUnit(cg('cgroup-v2-orphan.txt')[0]!.path)).toBeNull();
    expect(cgroupUnit(cg('cgroup-v2-worker.txt')[0]!.path)).toBeNull();
    expect(cgroupUnit('/user.slice/user-1000.slice/user@1000.service/init.scope')).toBeNull();
    expect(cgroupUnit('/user.slice/user-1000.slice/session-3.scope')).toBeNull();
    expect(cgroupUnit('/system.slice/hermes-michel.service')).toEqual({ unit: 'hermes-michel.service', scope: 'system' });
    expect(cgroupUnit('/system.slice/hermes.service/sub')).toEqual({ unit: 'hermes.service', scope: 'system' });
  });
});

describe('user manager outputs (recorded)', () => {
  it('systemctl --user --machine=USER@ show: units, scope, uid, Result, ExecMainStatus, missing WorkingDirectory', async () => {
    const obs = await observeUser();
    expect(obs.status).toBe('present');
    const units = obs.systemdUnits!;
    expect(units.map((u) => [u.unit, u.scope, u.uid])).toEqual([
      ['hermes-gateway-argus.service', 'user', 1000],
      ['hermes-gateway.service', 'user', 1000],
    ]);
    const argus = units[0]!;
    expect(argus).toMatchObject({ mainPid: 0, activeState: 'activating', subState: 'auto-restart', nRestarts: 153, result: 'exit-code', execMainStatus: 200 });
    expect(argus.hermesHome).toBe('/home/michel/.hermes/profiles/argus');
    expect(argus.missingPaths).toEqual(['/home/michel/src/hermes-agent/.worktrees/fix-cron']);
    expect(crashLoopReason(argus)).toMatch(/WorkingDirectory .*fix-cron no longer exists; last start failed with status=200\/CHDIR; restarted 153 times/);
    expect(units[1]!.missingPaths).toBeUndefined();
    expect(crashLoopReason(units[1]!)).toBeNull();
  });

  it('a user manager that cannot be asked makes systemd unknown only when a Hermes process sits in it', async () => {
    const marker = fs.mkdtempSync(path.join(process.env.TMPDIR ?? '/tmp', 'hd-booted-'));
    try {
      const runner = recordedRunner({
        [['systemctl', ...LIST].join(' ')]: { stdout: '' },
        [['systemctl', ...FILES].join(' ')]: { stdout: '' },
        [['systemctl', ...USER, ...LIST].join(' ')]: { code: 1, stderr: 'Failed to connect to bus: No medium found' },
        [['systemctl', ...USER, ...FILES].join(' ')]: { code: 1, stderr: 'Failed to connect to bus: No medium found' },
      });
      const base = { runner, timeoutMs: 1000, cgroupUnits: [], userNames: { '1000': 'michel' }, selfUid: 0, bootedMarker: marker };
      const inside = await observeSystemd({ ...base, userUnits: [{ uid: 1000, units: ['hermes-gateway.service'] }] });
      expect(inside.status).toBe('unknown');
      expect(inside.detail).toContain('No medium found');
      const probeOnly = await observeSystemd({ ...base, userUnits: [{ uid: 1000, units: [] }] });
      expect(probeOnly.status).toBe('present');
      expect(probeOnly.detail).toContain('user manager of UID 1000');
      // the scanner's own manager is asked without --machine
      const own = recordedRunner({});
      await observeSystemd({ ...base, runner: own, selfUid: 1000, userUnits: [{ uid: 1000, units: [] }] });
      expect(own.calls).toContain(['systemctl', '--user', ...LIST].join(' '));
    } finally {
      fs.rmSync(marker, { recursive: true, force: true });
    }
  });

  it('missingUnitPaths ignores `-` prefixed and specifier paths, checks absolute executables only', () => {
    const u = parseSystemctlShow(fx('systemctl-user-show.txt'), 'user', 1000)[0]!;
    expect(missingUnitPaths({ ...u, workingDirectory: '-/gone' }, () => false)).toEqual([PY]);
    expect(missingUnitPaths({ ...u, workingDirectory: '~', execStart: ['python3'] }, () => false)).toEqual([]);
  });
});

describe('ownership of user-unit gateways (recorded cgroups + recorded systemctl --user)', () => {
  it('MainPID (v1 host), a wrapped child in the cgroup, a worker scope, a terminal orphan, the crash-looping argus unit', async () => {
    const obs = await observeUser();
    const v1 = cg('cgroup-v1-gateway.txt');
    // The unit's MainPID is a wrapper (`doppler run --`), the gateway its child in the same cgroup.
    const wrapper = proc(4242, ['/usr/bin/doppler', 'run', '--', PY, '-m', 'hermes_cli.main', 'gateway', 'run'], { cgroups: v1, env: HOME_ENV });
    const gateway = proc(4250, [PY, '-m', 'hermes_cli.main', 'gateway', 'run'], { ppid: 4242, cgroups: v1, env: { ...HOME_ENV, INVOCATION_ID: 'abc' } });
    const worker = proc(4300, [PY, '-m', 'hermes_cli.main', 'chat', '-q', 'work kanban task t_1a2b3c'], {
      ppid: 4250, cgroups: cg('cgroup-v2-worker.txt'), env: { ...HOME_ENV, HERMES_KANBAN_TASK: 't_1a2b3c' },
    });
    // Typed in a desktop terminal: INVOCATION_ID is set there too (hermes-agent PR #85990) and proves nothing.
    const orphan = proc(5000, [PY, '-m', 'hermes_cli.main', 'gateway', 'run', '--replace'], {
      cgroups: cg('cgroup-v2-orphan.txt'), tty: 'pts/3', sid: 1234, env: { ...HOME_ENV, INVOCATION_ID: 'from-ptyxis' },
    });
    const r = classify(snapshot([wrapper, gateway, worker, orphan], obs));
    assertOrphansV1(JSON.parse(JSON.stringify(r)));
    const v = (pid: number) => r.processes.find((p) => p.pid === pid)!;
    expect(v(4250).verdict).toBe('supervised');
    expect(v(4250).supervisor).toMatchObject({ kind: 'systemd', unit: 'hermes-gateway.service', mainPid: 4242 });
    expect(v(4250).supervisor!.via).toContain('cgroup /user.slice/user-1000.slice/user@1000.service/app.slice/hermes-gateway.service');
    expect(v(4242).verdict).toBe('supervised');
    expect(v(4300).verdict).toBe('supervised');
    expect(v(4300).reasons.join(' ')).toContain('hermes-worker-t_1a2b3c.scope');
    expect(v(5000).verdict).toBe('orphan');
    expect(v(5000).reasons.join('\n')).toContain('started from pts/3, session 1234, outside hermes-gateway.service');
    const of = r.findings.find((f) => f.code === 'ORPHAN_GATEWAY')!;
    expect(of.message).toContain('`systemctl --user --machine=michel@ restart hermes-gateway.service`');

    const units = r.units!;
    expect(units.map((u) => u.unit)).toEqual(['hermes-gateway-argus.service', 'hermes-gateway.service']);
    expect(units[1]).toMatchObject({ scope: 'user', uid: 1000, activeState: 'active', nRestarts: 0, mainPid: 4242, pids: [4242, 4250], crashLoop: null, home: '/home/michel/.hermes', restart: 'systemctl --user --machine=michel@ restart hermes-gateway.service' });
    expect(classify({ ...snapshot([wrapper, gateway], obs), scannerUid: 1000 }).units![1]!.restart).toBe('systemctl --user restart hermes-gateway.service');
    expect(units[0]).toMatchObject({ mainPid: 0, nRestarts: 153, home: '/home/michel/.hermes/profiles/argus', pids: [] });
    expect(units[0]!.crashLoop).toContain('status=200/CHDIR');
    const loop = r.findings.find((f) => f.code === 'UNIT_CRASH_LOOP')!;
    expect(loop.severity).toBe('warning');
    expect(loop.message).toMatch(/^hermes-gateway-argus\.service \(user UID 1000\) crash-loops: WorkingDirectory/);
    expect(loop.message).toContain('hermes gateway install');

    const table = renderTable(r, { color: false });
    expect(table).toContain('Supervisor units');
    expect(table).toMatch(/hermes-gateway-argus\.service\s*│ user 1000\s*│ activating\/auto-restart \(exit-code\)\s*│ 153/);
    expect(table).toContain('crash loop hermes-gateway-argus.service');
  });

  it('--home filters units and crash-loop findings to that home', async () => {
    const obs = await observeUser();
    const r = classify(snapshot([], obs), { homes: ['/home/michel/.hermes'] });
    expect(r.units!.map((u) => u.unit)).toEqual(['hermes-gateway.service']);
    expect(r.findings.some((f) => f.code === 'UNIT_CRASH_LOOP')).toBe(false);
  });
});

describe('units by name and by content', () => {
  it('the legacy hermes.service counts only when its ExecStart runs a gateway; custom names count by their cgroup', async () => {
    const { unitStates } = await import('../src/core/supervision.js');
    const base = parseSystemctlShow(fx('systemctl-user-show.txt'), 'user', 1000)[1]!;
    const legacy = { ...base, unit: 'hermes.service', scope: 'system' as const, mainPid: 0, controlGroup: '/system.slice/hermes.service', uid: undefined };
    const notGateway = { ...legacy, unit: 'hermes-dashboard.service', execStart: ['/usr/bin/hermes', 'dashboard'], controlGroup: '/system.slice/hermes-dashboard.service' };
    const custom = { ...legacy, unit: 'hermes-michel.service', execStart: ['/usr/local/bin/start-michel'], controlGroup: '/system.slice/hermes-michel.service', mainPid: 70, hermesHome: null };
    const gw = proc(71, [PY, '-m', 'hermes_cli.main', '-p', 'michel', 'gateway', 'run'], { ppid: 70, cgroups: [{ hierarchy: 0, controllers: '', path: '/system.slice/hermes-michel.service' }], env: HOME_ENV });
    const sd: SupervisorObservation = { kind: 'systemd', status: 'present', detail: '', systemdUnits: [legacy, notGateway, custom] };
    const s = snapshot([gw], sd);
    const states = unitStates(s, (pid) => (pid === 71 ? '/home/michel/.hermes/profiles/michel' : null));
    expect(states.map((u) => u.unit)).toEqual(['hermes-michel.service', 'hermes.service']);
    expect(states[0]).toMatchObject({ home: '/home/michel/.hermes/profiles/michel', pids: [71], mainPid: 70 });
    expect(classify(s).processes.find((p) => p.pid === 71)!.supervisor).toMatchObject({ unit: 'hermes-michel.service', mainPid: 70 });
  });
});

describe('crash-loop heuristics', () => {
  it('restarting or failed loops; stopped by hand does not; a running unit with a vanished path will loop on its next start', () => {
    const u = parseSystemctlShow(fx('systemctl-user-show.txt'), 'user', 1000)[1]!;
    expect(crashLoopReason({ ...u, activeState: 'inactive', subState: 'dead', nRestarts: 9, execMainStatus: 200 })).toBeNull();
    expect(crashLoopReason({ ...u, activeState: 'failed', subState: 'failed', nRestarts: 5, result: 'start-limit-hit' })).toBe('restarted 5 times and not running (failed/failed, Result=start-limit-hit)');
    expect(crashLoopReason({ ...u, activeState: 'activating', subState: 'auto-restart', nRestarts: 1, execMainStatus: 203 })).toBe('last start failed with status=203/EXEC');
    expect(crashLoopReason({ ...u, nRestarts: 40 })).toBeNull(); // running: restarts alone (e.g. /restart, exit 75) are no loop
    const running = { ...u, missingPaths: [PY] };
    expect(crashLoopReason(running)).toBe(`ExecStart executable ${PY} no longer exists`);
    const sd: SupervisorObservation = { kind: 'systemd', status: 'present', detail: '', systemdUnits: [running] };
    const f = classify(snapshot([], sd)).findings.find((x) => x.code === 'UNIT_CRASH_LOOP')!;
    expect(f.message).toContain('hermes-gateway.service (user UID 1000) will crash-loop on its next start');
  });
});
