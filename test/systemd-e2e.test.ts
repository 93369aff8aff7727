/**
 * End to end on a REAL systemd (booted in a namespace by test/harness/systemd.ts):
 * stand-in gateways run as `hermes-gateway.service` and `hermes-gateway-argus.service` and write the
 * shared kanban.db; a "shell" inside launches `gateway run --replace` and `gateway restart --profile
 * argus` detached with setsid (PPID 1, outside every unit cgroup), exactly like hermes-agent #35240.
 * The real CLI (`node bin/hermes-doctor.js`) runs INSIDE the namespace, so it asks that systemd.
 * Also: the orphan survives `systemctl restart` of its unit; a wrapped ExecStart (`/bin/sh -c`) under a
 * custom unit name is supervised; a kanban worker in a transient `hermes-worker-*.scope` belongs to its
 * gateway; a unit whose WorkingDirectory is gone crash-loops with
 * status=200/CHDIR (seed 003) and is reported.
 *
 * Every process is started inside the namespace; teardown kills the namespace's init, which ends them all.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Report } from '../src/types.js';
import { assertOrphansV1 } from './contract.js';
import { verdictOf } from './harness/cli.js';
import { CLI_BIN as CLI, REPO_ROOT, STANDIN_PYTHONPATH, hasOpen, until } from './harness/processes.js';
import { ownTeardownProblems } from './harness/foreign-cgroups.js';
import { hasPython3, requireOrSkip } from './harness/skip.js';
import { bootSystemd, nsScratchDir, systemdAvailable, teardownAll, teardownProblems, type SystemdNs } from './harness/systemd.js';

const avail = systemdAvailable();
const PY = '/usr/bin/python3';
const builtCli = fs.existsSync(path.join(REPO_ROOT, 'dist', 'cli.js'));


function unitText(opts: { exec: string; env: Record<string, string>; workdir?: string; restartSec?: string }): string {
  return [
    '[Unit]',
    'Description=stand-in Hermes gateway',
    'DefaultDependencies=no',
    'StartLimitIntervalSec=0',
    '[Service]',
    'Type=simple',
    `Environment=${Object.entries(opts.env).map(([k, v]) => `"${k}=${v}"`).join(' ')}`,
    ...(opts.workdir ? [`WorkingDirectory=${opts.workdir}`] : []),
    `ExecStart=${opts.exec}`,
    'Restart=always',
    `RestartSec=${opts.restartSec ?? '200ms'}`,
    'KillMode=mixed',
    '',
  ].join('\n');
}

const runnable = avail.ok && hasPython3() && builtCli;

describe.skipIf(requireOrSkip(`real systemd in a namespace (${avail.why}), python3 and a built dist/ (npm run build)`, runnable))(
  'systemd ownership end to end on a real systemd',
  () => {
    let ns: SystemdNs;
    const dir = runnable ? nsScratchDir('e2e-') : '/nonexistent';
    const userHome = path.join(dir, 'home');
    const root = path.join(userHome, '.hermes');
    const argusHome = path.join(root, 'profiles', 'argus');
    // A second user root for the custom-name unit with a wrapped ExecStart.
    const michelHome = path.join(dir, 'michel');
    const michelRoot = path.join(michelHome, '.hermes');
    const michelProfile = path.join(michelRoot, 'profiles', 'michel');
    // A third root for the crash-looping unit (seed 003): its WorkingDirectory was a deleted worktree.
    const crashHome = path.join(dir, 'crash');
    const goneDir = path.join(dir, 'worktree-deleted');
    // A fourth root whose gateway starts a kanban worker in a transient hermes-worker-*.scope.
    const wkHome = path.join(dir, 'wk');
    const wkProfile = path.join(wkHome, '.hermes', 'profiles', 'wk');
    const baseEnv = (home: string) => ({ HOME: home, PYTHONPATH: STANDIN_PYTHONPATH, STANDIN_TICK_MS: '200', LANG: 'C.UTF-8' });
    let orphanRun = 0;
    let orphanRestart = 0;

    /** Runs the real CLI inside the namespace. */
    async function doctor(args: string[]): Promise<{ code: number | null; out: string; err: string; report: Report | null }> {
      const r = await ns.exec(['node', CLI, ...args], { timeoutMs: 30_000 });
      const report = args.includes('--json') && r.stdout.trim().startsWith('{') ? (JSON.parse(r.stdout) as Report) : null;
      if (report) assertOrphansV1(report);
      return { code: r.code, out: r.stdout, err: r.stderr, report };
    }

    async function mainPid(unit: string): Promise<number> {
      return Number((await ns.waitActive(unit, 20_000)).MainPID);
    }

    /** The gateway.pid of a home names this inner PID (the stand-in is up and writing). */
    async function ready(home: string, pid: number): Promise<void> {
      await until(() => {
        try {
          return (JSON.parse(fs.readFileSync(path.join(home, 'gateway.pid'), 'utf8')) as { pid: number }).pid === pid ? true : null;
        } catch {
          return null;
        }
      }, 20_000, `gateway.pid of ${home} to name PID ${pid}`);
    }

    /** An inner PID has kanban.db-wal open (seen from outside through its host PID). */
    async function writing(innerPid: number): Promise<void> {
      await until(() => {
        const outer = ns.innerToOuterPid(innerPid);
        return outer && hasOpen(outer, 'kanban.db-wal') ? true : null;
      }, 20_000, `PID ${innerPid} to open kanban.db-wal`);
    }

    beforeAll(async () => {
      fs.mkdirSync(argusHome, { recursive: true });
      fs.mkdirSync(michelProfile, { recursive: true });
      fs.mkdirSync(path.join(crashHome, '.hermes', 'profiles', 'crashy'), { recursive: true });
      fs.mkdirSync(wkProfile, { recursive: true });
      ns = await bootSystemd({
        units: {
          'hermes-gateway.service': unitText({ exec: `${PY} -m hermes_cli.main gateway run`, env: baseEnv(userHome), workdir: root }),
          'hermes-gateway-argus.service': unitText({ exec: `${PY} -m hermes_cli.main --profile argus gateway run`, env: baseEnv(userHome), workdir: root }),
          // A custom name Hermes's `hermes-gateway*` glob misses, and a wrapper that stays alive as MainPID.
          'hermes-michel.service': unitText({
            exec: `/bin/sh -c '${PY} -m hermes_cli.main -p michel gateway run; echo gateway exited'`,
            env: baseEnv(michelHome),
          }),
          'hermes-gateway-wk.service': unitText({
            exec: `${PY} -m hermes_cli.main -p wk gateway run`,
            env: { ...baseEnv(wkHome), STANDIN_WORKER_SCOPE: 't_e2e' },
          }),
          'hermes-gateway-crashy.service': unitText({
            exec: `${PY} -m hermes_cli.main -p crashy gateway run`,
            env: { ...baseEnv(crashHome), HERMES_HOME: path.join(crashHome, '.hermes') },
            workdir: goneDir,
            restartSec: '1s',
          }),
        },
      });
    }, 60_000);

    afterAll(async () => {
      const n = ns;
      await teardownAll();
      if (n) expect(ownTeardownProblems(teardownProblems(n))).toEqual([]);
    }, 30_000);

    it('1. the incident: `gateway run --replace` and `gateway restart --profile argus` from a shell are named as orphans beside the MainPIDs, rival-writers, exit 2', async () => {
      const mainDefault = await mainPid('hermes-gateway.service');
      const mainArgus = await mainPid('hermes-gateway-argus.service');
      await ready(root, mainDefault);
      await ready(argusHome, mainArgus);
      const env = { ...baseEnv(userHome), STANDIN_STAY_ON_LOCK_BUSY: '1' };
      orphanRun = await ns.launchOrphan([PY, '-m', 'hermes_cli.main', 'gateway', 'run', '--replace'], env);
      orphanRestart = await ns.launchOrphan([PY, '-m', 'hermes_cli.main', 'gateway', 'restart', '--profile', 'argus'], env);
      await writing(orphanRun);
      await writing(orphanRestart);

      const { code, report } = await doctor(['orphans', '--json', '--home', root, '--home', argusHome]);
      const r = report!;
      for (const [pid, unit, main] of [[orphanRun, 'hermes-gateway.service', mainDefault], [orphanRestart, 'hermes-gateway-argus.service', mainArgus]] as const) {
        const o = verdictOf(r, pid);
        expect(o.verdict).toBe('orphan');
        expect(o.ppid).toBe(1);
        expect(o.supervisor).toBeNull();
        const why = o.reasons.join('\n');
        expect(why).toContain(`not MainPID ${main} of ${unit}`);
        expect(why).toContain(`is not /system.slice/${unit}`);
        expect(why).toMatch(new RegExp(`launched by hand: no controlling terminal, session ${pid}, outside ${unit.replace(/\./g, '\\.')}`));
        expect(verdictOf(r, main).verdict).toBe('supervised');
        expect(verdictOf(r, main).supervisor).toMatchObject({ kind: 'systemd', unit, mainPid: main, via: 'MainPID' });
        const f = r.findings.find((x) => x.code === 'ORPHAN_GATEWAY' && x.pid === pid)!;
        expect(f.message).toContain(`\`systemctl restart ${unit}\``);
      }
      expect(verdictOf(r, orphanRestart).hermesHome).toBe(argusHome);
      expect(verdictOf(r, orphanRun).hermesHome).toBe(root);
      const k = r.kanban.find((x) => x.db === path.join(root, 'kanban.db'))!;
      expect(k.risk).toBe('rival-writers');
      expect(k.writers.map((w) => w.pid)).toEqual(expect.arrayContaining([mainDefault, mainArgus, orphanRun, orphanRestart]));
      expect(k.holders.find((h) => h.pid === orphanRestart)?.mode).toBe('rw');
      const crit = r.findings.find((f) => f.code === 'RIVAL_WRITERS')!;
      // The kill that protects the owners' files, with the --home flags this scan was given.
      expect(crit.remedy).toMatch(new RegExp(`^hermes-doctor orphans --kill --pid (${orphanRun} ${orphanRestart}|${orphanRestart} ${orphanRun})( --home \\S+)+$`));
      expect(r.findings.find((x) => x.code === 'ORPHAN_GATEWAY' && x.pid === orphanRun)!.remedy).toMatch(new RegExp(`^hermes-doctor orphans --kill --pid ${orphanRun}( --home \\S+)+$`));
      // Per-unit state.
      const units = new Map(r.units!.map((u) => [u.unit, u]));
      expect(units.get('hermes-gateway.service')).toMatchObject({ scope: 'system', activeState: 'active', subState: 'running', mainPid: mainDefault, nRestarts: 0, pids: [mainDefault], home: root, crashLoop: null });
      expect(units.get('hermes-gateway-argus.service')).toMatchObject({ mainPid: mainArgus, pids: [mainArgus], home: argusHome, crashLoop: null });
      expect(code).toBe(2);

      const table = await doctor(['orphans', '--no-color', '--home', root, '--home', argusHome]);
      expect(table.code).toBe(2);
      expect(table.out).toContain('rival-writers');
      expect(table.out).toMatch(new RegExp(`│ ${orphanRestart}\\s+│ 1\\s+│`));
      // NRestarts as the JSON run saw it: on a loaded machine the stand-in's first start can fail and be restarted.
      const argusRestarts = units.get('hermes-gateway-argus.service')!.nRestarts;
      expect(table.out).toMatch(new RegExp(`hermes-gateway-argus\\.service\\s+│ system\\s+│ active/running\\s+│ ${argusRestarts}\\s+│ ${mainArgus}`));
    }, 90_000);

    it('2. `systemctl restart hermes-gateway-argus.service`: new MainPID, the orphan survives and is still reported', async () => {
      expect(orphanRestart).toBeGreaterThan(1);
      const before = await mainPid('hermes-gateway-argus.service');
      const r0 = await ns.systemctl('restart', 'hermes-gateway-argus.service');
      expect(r0.code).toBe(0);
      const after = await until(async () => {
        const p = await mainPid('hermes-gateway-argus.service');
        return p !== before && p > 1 ? p : null;
      }, 20_000, 'a new MainPID');
      await ready(argusHome, after);
      expect((await ns.exec(['kill', '-0', String(orphanRestart)])).code).toBe(0);
      const { code, report } = await doctor(['orphans', '--json', '--home', argusHome]);
      const o = verdictOf(report!, orphanRestart);
      expect(o.verdict).toBe('orphan');
      expect(o.ppid).toBe(1);
      expect(o.reasons.join('\n')).toContain(`not MainPID ${after} of hermes-gateway-argus.service`);
      expect(verdictOf(report!, after).verdict).toBe('supervised');
      expect(report!.processes.some((p) => p.pid === before)).toBe(false);
      expect(report!.units!.find((u) => u.unit === 'hermes-gateway-argus.service')!.mainPid).toBe(after);
      expect(code).toBe(2);
    }, 60_000);

    it('3. a wrapped ExecStart (`/bin/sh -c`) under a custom unit name: the gateway is supervised through the cgroup, no false orphan', async () => {
      const wrapper = await mainPid('hermes-michel.service');
      const gw = await until(async () => {
        const r = await ns.exec(['cat', path.join(michelProfile, 'gateway.pid')]);
        try {
          const pid = (JSON.parse(r.stdout) as { pid: number }).pid;
          return pid > 0 && pid !== wrapper ? pid : null;
        } catch {
          return null;
        }
      }, 20_000, 'the wrapped michel gateway');
      const { code, report } = await doctor(['orphans', '--json', '--home', michelProfile]);
      const r = report!;
      const g = verdictOf(r, gw);
      expect(g.ppid).toBe(wrapper);
      expect(g.verdict).toBe('supervised');
      expect(g.supervisor).toMatchObject({ kind: 'systemd', unit: 'hermes-michel.service', mainPid: wrapper });
      expect(g.supervisor!.via).toBe('cgroup /system.slice/hermes-michel.service');
      expect(r.processes.filter((p) => p.verdict !== 'supervised')).toEqual([]);
      expect(r.processes.filter((p) => p.role === 'gateway').map((p) => p.pid)).toEqual([gw]); // the wrapper is no second gateway
      expect(r.findings.filter((f) => f.severity !== 'info')).toEqual([]);
      const u = r.units!.find((x) => x.unit === 'hermes-michel.service')!;
      expect(u).toMatchObject({ mainPid: wrapper, home: michelProfile, crashLoop: null });
      expect(u.pids).toContain(gw);
      expect(code).toBe(0);
    }, 60_000);

    it('3b. a kanban worker in a transient hermes-worker-*.scope (outside the service cgroup) belongs to its supervised gateway', async () => {
      const gw = await mainPid('hermes-gateway-wk.service');
      await ready(wkProfile, gw);
      const scope = await until(async () => {
        const p = await ns.show('hermes-worker-t_e2e.scope', ['ActiveState', 'ControlGroup']);
        return p.ActiveState === 'active' && p.ControlGroup ? p.ControlGroup : null;
      }, 20_000, 'the worker scope');
      expect(scope).toBe('/system.slice/hermes-worker-t_e2e.scope');
      const worker = await until(async () => {
        const r = await ns.exec(['cat', `/sys/fs/cgroup/systemd${scope}/cgroup.procs`]);
        const pids = r.stdout.split('\n').filter(Boolean).map(Number);
        return pids.length === 1 ? pids[0]! : null;
      }, 10_000, 'the worker PID');
      expect((await ns.cgroupOf(worker)).join('\n')).not.toContain('hermes-gateway-wk.service');
      const { code, report } = await doctor(['orphans', '--json', '--home', wkProfile]);
      const w = verdictOf(report!, worker);
      expect(w.role).toBe('kanban-worker');
      expect(w.ppid).toBe(gw);
      expect(w.verdict).toBe('supervised');
      expect(w.supervisor).toMatchObject({ kind: 'systemd', unit: 'hermes-gateway-wk.service', mainPid: gw });
      expect(w.supervisor!.via).toContain(`worker scope hermes-worker-t_e2e.scope of gateway PID ${gw}`);
      expect(w.reasons.join('\n')).toContain('in transient scope hermes-worker-t_e2e.scope');
      expect(report!.findings.filter((f) => f.severity !== 'info')).toEqual([]);
      expect(code).toBe(0);
    }, 60_000);

    it('4. WorkingDirectory gone (seed 003): status=200/CHDIR, NRestarts climbs, UNIT_CRASH_LOOP is reported', async () => {
      const first = await until(async () => {
        const p = await ns.show('hermes-gateway-crashy.service', ['NRestarts', 'ExecMainStatus', 'ExecMainCode', 'Result', 'ExecStart', 'ActiveState', 'SubState']);
        // Between two starts (auto-restart) the last exit is visible; during a start it reads 0.
        return Number(p.NRestarts) >= 2 && p.SubState === 'auto-restart' ? p : null;
      }, 20_000, 'the crashy unit to restart twice');
      expect(first.ExecMainStatus).toBe('200');
      expect(first.ExecStart).toContain('status=200');
      const { report } = await doctor(['orphans', '--json']);
      const u = report!.units!.find((x) => x.unit === 'hermes-gateway-crashy.service')!;
      expect(u.nRestarts).toBeGreaterThanOrEqual(2);
      expect(u.pids).toEqual([]);
      expect(u.crashLoop).toContain(`WorkingDirectory ${goneDir} no longer exists`);
      const f = report!.findings.find((x) => x.code === 'UNIT_CRASH_LOOP')!;
      expect(f.severity).toBe('warning');
      expect(f.message).toContain('hermes-gateway-crashy.service (system) crash-loops');
      // NRestarts keeps climbing between two scans.
      const again = await until(async () => {
        const r = await doctor(['orphans', '--json']);
        const n = r.report!.units!.find((x) => x.unit === 'hermes-gateway-crashy.service')!.nRestarts;
        return n > u.nRestarts ? n : null;
      }, 20_000, 'NRestarts to climb');
      expect(again).toBeGreaterThan(u.nRestarts);
      const table = await doctor(['orphans', '--no-color']);
      expect(table.out).toContain('crash loop hermes-gateway-crashy.service');
    }, 60_000);
  },
);
