/**
 * `hermes-doctor guard` on a REAL systemd (booted in a namespace by test/harness/systemd.ts); the CLI
 * runs inside the namespace. A shell (nsenter, outside every unit) is refused for the argus unit's home
 * and told `systemctl restart hermes-gateway-argus.service`; the same guard run as the ExecStartPre of a
 * unit (inside its cgroup, with systemd's own INVOCATION_ID) is allowed and the unit starts; `--force`
 * proceeds with a warning; once the incident's orphan exists, even a caller inside the unit is refused
 * with the `hermes-doctor orphans --kill` remedy; and the bash/zsh/fish hooks stop `hermes -p argus
 * gateway run` before it starts, so the orphan is never created.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GuardDecision } from '../src/core/guard.js';
import { parseGuardV1 } from './guard-contract.js';
import { CLI_BIN as CLI, REPO_ROOT, STANDIN_PYTHONPATH, until } from './harness/processes.js';
import { ownTeardownProblems } from './harness/foreign-cgroups.js';
import { hasBinary, hasPython3, requireOrSkip } from './harness/skip.js';
import { bootSystemd, nsScratchDir, systemdAvailable, teardownAll, teardownProblems, type SystemdNs } from './harness/systemd.js';

const avail = systemdAvailable();
const NODE = process.execPath;
const PY = '/usr/bin/python3';
const builtCli = fs.existsSync(path.join(REPO_ROOT, 'dist', 'cli.js'));

const runnable = avail.ok && hasPython3() && builtCli;
const shells = ['bash', 'zsh', 'fish'] as const;

describe.skipIf(requireOrSkip(`real systemd in a namespace (${avail.why}), python3 and a built dist/`, runnable))('guard on a real systemd', () => {
  let ns: SystemdNs;
  const dir = runnable ? nsScratchDir('guard-') : '/nonexistent';
  const userHome = path.join(dir, 'home');
  const root = path.join(userHome, '.hermes');
  const argus = path.join(root, 'profiles', 'argus');
  const guarded = path.join(root, 'profiles', 'guarded');
  const preJson = path.join(dir, 'pre.json');
  const env = { HOME: userHome, PYTHONPATH: STANDIN_PYTHONPATH, STANDIN_TICK_MS: '200', LANG: 'C.UTF-8', NO_COLOR: '1' };
  const envLine = (extra: Record<string, string> = {}) =>
    `Environment=${Object.entries({ ...env, ...extra }).map(([k, v]) => `"${k}=${v}"`).join(' ')}`;
  let orphan = 0;

  const guard = (args: string[], extraEnv: Record<string, string> = {}) => ns.exec([NODE, CLI, 'guard', ...args], { env: { ...env, ...extraEnv }, timeoutMs: 30_000 });

  beforeAll(async () => {
    fs.mkdirSync(argus, { recursive: true });
    fs.mkdirSync(guarded, { recursive: true });
    ns = await bootSystemd({
      units: {
        'hermes-gateway-argus.service': [
          '[Unit]', 'DefaultDependencies=no', '[Service]', envLine({ HERMES_HOME: argus }),
          `ExecStart=${PY} -m hermes_cli.main --profile argus gateway run`, 'Restart=always', 'RestartSec=200ms', '',
        ].join('\n'),
        // The guard as ExecStartPre: inside the unit's cgroup, as systemd runs it; a refusal fails the start.
        'hermes-gateway-guarded.service': [
          '[Unit]', 'DefaultDependencies=no', '[Service]', envLine({ HERMES_HOME: guarded }),
          `ExecStartPre=/bin/sh -c '${NODE} ${CLI} guard --json > ${preJson}.tmp; echo "exit=$$?" >> ${preJson}.tmp; mv ${preJson}.tmp ${preJson}'`,
          `ExecStart=${PY} -m hermes_cli.main -p guarded gateway run`, 'Restart=always', 'RestartSec=200ms', '',
        ].join('\n'),
      },
    });
  }, 60_000);

  afterAll(async () => {
    const n = ns;
    await teardownAll();
    if (n) expect(ownTeardownProblems(teardownProblems(n))).toEqual([]);
  }, 30_000);

  it('refuses from a shell outside the unit (exit 1) and names the unit and `systemctl restart UNIT`; INVOCATION_ID does not fool it', async () => {
    const { MainPID } = await ns.waitActive('hermes-gateway-argus.service', 20_000);
    const r = await guard(['--', 'hermes', '-p', 'argus', 'gateway', 'run', '--replace'], { INVOCATION_ID: 'set-by-a-desktop-terminal' });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`REFUSED: hermes -p argus gateway run --replace for ${argus} (argv -p argus)`);
    expect(r.stderr).toContain(`hermes-gateway-argus.service (systemd, active/running, MainPID ${MainPID}) supervises ${argus}`);
    expect(r.stderr).toContain('is not in /system.slice/hermes-gateway-argus.service');
    expect(r.stderr).toContain('INVOCATION_ID is set but proves nothing');
    expect(r.stderr).toContain('systemctl restart hermes-gateway-argus.service');
    const j = await guard(['--json', '--profile', 'argus']);
    const d = parseGuardV1<GuardDecision>(j.stdout);
    expect(d).toMatchObject({ allowed: false, exitCode: 1, inside: null, remedies: ['systemctl restart hermes-gateway-argus.service'] });
    expect(j.code).toBe(1);
  }, 60_000);

  it('allows from inside the unit: the guard as ExecStartPre (the unit’s cgroup) says allowed, and the unit starts', async () => {
    await ns.waitActive('hermes-gateway-guarded.service', 30_000);
    const text = await until(() => (fs.existsSync(preJson) ? fs.readFileSync(preJson, 'utf8') : null), 30_000, 'the ExecStartPre guard to answer');
    expect(text).toContain('exit=0');
    const d = parseGuardV1<GuardDecision>(text.slice(0, text.lastIndexOf('exit=')));
    expect(d.target).toMatchObject({ home: guarded, source: 'env HERMES_HOME' });
    expect(d.inside).toMatchObject({ kind: 'systemd', unit: 'hermes-gateway-guarded.service' });
    expect(d.inside!.via).toContain('/system.slice/hermes-gateway-guarded.service');
    expect(d.allowed).toBe(true);
    // and the same question from a shell is refused
    const r = await guard(['--home', guarded]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('systemctl restart hermes-gateway-guarded.service');
  }, 60_000);

  it('--force turns the refusal into a warning and runs COMMAND, passing its exit code through', async () => {
    const r = await guard(['--force', '--profile', 'argus', '--', '/bin/sh', '-c', 'echo forced-ran; exit 4']);
    expect(r.stderr).toContain('WARNING (--force)');
    expect(r.stderr).toContain('systemctl restart hermes-gateway-argus.service');
    expect(r.stdout).toContain('forced-ran');
    expect(r.code).toBe(4);
  }, 60_000);

  it('with the incident’s orphan present, even a caller inside the unit is refused and told `hermes-doctor orphans --kill`', async () => {
    orphan = await ns.launchOrphan([PY, '-m', 'hermes_cli.main', 'gateway', 'restart', '--profile', 'argus'], { ...env, STANDIN_STAY_ON_LOCK_BUSY: '1' });
    await until(async () => ((await ns.exec(['test', '-e', `/proc/${orphan}`])).code === 0 ? true : null), 5000, 'the orphan');
    // A shell moved into the unit's cgroup (what systemd does for ExecStartPre), which then runs the guard.
    const { ControlGroup: cg } = await ns.show('hermes-gateway-argus.service', ['ControlGroup']);
    const move = ['/sys/fs/cgroup/systemd', '/sys/fs/cgroup/unified', '/sys/fs/cgroup']
      .map((h) => `if [ -e ${h}${cg}/cgroup.procs ]; then echo $$ > ${h}${cg}/cgroup.procs; fi`)
      .join('; ');
    const r = await ns.exec(['/bin/sh', '-c', `${move}; exec ${NODE} ${CLI} guard --json --profile argus`], { env, timeoutMs: 30_000 });
    const d = parseGuardV1<GuardDecision>(r.stdout);
    expect(d.inside).toMatchObject({ unit: 'hermes-gateway-argus.service' });
    expect(d.rivals.map((x) => x.pid)).toEqual([orphan]);
    expect(d.rivals[0]).toMatchObject({ verdict: 'orphan', role: 'gateway', home: argus });
    expect(d.remedies).toEqual([`hermes-doctor orphans --kill --pid ${orphan}`]);
    expect(r.code).toBe(1);
    // From a shell: both problems, the kill remedy first, then the supervised restart.
    const s = await guard(['--profile', 'argus']);
    expect(s.code).toBe(1);
    expect(s.stderr).toContain(`PID ${orphan} orphan gateway`);
    expect(s.stderr.indexOf(`hermes-doctor orphans --kill --pid ${orphan}`)).toBeLessThan(s.stderr.indexOf('systemctl restart hermes-gateway-argus.service'));
    // A sibling profile shares the kanban root: the orphan is a rival writer there too.
    const sib = parseGuardV1<GuardDecision>((await guard(['--json', '--profile', 'guarded'])).stdout);
    expect(sib.rivals.map((x) => x.pid)).toEqual([orphan]);
    expect(sib.rivals[0]!.why).toContain(`same kanban root ${root}`);
  }, 60_000);

  describe.skipIf(requireOrSkip('bash, zsh and fish (apt-get install -y zsh fish)', shells.every((x) => hasBinary(x))))('shell hooks inside the namespace', () => {
  for (const sh of shells) {
    it(`${sh} hook: \`hermes -p argus gateway run --replace\` from a shell is stopped before it starts (exit 1); \`hermes status\` runs`, async () => {
      const bin = path.join(dir, `bin-${sh}`);
      fs.mkdirSync(bin, { recursive: true });
      const log = path.join(dir, `hermes-${sh}.log`);
      fs.writeFileSync(path.join(bin, 'hermes'), `#!/bin/sh\necho "$*" >> ${log}\n`, { mode: 0o755 });
      const hook = path.join(dir, `hook.${sh}`);
      const printed = await guard(['--shell-hook', sh]);
      expect(printed.code).toBe(0);
      fs.writeFileSync(hook, printed.stdout);
      const args = { bash: ['--norc', '--noprofile', '-c'], zsh: ['-f', '-c'], fish: ['--no-config', '-c'] }[sh];
      const status = sh === 'fish' ? '$status' : '$?';
      const r = await ns.exec([`/usr/bin/${sh}`, ...args, `source ${hook}; hermes -p argus gateway run --replace; echo "guarded=${status}"; hermes status; echo "plain=${status}"`], {
        env: { ...env, PATH: `${bin}:/usr/local/bin:/usr/bin:/bin` },
        timeoutMs: 60_000,
      });
      expect(r.stdout).toContain('guarded=1');
      expect(r.stdout).toContain('plain=0');
      expect(r.stderr).toContain('REFUSED');
      expect(r.stderr).toContain('systemctl restart hermes-gateway-argus.service');
      expect(fs.readFileSync(log, 'utf8').trim().split('\n')).toEqual(['status']);
    }, 90_000);
  }
  });
});
