/**
 * Start-up and the second look: a gateway younger than its start-up window that holds no lock yet is
 * `starting` (pure classifier); `--quiet`, `--kill` and the Prometheus outputs confirm a problem with a
 * second scan after `--confirm-delay` and report what resolved itself as info (pure, then on real
 * stand-in processes with the delay's wait replaced by a step that ends the duplicate).
 */
import * as path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { STARTUP_WINDOW_MS, classify } from '../src/core/classify.js';
import { planKill } from '../src/core/kill-plan.js';
import { DEFAULT_CONFIRM_DELAY_MS, confirmedPlan, confirmedReport } from '../src/core/second-look.js';
import { confirmDelayOf } from '../src/cli/options.js';
import { confirmsProblems } from '../src/commands/orphans.js';
import type { HostSnapshot, ProcessRecord, Report } from '../src/types.js';
import { NO_S6, runCli } from './harness/cli.js';
import { isAlive, killAll, startGateway, waitForGatewayReady, waitForOpen } from './harness/processes.js';
import { home, proc, snapshot } from './harness/records.js';
import { cleanupAllScratch, makeScratch } from './harness/scratch.js';
import { hasPython3, isLinux, requireOrSkip } from './harness/skip.js';

const ROOT = '/root/.hermes';
const GW = ['/usr/bin/python3', '-m', 'hermes_cli.main', 'gateway', 'run'];
const at = (s: number) => new Date(Date.parse('2026-12-02T06:00:00.000Z') - s * 1000).toISOString();

function snap(processes: ProcessRecord[]): HostSnapshot {
  return snapshot({
    takenAt: at(0),
    processes,
    homes: [home(ROOT, { pidFile: { path: `${ROOT}/gateway.pid`, status: 'ok', pid: 10, startTime: 1010 } })],
    // PID 10 owns the home and is the root's dispatcher (306e2d2): the others do not dispatch.
    locks: [
      { path: `${ROOT}/gateway.lock`, inode: 1, kind: 'FLOCK', access: 'WRITE', pid: 10 },
      { path: `${ROOT}/kanban/.dispatcher.lock`, inode: 2, kind: 'FLOCK', access: 'WRITE', pid: 10 },
    ],
  });
}
const LOCK_FD = [{ fd: 15, path: `${ROOT}/gateway.lock`, mode: 'rw' as const, deleted: false }];

