/**
 * Who dispatches on a kanban root, from evidence, and the risk that follows. Pure.
 *
 * The real dispatcher (v0.15.1 gateway/run.py and 306e2d2 gateway/kanban_watchers.py
 * `_kanban_dispatcher_watcher`) opens `<root>/kanban.db` for 20–200 ms per tick, every 60 s, and holds
 * no fd in between, so a snapshot of fds shows a writer only by chance. What decides instead:
 *
 * - the flock on `<root>/kanban/.dispatcher.lock` (306e2d2; upstream dfa561092): its holder dispatches,
 *   a gateway that lost it returns from the watcher and never opens kanban.db;
 * - the flock on `<root>/kanban.db.dispatch.lock` (306e2d2, held during a tick);
 * - an fd on kanban.db / -wal / -shm opened for writing, when seen;
 * - whether the gateway's Hermes has the singleton lock at all: v0.15.1 has none, so every live gateway
 *   of a root dispatches, and two of them are rival writers even when both are supervised (Hermes
 *   #32424). Known from its source folder (sources/hermes-source.ts), or from the absence of
 *   `.dispatcher.lock` under the root after a gateway has run past its start-up;
 * - `HERMES_KANBAN_DISPATCH_IN_GATEWAY` set to 0/false/no/off turns the gateway's dispatcher off (both versions).
 *
 * Without any of these the answer is `unknown`, with why, never a critical.
 */
import type { HermesSource, KanbanRisk, ProcessRecord, Role, Verdict } from '../types.js';
import { FILES, isKanbanDataFile, kanbanDbOfFile } from './paths.js';

/** Whether a gateway (or `kanban daemon`) dispatches on its kanban root. */
export type Dispatches = 'yes' | 'no' | 'unknown';

/** Age after which a gateway that holds its gateway.lock but left no `.dispatcher.lock` under its root shows a Hermes without the singleton lock, ms. 306e2d2 takes that lock as its dispatcher watcher starts, about 1 s after gateway.lock (docs/real-hermes.md, timings). */
export const NO_SINGLETON_AFTER_MS = 30_000;

/** One possible dispatcher of a root. */
export interface DispatcherInput {
  rec: ProcessRecord;
  role: Role;
  verdict: Verdict;
  /** Whether it holds the flock on its home's gateway.lock. */
  holdsGatewayLock: boolean;
  /** Age at the snapshot, ms; null when unknown. */
  ageMs: number | null;
}

/** What is known of a root as a whole. */
export interface RootEvidence {
  root: string;
  /** PIDs holding the flock on `<root>/kanban/.dispatcher.lock`. */
  dispatcherLockHolders: number[];
  /** PIDs holding the flock on `<root>/kanban.db.dispatch.lock`. */
  dispatchLockHolders: number[];
  /** Whether `<root>/kanban/.dispatcher.lock` exists; null when not looked at. */
  dispatcherLockExists: boolean | null;
  /** Hermes sources found for the scan's gateways. */
  sources: readonly HermesSource[];
}

/** The evidence about one dispatcher, in words. `noSingleton` marks evidence that its Hermes has no singleton lock. */
export interface DispatchEvidence {
  pid: number;
  role: Role;
  verdict: Verdict;
  dispatches: Dispatches;
  why: string;
  noSingleton: boolean;
}

const OFF = new Set(['0', 'false', 'no', 'off']);
const ROGUE: ReadonlySet<Verdict> = new Set(['orphan', 'duplicate', 'ghost']);

function writeFd(rec: ProcessRecord, root: string): number | null {
  const h = rec.handles.find((x) => isKanbanDataFile(x.path) && kanbanDbOfFile(x.path)?.root === root && (x.mode === 'w' || x.mode === 'rw'));
  return h ? h.fd : null;
}

/** Decides whether one gateway or dispatcher daemon dispatches on `ev.root`, and says from what. */
export function dispatchEvidence(g: DispatcherInput, ev: RootEvidence): DispatchEvidence {
  const base = { pid: g.rec.pid, role: g.role, verdict: g.verdict, noSingleton: false };
  const lock = `${ev.root}/kanban/${FILES.dispatcherLock}`;
  if (g.role === 'dispatcher-daemon') return { ...base, dispatches: 'yes', why: 'a `kanban daemon` dispatches by itself' };
  const off = g.rec.env.HERMES_KANBAN_DISPATCH_IN_GATEWAY;
  if (off !== undefined && OFF.has(off.trim().toLowerCase())) {
    return { ...base, dispatches: 'no', why: `HERMES_KANBAN_DISPATCH_IN_GATEWAY=${off} turns its dispatcher off` };
  }
  if (ev.dispatcherLockHolders.includes(g.rec.pid)) return { ...base, dispatches: 'yes', why: `holds the flock on ${lock}` };
  if (ev.dispatchLockHolders.includes(g.rec.pid)) return { ...base, dispatches: 'yes', why: `holds the flock on ${ev.root}/kanban.db.dispatch.lock (a tick in progress)` };
  const fd = writeFd(g.rec, ev.root);
  if (fd !== null) return { ...base, dispatches: 'yes', why: `has ${ev.root}/kanban.db open for writing (fd ${fd})` };
  const src = ev.sources.find((s) => s.pids.includes(g.rec.pid));
  if (src && !src.singletonDispatcherLock) {
    return { ...base, noSingleton: true, dispatches: 'yes', why: `its Hermes (${src.dir}) has no singleton dispatcher lock (${src.file}): every gateway of a root dispatches, as v0.15.1 does` };
  }
  if (src) return { ...base, dispatches: 'no', why: `its Hermes (${src.dir}) has the singleton dispatcher lock (${src.file}) and it does not hold ${lock}: it never opens kanban.db` };
  const other = ev.dispatcherLockHolders.filter((p) => p !== g.rec.pid);
  if (other.length > 0) return { ...base, dispatches: 'no', why: `PID ${other.join(', ')} holds ${lock}; a gateway that lost that lock does not dispatch (306e2d2)` };
  if (ev.dispatcherLockExists === false && g.holdsGatewayLock && g.ageMs !== null && g.ageMs >= NO_SINGLETON_AFTER_MS) {
    return {
      ...base,
      noSingleton: true,
      dispatches: 'yes',
      why: `${lock} does not exist although it has held its gateway.lock for ${Math.round(g.ageMs / 1000)} s: its Hermes has no singleton dispatcher lock (v0.15.1), so it dispatches`,
    };
  }
  const why = [
    'no write fd on kanban.db seen (the dispatcher opens it for milliseconds per 60 s tick)',
    ev.dispatcherLockExists === true ? `${lock} exists but nobody holds it` : `no flock on ${lock}`,
    'its Hermes source was not found',
  ];
  if (ev.dispatcherLockExists === false && !(g.holdsGatewayLock && g.ageMs !== null && g.ageMs >= NO_SINGLETON_AFTER_MS)) {
    why.push(`too young or not holding its gateway.lock to judge the absence of ${lock}`);
  }
  return { ...base, dispatches: 'unknown', why: why.join('; ') };
}

