/**
 * The `--kill` planner, pure: from the classified report and the snapshot it came from, which
 * processes may be signalled and which are refused, each with its reason. No I/O, no clock.
 *
 * Targets: verdicts orphan, duplicate (never the flock owner), ghost; orphaned workers only with
 * `includeWorkers`. Never, whatever the flags: PID ≤ 1, hermes-doctor itself and its ancestors, any
 * supervisor's MainPID or slot PID, any process inside a supervisor's cgroup or owned by a supervisor,
 * other users' processes unless running as root. The holder of its home's gateway.lock flock is refused
 * too, except an orphan of a home that a supervisor owns (or should own): a shell `gateway run --replace`
 * takes the home over from the supervised gateway (gateway/run.py `start_gateway` at v0.15.1 e71a2bd and
 * 306e2d2: SIGTERM to the owner, then the flock), so the orphan always holds the lock, and on 306e2d2 the
 * unit (no `--replace` in its ExecStart) crash-loops on "already running" until it is gone. Stray
 * holders are never targets: they are refused with their (masked) command so a person decides.
 */
import path from 'node:path';
import type { HostSnapshot, KillAction, ProcessVerdict, Report, Role, Verdict } from '../types.js';
import { KILLABLE_VERDICTS } from './classify.js';
import { maskArgv, maskShapes } from './mask.js';
import { analysisOf } from './analysis.js';
import { FILES, isKanbanDataFile, kanbanDbOfFile, rootOfHome } from './paths.js';
import { type HomeSupervisor, SUPERVISOR_KINDS, homeSupervisors } from './supervision/index.js';

export { owningUnitOfCgroup } from './supervision/systemd.js';

/** Options of a plan. */
export interface KillPlanOptions {
  /** `--pid`: only these PIDs; a listed PID that is not a target is refused with its reason. */
  pids?: number[];
  /** `--include-workers`: orphaned kanban workers become targets. */
  includeWorkers?: boolean;
  /** PIDs never signalled: hermes-doctor itself and its ancestors (default: the snapshot's scannerPids). */
  selfPids?: number[];
  /** UID of the caller; 0 (root) may signal every user's processes. */
  uid: number;
}

/** The home's owner that must survive a kill: the supervised (or flock-owning) gateway of the same home. */
export interface KillOwner {
  pid: number;
  /** Start stamp from the scan (clock ticks since boot on Linux). */
  startTicks: number;
  verdict: Verdict;
}

/** A process the plan allows to be signalled. */
export interface KillTarget {
  pid: number;
  /** Start stamp from the scan (clock ticks on Linux); re-checked before every signal. */
  startTicks: number;
  /** argv exactly as scanned (unmasked: compared with the live argv before every signal; never printed). */
  argv: string[];
  verdict: Verdict;
  role: Role;
  uid: number;
  hermesHome: string | null;
  /** Hermes root whose `logs/hermes-doctor.log` records the action (root of the home, else the kanban root). */
  auditRoot: string | null;
  reasons: string[];
  /** The gateway that owns this home and must keep its PID, lock and files; null when none. */
  owner: KillOwner | null;
  /**
   * True for an orphan that holds its home's gateway.lock flock (it took the home over from the
   * supervisor): its files are its own, none is put back, and the supervisor's gateway takes the lock on
   * its next start. Absent otherwise.
   */
  holdsHomeLock?: boolean;
}

/**
 * A process the plan will not signal, and why. Its identity fields are those of a `KillAction`
 * (masked argv, empty when the PID was not in the scan; start stamp null then).
 */
export interface KillRefusal extends Pick<KillAction, 'pid' | 'startTicks' | 'argv' | 'verdict' | 'role' | 'hermesHome'> {
  auditRoot: string | null;
  reasons: string[];
  /** Why it is not signalled, one sentence. */
  reason: string;
}

/** The plan: targets in PID order, refusals in PID order. */
export interface KillPlan {
  targets: KillTarget[];
  refusals: KillRefusal[];
}

/** Hermes root for the audit log of a process. */
export function auditRootOf(p: Pick<ProcessVerdict, 'hermesHome' | 'kanbanRoot'>): string | null {
  if (p.hermesHome) return rootOfHome(p.hermesHome);
  return p.kanbanRoot ?? null;
}

/**
 * Why a process may never be signalled whatever its verdict, or null. Checks, in order: PID ≤ 1,
 * hermes-doctor and its ancestors, supervisor MainPID / slot / job PID, a supervisor's cgroup, a
 * supervisor that owns it (s6 child, web UI, launchd, task), another user's process without root.
 */
