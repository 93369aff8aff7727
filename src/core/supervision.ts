/**
 * Supervisor membership, pure: is a process owned by a systemd unit (MainPID or cgroup), an s6 slot
 * (slot PID or child of `s6-supervise SLOT`), or a web UI (child of the hermes-studio Node server)?
 * And which supervisors exist for a HERMES_HOME, whether or not they own a process right now?
 */
import type { HostSnapshot, ProcessRecord, S6Slot, SupervisorRef, SystemdUnit } from '../types.js';
import { isWebUiArgv, parseHermesArgv, s6SuperviseSlot } from './argv.js';
import { cleanPath, homeForProfile, rootOfHome } from './paths.js';

/** A supervisor that exists for a home (installed unit, slot), whether or not it runs a process now. */
export interface HomeSupervisor {
  kind: 'systemd' | 's6' | 'launchd' | 'windows-task';
  /** Unit, slot or label name. */
  unit: string;
  /** Its process (MainPID / slot PID), 0 when none. */
  mainPid: number;
  /** ActiveState / up-down, for messages. */
  state: string;
  /** The command that restarts it the right way. */
  restart: string;
  /** For systemd: its ControlGroup. */
  controlGroup?: string;
}

/** cgroup paths of a process in the hierarchies systemd uses (v2 `0::`, v1 `name=systemd`). */
export function systemdCgroupPaths(p: ProcessRecord): string[] {
  return p.cgroups.filter((c) => c.hierarchy === 0 || c.controllers === 'name=systemd').map((c) => c.path);
}

function inCgroup(p: ProcessRecord, controlGroup: string): boolean {
  if (!controlGroup || controlGroup === '/') return false;
  return systemdCgroupPaths(p).some((cg) => cg === controlGroup || cg.startsWith(controlGroup + '/'));
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

/** The gateway home an s6 slot runs: run script HERMES_HOME (+ `-p`), else null. */
export function slotHome(s: S6Slot): string | null {
  if (!s.hermesHome) return null;
  const root = rootOfHome(s.hermesHome);
  if (s.profile && s.profile !== 'default' && cleanPath(s.hermesHome) === root) return homeForProfile(root, s.profile);
  return cleanPath(s.hermesHome);
}

/**
 * The supervisor that owns a process, or null. Proofs, strongest first: systemd MainPID, membership of
 * the unit's cgroup, s6 slot PID, parent `s6-supervise SLOT`, parent is the web UI's Node server.
 * Environment markers (INVOCATION_ID, HERMES_S6_SUPERVISED_CHILD) are never proof alone: desktop
 * terminals set INVOCATION_ID (reference §3.5).
 */
export function supervisorOf(p: ProcessRecord, snap: HostSnapshot, byPid: Map<number, ProcessRecord>): SupervisorRef | null {
  for (const sup of snap.supervisors) {
    for (const u of sup.systemdUnits ?? []) {
      if (u.mainPid > 0 && u.mainPid === p.pid) return { kind: 'systemd', unit: u.unit, mainPid: u.mainPid, via: 'MainPID' };
    }
  }
  for (const sup of snap.supervisors) {
    for (const u of sup.systemdUnits ?? []) {
      if (inCgroup(p, u.controlGroup)) return { kind: 'systemd', unit: u.unit, mainPid: u.mainPid || null, via: `cgroup ${u.controlGroup}` };
    }
  }
  for (const sup of snap.supervisors) {
    for (const s of sup.s6Slots ?? []) {
      if (s.pid > 0 && s.pid === p.pid) return { kind: 's6', unit: s.name, mainPid: s.pid, via: 'slot PID (s6-svstat)' };
    }
  }
  const parent = byPid.get(p.ppid);
  if (parent) {
    const slot = s6SuperviseSlot(parent.argv);
    if (slot) {
      const s = snap.supervisors.flatMap((x) => x.s6Slots ?? []).find((x) => x.name === slot);
      return { kind: 's6', unit: slot, mainPid: s?.pid || p.pid, via: `child of s6-supervise ${slot} (PID ${parent.pid})` };
    }
    if (isWebUiArgv(parent.argv)) {
      return { kind: 'web-ui', unit: `web UI PID ${parent.pid}`, mainPid: parent.pid, via: 'child of the web UI server' };
    }
    // A launcher that stays alive as the parent (sudo, doppler, the launchd stderr wrapper) passes on its owner.
    const pc = parseHermesArgv(parent.argv);
    if (pc && (pc.command === 'wrapper' || !pc.direct)) {
      const up = supervisorOf(parent, snap, byPid);
      if (up) return { ...up, via: `${up.via} of its wrapper PID ${parent.pid}` };
    }
  }
  return null;
}

/** Supervisors that exist for each home (installed units, s6 slots), keyed by home path. */
export function supervisorsByHome(
  snap: HostSnapshot,
  homeOfPid: (pid: number) => string | null,
): Map<string, HomeSupervisor[]> {
  const out = new Map<string, HomeSupervisor[]>();
  const add = (home: string | null, hs: HomeSupervisor) => {
    if (!home) return;
    const k = cleanPath(home);
    const list = out.get(k) ?? [];
    if (!list.some((x) => x.kind === hs.kind && x.unit === hs.unit)) list.push(hs);
    out.set(k, list);
  };
  const byPid = new Map(snap.processes.map((p) => [p.pid, p]));
  for (const sup of snap.supervisors) {
    for (const u of sup.systemdUnits ?? []) {
      const members = snap.processes.filter((p) => p.pid === u.mainPid || inCgroup(p, u.controlGroup));
      const memberHomes = members.map((p) => homeOfPid(p.pid)).filter((h): h is string => h !== null);
      const runsGateway = unitRunsGateway(u) || members.some((p) => parseHermesArgv(p.argv)?.command === 'gateway');
      if (!runsGateway) continue;
      const hs: HomeSupervisor = {
        kind: 'systemd',
        unit: u.unit,
        mainPid: u.mainPid,
        state: `${u.activeState}/${u.subState}`,
        restart: `systemctl${u.scope === 'user' ? ' --user' : ''} restart ${u.unit}`,
        controlGroup: u.controlGroup,
      };
      add(unitHome(u), hs);
      for (const h of new Set(memberHomes)) add(h, hs);
    }
    for (const s of sup.s6Slots ?? []) {
      const hs: HomeSupervisor = {
        kind: 's6',
        unit: s.name,
        mainPid: s.pid,
        state: s.up ? 'up' : 'down',
        restart: `s6-svc -r ${s.dir}`,
      };
      add(slotHome(s), hs);
      if (s.pid > 0 && byPid.has(s.pid)) add(homeOfPid(s.pid), hs);
      // A slot with no home in its run script and no process: match by profile name when one root is in sight.
      if (!slotHome(s) && !(s.pid > 0) && s.profile) {
        const roots = new Set(snap.homes.map((h) => h.root));
        if (roots.size === 1) add(homeForProfile([...roots][0]!, s.profile), hs);
      }
    }
  }
  return out;
}
