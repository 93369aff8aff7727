/**
 * The UID of this process, and the value that stands for "not known". Windows has no POSIX UIDs
 * (`process.getuid` is undefined there), and the scans record -1 for every process and for the scanner
 * there (src/sources/win32/facets.ts); the report filters treat a UID below 0 as unknown (every user's
 * processes are shown) and the kill plan compares a process's UID with the caller's, so -1 against -1
 * is "the caller's own".
 */

/** The UID recorded when the platform has none (Windows). */
export const UNKNOWN_UID = -1;

/** `process.getuid()`, or {@link UNKNOWN_UID} where the platform has no UIDs. */
export function processUid(): number {
  return process.getuid ? process.getuid() : UNKNOWN_UID;
}
