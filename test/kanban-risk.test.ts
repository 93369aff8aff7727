/**
 * Kanban risk from evidence (src/core/kanban-risk.ts through the classifier): who holds
 * `.dispatcher.lock` and `kanban.db.dispatch.lock`, whether the root's Hermes has the singleton lock at
 * all (its source folder, or the absence of the lock file), fds when seen; `unknown` with why otherwise.
 * And the source detector (src/sources/hermes-source.ts) on the real source of both versions.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { execFileSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { classify } from '../src/core/classify.js';
import { observeHermesSources, singletonLockOf, realSourceFs } from '../src/sources/hermes-source.js';
import type { HermesSource, HostSnapshot, LockRecord, ProcessRecord, SupervisorObservation } from '../src/types.js';
import { REPO_ROOT } from './harness/processes.js';
import { home, proc, snapshot, unit } from './harness/records.js';
import { requireOrSkip } from './harness/skip.js';

const ROOT = '/root/.hermes';
const ARGUS = `${ROOT}/profiles/argus`;
const GW = ['/usr/bin/python3', '-m', 'hermes_cli.main', 'gateway', 'run'];
const TAKEN = '2026-12-02T06:00:00.000Z';
/** Started 10 minutes before the snapshot. */
const OLD = '2026-12-02T05:50:00.000Z';
const flock = (file: string, pid: number): LockRecord => ({ path: file, inode: 1, kind: 'FLOCK', access: 'WRITE', pid });
const gwLock = (h: string, pid: number) => flock(`${h}/gateway.lock`, pid);
const DISPATCHER = `${ROOT}/kanban/.dispatcher.lock`;

/** The incident on systemd: the unit's default gateway (10) and a shell `-p argus` gateway beside an argus unit that is down (20). */
function incident(over: Partial<HostSnapshot>, extra: Partial<ProcessRecord> = {}) {
  const sd: SupervisorObservation = {
    kind: 'systemd', status: 'present', detail: '',
    systemdUnits: [unit({ mainPid: 10 }), unit({ unit: 'hermes-gateway-argus.service', mainPid: 0, activeState: 'failed', subState: 'failed', controlGroup: '/system.slice/hermes-gateway-argus.service', hermesHome: ARGUS, execStart: [...GW.slice(0, 3), '-p', 'argus', 'gateway', 'run'] })],
  };
  const cg = [{ hierarchy: 0, controllers: '', path: '/system.slice/hermes-gateway.service' }];
  return snapshot({
    takenAt: TAKEN,
    processes: [
      proc(10, GW, { cgroups: cg, env: { HERMES_HOME: ROOT }, startTime: OLD }),
      proc(20, [...GW.slice(0, 3), '-p', 'argus', 'gateway', 'run'], { env: { HERMES_HOME: ROOT }, startTime: OLD, tty: 'pts/1', ...extra }),
    ],
    homes: [home(ROOT), home(ARGUS)],
    supervisors: [sd, { kind: 's6', status: 'absent', detail: '', s6Slots: [] }],
    locks: [gwLock(ROOT, 10), gwLock(ARGUS, 20)],
    ...over,
  });
}
const kanbanOf = (r: ReturnType<typeof classify>) => r.kanban.find((k) => k.db === `${ROOT}/kanban.db`)!;

