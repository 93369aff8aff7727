/**
 * systemd's rules: a unit owns a process that is its MainPID or sits in its ControlGroup (the v2 `0::`
 * hierarchy or the v1 `name=systemd` one, /proc/PID/cgroup, man 7 cgroups); its restart is
 * `systemctl [--user] restart UNIT`, its stop `systemctl disable --now UNIT`. Units come from
 * `systemctl show` (src/sources/supervisors/systemd.ts; fields in systemd.exec(5) and systemd.unit(5)).
 */
import type { HostSnapshot, ProcessRecord, SupervisorRef, SystemdUnit, UnitState } from '../../types.js';
import { parseHermesArgv } from '../argv.js';
import { cleanPath, homeForProfile, rootOfHome } from '../paths.js';
import { shellCommand } from '../shell-quote.js';
import { type HomeSupervisor, type SupervisionContext, type SupervisorRules, ancestorIsProcessOf, noAncestorText, supervisionContext } from './rules.js';

/** Every systemd unit the snapshot's observations hold. */
function unitsOf(snap: HostSnapshot): SystemdUnit[] {
  return snap.supervisors.flatMap((s) => s.systemdUnits ?? []);
}

/** cgroup paths of a process (or of the guard's caller) in the hierarchies systemd uses (v2 `0::`, v1 `name=systemd`). */
export function systemdCgroupPaths(p: Pick<ProcessRecord, 'cgroups'>): string[] {
  return p.cgroups.filter((c) => c.hierarchy === 0 || c.controllers === 'name=systemd').map((c) => c.path);
}

/** Whether cgroup path `cg` is a unit's ControlGroup or below it; never for an empty or root (`/`) ControlGroup. */
export function cgroupUnder(cg: string, controlGroup: string): boolean {
  return !!controlGroup && controlGroup !== '/' && (cg === controlGroup || cg.startsWith(controlGroup + '/'));
}

/** The `hermes-worker-*.scope` a process sits in (any systemd hierarchy), or null. */
export function workerScope(p: ProcessRecord): string | null {
  for (const cg of systemdCgroupPaths(p)) {
    const last = cg.split('/').filter(Boolean).pop() ?? '';
    if (/^hermes-worker-.*\.scope$/.test(last)) return last;
  }
  return null;
}

function inCgroup(p: ProcessRecord, controlGroup: string): boolean {
  return systemdCgroupPaths(p).some((cg) => cgroupUnder(cg, controlGroup));
}

/** The unit that owns a cgroup path: its deepest `.service` or `.scope` component (systemd.unit(5)), or null. */
export function owningUnitOfCgroup(cgPath: string): string | null {
  const parts = cgPath.split('/').filter(Boolean);
  for (let i = parts.length - 1; i >= 0; i--) if (parts[i]!.endsWith('.service') || parts[i]!.endsWith('.scope')) return parts[i]!;
  return null;
}

/**
 * Whether a process sits in a unit's own cgroup: under its ControlGroup with no deeper unit in between
 * (a terminal's `vte-spawn-….scope` under `user@1000.service/app.slice` belongs to that scope, not to
 * user@1000.service; a Delegate= sub-cgroup of a service still belongs to the service).
 */
function inUnitCgroup(cgroups: string[], unit: string, controlGroup: string): boolean {
  return cgroups.some((cg) => cgroupUnder(cg, controlGroup) && owningUnitOfCgroup(cg) === unit);
}

/**
 * `systemctl [--user] restart UNIT`: the supervised way to restart a unit. A user unit seen by another
 * user (root) gets `--machine=NAME@`, so the command works from the scanner's shell.
 */
export function systemdRestartCommand(u: Pick<SystemdUnit, 'unit' | 'scope' | 'uid' | 'userName'>, scannerUid?: number): string {
  if (u.scope !== 'user') return shellCommand(['systemctl', 'restart', u.unit]);
  const other = u.uid !== undefined && scannerUid !== undefined && u.uid !== scannerUid && u.userName;
  return shellCommand(['systemctl', '--user', ...(other ? [`--machine=${u.userName}@`] : []), 'restart', u.unit]);
}

/** Below this many automatic restarts a stopped unit is just restarting, not looping. */
export const CRASH_LOOP_RESTARTS = 2;

