/**
 * The command-line interface: a thin yargs layer over the library. Each command lives in
 * src/commands/ and returns its exit code; main() never calls process.exit, so it can be tested.
 */
import yargs from 'yargs';
import { type CommandContext, processContext } from './commands/context.js';
import { guardCommand } from './commands/guard.js';
import { monitoringOptions } from './commands/monitoring.js';
import { type OrphansArgs, runOrphans, scanOptions } from './commands/orphans.js';
import { type KillContext, killOptions } from './commands/kill.js';
import { scheduleCommand } from './commands/schedule.js';
import { snapshotCommand } from './commands/snapshot.js';

/** Exit code for usage errors and unexpected failures (the tool could not decide). */
const EXIT_USAGE = 3;

/**
 * Parses argv and runs the command.
 *
 * @param argv arguments after `node hermes-doctor`
 * @returns the exit code (see README: 0 ok, 1 warning, 2 critical, 3 could not decide)
 */
export async function main(argv: string[], ctx: CommandContext & KillContext = processContext): Promise<number> {
  let code = 0;
  // `guard … -- COMMAND ARGS…`: COMMAND is split off before yargs sees it, so its options stay its own.
  const gi = argv.indexOf('guard');
  const dd = argv.indexOf('--');
  const guarded = gi >= 0 && dd > gi ? argv.slice(dd + 1) : null;
  const parser = yargs(guarded ? argv.slice(0, dd) : argv)
    .scriptName('hermes-doctor')
    .usage('$0 <command> [options]')
    .command(
      ['orphans', '$0'],
      'find Hermes gateways outside their supervisor and who holds the kanban databases',
      (y) =>
        killOptions(monitoringOptions(scanOptions(y)))
          .option('json', { type: 'boolean', default: false, describe: 'print one JSON document (schema hermes-doctor.orphans/v1)' })
          .option('color', { type: 'boolean', describe: 'force colour on or off (default: TTY and no NO_COLOR)' }),
      async (args) => {
        code = await runOrphans(args as unknown as OrphansArgs, ctx);
      },
    )
    .command(snapshotCommand(ctx, (c) => (code = c)))
    .command(scheduleCommand(ctx, (c) => (code = c)))
    .command(guardCommand(ctx, (c) => (code = c), guarded))
    .strict()
    .help()
    .version()
    .fail((msg, err) => {
      throw err ?? new UsageError(msg);
    })
    .exitProcess(false);
  try {
    await parser.parseAsync();
  } catch (err) {
    ctx.stderr(`hermes-doctor: ${err instanceof Error ? err.message : String(err)}\n`);
    return EXIT_USAGE;
  }
  return code;
}

class UsageError extends Error {}
