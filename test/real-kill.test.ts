/**
 * `orphans --kill` on the REAL Hermes gateway, on each kit version: what it refuses beside a real s6
 * slot (Hermes's run script) and a manual gateway of the same root, and that the refusals leave the
 * real gateways with their PIDs, locks and files. Nothing here is signalled but by hermes-doctor.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Report } from '../src/types.js';
import { assertOrphansV1 } from './contract.js';
import { homesArgs, runCli } from './harness/cli.js';
import {
  addRealS6Slot,
  flockHolder,
  kitVersions,
  makeRoot,
  prepareKit,
  readRecord,
  realHermesAvailable,
  startRealGateway,
  waitRealReady,
  type HermesKit,
} from './harness/hermes.js';
import { isAlive, killAll } from './harness/processes.js';
import { startS6Tree, stopAllS6Trees } from './harness/s6.js';
import { cleanupAllScratch, makeScratch, profileHome } from './harness/scratch.js';
import { hasS6, requireOrSkip } from './harness/skip.js';

async function kill(args: string[]): Promise<{ code: number; report: Report }> {
  const { code, out } = await runCli(['orphans', '--kill', '--yes', '--json', '--grace', '5', ...args]);
  const report = JSON.parse(out) as Report;
  assertOrphansV1(report);
  return { code, report };
}

const avail = realHermesAvailable();
const ready = avail.ok && hasS6();

describe.skipIf(requireOrSkip(`the real Hermes gateway (${avail.why}) and s6`, ready))('--kill on the real Hermes gateway', () => {
  afterEach(async () => {
    await stopAllS6Trees();
    await killAll();
  });
  afterAll(() => cleanupAllScratch());

  describe.each(kitVersions())('Hermes %s', (version) => {
    let kit: HermesKit;
    beforeAll(() => {
      kit = prepareKit(version);
    }, 600_000);

    it('refuses the s6 slot\u2019s gateway and a manual gateway of the same root; both keep PID, lock and files', async () => {
      const scratch = makeScratch();
      const root = makeRoot(scratch.dir, 'u', 'argus');
      const argusHome = profileHome(root, 'argus');
      const tree = await startS6Tree(path.join(scratch.dir, 'service'));
      const slot = await addRealS6Slot(tree, { kit, root, profile: 'default' });
      const manual = startRealGateway({ kit, root, args: ['gateway', 'restart', '--profile', 'argus'] });
      await waitRealReady(argusHome, manual.pid, 60_000, manual.logFile);
      const pidBefore = fs.readFileSync(path.join(root, 'gateway.pid'), 'utf8');

      const asked = await kill(['--s6-scandir', tree.scanDir, '--pid', String(slot.pid), '--pid', String(manual.pid), ...homesArgs(root, argusHome)]);
      const bySlot = asked.report.actions!.find((a) => a.pid === slot.pid)!;
      expect(bySlot).toMatchObject({ outcome: 'refused', signals: [], verdict: 'supervised' });
      expect(bySlot.reason).toMatch(/s6/);
      const byManual = asked.report.actions!.find((a) => a.pid === manual.pid)!;
      expect(byManual).toMatchObject({ outcome: 'refused', signals: [], verdict: 'manual' });

      // Without --pid there is nothing to do at all.
      const all = await kill(['--s6-scandir', tree.scanDir, ...homesArgs(root, argusHome)]);
      expect(all.report.actions!.filter((a) => a.outcome !== 'refused')).toEqual([]);

      for (const [g, home] of [[slot.pid, root], [manual.pid, argusHome]] as const) {
        expect(isAlive(g)).toBe(true);
        expect(flockHolder(path.join(home, 'gateway.lock'))).toBe(g);
        expect(readRecord(home)!.pid).toBe(g);
      }
      expect(fs.readFileSync(path.join(root, 'gateway.pid'), 'utf8')).toBe(pidBefore);
    }, 180_000);
  });
});
