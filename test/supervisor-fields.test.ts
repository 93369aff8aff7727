/**
 * What decides whether a supervisor brings a gateway back, as the real supervisors print it: s6-svstat's
 * `normallyup`, `exitcode` and `updownfor` (Debian's s6), and systemd's UnitFileState, Restart= and
 * SuccessExitStatus= (the namespaced systemd). The slots' and units' commands are stand-ins (`exit 1`,
 * `sleep`): these cases are about what the supervisor reports of any service, not about Hermes.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { execRunner, type CommandRunner } from '../src/sources/runner.js';
import { SVSTAT_FIELDS, SVSTAT_FIELDS_MIN, observeS6, parseSvstatFields } from '../src/sources/supervisors/s6.js';
import { SYSTEMD_PROPS, parseSystemctlShow } from '../src/sources/supervisors/systemd.js';
import { validateSnapshot } from '../src/sources/snapshot-file.js';
import { cleanUpAfterEach } from './harness/cleanup.js';
import { snapshot } from './harness/records.js';
import { startS6Tree, type S6Tree } from './harness/s6.js';
import { makeScratch } from './harness/scratch.js';
import { hasS6, requireOrSkip } from './harness/skip.js';
import { bootSystemd, systemdAvailable, teardownAll, type SystemdNs } from './harness/systemd.js';
import { waitFor } from './harness/processes.js';

cleanUpAfterEach();

describe('s6-svstat -o fields (canned)', () => {
  it('reads the six fields in the order asked, and the three-field form of an older s6', () => {
    expect(parseSvstatFields('false true -1 true 1 0\n')).toEqual({ up: false, wantedUp: true, pid: 0, normallyUp: true, exitCode: 1, upDownForS: 0 });
    expect(parseSvstatFields('true true 4242 false -1 52')).toEqual({ up: true, wantedUp: true, pid: 4242, normallyUp: false, exitCode: -1, upDownForS: 52 });
    expect(parseSvstatFields('true false 77')).toEqual({ up: true, wantedUp: false, pid: 77 });
  });

  it('refuses a shape it does not know rather than guess a field', () => {
    expect(parseSvstatFields('true true 1 maybe 0 0')).toBeNull();
    expect(parseSvstatFields('true true 1 true 0')).toBeNull();
    expect(parseSvstatFields('s6-svstat: fatal: unable to read status')).toBeNull();
  });

  it('an s6-svstat that refuses the newer fields (exit 100) is asked the three every s6 has: the slot stays known', async () => {
    const scratch = makeScratch('svstat-old-');
    const dir = path.join(scratch.dir, 'service', 'gateway-argus');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'run'), '#!/bin/sh\nexec hermes -p argus gateway run --replace\n', { mode: 0o755 });
    const calls: string[] = [];
    const runner: CommandRunner = async (_bin, args) => {
      calls.push(args[1]!);
      if (args[1] === SVSTAT_FIELDS) return { code: 100, stdout: '', stderr: 's6-svstat: fatal: invalid option field: normallyup', error: null };
      return { code: 0, stdout: 'true true 4242\n', stderr: '', error: null };
    };
    const obs = await observeS6({ runner, timeoutMs: 2000, scanDir: path.join(scratch.dir, 'service'), svstat: '/usr/bin/s6-svstat' });
    expect(calls).toEqual([SVSTAT_FIELDS, SVSTAT_FIELDS_MIN]);
    expect(obs.status).toBe('present');
    expect(obs.s6Slots![0]).toMatchObject({ name: 'gateway-argus', up: true, wantedUp: true, pid: 4242, profile: 'argus' });
    expect(obs.s6Slots![0]!.normallyUp).toBeUndefined();
  });
});

describe('snapshot files keep the new supervisor fields', () => {
  it('validates them when present and rejects a mistyped one by its JSON path', () => {
    const good = snapshot({
      supervisors: [
        { kind: 's6', status: 'present', detail: '', s6Slots: [{ name: 'gateway-argus', dir: '/run/service/gateway-argus', up: false, pid: 0, wantedUp: true, hermesHome: null, profile: 'argus', normallyUp: true, exitCode: 1, upDownForS: 0 }] },
      ],
    });
    expect(validateSnapshot(JSON.parse(JSON.stringify(good))).supervisors[0]!.s6Slots![0]!.exitCode).toBe(1);
    const bad = JSON.parse(JSON.stringify(good));
    bad.supervisors[0].s6Slots[0].exitCode = '1';
    expect(() => validateSnapshot(bad, 'bad.json')).toThrow(/supervisors\[0\]\.s6Slots\[0\]\.exitCode: expected an integer/);
  });
});

describe.skipIf(requireOrSkip('s6 (apt-get install -y s6)', hasS6()))('real s6: wanted up, failing, down, down file', () => {
  let tree: S6Tree | null = null;
  afterAll(async () => {
    await tree?.stop();
  });

  /** A slot whose run script is `body`; `down` adds a down file before s6-svscan sees it. */
  function slot(scanDir: string, name: string, body: string, down = false): string {
    const dir = path.join(scanDir, name);
    fs.mkdirSync(dir, { recursive: true });
    if (down) fs.writeFileSync(path.join(dir, 'down'), '');
    fs.writeFileSync(path.join(dir, 'run'), `#!/bin/sh\n# hermes stand-in: ${name}\n${body}\n`, { mode: 0o755 });
    return dir;
  }

  it('reports what the next start will do for each slot', async () => {
    const scratch = makeScratch('s6-fields-');
    const scanDir = path.join(scratch.dir, 'service');
    fs.mkdirSync(scanDir);
    slot(scanDir, 'gateway-failing', 'exit 1');
    slot(scanDir, 'gateway-stopped', 'exec sleep 600');
    slot(scanDir, 'gateway-parked', 'exec sleep 600', true);
    tree = await startS6Tree(scanDir);
    execFileSync('/usr/bin/s6-svscanctl', ['-a', scanDir]);
    const svstat = (name: string) => execFileSync('/usr/bin/s6-svstat', ['-o', 'up,wantedup,exitcode', path.join(scanDir, name)], { encoding: 'utf8' }).trim();
    await waitFor(() => {
      try {
        return svstat('gateway-stopped').startsWith('true') && / 1$/.test(svstat('gateway-failing'));
      } catch {
        return false;
      }
    }, 15_000, 'gateway-stopped up and gateway-failing to have exited 1');
    execFileSync('/usr/bin/s6-svc', ['-d', path.join(scanDir, 'gateway-stopped')]);
    await waitFor(() => svstat('gateway-stopped').startsWith('false false'), 10_000, 'gateway-stopped down');

    const obs = await observeS6({ runner: execRunner, timeoutMs: 5000, scanDir });
    const by = new Map(obs.s6Slots!.map((s) => [s.name, s]));
    // s6 restarts a failing run script every second: wanted up, not up (or up for an instant), last exit 1.
    expect(by.get('gateway-failing')).toMatchObject({ wantedUp: true, normallyUp: true, exitCode: 1 });
    expect(by.get('gateway-failing')!.upDownForS).toBeLessThan(5);
    // s6-svc -d: not wanted up, and it was killed by SIGTERM (s6 prints exitcode -1 for a signal).
    expect(by.get('gateway-stopped')).toMatchObject({ up: false, wantedUp: false, normallyUp: true, exitCode: -1 });
    // A down file: s6-supervise did not start it and does not want it up; the next scan starts it neither.
    expect(by.get('gateway-parked')).toMatchObject({ up: false, wantedUp: false, normallyUp: false });
  }, 60_000);
});

