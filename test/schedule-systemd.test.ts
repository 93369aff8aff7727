/**
 * `hermes-doctor schedule install|remove --via systemd` on a real systemd (booted in a namespace by
 * test/harness/systemd.ts, with journald). The real CLI runs INSIDE the namespace: it writes the units
 * into the namespace's private /run/systemd/system (`--unit-dir`, enabled with --runtime so nothing
 * reaches the host's /etc), with `--no-default-dependencies` because this systemd has no sysinit.target
 * (the units generated for real hosts keep their default dependencies: see schedule.test.ts).
 * A stand-in argus gateway runs as hermes-gateway-argus.service; the timer fires every 5 s; the scheduled
 * run's exit status and journal must be what a direct scan says: healthy and silent, then an orphan
 * from a shell (setsid, PPID 1) makes it fail loudly.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLI_BIN as CLI, STANDIN_PYTHONPATH, until } from './harness/processes.js';
import { bootSystemd, nsScratchDir, systemdAvailable, teardownAll, teardownProblems, type SystemdNs } from './harness/systemd.js';
import { ownTeardownProblems } from './harness/foreign-cgroups.js';
import { hasPython3, requireOrSkip } from './harness/skip.js';

const avail = systemdAvailable();
const UNIT_DIR = '/run/systemd/system';

describe.skipIf(requireOrSkip(`real systemd in a namespace (${avail.why}) and python3`, avail.ok && hasPython3()))('schedule --via systemd on a real systemd', () => {
  let ns: SystemdNs | null = null;
  afterAll(async () => {
    await teardownAll();
    if (ns) expect(ownTeardownProblems(teardownProblems(ns))).toEqual([]);
  }, 30_000);

  it('install: the timer runs the check; its exit status and journal follow the scan; remove leaves no unit behind', async () => {
    const dir = nsScratchDir('schedule-');
    const userHome = path.join(dir, 'home');
    const root = path.join(userHome, '.hermes');
    const home = path.join(root, 'profiles', 'argus');
    fs.mkdirSync(home, { recursive: true });
    const env = `"HOME=${userHome}" "PYTHONPATH=${STANDIN_PYTHONPATH}" "STANDIN_TICK_MS=200"`;
    const gatewayUnit = [
      '[Unit]',
      'DefaultDependencies=no',
      '[Service]',
      `Environment=${env}`,
      'ExecStart=/usr/bin/python3 -m hermes_cli.main -p argus gateway run',
      'Restart=always',
      '',
    ].join('\n');
    ns = await bootSystemd({ units: { 'hermes-gateway-argus.service': gatewayUnit }, journal: true });
    const sys = ns;
    const gw = await sys.waitActive('hermes-gateway-argus.service');
    const mainPid = Number(gw.MainPID);
    await until(async () => {
      try {
        return (JSON.parse(fs.readFileSync(path.join(home, 'gateway.pid'), 'utf8')) as { pid: number }).pid === mainPid ? true : null;
      } catch {
        return null;
      }
    }, 10_000, 'the supervised gateway to write gateway.pid');

    // A direct scan inside agrees that the host is healthy.
    const direct0 = await sys.exec(['node', CLI, 'orphans', '--json', '--home', home]);
    expect(direct0.code).toBe(0);

    // print changes nothing.
    const print = await sys.exec(['node', CLI, 'schedule', 'print', '--via', 'systemd', '--every', '5s', '--unit-dir', UNIT_DIR, '--no-default-dependencies', '--home', home]);
    expect(print.code).toBe(0);
    expect(print.stdout).toContain('Type=oneshot');
    expect((await sys.exec(['test', '-e', `${UNIT_DIR}/hermes-doctor.timer`])).code).not.toBe(0);

    const install = await sys.exec(['node', CLI, 'schedule', 'install', '--via', 'systemd', '--every', '5s', '--unit-dir', UNIT_DIR, '--no-default-dependencies', '--home', home]);
    expect(install.stderr).toBe('');
    expect(install.code).toBe(0);
    expect(install.stdout).toContain('enable --runtime --now hermes-doctor.timer');
    expect((await sys.systemctl('is-enabled', 'hermes-doctor.timer')).stdout.trim()).toBe('enabled-runtime');
    expect((await sys.systemctl('is-active', 'hermes-doctor.timer')).stdout.trim()).toBe('active');
    const svcText = (await sys.exec(['cat', `${UNIT_DIR}/hermes-doctor.service`])).stdout;
    expect(svcText).toContain(`ExecStart=${process.execPath} ${CLI} orphans --quiet --home ${home}`);
    expect(svcText).toMatch(/^DefaultDependencies=no$/m);
    // Nothing reached the host's /etc.
    expect(fs.existsSync('/etc/systemd/system/timers.target.wants/hermes-doctor.timer')).toBe(false);

    // The timer fires; a healthy run exits 0 and prints nothing.
    const runProps = ['Result', 'ExecMainStatus', 'ExecMainExitTimestampMonotonic', 'ActiveState'];
    const first = await until(async () => {
      const p = await sys.show('hermes-doctor.service', runProps);
      return p.ExecMainExitTimestampMonotonic && p.ExecMainExitTimestampMonotonic !== '0' && p.ActiveState !== 'activating' ? p : null;
    }, 30_000, 'the first scheduled run');
    expect(first.ExecMainStatus).toBe('0');
    expect(first.Result).toBe('success');
    const journal0 = (await sys.exec(['journalctl', '--no-pager', '-o', 'cat', '-u', 'hermes-doctor.service'])).stdout;
    expect(journal0).toMatch(/Finished hermes-doctor\.service|Deactivated successfully|Succeeded/);
    expect(journal0).not.toMatch(/Findings|No problems found|PID \d+/);

    // An orphan, exactly like the incident: setsid from a shell, reparented to PID 1 inside.
    const orphan = await sys.launchOrphan(['/usr/bin/python3', '-m', 'hermes_cli.main', '-p', 'argus', 'gateway', 'run', '--replace'], {
      HOME: userHome,
      PYTHONPATH: STANDIN_PYTHONPATH,
      STANDIN_STAY_ON_LOCK_BUSY: '1',
      STANDIN_TICK_MS: '200',
    });
    await until(async () => ((await sys.exec(['ls', '-l', `/proc/${orphan}/fd`])).stdout.includes('kanban.db') ? true : null), 10_000, 'the orphan to open kanban.db');
    const direct = await sys.exec(['node', CLI, 'orphans', '--json', '--home', home]);
    const report = JSON.parse(direct.stdout) as { processes: { pid: number; verdict: string }[]; summary: { exitCode: number } };
    expect(report.processes.find((p) => p.pid === orphan)?.verdict).toBe('orphan');
    expect(direct.code).toBe(report.summary.exitCode);
    expect(direct.code).toBeGreaterThan(0);

    const failed = await until(async () => {
      const p = await sys.show('hermes-doctor.service', runProps);
      return p.ExecMainStatus !== '0' && p.ActiveState !== 'activating' ? p : null;
    }, 30_000, 'a scheduled run that sees the orphan');
    expect(failed.ExecMainStatus).toBe(String(direct.code));
    expect(failed.Result).toBe('exit-code');
    expect(failed.ActiveState).toBe('failed');
    const journal = (await sys.exec(['journalctl', '--no-pager', '-o', 'cat', '-u', 'hermes-doctor.service'])).stdout;
    expect(journal).toContain('ORPHAN_GATEWAY');
    expect(journal).toContain(`remedy: hermes-doctor orphans --kill --pid ${orphan}`);
    expect(journal).toMatch(new RegExp(`status=${direct.code}`));

    // A failed run does not stop the timer: it fires again.
    const t1 = (await sys.show('hermes-doctor.timer', ['LastTriggerUSecMonotonic'])).LastTriggerUSecMonotonic;
    await until(async () => ((await sys.show('hermes-doctor.timer', ['LastTriggerUSecMonotonic'])).LastTriggerUSecMonotonic !== t1 ? true : null), 30_000, 'the timer to fire again after a failed run');

    // remove undoes exactly that.
    const remove = await sys.exec(['node', CLI, 'schedule', 'remove', '--via', 'systemd', '--unit-dir', UNIT_DIR]);
    expect(remove.stderr).toBe('');
    expect(remove.code).toBe(0);
    const left = await sys.exec(['sh', '-c', `ls -R ${UNIT_DIR} | grep hermes-doctor || true`]);
    expect(left.stdout.trim()).toBe('');
    for (const u of ['hermes-doctor.timer', 'hermes-doctor.service']) {
      const p = await sys.show(u, ['LoadState', 'ActiveState']);
      expect(p.LoadState).toBe('not-found');
      expect(p.ActiveState).toBe('inactive');
    }
    expect((await sys.systemctl('list-timers', '--all', '--no-legend')).stdout).not.toContain('hermes-doctor');
    // remove is idempotent; the gateway unit is untouched.
    const again = await sys.exec(['node', CLI, 'schedule', 'remove', '--via', 'systemd', '--unit-dir', UNIT_DIR]);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('nothing to remove');
    expect((await sys.show('hermes-gateway-argus.service', ['ActiveState'])).ActiveState).toBe('active');
  }, 150_000);
});
