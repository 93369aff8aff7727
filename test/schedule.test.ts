/**
 * `hermes-doctor schedule`: the generators (systemd units checked by `systemd-analyze verify`, the cron
 * line, the launchd plist parsed by Python's plistlib), the real `crontab` (in a private mount
 * namespace whose /var/spool/cron/crontabs is a tmpfs, so the machine's crontabs are never touched),
 * `flock -n` keeping runs from overlapping, and launchd install/remove through an injected runner
 * (launchctl cannot run here). The real-systemd install is in schedule-systemd.test.ts.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { checkArgv, parseEvery, systemdSpan, type Program, type ScheduleSpec } from '../src/actions/schedule/job.js';
import { addToCrontab, cronSchedule, generateCronLine, hostOffset, isManagedLine, removeFromCrontab } from '../src/actions/schedule/cron.js';
import { LAUNCHD_LABEL, generatePlist, installLaunchd, plistPath, removeLaunchd } from '../src/actions/schedule/launchd.js';
import type { ActionRunner } from '../src/actions/schedule/command-runner.js';
import { accuracySec, generateSystemdUnits, randomizedDelaySec, runtimeFlag, systemdQuote } from '../src/actions/schedule/systemd.js';
import { runCli } from './harness/cli.js';
import { REPO_ROOT, killAll, startProcess, waitFor } from './harness/processes.js';
import { cleanupAllScratch, makeScratch } from './harness/scratch.js';
import { hasBinary, hasPython3, isRoot, requireOrSkip } from './harness/skip.js';

const PROGRAM: Program = { node: process.execPath, cli: path.join(REPO_ROOT, 'bin', 'hermes-doctor.js') };
const CLI = PROGRAM.cli;
const spec = (over: Partial<ScheduleSpec> = {}): ScheduleSpec => ({ everySec: 900, kill: false, ...over });

afterEach(async () => {
  await killAll();
});
afterAll(() => cleanupAllScratch());

describe('intervals', () => {
  it('parses 15m, 5s, 1h, 1h30m, 90 and rejects nonsense', () => {
    expect(parseEvery('15m')).toBe(900);
    expect(parseEvery('5s')).toBe(5);
    expect(parseEvery('1h')).toBe(3600);
    expect(parseEvery('1h30m')).toBe(5400);
    expect(parseEvery('90')).toBe(90);
    expect(parseEvery('2 min')).toBe(120);
    for (const bad of ['', '0', '0s', 'soon', '5 parsecs', '-5m']) expect(() => parseEvery(bad)).toThrow(/--every/);
    expect(systemdSpan(900)).toBe('15min');
    expect(systemdSpan(5)).toBe('5s');
    expect(systemdSpan(7200)).toBe('2h');
    expect(systemdSpan(90)).toBe('90s');
  });

  it('the scheduled command: orphans --quiet with absolute paths; --kill passes --kill --yes', () => {
    expect(checkArgv(spec(), PROGRAM)).toEqual([process.execPath, CLI, 'orphans', '--quiet']);
    expect(checkArgv(spec({ kill: true, textfileDir: '/var/lib/prom', homes: ['/root/.hermes'] }), PROGRAM)).toEqual([
      process.execPath, CLI, 'orphans', '--quiet', '--kill', '--yes', '--textfile-dir', '/var/lib/prom', '--home', '/root/.hermes',
    ]);
  });
});

describe('systemd units', () => {
  it('service is Type=oneshot running orphans --quiet; timer has OnBootSec, OnUnitActiveSec, RandomizedDelaySec, Persistent', () => {
    const u = generateSystemdUnits(spec({ kill: true }), PROGRAM, { scope: 'system' });
    const svc = u['hermes-doctor.service']!;
    const tim = u['hermes-doctor.timer']!;
    expect(svc).toMatch(/^Type=oneshot$/m);
    expect(svc).toContain(`ExecStart=${process.execPath} ${CLI} orphans --quiet --kill --yes\n`);
    expect(tim).toMatch(/^OnUnitActiveSec=15min$/m);
    expect(tim).toMatch(/^OnBootSec=5min$/m);
    expect(tim).toMatch(/^RandomizedDelaySec=90s$/m);
    expect(tim).toMatch(/^Persistent=true$/m);
    expect(tim).toMatch(/^Unit=hermes-doctor\.service$/m);
    expect(tim).toMatch(/^WantedBy=timers\.target$/m);
    // Real hosts keep default dependencies; only the test-namespace option drops them.
    expect(svc + tim).not.toMatch(/DefaultDependencies/);
    const t = generateSystemdUnits(spec(), PROGRAM, { scope: 'system', defaultDependencies: false });
    expect(t['hermes-doctor.service']).toMatch(/^\[Unit\][^[]*^DefaultDependencies=no$/m);
    expect(t['hermes-doctor.timer']).toMatch(/^\[Unit\][^[]*^DefaultDependencies=no$/m);
    expect(randomizedDelaySec(5)).toBe(0);
    expect(randomizedDelaySec(86400)).toBe(300);
    expect(accuracySec(5)).toBe(1);
    expect(accuracySec(3600)).toBe(60);
    expect(runtimeFlag({ unitDir: '/run/systemd/system' })).toEqual(['--runtime']);
    expect(runtimeFlag({ unitDir: '/etc/systemd/system' })).toEqual([]);
  });

  it('ExecStart words with spaces, %, $ and quotes are quoted and escaped (systemd.service(5))', () => {
    expect(systemdQuote('/opt/my tools/node')).toBe('"/opt/my tools/node"');
    expect(systemdQuote('50%')).toBe('50%%');
    expect(systemdQuote('$HOME')).toBe('"$$HOME"');
    expect(systemdQuote('a"b')).toBe('"a\\"b"');
  });

  it.skipIf(requireOrSkip('systemd-analyze (Debian systemd package)', hasBinary('systemd-analyze')))('systemd-analyze verify accepts both units without a warning', () => {
    const dir = makeScratch().dir;
    const units = generateSystemdUnits(spec({ textfileDir: '/var/lib/prometheus/node-exporter', homes: ['/srv/my hermes/.hermes'] }), PROGRAM, { scope: 'system' });
    for (const [n, t] of Object.entries(units)) fs.writeFileSync(path.join(dir, n), t);
    const r = spawnSync('systemd-analyze', ['verify', path.join(dir, 'hermes-doctor.service'), path.join(dir, 'hermes-doctor.timer')], { encoding: 'utf8', timeout: 20_000 });
    expect(r.stderr).not.toMatch(/ignoring|Unknown|Failed|bad/i);
    expect(r.status).toBe(0);
    // The checker can fail: a broken timer value is reported.
    fs.writeFileSync(path.join(dir, 'hermes-doctor.timer'), units['hermes-doctor.timer']!.replace('OnUnitActiveSec=15min', 'OnUnitActiveSec=15 parsecs'));
    const bad = spawnSync('systemd-analyze', ['verify', path.join(dir, 'hermes-doctor.timer')], { encoding: 'utf8', timeout: 20_000 });
    expect(bad.stderr).toMatch(/Failed to parse/);
  });

  it('schedule print --via systemd shows the units and writes nothing', async () => {
    const dir = path.join(makeScratch().dir, 'units');
    const r = await runCli(['schedule', 'print', '--via', 'systemd', '--every', '10m', '--unit-dir', dir]);
    expect(r.code).toBe(0);
    expect(r.out).toContain(`# ---- ${dir}/hermes-doctor.service`);
    expect(r.out).toContain('OnUnitActiveSec=10min');
    expect(fs.existsSync(dir)).toBe(false);
  });
});

describe('cron line', () => {
  it('time fields for minutes, hours and a day; sub-minute intervals are refused', () => {
    expect(cronSchedule(60)).toBe('* * * * *');
    expect(cronSchedule(900)).toBe('0-59/15 * * * *');
    expect(cronSchedule(900, 'web-1')).toBe(`${hostOffset('web-1', 15)}-59/15 * * * *`);
    expect(cronSchedule(7200)).toBe('0 0-23/2 * * *');
    expect(cronSchedule(86400)).toBe('0 0 * * *');
    expect(() => cronSchedule(5)).toThrow(/whole minutes.*--via systemd/);
    expect(() => cronSchedule(90)).toThrow(/whole minutes/);
    expect(() => cronSchedule(5 * 3600)).toThrow(/evenly/);
    // A fleet is spread: offsets differ between hosts, and stay within the interval.
    const offs = new Set(['a', 'b', 'c', 'd', 'e', 'f'].map((h) => hostOffset(h, 15)));
    expect(offs.size).toBeGreaterThan(1);
    for (const o of offs) expect(o).toBeLessThan(15);
  });

  it('one flock -n guarded line with absolute paths, % escaped, our marker; other lines kept on add and remove', () => {
    const line = generateCronLine(spec({ textfileDir: '/srv/50%/prom' }), PROGRAM, { flock: '/usr/bin/flock', lockFile: '/run/lock/hermes-doctor.lock' });
    expect(line).toBe(`0-59/15 * * * * /usr/bin/flock -n /run/lock/hermes-doctor.lock ${process.execPath} ${CLI} orphans --quiet --textfile-dir /srv/50\\%/prom # hermes-doctor-schedule`);
    expect(isManagedLine(line)).toBe(true);
    const existing = 'MAILTO=ops@example.com\n# nightly\n17 3 * * * /usr/local/bin/backup.sh\n';
    const added = addToCrontab(existing, line);
    expect(added).toBe(existing + line + '\n');
    expect(addToCrontab(added, line)).toBe(added); // replaced, not duplicated
    expect(removeFromCrontab(added)).toBe(existing);
    expect(removeFromCrontab(line + '\n')).toBe('');
    expect(addToCrontab('', line)).toBe(line + '\n');
  });
});

/** A private mount namespace whose crontab spool is an empty tmpfs: the real crontab(1) without touching the machine's crontabs. */
async function crontabNamespace() {
  const holder = startProcess(['unshare', '--mount', '--propagation', 'private', 'sleep', '600']);
  await waitFor(() => {
    try {
      return fs.readlinkSync(`/proc/${holder.pid}/ns/mnt`) !== fs.readlinkSync('/proc/self/ns/mnt') && fs.readFileSync(`/proc/${holder.pid}/comm`, 'utf8').trim() === 'sleep';
    } catch {
      return false;
    }
  }, 5000, 'the mount namespace');
  const inNs = (argv: string[], input?: string) =>
    spawnSync('nsenter', ['-t', String(holder.pid), '-m', '--', ...argv], { encoding: 'utf8', input, timeout: 60_000, env: { ...process.env, NO_COLOR: '1' } });
  const mnt = inNs(['sh', '-c', 'mount -t tmpfs -o mode=1730 tmpfs /var/spool/cron/crontabs && chgrp crontab /var/spool/cron/crontabs']);
  if (mnt.status !== 0) throw new Error(`cannot mount the private crontab spool: ${mnt.stderr}`);
  return { holder, inNs };
}

