/**
 * The read-only integrity check of `--integrity`: `PRAGMA quick_check` on each kanban.db and state.db in
 * sight, through the Python `sqlite3` module of the host's `python3`.
 *
 * Why Python's sqlite3: it is the SQLite Hermes itself uses (hermes_cli/kanban_db.py and hermes_state.py
 * at 306e2d2 `import sqlite3`), so the check reads the files with the library and version that wrote
 * them, and every Hermes host has it. The `sqlite3` CLI is often not installed (it is not here), and an
 * npm binding (better-sqlite3) would be a native dependency to build for every platform for one opt-in
 * check, with its own bundled SQLite. The check runs as a child process through the command runner
 * (runner.ts): its own process group, SIGKILLed at the budget, so a check that hangs ends with its locks.
 *
 * The rules it keeps, and how:
 * - It cannot write: the URI has `mode=ro` (SQLITE_OPEN_READONLY) and `PRAGMA query_only=1` is set.
 * - It creates no `-wal`/`-shm`: a plain read-only open of a WAL database creates both (and leaves them,
 *   owned by the checker: a root-owned `-shm` beside a database of the `hermes` user breaks the gateway's
 *   next open). So:
 *   - both sidecars there (someone has it open in WAL mode, or left them): `file:PATH?mode=ro`. SQLite
 *     opens the existing ones and creates nothing; a WAL reader never blocks a WAL writer (it only keeps
 *     a checkpoint from resetting the WAL while it reads).
 *   - neither there: no connection has it open in WAL mode (the last one to close deletes both), so
 *     `file:PATH?mode=ro&immutable=1`: SQLite takes no lock and opens no sidecar, so it can neither
 *     create one nor block anyone. immutable is only sound while nobody writes, so the check stats the
 *     database and looks for sidecars and a journal before and after: if a writer came meanwhile (a
 *     sidecar or journal appeared, the database's inode, size or mtime changed) the answer is thrown
 *     away, `not-checked`, never `corrupt`.
 *   - only one of them, or a `-journal` (a rollback write in progress or a hot journal): not checked.
 *   The sidecars are looked at again right before the open, not only at the scan's lstat.
 * - It never blocks a live writer and never waits: `timeout=0` and `PRAGMA busy_timeout=0`; busy or
 *   locked is `not-checked`.
 * - A time budget: a progress handler interrupts quick_check at {@link INTEGRITY_BUDGET_MS}, and the
 *   runner kills the child {@link KILL_MARGIN_MS} later whatever it does.
 * Left open: with both sidecars present, a writer that closes (deleting them) in the instant between the
 * look and the open would have them re-created by the open; the check then reports the sidecars replaced.
 */
import type { DatabaseRecord, IntegrityRecord } from '../types.js';
import { maskText } from '../core/mask.js';
import type { CommandRunner } from './runner.js';
import { escapeLogText } from './db-logs.js';

/** Time quick_check may take on one database, ms. */
export const INTEGRITY_BUDGET_MS = 5000;
/** Extra time before the runner kills the child, ms (Python start-up and the answer). */
export const KILL_MARGIN_MS = 1500;
/** Lines of quick_check kept at most (`PRAGMA quick_check(N)`), lines. */
export const MAX_INTEGRITY_LINES = 20;
/** Longest line kept, characters. */
export const MAX_INTEGRITY_LINE_CHARS = 300;

/**
 * The Python program: argv = path, mode (`ro` | `immutable`), budget ms. Prints one JSON object
 * `{status, lines, reason?}`. Exit code 0 whatever the answer.
 */
export const INTEGRITY_SCRIPT = String.raw`
import json, os, sqlite3, sys, time, urllib.parse
p, mode, budget = sys.argv[1], sys.argv[2], float(sys.argv[3]) / 1000.0
def look():
    try:
        s = os.stat(p); st = (s.st_ino, s.st_size, s.st_mtime_ns)
    except OSError:
        st = None
    sides = {}
    for x in ('-wal', '-shm', '-journal'):
        try:
            sides[x] = os.lstat(p + x).st_ino
        except OSError:
            sides[x] = None
    return st, sides
def say(status, lines=(), reason=None):
    out = {'status': status, 'lines': list(lines)}
    if reason: out['reason'] = reason
    print(json.dumps(out)); sys.exit(0)
before = look()
w, s, j = (before[1][x] is not None for x in ('-wal', '-shm', '-journal'))
if before[0] is None: say('not-checked', reason='the database is gone')
if j: say('not-checked', reason='a -journal is present (a rollback write in progress or a hot journal)')
if mode == 'ro' and not (w and s): say('not-checked', reason='the -wal/-shm went away before the check (a writer closed); not opened, so none is created')
if mode == 'immutable' and (w or s): say('not-checked', reason='a -wal/-shm appeared before the check (a writer opened it)')
uri = 'file:' + urllib.parse.quote(p) + ('?mode=ro' if mode == 'ro' else '?mode=ro&immutable=1')
end = time.monotonic() + budget
status, lines, reason = 'not-checked', [], None
try:
    con = sqlite3.connect(uri, uri=True, timeout=0, isolation_level=None)
    try:
        con.execute('PRAGMA busy_timeout=0')
        con.execute('PRAGMA query_only=1')
        con.set_progress_handler(lambda: 1 if time.monotonic() > end else 0, 1000)
        lines = [str(r[0]) for r in con.execute('PRAGMA quick_check(${MAX_INTEGRITY_LINES})')]
        status = 'ok' if lines == ['ok'] else 'corrupt'
    finally:
        con.close()
except sqlite3.DatabaseError as e:
    m = str(e)
    low = m.lower()
    if 'interrupt' in low: reason = 'the time budget ran out'
    elif 'locked' in low or 'busy' in low: reason = 'busy: ' + m
    elif 'malformed' in low or 'not a database' in low: status, lines = 'corrupt', [m]
    else: reason = m
except Exception as e:
    reason = repr(e)
after = look()
if mode == 'immutable' and after != before:
    say('not-checked', reason='a writer changed the database or its sidecars during the check; the answer (' + status + ') is not kept')
if mode == 'ro' and (after[1]['-wal'], after[1]['-shm']) != (before[1]['-wal'], before[1]['-shm']):
    reason = 'the -wal/-shm were replaced during the check (a writer closed and another opened)'
say(status, lines, reason)
`;

