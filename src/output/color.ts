/**
 * The colour decision of every output (NO_COLOR, https://no-color.org; FORCE_COLOR as chalk reads it),
 * apart from the table renderer so that a command printing a few coloured lines does not load it.
 */

/** Whether colour should be used by default: a TTY and no non-empty NO_COLOR. */
export function colorWanted(stream: { isTTY?: boolean } = process.stdout): boolean {
  if (process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== '') return false;
  if (process.env.FORCE_COLOR !== undefined && process.env.FORCE_COLOR !== '0') return true;
  return !!stream.isTTY;
}
