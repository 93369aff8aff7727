/**
 * Database health, file level: what the 100-byte header, the sidecar sizes, the quarantine backups and
 * the open handles of a snapshot say about each kanban database and state.db. Pure (no I/O, no clock:
 * "recent" backups were counted by the source against the scan's start).
 *
 * Findings (subject.db; subject.pid for DELETED_WAL_HELD):
 * - KANBAN_NOT_SQLITE (critical): a kanban.db of 100 bytes or more without the SQLite magic, or a
 *   non-regular file (a FIFO) at its path. Hermes refuses to open it (hermes_cli/kanban_db.py
 *   `_validate_sqlite_header` at v0.15.1 and 306e2d2) and every dispatcher tick fails.
 * - KANBAN_NOT_WAL (critical beside two or more writers, else warning): header bytes 18–19 say rollback
 *   journal (1) where Hermes sets WAL (`apply_wal_with_fallback`, hermes_state.py at 306e2d2, which falls
 *   back to DELETE only on filesystems without shared memory, NFS/SMB). A rollback-journal database
 *   written by several processes is the shape that re-corrupts within minutes after a `.dump` rebuild.
 * - KANBAN_BACKUP_STORM (warning; critical when the free space is below the backups' size or
 *   {@link LOW_FREE_BYTES}): more than {@link STORM_BACKUPS_PER_HOUR} `.corrupt.*.bak` in the last hour.
 *   Hermes names a backup by the sha256 of the corrupt bytes (`_backup_corrupt_db`), so the same damage
 *   makes one backup however often it is seen; many new ones mean the bytes keep changing.
 * - DELETED_WAL_HELD (critical): a process holds an unlinked database, -wal or -shm of a kanban.db or
 *   state.db. Its writes go to an inode no one else sees, and the next opener builds a fresh WAL beside it.
 *   Not for a ghost gateway's own state.db: its whole profile was deleted, and GHOST_GATEWAY covers it.
 * - WAL_GROWING (warning): a -wal larger than {@link WAL_GROWTH_FACTOR} × the autocheckpoint threshold
 *   (pages × page size). Hermes sets `wal_autocheckpoint=100` on kanban.db (kanban_db.py at v0.15.1 and
 *   306e2d2); state.db keeps SQLite's default of 1000 pages. A checkpoint can reset the WAL only when no
 *   reader still needs its frames, so a WAL ten times past its threshold means checkpoints have been
 *   failing for a long while: a read transaction left open (or an orphaned holder).
 * - KANBAN_CORRUPT (critical; also for a state.db): the read-only `PRAGMA quick_check` of `--integrity`
 *   (sources/db-integrity.ts) answered problems, or SQLite refused the file as malformed. Its lines are
 *   quoted as the source gave them (masked, escaped, at most 20). A check that could not run (busy,
 *   locked, sidecars incomplete, budget) is no finding: the database's `integrity` says `not-checked`.
 * - CORRUPTION_LOGGED (warning; subject.home): SQLite's or Hermes's corruption messages in the tail of a
 *   home's `logs/gateway.log` or `logs/errors.log` within the window (sources/db-logs.ts), with the
 *   count, the newest time and one masked, escaped example line.
 * - MULTIPLE_DISPATCHERS (subject.db and subject.home = the root): two or more live gateways of one root
 *   whose `kanban.dispatch_in_gateway` says dispatch (sources/kanban-config.ts; the default is true), or,
 *   where the root's Hermes has no singleton lock, two or more gateways the kanban evidence says dispatch.
 *   Each embedded dispatcher runs its own `release_stale_claims` → promote → `dispatch_once` loop on the
 *   root's boards. 306e2d2 (gateway/kanban_watchers.py `_acquire_singleton_lock`) takes a flock on
 *   `<root>/kanban/.dispatcher.lock` before its loop, so only one of them dispatches and the rest return:
 *   warning, the configuration contradicts itself (which profile dispatches depends on start order, and the
 *   lock falls back to "config control alone" where flock is unavailable). v0.15.1 (gateway/run.py) has no
 *   such lock, so each of them dispatches: critical, two dispatchers writing one kanban.db (306e2d2's own
 *   docstring: doubled reclaims and claim events, and concurrent WAL checkpoints that can corrupt index
 *   pages). Singleton unknown: warning. Only gateways that run count: a profile that is configured to
 *   dispatch but not started dispatches nothing.
 */
