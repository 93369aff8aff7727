/**
 * File-level facts of the databases in sight: every kanban database of every kanban root
 * (`<root>/kanban.db`, `<root>/kanban/boards/<slug>/kanban.db`; hermes_cli/kanban_db.py `kanban_db_path`
 * at v0.15.1 and 306e2d2) and every home's `state.db`. I/O, bounded and non-blocking:
 *
 * - the database itself is opened only through safe-read.ts (O_RDONLY|O_NONBLOCK|O_NOFOLLOW, fstat,
 *   regular files only) for its first 100 bytes: a FIFO named kanban.db is never waited on, a symlink
 *   never followed;
 * - `-wal`, `-shm`, `-journal` and backups are only lstat(2)ed, never opened;
 * - SQLite is never used here: a read-only SQLite open of a WAL database creates `-wal`/`-shm` beside it,
 *   and nothing may be created or written beside a database;
 * - folder listings stop at a bound ({@link MAX_LISTED_ENTRIES}, {@link MAX_BOARDS}).
 *
 * Backups: Hermes copies a database it finds corrupt to `<db>.corrupt.<sha256[:16]>.bak` beside it, and
 * its sidecars to `<that>.bak-wal` / `.bak-shm` (hermes_cli/kanban_db.py `_backup_corrupt_db`, the same
 * naming at v0.15.1 and 306e2d2). Neither source has another naming, so `<db>.corrupt.*.bak` is counted
 * whatever stands between `corrupt.` and `.bak` (a timestamp as well as a hash).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { BackupSummary, DatabaseRecord, SqliteHeader } from '../types.js';
import { fileTypeWords, safeReadHead, safeReadText } from './safe-read.js';

/** Entries read at most from one folder when looking for backups, entries. */
export const MAX_LISTED_ENTRIES = 200_000;
/** Boards read at most under `<root>/kanban/boards/`, folders. */
export const MAX_BOARDS = 1_000;
/** The window of {@link BackupSummary.recent}: one hour, ms. */
export const BACKUP_WINDOW_MS = 3_600_000;

/** The 16-byte magic that starts every SQLite 3 database file (fileformat.html §1.3). */
export const SQLITE_MAGIC = Buffer.from('SQLite format 3\0', 'latin1');

/**
 * Parses the 100-byte SQLite header. Pure.
 *
 * @param head the first bytes of the file (at least 100 for a header)
 * @returns the header facts, or null when fewer than 100 bytes were given
 */
export function parseSqliteHeader(head: Buffer): SqliteHeader | null {
  if (head.length < 100) return null;
  if (!head.subarray(0, 16).equals(SQLITE_MAGIC)) return { magic: false, pageSize: null, writeVersion: null, readVersion: null };
  const raw = head.readUInt16BE(16);
  const size = raw === 1 ? 65536 : raw;
  // A valid page size is a power of two between 512 and 65536 (fileformat.html §1.3.2).
  const pageSize = size >= 512 && size <= 65536 && (size & (size - 1)) === 0 ? size : null;
  return { magic: true, pageSize, writeVersion: head[18]!, readVersion: head[19]! };
}

/** Size of a regular file by lstat, bytes; null when absent or not a regular file. */
function sizeOf(file: string): number | null {
  try {
    const st = fs.lstatSync(file);
    return st.isFile() ? st.size : null;
  } catch {
    return null;
  }
}

/** The quarantine backups beside `db`, by one bounded listing of its folder. */
export function backupsOf(db: string, nowMs: number): BackupSummary {
  const dir = path.dirname(db);
  const prefix = `${path.basename(db)}.corrupt.`;
  const out: BackupSummary = { count: 0, bytes: 0, recent: 0, windowMs: BACKUP_WINDOW_MS, newestMtimeMs: null, truncated: false };
  let d: fs.Dir;
  try {
    d = fs.opendirSync(dir);
  } catch {
    return out;
  }
  try {
    let n = 0;
    for (let e = d.readSync(); e !== null; e = d.readSync()) {
      if (++n > MAX_LISTED_ENTRIES) {
        out.truncated = true;
        break;
      }
      if (!e.name.startsWith(prefix)) continue;
      const main = e.name.endsWith('.bak');
      if (!main && !e.name.endsWith('.bak-wal') && !e.name.endsWith('.bak-shm')) continue;
      let st: fs.Stats;
      try {
        st = fs.lstatSync(path.join(dir, e.name));
      } catch {
        continue;
      }
      if (!st.isFile()) continue;
      out.bytes += st.size;
      if (!main) continue;
      out.count++;
      if (nowMs - st.mtimeMs <= BACKUP_WINDOW_MS) out.recent++;
      if (out.newestMtimeMs === null || st.mtimeMs > out.newestMtimeMs) out.newestMtimeMs = Math.round(st.mtimeMs);
    }
  } catch {
    /* a folder that vanished mid-listing: what was counted stands */
  } finally {
    d.closeSync();
  }
  return out;
}

