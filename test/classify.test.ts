/**
 * The pure classifier on hand-built snapshots: the edge cases that a live machine here cannot show
 * (another user's unreadable environment, a hanging systemctl, a wrapped ExecStart seen from
 * outside). The live behaviour of each source is covered by the real-process suites.
 */
import { describe, expect, it } from 'vitest';
import { classify } from '../src/core/classify.js';
import type { HomeRecord, HostSnapshot, ProcessRecord, SupervisorObservation } from '../src/types.js';
import { home, proc, snapshot, unit } from './harness/records.js';

/** No supervisors given: neither systemd nor s6 on the host. */
const snap = (processes: ProcessRecord[], homes: HomeRecord[], supervisors: SupervisorObservation[] = []): HostSnapshot =>
  snapshot({ processes, homes, ...(supervisors.length ? { supervisors } : {}) });

const GW = ['/venv/bin/python', '-m', 'hermes_cli.main', 'gateway', 'run'];
const KANBAN = (pid: number, root = '/root/.hermes') => [{ fd: 7, path: `${root}/kanban.db`, mode: 'rw' as const, deleted: false }];

describe('classify: supervision proofs', () => {
  it('MainPID and cgroup membership are supervised; a reparented gateway of the same home is an orphan', () => {
    const sd: SupervisorObservation = {
      kind: 'systemd', status: 'present', detail: '', systemdUnits: [unit({ mainPid: 10 })],
    };
    const s = snap(
      [
        proc(10, GW, { ppid: 1, cgroups: [{ hierarchy: 0, controllers: '', path: '/system.slice/hermes-gateway.service' }], env: { HERMES_HOME: '/root/.hermes' }, handles: KANBAN(10) }),
        proc(20, [...GW, '--replace'], { ppid: 1, tty: 'pts/3', sid: 1234, env: { HOME: '/root' }, handles: KANBAN(20) }),
      ],
      [home('/root/.hermes')],
      [sd, { kind: 's6', status: 'absent', detail: '', s6Slots: [] }],
    );
    const r = classify(s);
    expect(r.processes.find((p) => p.pid === 10)!.verdict).toBe('supervised');
    const o = r.processes.find((p) => p.pid === 20)!;
    expect(o.verdict).toBe('orphan');
    expect(o.reasons.join(' ')).toContain('not MainPID 10 of hermes-gateway.service');
    expect(o.reasons.join(' ')).toContain('started from pts/3, session 1234');
    expect(r.kanban[0]!.risk).toBe('rival-writers');
    expect(r.summary.exitCode).toBe(2);
  });

  it('a wrapped ExecStart (sh -c): the wrapper is MainPID, the gateway its child in the cgroup: supervised, no false orphan', () => {
    const cg = [{ hierarchy: 0, controllers: '', path: '/system.slice/hermes-michel.service' }];
    const sd: SupervisorObservation = {
      kind: 'systemd', status: 'present', detail: '',
      systemdUnits: [unit({ unit: 'hermes-michel.service', mainPid: 30, controlGroup: '/system.slice/hermes-michel.service', execStart: ['/bin/sh', '-c', 'exec', 'doppler', 'run', '--', 'hermes', 'gateway', 'run'], hermesHome: null })],
    };
    const s = snap(
      [
        proc(30, ['doppler', 'run', '--', 'hermes', 'gateway', 'run'], { cgroups: cg, env: { HOME: '/root' } }),
        proc(31, ['/venv/bin/python', '/venv/bin/hermes', 'gateway', 'run'], { ppid: 30, cgroups: cg, env: { HOME: '/root' }, handles: KANBAN(31) }),
      ],
      [home('/root/.hermes')],
      [sd, { kind: 's6', status: 'absent', detail: '', s6Slots: [] }],
    );
    const r = classify(s);
    expect(r.processes.find((p) => p.pid === 30)!.role).toBe('gateway-wrapper');
    expect(r.processes.find((p) => p.pid === 30)!.verdict).toBe('supervised');
    const g = r.processes.find((p) => p.pid === 31)!;
    expect(g.verdict).toBe('supervised');
    expect(g.supervisor!.via).toContain('cgroup');
    expect(r.summary.exitCode).toBe(0);
  });

  it('INVOCATION_ID alone proves nothing: a desktop-terminal gateway with it is still manual', () => {
    const s = snap([proc(40, GW, { env: { HERMES_HOME: '/root/.hermes', INVOCATION_ID: 'abc' } })], [home('/root/.hermes')]);
    const p = classify(s).processes[0]!;
    expect(p.verdict).toBe('manual');
    expect(p.supervisor).toBeNull();
  });
});

