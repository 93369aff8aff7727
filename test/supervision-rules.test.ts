/**
 * The supervisor rules modules (src/core/supervision/<kind>.ts) one by one, the analysis shared by the
 * classifier and the kill planner (src/core/analysis.ts), and the structured subject of findings. Pure:
 * hand-built snapshots only.
 */
import { describe, expect, it } from 'vitest';
import { analysisOf, analyze } from '../src/core/analysis.js';
import { classify } from '../src/core/classify.js';
import type { GuardCaller } from '../src/core/guard.js';
import { planKill } from '../src/core/kill-plan.js';
import { SUPERVISOR_KINDS, homeSupervisors, ownerOf, rulesFor } from '../src/core/supervision/index.js';
import { launchdRules } from '../src/core/supervision/launchd.js';
import { type HomeSupervisor, supervisionContext } from '../src/core/supervision/rules.js';
import { s6Rules } from '../src/core/supervision/s6.js';
import { systemdRules } from '../src/core/supervision/systemd.js';
import { windowsTaskRules } from '../src/core/supervision/windows-task.js';
import type { HomeRecord, HostSnapshot, ProcessRecord, S6Slot, SupervisorObservation } from '../src/types.js';
import { home, proc, snapshot, unit } from './harness/records.js';

function snap(processes: ProcessRecord[], homes: HomeRecord[], supervisors: SupervisorObservation[], over: Partial<HostSnapshot> = {}): HostSnapshot {
  return snapshot({ processes, homes, supervisors, ...over });
}

const GW = ['/venv/bin/python', '-m', 'hermes_cli.main', 'gateway', 'run'];
const UNIT_CG = '/system.slice/hermes-gateway.service';
const cg = (path: string) => [{ hierarchy: 0, controllers: '', path }];

function slot(over: Partial<S6Slot> = {}): S6Slot {
  return { name: 'gateway-argus', dir: '/run/service/gateway-argus', up: true, pid: 0, wantedUp: true, hermesHome: '/root/.hermes', profile: 'argus', ...over };
}

function caller(over: Partial<GuardCaller> = {}): GuardCaller {
  return { pid: 5000, cgroups: cg('/user.slice/session-1.scope'), ancestors: [{ pid: 4000, argv: ['bash'] }, { pid: 1, argv: ['/sbin/init'] }], invocationId: false, ...over };
}

describe('the list of kinds', () => {
  it('has one rules module per observed kind, in proof order; apps have none', () => {
    expect(SUPERVISOR_KINDS.map((r) => r.kind)).toEqual(['systemd', 's6', 'launchd', 'windows-task']);
    expect(rulesFor('s6')).toBe(s6Rules);
    expect(rulesFor('web-ui')).toBeUndefined();
    expect(SUPERVISOR_KINDS.map((r) => r.pidName)).toEqual(['MainPID', 'PID', 'PID', 'PID']);
  });
});

