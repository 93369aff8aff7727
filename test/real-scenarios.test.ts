/**
 * Scenarios on the REAL Hermes Agent gateway (test/harness/hermes.ts), on each kit version:
 * v0.15.1 (the incident's, no dispatcher lock) and 306e2d2 (main, `<root>/kanban/.dispatcher.lock`).
 * Gateways are started with the argv real launchers use (pip console script, `python3 -m
 * hermes_cli.main`, the s6 run script Hermes renders) and every wait is on Hermes's own files and
 * locks. Each test first asserts what the real gateway did (who holds which lock, who exited), then
 * what hermes-doctor reports about it.
 *
 * The stand-in suites
 * (test/scenarios.test.ts and friends) stay for what the real gateway cannot show on demand: a second
 * gateway that keeps running without the lock (the real one exits "already running"), a gateway that
 * holds kanban.db open (the real one opens it for milliseconds per 60 s tick), corrupt identity files.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
// cli: the run's --json document, schema-checked and parsed.
import { NO_S6, cliJson as cli, homesArgs, verdictOf } from './harness/cli.js';
import {
  addRealS6Slot,
  dispatcherHolder,
  flockHolder,
  makeRoot,
  readRecord,
  startReadyGateway,
  startRealGateway,
  waitRealReady,
  ARGUS,
} from './harness/hermes.js';
import { isAlive, waitFor } from './harness/processes.js';
import { describeRealHermes } from './harness/real-suite.js';
import { slotPid, startS6Tree } from './harness/s6.js';
import { makeScratch, profileHome } from './harness/scratch.js';
import { hasS6, requireOrSkip } from './harness/skip.js';

describeRealHermes('scenarios on the real Hermes gateway', [], (kit) => {
  it('a manual gateway from a shell (console script, -p argus): manual, home from argv, exit 0', async () => {
    const scratch = makeScratch();
    const root = makeRoot(scratch.dir, 'u', ARGUS);
    const g = await startReadyGateway({ kit, root, profile: ARGUS });
    // The real record drops `-p argus` from argv (hermes_cli/main.py:_apply_profile_override).
    expect(readRecord(g.home)!.argv).toEqual([kit.hermesBin, 'gateway', 'run']);
    const { code, report } = await cli(['orphans', '--json', ...NO_S6, ...homesArgs(g.home)]);
    const p = verdictOf(report, g.pid);
    expect(p.role).toBe('gateway');
    expect(p.verdict).toBe('manual');
    expect(p.profile).toBe(ARGUS);
    expect(p.hermesHome).toBe(g.home);
    expect(p.homeSource).toBe(`argv -p ${ARGUS}`);
    expect(p.reasons.join(' ')).toContain(`holds the flock on ${g.home}/gateway.lock`);
    expect(report.findings.filter((f) => f.severity !== 'info')).toEqual([]);
    expect(code).toBe(0);
  });

  it('two profiles of one root (console script default, `python3 -m` argus): one kanban.db, the dispatcher lock where Hermes has one', async () => {
    const scratch = makeScratch();
    const root = makeRoot(scratch.dir, 'u', ARGUS);
    const d = await startReadyGateway({ kit, root });
    const a = await startReadyGateway({ kit, root, profile: ARGUS, launcher: 'module' });
    if (kit.traits.dispatcherLock) {
      // 306e2d2: the first gateway of the root takes <root>/kanban/.dispatcher.lock for its life.
      await waitFor(() => dispatcherHolder(root) === d.pid, 30_000, `PID ${d.pid} to flock ${root}/kanban/.dispatcher.lock`);
    }
    const { report } = await cli(['orphans', '--json', ...NO_S6, ...homesArgs(root, profileHome(root, ARGUS))]);
    for (const g of [d, a]) {
      expect(verdictOf(report, g.pid).verdict).toBe('manual');
      expect(verdictOf(report, g.pid).kanbanRoot).toBe(root);
    }
    expect(verdictOf(report, a.pid).argv).toEqual(['/usr/bin/python3', '-m', 'hermes_cli.main', '-p', ARGUS, 'gateway', 'run']);
    const k = report.kanban.find((x) => x.db === path.join(root, 'kanban.db'))!;
    // Writers are the gateways that dispatch: on 306e2d2 only the holder of .dispatcher.lock (argus lost it
    // and never opens kanban.db); on v0.15.1 both.
    expect(k.writers.map((w) => w.pid).sort()).toEqual(kit.traits.dispatcherLock ? [d.pid] : [a.pid, d.pid].sort());
    if (kit.traits.dispatcherLock) {
      expect(k.dispatcherLockHolder).toBe(d.pid);
      expect(k.dispatchers!.find((x) => x.pid === a.pid)!.dispatches).toBe('no');
      expect(k.singletonLock!.value).toBe('yes');
      expect(k.risk).toBe('ok');
    } else {
      // v0.15.1 has no singleton lock: nobody holds one, every gateway of the root dispatches.
      expect(fs.existsSync(path.join(root, 'kanban', '.dispatcher.lock'))).toBe(false);
      expect(k.dispatcherLockHolder).toBeNull();
      // Two dispatchers write the root's kanban.db (measured: claims alternate on the same tasks).
      expect(k.risk).toBe('rival-writers');
      expect(report.findings.find((f) => f.code === 'RIVAL_WRITERS')!.severity).toBe('critical');
    }
  });

  it('setproctitle importable (Debian python3-setproctitle): the gateway is found by the flock it holds, with its home, profile and argv from the record', async () => {
    const scratch = makeScratch();
    const root = makeRoot(scratch.dir, 'u', ARGUS);
    const g = await startReadyGateway({ kit, root, profile: ARGUS, setproctitle: true });
    const cmdline = fs.readFileSync(`/proc/${g.pid}/cmdline`, 'utf8').replace(/\0+$/, '');
    if (kit.traits.dispatcherLock) {
      // 306e2d2 retitles the process: cmdline `hermes` (NUL padded), environ blanked.
      expect(cmdline).toBe('hermes');
    } else {
      // v0.15.1 has no process-title code: cmdline stays as launched.
      expect(cmdline.split('\0')).toEqual(['/usr/bin/python3', kit.hermesBin, '-p', ARGUS, 'gateway', 'run']);
    }
    if (kit.traits.dispatcherLock) await waitFor(() => dispatcherHolder(root) === g.pid, 30_000, `PID ${g.pid} to flock the dispatcher lock`);
    const { code, report } = await cli(['orphans', '--json', ...NO_S6, ...homesArgs(g.home)]);
    const p = verdictOf(report, g.pid);
    expect(p.role).toBe('gateway');
    expect(p.hermesHome).toBe(g.home);
    expect(p.profile).toBe(ARGUS);
    expect(p.verdict).toBe('manual');
    if (kit.traits.dispatcherLock) {
      expect(report.kanban.find((k) => k.db === path.join(root, 'kanban.db'))!.dispatcherLockHolder).toBe(g.pid);
    }
    expect(code).toBe(0);
  });

  describe.skipIf(requireOrSkip('s6 (apt-get install -y s6)', hasS6()))('under a real s6 tree', () => {
    it('the incident under s6: the slot (Hermes\u2019s run script), a shell `gateway restart --profile argus` and a shell `gateway run --replace`', async () => {
      const scratch = makeScratch();
      const root = makeRoot(scratch.dir, 'u', ARGUS);
      const argusHome = profileHome(root, ARGUS);
      const tree = await startS6Tree(path.join(scratch.dir, 'service'));
      const slot = await addRealS6Slot(tree, { kit, root, profile: 'default' });
      expect(fs.readFileSync(path.join(slot.dir, 'run'), 'utf8')).toContain(
        kit.traits.s6Replace ? 'exec hermes gateway run --replace' : 'exec hermes gateway run\n',
      );

      // `gateway restart --profile argus` from a shell: with no supervisor of argus it becomes argus's gateway.
      const restart = startRealGateway({ kit, root, args: ['gateway', 'restart', '--profile', ARGUS] });
      await waitRealReady(argusHome, restart.pid, 60_000, restart.logFile);
      // `gateway run --replace` from a shell takes the default home from the slot's gateway.
      const replace = startRealGateway({ kit, root, args: ['gateway', 'run', '--replace'] });
      const slotLog = path.join(path.dirname(root), `${slot.name}.log`);

      if (kit.traits.s6Replace) {
        // 306e2d2: s6 restarts the slot, whose `--replace` takes the home back and ends the shell gateway.
        await waitFor(() => !replace.alive(), 90_000, `s6's --replace to end the shell gateway ${replace.pid}`);
        await waitFor(() => {
          const p = slotPid(tree, slot.name);
          return p !== null && p !== slot.pid && flockHolder(path.join(root, 'gateway.lock')) === p && readRecord(root)?.pid === p;
        }, 60_000, 'the restarted slot gateway to own the default home');
        const now = slotPid(tree, slot.name)!;
        const { code, report } = await cli(['orphans', '--json', '--s6-scandir', tree.scanDir, ...homesArgs(root, argusHome)]);
        expect(verdictOf(report, now).verdict).toBe('supervised');
        expect(verdictOf(report, now).supervisor).toMatchObject({ kind: 's6', unit: 'gateway-default', mainPid: now });
        expect(report.processes.some((p) => p.pid === replace.pid)).toBe(false);
        expect(verdictOf(report, restart.pid).verdict).toBe('manual');
        const k = report.kanban.find((x) => x.db === path.join(root, 'kanban.db'))!;
        await waitFor(() => dispatcherHolder(root) !== null, 30_000, 'a gateway to hold the dispatcher lock');
        expect([now, restart.pid]).toContain(dispatcherHolder(root));
        expect(k.risk).toBe('ok');
        expect(code).toBe(0);
      } else {
        // v0.15.1: the shell gateway keeps the home; the slot's `gateway run` (no --replace) exits
        // "already running" and s6 restarts it every second.
        await waitFor(
          () => fs.existsSync(slotLog) && fs.readFileSync(slotLog, 'utf8').includes(`Gateway already running (PID ${replace.pid})`),
          90_000,
          `the s6 slot to be refused by the shell gateway ${replace.pid} ("Gateway already running")`,
        );
        expect(flockHolder(path.join(root, 'gateway.lock'))).toBe(replace.pid);
        expect(isAlive(slot.pid)).toBe(false);
        const { code, report } = await cli(['orphans', '--json', '--s6-scandir', tree.scanDir, ...homesArgs(root, argusHome)]);
        const o = verdictOf(report, replace.pid);
        expect(o.verdict).toBe('orphan');
        expect(o.ppid).toBe(1);
        expect(o.reasons.join(' ')).toContain('s6 gateway-default');
        expect(verdictOf(report, restart.pid).verdict).toBe('manual');
        const k = report.kanban.find((x) => x.db === path.join(root, 'kanban.db'))!;
        expect(k.risk).toBe('rival-writers');
        expect(k.dispatcherLockHolder).toBeNull();
        const crit = report.findings.find((f) => f.code === 'RIVAL_WRITERS')!;
        expect(crit.severity).toBe('critical');
        expect(crit.remedy).toMatch(new RegExp(`^hermes-doctor orphans --kill --pid ${replace.pid}( |$)`));
        expect(report.findings.find((f) => f.code === 'ORPHAN_GATEWAY' && f.pid === replace.pid)!.message).toContain(
          `s6-svc -r ${tree.scanDir}/gateway-default`,
        );
        expect(code).toBe(2);
      }
    }, 240_000);
  });
});
