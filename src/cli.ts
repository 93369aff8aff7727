/**
 * The command-line interface: a thin yargs layer over the library. Each command lives in
 * src/commands/ and returns its exit code; main() never calls process.exit, so it can be tested.
 * Plain `orphans` invocations skip yargs (src/fastpath.ts); every module a command needs is imported
 * when that command runs, so a scan does not pay for the table, the scheduler or yargs (issue 8).
 */
import { type CommandContext, processContext } from './commands/context.js';
import type { OrphansArgs } from './commands/orphans.js';
import { fastOrphansArgs } from './fastpath.js';

/** Exit code for usage errors and unexpected failures (the tool could not decide). */
const EXIT_USAGE = 3;

/**
 * Parses argv and runs the command.
 *
 * @param argv arguments after `node hermes-doctor`
 * @returns the exit code (see README: 0 ok, 1 warning, 2 critical, 3 could not decide)
 */
export async function main(argv: string[], ctx: CommandContext = processContext): Promise<number> {
  const fast = fastOrphansArgs(argv);
  if (fast) {
    try {
      const { runOrphans } = await import('./commands/orphans.js');
      return await runOrphans(fast, ctx);
    } catch (err) {
      ctx.stderr(`hermes-doctor: ${err instanceof Error ? err.message : String(err)}\n`);
      return EXIT_USAGE;
    }
  }
  let code = 0;
  const parser = await buildParser(argv, ctx, {
    orphans: async (args) => {
      const { runOrphans } = await import('./commands/orphans.js');
      code = await runOrphans(args, ctx);
    },
    setCode: (c) => (code = c),
  });
  try {
    await parser.parseAsync();
  } catch (err) {
    ctx.stderr(`hermes-doctor: ${err instanceof Error ? err.message : String(err)}\n`);
    return EXIT_USAGE;
  }
  return code;
}

/** What the parser calls: the orphans handler, and the exit-code setter of the other commands. */
export interface ParserHandlers {
  orphans: (args: OrphansArgs) => Promise<void>;
  setCode: (code: number) => void;
}

/**
 * The yargs parser of every command (imported on demand: yargs is the slowest module to load).
 * Exported so tests can compare its arguments with the fast path's.
 */
export async function buildParser(argv: string[], ctx: CommandContext, on: ParserHandlers) {
  const [{ default: yargs }, { monitoringOptions }, { scanOptions }, { scheduleCommand }, { snapshotCommand }] = await Promise.all([
    import('yargs'),
    import('./commands/monitoring.js'),
    import('./commands/orphans.js'),
    import('./commands/schedule.js'),
    import('./commands/snapshot.js'),
  ]);
  return yargs(argv)
    .scriptName('hermes-doctor')
    .usage('$0 <command> [options]')
    .command(
      ['orphans', '$0'],
      'find Hermes gateways outside their supervisor and who holds the kanban databases',
      (y) =>
        monitoringOptions(scanOptions(y))
          .option('json', { type: 'boolean', default: false, describe: 'print one JSON document (schema hermes-doctor.orphans/v1)' })
          .option('color', { type: 'boolean', describe: 'force colour on or off (default: TTY and no NO_COLOR)' }),
      async (args) => on.orphans(args as unknown as OrphansArgs),
    )
    .command(snapshotCommand(ctx, on.setCode))
    .command(scheduleCommand(ctx, on.setCode))
    .strict()
    .help()
    .version()
    .fail((msg, err) => {
      throw err ?? new UsageError(msg);
    })
    .exitProcess(false);
}

class UsageError extends Error {}