describe('systemd rules', () => {
  const u = unit({ mainPid: 10 });
  const s = snap(
    [
      proc(10, GW, { cgroups: cg(UNIT_CG), env: { HERMES_HOME: '/root/.hermes' } }),
      proc(11, ['hermes', 'chat'], { ppid: 10, cgroups: cg(UNIT_CG) }),
      proc(12, ['bash'], { cgroups: cg(`${UNIT_CG}/vte-spawn-1.scope`) }),
      proc(20, GW, { env: { HOME: '/root' } }),
    ],
    [home('/root/.hermes')],
    [{ kind: 'systemd', status: 'present', detail: '', systemdUnits: [u] }],
  );
  const ctx = supervisionContext(s);

  it('owns its MainPID, then the members of its cgroup; not a process outside it', () => {
    expect(systemdRules.owns(s.processes[0]!, ctx)).toEqual({ kind: 'systemd', unit: u.unit, mainPid: 10, via: 'MainPID' });
    expect(systemdRules.owns(s.processes[1]!, ctx)).toEqual({ kind: 'systemd', unit: u.unit, mainPid: 10, via: `cgroup ${UNIT_CG}` });
    expect(systemdRules.owns(s.processes[3]!, ctx)).toBeNull();
  });

  it('protects its MainPID and the processes of its own cgroup, not those of a deeper unit', () => {
    expect(systemdRules.protectsPid(10, s)).toBe(`PID 10 is the MainPID of ${u.unit}`);
    expect(systemdRules.protectsPid(20, s)).toBeNull();
    expect(systemdRules.protectsMember!(s.processes[1]!, s)).toBe(`PID 11 is inside the cgroup ${UNIT_CG} of ${u.unit}`);
    expect(systemdRules.protectsMember!(s.processes[2]!, s)).toBeNull();
  });

  it('lists the unit for its home with the restart command, and describes an outsider, an owner and a stop', () => {
    const byHome = homeSupervisors(ctx);
    const hs = byHome.get('/root/.hermes')!;
    expect(hs).toEqual([{ kind: 'systemd', unit: u.unit, mainPid: 10, state: 'active/running', restart: `systemctl restart ${u.unit}`, controlGroup: UNIT_CG }]);
    expect(systemdRules.describeOutside(s.processes[3]!, hs[0]!)).toEqual([`not MainPID 10 of ${u.unit}`, `cgroup /user.slice is not ${UNIT_CG}`]);
    expect(systemdRules.describeOwner({ kind: 'systemd', unit: u.unit, mainPid: 10, via: `cgroup ${UNIT_CG}` })).toBe(`supervised by ${u.unit} (cgroup ${UNIT_CG}; MainPID 10)`);
    expect(systemdRules.stopCommand({ kind: 'systemd', unit: u.unit, mainPid: 10, via: 'MainPID' }, s)).toBe(`systemctl disable --now ${u.unit}`);
  });

  it('puts the guard caller inside by its own cgroup or a MainPID ancestor, and says why not otherwise', () => {
    const hs = homeSupervisors(ctx).get('/root/.hermes')![0]!;
    expect(systemdRules.callerInside(hs, caller({ cgroups: cg(`${UNIT_CG}/x`) }))?.via).toBe(`its cgroup ${UNIT_CG}/x is in ${UNIT_CG}`);
    expect(systemdRules.callerInside(hs, caller({ ancestors: [{ pid: 10, argv: GW }] }))?.via).toBe(`its ancestor PID 10 is the MainPID of ${u.unit}`);
    expect(systemdRules.callerInside(hs, caller())).toBeNull();
    expect(systemdRules.describeCallerOutside(caller(), hs)).toEqual([`cgroup /user.slice/session-1.scope is not in ${UNIT_CG}`, 'no ancestor is PID 10']);
  });
});

describe('s6 rules', () => {
  const sl = slot({ pid: 30 });
  const s = snap(
    [
      proc(30, [...GW], { env: { HERMES_HOME: '/root/.hermes/profiles/argus' } }),
      proc(29, ['s6-supervise', 'gateway-argus']),
      proc(31, ['hermes', '-p', 'argus', 'gateway', 'run'], { ppid: 29 }),
    ],
    [home('/root/.hermes'), home('/root/.hermes/profiles/argus')],
    [{ kind: 's6', status: 'present', detail: '', s6Slots: [sl] }],
  );
  const ctx = supervisionContext(s);

  it('owns the slot PID, and a child of s6-supervise SLOT', () => {
    expect(s6Rules.owns(s.processes[0]!, ctx)).toEqual({ kind: 's6', unit: 'gateway-argus', mainPid: 30, via: 'slot PID (s6-svstat)' });
    expect(s6Rules.owns(s.processes[2]!, ctx)).toBeNull();
    expect(s6Rules.ownsAsChild!(s.processes[2]!, s.processes[1]!, ctx)).toEqual({ kind: 's6', unit: 'gateway-argus', mainPid: 30, via: 'child of s6-supervise gateway-argus (PID 29)' });
    expect(ownerOf(s.processes[2]!, ctx)?.via).toBe('child of s6-supervise gateway-argus (PID 29)');
  });

  it('restarts with s6-svc -r, stops with s6-svc -d on the slot directory, protects the slot PID', () => {
    const hs = homeSupervisors(ctx).get('/root/.hermes/profiles/argus')!;
    expect(hs.map((h) => [h.unit, h.restart])).toEqual([['gateway-argus', 's6-svc -r /run/service/gateway-argus']]);
    expect(s6Rules.stopCommand({ kind: 's6', unit: 'gateway-argus', mainPid: 30, via: '' }, s)).toBe('s6-svc -d /run/service/gateway-argus');
    expect(s6Rules.protectsPid(30, s)).toBe('PID 30 is the supervised process of s6 slot gateway-argus');
  });

  it('puts the caller inside when an ancestor is s6-supervise SLOT', () => {
    const hs = homeSupervisors(ctx).get('/root/.hermes/profiles/argus')![0]!;
    expect(s6Rules.callerInside(hs, caller({ ancestors: [{ pid: 77, argv: ['s6-supervise', 'gateway-argus'] }] }))?.via).toBe('its ancestor PID 77 is s6-supervise gateway-argus');
    expect(s6Rules.describeCallerOutside(caller(), hs)).toEqual(['no ancestor is PID 30', 'no ancestor is s6-supervise gateway-argus']);
  });
});

