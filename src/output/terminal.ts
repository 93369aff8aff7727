/**
 * Control characters in text output, pure. Host strings (argv, paths, profile, unit and slot names,
 * supervisor output, error text) may hold escape sequences that repaint a terminal, retitle it, or
 * start a new line that looks like one of ours ("PID 1 supervised: …"). Two layers keep them inert:
 *
 * - {@link escapeControls}: every text renderer passes the report model through it (src/output/redact.ts
 *   `textModel`), so each control character of a host string is shown as visible text: `\n`, `\r`,
 *   `\t`, `\x1b`, `\x00`…`\x1f`, `\x7f` (DEL), `\x80`…`\x9f` (C1, e.g. `\x9b`, the one-byte CSI), and
 *   `\u2028` `\u2029` `\u200e` `\u200f` `\u202a`…`\u202e` `\u2066`…`\u2069` (line separators and
 *   bidirectional overrides, which reorder what is shown).
 * - {@link terminalSafe}: the CLI's stdout and stderr writers escape the same characters once more as
 *   text leaves the program, except what our own layout writes: `\n`, `\t`, SGR colour sequences
 *   (`ESC [ digits;… m`, as chalk writes them) and a carriage return that starts a write (the
 *   `--kill` progress line rewriting itself).
 *
 * JSON output needs neither: JSON.stringify escapes C0 controls, and {@link jsonSafe} escapes DEL, C1
 * and the separators as `\u….` so the document is the exact strings, still valid JSON.
 */

/** Control characters shown visibly in text output (see the module comment for the list). */
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const IS_CONTROL = new RegExp(CONTROL.source);

const NAMED: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function visible(ch: string): string {
  const named = NAMED[ch];
  if (named) return named;
  const code = ch.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/**
 * Shows every control character of a string as visible text (`\x1b`, `\n`, `\x9b`, `\u202e`);
 * other characters, backslashes included, are unchanged.
 */
export function escapeControls(text: string): string {
  return text.replace(CONTROL, visible);
}

/** Any control character but the layout's own newline and tab. */
const NEEDS_LOOK = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;

/** SGR sequences as chalk writes them: ESC [ parameters m. */
const SGR = /\u001b\[[0-9;]*m/y;

/**
 * Escapes the control characters of a chunk of finished text output, keeping the layout's own: `\n`,
 * `\t`, SGR colour sequences, and a `\r` at the very start of the chunk.
 */
export function sanitizeTerminalText(chunk: string): string {
  // Most output (JSON, a plain table) has nothing to look at: one scan, no copy.
  if (!NEEDS_LOOK.test(chunk)) return chunk;
  let out = '';
  let i = 0;
  if (chunk.startsWith('\r')) {
    out = '\r';
    i = 1;
  }
  while (i < chunk.length) {
    const ch = chunk[i]!;
    if (ch === '\n' || ch === '\t') {
      out += ch;
      i++;
      continue;
    }
    if (ch === '\u001b') {
      SGR.lastIndex = i;
      const m = SGR.exec(chunk);
      if (m) {
        out += m[0];
        i += m[0].length;
        continue;
      }
    }
    out += IS_CONTROL.test(ch) ? visible(ch) : ch;
    i++;
  }
  return out;
}

/** Wraps a text writer (the CLI's stdout or stderr) so that what it writes passes {@link sanitizeTerminalText}. */
export function terminalSafe(write: (text: string) => void): (text: string) => void {
  return (text) => write(sanitizeTerminalText(text));
}

/** Characters JSON.stringify leaves raw that a terminal still acts on: DEL, C1, line separators, bidi overrides. */
const JSON_RAW = /[\u007f-\u009f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/**
 * Escapes, inside a JSON text, the characters JSON.stringify leaves raw but a terminal acts on, as
 * `\u….` escapes: the parsed document is unchanged.
 */
export function jsonSafe(json: string): string {
  return json.replace(JSON_RAW, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
