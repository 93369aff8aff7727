/**
 * The `--kill` options of `orphans`, apart from the kill step itself so that parsing them loads nothing
 * of it (the kill step loads on `--kill` only: src/commands/kill.ts).
 */
import type { Argv } from 'yargs';

/** Adds --kill, --yes, --dry-run, --grace, --include-workers and --pid to a command. */
export function killOptions<T>(y: Argv<T>) {
  return y
    .option('kill', { type: 'boolean', default: false, describe: 'end orphans, duplicates and ghosts (SIGTERM, grace, SIGKILL); see docs/kill.md' })
    .option('yes', { type: 'boolean', default: false, describe: 'with --kill: do not ask (needed without a TTY: cron, timers)' })
    .option('dry-run', { type: 'boolean', default: false, describe: 'with --kill: print the plan, signal nothing' })
    .option('grace', { type: 'number', default: 10, describe: 'with --kill: seconds between SIGTERM and SIGKILL' })
    .option('include-workers', { type: 'boolean', default: false, describe: 'with --kill: also end orphaned kanban workers' })
    .option('pid', { type: 'number', array: true, describe: 'with --kill: only these PIDs (a PID that is not a target is refused with its reason)' });
}