describe('launchd and Windows task rules', () => {
  it('launchd owns the job PID (XPC_SERVICE_NAME noted) and skips a job without process beside the detached-fallback marker', () => {
    const job = { label: 'ai.hermes.gateway', domain: 'gui/501', pid: 40, state: 'running', hermesHome: '/Users/u/.hermes', profile: null };
    const idle = { label: 'ai.hermes.gateway-argus', domain: 'gui/501', pid: 0, state: null, hermesHome: '/Users/u/.hermes/profiles/argus', profile: 'argus' };
    const s = snap(
      [proc(40, GW, { env: { XPC_SERVICE_NAME: 'ai.hermes.gateway' } })],
      [home('/Users/u/.hermes'), home('/Users/u/.hermes/profiles/argus', { launchdUnsupported: true })],
      [{ kind: 'launchd', status: 'present', detail: '', launchdJobs: [job, idle] }],
      { platform: 'darwin' },
    );
    const ctx = supervisionContext(s);
    expect(launchdRules.owns(s.processes[0]!, ctx)?.via).toBe('launchctl PID of gui/501/ai.hermes.gateway; XPC_SERVICE_NAME agrees');
    const byHome = homeSupervisors(ctx);
    expect(byHome.get('/Users/u/.hermes')?.map((h) => h.restart)).toEqual(['launchctl kickstart -k gui/501/ai.hermes.gateway']);
    expect(byHome.has('/Users/u/.hermes/profiles/argus')).toBe(false);
    expect(launchdRules.protectsPid(40, s)).toBe('PID 40 is the process of launchd job ai.hermes.gateway');
    expect(launchdRules.stopCommand({ kind: 'launchd', unit: job.label, mainPid: 40, via: '' }, s)).toBeNull();
  });

  it('a Windows task owns the gateway its living launcher started; it has no PID to protect', () => {
    const task = { name: 'Hermes_Gateway', state: 'Running', hermesHome: 'C:/Users/u/AppData/Local/hermes', profile: null, launcher: 'c:/users/u/appdata/local/hermes/gateway-service/hermes_gateway.vbs' };
    const p = proc(50, ['python.exe', '-m', 'hermes_cli.main', 'gateway', 'run'], { platformHints: { taskLauncher: { pid: 49, launcher: task.launcher } } });
    const s = snap([p], [], [{ kind: 'windows-task', status: 'present', detail: '', windowsTasks: [task] }], { platform: 'win32' });
    const ctx = supervisionContext(s);
    expect(windowsTaskRules.owns(p, ctx)).toEqual({ kind: 'windows-task', unit: 'Hermes_Gateway', mainPid: null, via: `launched by ${task.launcher} (PID 49 still alive)` });
    expect(windowsTaskRules.protectsPid(50, s)).toBeNull();
    const hs: HomeSupervisor = homeSupervisors(ctx).get('C:/Users/u/AppData/Local/hermes')![0]!;
    expect(hs.restart).toBe('schtasks /Run /TN "Hermes_Gateway"');
    expect(windowsTaskRules.describeCallerOutside(caller(), hs)).toEqual(['Hermes_Gateway runs no process']);
  });
});

