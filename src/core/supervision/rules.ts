/**
 * The one interface every supervisor kind implements (systemd unit, s6 slot, launchd job, Windows
 * Scheduled Task), and the context the rules read. Pure: a rules module reads the snapshot and never
 * the host. Each kind's knowledge lives in its own module (./systemd.ts, ./s6.ts, ./launchd.ts,
 * ./windows-task.ts); ./index.ts lists the kinds and asks them in order.
 */
import type { HostSnapshot, ProcessRecord, SupervisorObservation, SupervisorRef } from '../../types.js';
import type { HermesCommand } from '../argv.js';
import { parseHermesArgv } from '../argv.js';
import type { GuardCaller } from '../guard.js';
import { identify, identifyContext } from '../identify.js';

/** A supervisor kind the sources observe. */
export type SupervisorKind = SupervisorObservation['kind'];

/** A supervisor that exists for a home (installed unit, slot), whether or not it runs a process now. */
export interface HomeSupervisor {
  kind: SupervisorKind;
  /** Unit, slot or label name. */
  unit: string;
  /** Its process (MainPID / slot PID / job PID), 0 when none (a Windows task has none). */
  mainPid: number;
  /** ActiveState/SubState, `up`/`down`, the launchd state or the task state, for messages. */
  state: string;
  /** The command that restarts it the right way (shell-quoted). */
  restart: string;
  /** For systemd: its ControlGroup. */
  controlGroup?: string;
}

/** What the rules read besides the process: the snapshot, and facts computed once per snapshot. */
export interface SupervisionContext {
  readonly snap: HostSnapshot;
  /** Every process of the snapshot by PID. */
  readonly byPid: ReadonlyMap<number, ProcessRecord>;
  /** `parseHermesArgv(p.argv)`, parsed once per process. */
  cmdOf(p: ProcessRecord): HermesCommand | null;
  /** The HERMES_HOME identify() finds for a PID of the snapshot; null when unknown or not in it. */
  homeOf(pid: number): string | null;
}

/** Adds a supervisor to a home's list (a null home is ignored; the same kind and unit is kept once). */
export type AddHomeSupervisor = (home: string | null, hs: HomeSupervisor) => void;

/** Proof that the guard's caller runs inside a supervisor. */
export interface CallerInside {
  kind: string;
  unit: string;
  via: string;
}

/**
 * One supervisor kind's rules. Every method is pure. The methods are asked across kinds in the order of
 * ./index.ts `SUPERVISOR_KINDS`; a kind that has nothing to say returns null (or nothing).
 */
export interface SupervisorRules {
  readonly kind: SupervisorKind;
  /** What its own process is called in messages: `MainPID` (systemd) or `PID`. */
  readonly pidName: 'MainPID' | 'PID';
  /**
   * The supervisor that owns `p` by its own record of it (systemd MainPID or cgroup, s6 slot PID,
   * launchd job PID, a Windows task's launcher or launch shape), or null. Environment markers are never
   * proof alone (desktop terminals set INVOCATION_ID).
   */
  owns(p: ProcessRecord, ctx: SupervisionContext): SupervisorRef | null;
  /** The supervisor that owns `p` because its living parent is the supervisor's runner (`s6-supervise SLOT`), or null. */
  ownsAsChild?(p: ProcessRecord, parent: ProcessRecord, ctx: SupervisionContext): SupervisorRef | null;
  /** Every supervisor of this kind that exists for a home, added with `add` (a supervisor may serve several homes). */
  homeSupervisors(ctx: SupervisionContext, add: AddHomeSupervisor): void;
  /** Why PID `pid` may never be signalled because it is this kind's own process (MainPID, slot PID, job PID), or null. */
  protectsPid(pid: number, snap: HostSnapshot): string | null;
  /** Why a process may never be signalled because it sits inside a supervisor of this kind (a unit's cgroup), or null. */
  protectsMember?(rec: ProcessRecord, snap: HostSnapshot): string | null;
  /** How `rec` is outside `sup`, in words (`not MainPID 812 of x.service`, `cgroup … is not …`), for an orphan's reason. */
  describeOutside(rec: ProcessRecord, sup: HomeSupervisor): string[];
  /** How a process owned by `ref` is described in its reason (`supervised by …`). */
  describeOwner(ref: SupervisorRef): string;
  /**
   * The supervised way to stop `ref` for good (a ghost it would respawn), shell-quoted; null when this
   * kind has no such command here and the process itself is ended instead.
   */
  stopCommand(ref: SupervisorRef, snap: HostSnapshot): string | null;
  /** Whether the guard's caller runs inside `sup` (its own cgroup, an ancestor that is the supervisor's process or runner), with the proof; null when not. */
  callerInside(sup: HomeSupervisor, caller: GuardCaller): CallerInside | null;
  /** Why the caller is outside `sup`, in words, for the guard's refusal (the INVOCATION_ID note is the guard's). */
  describeCallerOutside(caller: GuardCaller, sup: HomeSupervisor): string[];
}

