/**
 * Quiet and machine-readable runs: `--quiet` silent when healthy and loud when not (real stand-in
 * gateways), `--format prometheus` and `--textfile-dir` validated by the real `promtool check metrics`
 * (Debian's prometheus package), the textfile written atomically under a concurrent reader.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { classify } from '../src/core/classify.js';
import { escapeLabel, renderPrometheus } from '../src/output/prometheus.js';
import { TEXTFILE_NAME, writeTextfile } from '../src/output/textfile.js';
import { writeFileAtomic } from '../src/util/write-file-atomic.js';
import { readSnapshotFile } from '../src/sources/snapshot-file.js';
import type { Report } from '../src/types.js';
import { NO_S6, runCli } from './harness/cli.js';
import { SNAPSHOTS } from './harness/fixtures.js';
import { killAll, REPO_ROOT, startGateway, waitForGatewayReady, waitForOpen } from './harness/processes.js';
import { cleanupAllScratch, makeScratch, profileHome } from './harness/scratch.js';
import { hasBinary, hasPython3, isLinux, requireOrSkip, stepOrSkip } from './harness/skip.js';

/** Runs `promtool check metrics` on text; returns its exit status and output. */
function promtool(text: string): { status: number | null; output: string } {
  const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8', timeout: 20_000 });
  return { status: r.status, output: (r.stdout ?? '') + (r.stderr ?? '') };
}

/** Parses exposition text into `name{labels}` → value (enough for these assertions). */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    out.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return out;
}

const seed001 = () => classify(readSnapshotFile(path.join(SNAPSHOTS, 'seed-001-systemd-orphans.snapshot.json')));

afterEach(async () => {
  await killAll();
});
afterAll(() => cleanupAllScratch());

