import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  assertUnitsSafe,
  bootSystemd,
  nsScratchDir,
  systemdAvailable,
  teardownAll,
  teardownProblems,
  type SystemdNs,
} from './harness/systemd.js';
import { ownNewCgroupDirs, ownTeardownProblems } from './harness/foreign-cgroups.js';
import { sleep, until } from './harness/processes.js';
import { requireOrSkip } from './harness/skip.js';

const avail = systemdAvailable();

const GATEWAY_UNIT = `[Unit]
Description=stand-in Hermes gateway
DefaultDependencies=no

[Service]
Type=simple
Restart=always
RestartSec=100ms
ExecStart=/bin/sleep 1000
`;

function cgroupDirs(): Set<string> {
  const out = new Set<string>();
  const walk = (d: string, depth: number): void => {
    let es: fs.Dirent[] = [];
    try {
      es = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of es) {
      if (e.isDirectory() || e.isSymbolicLink()) {
        const p = path.join(d, e.name);
        out.add(p);
        if (e.isDirectory() && depth < 12) walk(p, depth + 1);
      }
    }
  };
  walk('/sys/fs/cgroup', 0);
  return out;
}

function ppidInside(statusText: string): number {
  return Number(/^PPid:\s*(\d+)/m.exec(statusText)?.[1] ?? NaN);
}

describe('systemd harness: refusal needs no systemd', () => {
  it('refuses a unit without DefaultDependencies=no', async () => {
    const bad = { 'hermes-gateway.service': '[Unit]\nDescription=x\n[Service]\nExecStart=/bin/sleep 1000\n' };
    expect(() => assertUnitsSafe(bad)).toThrow(/DefaultDependencies=no/);
    await expect(bootSystemd({ units: bad })).rejects.toThrow(/DefaultDependencies=no/);
    // DefaultDependencies=no outside [Unit] does not count
    expect(() =>
      assertUnitsSafe({ 'a.service': '[Service]\nDefaultDependencies=no\nExecStart=/bin/true\n' }),
    ).toThrow(/DefaultDependencies=no/);
    expect(() => assertUnitsSafe({ 'a.service': GATEWAY_UNIT })).not.toThrow();
  });
});

