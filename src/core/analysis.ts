/**
 * The analysis of a snapshot, computed once and shared by the classifier, the guard and the kill
 * planner: each process's parsed argv and identity, the supervisor that owns it, the supervisors that
 * exist for each home, the per-unit states and the lock holders. Pure: a function of the snapshot only.
 *
 * A report keeps the analysis it was classified from (not serialised: JSON never sees it), so the kill
 * planner given the same snapshot object does not compute it again ({@link analysisOf}).
 */
import type { HostSnapshot, ProcessRecord, Report, SupervisorRef, UnitState } from '../types.js';
import type { HermesCommand } from './argv.js';
import { parseHermesArgv } from './argv.js';
import { type Identity, identify, identifyContext } from './identify.js';
import { type HomeSupervisor, type SupervisionContext, abandonedBy, homeSupervisors, ownerOf } from './supervision/index.js';
import { unitStates } from './supervision/systemd.js';

/** Everything about a snapshot that more than one step needs, computed once. */
export interface Analysis extends SupervisionContext {
  /** identify() of every process of the snapshot, by PID. */
  readonly identities: ReadonlyMap<number, Identity>;
  /** The supervisor that owns a process (./supervision/index.ts `ownerOf`), computed once per process. */
  supervisorOf(p: ProcessRecord): SupervisorRef | null;
  /** The web UI or Desktop app that managed a gateway and is gone (./supervision/apps.ts), or null. */
  abandonedBy(p: ProcessRecord): SupervisorRef | null;
  /** Supervisors that exist for each home (cleaned path), in the order the kinds report them. */
  readonly homeSupervisors: ReadonlyMap<string, HomeSupervisor[]>;
  /** The supervisors of a home; empty for a null or unknown home. */
  homeSupervisorsOf(home: string | null): HomeSupervisor[];
  /** Per-unit state of every systemd unit that runs or is named for a Hermes gateway (sorted: scope, unit). */
  readonly units: UnitState[];
  /** PIDs holding a FLOCK, POSIX or OFD lock on `file` (/proc/locks), each once, in lock order. */
  lockHolders(file: string): number[];
}

/**
 * Analyses a snapshot. Parses each argv once, runs identify() once per process, then owners and home
 * supervisors from those.
 */
export function analyze(snap: HostSnapshot): Analysis {
  const byPid = new Map(snap.processes.map((p) => [p.pid, p]));
  const cmds = new Map<ProcessRecord, HermesCommand | null>();
  const cmdOf = (p: ProcessRecord): HermesCommand | null => {
    if (!cmds.has(p)) cmds.set(p, parseHermesArgv(p.argv));
    return cmds.get(p)!;
  };
  const idCtx = identifyContext(snap);
  const identities = new Map<number, Identity>();
  for (const p of snap.processes) identities.set(p.pid, identify(p, idCtx, cmdOf(p)));
  const homeOf = (pid: number) => identities.get(pid)?.hermesHome ?? null;
  const ctx: SupervisionContext = { snap, byPid, cmdOf, homeOf };
  const owners = new Map<ProcessRecord, SupervisorRef | null>();
  const supervisorOf = (p: ProcessRecord): SupervisorRef | null => {
    if (!owners.has(p)) owners.set(p, ownerOf(p, ctx));
    return owners.get(p)!;
  };
  const byHome = homeSupervisors(ctx);
  const locks = new Map<string, number[]>();
  for (const l of snap.locks) {
    if (l.kind !== 'FLOCK' && l.kind !== 'POSIX' && l.kind !== 'OFDLCK') continue;
    const list = locks.get(l.path) ?? [];
    if (!list.includes(l.pid)) list.push(l.pid);
    locks.set(l.path, list);
  }
  return {
    ...ctx,
    identities,
    supervisorOf,
    abandonedBy: (p) => abandonedBy(p, ctx),
    homeSupervisors: byHome,
    homeSupervisorsOf: (home) => (home ? byHome.get(home) ?? [] : []),
    units: unitStates(snap, homeOf, ctx),
    lockHolders: (file) => [...(locks.get(file) ?? [])],
  };
}

const ANALYSIS = Symbol('hermes-doctor.analysis');

/** Keeps `analysis` with the report classified from it (a non-enumerable property: JSON, spreads and equality never see it). */
export function attachAnalysis(report: Report, analysis: Analysis): Report {
  Object.defineProperty(report, ANALYSIS, { value: analysis, enumerable: false });
  return report;
}

/** The analysis `report` was classified from when it was classified from this very snapshot object; else a fresh one. */
export function analysisOf(report: Report, snap: HostSnapshot): Analysis {
  const a = (report as Report & { [ANALYSIS]?: Analysis })[ANALYSIS];
  return a && a.snap === snap ? a : analyze(snap);
}
