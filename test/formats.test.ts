/**
 * Output conventions operators already have: `--format nagios` (plugin output: status word and summary,
 * `|` perfdata, long output; the Nagios Plugin Development Guidelines), `--plain` (one tab-separated
 * line per process, as `systemctl --plain --no-legend`), TERM=dumb without colour (the real CLI on a
 * real pseudo-terminal from util-linux `script`), and what `--quiet --json` prints on a healthy host.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { classify } from '../src/core/classify.js';
import { colorWanted } from '../src/output/color.js';
import { NAGIOS_STATUS, renderNagios } from '../src/output/nagios.js';
import { PLAIN_FIELDS, renderPlain } from '../src/output/plain.js';
import { readSnapshotFile } from '../src/sources/snapshot-file.js';
import type { Report } from '../src/types.js';
import { NO_S6, homesArgs, runCli } from './harness/cli.js';
import { SNAPSHOTS } from './harness/fixtures.js';
import { CLI_BIN, killAll, REPO_ROOT, startGateway, waitForGatewayReady, waitForOpen } from './harness/processes.js';
import { cleanupAllScratch, makeScratch, profileHome } from './harness/scratch.js';
import { hasBinary, hasPython3, isLinux, requireOrSkip } from './harness/skip.js';
import { assertOrphansV1 } from './contract.js';

const SEED001 = path.join(SNAPSHOTS, 'seed-001-systemd-orphans.snapshot.json');
const seed001 = (): Report => classify(readSnapshotFile(SEED001));

/**
 * Parses plugin output per the guidelines: line 1 `TEXT | PERFDATA`, perfdata items
 * `'label'=value[UOM];[warn];[crit];[min];[max]` separated by spaces; the rest is long output.
 */
function parseNagios(out: string): { text: string; perf: Map<string, { value: number; uom: string; rest: string }>; long: string[] } {
  const [first, ...long] = out.replace(/\n$/, '').split('\n');
  const bar = first!.split('|');
  expect(bar, `exactly one | on the first line: ${first}`).toHaveLength(2);
  const perf = new Map<string, { value: number; uom: string; rest: string }>();
  for (const item of bar[1]!.trim().split(' ')) {
    const m = /^([A-Za-z_][\w]*)=(-?\d+(?:\.\d+)?)(s|%|B|c)?((?:;[^;\s]*){0,4})$/.exec(item);
    expect(m, `perfdata item ${item}`).not.toBeNull();
    perf.set(m![1]!, { value: Number(m![2]), uom: m![3] ?? '', rest: m![4]! });
  }
  for (const l of long) expect(l).not.toContain('|');
  return { text: bar[0]!.trimEnd(), perf, long };
}

afterEach(async () => {
  await killAll();
});
afterAll(() => cleanupAllScratch());

