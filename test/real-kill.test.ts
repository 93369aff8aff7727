/**
 * `orphans --kill` on the REAL Hermes gateway, on each kit version: what it refuses beside a real s6
 * slot (Hermes's run script) and a manual gateway of the same root, and that the refusals leave the
 * real gateways with their PIDs, locks and files; and the incident's takeover: a shell `gateway run
 * --replace` that holds the home's gateway.lock while the slot crash-loops (v0.15.1) is killed, and
 * the slot owns its home again. Nothing here is signalled but by hermes-doctor.
 */
import fs from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import type { Report } from '../src/types.js';
import { cliJson, homesArgs, runCli, verdictOf } from './harness/cli.js';
import {
  addRealS6Slot,
  flockHolder,
  makeRoot,
  readRecord,
  startRealGateway,
  waitLockOwner,
  waitRealReady,
  ARGUS,
} from './harness/hermes.js';
import { isAlive, waitFor } from './harness/processes.js';
import { describeRealHermes, s6Need } from './harness/real-suite.js';
import { slotPid, startS6Tree } from './harness/s6.js';
import { makeScratch, profileHome } from './harness/scratch.js';

/** `orphans --kill --yes --json --grace 5 ARGS`: exit code and the schema-checked report. */
const kill = (args: string[]) => cliJson(['orphans', '--kill', '--yes', '--json', '--grace', '5', ...args]);

describeRealHermes('--kill on the real Hermes gateway', [s6Need()], (kit) => {
  it('refuses the s6 slot\u2019s gateway and a manual gateway of the same root; both keep PID, lock and files', async () => {
    const scratch = makeScratch();
    const root = makeRoot(scratch.dir, 'u', ARGUS);
    const argusHome = profileHome(root, ARGUS);
    const tree = await startS6Tree(path.join(scratch.dir, 'service'));
    const slot = await addRealS6Slot(tree, { kit, root, profile: 'default' });
    const manual = startRealGateway({ kit, root, args: ['gateway', 'restart', '--profile', ARGUS] });
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

  it('the shell gateway that took the default home from the s6 slot: killed where the slot cannot take it back (v0.15.1), nothing to do where it can (306e2d2)', async () => {
    const scratch = makeScratch();
    const root = makeRoot(scratch.dir, 'u');
    const tree = await startS6Tree(path.join(scratch.dir, 'service'));
    const slot = await addRealS6Slot(tree, { kit, root, profile: 'default' });
    const replace = startRealGateway({ kit, root, args: ['gateway', 'run', '--replace'] });
    const slotLog = path.join(path.dirname(root), `${slot.name}.log`);
    if (kit.traits.s6Replace) {
      await waitFor(() => !replace.alive(), 90_000, `s6's --replace to end the shell gateway ${replace.pid}`);
      const owner = await waitLockOwner(root, 60_000, 'the restarted slot to own the home', slot.pid);
      expect(slotPid(tree, slot.name)).toBe(owner);
      const r = await kill(['--s6-scandir', tree.scanDir, ...homesArgs(root)]);
      expect(r.report.actions!.filter((a) => a.outcome !== 'refused')).toEqual([]);
      expect(isAlive(owner)).toBe(true);
      return;
    }
    await waitFor(
      () => fs.existsSync(slotLog) && fs.readFileSync(slotLog, 'utf8').includes(`Gateway already running (PID ${replace.pid})`),
      90_000,
      `the s6 slot to be refused by the shell gateway ${replace.pid}`,
    );
    expect(flockHolder(path.join(root, 'gateway.lock'))).toBe(replace.pid);
    const dry = await runCli(['orphans', '--kill', '--dry-run', '--json', '--s6-scandir', tree.scanDir, ...homesArgs(root)]);
    const planned = (JSON.parse(dry.out) as Report).actions!.find((a) => a.pid === replace.pid)!;
    expect(planned.outcome).toBe('planned');
    const r = await kill(['--s6-scandir', tree.scanDir, '--pid', String(replace.pid), ...homesArgs(root)]);
    const act = r.report.actions!.find((a) => a.pid === replace.pid)!;
    expect(['terminated', 'killed']).toContain(act.outcome);
    expect(act.signals[0]).toBe('SIGTERM');
    expect(replace.alive()).toBe(false);
    // s6's next restart of the slot now gets the lock: the supervisor owns its home again.
    const owner = await waitLockOwner(root, 60_000, 'the s6 slot to own the default home after the kill', replace.pid);
    await waitFor(() => slotPid(tree, slot.name) === owner, 10_000, `s6-svstat to report ${owner}`);
    const after = await runCli(['orphans', '--json', '--s6-scandir', tree.scanDir, ...homesArgs(root)]);
    expect(verdictOf(JSON.parse(after.out) as Report, owner).verdict).toBe('supervised');
  }, 240_000);
});
