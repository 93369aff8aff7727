/**
 * Supervisor membership, pure: is a process owned by a systemd unit (MainPID or cgroup), an s6 slot
 * (slot PID or child of `s6-supervise SLOT`), a launchd job, a Scheduled Task or a web UI / Desktop app?
 * And which supervisors exist for a HERMES_HOME, whether or not they own a process right now?
 *
 * The rules live per kind in ./supervision/ (one module per kind behind one interface); this module
 * keeps the entry points by snapshot for callers that have no analysis (./analysis.ts) at hand.
 */
import type { HostSnapshot, ProcessRecord, SupervisorRef } from '../types.js';
import { parseHermesArgv, isWebUiArgv } from './argv.js';
import { isDesktopAppArgv } from './supervision/apps.js';
import { type HomeSupervisor, abandonedBy as abandonedByCtx, homeSupervisors, ownerOf, platformOwnerOf, supervisionContext } from './supervision/index.js';

export type { HomeSupervisor } from './supervision/index.js';
export { cgroupUnder, CRASH_LOOP_RESTARTS, crashLoopReason, owningUnitOfCgroup, systemdCgroupPaths, systemdRestartCommand, unitHome, unitRunsGateway, unitStates, workerScope } from './supervision/systemd.js';
export { slotHome } from './supervision/s6.js';
export { launchdJobHome } from './supervision/launchd.js';
export { hasDesktopEnv, hasWebUiGatewayEnv, isDesktopAppArgv } from './supervision/apps.js';

/**
 * The supervisor that owns a process, or null (./supervision/index.ts `ownerOf` for the proofs and
 * their order). Runs identify() on the processes it needs a home for.
 */
export function supervisorOf(p: ProcessRecord, snap: HostSnapshot, byPid: Map<number, ProcessRecord>): SupervisorRef | null {
  return ownerOf(p, supervisionContext(snap, byPid));
}

/** Supervisor proofs off Linux (launchd job PID, Scheduled Task, a living web UI or Desktop parent), strongest first; null when none applies. */
export function platformSupervisorOf(p: ProcessRecord, snap: HostSnapshot, byPid: Map<number, ProcessRecord>): SupervisorRef | null {
  return platformOwnerOf(p, supervisionContext(snap, byPid));
}

/**
 * The app that managed a gateway and is gone: a gateway with the web-UI or Desktop environment
 * signature whose parent app no longer lives (PPID 1 or missing); null otherwise.
 */
export function abandonedBy(p: ProcessRecord, snap: HostSnapshot, byPid: Map<number, ProcessRecord>): SupervisorRef | null {
  return abandonedByCtx(p, supervisionContext(snap, byPid));
}

/**
 * Supervisors that exist for each home (installed units, s6 slots, launchd jobs, Scheduled Tasks),
 * keyed by home path.
 *
 * @param homeOfPid the HERMES_HOME of a PID (identify()), null when unknown
 */
export function supervisorsByHome(snap: HostSnapshot, homeOfPid: (pid: number) => string | null): Map<string, HomeSupervisor[]> {
  return homeSupervisors(supervisionContext(snap, undefined, homeOfPid));
}

/** A process of interest by argv alone off Linux (macOS, Windows scans): Hermes, the web UI, the Desktop app. */
export function isHermesOrAppArgv(argv: string[]): boolean {
  return argv.length > 0 && (parseHermesArgv(argv) !== null || isWebUiArgv(argv) || isDesktopAppArgv(argv));
}