/** Exit statuses systemd itself produces before the program runs (systemd.exec(5), "Process Exit Codes"). */
const SYSTEMD_EXEC_STATUS: Record<number, string> = { 200: 'CHDIR', 203: 'EXEC', 217: 'USER', 226: 'NAMESPACE' };

/**
 * Why a unit looks like it crash-loops, or null. Pure. Signs: a WorkingDirectory or ExecStart executable
 * that no longer exists (the source records them in `missingPaths`; seed 003's status=200/CHDIR loop),
 * a last exit status that systemd produced before the program ran (200 CHDIR, 203 EXEC, …), or a unit
 * that is restarting or failed (not stopped by hand) after at least {@link CRASH_LOOP_RESTARTS} automatic
 * restarts. A running unit with a missing path is reported too: its next start will fail.
 */
export function crashLoopReason(u: SystemdUnit): string | null {
  // Restarting (activating/auto-restart) or given up (failed); a unit stopped by hand (inactive) is not looping.
  const looping = u.activeState === 'activating' || u.activeState === 'failed';
  const bits: string[] = [];
  for (const m of u.missingPaths ?? []) {
    bits.push(m === u.workingDirectory ? `WorkingDirectory ${m} no longer exists` : `ExecStart executable ${m} no longer exists`);
  }
  const st = u.execMainStatus ?? null;
  if (looping && st !== null && SYSTEMD_EXEC_STATUS[st]) bits.push(`last start failed with status=${st}/${SYSTEMD_EXEC_STATUS[st]}`);
  if (looping && u.nRestarts >= CRASH_LOOP_RESTARTS) bits.push(`restarted ${u.nRestarts} times and not running (${u.activeState}/${u.subState}${u.result && u.result !== 'success' ? `, Result=${u.result}` : ''})`);
  if (bits.length === 0) return null;
  return bits.join('; ');
}

/** The gateway home a systemd unit runs, from ExecStart `-p X` and Environment= HERMES_HOME; null if not a gateway unit or unknown. */
export function unitHome(u: SystemdUnit): string | null {
  const cmd = parseHermesArgv(u.execStart);
  const inner = cmd?.wrapped ?? cmd;
  if (inner?.profile) {
    const root = u.hermesHome ? rootOfHome(u.hermesHome) : null;
    return root ? homeForProfile(root, inner.profile) : null;
  }
  return u.hermesHome ? cleanPath(u.hermesHome) : null;
}

/** Whether a unit's ExecStart runs a Hermes gateway (directly or through a wrapper such as `sh -c` or `doppler run`). */
export function unitRunsGateway(u: SystemdUnit): boolean {
  const cmd = parseHermesArgv(u.execStart);
  const inner = cmd?.wrapped ?? cmd;
  return inner?.command === 'gateway' && (inner.gatewaySub === 'run' || inner.gatewaySub === null);
}

/** Processes of a unit: its MainPID (when running) and every process in its cgroup. */
function unitMembers(u: SystemdUnit, snap: HostSnapshot): ProcessRecord[] {
  return snap.processes.filter((p) => (u.mainPid > 0 && p.pid === u.mainPid) || inCgroup(p, u.controlGroup));
}

/**
 * The per-unit state the report shows: every systemd unit that runs a Hermes gateway by ExecStart or
 * holds a Hermes process in its cgroup, with its home, its Hermes PIDs and a crash-loop reason.
 *
 * @param homeOfPid the HERMES_HOME of a PID (identify()), null when unknown
 * @param ctx the snapshot's supervision context, when one was computed (argv parsed once)
 */
export function unitStates(snap: HostSnapshot, homeOfPid: (pid: number) => string | null, ctx: SupervisionContext = supervisionContext(snap, undefined, homeOfPid)): UnitState[] {
  const out: UnitState[] = [];
  for (const u of unitsOf(snap)) {
    const hermes = unitMembers(u, snap).filter((p) => ctx.cmdOf(p) !== null);
    const named = /^hermes-gateway.*\.service$/.test(u.unit);
    if (!unitRunsGateway(u) && hermes.length === 0 && !named) continue;
    const home = unitHome(u) ?? hermes.map((p) => homeOfPid(p.pid)).find((h): h is string => h !== null) ?? null;
    out.push({
      kind: 'systemd',
      unit: u.unit,
      scope: u.scope,
      ...(u.uid !== undefined ? { uid: u.uid } : {}),
      activeState: u.activeState,
      subState: u.subState,
      result: u.result ?? null,
      nRestarts: u.nRestarts,
      mainPid: u.mainPid,
      controlGroup: u.controlGroup,
      home,
      pids: hermes.map((p) => p.pid).sort((a, b) => a - b),
      crashLoop: crashLoopReason(u),
      restart: systemdRestartCommand(u, snap.scannerUid),
    });
  }
  return out.sort((a, b) => a.scope.localeCompare(b.scope) || a.unit.localeCompare(b.unit));
}

