/**
 * A deleted profile on the REAL Hermes gateway (test/harness/hermes.ts), on each kit version.
 *
 * A web UI's "delete profile" removes `<root>/profiles/P` with the gateway of P still running (Hermes's
 * own `hermes profile delete` stops the gateway first: hermes_cli/profiles.py:delete_profile, v0.15.1
 * and 306e2d2; an `rm -rf` does not). What the real gateway then does, measured here:
 *   - it keeps running; its fds point at `<home>/gateway.lock (deleted)`, `state.db (deleted)`,
 *     `logs/*.log (deleted)`, and it still holds the flock on the unlinked gateway.lock inode;
 *   - on its next cron tick (every 60 s) it re-creates the folder: cron/scheduler.py:tick does
 *     `lock_dir.mkdir(parents=True, exist_ok=True)` for `<home>/cron/.tick.lock` (v0.15.1 and 306e2d2),
 *     and the home's skeleton (SOUL.md, skills/, logs/, ...) comes back with it, but no gateway.pid
 *     and no gateway.lock: the folder at `<home>` is a new one the gateway holds nothing of.
 * Either way the gateway serves a profile that no longer exists and nothing owns it: a ghost, which
 * `--kill` may end, scoped to that home, without touching the root's other gateway.
 */
import fs from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import type { Report } from '../src/types.js';
import { NO_S6, cliJson, homesArgs, verdictOf } from './harness/cli.js';
import { flockHolder, makeRoot, readRecord, startReadyGateway, type RealGateway } from './harness/hermes.js';
import { fdTargets, isAlive, waitFor } from './harness/processes.js';
import { makeScratch, profileHome } from './harness/scratch.js';
import { describeRealHermes } from './harness/real-suite.js';

/** The real CLI in-process; the --json document is schema-checked and parsed. */
const cli = cliJson;

/**
 * A profile name of this test process only: Hermes's `gateway restart --profile P` elsewhere on the
 * host SIGTERMs every process whose argv holds `-p P` (hermes_cli/gateway.py:find_gateway_pids).
 */
const GONE = `x${process.pid}-gone`;

/** Number of entries under `dir` (0 when it is gone). */
function treeSize(dir: string): number {
  try {
    return fs.readdirSync(dir, { recursive: true }).length;
  } catch {
    return 0;
  }
}

/** Waits until the tree under `dir` has not grown for 1 s (at most 20 s). */
async function settled(dir: string): Promise<void> {
  let last = -1;
  let since = Date.now();
  await waitFor(
    () => {
      const n = treeSize(dir);
      if (n !== last) {
        last = n;
        since = Date.now();
      }
      return Date.now() - since >= 1000;
    },
    20_000,
    `${dir} to stop growing`,
    100,
  );
}

/** `rm -rf dir`, repeated while a late write refills a folder being emptied (ENOTEMPTY), at most 10 s. */
async function removeTree(dir: string): Promise<void> {
  await waitFor(
    () => {
      try {
        fs.rmSync(dir, { recursive: true, force: true });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOTEMPTY') throw e;
      }
      return !fs.existsSync(dir);
    },
    10_000,
    `${dir} to be removed`,
    100,
  );
}