import path from 'node:path';
import type { CorruptionLogRecord, DatabaseHealth, DatabaseRecord, DispatchSetting, Finding, FindingCode, Handle, KanbanReport, ProcessRecord, Role, Verdict } from '../types.js';
import { short } from './classify/common.js';
import { databaseOfFile } from './paths.js';

/** The codes this judge gives: a filtered report keeps them with their database (subject.db). */
export const DB_FINDINGS: ReadonlySet<FindingCode> = new Set(['KANBAN_NOT_SQLITE', 'KANBAN_NOT_WAL', 'KANBAN_BACKUP_STORM', 'DELETED_WAL_HELD', 'WAL_GROWING', 'KANBAN_CORRUPT', 'MULTIPLE_DISPATCHERS']);

/** Backups appearing in one hour above which the folder is in a storm, count. */
export const STORM_BACKUPS_PER_HOUR = 10;
/** Free space under which a storm is critical whatever the backups' size, bytes (1 GiB). */
export const LOW_FREE_BYTES = 1024 ** 3;
/** How many times its checkpoint threshold a WAL may reach before WAL_GROWING. */
export const WAL_GROWTH_FACTOR = 10;
/** `wal_autocheckpoint` of kanban.db (Hermes) and state.db (SQLite's default), pages. */
export const AUTOCHECKPOINT_PAGES = { kanban: 100, state: 1000 } as const;
/** Page size assumed when the header gives none, bytes (SQLite's default since 3.12). */
export const DEFAULT_PAGE_SIZE = 4096;

/** One process as the judge needs it: its record and, when it has a role, its verdict. */
export interface DbHolder {
  rec: ProcessRecord;
  role: Role | null;
  verdict: Verdict | null;
  /** The remedy that ends or restarts it the way the rest of the report would, or null. */
  remedy: string | null;
  /** Its HERMES_HOME as the classifier decided it, or null. */
  home: string | null;
}

/** What the judge reads. */
export interface DbHealthInput {
  databases: readonly DatabaseRecord[];
  /** Every process of the snapshot, with a verdict where the classifier gave one. */
  processes: readonly DbHolder[];
  kanban: readonly KanbanReport[];
  /** Corruption messages found in the homes' logs (snapshot `corruptionLogs`); absent: none. */
  logs?: readonly CorruptionLogRecord[];
}

/** The WAL size past which {@link WAL_GROWTH_FACTOR} says WAL_GROWING, bytes. */
export function walGrowthThreshold(db: Pick<DatabaseRecord, 'kind' | 'header'>): number {
  return AUTOCHECKPOINT_PAGES[db.kind] * (db.header?.pageSize ?? DEFAULT_PAGE_SIZE) * WAL_GROWTH_FACTOR;
}

