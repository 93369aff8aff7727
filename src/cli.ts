/**
 * The command-line interface: a thin yargs layer over the library. Each command lives in
 * src/commands/ and returns its exit code; main() never calls process.exit, so it can be tested.
 * Every module a command needs, yargs included, is imported when that command runs, so a scan does not
 * pay for the table, the scheduler or the kill step (issue 8).
 */
import { createRequire } from 'node:module';
import { type CommandContext, processContext } from './commands/context.js';
import type { KillContext } from './commands/kill.js';
import type { OrphansArgs } from './commands/orphans.js';
import { packageVersion } from './version.js';

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
 * The yargs parser of every command. yargs is loaded from its own CommonJS build (`index.cjs`, one
 * bundled file): measured 15–20 ms faster to load than its ESM entry's tree of modules (issue 8,
 * docs/benchmark.md). Same package, same API.
 */
export async function buildParser(argv: string[], ctx: CommandContext & KillContext, on: ParserHandlers) {
  const yargs = createRequire(import.meta.url)('yargs') as typeof import('yargs').default;
  const [{ monitoringOptions }, { scanOptions }, { killOptions }, { scheduleCommand }, { snapshotCommand }, { guardCommand }] =
    await Promise.all([
      import('./commands/monitoring-args.js'),
      import('./commands/orphans.js'),
      import('./commands/kill-options.js'),
      import('./commands/schedule.js'),
      import('./commands/snapshot.js'),
      import('./commands/guard-command.js'),
    ]);
  // `guard … -- COMMAND ARGS…`: COMMAND is split off before yargs sees it, so its options stay its own.
  const gi = argv.indexOf('guard');
  const dd = argv.indexOf('--');
  const guarded = gi >= 0 && dd > gi ? argv.slice(dd + 1) : null;
  return yargs(guarded ? argv.slice(0, dd) : argv)
    .scriptName('hermes-doctor')
    .usage('$0 <command> [options]')
    .command(
      ['orphans', '$0'],
      'find Hermes gateways outside their supervisor and who holds the kanban databases',
      (y) =>
        killOptions(monitoringOptions(scanOptions(y)))
          .option('json', { type: 'boolean', default: false, describe: 'print one JSON document (schema hermes-doctor.orphans/v1)' })
          .option('color', { type: 'boolean', describe: 'force colour on or off (default: TTY and no NO_COLOR)' }),
      async (args) => on.orphans(args as unknown as OrphansArgs),
    )
    .command(snapshotCommand(ctx, on.setCode))
    .command(scheduleCommand(ctx, on.setCode))
    .command(guardCommand(ctx, on.setCode, guarded))
    .strict()
    .help()
    .version(packageVersion())
    .fail((msg, err) => {
      throw err ?? new UsageError(msg);
    })
    .exitProcess(false);
}

class UsageError extends Error {}
