/**
 * The fast path of the command line (src/fastpath.ts) must hand runOrphans exactly what yargs would,
 * and must leave every argv it is not sure about to yargs.
 */
import { describe, expect, it } from 'vitest';
import { buildParser } from '../src/cli.js';
import type { OrphansArgs } from '../src/commands/orphans.js';
import { fastOrphansArgs } from '../src/fastpath.js';

/**
 * Every option as spelled on the command line, without yargs' bookkeeping (`_`, `$0`) and its
 * camelCase aliases. Comparing whole objects means an option added to `orphans` with a default (say
 * `--kill`, issue 5) fails this suite until ORPHANS_FAST_SPEC learns that default.
 */
function options(a: object): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(a)) if (k !== '_' && k !== '$0' && !/[A-Z]/.test(k) && v !== undefined) out[k] = v;
  return out;
}

/** The arguments yargs hands the orphans handler. */
async function viaYargs(argv: string[]): Promise<Record<string, unknown> | null> {
  let got: OrphansArgs | null = null;
  const ctx = { stdout: () => {}, stderr: () => {} };
  const parser = await buildParser(argv, ctx, { orphans: async (a) => void (got = a), setCode: () => {} });
  await parser.parseAsync();
  return got ? options(got) : null;
}

function fast(argv: string[]): Record<string, unknown> | null {
  const a = fastOrphansArgs(argv);
  return a ? options(a) : null;
}

describe('fast path of the command line', () => {
  const accepted: string[][] = [
    [],
    ['orphans'],
    ['orphans', '--json'],
    ['--json'],
    ['orphans', '--json', '--s6-scandir', '/run/service'],
    ['orphans', '--s6-scandir=/x y', '--json'],
    ['orphans', '--home', '/root/.hermes/profiles/argus', '--profile', 'argus'],
    ['orphans', '--home=/a', '--all-users', '--timeout', '500'],
    ['orphans', '--timeout=0', '--no-color'],
    ['orphans', '--color', '--json'],
  ];
  for (const argv of accepted) {
    it(`reads ${JSON.stringify(argv)} as yargs does`, async () => {
      const f = fast(argv);
      expect(f).not.toBeNull();
      expect(f).toEqual(await viaYargs(argv));
    });
  }

  const declined: string[][] = [
    ['--help'],
    ['--version'],
    ['orphans', '--help'],
    ['snapshot'],
    ['schedule', 'install'],
    ['orphans', '--quiet'],
    ['orphans', '--format', 'json'],
    ['orphans', '--from', 'snap.json'],
    ['orphans', '--textfile-dir', '/tmp'],
    ['orphans', '--home', 'a', 'b'],
    ['orphans', '--home', 'a', '--home', 'b'],
    ['orphans', '--json', 'false'],
    ['orphans', '--json=false'],
    ['orphans', '--timeout', 'abc'],
    ['orphans', '--timeout', '010'],
    ['orphans', '--home'],
    ['orphans', '--home', '--json'],
    ['orphans', '--kill'],
    ['orphans', '-h'],
    ['orphans', 'extra'],
    ['orphans', '--', 'x'],
    ['orphans', '--no-json'],
    ['orphans', '--allUsers'],
    ['--json', 'orphans'],
  ];
  for (const argv of declined) {
    it(`leaves ${JSON.stringify(argv)} to yargs`, () => {
      expect(fastOrphansArgs(argv)).toBeNull();
    });
  }
});