describe('start-up window', () => {
  it(`a second gateway ${STARTUP_WINDOW_MS / 1000 - 12} s old with no lock and no Hermes file is starting (info), not a duplicate`, () => {
    const r = classify(snap([proc(10, GW, { env: { HERMES_HOME: ROOT }, startTime: at(600), handles: LOCK_FD }), proc(20, [...GW, '--replace'], { env: { HERMES_HOME: ROOT }, startTime: at(3) })]));
    const p = r.processes.find((x) => x.pid === 20)!;
    expect(p.verdict).toBe('starting');
    expect(p.reasons[0]).toMatch(/started 3\.0 s before the scan .* start-up window \(15 s/);
    expect(r.findings.find((f) => f.pid === 20)).toMatchObject({ severity: 'info', code: 'GATEWAY_STARTING' });
    expect(r.findings.filter((f) => f.severity !== 'info'), JSON.stringify(r.findings)).toEqual([]);
    expect(r.summary.exitCode).toBe(0);
    expect(planKill(r, snap([]), { uid: 0, pids: [20] }).targets).toEqual([]);
  });

  it('past the window, or holding a Hermes file, or unreadable fds, or with the window set to 0: judged at once', () => {
    const older = classify(snap([proc(10, GW, { env: { HERMES_HOME: ROOT }, startTime: at(600), handles: LOCK_FD }), proc(20, GW, { env: { HERMES_HOME: ROOT }, startTime: at(20) })]));
    expect(older.processes.find((x) => x.pid === 20)!.verdict).toBe('duplicate');
    const kanban = [{ fd: 7, path: `${ROOT}/kanban.db`, mode: 'rw' as const, deleted: false }];
    const holding = classify(snap([proc(10, GW, { env: { HERMES_HOME: ROOT }, startTime: at(600), handles: LOCK_FD }), proc(20, GW, { env: { HERMES_HOME: ROOT }, startTime: at(2), handles: kanban })]));
    expect(holding.processes.find((x) => x.pid === 20)!.verdict).toBe('duplicate');
    const hidden = classify(snap([proc(10, GW, { env: { HERMES_HOME: ROOT }, startTime: at(600), handles: LOCK_FD }), proc(20, GW, { env: { HERMES_HOME: ROOT }, startTime: at(2), visibility: { fd: 'denied', environ: 'ok', cgroup: 'ok' } })]));
    expect(hidden.processes.find((x) => x.pid === 20)!.verdict).toBe('duplicate');
    const zero = classify(snap([proc(10, GW, { env: { HERMES_HOME: ROOT }, startTime: at(600), handles: LOCK_FD }), proc(20, GW, { env: { HERMES_HOME: ROOT }, startTime: at(2) })]), { startupWindowMs: 0 });
    expect(zero.processes.find((x) => x.pid === 20)!.verdict).toBe('duplicate');
  });
});

describe('second look (pure)', () => {
  it('applies to --quiet, --kill (not --dry-run), --format prometheus|nagios and --textfile-dir, never to --from; the flag beats the context default', () => {
    expect([{ quiet: true }, { kill: true }, { format: 'prometheus' }, { format: 'nagios' }, { 'textfile-dir': '/x' }].map(confirmsProblems)).toEqual([true, true, true, true, true]);
    expect([{}, { format: 'json' }, { kill: true, 'dry-run': true }, { quiet: true, from: 'f.json' }].map(confirmsProblems)).toEqual([false, false, false, false]);
    expect(confirmDelayOf({})).toBe(DEFAULT_CONFIRM_DELAY_MS);
    expect(confirmDelayOf({}, 0)).toBe(0);
    expect(confirmDelayOf({ 'confirm-delay': 1200 }, 0)).toBe(1200);
  });

  const gw = (pid: number, start: number, extra: Partial<ProcessRecord> = {}) => proc(pid, GW, { env: { HERMES_HOME: ROOT }, startTime: at(start), ...extra });
  const first = classify(snap([gw(10, 600, { handles: LOCK_FD }), gw(20, 60), gw(30, 60)]));
  const second = classify(snap([gw(10, 600, { handles: LOCK_FD }), gw(30, 60), gw(40, 60)]));

  it('the report is the second look; what resolved itself is an info RESOLVED finding; counts and exit code are the second look\'s', () => {
    expect(first.findings.filter((f) => f.code === 'DUPLICATE_GATEWAY').map((f) => f.pid)).toEqual([20, 30]);
    const r: Report = confirmedReport(first, second, 5000);
    expect(r.takenAt).toBe(second.takenAt);
    expect(r.confirmation).toEqual({ delayMs: 5000, firstTakenAt: first.takenAt, firstExitCode: 1, resolved: 1 });
    const resolved = r.findings.filter((f) => f.code === 'RESOLVED');
    expect(resolved).toHaveLength(1);
    expect(resolved[0]).toMatchObject({ severity: 'info', pid: 20, remedy: null });
    expect(resolved[0]!.message).toMatch(/^resolved itself within 5\.0 s \(second look\): DUPLICATE_GATEWAY: /);
    expect(r.summary).toEqual(second.summary);
  });

  it('a kill plan keeps only targets of both looks (same PID and start); the others are refused with why', () => {
    const p1 = planKill(first, snap([]), { uid: 0 });
    const p2 = planKill(second, snap([]), { uid: 0 });
    const p = confirmedPlan(p1, p2, 5000);
    expect(p.targets.map((t) => t.pid)).toEqual([30]);
    const why = Object.fromEntries(p.refusals.map((x) => [x.pid, x.reason]));
    expect(why[20]).toMatch(/resolved itself on the second look \(5\.0 s later\)/);
    expect(why[40]).toMatch(/a target only on the second look .* not confirmed, left for the next run/);
    // A PID reused between the looks is not the same target.
    const reused = structuredClone(p2);
    reused.targets.find((t) => t.pid === 30)!.startTicks += 1;
    expect(confirmedPlan(p1, reused, 5000).targets).toEqual([]);
  });
});

afterEach(async () => {
  await killAll();
});
afterAll(() => cleanupAllScratch());

describe.skipIf(requireOrSkip('Linux and python3 (the stand-in gateway)', isLinux() && hasPython3()))('second look on real processes', () => {
  /** A home with its owner gateway and a duplicate that stays up without the lock (an older Hermes), both past start-up. */
  async function duplicateHome() {
    const root = makeScratch().root();
    const owner = startGateway({ root, args: ['gateway', 'run'] });
    await waitForGatewayReady(root, owner.pid, 15_000);
    const dup = startGateway({ root, args: ['gateway', 'run'], env: { STANDIN_STAY_ON_LOCK_BUSY: '1' } });
    await waitForOpen(dup.pid, 'kanban.db', 10_000, `duplicate ${dup.pid} to open kanban.db`);
    return { root, owner, dup };
  }

  it('--quiet: a duplicate that ends during the delay is not alerted: exit 0, nothing printed; --confirm-delay 0 alerts at once', async () => {
    const { root, dup } = await duplicateHome();
    const now = await runCli(['orphans', '--quiet', '--json', '--confirm-delay', '0', ...NO_S6, '--home', root]);
    // The stand-in duplicate keeps kanban.db open read-write beside the owner: rival writers, exit 2.
    expect(now.code).toBe(2);
    expect((JSON.parse(now.out) as Report).findings.some((f) => f.code === 'DUPLICATE_GATEWAY' && f.pid === dup.pid)).toBe(true);

    let waited = -1;
    const r = await runCli(['orphans', '--quiet', '--confirm-delay', '1500', ...NO_S6, '--home', root], {
      confirmWait: async (ms) => {
        waited = ms;
        await dup.stop();
      },
    });
    expect(waited).toBe(1500);
    expect(isAlive(dup.pid)).toBe(false);
    expect(r.out).toBe('');
    expect(r.code).toBe(0);
  });

  it('prometheus: the second look is what is exported, with the resolved duplicate as an info finding', async () => {
    const { root, dup } = await duplicateHome();
    const r = await runCli(['orphans', '--format', 'prometheus', '--confirm-delay', '1000', ...NO_S6, '--home', root], { confirmWait: () => dup.stop() });
    expect(r.out).toContain('hermes_doctor_exit_code 0');
    expect(r.out).toMatch(/hermes_doctor_findings\{severity="info"\} [1-9]/);
    expect(r.out).toMatch(/hermes_doctor_findings\{severity="warning"\} 0/);
  });

  it('--kill --yes: a target that ended during the delay is not signalled; one still there is', async () => {
    const a = await duplicateHome();
    const r = await runCli(['orphans', '--kill', '--yes', '--json', '--grace', '5', '--confirm-delay', '1000', ...NO_S6, '--home', a.root], { confirmWait: () => a.dup.stop() });
    const rep = JSON.parse(r.out) as Report;
    const act = rep.actions!.find((x) => x.pid === a.dup.pid)!;
    expect(act.outcome).toBe('refused');
    expect(act.signals).toEqual([]);
    expect(act.reason).toMatch(/resolved itself on the second look/);
    expect(rep.confirmation).toMatchObject({ delayMs: 1000, firstExitCode: 2 });
    expect(rep.confirmation!.resolved).toBeGreaterThanOrEqual(2);
    expect(rep.findings.filter((f) => f.code === 'RESOLVED').map((f) => f.message.split(': ')[1])).toEqual(expect.arrayContaining(['RIVAL_WRITERS', 'DUPLICATE_GATEWAY']));
    expect(isAlive(a.owner.pid)).toBe(true);
    expect(r.code).toBe(0);

    const b = await duplicateHome();
    const r2 = await runCli(['orphans', '--kill', '--yes', '--json', '--grace', '5', '--confirm-delay', '500', ...NO_S6, '--home', b.root]);
    const act2 = (JSON.parse(r2.out) as Report).actions!.find((x) => x.pid === b.dup.pid)!;
    expect(act2.outcome).toBe('terminated');
    expect(isAlive(b.dup.pid)).toBe(false);
    expect(isAlive(b.owner.pid)).toBe(true);
    expect(path.isAbsolute(b.root)).toBe(true);
  });
});
