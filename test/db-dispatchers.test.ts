/**
 * MULTIPLE_DISPATCHERS: `kanban.dispatch_in_gateway` read from real config.yaml files (sources/kanban-config.ts
 * with the `yaml` parser, through safe-read.ts), attached to the kanban databases by observeDatabases, and
 * judged by core/db-health.ts through the classifier: an info where the singleton `.dispatcher.lock`
 * (306e2d2) lets only one dispatch, critical where the Hermes has none (v0.15.1), a warning when unknown.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { classify } from '../src/core/classify.js';
import { observeDatabases } from '../src/sources/databases.js';
import { dispatchSettingOf, homesOfRoot, pythonTruthy, readDispatchSetting } from '../src/sources/kanban-config.js';
import type { DatabaseRecord, DispatchSetting, HostSnapshot, LockRecord, ProcessRecord } from '../src/types.js';
import { cleanUpAfterEach } from './harness/cleanup.js';
import { home, proc, snapshot } from './harness/records.js';
import { makeScratch } from './harness/scratch.js';
import { databaseRecord } from './harness/sqlite.js';

const ROOT = '/root/.hermes';
const ARGUS = `${ROOT}/profiles/argus`;
const GW = ['/usr/bin/python3', '-m', 'hermes_cli.main', 'gateway', 'run'];
const TAKEN = '2026-12-02T06:00:00.000Z';
const OLD = '2026-12-02T05:50:00.000Z';
const flock = (file: string, pid: number): LockRecord => ({ path: file, inode: 1, kind: 'FLOCK', access: 'WRITE', pid });

function db(dispatchConfig: DispatchSetting[]): DatabaseRecord {
  return databaseRecord({ path: `${ROOT}/kanban.db`, dispatchConfig });
}
const yes = (h: string): DispatchSetting => ({ home: h, dispatches: 'yes', explicit: false, why: 'default' });
const no = (h: string): DispatchSetting => ({ home: h, dispatches: 'no', explicit: true, why: 'config.yaml sets kanban.dispatch_in_gateway: false' });

/** Two live gateways of one root: the default profile (10) and argus (20), both holding their gateway.lock. */
function twoGateways(over: Partial<HostSnapshot>): HostSnapshot {
  const procs: ProcessRecord[] = [
    proc(10, GW, { env: { HERMES_HOME: ROOT }, startTime: OLD }),
    proc(20, [...GW.slice(0, 3), '-p', 'argus', 'gateway', 'run'], { env: { HERMES_HOME: ARGUS }, startTime: OLD }),
  ];
  return snapshot({
    takenAt: TAKEN,
    processes: procs,
    homes: [home(ROOT), home(ARGUS)],
    locks: [flock(`${ROOT}/gateway.lock`, 10), flock(`${ARGUS}/gateway.lock`, 20)],
    ...over,
  });
}
const md = (r: ReturnType<typeof classify>) => r.findings.filter((f) => f.code === 'MULTIPLE_DISPATCHERS');