/** The default description of an owner: `supervised by KIND UNIT (VIA)`. */
export function describeOwnerDefault(ref: SupervisorRef): string {
  return `supervised by ${ref.kind} ${ref.unit} (${ref.via})`;
}

/** The caller's ancestor that is `sup`'s own process, as the proof of being inside it; null when none. */
export function ancestorIsProcessOf(sup: HomeSupervisor, a: { pid: number }, pidName: string): CallerInside | null {
  if (sup.mainPid > 0 && a.pid === sup.mainPid) return { kind: sup.kind, unit: sup.unit, via: `its ancestor PID ${a.pid} is the ${pidName} of ${sup.unit}` };
  return null;
}

/** `no ancestor is PID N`, or `UNIT runs no process` when the supervisor has no process now. */
export function noAncestorText(sup: HomeSupervisor): string {
  return sup.mainPid > 0 ? `no ancestor is PID ${sup.mainPid}` : `${sup.unit} runs no process`;
}

/**
 * The judgement of a kind whose only proof of a process is the one PID it reports (a launchd job's PID, a
 * Scheduled Task's launcher): outside is "not that process", the caller is inside when one of its
 * ancestors is that process, and no supervised stop is offered (the process is ended with the kill remedy).
 */
export const judgedByProcessPid: Pick<SupervisorRules, 'describeOutside' | 'describeOwner' | 'stopCommand' | 'callerInside' | 'describeCallerOutside'> = {
  describeOutside: (_rec, s) => [`not the process of ${s.kind} ${s.unit}`],
  describeOwner: describeOwnerDefault,
  stopCommand: () => null,
  callerInside(sup, caller) {
    for (const a of caller.ancestors) {
      const inside = ancestorIsProcessOf(sup, a, 'PID');
      if (inside) return inside;
    }
    return null;
  },
  describeCallerOutside: (_caller, s) => [noAncestorText(s)],
};

/** A launched-by-parent process whose parent is gone: not in the snapshot, PPID ≤ 1, or a reused PID started after it (start stamps compared). */
export function parentGone(p: ProcessRecord, byPid: ReadonlyMap<number, ProcessRecord>): boolean {
  if (p.ppid <= 1) return true;
  const parent = byPid.get(p.ppid);
  return !parent || (parent.startTicks > 0 && p.startTicks > 0 && parent.startTicks > p.startTicks);
}

/**
 * A context for a snapshot when no analysis was computed: argv parsed once per process, identify() run
 * lazily once per PID for `homeOf` (or `homeOf` as given).
 */
export function supervisionContext(
  snap: HostSnapshot,
  byPid: ReadonlyMap<number, ProcessRecord> = new Map(snap.processes.map((p) => [p.pid, p])),
  homeOf?: (pid: number) => string | null,
): SupervisionContext {
  const cmds = new Map<ProcessRecord, HermesCommand | null>();
  const homes = new Map<number, string | null>();
  const idCtx = identifyContext(snap);
  const cmdOf = (p: ProcessRecord) => {
    if (!cmds.has(p)) cmds.set(p, parseHermesArgv(p.argv));
    return cmds.get(p)!;
  };
  return {
    snap,
    byPid,
    cmdOf,
    homeOf:
      homeOf ??
      ((pid) => {
        if (!homes.has(pid)) {
          const p = byPid.get(pid);
          homes.set(pid, p ? identify(p, idCtx).hermesHome : null);
        }
        return homes.get(pid)!;
      }),
  };
}