describe.skipIf(requireOrSkip(`real systemd in a namespace (${avail.why})`, avail.ok))('systemd harness, real systemd in a namespace', () => {
  let ns: SystemdNs;
  let cgBefore: Set<string>;
  let orphan = 0;
  let mainPid1 = 0;
  // a folder under os.tmpdir(): hidden inside by the private /tmp unless bind-mounted
  let hostTmp = '';
  let hostOnly = '';

  beforeAll(async () => {
    hostTmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hermes-doctor-systemd-'));
    fs.writeFileSync(path.join(hostTmp, 'marker'), 'from-host-tmp\n');
    hostOnly = path.join('/tmp', `hermes-doctor-hostonly-${process.pid}`);
    fs.writeFileSync(hostOnly, 'host only\n');
    cgBefore = cgroupDirs();
    ns = await bootSystemd({ units: { 'hermes-gateway.service': GATEWAY_UNIT }, bindPaths: [hostTmp] });
  }, 20000);

  afterAll(async () => {
    await teardownAll();
    if (hostTmp) fs.rmSync(hostTmp, { recursive: true, force: true });
    if (hostOnly) fs.rmSync(hostOnly, { force: true });
  }, 20000);

  it('systemctl show answers MainPID, ControlGroup, ActiveState, NRestarts', async () => {
    const p = await ns.waitActive('hermes-gateway.service');
    const props = await ns.show('hermes-gateway.service', ['MainPID', 'ControlGroup', 'ActiveState', 'NRestarts']);
    expect(props.ActiveState).toBe('active');
    expect(props.ControlGroup).toBe('/system.slice/hermes-gateway.service');
    expect(props.NRestarts).toBe('0');
    mainPid1 = Number(props.MainPID);
    expect(mainPid1).toBeGreaterThan(1);
    expect(p.MainPID).toBe(props.MainPID);
    const cmd = await ns.exec(['cat', `/proc/${mainPid1}/cmdline`]);
    expect(cmd.stdout.split('\0').filter(Boolean)).toEqual(['/bin/sleep', '1000']);
  });

  it("the main process's /proc/PID/cgroup inside names the unit", async () => {
    const lines = await ns.cgroupOf(mainPid1);
    expect(lines.join('\n')).toContain('hermes-gateway.service');
    expect(lines).toContain('0::/system.slice/hermes-gateway.service');
    expect(lines.some((l) => /^\d+:name=systemd:\/system\.slice\/hermes-gateway\.service$/.test(l))).toBe(true);
    // outside, the same process has another PID but the same cgroup (no cgroup namespace)
    const outer = ns.innerToOuterPid(mainPid1);
    expect(outer).not.toBeNull();
    expect(outer).not.toBe(mainPid1);
    expect(fs.readFileSync(`/proc/${outer}/cgroup`, 'utf8')).toContain('0::/system.slice/hermes-gateway.service');
  });

  it('an orphan from launchOrphan has PPID 1 inside and is not in the unit cgroup', async () => {
    orphan = await ns.launchOrphan(['/bin/sleep', '997'], { HERMES_HOME: hostTmp });
    const status = await ns.exec(['cat', `/proc/${orphan}/status`]);
    expect(ppidInside(status.stdout)).toBe(1);
    const cmd = await ns.exec(['cat', `/proc/${orphan}/cmdline`]);
    expect(cmd.stdout.split('\0').filter(Boolean)).toEqual(['/bin/sleep', '997']);
    const env = await ns.exec(['cat', `/proc/${orphan}/environ`]);
    expect(env.stdout.split('\0')).toContain(`HERMES_HOME=${hostTmp}`);
    const lines = await ns.cgroupOf(orphan);
    expect(lines.join('\n')).not.toContain('hermes-gateway.service');
    expect(lines.join('\n')).not.toContain('system.slice');
    const main = await ns.show('hermes-gateway.service', ['MainPID']);
    expect(Number(main.MainPID)).not.toBe(orphan);
    // its outer PID maps back
    const outer = ns.innerToOuterPid(orphan);
    expect(outer).not.toBeNull();
    expect(fs.readFileSync(`/proc/${outer}/cmdline`, 'utf8')).toBe('/bin/sleep\u0000997\u0000');
  });

  it('systemctl restart changes MainPID, and the orphan survives', async () => {
    const r = await ns.systemctl('restart', 'hermes-gateway.service');
    expect(r.code).toBe(0);
    const p = await ns.waitActive('hermes-gateway.service');
    expect(Number(p.MainPID)).toBeGreaterThan(1);
    expect(Number(p.MainPID)).not.toBe(mainPid1);
    const alive = await ns.exec(['kill', '-0', String(orphan)]);
    expect(alive.code).toBe(0);
    const status = await ns.exec(['cat', `/proc/${orphan}/status`]);
    expect(ppidInside(status.stdout)).toBe(1);
  });

  it('Restart=always restarts a killed main process and counts NRestarts', async () => {
    const { MainPID } = await ns.show('hermes-gateway.service', ['MainPID']);
    await ns.exec(['kill', '-9', MainPID!]);
    const props = await until(
      async () => {
        const p = await ns.show('hermes-gateway.service', ['MainPID', 'ActiveState', 'NRestarts']);
        return p.NRestarts === '0' || p.ActiveState !== 'active' || p.MainPID === MainPID || p.MainPID === '0' ? null : p;
      },
      5000,
      'the unit to restart with a new MainPID',
      50,
    );
    expect(props.NRestarts).toBe('1');
    expect(props.ActiveState).toBe('active');
    expect(props.MainPID).not.toBe(MainPID);
  });

  it('paths under os.tmpdir() are visible inside only through bindPaths; /tmp is private', async () => {
    const seen = await ns.exec(['cat', path.join(hostTmp, 'marker')]);
    expect(seen.stdout).toBe('from-host-tmp\n');
    const ls = await ns.exec(['ls', '-A', '/tmp']);
    // only the parents of bind targets exist in the private /tmp: a host-only file there is not visible
    expect(ls.stdout.trim().split('\n')).toContain(path.relative('/tmp', hostTmp).split('/')[0]);
    expect(ls.stdout).not.toContain(path.basename(hostOnly));
    expect((await ns.exec(['test', '-e', hostOnly])).code).not.toBe(0);
    const scratch = nsScratchDir();
    fs.writeFileSync(path.join(scratch, 'x'), 'scratch\n');
    expect((await ns.exec(['cat', path.join(scratch, 'x')])).stdout).toBe('scratch\n');
    // the repo itself is visible as is
    expect((await ns.exec(['test', '-f', path.resolve('package.json')], { cwd: process.cwd() })).code).toBe(0);
  });

  it('sysinit.target is masked: a transient unit with default dependencies cannot start', async () => {
    const bad = await ns.exec(['systemd-run', '--unit=hermes-dd-yes', '/bin/sleep', '100']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/masked|sysinit/i);
    const good = await ns.exec(['systemd-run', '--unit=hermes-dd-no', '-p', 'DefaultDependencies=no', '/bin/sleep', '100']);
    expect(good.code).toBe(0);
    const p = await ns.waitActive('hermes-dd-no.service');
    expect(p.ControlGroup).toBe('/system.slice/hermes-dd-no.service');
  });

  it('a command can run inside a cgroup: systemd-run --scope, and moveIntoUnitCgroup', async () => {
    const scope = await ns.exec(['systemd-run', '--quiet', '--scope', '--unit=hermes-probe', '--slice=hermes.slice', 'cat', '/proc/self/cgroup']);
    expect(scope.code).toBe(0);
    expect(scope.stdout).toContain('0::/hermes.slice/hermes-probe.scope');
    const exit3 = await ns.exec(['systemd-run', '--quiet', '--scope', 'sh', '-c', 'exit 3']);
    expect(exit3.code).toBe(3);

    const extra = await ns.launchOrphan(['/bin/sleep', '996']);
    await ns.moveIntoUnitCgroup(extra, 'hermes-gateway.service');
    const lines = await ns.cgroupOf(extra);
    expect(lines).toContain('0::/system.slice/hermes-gateway.service');
    // systemctl status lists the unit cgroup's processes as systemd reads them; give it a bounded
    // number of looks (it can read the cgroup mid-realization right after the restart test) and keep
    // the last output for the failure message.
    let status = '';
    for (let i = 0; i < 50 && !status.includes(`${extra} /bin/sleep 996`); i++) {
      if (i > 0) await sleep(100);
      status = (await ns.systemctl('status', 'hermes-gateway.service')).stdout;
    }
    expect(status, `systemctl status after moving PID ${extra}:\n${status}`).toContain(`${extra} /bin/sleep 996`);
    const { MainPID } = await ns.show('hermes-gateway.service', ['MainPID']);
    expect(Number(MainPID)).not.toBe(extra);
    await ns.systemctl('restart', 'hermes-gateway.service');
    await ns.waitActive('hermes-gateway.service');
    expect((await ns.exec(['kill', '-0', String(extra)])).code).not.toBe(0); // killed with the unit's cgroup
  });

  it('without journal: true there is no journal (systemd logs to null, journald not started)', async () => {
    const r = await ns.exec(['journalctl', '--no-pager', '-u', 'hermes-gateway.service']);
    expect(r.stdout + r.stderr).toMatch(/No entries|No journal files/);
  });

  it('journal: true gives journalctl -u UNIT with the unit output and systemd lines, on private tmpfs', async () => {
    const j = await bootSystemd({
      units: {
        'hermes-echo.service':
          '[Unit]\nDefaultDependencies=no\n[Service]\nExecStart=/bin/sh -c "echo hello-from-unit; exec sleep 1000"\n',
      },
      journal: true,
    });
    try {
      await j.systemctl('restart', 'hermes-echo.service'); // the first start predates journald
      await j.waitActive('hermes-echo.service');
      let out = '';
      for (let i = 0; i < 40 && !out.includes('hello-from-unit'); i++) {
        await sleep(50);
        out = (await j.exec(['journalctl', '--no-pager', '-u', 'hermes-echo.service'])).stdout;
      }
      expect(out).toContain('hello-from-unit');
      expect(out).toContain('Started hermes-echo.service');
      const fs1 = await j.exec(['findmnt', '-n', '-o', 'FSTYPE', '--target', '/var/log/journal']);
      expect(fs1.stdout.trim()).toBe('tmpfs');
    } finally {
      await j.teardown();
    }
    expect(ownTeardownProblems(teardownProblems(j))).toEqual([]);
  });

  it('teardown leaves no process and no new cgroup dirs', async () => {
    const outerSystemd = ns.pid;
    const outerOrphan = ns.innerToOuterPid(orphan);
    expect(outerOrphan).not.toBeNull();
    await ns.teardown();
    await ns.teardown(); // idempotent
    expect(ownTeardownProblems(teardownProblems(ns))).toEqual([]);
    expect(fs.existsSync(`/proc/${outerSystemd}`)).toBe(false);
    expect(fs.existsSync(`/proc/${outerOrphan}`)).toBe(false);
    const after = cgroupDirs();
    const added = [...after].filter((d) => !cgBefore.has(d));
    expect(await ownNewCgroupDirs(added)).toEqual([]);
    expect(fs.existsSync(ns.unitDir)).toBe(false);
    await expect(ns.exec(['true'])).rejects.toThrow(/torn down/);
  });
});
