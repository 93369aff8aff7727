/**
 * The macOS scanner driven with recorded ps, lsof and launchctl outputs (fixtures/darwin): the real
 * adapter code runs on Linux with the platform injected; only the command runner, the ps-list table and
 * the find-process lookup are replaced. Identity files are real files under a scratch dir.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DARWIN_START_RESOLUTION, startStampsAgree } from '../src/core/identify.js';
import { classify } from '../src/core/classify.js';
import { LAUNCHD_LABEL_RE, observeLaunchd, parseLaunchctlList, parseLaunchctlListLabel, parseLaunchctlPrint, profileOfLabel } from '../src/sources/supervisors/launchd.js';
import { recordedRunner } from '../src/sources/runner.js';
import { parseLsofF } from '../src/sources/darwin/lsof.js';
import { envFromPsE, parsePsCommands } from '../src/sources/darwin/ps.js';
import { scanDarwin } from '../src/sources/darwin/scan.js';
import { rootedHostFiles } from '../src/sources/hostfiles.js';
import type { ScanOptions } from '../src/sources/index.js';
import { runCli, runRecordedOrphans, verdictOf } from './harness/cli.js';
import { FIXTURES, layoutHome, listerFrom, portsFrom, readFixture, runnerFrom } from './harness/fixtures.js';
import { cleanupAllScratch, makeScratch } from './harness/scratch.js';
import { parseGuardV1 } from './guard-contract.js';

const ROOT = '/Users/alice/.hermes';

function host(scenario: string, layout: (dir: string) => void, overrides: string[] = [], extra: Partial<ScanOptions> = {}) {
  const scratch = makeScratch();
  layout(scratch.dir);
  const runner = runnerFrom(`darwin/${scenario}`, ...overrides);
  const scan: ScanOptions = {
    platform: 'darwin',
    runner,
    listProcesses: listerFrom(`darwin/${scenario}/ps-list.json`),
    files: rootedHostFiles(scratch.dir),
    uid: 501,
    homeDir: '/Users/alice',
    hostname: 'alices-mac',
    selfPid: 99999,
    findPort: async () => [],
    ...extra,
  };
  return { scan, runner, dir: scratch.dir };
}

afterAll(() => cleanupAllScratch());

describe('macOS parsers', () => {
  it('launchctl list: tab table, `-` PIDs; garbage is null', () => {
    const rows = parseLaunchctlList(readFixture('darwin/wrapper/launchctl-list.txt').body)!;
    expect(rows.find((r) => r.label === 'ai.hermes.gateway')).toEqual({ pid: 612, status: 0, label: 'ai.hermes.gateway' });
    expect(rows.find((r) => r.label.startsWith('com.apple.Safari'))!.pid).toBe(0);
    expect(parseLaunchctlList(readFixture('darwin/malformed/launchctl-list-garbage.txt').body)).toBeNull();
  });

  it('launchctl list LABEL: the "PID" = N; dictionary; no PID line means not running', () => {
    const p = parseLaunchctlListLabel(readFixture('darwin/nowrapper/launchctl-list-label.txt').body)!;
    expect(p.pid).toBe(700);
    expect(p.arguments).toEqual(['/Users/alice/.hermes/hermes-agent/venv/bin/python', '-m', 'hermes_cli.main', 'gateway', 'run', '--replace']);
    expect(parseLaunchctlListLabel('{\n\t"Label" = "ai.hermes.gateway";\n\t"LastExitStatus" = 19968;\n};')!.pid).toBe(0);
    expect(parseLaunchctlListLabel('Could not find service')).toBeNull();
  });

  it('launchctl print: pid, state, arguments and only HERMES_HOME of the environment', () => {
    const p = parseLaunchctlPrint(readFixture('darwin/wrapper/launchctl-print.txt').body)!;
    expect(p).toMatchObject({ pid: 612, state: 'running', hermesHome: ROOT, plist: '/Users/alice/Library/LaunchAgents/ai.hermes.gateway.plist' });
    expect(p.arguments[2]).toBe('hermes_cli.stderr_timestamp');
    expect(JSON.stringify(p)).not.toContain('sk-test-not-a-secret');
    // `proxy pid` and nested `pid`-like keys are not the job's PID.
    expect(parseLaunchctlPrint(readFixture('darwin/malformed/launchctl-print-truncated.txt').body)).toBeNull();
  });

  it('ps -E: argv and env split, only allow-listed variables kept', () => {
    const bare = parsePsCommands(readFixture('darwin/wrapper/ps-command.txt').body, true).rows;
    const withEnv = parsePsCommands(readFixture('darwin/wrapper/ps-env.txt').body, false).rows;
    expect(bare.get(820)!.tty).toBe('ttys001');
    expect(bare.get(615)!.tty).toBeNull();
    const env = envFromPsE(withEnv.get(615)!.command, bare.get(615)!.command)!;
    expect(env).toEqual({ HOME: '/Users/alice', HERMES_HOME: ROOT, HERMES_SUPERVISED_CHILD: '1', HERMES_GATEWAY_EXTERNAL_SUPERVISOR: '1', XPC_SERVICE_NAME: 'ai.hermes.gateway' });
    expect(envFromPsE('python other', 'python -m x')).toBeNull();
    const truncated = parsePsCommands(readFixture('darwin/malformed/ps-command-truncated.txt').body, true);
    expect(truncated.bad).toBe(1);
    expect(truncated.rows.size).toBe(3);
  });

  it('lsof -F as macOS prints it: the lock column is blank (`l `) for every file', () => {
    const real = parseLsofF(readFixture('darwin/wrapper/lsof.txt').body);
    expect(real.bad).toBe(0);
    expect(real.files.map((f) => [f.pid, f.fd, f.mode, f.lock])).toEqual([
      [615, 3, 'rw', null],
      [615, 5, 'rw', null],
      [615, 9, 'rw', null],
      [615, 10, 'rw', null],
    ]);
  });

  it('lsof -F: fds, modes, locks (a filled lock column still parses); a truncated record is counted, not invented', () => {
    const ok = parseLsofF(readFixture('darwin/lock-column/lsof.txt').body);
    expect(ok.bad).toBe(0);
    expect(ok.files.map((f) => [f.pid, f.fd, f.mode, f.lock])).toEqual([
      [615, 3, 'rw', 'W'],
      [615, 5, 'rw', 'W'],
      [615, 9, 'rw', null],
      [615, 10, 'rw', null],
    ]);
    const cut = parseLsofF(readFixture('darwin/malformed/lsof-truncated.txt').body);
    expect(cut.files).toHaveLength(1);
    expect(cut.bad).toBe(1);
  });
});

describe('macOS scans (recorded outputs)', () => {
  it('launchd with the stderr wrapper: the wrapper is the job PID, its gateway child is supervised; exit 0; no secret kept', async () => {
    const h = host('wrapper', (d) => layoutHome(d, ROOT, { kanban: true, pid: { pid: 615, kind: 'hermes-gateway', start_time: 176362932600 } }));
    const snap = await scanDarwin(h.scan);
    expect(JSON.stringify(snap)).not.toContain('sk-test-not-a-secret');
    const gw = snap.processes.find((p) => p.pid === 615)!;
    expect(gw.env.XPC_SERVICE_NAME).toBe('ai.hermes.gateway');
    expect(gw.handles.map((x) => x.path)).toContain(`${ROOT}/gateway.lock`);
    expect(snap.locks).toContainEqual(expect.objectContaining({ path: `${ROOT}/gateway.lock`, pid: 615 }));
    // lsof is asked about named files only, never the whole machine.
    const lsofCall = h.runner.calls.find((c) => c.startsWith('lsof'))!;
    expect(lsofCall).toContain(' -- ');
    expect(lsofCall.split(' -- ')[1]!.split(' ').every((f) => f.startsWith(`${ROOT}/`))).toBe(true);

    const { code, report } = await runRecordedOrphans(h.scan);
    const r = report!;
    expect(verdictOf(r, 615).verdict).toBe('supervised');
    expect(verdictOf(r, 615).supervisor).toMatchObject({ kind: 'launchd', unit: 'ai.hermes.gateway', mainPid: 612 });
    expect(verdictOf(r, 615).supervisor!.via).toContain('wrapper PID 612');
    expect(verdictOf(r, 612).role).toBe('gateway-wrapper');
    expect(verdictOf(r, 612).verdict).toBe('supervised');
    expect(r.findings.filter((f) => f.severity !== 'info')).toEqual([]);
    expect(code).toBe(0);
  });

  it('launchd without the wrapper, PID from `launchctl list LABEL` after print fails in gui/ and user/', async () => {
    const h = host('nowrapper', (d) => layoutHome(d, ROOT, { pid: { pid: 700, kind: 'hermes-gateway' } }));
    const { code, report } = await runRecordedOrphans(h.scan);
    expect(h.runner.calls).toEqual(expect.arrayContaining(['launchctl print gui/501/ai.hermes.gateway', 'launchctl print user/501/ai.hermes.gateway', 'launchctl list ai.hermes.gateway']));
    expect(verdictOf(report!, 700).verdict).toBe('supervised');
    expect(verdictOf(report!, 700).supervisor).toMatchObject({ kind: 'launchd', mainPid: 700 });
    expect(verdictOf(report!, 700).supervisor!.via).toContain('XPC_SERVICE_NAME agrees');
    expect(code).toBe(0);
  });

  it('#27041 storm: launchd gateway + web-UI replacer with PPID 1 → orphan, rival writers on kanban.db, exit 2', async () => {
    const ports = portsFrom('darwin/storm/find-process.json');
    const h = host('storm', (d) => layoutHome(d, ROOT, { kanban: true, pid: { pid: 615, kind: 'hermes-gateway' } }), [], { findPort: ports });
    const { code, report } = await runRecordedOrphans(h.scan);
    const r = report!;
    expect(verdictOf(r, 615).verdict).toBe('supervised');
    const orphan = verdictOf(r, 9120);
    expect(orphan.verdict).toBe('orphan');
    expect(orphan.ppid).toBe(1);
    expect(orphan.reasons.join(' ')).toContain('launchd ai.hermes.gateway');
    const k = r.kanban.find((x) => x.db === `${ROOT}/kanban.db`)!;
    expect(k.risk).toBe('rival-writers');
    expect(k.holders.map((x) => x.pid).sort()).toEqual([615, 9120]);
    const f = r.findings.find((x) => x.code === 'ORPHAN_GATEWAY' && x.pid === 9120)!;
    expect(f.remedy).toBe('hermes-doctor orphans --kill --pid 9120');
    expect(f.message).toContain('launchctl kickstart -k gui/501/ai.hermes.gateway');
    expect(ports.asked).toEqual([8642]);
    expect(code).toBe(2);
  });

  it('the human table renders the storm without secrets', async () => {
    const h = host('storm', (d) => layoutHome(d, ROOT, { kanban: true, pid: { pid: 615, kind: 'hermes-gateway' } }));
    const { code, out } = await runCli(['orphans', '--all-users', '--no-color'], { scan: h.scan });
    expect(out).toContain('9120');
    expect(out).toMatch(/orphan/);
    expect(out).toContain('launchctl kickstart -k gui/501/ai.hermes.gateway');
    expect(out).not.toContain('sk-test-not-a-secret');
    expect(code).toBe(2);
  });

  it('the unsupported-launchd fallback: marker + job without PID → manual (launchd unsupported), exit 0', async () => {
    const h = host('unsupported', (d) => layoutHome(d, ROOT, { launchdUnsupported: true, pid: { pid: 710, kind: 'hermes-gateway' } }));
    const { code, report } = await runRecordedOrphans(h.scan);
    const p = verdictOf(report!, 710);
    expect(p.verdict).toBe('manual');
    expect(p.reasons.join(' ')).toContain('manual (launchd unsupported)');
    expect(code).toBe(0);
  });

  it('without the marker the same host is an orphan of the registered job (the marker is what decides)', async () => {
    const h = host('unsupported', (d) => layoutHome(d, ROOT, { pid: { pid: 710, kind: 'hermes-gateway' } }));
    const { report } = await runRecordedOrphans(h.scan);
    expect(verdictOf(report!, 710).verdict).toBe('orphan');
  });

  it('Desktop-managed gateway with a live app is supervised; a web-UI gateway whose server is gone is a ghost', async () => {
    const h = host('desktop', (d) => {
      layoutHome(d, ROOT);
      layoutHome(d, `${ROOT}/profiles/argus`);
      layoutHome(d, `${ROOT}/profiles/scout`);
    });
    const { code, report } = await runRecordedOrphans(h.scan);
    const r = report!;
    expect(verdictOf(r, 310).verdict).toBe('supervised');
    expect(verdictOf(r, 310).supervisor).toMatchObject({ kind: 'desktop', mainPid: 300 });
    expect(verdictOf(r, 330).verdict).toBe('ghost');
    expect(verdictOf(r, 330).reasons.join(' ')).toContain('web UI parent is gone');
    expect(r.findings.find((f) => f.pid === 330)!.code).toBe('GHOST_GATEWAY');
    // The ghost may still dispatch on the shared root's kanban.db beside the Desktop's gateway, but
    // nothing recorded shows it (no fd on kanban.db, no dispatcher lock, no Hermes source): unknown, exit 3.
    const k = r.kanban.find((x) => x.db === `${ROOT}/kanban.db`)!;
    expect(k.risk).toBe('unknown');
    expect(k.dispatchers!.find((d) => d.pid === 330)).toMatchObject({ dispatches: 'unknown' });
    expect(r.findings.find((f) => f.code === 'KANBAN_RISK_UNKNOWN')!.message).toContain('PID 330 (ghost gateway)');
    expect(r.findings.some((f) => f.code === 'RIVAL_WRITERS')).toBe(false);
    expect(code).toBe(3);
  });
});

describe('macOS gateway.lock owner without lsof locks (real lsof leaves the lock column blank)', () => {
  const AT_0806 = Date.parse('2026-11-20T08:02:06.000Z') / 10; // PID 615's lstart in wrapper/ps-list.json, in centiseconds
  const noLaunchd = ['darwin/malformed/launchctl-list-fails.txt'];

  it('the launchd job (its stderr wrapper PID 612) names the gateway.lock owner: its child 615', async () => {
    const h = host('wrapper', (d) => layoutHome(d, ROOT, { kanban: true }));
    const snap = await scanDarwin(h.scan);
    expect(snap.locks).toEqual([{ path: `${ROOT}/gateway.lock`, inode: 0, kind: 'FLOCK', access: 'WRITE', pid: 615 }]);
  });

  it('without launchd, the gateway.pid record matched by pid and start time names the owner', async () => {
    const h = host('wrapper', (d) => layoutHome(d, ROOT, { kanban: true, pid: { pid: 615, kind: 'hermes-gateway', argv: ['hermes', 'gateway', 'run'], start_time: AT_0806 } }), noLaunchd);
    const snap = await scanDarwin(h.scan);
    expect(snap.locks).toContainEqual(expect.objectContaining({ path: `${ROOT}/gateway.lock`, kind: 'FLOCK', access: 'WRITE', pid: 615 }));
  });

  it('a record whose start time is another process\'s, and no launchd: no owner is invented', async () => {
    const h = host('wrapper', (d) => layoutHome(d, ROOT, { kanban: true, pid: { pid: 615, kind: 'hermes-gateway', start_time: AT_0806 - 360000 } }), noLaunchd);
    const snap = await scanDarwin(h.scan);
    expect(snap.locks).toEqual([]);
  });

  it('a gateway.pid written with centiseconds (round(create_time*100)) matches the one-second ps start', async () => {
    const record = JSON.parse(fs.readFileSync(path.join(FIXTURES, 'darwin/records/gateway.pid'), 'utf8')) as Record<string, unknown>;
    expect((record.start_time as number) % 100).not.toBe(0);
    const h = host('wrapper', (d) => layoutHome(d, ROOT, { kanban: true, pid: record }), noLaunchd);
    const snap = await scanDarwin(h.scan);
    expect(snap.locks).toContainEqual(expect.objectContaining({ path: `${ROOT}/gateway.lock`, kind: 'FLOCK', access: 'WRITE', pid: 615 }));
  });

  it('start stamps compared to the second on macOS: the record may round up into the next second, never more', () => {
    expect(startStampsAgree(AT_0806 + 37, AT_0806, DARWIN_START_RESOLUTION)).toBe(true);
    expect(startStampsAgree(AT_0806 + 100, AT_0806, DARWIN_START_RESOLUTION)).toBe(true); // create_time S.996 rounds to S+1
    expect(startStampsAgree(AT_0806 + 101, AT_0806, DARWIN_START_RESOLUTION)).toBe(false);
    expect(startStampsAgree(AT_0806 - 1, AT_0806, DARWIN_START_RESOLUTION)).toBe(false);
    expect(startStampsAgree(AT_0806 + 37, AT_0806)).toBe(false); // exact elsewhere (Linux clock ticks)
  });

  it('a lock lsof does print (a filled lock column) is used as it stands', async () => {
    const h = host('wrapper', (d) => layoutHome(d, ROOT, { kanban: true }), [...noLaunchd, 'darwin/lock-column/lsof.txt']);
    const snap = await scanDarwin(h.scan);
    expect(snap.locks).toContainEqual(expect.objectContaining({ path: `${ROOT}/gateway.lock`, access: 'WRITE', pid: 615 }));
  });
});

describe('launchd labels as real installs have them', () => {
  it('io.nousresearch.hermes-agent.gateway is a Hermes job: its wrapper child is supervised, not manual', async () => {
    const h = host('legacy-label', (d) => layoutHome(d, ROOT, { kanban: true, pid: { pid: 615, kind: 'hermes-gateway' } }));
    const { code, report } = await runRecordedOrphans(h.scan);
    expect(verdictOf(report!, 615).verdict).toBe('supervised');
    expect(verdictOf(report!, 615).supervisor).toMatchObject({ kind: 'launchd', unit: 'io.nousresearch.hermes-agent.gateway', mainPid: 612 });
    expect(code).toBe(0);
  });

  it('a hash suffix (sha256 of an arbitrary HERMES_HOME) names no profile; a profile suffix does', () => {
    expect(profileOfLabel('ai.hermes.gateway-2fe7f184')).toBeNull();
    expect(profileOfLabel('ai.hermes.gateway-coder')).toBe('coder');
    expect(profileOfLabel('ai.hermes.gateway')).toBe('default');
    expect(LAUNCHD_LABEL_RE.test('io.nousresearch.hermes-agent.gateway-old')).toBe(true);
    expect(LAUNCHD_LABEL_RE.test('com.other.agent')).toBe(false);
  });
});

describe('launchctl list missing a gui/UID job (SSH, tmux, non-Aqua session)', () => {
  it('the labels Hermes writes are asked with launchctl print whatever the list says: supervised, not manual', async () => {
    const h = host('ssh-list', (d) => layoutHome(d, ROOT, { kanban: true, pid: { pid: 615, kind: 'hermes-gateway' } }));
    const { code, report } = await runRecordedOrphans(h.scan);
    expect(h.runner.calls).toContain('launchctl print gui/501/ai.hermes.gateway');
    expect(verdictOf(report!, 615).verdict).toBe('supervised');
    expect(verdictOf(report!, 615).supervisor).toMatchObject({ kind: 'launchd', unit: 'ai.hermes.gateway', mainPid: 612 });
    expect(report!.supervisors.find((s) => s.kind === 'launchd')!.detail).toContain('not in launchctl list, found by launchctl print gui/501/ai.hermes.gateway');
    expect(code).toBe(0);
  });

  it("a label from a process's XPC_SERVICE_NAME is asked too; one print cannot answer is left out", async () => {
    const runner = recordedRunner({
      'launchctl list': { stdout: 'PID\tStatus\tLabel\n-\t0\tcom.apple.Safari\n' },
      'launchctl print gui/501/ai.hermes.gateway-coder': { stdout: readFixture('darwin/ssh-list/launchctl-print.txt').body.replaceAll('ai.hermes.gateway', 'ai.hermes.gateway-coder') },
    });
    const obs = await observeLaunchd({ runner, timeoutMs: 1000, uid: 501, extraLabels: ['ai.hermes.gateway-coder', 'com.apple.not-hermes'] });
    expect(obs.launchdJobs!.map((j) => [j.label, j.domain, j.pid, j.profile])).toEqual([['ai.hermes.gateway-coder', 'gui/501', 612, 'coder']]);
    expect(runner.calls).not.toContain('launchctl print gui/501/com.apple.not-hermes');
  });
});

describe('macOS malformed and failing outputs: clear unknown, no crash', () => {
  const wrapperLayout = (d: string) => layoutHome(d, ROOT, { kanban: true, pid: { pid: 615, kind: 'hermes-gateway' } });

  it('launchctl list garbage → launchd unknown, the gateway undecided, exit 3', async () => {
    const h = host('nowrapper', (d) => layoutHome(d, ROOT, { pid: { pid: 700, kind: 'hermes-gateway' } }), ['darwin/malformed/launchctl-list-garbage.txt']);
    const { code, report } = await runRecordedOrphans(h.scan);
    expect(report!.supervisors).toContainEqual(expect.objectContaining({ kind: 'launchd', status: 'unknown' }));
    expect(verdictOf(report!, 700).verdict).toBe('unknown');
    expect(code).toBe(3);
  });

  it('launchctl missing → launchd unknown with the reason', async () => {
    const h = host('nowrapper', (d) => layoutHome(d, ROOT, { pid: { pid: 700, kind: 'hermes-gateway' } }), ['darwin/malformed/launchctl-list-fails.txt']);
    const { code, report } = await runRecordedOrphans(h.scan);
    expect(report!.supervisors.find((s) => s.kind === 'launchd')!.detail).toContain('ENOENT');
    expect(code).toBe(3);
  });

  it('launchctl print truncated: falls back to the list table PID, never crashes', async () => {
    const h = host('wrapper', wrapperLayout, ['darwin/malformed/launchctl-print-truncated.txt']);
    const { code, report } = await runRecordedOrphans(h.scan);
    expect(verdictOf(report!, 615).verdict).toBe('supervised');
    expect(report!.supervisors.find((s) => s.kind === 'launchd')!.detail).toContain('PID from the list table only');
    expect(code).toBe(0);
  });

  it('launchctl list LABEL damaged after print failed: the table PID is used and the detail says so', async () => {
    const h = host('nowrapper', (d) => layoutHome(d, ROOT, { pid: { pid: 700, kind: 'hermes-gateway' } }), ['darwin/malformed/launchctl-list-label-garbage.txt']);
    const { code, report } = await runRecordedOrphans(h.scan);
    expect(report!.supervisors.find((s) => s.kind === 'launchd')!.detail).toContain('neither launchctl print nor launchctl list ai.hermes.gateway was understood');
    expect(verdictOf(report!, 700).verdict).toBe('supervised');
    expect(code).toBe(0);
  });

  it('lsof truncated → a NOT_VISIBLE note, the complete records kept', async () => {
    const h = host('wrapper', wrapperLayout, ['darwin/malformed/lsof-truncated.txt']);
    const { report } = await runRecordedOrphans(h.scan);
    expect(report!.findings.some((f) => f.code === 'NOT_VISIBLE' && f.message.includes('lsof'))).toBe(true);
    expect(verdictOf(report!, 615).handles.map((x) => x.path)).toEqual([`${ROOT}/gateway.lock`]);
  });

  it('lsof timing out → holders unknown, said so', async () => {
    const h = host('wrapper', wrapperLayout, ['darwin/malformed/lsof-fails.txt']);
    const { report } = await runRecordedOrphans(h.scan);
    expect(report!.findings.some((f) => f.code === 'NOT_VISIBLE' && f.message.includes('holders of kanban.db'))).toBe(true);
  });

  it('ps truncated and ps -E refused → partial data with notes, environments unknown', async () => {
    const h = host('wrapper', wrapperLayout, ['darwin/malformed/ps-command-truncated.txt', 'darwin/malformed/ps-env-fails.txt']);
    const snap = await scanDarwin(h.scan);
    expect(snap.notes.map((n) => n.detail).join(' ')).toContain('not understood');
    expect(snap.notes.map((n) => n.detail).join(' ')).toContain('ps -E failed');
    expect(snap.processes.find((p) => p.pid === 615)!.visibility.environ).toBe('unsupported');
    const r = classify(snap);
    expect(verdictOf(r, 615).verdict).toBe('supervised'); // the launchd wrapper PID still proves it
  });

  it('a damaged ps-list table: bad rows skipped, missing dates give no start time', async () => {
    const h = host('wrapper', wrapperLayout, [], { listProcesses: listerFrom('darwin/malformed/ps-list-garbage.json') });
    const snap = await scanDarwin(h.scan);
    const p612 = snap.processes.find((p) => p.pid === 612)!;
    expect(p612.startTime).toBeNull();
    expect(p612.startTicks).toBe(0);
  });

  it('ps-list failing → the CLI says why and exits 3 (nothing can be decided)', async () => {
    const h = host('wrapper', wrapperLayout, [], {
      listProcesses: async () => {
        throw new Error('spawn ps ENOENT');
      },
    });
    const { code, err } = await runRecordedOrphans(h.scan);
    expect(err).toContain('cannot list processes');
    expect(code).toBe(3);
  });
});

describe('guard on macOS (recorded outputs)', () => {
  const layout = (d: string) => layoutHome(d, ROOT, { kanban: true, pid: { pid: 615, kind: 'hermes-gateway', start_time: 176362932600 } });
  // The guard itself appears in the process table under a parent: a shell in Terminal, or the job's wrapper.
  const withGuard = (ppid: number) => {
    const base = listerFrom('darwin/wrapper/ps-list.json');
    return async () => [...(await base()), { pid: 900, ppid, name: 'node', uid: 501 }];
  };
  async function guard(ppid: number): Promise<{ code: number; out: string; err: string }> {
    const h = host('wrapper', layout, [], { listProcesses: withGuard(ppid), selfPid: 900 });
    const r = await runCli(['guard', '--home', ROOT, '--json'], { scan: h.scan });
    parseGuardV1(r.out);
    return r;
  }

  it('from a Terminal shell: refused, naming the job and `launchctl kickstart -k gui/501/ai.hermes.gateway`', async () => {
    const r = await guard(820);
    expect(r.code).toBe(1);
    const d = JSON.parse(r.out) as { problems: string[]; remedies: string[]; supervisors: { kind: string; unit: string; restart: string }[] };
    expect(d.supervisors).toEqual([expect.objectContaining({ kind: 'launchd', unit: 'ai.hermes.gateway', restart: 'launchctl kickstart -k gui/501/ai.hermes.gateway' })]);
    expect(d.problems.join('\n')).toContain('ai.hermes.gateway');
    expect(d.remedies).toContain('launchctl kickstart -k gui/501/ai.hermes.gateway');
  });

  it("from under the job's own process (its ancestor is the job's PID 612): allowed", async () => {
    const r = await guard(612);
    expect(r.code).toBe(0);
  });
});
