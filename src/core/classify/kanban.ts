/**
 * Kanban risk per database: who dispatches on its root (../kanban-risk.ts weighs the evidence), stray
 * holders, and the words of the verdict. Rival writers are the corruption condition of hermes-agent
 * #35240. Pure.
 */
import path from 'node:path';
import type { KanbanHolder, KanbanReport, Role, Verdict } from '../../types.js';
import { type DispatcherInput, type RootEvidence, dispatchEvidence, dispatchRisk } from '../kanban-risk.js';
import { dispatcherLockPath, kanbanDbOfFile } from '../paths.js';
import { type ClassifyContext, type Subject, ageAt, short, writes } from './common.js';
import { kanbanHolders } from './holders.js';

/**
 * Why several writers of one database are no risk, in words that match their verdicts: the profiles of
 * a root share its kanban.db by design, each gateway under its own supervisor or run by hand.
 */
function sharedBy(writers: { pid: number; verdict: Verdict; role: Role }[]): string {
  const by = (v: Verdict) => writers.filter((w) => w.verdict === v).length;
  const supervised = by('supervised');
  const manual = by('manual');
  const other = writers.length - supervised - manual;
  const parts = [
    ...(supervised > 0 ? [`${supervised} under ${supervised === 1 ? 'its supervisor' : 'their supervisors'}`] : []),
    ...(manual > 0 ? [`${manual} run by hand without a supervisor`] : []),
    ...(other > 0 ? [`${other} not decided (${writers.filter((w) => w.verdict !== 'supervised' && w.verdict !== 'manual').map((w) => `PID ${w.pid} ${w.verdict}`).join(', ')})`] : []),
  ];
  return `${writers.length} ${writers.every((w) => w.role === 'gateway') ? 'gateways' : 'Hermes writers'} share it (${parts.join(', ')}): the profiles of a root share its kanban.db by design`;
}

/** The kanban report of every database in sight, sorted by path, from the subjects' final verdicts. */
export function kanbanReports(ctx: ClassifyContext, subjects: readonly Subject[]): KanbanReport[] {
  const { snap, a } = ctx;
  /** Gateways and daemons of a root, plus any that holds one of its kanban files. */
  const dispatcherSubjects = (root: string): Subject[] =>
    subjects.filter(
      (s) =>
        (s.role === 'gateway' || s.role === 'dispatcher-daemon') &&
        (s.id.kanbanRoot === root || s.rec.handles.some((h) => kanbanDbOfFile(h.path)?.root === root)),
    );
  const dispatcherInput = (s: Subject): DispatcherInput => ({
    rec: s.rec,
    role: s.role,
    verdict: s.verdict,
    holdsGatewayLock: s.id.holdsLockOf !== null,
    ageMs: ageAt(snap.takenAt, s.rec),
  });
  const out: KanbanReport[] = [];
  for (const db of kanbanHolders(ctx, subjects)) {
    const lockFile = dispatcherLockPath(db.root);
    const dl = a.lockHolders(lockFile);
    const reasons: string[] = [];
    const rootEv: RootEvidence = {
      root: db.root,
      dispatcherLockHolders: dl,
      dispatchLockHolders: a.lockHolders(path.posix.join(db.root, 'kanban.db.dispatch.lock')),
      dispatcherLockExists: snap.kanbanRoots?.find((r) => r.root === db.root)?.dispatcherLockExists ?? null,
      sources: snap.hermesSources ?? [],
    };
    const evidence = dispatcherSubjects(db.root).map((s) => dispatchEvidence(dispatcherInput(s), rootEv));
    const dr = dispatchRisk(evidence, rootEv);
    // Writers: every gateway or daemon of the root that dispatches or may dispatch (a proven non-dispatcher is not one).
    const writers = evidence.filter((e) => e.dispatches !== 'no').map((e) => ({ pid: e.pid, verdict: e.verdict, role: e.role }));
    reasons.push(...dr.reasons);
    const strays = [...db.holders.values()].filter((h) => h.role === 'stray-holder');
    const strayText = (h: KanbanHolder) => `PID ${h.pid} (${short(a.byPid.get(h.pid)?.argv ?? [])})`;
    const strayWriters = strays.filter((h) => writes(h.mode));
    const strayReaders = strays.filter((h) => !writes(h.mode));
    const risk: KanbanReport['risk'] = dr.risk === 'ok' && strayWriters.length > 0 ? 'stray-writer' : dr.risk;
    if (strayWriters.length > 0) reasons.push(`non-Hermes process ${strayWriters.map(strayText).join(', ')} holds it read-write`);
    if (strayReaders.length > 0) reasons.push(`non-Hermes process ${strayReaders.map(strayText).join(', ')} holds it ${strayReaders.some((h) => h.mode === null) ? 'in an unknown mode' : 'read-only'}`);
    if (dl.length > 1) reasons.push(`${dl.length} processes hold ${lockFile}: ${dl.join(', ')}`);
    if (risk === 'ok') {
      const proven = evidence.filter((e) => e.dispatches === 'yes').length;
      reasons.push(writers.length > 1 ? `${sharedBy(writers)}${proven < writers.length ? `; ${proven} of them seen dispatching` : ''}` : 'one writer or none');
    }
    out.push({
      db: db.db,
      root: db.root,
      holders: [...db.holders.values()].sort((x, y) => x.pid - y.pid),
      dispatcherLockHolder: dl[0] ?? null,
      writers,
      risk,
      reasons,
      dispatchLockHolder: rootEv.dispatchLockHolders[0] ?? null,
      singletonLock: dr.singletonLock,
      dispatchers: evidence.map(({ pid, role, verdict, dispatches, why }) => ({ pid, role, verdict, dispatches, why })),
    });
  }
  return out;
}
