/**
 * Supervisor membership, pure: is a process owned by a systemd unit (MainPID or cgroup), an s6 slot
 * (slot PID or child of `s6-supervise SLOT`), or a web UI (child of the hermes-studio Node server)?
 * And which supervisors exist for a HERMES_HOME, whether or not they own a process right now?
 */
import type { HostSnapshot, LaunchdJob, ProcessRecord, S6Slot, SupervisorRef, SystemdUnit, UnitState } from '../types.js';
import { isWebUiArgv, normaliseToken, parseHermesArgv, s6SuperviseSlot } from './argv.js';
import { identify, identifyContext } from './identify.js';
import { cleanPath, homeForProfile, rootOfHome } from './paths.js';
import { shellCommand } from './shell-quote.js';

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

/**
 * The per-unit state the report shows: every systemd unit that runs a Hermes gateway by ExecStart or
 * holds a Hermes process in its cgroup, with its home, its Hermes PIDs and a crash-loop reason.
 */
export function unitStates(snap: HostSnapshot, homeOfPid: (pid: number) => string | null): UnitState[] {
  const out: UnitState[] = [];
  for (const sup of snap.supervisors) {
    for (const u of sup.systemdUnits ?? []) {
      const members = snap.processes.filter((p) => (u.mainPid > 0 && p.pid === u.mainPid) || inCgroup(p, u.controlGroup));
      const hermes = members.filter((p) => parseHermesArgv(p.argv) !== null);
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
  }
  return out.sort((a, b) => a.scope.localeCompare(b.scope) || a.unit.localeCompare(b.unit));
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
  // A tool worker that newer Hermes moved into a transient `hermes-worker-*.scope` (systemd-run --scope,
  // reference §3.1) sits outside the service cgroup but belongs to the gateway that started it.
  const scope = workerScope(p);
  if (scope) {
    let cur = byPid.get(p.ppid);
    for (let depth = 0; cur && depth < 8; depth++, cur = byPid.get(cur.ppid)) {
      if (parseHermesArgv(cur.argv)?.command !== 'gateway') continue;
      const up = supervisorOf(cur, snap, byPid);
      if (up) return { ...up, via: `worker scope ${scope} of gateway PID ${cur.pid} (${up.via})` };
      break;
    }
  }
  const platform = platformSupervisorOf(p, snap, byPid);
  if (platform) return platform;
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
  platformSupervisorsByHome(snap, homeOfPid, add);
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
        restart: systemdRestartCommand(u, snap.scannerUid),
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
        restart: shellCommand(['s6-svc', '-r', s.dir]),
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

// ---------------------------------------------------------------------------------------------------
// macOS and Windows: launchd jobs, Scheduled Tasks, web-UI and Desktop managed gateways (docs/platforms.md).

/** True when argv is the Hermes Desktop app (Electron, reference §6.4): `…/Hermes.app/Contents/MacOS/…`, `Hermes Desktop.exe`, or electron running a hermes app. */
export function isDesktopAppArgv(argv: readonly string[]): boolean {
  if (argv.length === 0) return false;
  const first = normaliseToken(argv[0]!);
  if (/hermes[^/]*\.app\/contents\/macos\//.test(first)) return true;
  const base = first.slice(first.lastIndexOf('/') + 1);
  if (/^hermes[ _-]?desktop(\.exe)?$/.test(base)) return true;
  return /^electron(\.exe)?$/.test(base) && argv.some((a) => /hermes/i.test(a) && /desktop/i.test(a));
}

/** A process of interest by argv alone off Linux (macOS, Windows scans): Hermes, the web UI, the Desktop app. */
export function isHermesOrAppArgv(argv: string[]): boolean {
  return argv.length > 0 && (parseHermesArgv(argv) !== null || isWebUiArgv(argv) || isDesktopAppArgv(argv));
}

/** The environment signature of a gateway spawned by the web UI (reference §6.3): a port variable and API_SERVER_ENABLED=1. */
export function hasWebUiGatewayEnv(p: ProcessRecord): boolean {
  return (p.env.GATEWAY_PORT !== undefined || p.env.HERMES_GATEWAY_PORT !== undefined) && p.env.API_SERVER_ENABLED === '1';
}

/** The environment signature of a Desktop-managed backend or gateway (reference §3.5, §6.4). */
export function hasDesktopEnv(p: ProcessRecord): boolean {
  return p.env.HERMES_DESKTOP_MANAGED !== undefined || p.env.HERMES_DESKTOP === '1';
}

function isNodeArgv(argv: readonly string[]): boolean {
  const first = argv[0] ? normaliseToken(argv[0]) : '';
  const base = first.slice(first.lastIndexOf('/') + 1);
  return /^node(js)?(\.exe)?$/.test(base);
}

function portText(p: ProcessRecord, snap: HostSnapshot): string {
  const h = snap.portHolders?.find((x) => x.forPid === p.pid);
  if (!h) return '';
  if (h.pids.length === 0) return `; nothing listens on its ${h.variable} ${h.port}`;
  return `; ${h.variable} ${h.port} is held by ${h.pids.map((pid, i) => `PID ${pid}${h.names[i] ? ` (${h.names[i]})` : ''}`).join(', ')}`;
}

/** A launched-by-parent process whose parent is gone: not in the snapshot, PPID 1, or a reused PID started after it. */
function parentGone(p: ProcessRecord, byPid: Map<number, ProcessRecord>): boolean {
  if (p.ppid <= 1) return true;
  const parent = byPid.get(p.ppid);
  return !parent || (parent.startTicks > 0 && p.startTicks > 0 && parent.startTicks > p.startTicks);
}

function windowsTaskOf(p: ProcessRecord, snap: HostSnapshot, byPid: Map<number, ProcessRecord>): SupervisorRef | null {
  const tasks = snap.supervisors.flatMap((s) => s.windowsTasks ?? []);
  if (tasks.length === 0) return null;
  const cmd = parseHermesArgv(p.argv);
  if (cmd?.command !== 'gateway') return null;
  const tl = p.platformHints?.taskLauncher;
  if (tl) {
    const t = tasks.find((x) => x.launcher && x.launcher === tl.launcher);
    if (t) return { kind: 'windows-task', unit: t.name, mainPid: null, via: `launched by ${tl.launcher} (PID ${tl.pid} still alive)` };
  }
  const home = identify(p, identifyContext(snap)).hermesHome;
  const t = home ? tasks.find((x) => x.hermesHome && cleanPath(x.hermesHome) === home) : undefined;
  if (!t) return null;
  if (p.env.HERMES_GATEWAY_DETACHED === '1') return { kind: 'windows-task', unit: t.name, mainPid: null, via: "HERMES_GATEWAY_DETACHED=1 and the task's HERMES_HOME" };
  // The .vbs launcher runs the gateway with `Run …, 0, False` and exits: a task gateway's parent is gone.
  // Hermes's launchers run `<python> -m hermes_cli.main [--profile X] gateway run` without --replace.
  const taskShaped = cmd.entry === 'hermes_cli.main' && cmd.direct && !cmd.flags.includes('--replace');
  if (taskShaped && parentGone(p, byPid)) {
    return { kind: 'windows-task', unit: t.name, mainPid: null, via: `its launcher exited (PPID ${p.ppid} gone) and it runs the task's \`-m hermes_cli.main … gateway run\` for ${t.hermesHome}` };
  }
  return null;
}

/**
 * Supervisor proofs off Linux, strongest first: the launchd job's PID (launchctl), a living ancestor
 * running a Scheduled Task's launcher, the task's home plus HERMES_GATEWAY_DETACHED or the task's exact
 * launch shape, then a living web UI (Node) or Desktop (Electron) parent of a gateway carrying that app's
 * environment signature. Null when none applies.
 */
export function platformSupervisorOf(p: ProcessRecord, snap: HostSnapshot, byPid: Map<number, ProcessRecord>): SupervisorRef | null {
  for (const sup of snap.supervisors) {
    for (const j of sup.launchdJobs ?? []) {
      if (j.pid > 0 && j.pid === p.pid) {
        const xpc = p.env.XPC_SERVICE_NAME === j.label ? '; XPC_SERVICE_NAME agrees' : '';
        return { kind: 'launchd', unit: j.label, mainPid: j.pid, via: `launchctl PID of ${j.domain}/${j.label}${xpc}` };
      }
    }
  }
  const task = windowsTaskOf(p, snap, byPid);
  if (task) return task;
  const parent = byPid.get(p.ppid);
  if (parent && !parentGone(p, byPid) && parseHermesArgv(p.argv)) {
    if (hasDesktopEnv(p) && (isDesktopAppArgv(parent.argv) || isNodeArgv(parent.argv))) {
      return { kind: 'desktop', unit: `Desktop app PID ${parent.pid}`, mainPid: parent.pid, via: `child of the Desktop app (HERMES_DESKTOP in its environment)${portText(p, snap)}` };
    }
    if (hasWebUiGatewayEnv(p) && isNodeArgv(parent.argv)) {
      return { kind: 'web-ui', unit: `web UI PID ${parent.pid}`, mainPid: parent.pid, via: `child of the web UI server (GATEWAY_PORT, API_SERVER_ENABLED=1)${portText(p, snap)}` };
    }
  }
  return null;
}

/**
 * The app that managed a gateway and is gone: a gateway with the web-UI or Desktop environment
 * signature whose parent app no longer lives (PPID 1 or missing). Such a gateway is a ghost: nothing
 * will stop it, and its app will start another (reference §6.3, hermes-studio #1321). Null otherwise.
 */
export function abandonedBy(p: ProcessRecord, snap: HostSnapshot, byPid: Map<number, ProcessRecord>): SupervisorRef | null {
  if (parseHermesArgv(p.argv)?.command !== 'gateway' || !parentGone(p, byPid)) return null;
  if (hasDesktopEnv(p)) return { kind: 'desktop', unit: 'Desktop app (gone)', mainPid: null, via: `HERMES_DESKTOP in its environment but its Desktop parent is gone (PPID ${p.ppid})${portText(p, snap)}` };
  if (hasWebUiGatewayEnv(p)) return { kind: 'web-ui', unit: 'web UI (gone)', mainPid: null, via: `GATEWAY_PORT and API_SERVER_ENABLED=1 in its environment but its web UI parent is gone (PPID ${p.ppid})${portText(p, snap)}` };
  return null;
}

/** The home a launchd job runs: its environment HERMES_HOME, its process's home, else its arguments' or label's profile under the root in sight. */
export function launchdJobHome(job: LaunchdJob, snap: HostSnapshot, homeOfPid: (pid: number) => string | null): string | null {
  if (job.hermesHome) return cleanPath(job.hermesHome);
  if (job.pid > 0) {
    const own = homeOfPid(job.pid);
    if (own) return own;
    // The stderr wrapper is the job's PID; the gateway is its child.
    for (const c of snap.processes.filter((x) => x.ppid === job.pid)) {
      const h = homeOfPid(c.pid);
      if (h) return h;
    }
  }
  const cmd = job.arguments ? parseHermesArgv(job.arguments) : null;
  const profile = (cmd?.wrapped ?? cmd)?.profile ?? job.profile;
  if (!profile) return null;
  const userHome = snap.userHomes?.[String(snap.scannerUid)];
  const roots = [...new Set(snap.homes.map((h) => cleanPath(h.root)))];
  const def = userHome ? cleanPath(`${userHome}/.hermes`) : null;
  const root = def && roots.includes(def) ? def : roots.length === 1 ? roots[0]! : null;
  return root ? homeForProfile(root, profile) : null;
}

function platformSupervisorsByHome(snap: HostSnapshot, homeOfPid: (pid: number) => string | null, add: (home: string | null, hs: HomeSupervisor) => void): void {
  const homeRec = new Map(snap.homes.map((h) => [cleanPath(h.path), h]));
  for (const sup of snap.supervisors) {
    for (const j of sup.launchdJobs ?? []) {
      const home = launchdJobHome(j, snap, homeOfPid);
      // The detached fallback (.gateway-launchd-unsupported): a registered job with no process does not supervise.
      if (home && j.pid <= 0 && homeRec.get(home)?.launchdUnsupported) continue;
      add(home, {
        kind: 'launchd',
        unit: j.label,
        mainPid: j.pid,
        state: j.state ?? (j.pid > 0 ? 'running' : 'not running'),
        restart: shellCommand(['launchctl', 'kickstart', '-k', `${j.domain}/${j.label}`]),
      });
    }
    for (const t of sup.windowsTasks ?? []) {
      add(t.hermesHome ? cleanPath(t.hermesHome) : null, {
        kind: 'windows-task',
        unit: t.name,
        mainPid: 0,
        state: t.state,
        restart: `schtasks /Run /TN "${t.name}"`,
      });
    }
  }
}
