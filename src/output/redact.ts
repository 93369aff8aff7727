/**
 * The output boundary, pure: every renderer passes what it prints (a report, a guard decision, a kill
 * plan, kill actions) through one of these before reading a field, so the masking policy
 * (src/core/mask.ts) and, for text, the control-character escaping (./terminal.ts) reach every field,
 * also one added later.
 *
 * - {@link redact}: a deep copy in which every array under a key `argv`, `command` or `execStart` is
 *   masked entry by entry (same length) and every other string is masked as text; each object with an
 *   `argv` also gets `argvMasked`, the indices of the entries that were masked (or already held a mask).
 * - {@link textModel}: {@link redact}, then every string with its control characters shown visibly.
 * - {@link renderJsonDocument}: {@link redact}, as pretty JSON that also escapes DEL and C1.
 */
import { maskArgvDetailed, maskText } from '../core/mask.js';
import { escapeControls, jsonSafe } from './terminal.js';

/** Keys whose value is an argv (string[]): masked entry by entry, never as one text. */
const ARGV_KEYS = new Set(['argv', 'command', 'execStart']);

const isStringArray = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');

function walk(value: unknown, text: (s: string) => string): unknown {
  if (typeof value === 'string') return text(maskText(value));
  if (Array.isArray(value)) return value.map((v) => walk(v, text));
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (k === 'argvMasked' && isStringArray((value as Record<string, unknown>).argv)) continue;
    if (ARGV_KEYS.has(k) && isStringArray(v)) {
      const m = maskArgvDetailed(v);
      out[k] = m.argv.map(text);
      if (k === 'argv') out.argvMasked = m.masked;
      continue;
    }
    out[k] = walk(v, text);
  }
  return out;
}

/**
 * A deep copy of `value` with the masking policy applied to every string (argv arrays entry by entry,
 * plus `argvMasked` next to each `argv`). The input is not modified.
 */
export function redact<T>(value: T): T {
  return walk(value, (s) => s) as T;
}

/** {@link redact}, then every string with its control characters escaped visibly: what text renderers read. */
export function textModel<T>(value: T): T {
  return walk(value, escapeControls) as T;
}

/** A JSON document (pretty, trailing newline) of a {@link redact}ed copy of `value`; exact strings otherwise. */
export function renderJsonDocument(value: unknown): string {
  return jsonSafe(JSON.stringify(redact(value), null, 2)) + '\n';
}
