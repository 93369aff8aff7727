/**
 * The waits of the kill step, in one place: the library's defaults (src/actions/kill.ts) and the
 * CLI's `--grace` default (src/cli/options.ts) are these numbers. Kept apart from the kill step so that
 * declaring the command line does not load it.
 */

/** Default grace between SIGTERM and SIGKILL, ms (`--grace 10`). */
export const DEFAULT_GRACE_MS = 10_000;
/** How long to wait after SIGKILL before reporting `failed`, ms (Hermes's own --replace waits 5 s). */
export const DEFAULT_KILL_WAIT_MS = 5_000;
