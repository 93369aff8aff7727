/**
 * The per-process cells the table (./table.ts) and the plain list (./plain.ts) share, pure and
 * without the table's libraries (cli-table3, chalk), so `--plain` does not load them.
 */
import path from 'node:path';
import type { ProcessVerdict } from '../types.js';

/** Formats an age in ms like ps's ELAPSED: `1-04:09:41`, `02:25:29`, `05:03`; `?` when not a finite age ≥ 0. */
export function formatAge(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '?';
  const s = Math.floor(ms / 1000);
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  const pad = (n: number) => String(n).padStart(2, '0');
  const hms = h > 0 || d > 0 ? `${pad(h)}:${pad(m)}:${pad(sec)}` : `${pad(m)}:${pad(sec)}`;
  return d > 0 ? `${d}-${hms}` : hms;
}

/** Age of a process at `nowMs` (ms since the epoch) from its ISO start time; `?` when unknown. */
export function ageCell(p: ProcessVerdict, nowMs: number): string {
  return p.startTime ? formatAge(nowMs - Date.parse(p.startTime)) : '?';
}

/**
 * The KANBAN cell: the access mode of the process's fds on kanban.db / -wal / -shm (`rw`, `r`, `w`,
 * `?` when fdinfo was unreadable), plus `+dispatcher` when it holds kanban/.dispatcher.lock; `-` for none.
 */
export function kanbanAccess(p: ProcessVerdict): string {
  const modes = new Set<string>();
  for (const h of p.handles) {
    const base = path.posix.basename(h.path);
    if (/^kanban\.db(-wal|-shm)?$/.test(base)) modes.add(h.mode ?? '?');
  }
  const dl = p.handles.some((h) => path.posix.basename(h.path) === '.dispatcher.lock') ? ' +dispatcher' : '';
  if (modes.size === 0) return dl ? dl.trim() : '-';
  const merged = modes.has('rw') || (modes.has('r') && modes.has('w')) ? 'rw' : [...modes].join('/');
  return merged + dl;
}

/** The SUPERVISOR cell: `kind:unit` (`s6:gateway-argus`, `systemd:hermes-gateway.service`), `-` for none. */
export function supervisorCell(p: ProcessVerdict): string {
  if (!p.supervisor) return '-';
  return `${p.supervisor.kind}:${p.supervisor.unit}`;
}
