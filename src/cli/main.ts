/**
 * The command-line interface: a thin yargs layer over the commands (src/commands/, one file each), which
 * return their exit code; main() never calls process.exit, so it can be tested. Every module a command
 * needs, yargs included, is imported when the command line is parsed or when that command runs, so a
 * scan does not pay for the table, the scheduler or the kill step (docs/benchmark.md).
 */
import { createRequire } from 'node:module';
import type { CommandContext, KillContext } from './io.js';
import { terminalStreams } from '../output/emit.js';
import { packageVersion } from '../version.js';

/** Exit code for usage errors and unexpected failures (the tool could not decide). */
const EXIT_USAGE = 3;

/** The real process streams. */
export const processContext: CommandContext = {
  stdout: (t) => void process.stdout.write(t),
  stderr: (t) => void process.stderr.write(t),
};

/**
 * Parses argv and runs the command.
 *
 * @param argv arguments after `node hermes-doctor`
 * @param given the streams and injected overrides (default: the real process streams and host)
 * @returns the exit code (see README: 0 ok, 1 warning, 2 critical, 3 could not decide)
 */
export async function main(argv: string[], given: CommandContext & KillContext = processContext): Promise<number> {
  const ctx = terminalStreams(given);
  let code = 0;
  const parser = await buildParser(argv, ctx, (c) => (code = c));
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

/**
 * The yargs parser of every command; `setCode` receives the exit code of the command that ran. yargs is
 * loaded from its own CommonJS build (`index.cjs`, one bundled file): measured 15–20 ms faster to load
 * than its ESM entry's tree of modules (docs/benchmark.md). Same package, same API.
 */
export async function buildParser(argv: string[], ctx: CommandContext & KillContext, setCode: (code: number) => void) {
  const yargs = createRequire(import.meta.url)('yargs') as typeof import('yargs').default;
  const [{ orphansCommand }, { scheduleCommand }, { snapshotCommand }, { guardCommand }] = await Promise.all([
    import('../commands/orphans.js'),
    import('../commands/schedule.js'),
    import('../commands/snapshot.js'),
    import('../commands/guard.js'),
  ]);
  const parser: import('yargs').Argv = yargs(parserArgv(argv));
  parser
    .scriptName('hermes-doctor')
    .usage('$0 <command> [options]')
    .command(orphansCommand(ctx, setCode))
    .command(snapshotCommand(ctx, setCode))
    .command(scheduleCommand(ctx, setCode))
    .command(guardCommand(ctx, setCode, guardedCommand(argv)))
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