export const systemdRules: SupervisorRules = {
  kind: 'systemd',
  pidName: 'MainPID',

  owns(p, ctx) {
    const units = unitsOf(ctx.snap);
    for (const u of units) {
      if (u.mainPid > 0 && u.mainPid === p.pid) return { kind: 'systemd', unit: u.unit, mainPid: u.mainPid, via: 'MainPID' };
    }
    for (const u of units) {
      if (inCgroup(p, u.controlGroup)) return { kind: 'systemd', unit: u.unit, mainPid: u.mainPid || null, via: `cgroup ${u.controlGroup}` };
    }
    return null;
  },

  homeSupervisors(ctx, add) {
    const { snap } = ctx;
    for (const u of unitsOf(snap)) {
      const members = snap.processes.filter((p) => p.pid === u.mainPid || inCgroup(p, u.controlGroup));
      const runsGateway = unitRunsGateway(u) || members.some((p) => ctx.cmdOf(p)?.command === 'gateway');
      if (!runsGateway) continue;
      const hs: HomeSupervisor = {
        kind: 'systemd',
        unit: u.unit,
        mainPid: u.mainPid,
        state: `${u.activeState}/${u.subState}`,
        restart: systemdRestartCommand(u, snap.scannerUid),
        controlGroup: u.controlGroup,
      };
      add(unitHome(u), hs);
      const memberHomes = members.map((p) => ctx.homeOf(p.pid)).filter((h): h is string => h !== null);
      for (const h of new Set(memberHomes)) add(h, hs);
    }
  },

  protectsPid(pid, snap) {
    for (const u of unitsOf(snap)) {
      if (u.mainPid > 0 && u.mainPid === pid) return `PID ${pid} is the MainPID of ${u.unit}`;
    }
    return null;
  },

  protectsMember(rec, snap) {
    const cgs = systemdCgroupPaths(rec);
    for (const u of unitsOf(snap)) {
      if (inUnitCgroup(cgs, u.unit, u.controlGroup)) return `PID ${rec.pid} is inside the cgroup ${u.controlGroup} of ${u.unit}`;
    }
    return null;
  },

  describeOutside(rec, s) {
    const cg = systemdCgroupPaths(rec)[0];
    return [s.mainPid > 0 ? `not MainPID ${s.mainPid} of ${s.unit}` : `${s.unit} is ${s.state}`, `cgroup ${cg ?? '?'} is not ${s.controlGroup || s.unit}`];
  },

  describeOwner(ref: SupervisorRef) {
    return `supervised by ${ref.unit} (${ref.via}${ref.via === 'MainPID' ? '' : ref.mainPid ? `; MainPID ${ref.mainPid}` : ''})`;
  },

  stopCommand(ref) {
    return shellCommand(['systemctl', 'disable', '--now', ref.unit]);
  },

  callerInside(sup, caller) {
    if (sup.controlGroup) {
      const cg = systemdCgroupPaths(caller).find((p) => cgroupUnder(p, sup.controlGroup!));
      if (cg) return { kind: 'systemd', unit: sup.unit, via: `its cgroup ${cg} is in ${sup.controlGroup}` };
    }
    for (const a of caller.ancestors) {
      const inside = ancestorIsProcessOf(sup, a, 'MainPID');
      if (inside) return inside;
    }
    return null;
  },

  describeCallerOutside(caller, s) {
    const cg = caller.cgroups.find((c) => c.hierarchy === 0) ?? caller.cgroups.find((c) => c.controllers === 'name=systemd');
    return [`cgroup ${cg?.path ?? '?'} is not in ${s.controlGroup ?? s.unit}`, noAncestorText(s)];
  },
};