export function protectedReason(p: ProcessVerdict, snap: HostSnapshot, opts: KillPlanOptions): string | null {
  if (p.pid <= 1) return `PID ${p.pid} is init`;
  const self = opts.selfPids ?? snap.scannerPids;
  if (self.includes(p.pid)) return `PID ${p.pid} is hermes-doctor itself or one of its ancestors`;
  for (const r of SUPERVISOR_KINDS) {
    const why = r.protectsPid(p.pid, snap);
    if (why) return why;
  }
  const rec = snap.processes.find((x) => x.pid === p.pid);
  if (rec) {
    for (const r of SUPERVISOR_KINDS) {
      const why = r.protectsMember?.(rec, snap);
      if (why) return why;
    }
  }
  if (p.supervisor) return `PID ${p.pid} is owned by ${p.supervisor.kind} ${p.supervisor.unit} (${p.supervisor.via})${p.verdict === 'ghost' ? ', which would respawn it: stop that supervisor first' : ''}`;
  if (opts.uid !== 0 && p.uid !== opts.uid) return `PID ${p.pid} belongs to UID ${p.uid}; only root may signal another user's processes`;
  return null;
}

/**
 * Why a stray holder (not Hermes, holding a kanban database) is never signalled: whatever it is doing
 * (an interactive sqlite3 session, a backup, a migration) is not Hermes's to end, and killing it mid-write
 * could lose that work; a person decides whether to close it.
 */
function strayReason(pid: number, argv: string[], files: string[]): string {
  const dbs = [...new Set(files.filter(isKanbanDataFile).map((f) => kanbanDbOfFile(f)!.db))];
  return (
    `PID ${pid} is a stray holder of ${dbs.join(', ') || 'a kanban database'} (command: ${maskArgv(argv).join(' ') || '?'}): it is not part of Hermes, so it is never signalled; ` +
    'what it is doing (an interactive sqlite3, a backup, a script) is not hermes-doctor\'s to end, and a kill mid-write could lose it: a person decides whether to close it'
  );
}

