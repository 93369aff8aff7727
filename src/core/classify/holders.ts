/**
 * Who holds what: the processes with a kanban database (or its WAL, SHM, journal) open, by database,
 * with their access mode (fdinfo flags), and the database of every gateway's and daemon's kanban root,
 * held or not (gateways open the DB per dispatcher tick, for milliseconds). Pure.
 */
import type { AccessMode, KanbanHolder } from '../../types.js';
import { defaultKanbanDb, isKanbanDataFile, kanbanDbOfFile } from '../paths.js';
import type { ClassifyContext, Subject } from './common.js';

/** One kanban database and the processes that hold it, by PID. */
export interface DbHolders {
  db: string;
  root: string;
  holders: Map<number, KanbanHolder>;
}

function mergeMode(a: AccessMode | null, b: AccessMode | null): AccessMode | null {
  if (!a) return b;
  if (!b || a === b) return a;
  return 'rw';
}

/**
 * Every kanban database in sight, sorted by path: those some process holds (each holder with its role
 * and final verdict; several fds of one process merge their modes), and the default DB of the kanban
 * root of every gateway and dispatcher daemon.
 */
export function kanbanHolders(ctx: ClassifyContext, subjects: readonly Subject[]): DbHolders[] {
  const subjectByPid = new Map(subjects.map((s) => [s.rec.pid, s]));
  const dbs = new Map<string, DbHolders>();
  const acc = (db: string, root: string): DbHolders => {
    let a = dbs.get(db);
    if (!a) {
      a = { db, root, holders: new Map() };
      dbs.set(db, a);
    }
    return a;
  };
  for (const p of ctx.snap.processes) {
    for (const h of p.handles) {
      if (!isKanbanDataFile(h.path)) continue;
      const k = kanbanDbOfFile(h.path)!;
      const a = acc(k.db, k.root);
      const s = subjectByPid.get(p.pid);
      const prev = a.holders.get(p.pid);
      a.holders.set(p.pid, { pid: p.pid, mode: mergeMode(prev?.mode ?? null, h.mode), role: s?.role ?? 'unknown', verdict: s?.verdict ?? null });
    }
  }
  for (const s of subjects) {
    if ((s.role === 'gateway' || s.role === 'dispatcher-daemon') && s.id.kanbanRoot) acc(defaultKanbanDb(s.id.kanbanRoot), s.id.kanbanRoot);
  }
  return [...dbs.values()].sort((x, y) => x.db.localeCompare(y.db));
}