const cronReady = isRoot() && hasBinary('crontab') && hasBinary('nsenter') && hasBinary('unshare') && fs.existsSync('/var/spool/cron/crontabs');
describe.skipIf(requireOrSkip('root, crontab (apt-get install cron), unshare and nsenter', cronReady))('cron with the real crontab and flock', () => {
  it('install puts one line next to the existing ones; install again replaces it; remove restores the table exactly', async () => {
    const hostSpool = fs.readdirSync('/var/spool/cron/crontabs').sort();
    const { inNs } = await crontabNamespace();
    const existing = 'MAILTO=ops@example.com\n# nightly backup\n17 3 * * * /usr/local/bin/backup.sh\n';
    expect(inNs(['crontab', '-'], existing).status).toBe(0);
    expect(inNs(['crontab', '-l']).stdout).toBe(existing);

    const install = inNs([process.execPath, CLI, 'schedule', 'install', '--via', 'cron', '--every', '5m', '--lock-file', '/run/lock/hd-test.lock']);
    expect(install.stderr).toBe('');
    expect(install.status).toBe(0);
    expect(install.stdout).toContain('added the hermes-doctor line');
    const after = inNs(['crontab', '-l']).stdout;
    const lines = after.trimEnd().split('\n');
    expect(lines.slice(0, 3).join('\n') + '\n').toBe(existing);
    expect(lines).toHaveLength(4);
    expect(lines[3]).toMatch(new RegExp(`^\\d+-59/5 \\* \\* \\* \\* /usr/bin/flock -n /run/lock/hd-test.lock ${process.execPath} ${CLI} orphans --quiet # hermes-doctor-schedule$`));

    const again = inNs([process.execPath, CLI, 'schedule', 'install', '--via', 'cron', '--every', '10m', '--lock-file', '/run/lock/hd-test.lock']);
    expect(again.status).toBe(0);
    expect(again.stdout).toContain('replaced');
    const after2 = inNs(['crontab', '-l']).stdout.trimEnd().split('\n');
    expect(after2).toHaveLength(4);
    expect(after2[3]).toMatch(/-59\/10 /);

    const remove = inNs([process.execPath, CLI, 'schedule', 'remove', '--via', 'cron']);
    expect(remove.status).toBe(0);
    expect(inNs(['crontab', '-l']).stdout).toBe(existing);
    const none = inNs([process.execPath, CLI, 'schedule', 'remove', '--via', 'cron']);
    expect(none.status).toBe(0);
    expect(none.stdout).toContain('nothing to remove');
    // The machine's own crontab spool was never touched.
    expect(fs.readdirSync('/var/spool/cron/crontabs').sort()).toEqual(hostSpool);
  });

  it.skipIf(requireOrSkip('flock (util-linux) and python3', hasBinary('flock') && hasPython3()))('runs never overlap: while a run holds the flock, the next one exits at once without scanning', async () => {
    const scratch = makeScratch();
    const root = scratch.root();
    const prom = path.join(scratch.dir, 'textfile');
    fs.mkdirSync(prom);
    const lock = path.join(scratch.dir, 'schedule.lock');
    const line = generateCronLine(spec({ everySec: 60, textfileDir: prom, homes: [root], s6ScanDir: '/nonexistent/hd-no-s6' }), PROGRAM, { flock: '/usr/bin/flock', lockFile: lock });
    const command = line.split(' ').slice(5).join(' '); // what cron hands to /bin/sh
    const runAsCron = () => spawnSync('/bin/sh', ['-c', command], { encoding: 'utf8', timeout: 60_000 });

    // A run in progress holds the lock: one process holding flock(LOCK_EX) on the file, as flock(1) does for a run.
    const running = startProcess(['python3', '-c', 'import fcntl,sys,time; f=open(sys.argv[1],"a"); fcntl.flock(f, fcntl.LOCK_EX); time.sleep(60)', lock]);
    await waitFor(() => spawnSync('flock', ['-n', lock, 'true']).status === 1, 5000, 'the lock to be held');
    const t0 = Date.now();
    const skipped = runAsCron();
    expect(skipped.status).toBe(1); // flock -n: conflict
    expect(skipped.stdout + skipped.stderr).toBe('');
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(fs.existsSync(path.join(prom, 'hermes_doctor.prom'))).toBe(false); // no scan ran
    await running.stop();

    // Lock free: the run scans (quiet: healthy, nothing printed) and writes its metrics.
    const ran = runAsCron();
    expect(ran.stdout + ran.stderr).toBe('');
    expect(ran.status).toBe(0);
    expect(fs.readFileSync(path.join(prom, 'hermes_doctor.prom'), 'utf8')).toMatch(/^hermes_doctor_exit_code 0$/m);

    // Three runs started together by cron: the job's node is a wrapper that logs start and end around a
    // slow run, so overlapping runs would show interleaved lines.
    const log = path.join(scratch.dir, 'runs.log');
    const slowNode = path.join(scratch.dir, 'slow-node.sh');
    fs.writeFileSync(slowNode, `#!/bin/sh\necho "start $$" >> ${log}\nsleep 1\n${process.execPath} "$@"\nrc=$?\necho "end $$" >> ${log}\nexit $rc\n`, { mode: 0o755 });
    const slowLine = generateCronLine(spec({ everySec: 60, textfileDir: prom, homes: [root], s6ScanDir: '/nonexistent/hd-no-s6' }), { node: slowNode, cli: CLI }, { flock: '/usr/bin/flock', lockFile: lock });
    const slowCommand = slowLine.split(' ').slice(5).join(' ');
    const codes = await Promise.all(
      [0, 1, 2].map(
        () =>
          new Promise<number | null>((resolve) => {
            const p = startProcess(['/bin/sh', '-c', slowCommand]);
            void p.exited!.then((e) => resolve(e.code));
          }),
      ),
    );
    const entries = fs.readFileSync(log, 'utf8').trim().split('\n');
    // Exactly one run went through (the others found the lock held and exited 1 at once), and it was whole.
    expect(codes.sort()).toEqual([0, 1, 1]);
    expect(entries).toHaveLength(2);
    expect(entries[0]).toMatch(/^start \d+$/);
    expect(entries[1]).toBe(entries[0]!.replace('start', 'end'));
  });
});