describe('--format nagios', () => {
  it('seed 001: CRITICAL, the rival writers and the verdicts on line 1, counts as perfdata, one long-output line per finding', () => {
    const r = seed001();
    const { text, perf, long } = parseNagios(renderNagios(r));
    expect(text).toBe('HERMES CRITICAL - rival writers on 1 kanban.db; 4 Hermes processes: 2 supervised, 2 orphan');
    expect(Object.fromEntries([...perf].map(([k, v]) => [k, v.value]))).toEqual({
      processes: 4,
      supervised: 2,
      orphans: 2,
      unknown: 0,
      critical: 1,
      warnings: 2,
      rival_writer_dbs: 1,
      scan_time: 0.048,
    });
    expect(perf.get('scan_time')!.uom).toBe('s');
    expect(perf.get('processes')!.rest).toBe(';;;0');
    expect(long).toHaveLength(3);
    // Only the orphan with kanban.db open rw dispatches; the other lost kanban/.dispatcher.lock to PID 4154204.
    expect(long[0]).toMatch(/^CRITICAL RIVAL_WRITERS: \/root\/\.hermes\/kanban\.db: .* \(remedy: hermes-doctor orphans --kill --pid 3982251\)$/);
    expect(long.slice(1).every((l) => l.startsWith('WARNING ORPHAN_GATEWAY: '))).toBe(true);
  });

  it('the status word follows the exit code (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN); a | in host text cannot split the line', () => {
    for (const [code, word] of NAGIOS_STATUS.entries()) {
      const r = seed001();
      r.summary.exitCode = code as Report['summary']['exitCode'];
      expect(renderNagios(r).split(' ')[1]).toBe(word);
    }
    const r = seed001();
    r.processes[0]!.hermesHome = '/root/a|b';
    r.findings[0]!.message = 'x | processes=999;;;0\nHERMES OK - forged';
    const out = renderNagios(r);
    const { perf, long } = parseNagios(out);
    expect(perf.get('processes')!.value).toBe(4);
    expect(long[0]).toContain('x / processes=999;;;0\\nHERMES OK - forged');
    expect(out.split('\n').filter((l) => l.startsWith('HERMES '))).toHaveLength(1);
  });

  describe.skipIf(requireOrSkip('Linux /proc and python3 with sqlite3', isLinux() && hasPython3()))('on real stand-in gateways', () => {
    it('a healthy host: HERMES OK on one line, exit 0; a duplicate: CRITICAL with its finding, exit 2', async () => {
      const root = makeScratch().root('argus');
      const home = profileHome(root, 'argus');
      const first = startGateway({ root, profile: 'argus' });
      await waitForGatewayReady(home, first.pid);
      const ok = await runCli(['orphans', '--format', 'nagios', ...NO_S6, ...homesArgs(home)]);
      expect(ok.err).toBe('');
      expect(ok.out).toBe('HERMES OK - 1 Hermes process: 1 manual | ' + ok.out.split(' | ')[1]);
      expect(ok.out.split('\n')).toHaveLength(2); // one line and its newline
      expect(parseNagios(ok.out).perf.get('processes')!.value).toBe(1);
      expect(ok.code).toBe(0);

      const second = startGateway({ root, profile: 'argus', env: { STANDIN_STAY_ON_LOCK_BUSY: '1' } });
      await waitForOpen(second.pid, 'kanban.db', 8000, 'the second gateway to open kanban.db');
      const bad = await runCli(['orphans', '--format', 'nagios', ...NO_S6, ...homesArgs(home)]);
      const { text, perf, long } = parseNagios(bad.out);
      expect(text).toBe('HERMES CRITICAL - rival writers on 1 kanban.db; 2 Hermes processes: 1 manual, 1 duplicate');
      expect(perf.get('orphans')!.value).toBe(1);
      expect(long.some((l) => l.startsWith('WARNING DUPLICATE_GATEWAY: ') && l.includes(`(remedy: hermes-doctor orphans --kill --pid ${second.pid} `)), bad.out).toBe(true);
      expect(bad.code).toBe(2);
    });
  });
});

describe('--plain', () => {
  it('one tab-separated line per process with the documented fields; no header, box drawing or colour', () => {
    const r = seed001();
    const out = renderPlain(r, Date.parse(r.takenAt));
    const lines = out.replace(/\n$/, '').split('\n');
    expect(lines).toHaveLength(r.processes.length);
    for (const [i, line] of lines.entries()) {
      const f = line.split('\t');
      expect(f).toHaveLength(PLAIN_FIELDS.length);
      const p = r.processes[i]!;
      expect(f[0]).toBe(String(p.pid));
      expect(f[1]).toBe(String(p.ppid));
      expect(f[7]).toBe(p.verdict);
      expect(f[8]).toBe(p.hermesHome);
    }
    expect(lines[0]).toBe('2361366\t1\t1-04:09:41\tdefault\tgateway\t-\t-\torphan\t/root/.hermes');
    expect(lines[2]).toBe('4154204\t1\t41:12\tdefault\tgateway\tsystemd:hermes-gateway.service\trw +dispatcher\tsupervised\t/root/.hermes');
    expect(out).not.toMatch(/[\u2500-\u257f]|\u001b|PID\tPPID/);
  });

  it('a tab, line feed or escape in host text stays inside its field: still one line of 9 fields per process', () => {
    const r = seed001();
    r.processes[0]!.profile = 'evil\tprofile\nPID 1 supervised\u001b[2J';
    r.processes[0]!.hermesHome = '/root/\t.hermes';
    const lines = renderPlain(r).replace(/\n$/, '').split('\n');
    expect(lines).toHaveLength(r.processes.length);
    expect(lines.every((l) => l.split('\t').length === PLAIN_FIELDS.length)).toBe(true);
    expect(lines[0]!.split('\t')[3]).toBe('evil\\tprofile\\nPID 1 supervised\\x1b[2J');
  });

  it('through the CLI: --plain equals --format plain; with --format json it is a usage error (exit 3)', async () => {
    const a = await runCli(['orphans', '--from', SEED001, '--all-users', '--plain']);
    const b = await runCli(['orphans', '--from', SEED001, '--all-users', '--format', 'plain']);
    expect(a.out).toBe(b.out);
    expect(a.out.split('\n')[0]).toBe('2361366\t1\t1-04:09:41\tdefault\tgateway\t-\t-\torphan\t/root/.hermes');
    expect(a.code).toBe(2);
    const c = await runCli(['orphans', '--from', SEED001, '--all-users', '--plain', '--format', 'json']);
    expect(c.out).toBe('');
    expect(c.err).toContain('--plain is --format plain');
    expect(c.code).toBe(3);
  });
});

