/**
 * The yargs definition of `hermes-doctor guard`, apart from its handler (./guard.ts) so that defining
 * the command line loads nothing of the guard: the handler is imported when guard runs (issue 8).
 */
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { HOOK_SHELLS, type HookShell } from '../actions/guard/hook.js';
import type { CommandContext } from './context.js';
import { deadlineOption, timeoutOption } from './numeric-args.js';

/** Options of the guard command, as yargs parses them. */
export interface GuardArgs {
  home?: string;
  profile?: string;
  force: boolean;
  json: boolean;
  'shell-hook'?: HookShell;
  's6-scandir'?: string;
  /** Per external command, ms (1–600000). */
  timeout: number;
  /** The whole scan, ms (100–3600000). */
  deadline?: number;
  color?: boolean;
}

/** The yargs command module; `command` is what followed `--` on the command line (split off before yargs). */
export function guardCommand(ctx: CommandContext, setCode: (code: number) => void, command: string[] | null): CommandModule<object, GuardArgs> {
  return {
    command: 'guard',
    describe: 'refuse `hermes gateway run|restart|start` from outside the supervisor of that home, or while orphans run (then run it)',
    builder: (y: Argv<object>) =>
      y
        .usage('$0 guard [--home H | --profile P] [--force] [--json] [-- COMMAND ARGS…]\n$0 guard --shell-hook bash|zsh|fish')
        .option('home', { type: 'string', describe: 'the HERMES_HOME to check (default: read from COMMAND like Hermes: -p/--profile, HERMES_HOME)' })
        .option('profile', { type: 'string', describe: 'the profile to check (under HERMES_HOME or ~/.hermes)' })
        .option('force', { type: 'boolean', default: false, describe: 'turn a refusal into a warning and proceed' })
        .option('json', { type: 'boolean', default: false, describe: 'print the decision as JSON (schema hermes-doctor.guard/v1)' })
        .option('shell-hook', { choices: HOOK_SHELLS, describe: 'print a shell function that sends `hermes … gateway run|restart|start` through the guard' })
        .option('s6-scandir', { type: 'string', describe: 's6 scan directory', defaultDescription: '/run/service' })
        .option('timeout', timeoutOption)
        .option('deadline', deadlineOption)
        .option('color', { type: 'boolean', describe: 'force colour on or off (default: TTY and no NO_COLOR)' }) as unknown as Argv<GuardArgs>,
    handler: async (args: ArgumentsCamelCase<GuardArgs>) => {
      const { runGuard } = await import('./guard.js');
      setCode(await runGuard(args, command, ctx));
    },
  };
}
