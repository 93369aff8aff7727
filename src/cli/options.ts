/**
 * The options more than one command takes, and every option with a number, each declared once with its
 * default (and the constant that default comes from), as yargs option fragments. The numbers are
 * checked once while yargs parses (a `coerce` that throws becomes a usage error, exit 3, naming the
 * range). yargs's own `type: 'number'` accepts `1e12`, `-5`, `0x10` and `NaN`; a value that overflows a
 * timer or means "no limit" must never reach the scan, so these flags are parsed from their text here:
 * decimal digits only.
 *
 * Ranges (README, docs/kill.md):
 * - `--timeout MS`  1–600000: each external command (systemctl, s6-svstat), ms; default 3000
 * - `--deadline MS` 100–3600000: the whole scan, ms; default 30000
 * - `--grace S`     0–3600: seconds between SIGTERM and SIGKILL, to the millisecond (`0.5`); default 10
 * - `--pid N`       1–4194304 (Linux's PID_MAX_LIMIT; 4294967295 on Windows, whose PIDs are DWORDs)
 * - `--confirm-delay MS` 0–60000: the second look of --quiet, --kill and the Prometheus outputs (0: none); default 3500
 *
 * Options one command alone takes are declared with that command (src/commands/).
 */
import { DEFAULT_GRACE_MS } from '../actions/kill-timing.js';
import { DEFAULT_CONFIRM_DELAY_MS } from '../core/second-look.js';
import { DEFAULT_COMMAND_TIMEOUT_MS } from '../sources/runner.js';

/** Default `--timeout`: each external command, ms (the scan's own default). */
export const DEFAULT_TIMEOUT_MS = DEFAULT_COMMAND_TIMEOUT_MS;
/** Default `--deadline`: the whole scan, ms. */
export const DEFAULT_DEADLINE_MS = 30_000;
/** Default `--grace`: seconds between SIGTERM and SIGKILL (the kill step's own default). */
export const DEFAULT_GRACE_S = DEFAULT_GRACE_MS / 1000;

/** Range of an integer flag. */
export interface IntRange {
  min: number;
  max: number;
  /** Unit in words for the message (`ms`, `s`). */
  unit?: string;
}

/** `--timeout`: per external command, ms. */
export const TIMEOUT_RANGE: IntRange = { min: 1, max: 600_000, unit: 'ms' };
/** `--deadline`: the whole scan, ms. */
export const DEADLINE_RANGE: IntRange = { min: 100, max: 3_600_000, unit: 'ms' };
/** `--grace`: seconds (decimals to the ms allowed). */
export const GRACE_RANGE: IntRange = { min: 0, max: 3600, unit: 's' };
/** `--confirm-delay`: ms between the first and the second look (0 turns it off). */
export const CONFIRM_DELAY_RANGE: IntRange = { min: 0, max: 60_000, unit: 'ms' };
/** `--pid`: Linux's PID_MAX_LIMIT (2^22); Windows PIDs are 32-bit. */
export const PID_RANGE: IntRange = { min: 1, max: process.platform === 'win32' ? 4_294_967_295 : 4_194_304 };

function rangeText(flag: string, r: IntRange): string {
  return `${flag} takes a whole number from ${r.min} to ${r.max}${r.unit ? ` (${r.unit})` : ''}`;
}

/**
 * Parses one integer flag value.
 *
 * @param flag the flag, for the message (`--timeout`)
 * @param value what yargs gave (a string; a number when set programmatically; the last one when repeated)
 * @throws Error `--timeout takes a whole number from 1 to 600000 (ms), not "0"` for anything else
 */
export function parseIntFlag(flag: string, value: unknown, r: IntRange): number {
  const v = Array.isArray(value) ? value[value.length - 1] : value;
  const text = typeof v === 'number' ? String(v) : typeof v === 'string' ? v.trim() : '';
  const n = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n) || n < r.min || n > r.max) throw new Error(`${rangeText(flag, r)}, not ${JSON.stringify(v === undefined ? '' : v)}`);
  return n;
}

/**
 * Parses `--grace`: seconds from 0 to 3600 with at most three decimals (the kill step works in ms).
 *
 * @throws Error naming the range for anything else (`-1`, `1e3`, `10s`, `0.0001`)
 */
export function parseGrace(value: unknown): number {
  const v = Array.isArray(value) ? value[value.length - 1] : value;
  const text = typeof v === 'number' ? String(v) : typeof v === 'string' ? v.trim() : '';
  const n = /^\d+(\.\d{1,3})?$/.test(text) ? Number(text) : NaN;
  if (!Number.isFinite(n) || n < GRACE_RANGE.min || n > GRACE_RANGE.max) {
    throw new Error(`--grace takes seconds from ${GRACE_RANGE.min} to ${GRACE_RANGE.max} (decimals to the millisecond, e.g. 0.5), not ${JSON.stringify(v ?? '')}`);
  }
  return n;
}