describe('kanban.dispatch_in_gateway from config.yaml', () => {
  cleanUpAfterEach();

  it('follows load_config: absent file or key is the default true; Python truthiness; YAML 1.1 booleans', () => {
    expect(dispatchSettingOf('/h', null)).toMatchObject({ dispatches: 'yes', explicit: false });
    expect(dispatchSettingOf('/h', '')).toMatchObject({ dispatches: 'yes', explicit: false });
    expect(dispatchSettingOf('/h', 'model: x\n')).toMatchObject({ dispatches: 'yes', explicit: false });
    expect(dispatchSettingOf('/h', 'kanban:\n  dispatch_interval_seconds: 2\n')).toMatchObject({ dispatches: 'yes', explicit: false });
    expect(dispatchSettingOf('/h', 'kanban:\n  dispatch_in_gateway: false\n')).toMatchObject({ dispatches: 'no', explicit: true });
    expect(dispatchSettingOf('/h', 'kanban:\n  dispatch_in_gateway: true\n')).toMatchObject({ dispatches: 'yes', explicit: true });
    // PyYAML is YAML 1.1: `off` and `no` are false there.
    expect(dispatchSettingOf('/h', 'kanban:\n  dispatch_in_gateway: off\n').dispatches).toBe('no');
    expect(dispatchSettingOf('/h', 'kanban:\n  dispatch_in_gateway: no\n').dispatches).toBe('no');
    expect(dispatchSettingOf('/h', 'kanban:\n  dispatch_in_gateway: 0\n').dispatches).toBe('no');
    expect(dispatchSettingOf('/h', 'kanban:\n  dispatch_in_gateway:\n').dispatches).toBe('no');
    // The string "false" is truthy in Python: the gateway dispatches.
    expect(dispatchSettingOf('/h', 'kanban:\n  dispatch_in_gateway: "false"\n').dispatches).toBe('yes');
    expect(pythonTruthy([])).toBe(false);
    expect(pythonTruthy({ a: 1 })).toBe(true);
  });

  it('a broken or odd config.yaml is unknown with why, never a throw', () => {
    expect(dispatchSettingOf('/h', 'kanban: [unclosed\n  - x: : :\n')).toMatchObject({ dispatches: 'unknown' });
    expect(dispatchSettingOf('/h', 'kanban: 3\n')).toMatchObject({ dispatches: 'unknown', why: 'kanban in config.yaml is not a mapping' });
    expect(dispatchSettingOf('/h', '- a\n- b\n')).toMatchObject({ dispatches: 'unknown' });
    const bomb = 'a: &a ["x","x","x","x","x","x","x","x","x"]\n' + Array.from({ length: 12 }, (_, i) => `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)},*${String.fromCharCode(97 + i)}]`).join('\n') + '\n';
    expect(() => dispatchSettingOf('/h', bomb)).not.toThrow();
  });

  it('reads real files through safe-read: a FIFO config.yaml is not waited on; a missing one is the default', () => {
    const s = makeScratch();
    const root = s.root('argus', 'bob');
    fs.writeFileSync(path.join(root, 'config.yaml'), 'kanban:\n  dispatch_in_gateway: false\n');
    execFileSync('mkfifo', [path.join(root, 'profiles', 'bob', 'config.yaml')]);
    expect(readDispatchSetting(root)).toMatchObject({ dispatches: 'no', explicit: true });
    expect(readDispatchSetting(path.join(root, 'profiles', 'argus'))).toMatchObject({ dispatches: 'yes', explicit: false });
    expect(readDispatchSetting(path.join(root, 'profiles', 'bob'))).toMatchObject({ dispatches: 'unknown' });
    expect(homesOfRoot(root, [path.join(root, 'profiles', 'bob'), '/elsewhere', path.join(root, 'profiles', 'a', 'b')])).toEqual([root, path.join(root, 'profiles', 'bob')]);
  });

  it('observeDatabases attaches the settings of the root and its profiles in sight to each kanban database, not to state.db', () => {
    const s = makeScratch();
    const root = s.root('argus');
    const argus = path.join(root, 'profiles', 'argus');
    fs.writeFileSync(path.join(root, 'kanban.db'), Buffer.alloc(4096));
    fs.writeFileSync(path.join(root, 'state.db'), Buffer.alloc(4096));
    fs.writeFileSync(path.join(argus, 'config.yaml'), 'kanban:\n  dispatch_in_gateway: false\n');
    const recs = observeDatabases([root], [root, argus], Date.now());
    const k = recs.find((r) => r.path === path.join(root, 'kanban.db'))!;
    expect(k.dispatchConfig!.map((d) => [d.home, d.dispatches])).toEqual([
      [root, 'yes'],
      [argus, 'no'],
    ]);
    expect(recs.find((r) => r.kind === 'state')!.dispatchConfig).toBeUndefined();
  });
});

