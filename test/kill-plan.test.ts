/**
 * The pure `--kill` planner on hand-built snapshots classified by the real classifier: who is a target,
 * who is refused and why. The live kill flows are in kill.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { classify } from '../src/core/classify.js';
import { planKill } from '../src/core/kill-plan.js';
import type { HomeRecord, HostSnapshot, ProcessRecord, SupervisorObservation } from '../src/types.js';
import { home, proc, snapshot, unit } from './harness/records.js';
import { FAKE_SECRET } from './harness/processes.js';

/** The scanner is PID 99999 with parent 99998; alice (uid 1000) has processes too. */
const snap = (processes: ProcessRecord[], homes: HomeRecord[], supervisors: SupervisorObservation[], over: Partial<HostSnapshot> = {}): HostSnapshot =>
  snapshot({ scannerPids: [99999, 99998], userHomes: { '0': '/root', '1000': '/home/alice' }, processes, homes, supervisors, ...over });

const GW = ['/venv/bin/python', '-m', 'hermes_cli.main', 'gateway', 'run'];
const UNIT_CG = [{ hierarchy: 0, controllers: '', path: '/system.slice/hermes-gateway.service' }];
const KANBAN = [{ fd: 7, path: '/root/.hermes/kanban.db', mode: 'rw' as const, deleted: false }];
const NO_S6: SupervisorObservation = { kind: 's6', status: 'absent', detail: '', s6Slots: [] };

/** systemd MainPID 10 (+ a helper 11 in its cgroup), orphan 20, orphaned worker 30, stray sqlite3 40, another user's orphan 50. */
function incident() {
  const sd: SupervisorObservation = { kind: 'systemd', status: 'present', detail: '', systemdUnits: [unit({ mainPid: 10 })] };
  const s = snap(
    [
      proc(10, GW, { cgroups: UNIT_CG, env: { HERMES_HOME: '/root/.hermes' }, handles: KANBAN }),
      proc(11, [...GW, '--replace'], { ppid: 10, cgroups: UNIT_CG, env: { HERMES_HOME: '/root/.hermes' } }),
      proc(20, [...GW, '--replace'], { env: { HOME: '/root' }, handles: KANBAN }),
      proc(30, ['/venv/bin/python', '-m', 'hermes_cli.main', '-p', 'default', '--cli', 'chat', '-q', 'work kanban task t_1'], {
        env: { HERMES_HOME: '/root/.hermes', HERMES_KANBAN_TASK: 't_1' }, handles: KANBAN,
      }),
      proc(40, ['sqlite3', '/root/.hermes/kanban.db', `--api-key=${FAKE_SECRET}`], { comm: 'sqlite3', handles: KANBAN }),
      proc(50, [...GW, '--replace'], { uid: 1000, env: { HERMES_HOME: '/root/.hermes' } }),
    ],
    [home('/root/.hermes', { pidFile: { path: '/root/.hermes/gateway.pid', status: 'ok', pid: 10, startTime: 1010 } })],
    [sd, NO_S6],
    { locks: [{ path: '/root/.hermes/gateway.lock', inode: 5, kind: 'FLOCK', access: 'WRITE', pid: 10 }] },
  );
  return { s, r: classify(s) };
}

