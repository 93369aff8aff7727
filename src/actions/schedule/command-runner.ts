/**
 * The runner of the schedule installers (systemctl, crontab, launchctl): the scan's command runner
 * (src/sources/runner.ts) with a longer default timeout, 30 s (`daemon-reload`, `enable --now`), and an
 * empty standard input unless `input` is given (`crontab -` reads the new table from stdin). Never
 * rejects: a missing program is `error: 'ENOENT'`. Injectable so tests can point the installers at a
 * test namespace (`nsenter … systemctl`) or at recorded answers.
 */
import { type CommandRunner, type RunResult, execRunner } from '../../sources/runner.js';

/** Runs `file args…`; resolves with its outcome, never rejects. */
export type ActionRunner = CommandRunner;

/** Default timeout of an installer command, ms. */
const ACTION_TIMEOUT_MS = 30_000;

/** The real runner: {@link execRunner} with the installers' defaults. */
export const spawnRunner: ActionRunner = (file, args, opts = {}) => execRunner(file, args, { timeoutMs: ACTION_TIMEOUT_MS, input: '', ...opts });

/** One-line description of a failed run, for error messages. */
export function describeFailure(cmd: string, r: RunResult): string {
  return `${cmd} failed: ${r.error ?? `exit ${r.code}`}${r.stderr.trim() ? `: ${r.stderr.trim().slice(0, 300)}` : ''}`;
}