describeRealHermes('a deleted profile on the real Hermes gateway', [], (kit) => {
  /** The root's default gateway (a bystander) and the gateway of profile GONE, whose folder is then removed. */
  async function deletedProfile(): Promise<{ root: string; home: string; d: RealGateway; g: RealGateway }> {
    const scratch = makeScratch();
    const root = makeRoot(scratch.dir, 'u', GONE);
    const home = profileHome(root, GONE);
    const d = await startReadyGateway({ kit, root });
    const g = await startReadyGateway({ kit, root, profile: GONE });
    // Right after it takes its lock the gateway still fills its home (the bundled skills are synced into
    // <home>/skills/, ~850 files): wait for `running` and for the tree to stop growing, then remove it.
    await waitFor(() => readRecord(home, 'gateway_state.json')?.gateway_state === 'running', 30_000, `${home}/gateway_state.json to say running`);
    await settled(home);
    await removeTree(home);
    // The real gateway keeps running on the unlinked files of its home.
    expect(g.alive()).toBe(true);
    expect(fdTargets(g.pid)).toContain(`${home}/gateway.lock (deleted)`);
    return { root, home, d, g };
  }

  /** What an operator must read about the gateway of the deleted profile, whatever the folder looks like now. */
  function expectGhost(report: Report, g: RealGateway, home: string): void {
    const p = verdictOf(report, g.pid);
    expect(p.role).toBe('gateway');
    expect(p.hermesHome).toBe(home);
    expect(p.profile).toBe(GONE);
    expect(p.homeSource).toBe(`argv -p ${GONE}`);
    expect(p.supervisor).toBeNull();
    expect(p.verdict).toBe('ghost');
    expect(p.handles).toContainEqual(expect.objectContaining({ path: `${home}/gateway.lock`, deleted: true }));
    const f = report.findings.find((x) => x.code === 'GHOST_GATEWAY' && x.pid === g.pid)!;
    expect(f.severity).toBe('warning');
    expect(f.message).toContain(`serves deleted profile ${GONE} (${home})`);
    expect(f.remedy).toMatch(new RegExp(`^hermes-doctor orphans --kill --pid ${g.pid}( |$)`));
    // A process runs for the --home given: it is not a home that names nothing.
    expect(report.findings.filter((x) => x.code === 'HOME_NOT_FOUND' || x.code === 'PROFILE_NOT_FOUND')).toEqual([]);
  }

  /** `--kill --yes` scoped to the deleted home ends exactly the ghost; the root's gateway keeps PID and lock. */
  async function expectKilledAlone(root: string, home: string, d: RealGateway, g: RealGateway): Promise<void> {
    const r = await cli(['orphans', '--kill', '--yes', '--json', '--grace', '5', ...NO_S6, ...homesArgs(home)]);
    const acted = r.report.actions!.filter((a) => a.outcome !== 'refused');
    expect(acted.map((a) => a.pid)).toEqual([g.pid]);
    expect(acted[0]).toMatchObject({ verdict: 'ghost' });
    expect(acted[0]!.signals[0]).toBe('SIGTERM');
    expect(acted[0]!.outcome).toBe('terminated');
    await waitFor(() => !isAlive(g.pid), 5000, `ghost ${g.pid} to be gone`);
    expect(d.alive()).toBe(true);
    expect(flockHolder(path.join(root, 'gateway.lock'))).toBe(d.pid);
    expect(readRecord(root)!.pid).toBe(d.pid);
  }

  it('the folder removed (rm -rf) while its gateway runs: a ghost of that home, the root\u2019s gateway untouched; --kill --home ends only it', async () => {
    const { root, home, d, g } = await deletedProfile();
    expect(fs.existsSync(home)).toBe(false);
    const { code, report } = await cli(['orphans', '--json', ...NO_S6, ...homesArgs(root, home)]);
    expectGhost(report, g, home);
    expect(verdictOf(report, g.pid).reasons).toContain(`its HERMES_HOME ${home} no longer exists: the profile was deleted`);
    expect(verdictOf(report, d.pid).verdict).toBe('manual');
    if (kit.traits.dispatcherLock) {
      // 306e2d2: the root's first gateway holds <root>/kanban/.dispatcher.lock; the ghost never dispatches.
      const k = report.kanban.find((x) => x.db === path.join(root, 'kanban.db'))!;
      expect(k.writers.map((w) => w.pid)).toEqual([d.pid]);
      expect(code).toBe(1);
    } else {
      // v0.15.1: the ghost's dispatcher still ticks on the root's kanban.db beside the root's gateway.
      const k = report.kanban.find((x) => x.db === path.join(root, 'kanban.db'))!;
      expect(k.writers.map((w) => w.pid).sort()).toEqual([d.pid, g.pid].sort());
      expect(k.risk).toBe('rival-writers');
      expect(code).toBe(2);
    }
    await expectKilledAlone(root, home, d, g);
  }, 120_000);

  it('the folder re-created by the gateway\u2019s own cron tick (no gateway.pid, its lock on the unlinked inode): still a ghost, never manual; --kill ends only it', async () => {
    const { root, home, d, g } = await deletedProfile();
    // cron/scheduler.py:tick makes <home>/cron/ again on the next tick (60 s after the first one).
    await waitFor(() => fs.existsSync(path.join(home, 'cron', '.tick.lock')), 90_000, `gateway ${g.pid}'s cron tick to re-create ${home}`, 250);
    expect(g.alive()).toBe(true);
    expect(fs.existsSync(path.join(home, 'gateway.pid'))).toBe(false);
    expect(fs.existsSync(path.join(home, 'gateway.lock'))).toBe(false);
    expect(fdTargets(g.pid)).toContain(`${home}/gateway.lock (deleted)`);
    const { report } = await cli(['orphans', '--json', ...NO_S6, ...homesArgs(root, home)]);
    expectGhost(report, g, home);
    expect(verdictOf(report, g.pid).reasons.join(' ')).toContain(`${home}/gateway.lock (deleted)`);
    expect(verdictOf(report, d.pid).verdict).toBe('manual');
    await expectKilledAlone(root, home, d, g);
  }, 180_000);
});