describe('kanban risk from evidence', () => {
  it('306e2d2: the supervised gateway holds .dispatcher.lock, the orphan lost it: no rival writers (the orphan stays a warning)', () => {
    const r = classify(incident({ locks: [gwLock(ROOT, 10), gwLock(ARGUS, 20), flock(DISPATCHER, 10)], kanbanRoots: [{ root: ROOT, dispatcherLockExists: true }] }));
    expect(r.processes.find((p) => p.pid === 20)!.verdict).toBe('orphan');
    const k = kanbanOf(r);
    expect(k.risk).toBe('ok');
    expect(k.singletonLock).toMatchObject({ value: 'yes' });
    expect(k.dispatchers!.find((d) => d.pid === 10)).toMatchObject({ dispatches: 'yes', why: `holds the flock on ${DISPATCHER}` });
    expect(k.dispatchers!.find((d) => d.pid === 20)).toMatchObject({ dispatches: 'no' });
    expect(k.writers.map((w) => w.pid)).toEqual([10]);
    expect(r.findings.some((f) => f.code === 'RIVAL_WRITERS')).toBe(false);
    expect(r.findings.some((f) => f.code === 'ORPHAN_GATEWAY' && f.pid === 20)).toBe(true);
    expect(r.summary.exitCode).toBe(1);
  });

  it('v0.15.1 by its source: every gateway of the root dispatches, so the orphan beside the unit is a rival writer (critical)', () => {
    const sources: HermesSource[] = [{ dir: '/opt/hermes/src', singletonDispatcherLock: false, file: '/opt/hermes/src/gateway/run.py', pids: [10, 20] }];
    const r = classify(incident({ hermesSources: sources, kanbanRoots: [{ root: ROOT, dispatcherLockExists: false }] }));
    const k = kanbanOf(r);
    expect(k.risk).toBe('rival-writers');
    expect(k.singletonLock!.value).toBe('no');
    expect(k.dispatchers!.every((d) => d.dispatches === 'yes' && d.why.includes('no singleton dispatcher lock'))).toBe(true);
    const f = r.findings.find((x) => x.code === 'RIVAL_WRITERS')!;
    expect(f.remedy).toContain('--kill --pid 20');
    expect(r.summary.exitCode).toBe(2);
  });

  it('v0.15.1: two supervised gateways of one root are rival writers too (Hermes #32424); the remedy is a person\'s (one dispatcher per root)', () => {
    const s = incident({ hermesSources: [{ dir: '/opt/hermes/src', singletonDispatcherLock: false, file: '/opt/hermes/src/gateway/run.py', pids: [10, 20] }] });
    const argusCg = [{ hierarchy: 0, controllers: '', path: '/system.slice/hermes-gateway-argus.service' }];
    s.supervisors[0]!.systemdUnits![1] = { ...s.supervisors[0]!.systemdUnits![1]!, mainPid: 20, activeState: 'active', subState: 'running' };
    s.processes[1] = { ...s.processes[1]!, cgroups: argusCg, tty: null };
    const r = classify(s);
    expect(r.processes.map((p) => p.verdict)).toEqual(['supervised', 'supervised']);
    const k = kanbanOf(r);
    expect(k.risk).toBe('rival-writers');
    expect(k.reasons[0]).toContain('#32424');
    const f = r.findings.find((x) => x.code === 'RIVAL_WRITERS')!;
    expect(f.remedy).toBeNull();
    expect(f.message).toContain('kanban.dispatch_in_gateway: false');
  });

  it('no .dispatcher.lock under the root after 10 minutes of gateway.lock: no singleton lock (v0.15.1), rival writers', () => {
    const r = classify(incident({ kanbanRoots: [{ root: ROOT, dispatcherLockExists: false }] }));
    const k = kanbanOf(r);
    expect(k.risk).toBe('rival-writers');
    expect(k.dispatchers!.find((d) => d.pid === 20)!.why).toMatch(/does not exist although it has held its gateway.lock for 600 s/);
  });

  it('no evidence at all (no fd, no lock, no source, lock file not looked at): unknown with why, never critical', () => {
    const r = classify(incident({}));
    const k = kanbanOf(r);
    expect(k.risk).toBe('unknown');
    expect(k.singletonLock!.value).toBe('unknown');
    const f = r.findings.find((x) => x.code === 'KANBAN_RISK_UNKNOWN')!;
    expect(f.severity).toBe('unknown');
    expect(f.message).toContain('cannot tell whether PID 20 (orphan gateway) writes this DB');
    expect(f.message).toContain('the dispatcher opens it for milliseconds per 60 s tick');
    expect(r.findings.some((x) => x.code === 'RIVAL_WRITERS')).toBe(false);
    expect(r.summary.exitCode).toBe(3);
  });

  it('fds when seen, and kanban.db.dispatch.lock mid-tick, prove a writer; HERMES_KANBAN_DISPATCH_IN_GATEWAY=0 proves none', () => {
    const fd = [{ fd: 9, path: `${ROOT}/kanban.db`, mode: 'rw' as const, deleted: false }];
    const a = classify(incident({ locks: [gwLock(ROOT, 10), gwLock(ARGUS, 20), flock(DISPATCHER, 10)] }, { handles: fd }));
    expect(kanbanOf(a).risk).toBe('rival-writers');
    expect(kanbanOf(a).dispatchers!.find((d) => d.pid === 20)!.why).toBe(`has ${ROOT}/kanban.db open for writing (fd 9)`);
    const b = classify(incident({ locks: [gwLock(ROOT, 10), gwLock(ARGUS, 20), flock(DISPATCHER, 10), flock(`${ROOT}/kanban.db.dispatch.lock`, 20)] }));
    expect(kanbanOf(b).risk).toBe('rival-writers');
    expect(kanbanOf(b).dispatchLockHolder).toBe(20);
    const c = classify(incident({ kanbanRoots: [{ root: ROOT, dispatcherLockExists: false }] }, { env: { HERMES_HOME: ROOT, HERMES_KANBAN_DISPATCH_IN_GATEWAY: 'false' } }));
    expect(kanbanOf(c).dispatchers!.find((d) => d.pid === 20)).toMatchObject({ dispatches: 'no' });
    expect(kanbanOf(c).risk).toBe('ok');
  });
});

