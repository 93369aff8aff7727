/**
 * Shell quoting of the words of a remedy command, pure. A path or unit name from the host may hold a
 * space, a quote or a `$`: printed raw, a copied remedy would act on another path (or run something).
 *
 * POSIX sh (sh(1p) "Quoting"): a word of only `[A-Za-z0-9_@%+=:,./-]` stays as it is; any other word
 * is put in single quotes, inside which nothing is special, and each `'` becomes `'\''`.
 * Windows cmd.exe: a word with a space or one of `&|<>^"%!()` is put in double quotes, `"` doubled.
 */

const POSIX_SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;
const CMD_SAFE = /^[^\s&|<>^"%!()]+$/;

/** One word for POSIX sh: unchanged when safe, else single-quoted (`'` → `'\''`); `''` for the empty word. */
export function shQuote(word: string): string {
  if (POSIX_SAFE.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** One word for cmd.exe: unchanged when safe, else double-quoted with `"` doubled. */
export function cmdQuote(word: string): string {
  if (CMD_SAFE.test(word)) return word;
  return `"${word.replace(/"/g, '""')}"`;
}

/** A command line from words, each quoted for the shell of `platform` (cmd.exe on win32, else sh). */
export function shellCommand(words: readonly (string | number)[], platform: string = 'linux'): string {
  const q = platform === 'win32' ? cmdQuote : shQuote;
  return words.map((w) => q(String(w))).join(' ');
}
