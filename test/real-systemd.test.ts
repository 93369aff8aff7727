/**
 * The incident on a REAL systemd (booted in a namespace, test/harness/systemd.ts) with the REAL
 * Hermes gateway, on each kit version: the unit is the one Hermes's own generate_systemd_unit()
 * writes (test/harness/hermes.ts realSystemdUnit), and a "shell" inside runs `hermes gateway restart
 * --profile argus` and `hermes gateway run --replace` detached with setsid, as in hermes-agent #35240.
 * The CLI runs inside the namespace (node bin/hermes-doctor.js), so it asks that systemd.
 *
 * What each version really does (real-gateway.md): v0.15.1's unit has `--replace` in ExecStart, so
 * after RestartSec=5 the unit takes its home back and the shell gateway exits; 306e2d2's has not, so
 * the shell gateway keeps the home and the unit crash-loops on "Gateway already running" until
 * `orphans --kill` ends the shell gateway. With systemd present, `gateway restart --profile argus`
 * takes Hermes's service path and, with no user manager and no linger here, refuses and starts nothing;
 * the shell's second gateway of the root is therefore `-p argus gateway run`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Report } from '../src/types.js';
import { assertOrphansV1 } from './contract.js';
import { verdictOf } from './harness/cli.js';
import { flockHolder, kitEnv, readRecord, realSystemdUnit } from './harness/hermes.js';
import { CLI_BIN, readStat, waitFor } from './harness/processes.js';
import { ownTeardownProblems } from './harness/foreign-cgroups.js';
import { builtDist, describeRealHermes } from './harness/real-suite.js';
import { bootSystemd, nsScratchDir, systemdAvailable, teardownAll, teardownProblems, type SystemdNs } from './harness/systemd.js';

const sysd = systemdAvailable();

/** The PID, as seen inside the namespace, of a host PID (last field of NSpid); null when gone. */
function innerPid(outer: number): number | null {
  try {
    const m = /^NSpid:\s*(.*)$/m.exec(fs.readFileSync(`/proc/${outer}/status`, 'utf8'));
    const ids = (m?.[1] ?? '').trim().split(/\s+/).map(Number);
    return ids[ids.length - 1] ?? null;
  } catch {
    return null;
  }
}

/** Inner PID holding the flock on HOME/gateway.lock (read from the host's /proc/locks), or null. */
function innerLockHolder(home: string): number | null {
  const outer = flockHolder(path.join(home, 'gateway.lock'));
  return outer === null ? null : innerPid(outer);
}