describe('the Hermes source of a gateway, and whether it has the singleton dispatcher lock', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hermes-doctor-src-'));
  afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
  const kit = path.join(REPO_ROOT, '..', 'shared', 'hermes-agent');
  const unpack = (v: string): string => {
    const dir = path.join(tmp, v);
    fs.mkdirSync(dir);
    const files = ['*/hermes_cli/main.py', '*/gateway/*.py'];
    execFileSync('tar', ['-xJf', path.join(kit, `hermes-agent-${v}.tar.xz`), '-C', dir, '--strip-components=1', '--wildcards', ...files], { stdio: 'ignore', timeout: 60_000 });
    return dir;
  };
  const hasKit = fs.existsSync(path.join(kit, 'hermes-agent-v0.15.1.tar.xz')) && fs.existsSync(path.join(kit, 'hermes-agent-306e2d2.tar.xz'));

  it.skipIf(requireOrSkip(`the Hermes kit tarballs (${kit}/hermes-agent-{v0.15.1,306e2d2}.tar.xz)`, hasKit))('the real v0.15.1 source has none, 306e2d2 has it; found from the record argv, cwd or PYTHONPATH', () => {
    const old = unpack('v0.15.1');
    const cur = unpack('306e2d2');
    expect(singletonLockOf(old, realSourceFs)).toEqual({ singleton: false, file: path.join(old, 'gateway', 'run.py') });
    expect(singletonLockOf(cur, realSourceFs)).toEqual({ singleton: true, file: path.join(cur, 'gateway', 'kanban_watchers.py') });
    const H = path.join(tmp, 'home');
    const lockRec = { path: `${H}/gateway.lock`, status: 'ok' as const, pid: 30, startTime: 1030, argv: [`${cur}/hermes_cli/main.py`, 'gateway', 'run'] };
    const procs = [
      proc(10, ['/usr/bin/python3', '-m', 'hermes_cli.main', 'gateway', 'run'], { cwd: old }),
      proc(20, ['/usr/bin/python3', '-m', 'hermes_cli.main', '-p', 'x', 'gateway', 'run'], { cwd: '/', env: { PYTHONPATH: `/nonexistent:${old}` } }),
      proc(30, ['hermes'], { cwd: '/' }),
      proc(40, ['/usr/bin/python3', '-m', 'hermes_cli.main', 'gateway', 'run'], { cwd: '/' }),
    ];
    const found = observeHermesSources(procs, [home(H, { lockFile: lockRec })]);
    expect(found.find((s) => s.dir === old)).toMatchObject({ singletonDispatcherLock: false, pids: [10, 20] });
    expect(found.find((s) => s.dir === cur)).toMatchObject({ singletonDispatcherLock: true, pids: [30] });
    expect(found.some((s) => s.pids.includes(40))).toBe(false);
  });
});