describe('classify: when it cannot see enough, it says unknown', () => {
  it('systemctl hung: an unsupervised gateway is unknown, exit 3', () => {
    const s = snap(
      [proc(50, GW, { env: { HERMES_HOME: '/root/.hermes' } })],
      [home('/root/.hermes')],
      [
        { kind: 'systemd', status: 'unknown', detail: 'systemctl failed: timeout after 3000 ms', systemdUnits: [] },
        { kind: 's6', status: 'absent', detail: '', s6Slots: [] },
      ],
    );
    const r = classify(s);
    expect(r.processes[0]!.verdict).toBe('unknown');
    expect(r.processes[0]!.reasons.join(' ')).toContain('timeout after 3000 ms');
    expect(r.findings.some((f) => f.code === 'SUPERVISOR_UNKNOWN')).toBe(true);
    expect(r.summary.exitCode).toBe(3);
  });

  it('another user\u2019s gateway with an unreadable environment: the home is a guess, verdict unknown', () => {
    const s = snap(
      [proc(60, ['hermes', '-p', 'argus', 'gateway', 'run'], { uid: 1000, visibility: { fd: 'denied', environ: 'denied', cgroup: 'ok' } })],
      [home('/home/u/.hermes/profiles/argus')],
    );
    s.userHomes = { '1000': '/home/u' };
    const p = classify(s).processes[0]!;
    expect(p.hermesHome).toBe('/home/u/.hermes/profiles/argus');
    expect(p.homeSource).toContain('environment not readable');
    expect(p.verdict).toBe('unknown');
  });

  it('no -p, no HERMES_HOME, no gateway.lock: home unknown (active_profile may have moved it)', () => {
    const p = classify(snap([proc(70, GW)], [])).processes[0]!;
    expect(p.hermesHome).toBeNull();
    expect(p.verdict).toBe('unknown');
    expect(p.reasons.join(' ')).toContain('active_profile');
  });

  it('two gateways for one home and no visible lock owner: unknown, never a guessed duplicate', () => {
    const s = snap(
      [proc(80, GW, { env: { HERMES_HOME: '/root/.hermes' } }), proc(81, GW, { env: { HERMES_HOME: '/root/.hermes' } })],
      [home('/root/.hermes')],
    );
    const r = classify(s);
    expect(r.processes.map((p) => p.verdict)).toEqual(['unknown', 'unknown']);
    expect(r.summary.exitCode).toBe(3);
  });

  it('two gateways, no lock visible, gateway.pid names one with a matching start_time: that one is the owner', () => {
    const h = home('/root/.hermes', { pidFile: { path: '/root/.hermes/gateway.pid', status: 'ok', pid: 81, startTime: 1081 } });
    const r = classify(snap([proc(80, GW, { env: { HERMES_HOME: '/root/.hermes' } }), proc(81, GW, { env: { HERMES_HOME: '/root/.hermes' } })], [h]));
    expect(r.processes.find((p) => p.pid === 81)!.verdict).toBe('manual');
    expect(r.processes.find((p) => p.pid === 80)!.verdict).toBe('duplicate');
  });
});