/** The risk of one root's dispatchers, with reasons. */
export interface DispatchRisk {
  risk: Extract<KanbanRisk, 'ok' | 'rival-writers' | 'unknown'>;
  reasons: string[];
  /** Whether the root's Hermes has the singleton lock: `yes`, `no`, or `unknown`, and from what. */
  singletonLock: { value: Dispatches; why: string };
}

const who = (e: DispatchEvidence) => `PID ${e.pid} (${e.verdict} ${e.role})`;

/**
 * Rival writers: two or more proven dispatchers of one root, and one of them rogue (orphan, duplicate,
 * ghost) or the root's Hermes without the singleton lock (then even two supervised gateways are
 * rivals). Unknown: no proof either way for a rogue beside another possible dispatcher.
 */
export function dispatchRisk(evidence: readonly DispatchEvidence[], ev: RootEvidence): DispatchRisk {
  const yes = evidence.filter((e) => e.dispatches === 'yes');
  const unknown = evidence.filter((e) => e.dispatches === 'unknown');
  const lock = `${ev.root}/kanban/${FILES.dispatcherLock}`;
  const noSingleton = evidence.find((e) => e.noSingleton);
  const singletonLock: DispatchRisk['singletonLock'] =
    ev.dispatcherLockHolders.length > 0
      ? { value: 'yes', why: `PID ${ev.dispatcherLockHolders.join(', ')} holds the flock on ${lock}` }
      : noSingleton
        ? { value: 'no', why: noSingleton.why.replace(/^its Hermes/, `PID ${noSingleton.pid}'s Hermes`) }
        : ev.sources.some((s) => s.singletonDispatcherLock && evidence.some((e) => s.pids.includes(e.pid)))
          ? { value: 'yes', why: `the Hermes source of its gateways has it (${ev.sources.find((s) => s.singletonDispatcherLock)!.file})` }
          : { value: 'unknown', why: `nobody holds ${lock} and no Hermes source of its gateways was found` };
  const reasons: string[] = [];
  const rogueYes = yes.filter((e) => ROGUE.has(e.verdict));
  if (yes.length >= 2 && (rogueYes.length > 0 || noSingleton)) {
    const lead = rogueYes.length > 0 ? rogueYes : yes;
    const rest = yes.filter((e) => !lead.includes(e));
    reasons.push(
      `${lead.map(who).join(', ')} can write this DB while ${rest.map((e) => `PID ${e.pid} (${e.verdict})`).join(', ') || 'another rogue writer'} also uses it: two independent writers on one SQLite WAL` +
        (rogueYes.length === 0 ? ` (the root's Hermes has no singleton dispatcher lock, so every gateway of the root dispatches, supervised or not: Hermes #32424)` : ''),
    );
    for (const e of yes) reasons.push(`PID ${e.pid} dispatches: ${e.why}`);
    return { risk: 'rival-writers', reasons, singletonLock };
  }
  const possible = [...yes, ...unknown];
  const rogueUnknown = possible.filter((e) => ROGUE.has(e.verdict));
  if (unknown.length > 0 && possible.length >= 2 && rogueUnknown.length > 0) {
    reasons.push(
      `cannot tell whether ${rogueUnknown.map(who).join(', ')} writes this DB beside ${possible.filter((e) => !rogueUnknown.includes(e)).map((e) => `PID ${e.pid} (${e.verdict})`).join(', ') || 'another possible writer'}`,
    );
    for (const e of unknown) reasons.push(`PID ${e.pid}: unknown (${e.why})`);
    for (const e of yes) reasons.push(`PID ${e.pid} dispatches: ${e.why}`);
    return { risk: 'unknown', reasons, singletonLock };
  }
  for (const e of evidence.filter((x) => x.dispatches === 'no' && ROGUE.has(x.verdict))) reasons.push(`PID ${e.pid} (${e.verdict}) does not dispatch: ${e.why}`);
  return { risk: 'ok', reasons, singletonLock };
}
