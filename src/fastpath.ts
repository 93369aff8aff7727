/**
 * The fast path of the command line (issue 8). Loading yargs costs about 40 ms of a 2-core machine's
 * time, more than a third of a whole scan, and `hermes-doctor orphans` runs from timers and in front
 * of gateway commands. The plain invocations below are therefore parsed here, without yargs; anything
 * else (help, version, another command, a monitoring option, a repeated option, `--flag value` forms
 * yargs would read differently, an unknown option) returns null and goes through yargs unchanged.
 * Every accepted argv yields exactly the arguments yargs would give the handler (test/fastpath.test.ts
 * compares the two for a list of argvs).
 */
import type { OrphansArgs } from './commands/orphans.js';

/** How an option of the fast path takes its value. */
export type FastOptionKind = 'boolean' | 'negatable-boolean' | 'string' | 'string[]' | 'number';

/** The options a command accepts on the fast path, with the defaults yargs would fill in. */
export interface FastCommandSpec {
  /** Command name (first argv token). */
  command: string;
  /** Also accept argv without the command name (yargs' default command `$0`). */
  isDefault: boolean;
  options: Record<string, FastOptionKind>;
  defaults: Record<string, unknown>;
}

/** The plain `orphans` invocations: scan options, `--json`, `--color`/`--no-color`. */
export const ORPHANS_FAST_SPEC: FastCommandSpec = {
  command: 'orphans',
  isDefault: true,
  options: {
    json: 'boolean',
    'all-users': 'boolean',
    color: 'negatable-boolean',
    home: 'string[]',
    profile: 'string[]',
    's6-scandir': 'string',
    timeout: 'number',
  },
  // The yargs defaults of these options (cli.ts, orphans.ts scanOptions, monitoring.ts monitoringOptions).
  defaults: { json: false, 'all-users': false, timeout: 3000, quiet: false },
};

/** A value yargs would take literally as the option's value: not empty, not a flag, not a number-like surprise. */
function plainValue(v: string | undefined): v is string {
  return v !== undefined && v.length > 0 && !v.startsWith('-');
}

/**
 * Parses argv for one command without yargs, or returns null when the argv is not one of the plain
 * forms this parser is sure to read the way yargs does.
 *
 * @param argv arguments after `node hermes-doctor`
 * @returns the handler arguments (option names as spelled on the command line, defaults filled in)
 */
export function parseFast(argv: readonly string[], spec: FastCommandSpec): Record<string, unknown> | null {
  let i = 0;
  if (argv[0] === spec.command) i = 1;
  else if (!spec.isDefault) return null;
  const out: Record<string, unknown> = { ...spec.defaults };
  const seen = new Set<string>();
  for (; i < argv.length; i++) {
    const tok = argv[i]!;
    if (!tok.startsWith('--') || tok === '--') return null;
    const eq = tok.indexOf('=');
    let name = eq < 0 ? tok.slice(2) : tok.slice(2, eq);
    let inline = eq < 0 ? undefined : tok.slice(eq + 1);
    let negated = false;
    if (!(name in spec.options) && name.startsWith('no-') && spec.options[name.slice(3)] === 'negatable-boolean') {
      name = name.slice(3);
      negated = true;
    }
    const kind = spec.options[name];
    if (!kind || seen.has(name)) return null;
    seen.add(name);
    if (kind === 'boolean' || kind === 'negatable-boolean') {
      if (inline !== undefined) return null; // --json=false: leave it to yargs
      out[name] = !negated;
      continue;
    }
    if (negated) return null;
    if (inline === undefined) {
      inline = argv[++i];
      if (!plainValue(inline)) return null;
    } else if (!plainValue(inline)) return null;
    // yargs reads `--home a b` as two homes: only one value per flag here.
    if (kind === 'string[]' && argv[i + 1] !== undefined && !argv[i + 1]!.startsWith('-')) return null;
    if (kind === 'number') {
      if (!/^(0|[1-9][0-9]{0,8})$/.test(inline)) return null;
      out[name] = Number(inline);
    } else out[name] = kind === 'string[]' ? [inline] : inline;
  }
  return out;
}

/** The `orphans` arguments of a plain invocation, or null (use yargs). */
export function fastOrphansArgs(argv: readonly string[]): OrphansArgs | null {
  return parseFast(argv, ORPHANS_FAST_SPEC) as OrphansArgs | null;
}