describe('classify: other roles', () => {
  it('a kanban daemon beside a supervised dispatching gateway is an orphan dispatcher', () => {
    const sd: SupervisorObservation = { kind: 'systemd', status: 'present', detail: '', systemdUnits: [unit({ mainPid: 10 })] };
    const s = snap(
      [
        proc(10, GW, { env: { HERMES_HOME: '/root/.hermes' }, handles: KANBAN(10) }),
        proc(90, ['hermes', 'kanban', 'daemon', '--force', '--interval', '60'], { env: { HOME: '/root' }, handles: KANBAN(90) }),
      ],
      [home('/root/.hermes')],
      [sd, { kind: 's6', status: 'absent', detail: '', s6Slots: [] }],
    );
    const r = classify(s);
    const d = r.processes.find((p) => p.pid === 90)!;
    expect(d.role).toBe('dispatcher-daemon');
    expect(d.verdict).toBe('orphan');
    expect(r.findings.find((f) => f.pid === 90)!.code).toBe('ORPHAN_DISPATCHER');
    expect(r.kanban[0]!.risk).toBe('rival-writers');
  });

  it('a worker that is the child of a live supervised gateway counts with its dispatcher, not as a rival', () => {
    const sd: SupervisorObservation = { kind: 'systemd', status: 'present', detail: '', systemdUnits: [unit({ mainPid: 10 })] };
    const s = snap(
      [
        proc(10, GW, { env: { HERMES_HOME: '/root/.hermes' }, handles: KANBAN(10) }),
        proc(11, ['hermes', '-p', 'argus', '--cli', 'chat', '-q', 'work kanban task t_1'], {
          ppid: 10, env: { HERMES_HOME: '/root/.hermes/profiles/argus', HERMES_KANBAN_TASK: 't_1', HERMES_KANBAN_DB: '/root/.hermes/kanban.db' }, handles: KANBAN(11),
        }),
      ],
      [home('/root/.hermes'), home('/root/.hermes/profiles/argus')],
      [sd, { kind: 's6', status: 'absent', detail: '', s6Slots: [] }],
    );
    const r = classify(s);
    expect(r.processes.find((p) => p.pid === 11)!.verdict).toBe('supervised');
    expect(r.kanban[0]!.risk).toBe('ok');
    expect(r.summary.exitCode).toBe(0);
  });

  it('sudo stays alive as the parent of a shell gateway: a wrapper, not a duplicate', () => {
    const s = snap(
      [
        proc(100, ['sudo', 'hermes', 'gateway', 'run'], { ppid: 5, env: { HOME: '/root' } }),
        proc(101, ['/venv/bin/python', '/venv/bin/hermes', 'gateway', 'run'], { ppid: 100, env: { HOME: '/root' } }),
      ],
      [home('/root/.hermes')],
    );
    const r = classify(s);
    expect(r.processes.find((p) => p.pid === 100)!.role).toBe('gateway-wrapper');
    expect(r.processes.find((p) => p.pid === 101)!.verdict).toBe('manual');
    expect(r.summary.exitCode).toBe(0);
  });

  it('filters: --profile keeps only that profile, and the exit code follows what is kept', () => {
    const s = snap(
      [
        proc(10, [...GW], { env: { HERMES_HOME: '/root/.hermes' } }),
        proc(20, ['hermes', '-p', 'argus', 'gateway', 'run'], { env: { HOME: '/root' } }),
        proc(21, ['hermes', '-p', 'argus', 'gateway', 'run'], { env: { HOME: '/root' } }),
      ],
      [home('/root/.hermes'), home('/root/.hermes/profiles/argus')],
    );
    const all = classify(s);
    expect(all.summary.exitCode).toBe(3);
    const def = classify(s, { profiles: ['default'] });
    expect(def.processes.map((p) => p.pid)).toEqual([10]);
    expect(def.summary.exitCode).toBe(0);
  });
});

describe('classify: the sticky active_profile', () => {
  it('a bare `gateway run` with no -p follows <root>/active_profile, unless it is a supervised child', () => {
    const s = snap(
      [
        proc(10, GW, { env: { HOME: '/root' } }),
        proc(20, GW, { env: { HOME: '/root', HERMES_S6_SUPERVISED_CHILD: '1' } }),
      ],
      [home('/root/.hermes'), home('/root/.hermes/profiles/argus')],
    );
    s.activeProfiles = { '/root/.hermes': 'argus' };
    const r = classify(s);
    const bare = r.processes.find((p) => p.pid === 10)!;
    expect(bare.hermesHome).toBe('/root/.hermes/profiles/argus');
    expect(bare.homeSource).toContain('active_profile argus');
    const supervisedChild = r.processes.find((p) => p.pid === 20)!;
    expect(supervisedChild.hermesHome).toBe('/root/.hermes');
    expect(supervisedChild.homeSource).toContain('HERMES_S6_SUPERVISED_CHILD set');
  });
});