/** Parses every `--pid` value (repeatable, each in {@link PID_RANGE}). */
export function parsePids(value: unknown): number[] {
  const list = Array.isArray(value) ? value : [value];
  return list.map((v) => parseIntFlag('--pid', v, PID_RANGE));
}

// yargs option fragments. A number is declared `type: 'string'` and parsed by its coerce, so the
// original text is in the message.

/** `--s6-scandir DIR` of the commands that scan (orphans, snapshot, guard); the scan's default is /run/service. */
export const s6ScanDirOption = { type: 'string', describe: 's6 scan directory', default: undefined, defaultDescription: '/run/service' } as const;

/** `--timeout MS`: each external command of the scan. */
export const timeoutOption = {
  type: 'string',
  default: String(DEFAULT_TIMEOUT_MS),
  defaultDescription: String(DEFAULT_TIMEOUT_MS),
  coerce: (v: unknown) => parseIntFlag('--timeout', v, TIMEOUT_RANGE),
  describe: `timeout of each external command (systemctl, s6-svstat), ms, ${TIMEOUT_RANGE.min}–${TIMEOUT_RANGE.max}`,
} as const;

/** `--deadline MS`: the whole scan. */
export const deadlineOption = {
  type: 'string',
  default: String(DEFAULT_DEADLINE_MS),
  defaultDescription: String(DEFAULT_DEADLINE_MS),
  coerce: (v: unknown) => parseIntFlag('--deadline', v, DEADLINE_RANGE),
  describe: `the whole scan ends within this many ms (${DEADLINE_RANGE.min}–${DEADLINE_RANGE.max}); what it could not see is reported unknown`,
} as const;

/**
 * `--confirm-delay MS`. No default in yargs: an absent flag leaves the choice to the context (tests) or
 * {@link DEFAULT_CONFIRM_DELAY_MS} ({@link confirmDelayOf}).
 */
export const confirmDelayOption = {
  type: 'string',
  defaultDescription: String(DEFAULT_CONFIRM_DELAY_MS),
  coerce: (v: unknown) => parseIntFlag('--confirm-delay', v, CONFIRM_DELAY_RANGE),
  describe: `--quiet, --kill and the Prometheus outputs confirm a problem by scanning again after this many ms (${CONFIRM_DELAY_RANGE.min}–${CONFIRM_DELAY_RANGE.max}; 0: no second look)`,
} as const;

/** `--grace S` of `--kill`. */
export const graceOption = {
  type: 'string',
  default: String(DEFAULT_GRACE_S),
  defaultDescription: String(DEFAULT_GRACE_S),
  coerce: parseGrace,
  describe: `with --kill: seconds between SIGTERM and SIGKILL (${GRACE_RANGE.min}–${GRACE_RANGE.max}, e.g. 0.5)`,
} as const;

/** `--pid N` of `--kill` (repeatable). */
export const pidOption = {
  type: 'string',
  array: true,
  coerce: parsePids,
  describe: `with --kill: only these PIDs, ${PID_RANGE.min}–${PID_RANGE.max} (a PID that is not a target is refused with its reason)`,
} as const;

/**
 * `--integrity`: the read-only `PRAGMA quick_check` of every kanban.db and state.db in sight
 * (src/sources/db-integrity.ts), through python3, within a budget of 5 s per database. Off by default:
 * it reads every page of every database, which a periodic run should not do unasked.
 */
export const integrityOption = {
  type: 'boolean',
  default: false,
  describe: 'also run a read-only PRAGMA quick_check on every kanban.db and state.db in sight (python3 sqlite3; creates no -wal/-shm, never waits on a lock)',
} as const;

/** `--color` / `--no-color` of the commands that print text (orphans, guard). */
export const colorOption = { type: 'boolean', describe: 'force colour on or off (default: TTY and no NO_COLOR)' } as const;

/**
 * The delay of the second look, ms: `--confirm-delay`, else the context's default (tests), else
 * {@link DEFAULT_CONFIRM_DELAY_MS}; 0 (no second look) for anything not a positive number.
 */
export function confirmDelayOf(args: { 'confirm-delay'?: number }, ctxDefault?: number): number {
  const v = args['confirm-delay'] ?? ctxDefault ?? DEFAULT_CONFIRM_DELAY_MS;
  return Number.isFinite(v) && v > 0 ? v : 0;
}