/** A quick_check line as it may be shown: masked, escaped, cut. */
function shown(line: string): string {
  const s = escapeLogText(maskText(line));
  return s.length > MAX_INTEGRITY_LINE_CHARS ? `${s.slice(0, MAX_INTEGRITY_LINE_CHARS - 1)}…` : s;
}

/** How a database is opened for the check, or why it is not (see the module header). Pure. */
export function integrityOpenOf(db: Pick<DatabaseRecord, 'error' | 'header' | 'bytes' | 'walBytes' | 'shmBytes' | 'journalBytes'>): { open: 'ro' | 'immutable' } | { skip: string } {
  if (db.error !== undefined) return { skip: `not readable (${db.error})` };
  if (db.bytes === 0) return { skip: 'empty file' };
  if (!db.header?.magic) return { skip: 'not a SQLite file (see its header)' };
  if (db.journalBytes !== null) return { skip: 'a -journal is present (a rollback write in progress or a hot journal)' };
  const wal = db.walBytes !== null;
  const shm = db.shmBytes !== null;
  if (wal && shm) return { open: 'ro' };
  if (!wal && !shm) return { open: 'immutable' };
  return { skip: `sidecars incomplete (only -${wal ? 'wal' : 'shm'}): a read-only open would create the other` };
}

/**
 * Runs the check on one database. Never rejects: a missing python3, a timeout or an answer that is not
 * JSON is `not-checked` with its reason.
 *
 * @param budgetMs time quick_check may take, ms; the child is killed {@link KILL_MARGIN_MS} later
 */
export async function checkIntegrity(db: DatabaseRecord, runner: CommandRunner, budgetMs = INTEGRITY_BUDGET_MS): Promise<IntegrityRecord> {
  const how = integrityOpenOf(db);
  if ('skip' in how) return { status: 'not-checked', lines: [], open: null, reason: how.skip, ms: 0 };
  const started = performance.now();
  const r = await runner('python3', ['-I', '-B', '-c', INTEGRITY_SCRIPT, db.path, how.open, String(budgetMs)], { timeoutMs: budgetMs + KILL_MARGIN_MS });
  const ms = Math.round(performance.now() - started);
  if (r.error !== null || r.code !== 0) {
    const why = r.error === 'ENOENT' ? 'python3 not found' : (r.error ?? `python3 exited ${r.code}: ${r.stderr.trim().split('\n').pop() ?? ''}`);
    return { status: 'not-checked', lines: [], open: how.open, reason: shown(why), ms };
  }
  try {
    const a = JSON.parse(r.stdout) as { status?: unknown; lines?: unknown; reason?: unknown };
    const status = a.status === 'ok' || a.status === 'corrupt' ? a.status : 'not-checked';
    const lines = Array.isArray(a.lines) ? a.lines.slice(0, MAX_INTEGRITY_LINES).map((l) => shown(String(l))) : [];
    return { status, lines, open: how.open, ...(typeof a.reason === 'string' ? { reason: shown(a.reason) } : {}), ms };
  } catch {
    return { status: 'not-checked', lines: [], open: how.open, reason: 'python3 gave no answer', ms };
  }
}

/** {@link checkIntegrity} of each database, one after the other (never two checks at once); records with `integrity` set. */
export async function checkIntegrityAll(dbs: readonly DatabaseRecord[], runner: CommandRunner, budgetMs = INTEGRITY_BUDGET_MS): Promise<DatabaseRecord[]> {
  const out: DatabaseRecord[] = [];
  for (const db of dbs) out.push({ ...db, integrity: await checkIntegrity(db, runner, budgetMs) });
  return out;
}
