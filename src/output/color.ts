/**
 * The colour decision of every output (NO_COLOR, https://no-color.org; FORCE_COLOR as chalk reads it),
 * apart from the table renderer so that a command printing a few coloured lines does not load it.
 */

/**
 * Whether colour should be used by default: a TTY, no non-empty NO_COLOR, and not `TERM=dumb` (a
 * terminal that declares it has no capabilities: terminfo's `dumb` entry, as Emacs shells and some
 * CI logs set it). NO_COLOR wins over FORCE_COLOR, FORCE_COLOR over TERM=dumb and the TTY test
 * (chalk's supports-color orders FORCE_COLOR and TERM=dumb the same way).
 */
export function colorWanted(stream: { isTTY?: boolean } = process.stdout): boolean {
  if (process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== '') return false;
  if (process.env.FORCE_COLOR !== undefined && process.env.FORCE_COLOR !== '0') return true;
  if (process.env.TERM === 'dumb') return false;
  return !!stream.isTTY;
}
