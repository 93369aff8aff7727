/**
 * Snapshots: argv masking (pure), the incident fixtures classified offline against their expected
 * verdicts, validation of bad files with clear messages, and the round trip on real processes:
 * `snapshot -o FILE` then `orphans --from FILE` gives the live verdicts, and no secret is in the file.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { classifyFromFile } from '../src/commands/from-file.js';
import { classify } from '../src/core/classify.js';
import { MASK, maskArgv, maskShapes } from '../src/core/mask.js';
import { formatAge } from '../src/output/table.js';
import { maskSnapshot } from '../src/output/snapshot.js';
import { scanLinux } from '../src/sources/linux/scan.js';
import { SnapshotError, parseSnapshot, readSnapshotFile } from '../src/sources/snapshot-file.js';
import type { HostSnapshot, Report } from '../src/types.js';
import { NO_S6, runCli } from './harness/cli.js';
import { SNAPSHOTS } from './harness/fixtures.js';
import { FAKE_SECRET, killAll, startGateway, startWorker, waitForGatewayReady, waitForOpen } from './harness/processes.js';
import { cleanupAllScratch, makeScratch, profileHome } from './harness/scratch.js';
import { hasPython3, isLinux, requireOrSkip } from './harness/skip.js';

afterEach(async () => {
  await killAll();
});
afterAll(() => cleanupAllScratch());

describe('argv masking', () => {
  it('masks values of secret flags, --flag=value, NAME=value and credential shapes; keeps the argv shape', () => {
    const argv = [
      'python3', '-m', 'hermes_cli.main', '-p', 'argus', 'gateway', 'run', '--replace',
      '--api-key', FAKE_SECRET, '--token=abc123secret', '--bot-token', '123456789:AAHfiqksKZ8WmR2zSjiQ7_v4TMAKdiHm9T0',
      'OPENAI_API_KEY=whatever', '--header', `Authorization: Bearer ${FAKE_SECRET.slice(3)}xyz`,
      '--url', 'https://bob:hunter2pass@example.com/x', 'ghp_abcdefghijklmnop1234', '--profile=argus', 'hermes_home=/root/.hermes',
    ];
    const m = maskArgv(argv);
    expect(m).toHaveLength(argv.length);
    expect(m.slice(0, 8)).toEqual(argv.slice(0, 8)); // the matcher's view is unchanged
    expect(m[9]).toBe(MASK);
    expect(m[10]).toBe(`--token=${MASK}`);
    expect(m[12]).toBe(MASK);
    expect(m[13]).toBe(`OPENAI_API_KEY=${MASK}`);
    expect(m[15]).toBe(`Authorization: Bearer ${MASK}`);
    expect(m[17]).toBe(`https://bob:${MASK}@example.com/x`);
    expect(m[18]).toBe(`ghp_${MASK}`);
    expect(m.slice(19)).toEqual(['--profile=argus', 'hermes_home=/root/.hermes']);
    const joined = m.join(' ');
    for (const secret of [FAKE_SECRET, 'abc123secret', 'AAHfiqks', 'whatever', 'hunter2pass', 'ghp_abcdefghij']) expect(joined).not.toContain(secret);
    // A bare sk-… anywhere, even glued to other text; here `key:` is also a header form, so all of it goes.
    expect(maskShapes(`id:${FAKE_SECRET}`)).toBe(`id:sk-${MASK}`);
    expect(maskShapes(`key:${FAKE_SECRET}`)).toBe(`key:${MASK}`);
    expect(maskArgv(['hermes', 'chat', '-q', 'work kanban task t_abc123'])).toEqual(['hermes', 'chat', '-q', 'work kanban task t_abc123']);
  });

  it('masks a copy: the live snapshot is not modified', () => {
    const snap = readSnapshotFile(path.join(SNAPSHOTS, 'seed-001-systemd-orphans.snapshot.json'));
    snap.processes[0]!.argv.push('--api-key', FAKE_SECRET);
    snap.supervisors[0]!.systemdUnits![0]!.execStart.push(`--token=${FAKE_SECRET}`);
    const before = JSON.stringify(snap);
    const masked = maskSnapshot(snap);
    expect(JSON.stringify(snap)).toBe(before);
    expect(JSON.stringify(masked)).not.toContain(FAKE_SECRET);
    expect(masked.processes[0]!.argv.slice(-2)).toEqual(['--api-key', MASK]);
  });
});

interface Expected {
  expected: {
    exitCode: number;
    verdicts: Record<string, string>;
    homes?: Record<string, string>;
    elapsed?: Record<string, string>;
    supervisors?: Record<string, string>;
    kanban: Record<string, string>;
    findings: Record<string, (number | null)[]>;
  };
}

describe('incident fixtures', () => {
  for (const name of ['seed-001-systemd-orphans', 'seed-000-webui-respawn']) {
    it(`${name}: orphans --from gives the expected verdicts, kanban risk, findings and exit code`, async () => {
      const file = path.join(SNAPSHOTS, `${name}.snapshot.json`);
      const exp = (JSON.parse(fs.readFileSync(path.join(SNAPSHOTS, `${name}.expected.json`), 'utf8')) as Expected).expected;
      const r = await runCli(['orphans', '--from', file, '--json']);
      const report = JSON.parse(r.out) as Report;
      expect(r.code).toBe(exp.exitCode);
      expect(Object.fromEntries(report.processes.map((p) => [String(p.pid), p.verdict]))).toEqual(exp.verdicts);
      for (const [pid, home] of Object.entries(exp.homes ?? {})) expect(report.processes.find((p) => String(p.pid) === pid)?.hermesHome).toBe(home);
      for (const [pid, kind] of Object.entries(exp.supervisors ?? {})) expect(report.processes.find((p) => String(p.pid) === pid)?.supervisor?.kind).toBe(kind);
      const snap = readSnapshotFile(file);
      for (const [pid, elapsed] of Object.entries(exp.elapsed ?? {})) {
        const p = report.processes.find((x) => String(x.pid) === pid)!;
        expect(formatAge(Date.parse(snap.takenAt) - Date.parse(p.startTime!))).toBe(elapsed);
      }
      expect(Object.fromEntries(report.kanban.map((k) => [k.db, k.risk]))).toEqual(exp.kanban);
      const got: Record<string, (number | null)[]> = {};
      for (const f of report.findings.filter((x) => x.severity !== 'info')) (got[f.code] ??= []).push(f.pid);
      expect(got).toEqual(exp.findings);
    });
  }

  it('the seed 001 table shows the ages of the incident, relative to when the snapshot was taken', async () => {
    const r = await runCli(['orphans', '--from', path.join(SNAPSHOTS, 'seed-001-systemd-orphans.snapshot.json'), '--no-color']);
    expect(r.out).toMatch(/│ 2361366 │ 1\s+│ 1-04:09:41 │/);
    expect(r.out).toMatch(/│ 3982251 │ 1\s+│ 02:25:29\s+│/);
  });
});

describe('bad snapshot files: a clear message, exit 3, nothing else', () => {
  const dir = () => makeScratch().dir;
  const good = () => JSON.parse(fs.readFileSync(path.join(SNAPSHOTS, 'seed-001-systemd-orphans.snapshot.json'), 'utf8')) as Record<string, unknown>;
  const cases: [string, (d: string) => string, RegExp][] = [
    ['missing file', (d) => path.join(d, 'nope.json'), /nope\.json is not a usable hermes-doctor snapshot.*no such file/],
    ['empty file', (d) => write(d, ''), /the file is empty/],
    ['not JSON', (d) => write(d, '{"schema": "hermes-doctor.snapshot/v1", '), /not JSON/],
    ['a JSON array', (d) => write(d, '[]'), /expected a JSON object, got array/],
    ['an orphans report', (d) => write(d, JSON.stringify({ schema: 'hermes-doctor.orphans/v1' })), /report from `orphans --json`, not a snapshot/],
    ['another schema', (d) => write(d, JSON.stringify({ ...good(), schema: 'hermes-doctor.snapshot/v9' })), /schema is "hermes-doctor.snapshot\/v9", expected "hermes-doctor.snapshot\/v1"/],
    [
      'mistyped fields, with their JSON paths',
      (d) => {
        const s = good() as { processes: Record<string, unknown>[]; locks: unknown };
        s.processes[1]!.argv = 'python -m hermes_cli.main';
        s.processes[2]!.pid = '4154204';
        delete s.processes[0]!.handles;
        s.locks = null;
        return write(d, JSON.stringify(s));
      },
      /\$\.processes\[0\]\.handles: expected an array, got undefined.*\$\.processes\[1\]\.argv: expected an array, got string.*\$\.processes\[2\]\.pid: expected an integer, got string.*\$\.locks: expected an array, got null/,
    ],
  ];
  function write(d: string, text: string): string {
    const f = path.join(d, 'snap.json');
    fs.writeFileSync(f, text);
    return f;
  }
  for (const [what, make, msg] of cases) {
    it(what, async () => {
      const f = make(dir());
      const r = await runCli(['orphans', '--from', f]);
      expect(r.code).toBe(3);
      expect(r.out).toBe('');
      expect(r.err).toMatch(msg);
      expect(r.err).not.toMatch(/at .*\.ts:\d+/); // a message, not a stack trace
    });
  }

  it('--from never goes with --kill (the PIDs belong to another host or moment)', () => {
    const from = path.join(SNAPSHOTS, 'seed-001-systemd-orphans.snapshot.json');
    expect(() => classifyFromFile({ from, kill: true } as Parameters<typeof classifyFromFile>[0])).toThrow(/cannot be combined with --kill/);
    expect(classifyFromFile({ from }).summary.exitCode).toBe(2);
  });

  it('environment variables outside the allowlist are dropped on load', () => {
    const s = good() as { processes: { env: Record<string, string> }[] };
    s.processes[0]!.env.OPENAI_API_KEY = FAKE_SECRET;
    const snap = parseSnapshot(JSON.stringify(s));
    expect(snap.processes[0]!.env).not.toHaveProperty('OPENAI_API_KEY');
    expect(() => parseSnapshot('{}')).toThrow(SnapshotError);
  });
});

describe.skipIf(requireOrSkip('Linux /proc and python3', isLinux() && hasPython3()))('round trip on real processes', () => {
  it('orphans --from on a snapshot equals the live verdicts; the file (0600) holds no secret', async () => {
    const scratch = makeScratch();
    const root = scratch.root('argus');
    const home = profileHome(root, 'argus');
    const secretEnv = { OPENAI_API_KEY: FAKE_SECRET, TELEGRAM_BOT_TOKEN: FAKE_SECRET };
    const first = startGateway({ root, profile: 'argus', env: secretEnv, args: ['gateway', 'run', '--replace', '--api-key', FAKE_SECRET] });
    await waitForGatewayReady(home, first.pid);
    const dup = startGateway({ root, profile: 'argus', env: { ...secretEnv, STANDIN_STAY_ON_LOCK_BUSY: '1' }, args: ['gateway', 'run', '--replace', `--token=${FAKE_SECRET}`] });
    const worker = startWorker({ root, profile: 'argus', taskId: 't_round01', env: secretEnv });
    for (const p of [dup.pid, worker.pid]) {
      await waitForOpen(p, 'kanban.db', 8000, `PID ${p} to open kanban.db`);
    }
    // The secrets are really there: in argv and environment of the live processes.
    const live = await scanLinux({ s6ScanDir: '/nonexistent', extraHomes: [root, home] });
    expect(live.processes.find((p) => p.pid === first.pid)!.argv).toContain(FAKE_SECRET);

    const file = path.join(scratch.dir, 'host.snapshot.json');
    const snapRun = await runCli(['snapshot', '-o', file, '--home', root, '--home', home, ...NO_S6]);
    expect(snapRun.code).toBe(0);
    expect(snapRun.err).toContain(`wrote ${file}`);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    const text = fs.readFileSync(file, 'utf8');
    expect(text).not.toContain(FAKE_SECRET);
    expect(text).not.toContain('OPENAI_API_KEY');
    expect(text).not.toContain('TELEGRAM_BOT_TOKEN');
    const snap = JSON.parse(text) as HostSnapshot;
    expect(snap.schema).toBe('hermes-doctor.snapshot/v1');
    expect(snap.processes.find((p) => p.pid === first.pid)!.argv.slice(-2)).toEqual(['--api-key', MASK]);

    const liveRun = await runCli(['orphans', '--json', '--home', home, ...NO_S6]);
    const fromRun = await runCli(['orphans', '--json', '--home', home, '--from', file]);
    const a = JSON.parse(liveRun.out) as Report;
    const b = JSON.parse(fromRun.out) as Report;
    const view = (r: Report) => r.processes.map((p) => ({ pid: p.pid, verdict: p.verdict, role: p.role, home: p.hermesHome, sup: p.supervisor }));
    expect(view(b)).toEqual(view(a));
    expect(b.processes.map((p) => p.verdict).sort()).toEqual(['duplicate', 'manual', 'orphaned-worker'].sort()) // the worker was not started by a gateway;
    expect(b.kanban.map((k) => [k.db, k.risk])).toEqual(a.kanban.map((k) => [k.db, k.risk]));
    expect(b.findings.map((f) => [f.code, f.pid])).toEqual(a.findings.map((f) => [f.code, f.pid]));
    expect(fromRun.code).toBe(liveRun.code);
    expect(fromRun.out + fromRun.err).not.toContain(FAKE_SECRET);
    // Classifying the live snapshot directly agrees as well (the file is the snapshot, masked).
    expect(classify(live, { homes: [home] }).processes.map((p) => [p.pid, p.verdict])).toEqual(a.processes.map((p) => [p.pid, p.verdict]));

    // Snapshot to stdout is the same masked document.
    const toStdout = await runCli(['snapshot', '--home', root, ...NO_S6]);
    expect(toStdout.code).toBe(0);
    expect(toStdout.out).not.toContain(FAKE_SECRET);
    expect(() => parseSnapshot(toStdout.out)).not.toThrow();
  });
});
