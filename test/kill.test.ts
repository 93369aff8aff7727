/**
 * `hermes-doctor orphans --kill` on real processes: stand-in gateways that flock gateway.lock
 * and write a real WAL kanban.db, a real s6 tree, a real systemd booted in a namespace, a process of
 * another UID started with setpriv. The macOS and Windows kill flows run the same action through the
 * recorded-fixture signallers. Tests signal only processes they started, by PID.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { memoryAuditSink } from '../src/actions/audit-log.js';
import { executeKillPlan, recordPid } from '../src/actions/kill.js';
import { darwinSignaller } from '../src/actions/signaller-darwin.js';
import { linuxLockHolders, linuxSignaller } from '../src/actions/signaller-linux.js';
import { windowsSignaller } from '../src/actions/signaller-win32.js';
import type { AsyncProcessSignaller } from '../src/actions/signaller.js';
import { scanWithSnapshot } from '../src/commands/scan-host.js';
import { type KillPlan, type KillTarget, planKill } from '../src/core/kill-plan.js';
import { recordedRunner } from '../src/sources/runner.js';
import { cimArgs } from '../src/sources/win32/cim.js';
import type { KillAction, Report } from '../src/types.js';
import { assertOrphansV1 } from './contract.js';
import { NO_S6, cliReport as cli, homesArgs } from './harness/cli.js';
import { actionFor as action, auditLines, ownerAndDuplicate } from './harness/kill-cli.js';
import { recordedResult } from './harness/fixtures.js';
import {
  CLI_BIN as CLI,
  FAKE_SECRET,
  REPO_ROOT,
  STANDIN_PYTHONPATH,
  holdsFlock,
  isAlive,
  readStartTicks,
  startGateway,
  startProcess,
  startWorker,
  until,
  waitFor,
  waitForGatewayReady,
  waitForOpen,
} from './harness/processes.js';
import { addGatewaySlot, slotPid, startS6Tree } from './harness/s6.js';
import { makeScratch, profileHome } from './harness/scratch.js';
import { cleanUpAfterEach } from './harness/cleanup.js';
import { hasBinary, hasPython3, hasS6, isLinux, isRoot, requireOrSkip } from './harness/skip.js';
import { bootSystemd, nsScratchDir, systemdAvailable, teardownAll, teardownProblems, type SystemdNs } from './harness/systemd.js';
import { ownTeardownProblems } from './harness/foreign-cgroups.js';





const ready = isLinux() && hasPython3();

describe.skipIf(requireOrSkip('Linux /proc and python3 with sqlite3', ready))('--kill on real processes', () => {
  cleanUpAfterEach();

  it('a duplicate that exits on SIGTERM: terminated, the owner keeps PID, start time, lock and files; exit 0; audit line 0600', async () => {
    const { root, owner, dup } = await ownerAndDuplicate();
    const pidBefore = fs.readFileSync(path.join(root, 'gateway.pid'), 'utf8');
    const r = await cli(['orphans', '--kill', '--yes', '--json', ...NO_S6, ...homesArgs(root)]);
    const a = action(r, dup.pid);
    expect(a).toMatchObject({ outcome: 'terminated', signals: ['SIGTERM'], verdict: 'duplicate', ownerHoldsLock: true, restored: [] });
    expect(isAlive(dup.pid, dup.startTicks)).toBe(false);
    expect(readStartTicks(owner.pid)).toBe(owner.startTicks);
    expect(holdsFlock(owner.pid, path.join(root, 'gateway.lock'))).toBe(true);
    expect(fs.readFileSync(path.join(root, 'gateway.pid'), 'utf8')).toBe(pidBefore);
    expect(r.report!.processes.map((p) => p.pid)).toEqual([owner.pid]); // the rescan
    expect(r.code).toBe(0);
    const log = path.join(root, 'logs', 'hermes-doctor.log');
    expect(fs.statSync(log).mode & 0o777).toBe(0o600);
    const lines = auditLines(root);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ pid: dup.pid, startTicks: dup.startTicks, outcome: 'terminated', signals: ['SIGTERM'], verdict: 'duplicate' });
    expect(lines[0]!.argv).toEqual(dup.argv);
  });

  it('a target that ignores SIGTERM needs SIGKILL (--grace 0.5): killed; a TTY shows the countdown', async () => {
    const { root, owner, dup } = await ownerAndDuplicate({ STANDIN_IGNORE_TERM: '1' });
    const r = await cli(['orphans', '--kill', '--yes', '--grace', '0.5', '--json', ...NO_S6, ...homesArgs(root)], { tty: true });
    expect(r.err).toContain(`PID ${dup.pid}: SIGTERM sent`);
    expect(r.err).toMatch(new RegExp(`PID ${dup.pid}: waiting for exit, 1 s left`));
    expect(r.err).toContain(`PID ${dup.pid}: SIGKILL sent`);
    expect(r.err).toMatch(new RegExp(`PID ${dup.pid}: killed\\s*\\n`));
    const a = action(r, dup.pid);
    expect(a).toMatchObject({ outcome: 'killed', signals: ['SIGTERM', 'SIGKILL'] });
    expect(a.ms).toBeGreaterThanOrEqual(450);
    expect(isAlive(dup.pid, dup.startTicks)).toBe(false);
    expect(isAlive(owner.pid, owner.startTicks)).toBe(true);
    expect(r.code).toBe(0);
  });

  it('a target that takes 1.5 s to stop exits during the grace: terminated, no SIGKILL', async () => {
    const { root, dup } = await ownerAndDuplicate({ STANDIN_STOP_DELAY_MS: '1500' });
    const r = await cli(['orphans', '--kill', '--yes', '--grace', '8', '--json', ...NO_S6, ...homesArgs(root)]);
    const a = action(r, dup.pid);
    expect(a).toMatchObject({ outcome: 'terminated', signals: ['SIGTERM'] });
    expect(a.ms).toBeGreaterThanOrEqual(1400);
    expect(a.ms).toBeLessThan(8000);
  });

  it('a target already gone when the action runs: already-gone, nothing sent', async () => {
    const { root, dup } = await ownerAndDuplicate();
    const { snap, report } = await scanWithSnapshot({ home: [root], 's6-scandir': NO_S6[1], 'all-users': false, timeout: 3000 }, { stdout: () => {}, stderr: () => {} });
    const plan = planKill(report, snap, { uid: 0 });
    expect(plan.targets.map((t) => t.pid)).toEqual([dup.pid]);
    await dup.stop();
    const audit = memoryAuditSink();
    const [a] = await executeKillPlan(plan, { signaller: linuxSignaller(), audit, graceMs: 1000 });
    expect(a).toMatchObject({ pid: dup.pid, outcome: 'already-gone', signals: [] });
    expect(audit.entries.map((e) => e.entry.outcome)).toEqual(['already-gone']);
  });

  it('interrupted (Ctrl-C) during the grace: no SIGKILL, the target is reported still running; the next target is not started', async () => {
    const p = startProcess(['python3', '-c', 'import signal,time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\ntime.sleep(60)']);
    const q = startProcess(['sleep', '60']);
    // SigIgn is a hex mask; SIGTERM (15) is bit 14.
    const ignoresTerm = () => (BigInt('0x' + fs.readFileSync(`/proc/${p.pid}/status`, 'utf8').match(/^SigIgn:\s*(\S+)/m)![1]) & (1n << 14n)) !== 0n;
    await waitFor(ignoresTerm, 5000, 'python to ignore SIGTERM');
    const target = (x: typeof p, argv: string[]): KillTarget => ({
      pid: x.pid, startTicks: x.startTicks, argv, verdict: 'orphan', role: 'gateway', uid: 0, hermesHome: null, auditRoot: null, reasons: [], owner: null,
    });
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 300);
    const [a, b] = await executeKillPlan(
      { targets: [target(p, p.argv), target(q, ['sleep', '60'])], refusals: [] },
      { signaller: linuxSignaller(), audit: null, graceMs: 10_000, abort: ac.signal },
    ).then((xs) => [xs.find((x) => x.pid === p.pid)!, xs.find((x) => x.pid === q.pid)!]);
    expect(a).toMatchObject({ outcome: 'failed', signals: ['SIGTERM'] });
    expect(a!.reason).toMatch(/interrupted: SIGKILL not sent/);
    expect(a!.ms).toBeLessThan(5000);
    expect(b).toMatchObject({ outcome: 'refused', signals: [] });
    expect(p.alive()).toBe(true);
    expect(q.alive()).toBe(true);
  });

  it('identity re-check: a target whose start time no longer matches the scan is skipped, not signalled', async () => {
    const p = startProcess(['sleep', '60']);
    const target: KillTarget = {
      pid: p.pid, startTicks: p.startTicks + 1, argv: ['sleep', '60'], verdict: 'orphan', role: 'gateway', uid: 0,
      hermesHome: null, auditRoot: null, reasons: [], owner: null,
    };
    const [a] = await executeKillPlan({ targets: [target], refusals: [] }, { signaller: linuxSignaller(), audit: null, graceMs: 500 });
    expect(a).toMatchObject({ outcome: 'skipped', signals: [] });
    expect(a!.reason).toMatch(/PID reused/);
    expect(p.alive()).toBe(true);
    // Same start time, different argv: also skipped.
    const [b] = await executeKillPlan({ targets: [{ ...target, startTicks: p.startTicks, argv: ['sleep', '61'] }], refusals: [] }, { signaller: linuxSignaller(), audit: null });
    expect(b).toMatchObject({ outcome: 'skipped', signals: [] });
    expect(p.alive()).toBe(true);
  });

  it('identity re-check before SIGKILL: the PID changed hands during the grace → no SIGKILL', async () => {
    const p = startProcess(['sleep', '60']);
    const real = linuxSignaller();
    const sent: string[] = [];
    // The real identity until SIGTERM was sent, then a different start time (a PID reuse cannot be forced).
    const signaller: AsyncProcessSignaller = {
      lastDetail: null,
      async identity(pid) {
        const id = await real.identity(pid);
        return id && sent.length > 0 ? { ...id, startTicks: id.startTicks + 7 } : id;
      },
      async signal(pid, how) {
        sent.push(how);
        return how === 'term' ? 'sent' : real.signal(pid, how); // the SIGTERM is only recorded: the process stays
      },
    };
    const t: KillTarget = { pid: p.pid, startTicks: p.startTicks, argv: ['sleep', '60'], verdict: 'orphan', role: 'gateway', uid: 0, hermesHome: null, auditRoot: null, reasons: [], owner: null };
    const [a] = await executeKillPlan({ targets: [t], refusals: [] }, { signaller, audit: null, graceMs: 300 });
    expect(sent).toEqual(['term']);
    expect(a!.outcome).toBe('terminated');
    expect(a!.signals).toEqual(['SIGTERM']);
    expect(p.alive()).toBe(true);
  });

  const built = fs.existsSync(path.join(REPO_ROOT, 'dist', 'actions', 'kill.js'));
  describe.skipIf(requireOrSkip('root, setpriv (util-linux) and a build (npm run build)', isRoot() && hasBinary('setpriv') && built))('EPERM', () => {
    it("a process the caller may not signal (root's sleep; the kill action running as UID 65534): failed, EPERM, still alive", async () => {
      const target = startProcess(['sleep', '60']);
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hermes-doctor-eperm-'));
      fs.chmodSync(dir, 0o755);
      const script = path.join(dir, 'eperm.mjs');
      // UID 65534 may not be able to enter the checkout (a clone under a 0700 folder): it runs a copy of
      // dist/ (the kill step imports no package) next to a package.json that makes it ESM.
      fs.cpSync(path.join(REPO_ROOT, 'dist'), path.join(dir, 'dist'), { recursive: true });
      fs.writeFileSync(path.join(dir, 'package.json'), '{"type":"module"}\n', { mode: 0o644 });
      execFileSync('chmod', ['-R', 'a+rX', dir]);
      const plan: KillPlan = {
        targets: [{ pid: target.pid, startTicks: target.startTicks, argv: ['sleep', '60'], verdict: 'orphan', role: 'gateway', uid: 0, hermesHome: null, auditRoot: null, reasons: [], owner: null }],
        refusals: [],
      };
      fs.writeFileSync(
        script,
        [
          `import { executeKillPlan } from ${JSON.stringify(path.join(dir, 'dist/actions/kill.js'))};`,
          `import { linuxSignaller } from ${JSON.stringify(path.join(dir, 'dist/actions/signaller-linux.js'))};`,
          `const actions = await executeKillPlan(${JSON.stringify(plan)}, { signaller: linuxSignaller(), audit: null, graceMs: 500 });`,
          'process.stdout.write(JSON.stringify({ uid: process.getuid(), actions }));',
        ].join('\n'),
        { mode: 0o644 },
      );
      try {
        const text = execFileSync('setpriv', ['--reuid', '65534', '--regid', '65534', '--clear-groups', process.execPath, script], { encoding: 'utf8', timeout: 20_000, cwd: dir });
        const res = JSON.parse(text) as { uid: number; actions: KillAction[] };
        expect(res.uid).toBe(65534);
        expect(res.actions[0]).toMatchObject({ pid: target.pid, outcome: 'failed', signals: [] });
        expect(res.actions[0]!.reason).toMatch(/^EPERM/);
        expect(target.alive()).toBe(true);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  });

  it('refusals: no TTY and no --yes → exit 3, nothing signalled; a TTY asks and "no" signals nothing; --dry-run plans only', async () => {
    const { root, dup } = await ownerAndDuplicate();
    const r = await cli(['orphans', '--kill', ...NO_S6, ...homesArgs(root)]);
    expect(r.code).toBe(3);
    expect(r.err).toMatch(/--kill needs --yes when not run on a terminal/);
    expect(r.err).toContain(`PID ${dup.pid}`);
    let asked = '';
    const no = await cli(['orphans', '--kill', ...NO_S6, ...homesArgs(root)], { tty: true, confirm: async (q) => ((asked = q), false) });
    expect(asked).toMatch(/\[y\/N\]/);
    expect(no.code).toBe(3);
    const dry = await cli(['orphans', '--kill', '--dry-run', '--json', ...NO_S6, ...homesArgs(root)]);
    expect(action(dry, dup.pid)).toMatchObject({ outcome: 'planned', signals: [] });
    expect(dry.code).toBe(2); // the duplicate and the owner both write kanban.db: rival writers
    expect(dup.alive()).toBe(true);
    expect(fs.existsSync(path.join(root, 'logs', 'hermes-doctor.log'))).toBe(false);
    const flags = await cli(['orphans', '--dry-run', ...NO_S6]);
    expect(flags.code).toBe(3);
    expect(flags.err).toMatch(/only go with --kill/);
    // A TTY that answers yes acts, and shows a live line per target.
    const yes = await cli(['orphans', '--kill', ...NO_S6, ...homesArgs(root)], { tty: true, confirm: async () => true });
    expect(yes.code).toBe(0);
    expect(yes.err).toMatch(new RegExp(`PID ${dup.pid}: terminated`));
    expect(yes.out).toMatch(new RegExp(`PID ${dup.pid} terminated \\(SIGTERM`));
    expect(dup.alive()).toBe(false);
  });

  it('the scheduled form (--quiet --kill --yes) reports the kill count as hermes_doctor_orphans_killed; prints what it did', async () => {
    const { root, dup } = await ownerAndDuplicate();
    const prom = fs.mkdtempSync(path.join(os.tmpdir(), 'hermes-doctor-prom-'));
    try {
      const r = await cli(['orphans', '--quiet', '--kill', '--yes', '--format', 'prometheus', '--textfile-dir', prom, ...NO_S6, ...homesArgs(root)]);
      expect(r.code).toBe(0);
      expect(dup.alive()).toBe(false);
      const text = fs.readFileSync(path.join(prom, 'hermes_doctor.prom'), 'utf8');
      expect(text).toMatch(/^hermes_doctor_orphans_killed 1$/m);
      expect(r.out).toBe(''); // healthy after the kill and --quiet: the metrics go to the textfile only
      // A second run: nothing left to kill, nothing printed.
      const again = await cli(['orphans', '--quiet', '--kill', '--yes', ...NO_S6, ...homesArgs(root)]);
      expect(again.code).toBe(0);
      expect(again.out).toBe('');
      // Without --yes and without a TTY the scheduled line fails at once, even with nothing to kill.
      const noYes = await cli(['orphans', '--quiet', '--kill', ...NO_S6, ...homesArgs(root)]);
      expect(noYes.code).toBe(3);
    } finally {
      fs.rmSync(prom, { recursive: true, force: true });
    }
  });

  it('--quiet --kill --yes in table form prints the actions (for cron mail and the journal)', async () => {
    const { root, dup } = await ownerAndDuplicate();
    const r = await cli(['orphans', '--quiet', '--kill', '--yes', '--no-color', ...NO_S6, ...homesArgs(root)]);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(new RegExp(`^  PID ${dup.pid} terminated \\(SIGTERM, \\d+\\.\\d s\\) \\[duplicate\\]`, 'm'));
  });

  it('a ghost (its profile folder was deleted) is a target; an orphaned worker only with --include-workers', async () => {
    const scratch = makeScratch();
    const root = scratch.root('gone');
    const ghost = startGateway({ root, profile: 'gone', env: { STANDIN_NO_KANBAN: '1' } });
    await waitForGatewayReady(profileHome(root, 'gone'), ghost.pid);
    fs.rmSync(profileHome(root, 'gone'), { recursive: true, force: true });
    const worker = startWorker({ root, taskId: 't_kill0001' });
    await waitForOpen(worker.pid, 'kanban.db-wal', 8000, 'worker to open kanban.db-wal');
    const args = ['orphans', '--json', '--kill', '--yes', ...NO_S6, ...homesArgs(root, profileHome(root, 'gone'))];
    const first = await cli(args);
    expect(action(first, ghost.pid)).toMatchObject({ verdict: 'ghost', outcome: 'terminated' });
    expect(action(first, worker.pid)).toMatchObject({ verdict: 'orphaned-worker', outcome: 'refused' });
    expect(action(first, worker.pid).reason).toMatch(/--include-workers/);
    expect(worker.alive()).toBe(true);
    expect(first.code).toBe(1); // the orphaned worker remains
    const second = await cli([...args, '--include-workers']);
    expect(action(second, worker.pid)).toMatchObject({ verdict: 'orphaned-worker', outcome: 'terminated' });
    expect(worker.alive()).toBe(false);
    // Nothing runs for the deleted home any more, and its folder is gone: the --home given names nothing.
    expect(second.report!.findings.filter((f) => f.severity !== 'info').map((f) => f.code)).toEqual(['HOME_NOT_FOUND']);
    expect(second.code).toBe(1);
    // Refusals are logged first, then each target as it ends.
    expect(auditLines(root).map((l) => [l.pid, l.outcome])).toEqual([
      [worker.pid, 'refused'],
      [ghost.pid, 'terminated'],
      [worker.pid, 'terminated'],
    ]);
  });

  it('a symlinked or hard-linked audit log is refused: the target is not signalled and the linked file is untouched', async () => {
    const { root, dup } = await ownerAndDuplicate();
    const elsewhere = path.join(path.dirname(root), 'elsewhere.txt');
    fs.writeFileSync(elsewhere, 'untouched\n');
    fs.mkdirSync(path.join(root, 'logs'), { recursive: true });
    fs.symlinkSync(elsewhere, path.join(root, 'logs', 'hermes-doctor.log'));
    const r = await cli(['orphans', '--kill', '--yes', '--json', ...NO_S6, ...homesArgs(root)]);
    const a = action(r, dup.pid);
    expect(a.outcome).toBe('refused');
    expect(a.reason).toMatch(/audit log unusable .*symlink/);
    expect(dup.alive()).toBe(true);
    expect(fs.readFileSync(elsewhere, 'utf8')).toBe('untouched\n');
    expect(r.code).toBe(2);
    // A hard link is refused too (root would append to the linked file).
    fs.rmSync(path.join(root, 'logs', 'hermes-doctor.log'));
    fs.linkSync(elsewhere, path.join(root, 'logs', 'hermes-doctor.log'));
    const h = await cli(['orphans', '--kill', '--yes', '--json', ...NO_S6, ...homesArgs(root)]);
    expect(action(h, dup.pid).reason).toMatch(/audit log unusable .*hard links/);
    expect(dup.alive()).toBe(true);
    expect(fs.readFileSync(elsewhere, 'utf8')).toBe('untouched\n');
  });

  describe.skipIf(requireOrSkip('s6 (apt-get install -y s6)', hasS6()))('the incident on a real s6 tree', () => {
    it('--kill --yes: the orphan is gone, the s6 gateway keeps PID, start time, lock, s6-svstat and its state files (restored after the orphan clobbered them); kanban ok, exit 0', async () => {
      const scratch = makeScratch();
      const root = scratch.root('argus');
      const home = profileHome(root, 'argus');
      const tree = await startS6Tree(path.join(scratch.dir, 'service'));
      const sup = await addGatewaySlot(tree, { profile: 'argus', root });
      const supTicks = readStartTicks(sup.pid);
      const orphan = startGateway({
        root,
        profile: 'argus',
        args: ['gateway', 'run', '--replace', '--api-key', FAKE_SECRET],
        env: { STANDIN_STAY_ON_LOCK_BUSY: '1', STANDIN_CLOBBER_ON_TERM: '1', OPENAI_API_KEY: FAKE_SECRET },
      });
      await waitForOpen(orphan.pid, 'kanban.db-wal', 8000, 'orphan to open kanban.db-wal');
      const stateBefore = fs.readFileSync(path.join(home, 'gateway_state.json'), 'utf8');
      const pidBefore = fs.readFileSync(path.join(home, 'gateway.pid'), 'utf8');
      const lockIno = fs.statSync(path.join(home, 'gateway.lock')).ino;
      const args = ['orphans', '--json', '--s6-scandir', tree.scanDir, ...homesArgs(home)];

      // Refusals first: --pid of the supervised gateway, PID 1; nothing is signalled.
      const refused = await cli([...args, '--kill', '--yes', '--pid', String(sup.pid), '1']);
      expect(action(refused, sup.pid).outcome).toBe('refused');
      expect(action(refused, sup.pid).reason).toMatch(/never signalled: PID \d+ is the supervised process of s6 slot gateway-argus/);
      expect(action(refused, 1).reason).toMatch(/init/);
      expect(refused.code).toBe(2);
      expect(orphan.alive()).toBe(true);

      const r = await cli([...args, '--kill', '--yes', '--grace', '5']);
      const a = action(r, orphan.pid);
      expect(a).toMatchObject({ outcome: 'terminated', signals: ['SIGTERM'], verdict: 'orphan', ownerHoldsLock: true });
      expect(a.restored.sort()).toEqual([path.join(home, 'gateway.pid'), path.join(home, 'gateway_state.json')].sort());
      expect(a.reason).toMatch(/owner's versions were put back/);
      expect(orphan.alive()).toBe(false);
      // The supervised gateway: same PID and start time, same s6 slot PID, same lock inode held, same files.
      expect(readStartTicks(sup.pid)).toBe(supTicks);
      expect(slotPid(tree, 'gateway-argus')).toBe(sup.pid);
      expect(fs.statSync(path.join(home, 'gateway.lock')).ino).toBe(lockIno);
      expect(holdsFlock(sup.pid, path.join(home, 'gateway.lock'))).toBe(true);
      expect(linuxLockHolders(path.join(home, 'gateway.lock'))).toContain(sup.pid);
      expect(fs.readFileSync(path.join(home, 'gateway_state.json'), 'utf8')).toBe(stateBefore);
      expect(fs.readFileSync(path.join(home, 'gateway.pid'), 'utf8')).toBe(pidBefore);
      expect(recordPid(fs.readFileSync(path.join(home, 'gateway.pid')))).toBe(sup.pid);
      // The rescan: kanban back to ok, exit 0.
      const k = r.report!.kanban.find((x) => x.db === path.join(root, 'kanban.db'))!;
      expect(k.risk).toBe('ok');
      expect(r.report!.processes.find((p) => p.pid === orphan.pid)).toBeUndefined();
      expect(r.code).toBe(0);

      // The audit log: one line per action (the two refusals, then the kill), parseable, 0600, no secret.
      const logFile = path.join(root, 'logs', 'hermes-doctor.log');
      expect(fs.statSync(logFile).mode & 0o777).toBe(0o600);
      const text = fs.readFileSync(logFile, 'utf8');
      expect(text).not.toContain(FAKE_SECRET);
      expect(JSON.stringify(r.report!.actions)).not.toContain(FAKE_SECRET);
      const lines = auditLines(root);
      expect(lines.map((l) => [l.pid, l.outcome])).toEqual([[sup.pid, 'refused'], [orphan.pid, 'terminated']]);
      const kill = lines[1]!;
      expect(kill).toMatchObject({ startTicks: orphan.startTicks, verdict: 'orphan', signals: ['SIGTERM'], ownerHoldsLock: true });
      expect(kill.argv).toContain('***');
      expect(kill).toMatchObject({ pid: a.pid, outcome: a.outcome, signals: a.signals, restored: a.restored, ownerHoldsLock: a.ownerHoldsLock, argv: a.argv, reason: a.reason });
      expect(lines[0]).toMatchObject({ pid: sup.pid, outcome: 'refused', signals: [], reason: action(refused, sup.pid).reason });
      expect(Number.isNaN(Date.parse(kill.time as string))).toBe(false);
      expect((kill.reasons as string[]).join(' ')).toContain('gateway-argus');
    });

    it('a stray sqlite3 holder is reported with its command and left alone: exit 1 after the kill', async () => {
      const scratch = makeScratch();
      const root = scratch.root('argus');
      const home = profileHome(root, 'argus');
      const tree = await startS6Tree(path.join(scratch.dir, 'service'));
      const sup = await addGatewaySlot(tree, { profile: 'argus', root });
      const orphan = startGateway({ root, profile: 'argus', env: { STANDIN_STAY_ON_LOCK_BUSY: '1' } });
      await waitForOpen(orphan.pid, 'kanban.db-wal', 8000, 'orphan to open kanban.db-wal');
      const stray = startProcess(['sqlite3', path.join(root, 'kanban.db')], { stdin: 'pipe' });
      await waitFor(() => fs.readdirSync(`/proc/${stray.pid}/fd`).length > 3, 5000, 'sqlite3 to open the db');
      stray.write('select count(*) from ticks;\n');
      await waitForOpen(stray.pid, 'kanban.db', 5000, 'sqlite3 to hold kanban.db');
      const r = await cli(['orphans', '--json', '--kill', '--yes', '--s6-scandir', tree.scanDir, ...homesArgs(home, root)]);
      expect(action(r, orphan.pid).outcome).toBe('terminated');
      const s = action(r, stray.pid);
      expect(s.outcome).toBe('refused');
      expect(s.reason).toContain(`sqlite3 ${path.join(root, 'kanban.db')}`);
      expect(stray.alive()).toBe(true);
      expect(isAlive(sup.pid)).toBe(true);
      expect(r.code).toBe(1);
    });
  });
});

// ---------------------------------------------------------------------------------------------------
// The real systemd (booted in a namespace): the CLI runs inside, MainPID must not change.

const avail = systemdAvailable();
const built = fs.existsSync(path.join(REPO_ROOT, 'dist', 'commands', 'kill.js'));

describe.skipIf(requireOrSkip(`real systemd in a namespace (${avail.why}), python3 and a build (npm run build)`, avail.ok && hasPython3() && built))('--kill on a real systemd', () => {
  let ns: SystemdNs | null = null;
  afterAll(async () => {
    await teardownAll();
    if (ns) expect(ownTeardownProblems(teardownProblems(ns))).toEqual([]);
  }, 30_000);

  it('the incident: after --kill --yes the orphan is gone, MainPID and the gateway files unchanged, exit 0; a process in the unit cgroup is refused', async () => {
    const dir = nsScratchDir('kill-');
    const userHome = path.join(dir, 'home');
    const root = path.join(userHome, '.hermes');
    const home = path.join(root, 'profiles', 'argus');
    fs.mkdirSync(home, { recursive: true });
    const unit = [
      '[Unit]',
      'DefaultDependencies=no',
      '[Service]',
      `Environment="HOME=${userHome}" "PYTHONPATH=${STANDIN_PYTHONPATH}" "STANDIN_TICK_MS=200"`,
      'ExecStart=/usr/bin/python3 -m hermes_cli.main -p argus gateway run',
      'Restart=always',
      '',
    ].join('\n');
    ns = await bootSystemd({ units: { 'hermes-gateway-argus.service': unit } });
    const sys = ns;
    const mainPid = Number((await sys.waitActive('hermes-gateway-argus.service')).MainPID);
    await waitFor(() => recordPid(fs.readFileSync(path.join(home, 'gateway.pid'))) === mainPid, 10_000, 'the unit gateway to write gateway.pid');
    const env = { HOME: userHome, PYTHONPATH: STANDIN_PYTHONPATH, STANDIN_STAY_ON_LOCK_BUSY: '1', STANDIN_CLOBBER_ON_TERM: '1', STANDIN_TICK_MS: '200' };
    const orphan = await sys.launchOrphan(['/usr/bin/python3', '-m', 'hermes_cli.main', '-p', 'argus', 'gateway', 'run', '--replace'], env);
    // A second shell gateway moved into the unit's cgroup: supervised by cgroup, never signalled.
    const inside = await sys.launchOrphan(['/usr/bin/python3', '-m', 'hermes_cli.main', '-p', 'argus', 'gateway', 'run', '--replace'], { ...env, STANDIN_CLOBBER_ON_TERM: '0' });
    await sys.moveIntoUnitCgroup(inside, 'hermes-gateway-argus.service');
    await until(async () => ((await sys.exec(['ls', '-l', `/proc/${orphan}/fd`])).stdout.includes('kanban.db') ? true : null), 10_000, 'the orphan to open kanban.db', 200);
    const stateBefore = fs.readFileSync(path.join(home, 'gateway_state.json'), 'utf8');

    const refused = await sys.exec(['node', CLI, 'orphans', '--json', '--kill', '--yes', '--pid', String(inside), String(mainPid), '--home', home]);
    const rr = JSON.parse(refused.stdout) as Report;
    assertOrphansV1(rr);
    expect(rr.actions!.find((a) => a.pid === inside)!.reason).toMatch(/inside the cgroup \/system.slice\/hermes-gateway-argus.service/);
    expect(rr.actions!.find((a) => a.pid === mainPid)!.reason).toMatch(/MainPID of hermes-gateway-argus.service/);

    const run = await sys.exec(['node', CLI, 'orphans', '--json', '--kill', '--yes', '--grace', '5', '--home', home]);
    const r = JSON.parse(run.stdout) as Report;
    assertOrphansV1(r);
    const a = r.actions!.find((x) => x.pid === orphan)!;
    expect(a).toMatchObject({ outcome: 'terminated', signals: ['SIGTERM'], ownerHoldsLock: true });
    expect(r.actions!.some((x) => x.pid === inside && x.signals.length > 0)).toBe(false);
    expect((await sys.exec(['kill', '-0', String(orphan)])).code).not.toBe(0);
    expect((await sys.exec(['kill', '-0', String(inside)])).code).toBe(0);
    expect(Number((await sys.show('hermes-gateway-argus.service', ['MainPID'])).MainPID)).toBe(mainPid);
    expect(fs.readFileSync(path.join(home, 'gateway_state.json'), 'utf8')).toBe(stateBefore);
    expect(recordPid(fs.readFileSync(path.join(home, 'gateway.pid')))).toBe(mainPid);
    expect(r.processes.find((p) => p.pid === mainPid)!.verdict).toBe('supervised');
    expect(r.kanban.find((k) => k.db === path.join(root, 'kanban.db'))!.risk).toBe('ok');
    expect(run.code).toBe(r.summary.exitCode);
    expect(run.code).toBe(0);
  });
});

// ---------------------------------------------------------------------------------------------------
// macOS and Windows: the same action through the recorded-fixture signallers (no real process).

describe('--kill flows on recorded macOS and Windows answers', () => {
  const winTarget: KillTarget = {
    pid: 3204,
    startTicks: Date.UTC(2026, 10, 20, 9, 5, 0) / 10 + 50,
    argv: ['python', '-m', 'hermes_cli.main', '--profile', 'argus', 'gateway', 'run', '--replace'],
    verdict: 'orphan', role: 'gateway', uid: -1, hermesHome: 'C:/Users/Alice/AppData/Local/hermes/profiles/argus',
    auditRoot: 'C:/Users/Alice/AppData/Local/hermes', reasons: ['outside its Scheduled Task'], owner: null,
  };
  const idKey = ['powershell.exe', ...cimArgs('ProcessId=3204')].join(' ');
  const fast = { graceMs: 50, killWaitMs: 50, pollMs: 1, sleep: async () => {} };

  it('Windows: polite taskkill refused ("only forcefully") → identity re-checked → taskkill /F → killed', async () => {
    const runner = recordedRunner({
      [idKey]: [recordedResult('win32/signaller/identity-3204.txt'), recordedResult('win32/signaller/identity-3204.txt'), recordedResult('win32/signaller/identity-none.txt')],
      'taskkill /PID 3204': recordedResult('win32/signaller/taskkill-term-forcefully.txt'),
      'taskkill /PID 3204 /F': recordedResult('win32/signaller/taskkill-force-ok.txt'),
    });
    const audit = memoryAuditSink();
    const [a] = await executeKillPlan({ targets: [winTarget], refusals: [] }, { signaller: windowsSignaller(runner), audit, ...fast });
    expect(runner.calls).toEqual([idKey, 'taskkill /PID 3204', idKey, 'taskkill /PID 3204 /F', idKey]);
    expect(a).toMatchObject({ outcome: 'killed', signals: ['SIGKILL'] });
    expect(a!.reason).toMatch(/polite stop was refused .*forcefully.*identity re-checked, forced/);
    expect(audit.entries[0]!.root).toBe('C:/Users/Alice/AppData/Local/hermes');
  });

  it('Windows: the PID now belongs to notepad → skipped, no taskkill at all', async () => {
    const runner = recordedRunner({ [idKey]: recordedResult('win32/signaller/identity-reused.txt') });
    const [a] = await executeKillPlan({ targets: [winTarget], refusals: [] }, { signaller: windowsSignaller(runner), audit: memoryAuditSink(), ...fast });
    expect(a).toMatchObject({ outcome: 'skipped', signals: [] });
    expect(runner.calls).toEqual([idKey]);
  });

  it('Windows: polite refused, then the PID is reused before /F → no /F; an unreadable identity stops everything', async () => {
    const runner = recordedRunner({
      [idKey]: [recordedResult('win32/signaller/identity-3204.txt'), recordedResult('win32/signaller/identity-reused.txt')],
      'taskkill /PID 3204': recordedResult('win32/signaller/taskkill-term-forcefully.txt'),
    });
    const [a] = await executeKillPlan({ targets: [winTarget], refusals: [] }, { signaller: windowsSignaller(runner), audit: null, ...fast });
    expect(runner.calls).toEqual([idKey, 'taskkill /PID 3204', idKey]);
    expect(a).toMatchObject({ outcome: 'already-gone', signals: [] });
    const [b] = await executeKillPlan({ targets: [winTarget], refusals: [] }, { signaller: windowsSignaller(recordedRunner({})), audit: null, ...fast });
    expect(b).toMatchObject({ outcome: 'skipped', signals: [] });
    expect(b!.reason).toMatch(/nothing sent: cannot read the identity/);
  });

  it('macOS: identity from ps lstart, SIGTERM, gone → terminated', async () => {
    const key = 'ps -p 9120 -ww -o lstart=,command=';
    const runner = recordedRunner({ [key]: [recordedResult('darwin/signaller/ps-identity-9120.txt'), recordedResult('darwin/signaller/ps-identity-gone.txt')] });
    const sent: [number, string][] = [];
    const s = darwinSignaller(runner, (pid, sig) => (sent.push([pid, sig]), true));
    const id = (await darwinSignaller(recordedRunner({ [key]: recordedResult('darwin/signaller/ps-identity-9120.txt') }), () => true).identity(9120))!;
    const t: KillTarget = { ...winTarget, pid: 9120, startTicks: id.startTicks, argv: id.argv, hermesHome: '/Users/alice/.hermes', auditRoot: '/Users/alice/.hermes' };
    const [a] = await executeKillPlan({ targets: [t], refusals: [] }, { signaller: s, audit: memoryAuditSink(), ...fast });
    expect(sent).toEqual([[9120, 'SIGTERM']]);
    expect(a).toMatchObject({ outcome: 'terminated', signals: ['SIGTERM'] });
  });
});
