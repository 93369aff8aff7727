/**
 * `hermes-doctor guard` in front of the REAL Hermes gateway, on each kit version: it refuses a shell's
 * `hermes -p argus gateway run --replace` when a real s6 slot (Hermes's run script) owns argus (the
 * command is never run, the slot keeps its home), and with no supervisor it runs the real gateway,
 * forwards SIGTERM and passes its exit status through; the state the real gateway leaves after that
 * unplanned SIGTERM differs by version (real-gateway.md).
 */
import fs from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import type { GuardDecision } from '../src/core/guard.js';
import { parseGuardV1 } from './guard-contract.js';
import { NO_S6, runCli } from './harness/cli.js';
import {
  addRealS6Slot,
  flockHolder,
  kitEnv,
  makeRoot,
  readRecord,
  waitRealReady,
  ARGUS,
} from './harness/hermes.js';
import { CLI_BIN, childrenOf, isAlive, readCmdline, registerPid, startProcess, waitFor } from './harness/processes.js';
import { builtDist, describeRealHermes } from './harness/real-suite.js';
import { startS6Tree } from './harness/s6.js';
import { makeScratch, profileHome } from './harness/scratch.js';
import { hasS6, requireOrSkip } from './harness/skip.js';

const NO_SYSTEMD = { systemdMarker: '/nonexistent/hermes-doctor-no-systemd' };

describeRealHermes('guard on the real Hermes gateway', [builtDist()], (kit, version) => {
  it.skipIf(requireOrSkip('s6 (apt-get install -y s6)', hasS6()))(
    'refuses `hermes -p argus gateway run --replace` beside the s6 slot that owns argus; the slot keeps its home',
    async () => {
      const scratch = makeScratch();
      const root = makeRoot(scratch.dir, 'u', ARGUS);
      const home = profileHome(root, ARGUS);
      const tree = await startS6Tree(path.join(scratch.dir, 'service'));
      const slot = await addRealS6Slot(tree, { kit, root, profile: ARGUS });
      const r = await runCli(
        ['guard', '--home', home, '--s6-scandir', tree.scanDir, '--no-color', '--', kit.hermesBin, '-p', ARGUS, 'gateway', 'run', '--replace'],
        { scan: NO_SYSTEMD },
      );
      expect(r.code).toBe(1);
      expect(r.err + r.out).toContain(`s6-svc -r ${tree.scanDir}/gateway-${ARGUS}`);
      const j = await runCli(['guard', '--json', '--home', home, '--s6-scandir', tree.scanDir], { scan: NO_SYSTEMD });
      const doc = parseGuardV1<GuardDecision>(j.out);
      expect(doc).toMatchObject({ allowed: false, exitCode: 1 });
      expect(doc.supervisors).toEqual([expect.objectContaining({ kind: 's6', unit: `gateway-${ARGUS}`, mainPid: slot.pid })]);
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
    registerPid(gw); // ended by killAll() if the test fails before the guard's SIGTERM
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