describe('planKill', () => {
  it('the incident: the orphan is the only target, its owner (MainPID) is named; workers and stray holders are refused with reasons', () => {
    const { s, r } = incident();
    expect(r.processes.find((p) => p.pid === 20)!.verdict).toBe('orphan');
    const plan = planKill(r, s, { uid: 0 });
    expect(plan.targets.map((t) => t.pid)).toEqual([20, 50]); // root may end another user's orphan
    const t = plan.targets[0]!;
    expect(t.owner).toEqual({ pid: 10, startTicks: 1010, verdict: 'supervised' });
    expect(t.auditRoot).toBe('/root/.hermes');
    expect(t.startTicks).toBe(1020);
    const why = Object.fromEntries(plan.refusals.map((x) => [x.pid, x.reason]));
    expect(why[30]).toMatch(/--include-workers/);
    expect(why[40]).toMatch(/is a stray holder of .*: it is not part of Hermes, so it is never signalled/);
    expect(why[40]).toContain('sqlite3 /root/.hermes/kanban.db');
    expect(JSON.stringify(plan.refusals)).not.toContain(FAKE_SECRET);
    expect(why[10]).toBeUndefined(); // supervised processes are not listed unless asked for
  });

  it('--include-workers makes the orphaned worker a target', () => {
    const { s, r } = incident();
    expect(planKill(r, s, { uid: 0, includeWorkers: true }).targets.map((t) => t.pid)).toEqual([20, 30, 50]);
  });

  it('--pid narrows; a listed MainPID, a process in the unit cgroup, PID 1, hermes-doctor itself and an unknown PID are refused', () => {
    const { s, r } = incident();
    const plan = planKill(r, s, { uid: 0, pids: [20, 10, 11, 1, 99998, 4242] });
    expect(plan.targets.map((t) => t.pid)).toEqual([20]);
    const why = Object.fromEntries(plan.refusals.map((x) => [x.pid, x.reason]));
    expect(why[10]).toMatch(/never signalled: PID 10 is the MainPID of hermes-gateway.service/);
    expect(why[11]).toMatch(/inside the cgroup \/system.slice\/hermes-gateway.service/);
    expect(why[1]).toMatch(/init/);
    expect(why[99998]).toMatch(/hermes-doctor itself or one of its ancestors/);
    expect(why[4242]).toMatch(/not a Hermes process in this scan/);
  });

  it("the cgroup rule follows the owning unit: a Delegate= sub-cgroup is the service's, a terminal scope under user@.service is not", () => {
    const { s, r } = incident();
    const rec = s.processes.find((p) => p.pid === 20)!;
    s.supervisors[0]!.systemdUnits!.push(unit({ unit: 'user@1000.service', mainPid: 900, controlGroup: '/user.slice/user-1000.slice/user@1000.service', execStart: ['/lib/systemd/systemd', '--user'] }));
    rec.cgroups = [{ hierarchy: 0, controllers: '', path: '/user.slice/user-1000.slice/user@1000.service/app.slice/vte-spawn-1.scope' }];
    expect(planKill(r, s, { uid: 0, pids: [20] }).targets.map((t) => t.pid)).toEqual([20]);
    rec.cgroups = [{ hierarchy: 0, controllers: '', path: '/system.slice/hermes-gateway.service/payload' }];
    expect(planKill(r, s, { uid: 0, pids: [20] }).refusals[0]!.reason).toMatch(/inside the cgroup \/system.slice\/hermes-gateway.service of hermes-gateway.service/);
  });

  it("another user's orphan is refused unless root", () => {
    const { s, r } = incident();
    const plan = planKill(r, s, { uid: 1000 });
    expect(plan.targets.map((t) => t.pid)).toEqual([50]);
    expect(plan.refusals.find((x) => x.pid === 20)!.reason).toMatch(/belongs to UID 0; only root/);
  });

  it('an s6 slot PID and a ghost whose supervisor would respawn it are never signalled; a flock owner never, whatever its verdict', () => {
    const s6: SupervisorObservation = {
      kind: 's6', status: 'present', detail: '',
      s6Slots: [{ name: 'gateway-argus', dir: '/run/service/gateway-argus', up: true, pid: 60, wantedUp: true, hermesHome: '/root/.hermes', profile: 'argus' }],
    };
    const s = snap(
      [proc(60, ['python3', '-m', 'hermes_cli.main', '-p', 'argus', 'gateway', 'run', '--replace'], { env: { HERMES_HOME: '/root/.hermes' } })],
      [home('/root/.hermes'), home('/root/.hermes/profiles/argus', { exists: false })],
      [{ kind: 'systemd', status: 'absent', detail: '', systemdUnits: [] }, s6],
    );
    const r = classify(s);
    expect(r.processes[0]!.verdict).toBe('ghost');
    const plan = planKill(r, s, { uid: 0 });
    expect(plan.targets).toEqual([]);
    expect(plan.refusals[0]!.reason).toMatch(/supervised process of s6 slot gateway-argus/);

    // Defence in depth: even if a report called the flock owner a duplicate, it is refused.
    const { s: s2, r: r2 } = incident();
    r2.processes.find((p) => p.pid === 20)!.verdict = 'duplicate';
    s2.locks.push({ path: '/root/.hermes/gateway.lock', inode: 5, kind: 'FLOCK', access: 'WRITE', pid: 20 });
    const p2 = planKill(r2, s2, { uid: 0, pids: [20] });
    expect(p2.targets).toEqual([]);
    expect(p2.refusals[0]!.reason).toMatch(/holds the flock on \/root\/.hermes\/gateway.lock/);
  });

  it('an orphan that took the home over (--replace) holds the flock and is still a target: the unit owns that home', () => {
    // 306e2d2: the shell `gateway run --replace` SIGTERMed the unit's gateway and took gateway.lock; the
    // unit (no --replace in ExecStart) now crash-loops on "already running" with MainPID 0.
    const sd: SupervisorObservation = {
      kind: 'systemd', status: 'present', detail: '',
      systemdUnits: [unit({ mainPid: 0, activeState: 'activating', subState: 'auto-restart', nRestarts: 4 })],
    };
    const s = snap(
      [proc(20, [...GW, '--replace'], { env: { HOME: '/root' }, tty: 'pts/1' })],
      [home('/root/.hermes', { pidFile: { path: '/root/.hermes/gateway.pid', status: 'ok', pid: 20, startTime: 1020 } })],
      [sd, NO_S6],
      { locks: [{ path: '/root/.hermes/gateway.lock', inode: 5, kind: 'FLOCK', access: 'WRITE', pid: 20 }] },
    );
    const r = classify(s);
    expect(r.processes[0]!.verdict).toBe('orphan');
    const plan = planKill(r, s, { uid: 0 });
    expect(plan.refusals).toEqual([]);
    expect(plan.targets).toHaveLength(1);
    expect(plan.targets[0]).toMatchObject({ pid: 20, startTicks: 1020, holdsHomeLock: true, owner: null });

    // The same takeover beside a supervised gateway that lost the lock: that gateway is kept as the owner.
    const s2 = structuredClone(s);
    s2.supervisors[0]!.systemdUnits![0] = unit({ mainPid: 10 });
    s2.processes.unshift(proc(10, GW, { cgroups: UNIT_CG, env: { HERMES_HOME: '/root/.hermes' } }));
    const r2 = classify(s2);
    const p2 = planKill(r2, s2, { uid: 0 });
    expect(p2.targets.map((t) => [t.pid, t.holdsHomeLock, t.owner?.pid])).toEqual([[20, true, 10]]);
    expect(p2.refusals).toEqual([]);
  });

  it('a flock owner with no supervisor for its home stays refused even if a report called it an orphan; the supervised one is never a target', () => {
    const s = snap(
      [proc(20, GW, { env: { HOME: '/root' } })],
      [home('/root/.hermes')],
      [{ kind: 'systemd', status: 'absent', detail: '', systemdUnits: [] }, NO_S6],
      { locks: [{ path: '/root/.hermes/gateway.lock', inode: 5, kind: 'FLOCK', access: 'WRITE', pid: 20 }] },
    );
    const r = classify(s);
    expect(r.processes[0]!.verdict).toBe('manual');
    r.processes[0]!.verdict = 'orphan';
    const plan = planKill(r, s, { uid: 0 });
    expect(plan.targets).toEqual([]);
    expect(plan.refusals[0]!.reason).toMatch(/holds the flock on .*: it owns its home and is never killed \(no supervisor owns this home\)/);

    // The incident with the MainPID holding the lock: the MainPID is refused whatever a report says.
    const { s: s3, r: r3 } = incident();
    r3.processes.find((p) => p.pid === 10)!.verdict = 'orphan';
    const p3 = planKill(r3, s3, { uid: 0, pids: [10] });
    expect(p3.targets).toEqual([]);
    expect(p3.refusals[0]!.reason).toMatch(/MainPID of hermes-gateway.service/);
  });
});
