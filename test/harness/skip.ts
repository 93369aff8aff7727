// Requirement gates for suites that need real parts of the machine (s6, root, python3, ...).
//
//   describe.skipIf(requireOrSkip('s6 (apt-get install -y s6)', hasS6()))('s6 tree', () => { ... })
//
// Available          -> returns false (the suite runs).
// Missing, CI=true   -> registers a test that FAILS with a clear message, and returns true so the
//                       dependent suite does not add noise; the run is red, never silently skipped.
// Missing, laptop    -> console.warn naming what is missing, returns true (suite skipped).
//
// One step inside a test that runs anyway (the rest of the test needs nothing more):
//
//   if (stepOrSkip('promtool (apt-get install prometheus)', hasBinary('promtool'))) expect(promtool(text).status).toBe(0);
import * as fs from 'node:fs';
import * as path from 'node:path';
import { it } from 'vitest';

export function requireOrSkip(what: string, available: boolean): boolean {
  if (available) return false;
  if (process.env.CI === 'true') {
    it(`REQUIRED on CI: ${what}`, () => {
      throw new Error(`${what} is not available on this CI machine; this suite must run on CI, it may not be skipped`);
    });
    return true;
  }
  console.warn(`[hermes-doctor tests] skipping suite: ${what} is not available on this machine`);
  return true;
}

/**
 * The same policy for one step of a test: true when `available` (run the step). Missing with CI=true:
 * throws an Error naming `what`, so the test fails. Missing on a laptop: console.warn naming `what` and
 * the test's step skipped, returns false.
 */
export function stepOrSkip(what: string, available: boolean): boolean {
  if (available) return true;
  if (process.env.CI === 'true') {
    throw new Error(`${what} is not available on this CI machine; this check must run on CI, it may not be skipped`);
  }
  console.warn(`[hermes-doctor tests] skipping a check: ${what} is not available on this machine`);
  return false;
}

function onPath(bin: string): boolean {
  for (const d of (process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin').split(':').concat(['/usr/bin', '/bin'])) {
    if (!d) continue;
    try {
      fs.accessSync(path.join(d, bin), fs.constants.X_OK);
      return true;
    } catch {
      /* next */
    }
  }
  return false;
}

/** Debian's s6 binaries in /usr/bin (what test/harness/s6.ts uses). */
export function hasS6(): boolean {
  return ['s6-svscan', 's6-supervise', 's6-svstat', 's6-svc', 's6-svscanctl'].every((b) => {
    try {
      fs.accessSync(path.join('/usr/bin', b), fs.constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

export function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

export function isLinux(): boolean {
  return process.platform === 'linux' && fs.existsSync('/proc/self/stat');
}

/** python3 on the minimal PATH the harness gives to stand-ins. */
export function hasPython3(): boolean {
  return ['/usr/local/bin/python3', '/usr/bin/python3', '/bin/python3'].some((p) => fs.existsSync(p));
}

export function hasBinary(bin: string): boolean {
  return onPath(bin);
}
