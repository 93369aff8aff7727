/**
 * The `--kill` options of `orphans`, apart from the kill step itself so that parsing them loads nothing
 * of it (the kill step loads on `--kill` only: src/commands/kill.ts).
 */
import type { Argv } from 'yargs';
import { PID_RANGE, parseGrace, parsePids } from './numeric-args.js';

/** Adds --kill, --yes, --dry-run, --grace, --include-workers and --pid to a command. */
export function killOptions<T>(y: Argv<T>) {
  return y
    .option('kill', { type: 'boolean', default: false, describe: 'end orphans, duplicates and ghosts (SIGTERM, grace, SIGKILL); see docs/kill.md' })
    .option('yes', { type: 'boolean', default: false, describe: 'with --kill: do not ask (needed without a TTY: cron, timers)' })
    .option('dry-run', { type: 'boolean', default: false, describe: 'with --kill: print the plan, signal nothing' })
    .option('grace', { type: 'string', default: '10', defaultDescription: '10', coerce: parseGrace, describe: 'with --kill: seconds between SIGTERM and SIGKILL (0–3600, e.g. 0.5)' })
    .option('include-workers', { type: 'boolean', default: false, describe: 'with --kill: also end orphaned kanban workers' })
    .option('pid', {
      type: 'string',
      array: true,
      coerce: parsePids,
      describe: `with --kill: only these PIDs, ${PID_RANGE.min}–${PID_RANGE.max} (a PID that is not a target is refused with its reason)`,
    });
}