describe('MULTIPLE_DISPATCHERS', () => {
  it('306e2d2 (singleton lock held): two profiles configured to dispatch is an info naming both, not an alert', () => {
    const r = classify(twoGateways({ databases: [db([yes(ROOT), yes(ARGUS)])], locks: [flock(`${ROOT}/gateway.lock`, 10), flock(`${ARGUS}/gateway.lock`, 20), flock(`${ROOT}/kanban/.dispatcher.lock`, 10)], kanbanRoots: [{ root: ROOT, dispatcherLockExists: true }] }));
    const f = md(r);
    expect(f).toHaveLength(1);
    expect(f[0]).toMatchObject({ severity: 'info', subject: { db: `${ROOT}/kanban.db`, home: ROOT } });
    expect(f[0]!.message).toContain(ARGUS);
    expect(f[0]!.message).toContain('.dispatcher.lock');
    expect(r.databases![0]!.findings).toContain('MULTIPLE_DISPATCHERS');
    expect(r.databases![0]!.dispatchConfig).toHaveLength(2);
  });

  it('no singleton lock (v0.15.1 source): two profiles dispatching is critical', () => {
    const sources = [{ dir: '/opt/hermes/src', singletonDispatcherLock: false, file: '/opt/hermes/src/gateway/run.py', pids: [10, 20] }];
    const r = classify(twoGateways({ databases: [db([yes(ROOT), yes(ARGUS)])], hermesSources: sources, kanbanRoots: [{ root: ROOT, dispatcherLockExists: false }] }));
    const f = md(r);
    expect(f).toHaveLength(1);
    expect(f[0]!.severity).toBe('critical');
    expect(f[0]!.message).toContain('no singleton dispatcher lock');
    expect(r.summary.exitCode).toBe(2);
  });

  it('one profile turned off: no finding, also without the singleton lock', () => {
    const sources = [{ dir: '/opt/hermes/src', singletonDispatcherLock: false, file: '/opt/hermes/src/gateway/run.py', pids: [10, 20] }];
    const r = classify(twoGateways({ databases: [db([yes(ROOT), no(ARGUS)])], hermesSources: sources, kanbanRoots: [{ root: ROOT, dispatcherLockExists: false }] }));
    expect(md(r)).toEqual([]);
  });

  it('a profile configured to dispatch whose gateway does not run does not count; unknown settings do not count', () => {
    const single = twoGateways({ processes: [proc(10, GW, { env: { HERMES_HOME: ROOT }, startTime: OLD })], locks: [flock(`${ROOT}/gateway.lock`, 10)], databases: [db([yes(ROOT), yes(ARGUS)])] });
    expect(md(classify(single))).toEqual([]);
    const unknown = twoGateways({ databases: [db([yes(ROOT), { home: ARGUS, dispatches: 'unknown', explicit: false, why: 'config.yaml is not valid YAML' }])] });
    expect(md(classify(unknown))).toEqual([]);
  });

  it('a database record without settings (an older snapshot) gives no finding', () => {
    const { dispatchConfig: _drop, ...old } = db([]);
    expect(md(classify(twoGateways({ databases: [old] })))).toEqual([]);
  });
});

describe('snapshot files', () => {
  it('validate dispatchConfig: a well-formed setting loads, a mistyped one names its JSON path', async () => {
    const { parseSnapshot, SnapshotError } = await import('../src/sources/snapshot-file.js');
    const good = snapshot({ databases: [db([yes(ROOT), { home: ARGUS, dispatches: 'no', explicit: true, why: 'config.yaml: false' }])] });
    expect(parseSnapshot(JSON.stringify(good)).databases![0]!.dispatchConfig).toHaveLength(2);
    const bad = JSON.parse(JSON.stringify(good)) as HostSnapshot;
    (bad.databases![0]!.dispatchConfig![1] as { dispatches: string }).dispatches = 'maybe';
    let err: unknown;
    try {
      parseSnapshot(JSON.stringify(bad), 'bad.json');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SnapshotError);
    expect((err as InstanceType<typeof SnapshotError>).problems.join('\n')).toMatch(/databases\[0\]\.dispatchConfig\[1\]\.dispatches: expected one of yes, no, unknown/);
  });
});
