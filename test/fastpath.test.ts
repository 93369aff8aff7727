/**
 * The fast path of the command line (src/fastpath.ts) must hand runOrphans exactly what yargs would,
 * and must leave every argv it is not sure about to yargs.
 */
import { describe, expect, it } from 'vitest';
import { buildParser } from '../src/cli.js';
import type { OrphansArgs } from '../src/commands/orphans.js';
import { fastOrphansArgs } from '../src/fastpath.js';

const KEYS = ['json', 'home', 'profile', 's6-scandir', 'all-users', 'timeout', 'color', 'quiet', 'format', 'textfile-dir', 'from'] as const;

/** The arguments yargs hands the orphans handler, restricted to the keys runOrphans reads. */
async function viaYargs(argv: string[]): Promise<Record<string, unknown> | null> {
  let got: OrphansArgs | null = null;
  const ctx = { stdout: () => {}, stderr: () => {} };
  const parser = await buildParser(argv, ctx, { orphans: async (a) => void (got = a), setCode: () => {} });
  await parser.parseAsync();
  if (!got) return null;
  const out: Record<string, unknown> = {};
  for (const k of KEYS) if ((got as Record<string, unknown>)[k] !== undefined) out[k] = (got as Record<string, unknown>)[k];
  return out;
}

function fast(argv: string[]): Record<string, unknown> | null {
  const a = fastOrphansArgs(argv);
  if (!a) return null;
  const out: Record<string, unknown> = {};
  for (const k of KEYS) if ((a as unknown as Record<string, unknown>)[k] !== undefined) out[k] = (a as unknown as Record<string, unknown>)[k];
  return out;
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