/** Bytes available to an unprivileged user on the filesystem of `dir` (statfs); null when unknown. */
function freeBytesOf(dir: string): number | null {
  try {
    const s = fs.statfsSync(dir);
    return s.bavail * s.bsize;
  } catch {
    return null;
  }
}

/**
 * The facts of one database file, or null when nothing is at its path (a root without a default board).
 *
 * @param nowMs the scan's start, ms since the epoch (what "recent" backups are measured from)
 */
export function observeDatabase(file: string, kind: DatabaseRecord['kind'], owner: string, nowMs: number): DatabaseRecord | null {
  let st: fs.Stats;
  try {
    st = fs.lstatSync(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return null;
    return { ...emptyRecord(file, kind, owner, nowMs), error: (err as Error).message };
  }
  const rec = emptyRecord(file, kind, owner, nowMs);
  if (!st.isFile()) return { ...rec, error: `is ${fileTypeWords(st)}, not a regular file (not opened)` };
  const head = safeReadHead(file, 100);
  if (head === null) return { ...rec, error: 'could not be read' };
  return { ...rec, bytes: st.size, header: parseSqliteHeader(head) };
}

function emptyRecord(file: string, kind: DatabaseRecord['kind'], owner: string, nowMs: number): DatabaseRecord {
  return {
    path: file,
    kind,
    owner,
    bytes: null,
    header: null,
    walBytes: sizeOf(`${file}-wal`),
    shmBytes: sizeOf(`${file}-shm`),
    journalBytes: sizeOf(`${file}-journal`),
    backups: backupsOf(file, nowMs),
    freeBytes: freeBytesOf(path.dirname(file)),
  };
}

/**
 * Whether a board's `board.json` says `"archived": true` (hermes_cli/kanban_db.py `read_board_metadata`
 * at 306e2d2: `hermes kanban boards` hides archived boards; a missing or malformed file means not
 * archived, as there). Read through safe-read.ts, at most 64 KiB.
 */
function archivedBoard(db: string): boolean {
  const r = safeReadText(path.posix.join(path.posix.dirname(db), 'board.json'), 64 * 1024);
  if (!r.ok) return false;
  try {
    const meta: unknown = JSON.parse(r.text);
    return typeof meta === 'object' && meta !== null && (meta as Record<string, unknown>).archived === true;
  } catch {
    return false;
  }
}

/** The board databases of a root: `<root>/kanban/boards/<slug>/kanban.db`, at most {@link MAX_BOARDS}. */
function boardDbs(root: string): string[] {
  const dir = path.posix.join(root, 'kanban', 'boards');
  let d: fs.Dir;
  try {
    d = fs.opendirSync(dir);
  } catch {
    return [];
  }
  const out: string[] = [];
  try {
    for (let e = d.readSync(); e !== null && out.length < MAX_BOARDS; e = d.readSync()) {
      if (e.isDirectory()) out.push(path.posix.join(dir, e.name, 'kanban.db'));
    }
  } catch {
    /* keep what was listed */
  } finally {
    d.closeSync();
  }
  return out.sort();
}

/**
 * Every database in sight: the kanban databases of `kanbanRoots` and the state.db of `homes`, sorted by
 * path, those that exist (or are there but unreadable). Never throws.
 *
 * @param nowMs the scan's start, ms since the epoch
 */
export function observeDatabases(kanbanRoots: Iterable<string>, homes: Iterable<string>, nowMs: number): DatabaseRecord[] {
  const out = new Map<string, DatabaseRecord>();
  const add = (file: string, kind: DatabaseRecord['kind'], owner: string, board = false) => {
    if (out.has(file)) return;
    const r = observeDatabase(file, kind, owner, nowMs);
    if (r) out.set(file, board && archivedBoard(file) ? { ...r, archived: true } : r);
  };
  for (const root of new Set(kanbanRoots)) {
    add(path.posix.join(root, 'kanban.db'), 'kanban', root);
    for (const db of boardDbs(root)) add(db, 'kanban', root, true);
  }
  for (const home of new Set(homes)) add(path.posix.join(home, 'state.db'), 'state', home);
  return [...out.values()].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}
