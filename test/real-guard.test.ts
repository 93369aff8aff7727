/**
 * `hermes-doctor guard` in front of the REAL Hermes gateway, on each kit version: it refuses a shell's
 * `hermes -p argus gateway run --replace` when a real s6 slot (Hermes's run script) owns argus (the
 * command is never run, the slot keeps its home), and with no supervisor it runs the real gateway,
 * forwards SIGTERM and passes its exit status through; the state the real gateway leaves after that
 * unplanned SIGTERM differs by version (real-gateway.md).
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { GuardDecision } from '../src/core/guard.js';
import { parseGuardV1 } from './guard-contract.js';
import { NO_S6, runCli } from './harness/cli.js';
import {
  addRealS6Slot,
  flockHolder,
  kitEnv,
  kitVersions,
  makeRoot,
  prepareKit,
  readRecord,
  realHermesAvailable,
  waitRealReady,
  type HermesKit,
} from './harness/hermes.js';
import { CLI_BIN, REPO_ROOT, childrenOf, isAlive, killAll, readCmdline, startProcess, waitFor } from './harness/processes.js';
import { startS6Tree, stopAllS6Trees } from './harness/s6.js';
import { cleanupAllScratch, makeScratch, profileHome } from './harness/scratch.js';
import { hasS6, requireOrSkip } from './harness/skip.js';

const NO_SYSTEMD = { systemdMarker: '/nonexistent/hermes-doctor-no-systemd' };
const avail = realHermesAvailable();
const builtCli = fs.existsSync(path.join(REPO_ROOT, 'dist', 'cli.js'));

describe.skipIf(requireOrSkip(`the real Hermes gateway (${avail.why}) and a built dist/ (npm run build)`, avail.ok && builtCli))('guard on the real Hermes gateway', () => {
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

    it.skipIf(requireOrSkip('s6 (apt-get install -y s6)', hasS6()))(
      'refuses `hermes -p argus gateway run --replace` beside the s6 slot that owns argus; the slot keeps its home',
      async () => {
        const scratch = makeScratch();
        const root = makeRoot(scratch.dir, 'u', 'argus');
        const home = profileHome(root, 'argus');
        const tree = await startS6Tree(path.join(scratch.dir, 'service'));
        const slot = await addRealS6Slot(tree, { kit, root, profile: 'argus' });
        const r = await runCli(
          ['guard', '--home', home, '--s6-scandir', tree.scanDir, '--no-color', '--', kit.hermesBin, '-p', 'argus', 'gateway', 'run', '--replace'],
          { scan: NO_SYSTEMD },
        );
        expect(r.code).toBe(1);
        expect(r.err + r.out).toContain(`s6-svc -r ${tree.scanDir}/gateway-argus`);
        const j = await runCli(['guard', '--json', '--home', home, '--s6-scandir', tree.scanDir], { scan: NO_SYSTEMD });
        const doc = parseGuardV1<GuardDecision>(j.out);
        expect(doc).toMatchObject({ allowed: false, exitCode: 1 });
        expect(doc.supervisors).toEqual([expect.objectContaining({ kind: 's6', unit: 'gateway-argus', mainPid: slot.pid })]);
        expect(j.code).toBe(1);
        expect(isAlive(slot.pid)).toBe(true);
        expect(flockHolder(path.join(home, 'gateway.lock'))).toBe(slot.pid);
        expect(readRecord(home)!.pid).toBe(slot.pid);
      },
      120_000,
    );

    it('with no supervisor it runs the real gateway, forwards SIGTERM and passes its exit status through', async () => {
      const scratch = makeScratch();
      const root = makeRoot(scratch.dir, 'u');
      const guard = startProcess([process.execPath, CLI_BIN, 'guard', '--home', root, ...NO_S6, '--', kit.hermesBin, 'gateway', 'run'], {
        env: kitEnv(kit, root),
        cwd: path.dirname(root),
      });
      let gw = 0;
      await waitFor(() => {
        gw = childrenOf(guard.pid).find((p) => readCmdline(p).includes(kit.hermesBin)) ?? 0;
        return gw !== 0;
      }, 30_000, `the real gateway under guard ${guard.pid}`);
      await waitRealReady(root, gw, 60_000);
      guard.signal('SIGTERM');
      const exit = await Promise.race([
        guard.exited!,
        new Promise<never>((_, rej) => setTimeout(() => rej(new Error(`guard ${guard.pid} did not exit within 60 s of SIGTERM: ${guard.output().stderr}`)), 60_000)),
      ]);
      // An unplanned SIGTERM: the real gateway exits 1 (gateway/run.py shutdown_signal_handler).
      expect(exit).toEqual({ code: 1, signal: null });
      expect(isAlive(gw)).toBe(false);
      expect(fs.existsSync(path.join(root, 'gateway.pid'))).toBe(false);
      expect(readRecord(root, 'gateway.lock')!.pid).toBe(gw); // the lock file keeps the last record
      // v0.15.1 writes "stopped"; 306e2d2 leaves "running" (only updated_at changes).
      const state = readRecord(root, 'gateway_state.json')!.gateway_state;
      if (version === 'v0.15.1') expect(state).toBe('stopped');
      else if (version === '306e2d2') expect(state).toBe('running');
    }, 120_000);
  });
});