const sd = systemdAvailable();
describe.skipIf(requireOrSkip(`namespaced systemd (${sd.why})`, sd.ok))('real systemd: UnitFileState, Restart=, SuccessExitStatus=', () => {
  let ns: SystemdNs | null = null;
  afterAll(async () => {
    await teardownAll();
  }, 60_000);

  it('shows whether each unit comes back: enabled or not, and on what exits', async () => {
    const common = '[Unit]\nDefaultDependencies=no\n[Service]\nExecStart=/bin/sleep 600\n';
    ns = await bootSystemd({
      units: {
        'hermes-gateway-onfailure.service': `${common}Restart=on-failure\n`,
        'hermes-gateway-enabled.service': `${common}Restart=always\nSuccessExitStatus=75\n[Install]\nWantedBy=multi-user.target\n`,
      },
    });
    const enabled = await ns.systemctl('enable', 'hermes-gateway-enabled.service');
    expect(enabled.code, enabled.stderr).toBe(0);
    const shown = await ns.systemctl('show', ...SYSTEMD_PROPS.map((p) => `--property=${p}`), 'hermes-gateway-enabled.service', 'hermes-gateway-onfailure.service');
    expect(shown.code, shown.stderr).toBe(0);
    const units = new Map(parseSystemctlShow(shown.stdout, 'system').map((u) => [u.unit, u]));
    expect(units.get('hermes-gateway-enabled.service')).toMatchObject({ unitFileState: 'enabled', restart: 'always' });
    expect(units.get('hermes-gateway-enabled.service')!.successExitStatus).toMatch(/\b75\b/);
    // No [Install] section: systemctl calls it static; it starts only when something asks for it.
    expect(units.get('hermes-gateway-onfailure.service')).toMatchObject({ unitFileState: 'static', restart: 'on-failure', successExitStatus: null });
  }, 120_000);
});