describe('Prometheus exposition', () => {
  it('counts gateways by home, profile and verdict, kanban writers by DB, findings, exit code; sorted and stable', () => {
    const text = renderPrometheus(seed001(), { nowMs: 1_780_000_000_123 });
    const s = samples(text);
    expect(s.get('hermes_doctor_gateways{home="/root/.hermes",profile="default",verdict="orphan"}')).toBe(1);
    expect(s.get('hermes_doctor_gateways{home="/root/.hermes",profile="default",verdict="supervised"}')).toBe(1);
    expect(s.get('hermes_doctor_gateways{home="/root/.hermes/profiles/argus",profile="argus",verdict="orphan"}')).toBe(1);
    // PID 4154204 holds kanban/.dispatcher.lock, PID 3982251 has kanban.db open rw; the other two lost the lock and do not dispatch.
    expect(s.get('hermes_doctor_kanban_writers{db="/root/.hermes/kanban.db"}')).toBe(2);
    expect(s.get('hermes_doctor_kanban_holders{db="/root/.hermes/kanban.db"}')).toBe(2);
    expect(s.get('hermes_doctor_kanban_risk{db="/root/.hermes/kanban.db",risk="rival-writers"}')).toBe(1);
    expect(s.get('hermes_doctor_kanban_risk{db="/root/.hermes/kanban.db",risk="ok"}')).toBe(0);
    expect(s.get('hermes_doctor_findings{severity="critical"}')).toBe(1);
    expect(s.get('hermes_doctor_findings{severity="warning"}')).toBe(2);
    expect(s.get('hermes_doctor_exit_code')).toBe(2);
    // One orphan_info series per process to remove, naming host, home, PID and verdict; the supervised one has none.
    const r = seed001();
    const orphans = r.processes.filter((p) => p.verdict === 'orphan');
    expect(orphans.length).toBe(2);
    for (const p of orphans) {
      const key = `hermes_doctor_orphan_info{hostname="${r.hostname}",home="${p.hermesHome}",profile="${p.profile}",role="${p.role}",verdict="orphan",pid="${p.pid}"}`;
      expect(s.get(key), key).toBe(1);
    }
    expect([...s.keys()].filter((k) => k.startsWith('hermes_doctor_orphan_info'))).toHaveLength(2);
    expect(s.get('hermes_doctor_build_info{version="unknown"}')).toBe(1);
    expect(samples(renderPrometheus(seed001(), { version: '1.2.3' })).get('hermes_doctor_build_info{version="1.2.3"}')).toBe(1);
    expect(s.get('hermes_doctor_scan_duration_seconds')).toBe(0.048);
    expect(s.get('hermes_doctor_last_run_timestamp_seconds')).toBe(1_780_000_000.123);
    // orphans_killed only when a kill step reported it, never a made-up 0.
    expect(text).not.toContain('orphans_killed');
    expect(samples(renderPrometheus(seed001(), { orphansKilled: 2 })).get('hermes_doctor_orphans_killed')).toBe(2);
    expect(renderPrometheus(seed001(), { nowMs: 5 })).toBe(renderPrometheus(seed001(), { nowMs: 5 }));
  });

  it('escapes label values (backslash, quote, newline)', () => {
    expect(escapeLabel('a\\b"c\nd')).toBe('a\\\\b\\"c\\nd');
  });

  describe.skipIf(requireOrSkip('promtool (apt-get install prometheus)', hasBinary('promtool')))('promtool check metrics', () => {
    it('accepts the metrics of both incident fixtures and of a report with awkward home names', () => {
      for (const f of ['seed-001-systemd-orphans', 'seed-000-webui-respawn']) {
        const text = renderPrometheus(classify(readSnapshotFile(path.join(SNAPSHOTS, `${f}.snapshot.json`))), { orphansKilled: 1 });
        const r = promtool(text);
        expect(r.output).toBe('');
        expect(r.status).toBe(0);
      }
      const report = seed001();
      const weird: Report = structuredClone(report);
      weird.processes[0]!.hermesHome = '/home/o"brien\\x/.hermes\nprofiles';
      const r = promtool(renderPrometheus(weird));
      expect(r.output).toBe('');
      expect(r.status).toBe(0);
      // promtool can fail: a counter without _total, or a broken line, is reported.
      expect(promtool('# HELP x y\n# TYPE x counter\nx 1\n').output).toMatch(/_total/);
      expect(promtool(renderPrometheus(report).replace('hermes_doctor_exit_code 2', 'hermes_doctor_exit_code{ 2')).status).not.toBe(0);
    });

    it('orphans --format prometheus on this host passes promtool', async () => {
      const r = await runCli(['orphans', '--format', 'prometheus', ...NO_S6]);
      expect(r.err).toBe('');
      expect(r.out).toMatch(/^hermes_doctor_exit_code \d$/m);
      expect(samples(r.out).get('hermes_doctor_exit_code')).toBe(r.code);
      const p = promtool(r.out);
      expect(p.output).toBe('');
      expect(p.status).toBe(0);
    });
  });
});

