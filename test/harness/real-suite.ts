// The frame of the suites on the REAL Hermes gateway (test/harness/hermes.ts): one describe per kit
// version with that version's kit prepared once before its tests, the skip policy of skip.ts (a visible
// reason on a machine that lacks the real gateway or anything else the suite needs, a failing test
// under CI=true), and after every test, also a failed one, the s6 trees and processes it started ended;
// the scratch folders go after the last test.
//
//   describeRealHermes('guard on the real Hermes gateway', [builtDist()], (kit, version) => {
//     it('...', async () => { ... kit.hermesBin ... });
//   });
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe } from 'vitest';
import { cleanUpAfterEach } from './cleanup.js';
import { kitVersions, prepareKit, realHermesAvailable, type HermesKit } from './hermes.js';
import { REPO_ROOT } from './processes.js';
import { hasS6, requireOrSkip } from './skip.js';

/** One thing a suite needs besides the real gateway: what to name in the skip reason, and whether this machine has it. */
export interface Need {
  what: string;
  ok: boolean;
}

/** Debian's s6 binaries (skip.ts hasS6). */
export function s6Need(): Need {
  return { what: 's6 (apt-get install -y s6)', ok: hasS6() };
}

/** dist/cli.js, which bin/hermes-doctor.js runs (`npm run build`). */
export function builtDist(): Need {
  return { what: 'a built dist/ (npm run build)', ok: fs.existsSync(path.join(REPO_ROOT, 'dist', 'cli.js')) };
}

/** What the suite's extra teardown is: run once after all versions' tests, before the scratch folders go. */
export interface RealSuiteTeardown {
  afterAll: () => Promise<void> | void;
  /** ms; default 60 000. */
  timeoutMs?: number;
}

/**
 * Registers describe(`title`) with a describe(`Hermes <version>`) per kitVersions() in it, calling
 * `body(kit, version)` in each. `kit` is filled in by a beforeAll (up to 600 s: the first preparation
 * of a kit builds it) that runs before the body's own hooks and tests; read it in hooks and tests, not
 * while the body registers them. Skipped (CI=true: failed) when the real gateway or one of `needs` is
 * missing; the body is still called then, so that its tests show as skipped.
 */
export function describeRealHermes(
  title: string,
  needs: Need[],
  body: (kit: HermesKit, version: string) => void,
  teardown?: RealSuiteTeardown,
): void {
  const real = realHermesAvailable();
  const all: Need[] = [{ what: `the real Hermes gateway (${real.why})`, ok: real.ok }, ...needs];
  describe.skipIf(requireOrSkip(listed(all.map((n) => n.what)), all.every((n) => n.ok)))(title, () => {
    cleanUpAfterEach();
    // Registered after the scratch cleanup, so that it runs before it (vitest runs after-hooks in reverse).
    if (teardown) afterAll(teardown.afterAll, teardown.timeoutMs ?? 60_000);

    describe.each(kitVersions())('Hermes %s', (version) => {
      const kit = {} as HermesKit;
      beforeAll(() => {
        Object.assign(kit, prepareKit(version));
      }, 600_000);
      body(kit, version);
    });
  });
}

/** `a`, `a and b`, `a, b and c`. */
function listed(items: string[]): string {
  return items.length < 2 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}