/** Bytes in words: `1.5 GiB`, `812 KiB`, `17 B`. */
export function bytesText(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${i === 0 ? v : v.toFixed(1)} ${units[i]}`;
}

/** Format of a database record, from its header and size. */
function formatOf(r: DatabaseRecord): DatabaseHealth['format'] {
  if (r.error !== undefined) return /not a regular file/.test(r.error) ? 'not-sqlite' : 'unreadable';
  if (r.bytes === 0) return 'empty';
  if (r.header === null) return r.bytes !== null && r.bytes > 0 && r.bytes < 100 ? 'not-sqlite' : 'unreadable';
  return r.header.magic ? 'sqlite' : 'not-sqlite';
}

function journalOf(r: DatabaseRecord): DatabaseHealth['journalMode'] {
  const h = r.header;
  if (!h?.magic) return null;
  if (h.writeVersion === 2 && h.readVersion === 2) return 'wal';
  if (h.writeVersion === 1 && h.readVersion === 1) return 'rollback';
  return null;
}

/**
 * The findings and the health section of every database. Deleted generations are found from the
 * processes' handles, so a held database whose file is gone (no record) still has its finding.
 *
 * @returns findings (in database order) and one {@link DatabaseHealth} per record, sorted by path
 */
export function databaseHealth(input: DbHealthInput): { findings: Finding[]; databases: DatabaseHealth[] } {
  const findings: Finding[] = [];
  const byDb = new Map<string, FindingCode[]>();
  const add = (f: Finding) => {
    findings.push(f);
    const db = f.subject?.db;
    if (db !== undefined) byDb.set(db, [...(byDb.get(db) ?? []), f.code]);
  };

  for (const r of input.databases) {
    const format = formatOf(r);
    const subject = { db: r.path };
    if (r.kind === 'kanban' && format === 'not-sqlite') {
      const what = r.error !== undefined ? r.error : r.header === null ? `only ${r.bytes} bytes, shorter than a SQLite header` : 'does not start with the SQLite magic "SQLite format 3\\0"';
      add({
        severity: 'critical',
        code: 'KANBAN_NOT_SQLITE',
        pid: null,
        message: `${r.path} is not a SQLite database: it ${what}. Hermes refuses to open it, so every dispatcher tick of ${r.owner} fails; stop the gateways of this root, move the file aside (keep it for inspection) and let Hermes create a new board, or restore a backup.`,
        remedy: null,
        subject,
      });
    }
    if (r.kind === 'kanban' && journalOf(r) === 'rollback') {
      const k = input.kanban.find((x) => x.db === r.path);
      const writers = new Set([...(k?.writers.map((w) => w.pid) ?? []), ...(k?.holders.filter((h) => h.mode === 'w' || h.mode === 'rw').map((h) => h.pid) ?? [])]);
      const many = writers.size > 1;
      add({
        severity: many ? 'critical' : 'warning',
        code: 'KANBAN_NOT_WAL',
        pid: null,
        message: `${r.path} is in rollback-journal mode (header bytes 18-19 = 1), not WAL as Hermes sets it${many ? `, and ${writers.size} processes write it (PIDs ${[...writers].sort((a, b) => a - b).join(', ')})` : ''}: a rollback-mode kanban database shared by several gateways re-corrupts (a rebuild with .dump comes back in this mode). Hermes falls back to it only on filesystems without shared memory (NFS, SMB). Stop its writers and run \`sqlite3 ${r.path} 'PRAGMA journal_mode=WAL'\` while nothing holds it.`,
        remedy: null,
        subject,
      });
    }
    const b = r.backups;
    if (b.recent > STORM_BACKUPS_PER_HOUR) {
      const low = r.freeBytes !== null && (r.freeBytes < b.bytes || r.freeBytes < LOW_FREE_BYTES);
      add({
        severity: low ? 'critical' : 'warning',
        code: 'KANBAN_BACKUP_STORM',
        pid: null,
        message: `${b.recent} new corrupt-database backups of ${r.path} in the last hour (${b.count}${b.truncated ? '+' : ''} in all, ${bytesText(b.bytes)}; ${r.freeBytes !== null ? `${bytesText(r.freeBytes)} free on its filesystem` : 'free space unknown'}): Hermes names a backup by the hash of the corrupt bytes, so each new one is new damage and the database keeps re-corrupting. Stop every writer of it (see its kanban section), then move the backups off this filesystem and repair or replace the database.`,
        remedy: null,
        subject,
      });
    }
    if (r.walBytes !== null && r.walBytes > walGrowthThreshold(r)) {
      const k = input.kanban.find((x) => x.db === r.path);
      const holders = k?.holders.map((h) => h.pid) ?? [];
      const pages = AUTOCHECKPOINT_PAGES[r.kind];
      add({
        severity: 'warning',
        code: 'WAL_GROWING',
        pid: null,
        message: `${r.path}-wal is ${bytesText(r.walBytes)}, more than ${WAL_GROWTH_FACTOR} times its checkpoint threshold (${pages} pages of ${bytesText(r.header?.pageSize ?? DEFAULT_PAGE_SIZE)}, ${r.kind === 'kanban' ? "Hermes's wal_autocheckpoint" : "SQLite's default wal_autocheckpoint"}): checkpoints cannot reset it, so a process keeps a read transaction open${holders.length ? `; it is open in PIDs ${holders.join(', ')}` : ''}. End that transaction (or the process holding it); the WAL is reset at the next checkpoint.`,
        remedy: null,
        subject,
      });
    }
    if (r.integrity?.status === 'corrupt') {
      const shownLines = r.integrity.lines.slice(0, 5);
      const more = r.integrity.lines.length - shownLines.length;
      const of = r.kind === 'kanban' ? `the gateways and workers of ${r.owner}` : `the gateway of ${r.owner}`;
      add({
        severity: 'critical',
        code: 'KANBAN_CORRUPT',
        pid: null,
        message: `${r.path} is corrupt: a read-only PRAGMA quick_check answered ${shownLines.length ? `"${shownLines.join('"; "')}"${more > 0 ? ` and ${more} more` : ''}` : 'problems'}. Stop ${of}, copy the database with its -wal and -shm aside, then restore a backup or rebuild it (\`sqlite3 ${r.path} .recover\` into a new file, then \`PRAGMA journal_mode=WAL\` on it) before starting them again; find the rival writer first, or it corrupts again.`,
        remedy: null,
        subject,
      });
    }
  }
  const judgedRoots = new Set<string>();
  for (const r of input.databases) {
    if (r.kind !== 'kanban' || !r.dispatchConfig || judgedRoots.has(r.owner)) continue;
    // One finding per root, on its default board when it has one: the embedded dispatcher serves every board of the root.
    const main = input.databases.find((x) => x.kind === 'kanban' && x.owner === r.owner && x.path === path.posix.join(r.owner, 'kanban.db')) ?? r;
    judgedRoots.add(r.owner);
    const f = multipleDispatchers(main, input);
    if (f) add(f);
  }
  for (const l of input.logs ?? []) {
    add({
      severity: 'warning',
      code: 'CORRUPTION_LOGGED',
      pid: null,
      message: `${l.file} logged ${l.count} database corruption message${l.count === 1 ? '' : 's'} in the last ${Math.round(l.windowMs / 3_600_000)} h of its tail${l.newest ? `, the newest at ${l.newest}` : ''}, e.g. "${l.example}". Run \`hermes-doctor orphans --integrity\` to check the databases of ${l.home}, and look for rival writers of its kanban database.`,
      remedy: null,
      subject: { home: l.home },
    });
  }

  // Deleted generations, from the handles.
  const heldBy = new Map<string, number[]>();
  for (const p of input.processes) {
    const seen = new Set<string>();
    for (const h of p.rec.handles) {
      if (!h.deleted) continue;
      const db = databaseOfFile(h.path);
      if (!db) continue;
      // A ghost of a deleted profile holds that profile's deleted state.db: nothing else opens a database
      // of a home that is gone, and its GHOST_GATEWAY finding already says to end it.
      if (p.verdict === 'ghost' && p.home !== null && path.posix.dirname(db) === p.home && path.posix.basename(db) === 'state.db') continue;
      heldBy.set(db, [...new Set([...(heldBy.get(db) ?? []), p.rec.pid])]);
      const key = `${db}\0${h.path}`;
      if (seen.has(key)) continue;
      seen.add(key);
      add(deletedHeld(p, h, db));
    }
  }

  const databases = input.databases.map(
    (r): DatabaseHealth => ({
      path: r.path,
      kind: r.kind,
      owner: r.owner,
      bytes: r.bytes,
      format: formatOf(r),
      journalMode: journalOf(r),
      pageSize: r.header?.pageSize ?? null,
      walBytes: r.walBytes,
      shmBytes: r.shmBytes,
      journalBytes: r.journalBytes,
      backups: r.backups,
      freeBytes: r.freeBytes,
      deletedHeldBy: (heldBy.get(r.path) ?? []).sort((a, b) => a - b),
      findings: byDb.get(r.path) ?? [],
      ...(r.error !== undefined ? { error: r.error } : {}),
      ...(r.archived ? { archived: true } : {}),
      ...(r.integrity ? { integrity: r.integrity } : {}),
      ...(r.dispatchConfig ? { dispatchConfig: r.dispatchConfig } : {}),
    }),
  );
  return { findings, databases };
}