describe('textfile', () => {
  it('is written by rename: a concurrent reader only ever sees whole files; no temporary file is left', async () => {
    const dir = makeScratch().dir;
    const big = (n: number) => `# HELP hermes_doctor_x test\n# TYPE hermes_doctor_x gauge\n${Array.from({ length: 4000 }, (_, i) => `hermes_doctor_x{i="${i}"} ${n}`).join('\n')}\nhermes_doctor_end ${n}\n`;
    writeTextfile(dir, big(0));
    const file = path.join(dir, TEXTFILE_NAME);
    // A separate process reads the file in a loop while this one rewrites it.
    const reader = spawn(
      process.execPath,
      ['-e', `const fs=require('fs');let bad=0,n=0;const end=Date.now()+1500;while(Date.now()<end){const t=fs.readFileSync(${JSON.stringify(file)},'utf8');n++;if(!/hermes_doctor_end \\d+\\n$/.test(t)||t.split('\\n').length!==4004)bad++;}console.log(JSON.stringify({bad,n}))`],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    reader.stdout.on('data', (b: Buffer) => (out += b.toString()));
    const done = new Promise<void>((r) => reader.once('close', () => r()));
    let writes = 0;
    const until = Date.now() + 1200;
    while (Date.now() < until) {
      writeTextfile(dir, big(++writes));
      await new Promise((r) => setImmediate(r));
    }
    await done;
    const res = JSON.parse(out) as { bad: number; n: number };
    expect(writes).toBeGreaterThan(10);
    expect(res.n).toBeGreaterThan(10);
    expect(res.bad).toBe(0);
    expect(fs.readdirSync(dir)).toEqual([TEXTFILE_NAME]);
    expect(fs.readFileSync(file, 'utf8')).toBe(big(writes));
  });

  it('a missing folder is an error with the cause, nothing left behind; the CLI says so and exits non-zero', async () => {
    const dir = path.join(makeScratch().dir, 'missing');
    expect(() => writeFileAtomic(path.join(dir, 'x.prom'), 'x')).toThrow(/ENOENT/);
    const r = await runCli(['orphans', '--quiet', '--textfile-dir', dir, '--home', dir, ...NO_S6]);
    expect(r.err).toContain(`cannot write the textfile in ${dir}`);
    expect(r.code).toBe(3);
  });
});

describe.skipIf(requireOrSkip('Linux /proc and python3', isLinux() && hasPython3()))('--quiet on real gateways', () => {
  it('silent and exit 0 when healthy; the textfile is still written and accepted by promtool', async () => {
    const scratch = makeScratch();
    const root = scratch.root();
    const g = startGateway({ root });
    await waitForGatewayReady(root, g.pid);
    const prom = path.join(scratch.dir, 'prom');
    fs.mkdirSync(prom);
    const r = await runCli(['orphans', '--quiet', '--home', root, '--textfile-dir', prom, ...NO_S6]);
    expect(r.out).toBe('');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const text = fs.readFileSync(path.join(prom, TEXTFILE_NAME), 'utf8');
    expect(samples(text).get(`hermes_doctor_gateways{home="${root}",profile="default",verdict="manual"}`)).toBe(1);
    expect(samples(text).get('hermes_doctor_exit_code')).toBe(0);
    // promtool is required on CI; a laptop without it says so and checks the rest.
    if (stepOrSkip('promtool (apt-get install prometheus)', hasBinary('promtool'))) expect(promtool(text).status).toBe(0);
    // JSON and prometheus formats are quiet too when healthy.
    expect((await runCli(['orphans', '--quiet', '--json', '--home', root, ...NO_S6])).out).toBe('');
  });

  it('loud with the finding and a non-zero exit when not healthy (a duplicate gateway from a shell)', async () => {
    const scratch = makeScratch();
    const root = scratch.root('argus');
    const home = profileHome(root, 'argus');
    const first = startGateway({ root, profile: 'argus' });
    await waitForGatewayReady(home, first.pid);
    const second = startGateway({ root, profile: 'argus', env: { STANDIN_STAY_ON_LOCK_BUSY: '1' } });
    await waitForOpen(second.pid, 'kanban.db', 8000, 'the second gateway to open kanban.db');
    const prom = path.join(scratch.dir, 'prom');
    fs.mkdirSync(prom);
    const live = await runCli(['orphans', '--json', '--home', home, ...NO_S6]);
    const report = JSON.parse(live.out) as Report;
    expect(report.processes.find((p) => p.pid === second.pid)?.verdict).toBe('duplicate');
    const r = await runCli(['orphans', '--quiet', '--no-color', '--home', home, '--textfile-dir', prom, ...NO_S6]);
    expect(r.code).toBe(report.summary.exitCode);
    expect(r.code).toBeGreaterThan(0);
    expect(r.out).toContain('DUPLICATE_GATEWAY');
    expect(r.out).toContain(`remedy: hermes-doctor orphans --kill --pid ${second.pid} ${NO_S6.join(' ')} --home ${home}`);
    const s = samples(fs.readFileSync(path.join(prom, TEXTFILE_NAME), 'utf8'));
    expect(s.get(`hermes_doctor_gateways{home="${home}",profile="argus",verdict="duplicate"}`)).toBe(1);
    expect(s.get('hermes_doctor_exit_code')).toBe(r.code);
    expect(s.get(`hermes_doctor_orphan_info{hostname="${report.hostname}",home="${home}",profile="argus",role="gateway",verdict="duplicate",pid="${second.pid}"}`)).toBe(1);
    const version = (JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
    expect(s.get(`hermes_doctor_build_info{version="${version}"}`)).toBe(1);
  });
});