describeRealHermes(
  'the incident on a real systemd with the real Hermes gateway',
  [{ what: `real systemd in a namespace (${sysd.why})`, ok: sysd.ok }, builtDist()],
  (kit) => {
    let ns: SystemdNs;
    let unit = '';
    // Made in beforeAll, which runs only where the suite does.
    let userHome = '';
    let root = '';
    let argusHome = '';

    async function doctor(args: string[]): Promise<{ code: number | null; report: Report }> {
      const r = await ns.exec(['node', CLI_BIN, ...args], { timeoutMs: 60_000 });
      if (!r.stdout.trim().startsWith('{')) throw new Error(`hermes-doctor printed no JSON (${r.code}): ${r.stdout}${r.stderr}`);
      const report = JSON.parse(r.stdout) as Report;
      assertOrphansV1(report);
      return { code: r.code, report };
    }

    beforeAll(async () => {
      userHome = path.join(nsScratchDir('real-'), 'home');
      root = path.join(userHome, '.hermes');
      argusHome = path.join(root, 'profiles', 'argus');
      fs.mkdirSync(argusHome, { recursive: true });
      const u = realSystemdUnit(kit, { userHome, home: root });
      unit = u.name;
      ns = await bootSystemd({ units: { [u.name]: u.text }, bindPaths: [kit.dest] });
    }, 600_000);

    afterAll(async () => {
      const n = ns;
      if (!n) return;
      await n.teardown();
      expect(ownTeardownProblems(teardownProblems(n))).toEqual([]);
    }, 60_000);

    it('the unit Hermes generated runs the gateway; a shell `gateway restart --profile argus` (refused: no linger), `-p argus gateway run` and `gateway run --replace` beside it', async () => {
      expect(unit).toBe('hermes-gateway.service');
      const text = fs.readFileSync(path.join(ns.unitDir, unit), 'utf8');
      expect(text).toMatch(kit.traits.unitReplace ? /^ExecStart=\/usr\/bin\/python3 -m hermes_cli\.main gateway run --replace$/m : /^ExecStart=\/usr\/bin\/python3 -m hermes_cli\.main gateway run$/m);
      const main = Number((await ns.waitActive(unit, 60_000)).MainPID);
      await waitFor(() => readRecord(root)?.pid === main && innerLockHolder(root) === main, 60_000, `MainPID ${main} to own ${root}`);

      const shellEnv = kitEnv(kit, root);
      // With systemd present, `gateway restart --profile argus` takes the service path: no user manager
      // with linger here, so it refuses and starts no gateway (the incident's host had one).
      const restartLog = path.join(userHome, 'restart.log');
      const tried = await ns.launchOrphan(['bash', '-c', `exec "$0" "$@" >>${restartLog} 2>&1`, kit.hermesBin, 'gateway', 'restart', '--profile', 'argus'], shellEnv);
      await waitFor(() => ns.innerToOuterPid(tried) === null, 60_000, `the shell's gateway restart ${tried} to exit`);
      expect(fs.readFileSync(restartLog, 'utf8')).toContain('linger is not enabled');
      expect(readRecord(argusHome)).toBeNull();
      // The shell's argus gateway then, by hand: a second gateway of the root.
      const restart = await ns.launchOrphan([kit.hermesBin, '-p', 'argus', 'gateway', 'run'], shellEnv);
      await waitFor(() => readRecord(argusHome)?.pid === restart && innerLockHolder(argusHome) === restart, 60_000, `the shell's argus gateway ${restart} to own ${argusHome}`);
      const replace = await ns.launchOrphan([kit.hermesBin, 'gateway', 'run', '--replace'], shellEnv);
      const replaceOuter = await (async () => {
        let o: number | null = null;
        await waitFor(() => (o = ns.innerToOuterPid(replace)) !== null, 10_000, `host PID of ${replace}`);
        return o as unknown as number;
      })();

      if (kit.traits.unitReplace) {
        // v0.15.1: the shell takes the home, systemd restarts the unit 5 s later, whose --replace takes it back.
        await waitFor(() => readStat(replaceOuter) === null || readStat(replaceOuter)!.state === 'Z', 120_000, `the unit's --replace to end the shell gateway ${replace}`);
        let now = 0;
        await waitFor(async () => {
          now = Number((await ns.show(unit, ['MainPID'])).MainPID);
          return now !== 0 && now !== main && innerLockHolder(root) === now && readRecord(root)?.pid === now;
        }, 60_000, 'the restarted unit to own the root home again');
        const { report } = await doctor(['orphans', '--json', '--home', root, '--home', argusHome]);
        expect(verdictOf(report, now).verdict).toBe('supervised');
        expect(verdictOf(report, now).supervisor).toMatchObject({ kind: 'systemd', unit, mainPid: now });
        expect(report.processes.some((p) => p.pid === replace)).toBe(false);
        // Measured: the argus gateway sometimes does not survive v0.15.1's takeovers of the default
        // home (seen in about one run in five); when it does, it is a manual gateway.
        const argusGw = report.processes.find((p) => p.pid === restart);
        if (argusGw) expect(argusGw.verdict).toBe('manual');
      } else {
        // 306e2d2: the shell keeps the home, the unit's `gateway run` exits "already running" every 5 s.
        // Each attempt runs a few seconds before it fails; the loop shows between attempts (RestartSec=5).
        await waitFor(async () => {
          const p = await ns.show(unit, ['NRestarts', 'SubState']);
          return Number(p.NRestarts) >= 2 && p.SubState === 'auto-restart';
        }, 120_000, `${unit} to restart twice and wait in auto-restart (crash loop)`);
        expect(innerLockHolder(root)).toBe(replace);
        // A scan that falls inside an attempt (the gateway runs a few seconds before "already running")
        // sees a running unit; scan again until one falls between attempts (docs/real-hermes.md).
        let code: number | null = null;
        let report = null as unknown as Report;
        await waitFor(async () => {
          ({ code, report } = await doctor(['orphans', '--json', '--home', root, '--home', argusHome]));
          expect(verdictOf(report, replace).verdict).toBe('orphan');
          return report.findings.some((f) => f.code === 'UNIT_CRASH_LOOP');
        }, 90_000, `a scan to report UNIT_CRASH_LOOP for ${unit}`, 200);
        const o = verdictOf(report, replace);
        expect(o.verdict).toBe('orphan');
        expect(o.ppid).toBe(1);
        expect(o.reasons.join(' ')).toContain(unit);
        expect(verdictOf(report, restart).verdict).toBe('manual');
        const loop = report.findings.find((f) => f.code === 'UNIT_CRASH_LOOP')!;
        expect(loop.message).toContain(unit);
        expect(report.units?.find((u) => u.unit === unit)).toBeDefined();
        expect(code).toBeGreaterThanOrEqual(1);

        // --kill ends the shell gateway that holds the home; the unit's next start then owns it.
        const k = await ns.exec(['node', CLI_BIN, 'orphans', '--kill', '--yes', '--json', '--grace', '5', '--pid', String(replace), '--home', root], { timeoutMs: 60_000 });
        const act = (JSON.parse(k.stdout) as Report).actions!.find((a) => a.pid === replace)!;
        expect(['terminated', 'killed']).toContain(act.outcome);
        let now = 0;
        await waitFor(async () => {
          now = Number((await ns.show(unit, ['MainPID'])).MainPID);
          return now !== 0 && innerLockHolder(root) === now && readRecord(root)?.pid === now;
        }, 60_000, `${unit} to own ${root} again after the kill`);
        const after = await doctor(['orphans', '--json', '--home', root]);
        expect(verdictOf(after.report, now).verdict).toBe('supervised');
      }
    }, 300_000);
  },
  { afterAll: teardownAll },
);