describe('launchd plist', () => {
  it.skipIf(requireOrSkip('python3 (plistlib)', hasPython3()))('is a valid property list with StartInterval and the absolute command', () => {
    const plist = generatePlist(spec({ everySec: 600, textfileDir: '/usr/local/var/node_exporter & co' }), PROGRAM, { logFile: '/Users/ops/Library/Logs/hermes-doctor.log' });
    const parsed = JSON.parse(
      execFileSync('python3', ['-c', 'import plistlib,sys,json; print(json.dumps(plistlib.loads(sys.stdin.buffer.read())))'], { input: plist, encoding: 'utf8' }),
    ) as Record<string, unknown>;
    expect(parsed).toEqual({
      Label: LAUNCHD_LABEL,
      ProgramArguments: [process.execPath, CLI, 'orphans', '--quiet', '--textfile-dir', '/usr/local/var/node_exporter & co'],
      StartInterval: 600,
      RunAtLoad: true,
      ProcessType: 'Background',
      LowPriorityIO: true,
      EnvironmentVariables: { NO_COLOR: '1' },
      StandardOutPath: '/Users/ops/Library/Logs/hermes-doctor.log',
      StandardErrorPath: '/Users/ops/Library/Logs/hermes-doctor.log',
    });
  });

  it('install writes the plist and bootstraps it in gui/UID; remove boots it out and deletes only our file', async () => {
    const agents = path.join(makeScratch().dir, 'LaunchAgents');
    const calls: string[] = [];
    const runner: ActionRunner = async (file, args) => {
      calls.push([file, ...args].join(' '));
      return { code: 0, stdout: '', stderr: '', error: null };
    };
    const plist = generatePlist(spec(), PROGRAM, { logFile: '/tmp/x.log' });
    const done = await installLaunchd(plist, { agentsDir: agents, uid: 501, runner });
    expect(fs.readFileSync(plistPath(agents), 'utf8')).toBe(plist);
    expect(calls).toEqual([`launchctl bootout gui/501/${LAUNCHD_LABEL}`, `launchctl bootstrap gui/501 ${plistPath(agents)}`]);
    expect(done.join('\n')).toContain('bootstrap');
    calls.length = 0;
    await removeLaunchd({ agentsDir: agents, uid: 501, runner });
    expect(calls).toEqual([`launchctl bootout gui/501/${LAUNCHD_LABEL}`]);
    expect(fs.existsSync(plistPath(agents))).toBe(false);
    expect((await removeLaunchd({ agentsDir: agents, uid: 501, runner })).join('')).toContain('nothing to remove');
    // A plist of the same name that is not ours is left alone.
    fs.writeFileSync(plistPath(agents), '<plist/>');
    await expect(removeLaunchd({ agentsDir: agents, uid: 501, runner })).rejects.toThrow(/not written by hermes-doctor/);
    expect(fs.existsSync(plistPath(agents))).toBe(true);
  });

  it.skipIf(hasBinary('launchctl'))('on Linux (no launchctl) the CLI writes the plist, says it cannot load it, and exits 3', async () => {
    const agents = path.join(makeScratch().dir, 'LaunchAgents');
    const r = await runCli(['schedule', 'install', '--via', 'launchd', '--every', '30m', '--launch-agents-dir', agents]);
    expect(r.code).toBe(3);
    expect(r.err).toContain('is written but not loaded');
    expect(r.err).toContain(`launchctl bootstrap gui/${os.userInfo().uid} ${plistPath(agents)}`);
    expect(fs.readFileSync(plistPath(agents), 'utf8')).toContain('<integer>1800</integer>');
  });
});

describe('usage errors', () => {
  it('a bad interval or action is a clear message and exit 3', async () => {
    const bad = await runCli(['schedule', 'print', '--via', 'cron', '--every', 'soon']);
    expect(bad.code).toBe(3);
    expect(bad.err).toContain('--every "soon"');
    const sub = await runCli(['schedule', 'print', '--via', 'cron', '--every', '30s']);
    expect(sub.code).toBe(3);
    expect(sub.err).toMatch(/whole minutes.*--via systemd/);
    const act = await runCli(['schedule', 'explode']);
    expect(act.code).toBe(3);
    expect(act.err).toMatch(/Invalid values|Choices/);
  });
});