describe('colour', () => {
  it('colorWanted: TTY yes, TERM=dumb no, FORCE_COLOR beats TERM=dumb, NO_COLOR beats both', () => {
    const saved = { TERM: process.env.TERM, NO_COLOR: process.env.NO_COLOR, FORCE_COLOR: process.env.FORCE_COLOR };
    try {
      delete process.env.NO_COLOR;
      delete process.env.FORCE_COLOR;
      process.env.TERM = 'xterm-256color';
      expect(colorWanted({ isTTY: true })).toBe(true);
      expect(colorWanted({ isTTY: false })).toBe(false);
      process.env.TERM = 'dumb';
      expect(colorWanted({ isTTY: true })).toBe(false);
      process.env.FORCE_COLOR = '1';
      expect(colorWanted({ isTTY: true })).toBe(true);
      process.env.NO_COLOR = '1';
      expect(colorWanted({ isTTY: true })).toBe(false);
    } finally {
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });

  describe.skipIf(requireOrSkip('script (util-linux/bsdutils) for a real pseudo-terminal', hasBinary('script')))('the CLI on a real pseudo-terminal', () => {
    const onPty = (term: string) => {
      const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, TERM: term };
      const cmd = `${JSON.stringify(process.execPath)} ${JSON.stringify(CLI_BIN)} orphans --from ${JSON.stringify(SEED001)} --all-users`;
      const r = spawnSync('script', ['-qec', cmd, '/dev/null'], { encoding: 'utf8', env, cwd: REPO_ROOT, timeout: 30_000 });
      return r.stdout ?? '';
    };
    it('TERM=xterm gets colour; TERM=dumb gets none', () => {
      const xterm = onPty('xterm');
      expect(xterm).toContain('RIVAL_WRITERS');
      expect(xterm).toMatch(/\u001b\[\d+(;\d+)*m/);
      const dumb = onPty('dumb');
      expect(dumb).toContain('RIVAL_WRITERS');
      expect(dumb).not.toMatch(/\u001b/);
    });
  });
});

describe.skipIf(requireOrSkip('Linux /proc and python3 with sqlite3', isLinux() && hasPython3()))('--quiet --json', () => {
  it('healthy: prints nothing at all (zero bytes) and exits 0; not healthy: exactly one whole JSON document', async () => {
    const root = makeScratch().root('argus');
    const home = profileHome(root, 'argus');
    const first = startGateway({ root, profile: 'argus' });
    await waitForGatewayReady(home, first.pid);
    const quiet = await runCli(['orphans', '--quiet', '--json', ...NO_S6, ...homesArgs(home)]);
    expect(quiet.out).toBe('');
    expect(quiet.err).toBe('');
    expect(quiet.code).toBe(0);
    const second = startGateway({ root, profile: 'argus', env: { STANDIN_STAY_ON_LOCK_BUSY: '1' } });
    await waitForOpen(second.pid, 'kanban.db', 8000, 'the second gateway to open kanban.db');
    const loud = await runCli(['orphans', '--quiet', '--json', ...NO_S6, ...homesArgs(home)]);
    const doc = JSON.parse(loud.out) as Report;
    assertOrphansV1(doc);
    expect(loud.out.trimEnd().split('\n').at(-1)).toBe('}');
    expect(doc.processes.find((p) => p.pid === second.pid)?.verdict).toBe('duplicate');
    expect(loud.code).toBe(2);
  });
});
