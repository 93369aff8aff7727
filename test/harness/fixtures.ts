// Recorded outputs of platforms that cannot run here (fixtures/darwin, fixtures/win32): a loader that
// turns a folder of recorded command outputs into the recorded command runner, the only part replaced.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { recordedRunner, type RunResult } from '../../src/sources/runner.js';
import type { PortLookup, ProcessLister, ProcessRow } from '../../src/sources/processlist.js';
import { REPO_ROOT } from './processes.js';

export const FIXTURES = path.join(REPO_ROOT, 'fixtures');
/** fixtures/snapshots: recorded host snapshots and their expected verdicts. */
export const SNAPSHOTS = path.join(FIXTURES, 'snapshots');

/** A recorded output: header fields (`# name: value` lines before `---`) and the raw body after it. */
export interface Fixture {
  meta: Record<string, string>;
  body: string;
}

/** Reads a text fixture. Throws when the header is missing its `---` end or the documentation fields. */
export function readFixture(rel: string): Fixture {
  const text = fs.readFileSync(path.join(FIXTURES, rel), 'utf8');
  const end = text.indexOf('\n---\n');
  if (end < 0) throw new Error(`${rel}: no '---' line after the header`);
  const meta: Record<string, string> = {};
  for (const line of text.slice(0, end).split('\n')) {
    const m = /^# ([a-z]+): (.*)$/.exec(line);
    if (m) meta[m[1]!] = m[2]!;
  }
  for (const need of ['command', 'os', 'format']) if (!meta[need]) throw new Error(`${rel}: header lacks '# ${need}:'`);
  return { meta, body: text.slice(end + 5) };
}

/** A fixture as the runner result it records: exit code (null with `# error:`), body as stdout, stderr, error. */
function resultOf(f: Fixture): Partial<RunResult> {
  return {
    code: f.meta.error ? null : Number(f.meta.exit ?? 0),
    stdout: f.body,
    stderr: f.meta.stderr ?? '',
    error: f.meta.error ?? null,
  };
}

/** The runner result recorded in fixtures/REL. */
export function recordedResult(rel: string): Partial<RunResult> {
  return resultOf(readFixture(rel));
}

/**
 * A recorded runner from every `*.txt` with a `# key:` in `dir`, then `overrides` (fixture paths
 * relative to fixtures/) replacing the same keys.
 */
export function runnerFrom(dir: string, ...overrides: string[]) {
  const outputs: Record<string, Partial<RunResult> | Partial<RunResult>[]> = {};
  for (const f of fs.readdirSync(path.join(FIXTURES, dir)).filter((x) => x.endsWith('.txt')).sort()) {
    const fx = readFixture(path.join(dir, f));
    if (fx.meta.key) outputs[fx.meta.key] = resultOf(fx);
  }
  for (const o of overrides) {
    const fx = readFixture(o);
    if (!fx.meta.key) throw new Error(`${o}: no '# key:'`);
    outputs[fx.meta.key] = resultOf(fx);
  }
  return recordedRunner(outputs);
}

/** A process lister answering a recorded ps-list result (`{fixture, data}` JSON; startTime as ISO text). */
export function listerFrom(rel: string): ProcessLister {
  const j = JSON.parse(fs.readFileSync(path.join(FIXTURES, rel), 'utf8')) as { fixture: string; data: Record<string, unknown>[] };
  if (!j.fixture) throw new Error(`${rel}: no 'fixture' description`);
  return async () =>
    j.data.map((r) => ({ ...r, ...(typeof r.startTime === 'string' ? { startTime: new Date(r.startTime) } : {}) }) as unknown as ProcessRow);
}

/** A port lookup answering a recorded find-process result (`{fixture, data: {port: [...]}}`). */
export function portsFrom(rel: string): PortLookup & { asked: number[] } {
  const j = JSON.parse(fs.readFileSync(path.join(FIXTURES, rel), 'utf8')) as { fixture: string; data: Record<string, { pid: number; name: string }[]> };
  const asked: number[] = [];
  const fn = async (port: number) => {
    asked.push(port);
    return (j.data[String(port)] ?? []).map((x) => ({ pid: x.pid, name: x.name }));
  };
  return Object.assign(fn, { asked });
}

/** What a recorded host's HERMES_HOME holds on disk (created under a scratch dir at the host path). */
export interface HomeLayout {
  /** gateway.pid content (JSON object or raw text). */
  pid?: Record<string, unknown> | string;
  /** gateway_state.json content. */
  state?: Record<string, unknown> | string;
  /** Create `.gateway-launchd-unsupported`. */
  launchdUnsupported?: boolean;
  /** Create kanban.db, -wal, kanban/.dispatcher.lock and gateway.lock (a root's files). */
  kanban?: boolean;
}

/** Lays out a host home under `dir` (host `/Users/a/.hermes` → `<dir>/Users/a/.hermes`). */
export function layoutHome(dir: string, hostHome: string, l: HomeLayout = {}): void {
  const local = path.join(dir, hostHome.startsWith('/') ? hostHome : `/${hostHome}`);
  fs.mkdirSync(local, { recursive: true });
  const write = (name: string, v: Record<string, unknown> | string) => fs.writeFileSync(path.join(local, name), typeof v === 'string' ? v : JSON.stringify(v));
  fs.writeFileSync(path.join(local, 'gateway.lock'), '');
  if (l.pid !== undefined) write('gateway.pid', l.pid);
  if (l.state !== undefined) write('gateway_state.json', l.state);
  if (l.launchdUnsupported) write('.gateway-launchd-unsupported', { written_at: '2026-11-20T08:05:00Z', reason: 'launchctl bootstrap exit 5' });
  if (l.kanban) {
    fs.mkdirSync(path.join(local, 'kanban'), { recursive: true });
    for (const f of ['kanban.db', 'kanban.db-wal', 'kanban.db-shm', 'kanban/.dispatcher.lock']) fs.writeFileSync(path.join(local, f), '');
  }
}