describe('the analysis', () => {
  const s = snap(
    [proc(10, GW, { cgroups: cg(UNIT_CG), env: { HERMES_HOME: '/root/.hermes' } }), proc(20, [...GW, '--replace'], { env: { HOME: '/root' } })],
    [home('/root/.hermes')],
    [{ kind: 'systemd', status: 'present', detail: '', systemdUnits: [unit({ mainPid: 10 })] }],
  );

  it('identifies every process once and answers owners and home supervisors from it', () => {
    const a = analyze(s);
    expect([...a.identities.keys()]).toEqual([10, 20]);
    expect(a.homeOf(20)).toBe('/root/.hermes');
    expect(a.supervisorOf(s.processes[0]!)?.via).toBe('MainPID');
    expect(a.supervisorOf(s.processes[1]!)).toBeNull();
    expect(a.homeSupervisorsOf('/root/.hermes').map((h) => h.unit)).toEqual(['hermes-gateway.service']);
    expect(a.homeSupervisorsOf(null)).toEqual([]);
    expect(a.cmdOf(s.processes[1]!)?.flags).toContain('--replace');
  });

  it('stays with the report it was classified for (same snapshot object), invisible to JSON and spreads', () => {
    const r = classify(s);
    expect(analysisOf(r, s)).toBe(analysisOf(r, s));
    expect(analysisOf(r, structuredClone(s))).not.toBe(analysisOf(r, s));
    expect(JSON.stringify(r)).not.toContain('identities');
    expect(Object.keys({ ...r })).not.toContain('analysis');
    const plan = planKill(r, s, { uid: 0 });
    expect(plan.targets.map((t) => t.pid)).toEqual([20]);
    expect(plan).toEqual(planKill(JSON.parse(JSON.stringify(r)), s, { uid: 0 }));
  });
});

describe('findings carry their subject', () => {
  it('a process finding names its PID and home; a kanban finding its database; a unit finding its unit', () => {
    const kb = [{ fd: 7, path: '/root/.hermes/kanban.db', mode: 'rw' as const, deleted: false }];
    const looping = unit({ unit: 'hermes-gateway-x.service', controlGroup: '/system.slice/hermes-gateway-x.service', activeState: 'failed', subState: 'failed', nRestarts: 5, hermesHome: '/root/.hermes/profiles/x' });
    const s = snap(
      [proc(10, GW, { cgroups: cg(UNIT_CG), env: { HERMES_HOME: '/root/.hermes' }, handles: kb }), proc(20, [...GW, '--replace'], { env: { HOME: '/root' }, handles: kb })],
      [home('/root/.hermes'), home('/root/.hermes/profiles/x')],
      [{ kind: 'systemd', status: 'present', detail: '', systemdUnits: [unit({ mainPid: 10 }), looping] }],
    );
    const r = classify(s);
    const by = (code: string) => r.findings.find((f) => f.code === code)!;
    expect(by('ORPHAN_GATEWAY').subject).toEqual({ pid: 20, home: '/root/.hermes' });
    expect(by('RIVAL_WRITERS').subject).toEqual({ db: '/root/.hermes/kanban.db' });
    expect(by('UNIT_CRASH_LOOP').subject).toEqual({ unit: 'hermes-gateway-x.service', home: '/root/.hermes/profiles/x' });
    // A report for the other profile keeps its unit's finding and the root's kanban.db, which its profiles
    // share, but not the root's orphan.
    const rx = classify(s, { homes: ['/root/.hermes/profiles/x'] });
    expect(rx.findings.map((f) => f.code)).toEqual(['RIVAL_WRITERS', 'UNIT_CRASH_LOOP']);
  });
});

describe('verdicts are decided once, in dependency order', () => {
  it('a kanban worker follows its dispatcher daemon even when the daemon comes later in the process table', () => {
    const s = snap(
      [proc(100, ['hermes', 'chat', '-q', 'work kanban task t_abc'], { ppid: 200, env: { HOME: '/root', HERMES_KANBAN_TASK: 't_abc' } }), proc(200, ['hermes', 'kanban', 'daemon'], { env: { HOME: '/root' } })],
      [home('/root/.hermes')],
      [{ kind: 'systemd', status: 'absent', detail: 'not booted', systemdUnits: [] }],
    );
    const r = classify(s);
    expect(r.processes.map((p) => [p.pid, p.verdict])).toEqual([[100, 'manual'], [200, 'manual']]);
    expect(r.processes[0]!.reasons).toContain('child of dispatcher-daemon PID 200 (manual); counted with its dispatcher, not as a rival');
  });
});