/** MULTIPLE_DISPATCHERS of the root of `r`, or null. */
function multipleDispatchers(r: DatabaseRecord, input: DbHealthInput): Finding | null {
  const settings: readonly DispatchSetting[] = r.dispatchConfig ?? [];
  const gatewaysOf = new Map<string, number[]>();
  for (const p of input.processes) {
    if (p.role !== 'gateway' || p.home === null || p.verdict === 'ghost') continue;
    gatewaysOf.set(p.home, [...(gatewaysOf.get(p.home) ?? []), p.rec.pid]);
  }
  const configured = settings.filter((s) => s.dispatches === 'yes' && gatewaysOf.has(s.home));
  const k = input.kanban.find((x) => x.db === r.path) ?? input.kanban.find((x) => x.root === r.owner);
  const singleton = k?.singletonLock?.value ?? 'unknown';
  // A gateway whose own config.yaml turns the dispatcher off returns from its watcher on every version.
  const off = new Set(settings.filter((s) => s.dispatches === 'no').map((s) => s.home));
  const homeOf = new Map(input.processes.map((p) => [p.rec.pid, p.home]));
  const live = (k?.dispatchers ?? []).filter((d) => d.dispatches === 'yes' && d.role === 'gateway' && !off.has(homeOf.get(d.pid) ?? '')).map((d) => d.pid);
  const noLock = singleton === 'no';
  if (configured.length < 2 && !(noLock && live.length >= 2)) return null;
  const list = configured.map((s) => `${s.home} (PID ${(gatewaysOf.get(s.home) ?? []).join(', ')}; ${s.why})`).join('; ');
  const who = configured.length >= 2 ? `${configured.length} running profiles of ${r.owner} are configured to dispatch its boards: ${list}` : `${live.length} gateways of ${r.owner} dispatch its boards (PIDs ${[...live].sort((a, b) => a - b).join(', ')})`;
  const fix = `Set \`kanban:\` \`dispatch_in_gateway: false\` in the config.yaml of every profile but one (the default is true) and restart those gateways.`;
  const message = noLock
    ? `${who}, and this Hermes has no singleton dispatcher lock (${k?.singletonLock?.why ?? 'no .dispatcher.lock'}), so each runs its own dispatcher on ${r.path}: doubled reclaims and claims, and concurrent WAL checkpoints that can corrupt it. ${fix}`
    : singleton === 'yes'
      ? `${who}. This Hermes takes the singleton lock ${path.posix.join(r.owner, 'kanban', '.dispatcher.lock')}, so only one dispatches and the others stand by, but which one depends on start order, and without flock they all would. ${fix}`
      : `${who}; whether this Hermes has the singleton dispatcher lock is unknown (${k?.singletonLock?.why ?? 'no evidence'}): without it each runs its own dispatcher on ${r.path}. ${fix}`;
  // With the singleton lock this is how Hermes is meant to run (every profile's default config dispatches
  // and the lock picks one): worth saying, not an alert, as a rival-writers risk there would be wrong.
  return { severity: noLock ? 'critical' : singleton === 'yes' ? 'info' : 'warning', code: 'MULTIPLE_DISPATCHERS', pid: null, message, remedy: null, subject: { db: r.path, home: r.owner } };
}

function deletedHeld(p: DbHolder, h: Handle, db: string): Finding {
  const pid = p.rec.pid;
  const kind = path.posix.basename(db) === 'state.db' ? 'state.db' : 'kanban.db';
  const verdict = p.verdict ? `${p.role ?? 'process'}, verdict ${p.verdict}` : 'not a Hermes process';
  const file = h.path === db ? 'the database file itself' : `its ${h.path.slice(db.length)}`;
  return {
    severity: 'critical',
    code: 'DELETED_WAL_HELD',
    pid,
    message: `PID ${pid} (${short(p.rec.argv)}; ${verdict}) holds a deleted generation of ${db}: ${file} (fd ${h.fd}${h.inode !== undefined ? `, inode ${h.inode}` : ''}) was unlinked while open. Its writes to this ${kind} go to a file no other process sees, and the others' new WAL is not the one it uses; no Hermes command can reclaim it while it runs. ${p.remedy ? 'End it' : `Restart or end PID ${pid}`}: only a process that opens the database again uses the current files.`,
    remedy: p.remedy,
    subject: { db, pid },
  };
}
