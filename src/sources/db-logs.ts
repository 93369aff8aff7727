/**
 * Symptoms of database corruption in the homes' logs: the messages SQLite and Hermes write when a
 * database is damaged, in the tail of `<home>/logs/gateway.log` and `<home>/logs/errors.log`
 * (hermes_logging.py at 306e2d2: errors.log takes WARNING and above, gateway.log the gateway's INFO and
 * above, both with `_LOG_FORMAT = "%(asctime)s %(levelname)s%(session_tag)s %(name)s: %(message)s"`, so a
 * record starts with `YYYY-MM-DD HH:MM:SS,mmm` in local time and a traceback continues it on lines
 * without one).
 *
 * I/O, bounded and non-blocking: each log is read only through safe-read.ts `safeReadTail` (O_NONBLOCK,
 * O_NOFOLLOW, regular files only; a FIFO is never waited on), at most {@link MAX_LOG_TAIL_BYTES} from its
 * end, however large it is. Log lines are host input: the example kept is masked (core/mask.ts
 * `maskText`) and its control characters escaped, and it is cut at {@link MAX_EXAMPLE_CHARS}.
 */
import path from 'node:path';
import { maskText } from '../core/mask.js';
import type { CorruptionLogRecord } from '../types.js';
import { safeReadTail } from './safe-read.js';

/** Bytes read at most from the end of one log, bytes (1 MiB). */
export const MAX_LOG_TAIL_BYTES = 1024 * 1024;
/** Lines with a timestamp older than this before the scan are not counted, ms (24 hours). */
export const CORRUPTION_WINDOW_MS = 24 * 3_600_000;
/** Longest example line kept, characters. */
export const MAX_EXAMPLE_CHARS = 300;
/** The logs of a home that are read, relative to it. */
export const CORRUPTION_LOGS = ['logs/gateway.log', 'logs/errors.log'] as const;

/**
 * What SQLite and Hermes write on a damaged database: SQLITE_CORRUPT (`database disk image is
 * malformed`, `malformed database schema`), SQLITE_IOERR (`disk I/O error`), SQLITE_NOTADB (`file is not
 * a database`, also hermes_cli/kanban_db.py `_validate_sqlite_header`), and Hermes's refusal after it
 * quarantined a board (`KanbanDbCorruptError`: `Refusing to open corrupt kanban DB at …`, kanban_db.py
 * at 306e2d2).
 */
export const CORRUPTION_PATTERN = /database disk image is malformed|malformed database schema|disk I\/O error|file is not a database|Refusing to open corrupt kanban DB|KanbanDbCorruptError/i;

const STAMP = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2}):(\d{2})(?:[,.](\d{1,6}))?/;

/** Control characters, C1, line/paragraph separators and bidi overrides as `\xHH` / `\u{HHHH}`. */
export function escapeLogText(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, (ch) => {
    const n = ch.codePointAt(0)!;
    return n <= 0xff ? `\\x${n.toString(16).padStart(2, '0')}` : `\\u{${n.toString(16)}}`;
  });
}

/** A log timestamp (local time, as Python's logging writes `asctime`) in ms since the epoch; null when the line has none. */
export function logStampMs(line: string): number | null {
  const m = STAMP.exec(line);
  if (!m) return null;
  const ms = Number((m[7] ?? '0').padEnd(3, '0').slice(0, 3));
  const t = new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]), ms).getTime();
  return Number.isFinite(t) ? t : null;
}

/**
 * Scans the text of a log tail. Pure. A record is a timestamped line and the lines after it without one
 * (a traceback); a record counts once when any of its lines matches {@link CORRUPTION_PATTERN}, and is
 * skipped when its timestamp is older than `windowMs` before `nowMs`. Lines before the first timestamp
 * of the tail count with no time.
 *
 * @param partialFirst the tail starts inside the file: its first line is cut and ignored
 * @returns count, newest timestamp (ms) and the newest matching line (raw), or null when nothing matched
 */
export function scanLogText(text: string, nowMs: number, windowMs: number, partialFirst: boolean): { count: number; newestMs: number | null; example: string } | null {
  const lines = text.split(/\r?\n/);
  if (partialFirst) lines.shift();
  let count = 0;
  let newestMs: number | null = null;
  let example: string | null = null;
  let stamp: number | null = null;
  let counted = false;
  for (const line of lines) {
    const t = logStampMs(line);
    if (t !== null) {
      stamp = t;
      counted = false;
    }
    if (counted || !CORRUPTION_PATTERN.test(line)) continue;
    if (stamp !== null && nowMs - stamp > windowMs) continue;
    counted = true;
    count++;
    example = line;
    if (stamp !== null && (newestMs === null || stamp > newestMs)) newestMs = stamp;
  }
  return count > 0 && example !== null ? { count, newestMs, example } : null;
}

/** A log line as it may be shown: masked, escaped, at most {@link MAX_EXAMPLE_CHARS} characters. */
export function exampleOf(line: string): string {
  const shown = escapeLogText(maskText(line.trim()));
  return shown.length > MAX_EXAMPLE_CHARS ? `${shown.slice(0, MAX_EXAMPLE_CHARS - 1)}…` : shown;
}

/**
 * The corruption messages in the logs of `homes`, one record per log with a match, sorted by path.
 * Never throws: a missing, unreadable or non-regular log is skipped.
 *
 * @param nowMs the scan's start, ms since the epoch
 * @param maxBytes bytes read at most from the end of each log (default {@link MAX_LOG_TAIL_BYTES})
 */
export function observeCorruptionLogs(homes: Iterable<string>, nowMs: number, maxBytes = MAX_LOG_TAIL_BYTES): CorruptionLogRecord[] {
  const out: CorruptionLogRecord[] = [];
  for (const home of new Set(homes)) {
    for (const rel of CORRUPTION_LOGS) {
      const file = path.posix.join(home, rel);
      const r = safeReadTail(file, maxBytes);
      if (!r.ok || r.bytes.length === 0) continue;
      const hit = scanLogText(r.bytes.toString('utf8'), nowMs, CORRUPTION_WINDOW_MS, r.start > 0);
      if (!hit) continue;
      out.push({
        home,
        file,
        count: hit.count,
        newest: hit.newestMs !== null ? new Date(hit.newestMs).toISOString() : null,
        example: exampleOf(hit.example),
        bytesRead: r.bytes.length,
        windowMs: CORRUPTION_WINDOW_MS,
      });
    }
  }
  return out.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
}
