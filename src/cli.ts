/**
 * The command-line interface: a thin yargs layer over the library. Each command lives in
 * src/commands/ and returns its exit code; main() never calls process.exit, so it can be tested.
 * Every module a command needs, yargs included, is imported when that command runs, so a scan does not
 * pay for the table, the scheduler or the kill step (issue 8).
 */
import { createRequire } from 'node:module';
import { type CommandContext, processContext } from './commands/context.js';
import { terminalSafe } from './output/terminal.js';
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
export async function main(argv: string[], given: CommandContext & KillContext = processContext): Promise<number> {
  // The last line of defence against terminal injection: whatever a command writes, a control character
  // that is not our own layout (newline, tab, chalk's colours, the progress line's leading \r) is shown escaped.
  const ctx = { ...given, stdout: terminalSafe(given.stdout), stderr: terminalSafe(given.stderr) };
  let code = 0;
  const parser = await buildParser(argv, ctx, {
    orphans: async (args) => {
      const { runOrphans } = await import('./commands/orphans.js');
      code = await runOrphans(args, ctx);
    },
    setCode: (c) => (code = c),
  });
  try {
    // With a callback yargs hands over what it would print (help, version, completion) instead of writing
    // to the console itself, so it goes to ctx.stdout like every other output.
    await parser.parseAsync(parserArgv(argv), {}, (_err, _args, output) => {
      if (output) ctx.stdout(output.endsWith('\n') ? output : output + '\n');
    });
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
  const guarded = guardedCommand(argv);
  const parser: import('yargs').Argv = yargs(parserArgv(argv));
  parser
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
    // `completion` as a command of its own: yargs's built-in one is taken for an unknown argument of the
    // default command under strict(). The hidden `--get-yargs-completions` protocol stays yargs's.
    .command('completion', 'print a bash/zsh completion script: hermes-doctor completion >> ~/.bashrc', () => {}, () => void parser.showCompletionScript())
    .completion('__completion', false)
    .recommendCommands()
    .strict()
    .help()
    .alias('h', 'help')
    .version(packageVersion())
    .alias('V', 'version')
    .fail((msg, err) => {
      throw err ?? new UsageError(msg + didYouMean(msg, argv));
    })
    .exitProcess(false);
  return parser;
}

/** The commands, for "did you mean" (the default command swallows unknown words, so yargs cannot suggest). */
const COMMANDS = ['orphans', 'snapshot', 'schedule', 'guard', 'completion'];

/** Edit distance (insert, delete, substitute, swap of neighbours), for command suggestions. */
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}

/** ` Did you mean "orphans"?` when an unknown argument is the first word and close to a command; else ''. */
export function didYouMean(msg: string, argv: readonly string[]): string {
  const first = argv.find((a) => !a.startsWith('-'));
  if (!first || argv.indexOf(first) !== 0 || COMMANDS.includes(first) || !msg.includes(first)) return '';
  const best = COMMANDS.map((c) => ({ c, d: distance(first, c) })).sort((x, y) => x.d - y.d)[0]!;
  return best.d <= Math.max(1, Math.floor(first.length / 3)) ? `. Did you mean "${best.c}"?` : '';
}

class UsageError extends Error {}

/** `guard … -- COMMAND ARGS…`: COMMAND is split off before yargs sees it, so its options stay its own. */
function guardedCommand(argv: readonly string[]): string[] | null {
  const gi = argv.indexOf('guard');
  const dd = argv.indexOf('--');
  return gi >= 0 && dd > gi ? argv.slice(dd + 1) : null;
}

/** What yargs parses: argv without a guarded COMMAND, with `--from -` joined (see {@link joinStdinValues}). */
function parserArgv(argv: readonly string[]): string[] {
  const guarded = guardedCommand(argv);
  return joinStdinValues(guarded ? argv.slice(0, argv.indexOf('--')) : argv);
}

/** Options whose value may be `-` (stdin or stdout): `--from -`, `--output -`, `-o -`. */
const DASH_VALUE_OPTIONS = new Set(['--from', '--output', '-o']);

/**
 * `--from -` as `--from=-`: yargs-parser reads a lone `-` as a positional, not as the option's value,
 * so the spelling with a space failed with "Unknown argument: -" although the help documents it.
 */
export function joinStdinValues(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (DASH_VALUE_OPTIONS.has(a) && argv[i + 1] === '-') {
      out.push(`${a}=-`);
      i++;
    } else out.push(a);
  }
  return out;
}