/** PIDs holding the flock (or POSIX lock) on `<home>/gateway.lock` in the snapshot. */
function lockOwners(snap: HostSnapshot, home: string): number[] {
  const file = path.posix.join(home, FILES.gatewayLock);
  return snap.locks.filter((l) => l.path === file || l.path === file.replace(/\//g, '\\')).map((l) => l.pid);
}

/** The gateway that owns `home` besides `pid`: the flock holder, else a supervised gateway of that home. */
function ownerOf(report: Report, snap: HostSnapshot, home: string, pid: number): KillOwner | null {
  const peers = report.processes.filter((p) => p.pid !== pid && p.role === 'gateway' && p.hermesHome === home);
  const locks = lockOwners(snap, home);
  const pick =
    peers.find((p) => locks.includes(p.pid) && (p.verdict === 'supervised' || p.verdict === 'manual')) ??
    peers.find((p) => p.verdict === 'supervised') ??
    peers.find((p) => p.verdict === 'manual' && locks.includes(p.pid));
  return pick ? { pid: pick.pid, startTicks: pick.startTicks, verdict: pick.verdict } : null;
}

/**
 * Plans a `--kill` run.
 *
 * @param report the classified report (its filters decide which processes are in sight)
 * @param snap the snapshot the report was classified from (supervisor PIDs, cgroups, locks)
 * @returns targets and refusals; a `--pid` that is not in the report is refused as not in sight
 */
export function planKill(report: Report, snap: HostSnapshot, opts: KillPlanOptions): KillPlan {
  const targets: KillTarget[] = [];
  const refusals: KillRefusal[] = [];
  const wanted = opts.pids ? new Set(opts.pids) : null;
  const a = analysisOf(report, snap);
  const homeOfPid = new Map(report.processes.map((p) => [p.pid, p.hermesHome]));
  let homeSups: Map<string, HomeSupervisor[]> | null = null;
  /**
   * The supervisors that own (or should own) `home`: its units/slots/jobs, or a supervised gateway of it.
   * Homes of members come from the report, so a filtered report judges only what it shows.
   */
  const ownersOfHome = (home: string): string[] => {
    homeSups ??= homeSupervisors({ ...a, homeOf: (pid) => homeOfPid.get(pid) ?? null });
    const names = (homeSups.get(home) ?? []).map((h) => `${h.kind} ${h.unit}`);
    for (const o of report.processes) {
      if (o.role === 'gateway' && o.hermesHome === home && o.verdict === 'supervised' && o.supervisor) names.push(`${o.supervisor.kind} ${o.supervisor.unit}`);
    }
    return [...new Set(names)];
  };
  const refuse = (p: ProcessVerdict, reason: string) =>
    refusals.push({
      pid: p.pid,
      startTicks: p.startTicks,
      argv: maskArgv(p.argv),
      verdict: p.verdict,
      role: p.role,
      hermesHome: p.hermesHome,
      auditRoot: auditRootOf(p),
      reasons: p.reasons.map(maskShapes),
      reason: maskShapes(reason),
    });
  for (const p of report.processes) {
    const listed = wanted?.has(p.pid) ?? false;
    if (wanted && !listed) continue;
    const killable = KILLABLE_VERDICTS.has(p.verdict) || (p.verdict === 'orphaned-worker' && opts.includeWorkers);
    const candidate = killable || p.verdict === 'stray-holder' || p.verdict === 'orphaned-worker';
    if (!candidate && !listed) continue;
    const prot = protectedReason(p, snap, opts);
    if (prot) {
      refuse(p, `never signalled: ${prot}`);
      continue;
    }
    if (p.verdict === 'stray-holder') {
      refuse(p, strayReason(p.pid, p.argv, p.handles.map((h) => h.path)));
      continue;
    }
    if (p.verdict === 'orphaned-worker' && !opts.includeWorkers) {
      refuse(p, 'an orphaned kanban worker may still be finishing its task: pass --include-workers to end it');
      continue;
    }
    if (!killable) {
      refuse(p, `verdict ${p.verdict} is not a kill target (only orphan, duplicate, ghost and, with --include-workers, orphaned-worker)`);
      continue;
    }
    let holdsHomeLock = false;
    if (p.hermesHome && lockOwners(snap, p.hermesHome).includes(p.pid)) {
      const lockFile = path.posix.join(p.hermesHome, FILES.gatewayLock);
      const sups = p.verdict === 'orphan' && p.role === 'gateway' ? ownersOfHome(p.hermesHome) : [];
      if (sups.length === 0) {
        refuse(p, `PID ${p.pid} holds the flock on ${lockFile}: it owns its home and is never killed${p.verdict === 'orphan' ? ' (no supervisor owns this home)' : ''}`);
        continue;
      }
      // Outside the supervisor (protectedReason above), and the home is the supervisor's: a takeover.
      holdsHomeLock = true;
    }
    targets.push({
      pid: p.pid,
      startTicks: p.startTicks,
      argv: p.argv,
      verdict: p.verdict,
      role: p.role,
      uid: p.uid,
      hermesHome: p.hermesHome,
      auditRoot: auditRootOf(p),
      reasons: p.reasons,
      owner: p.hermesHome ? ownerOf(report, snap, p.hermesHome, p.pid) : null,
      ...(holdsHomeLock ? { holdsHomeLock } : {}),
    });
  }
  for (const pid of wanted ?? []) {
    if (report.processes.some((p) => p.pid === pid)) continue;
    const why =
      pid <= 1
        ? `PID ${pid} is init: never signalled`
        : (opts.selfPids ?? snap.scannerPids).includes(pid)
          ? `PID ${pid} is hermes-doctor itself or one of its ancestors: never signalled`
          : `PID ${pid} is not a Hermes process in this scan (not running, not Hermes, or filtered out by --home/--profile/user)`;
    // A holder of a kanban database outside the report's filters is still a stray holder, and says so.
    const rec = snap.processes.find((x) => x.pid === pid);
    const dbFiles = rec ? rec.handles.map((h) => h.path).filter(isKanbanDataFile) : [];
    if (rec && dbFiles.length > 0 && !a.cmdOf(rec)) {
      const db = kanbanDbOfFile(dbFiles[0]!)!;
      refusals.push({ pid, startTicks: rec.startTicks, argv: maskArgv(rec.argv), verdict: 'stray-holder', role: 'stray-holder', hermesHome: null, auditRoot: db.root, reasons: [], reason: maskShapes(strayReason(pid, rec.argv, dbFiles)) });
      continue;
    }
    refusals.push({ pid, startTicks: null, argv: [], verdict: null, role: null, hermesHome: null, auditRoot: null, reasons: [], reason: why });
  }
  targets.sort((a, b) => a.pid - b.pid);
  refusals.sort((a, b) => a.pid - b.pid);
  return { targets, refusals };
}
