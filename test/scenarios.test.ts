/**
 * Scenarios on real processes: stand-in gateways that flock gateway.lock and write a real
 * SQLite WAL kanban.db, a real s6 tree, shells that setsid a gateway so it is reparented, sqlite3
 * holding the DB open. Each asserts verdicts, kanban risk and the exit code of the real CLI code path.
 */
import fs from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { classify } from '../src/core/classify.js';
import { linuxFacets, scanLinux } from '../src/sources/linux/scan.js';
import { scanHostFacets } from '../src/sources/scan.js';
import { readCmdline, readFdLinks, readStat } from '../src/sources/linux/procfs.js';
// cli: every JSON document of every scenario follows the README's contract (schema-checked).
import { NO_S6, cliReport as cli, homesArgs, verdictOf } from './harness/cli.js';
import { FAKE_SECRET, hasOpen, startGateway, startProcess, startWorker, waitFor, waitForGatewayReady, waitForOpen } from './harness/processes.js';
import { addGatewaySlot, startS6Tree, type S6Tree } from './harness/s6.js';
import { makeScratch, profileHome } from './harness/scratch.js';
import { cleanUpAfterEach } from './harness/cleanup.js';
import { hasBinary, hasPython3, hasS6, isLinux, requireOrSkip } from './harness/skip.js';
import { assertOrphansV1 } from './contract.js';

const ready = isLinux() && hasPython3();

describe.skipIf(requireOrSkip('Linux /proc and python3 with sqlite3', ready))('scenarios on real processes', () => {
  cleanUpAfterEach();

  describe.skipIf(requireOrSkip('s6 (apt-get install -y s6)', hasS6()))('with a real s6 tree', () => {
    let tree: S6Tree;
    beforeAll(() => {});

    it('1. default + argus supervised by s6: all supervised, exit 0', async () => {
      const scratch = makeScratch();
      const root = scratch.root('argus');
      tree = await startS6Tree(path.join(scratch.dir, 'service'));
      const d = await addGatewaySlot(tree, { profile: 'default', root });
      const a = await addGatewaySlot(tree, { profile: 'argus', root });
      const { code, report } = await cli(['orphans', '--json', '--s6-scandir', tree.scanDir, ...homesArgs(root, profileHome(root, 'argus'))]);
      const r = report!;
      expect(verdictOf(r, d.pid).verdict).toBe('supervised');
      expect(verdictOf(r, d.pid).supervisor).toMatchObject({ kind: 's6', unit: 'gateway-default', mainPid: d.pid });
      expect(verdictOf(r, a.pid).verdict).toBe('supervised');
      expect(verdictOf(r, a.pid).profile).toBe('argus');
      expect(verdictOf(r, a.pid).hermesHome).toBe(profileHome(root, 'argus'));
      const k = r.kanban.find((x) => x.db === path.join(root, 'kanban.db'))!;
      expect(k.risk).toBe('ok');
      expect(k.holders.map((h) => h.pid).sort()).toEqual([a.pid, d.pid].sort());
      expect([a.pid, d.pid]).toContain(k.dispatcherLockHolder);
      expect(r.findings.filter((f) => f.severity !== 'info')).toEqual([]);
      expect(code).toBe(0);
    });

    it('2. the incident: an argus gateway from a shell beside the s6-supervised one: orphan + rival-writers, exit 2', async () => {
      const scratch = makeScratch();
      const root = scratch.root('argus');
      tree = await startS6Tree(path.join(scratch.dir, 'service'));
      const sup = await addGatewaySlot(tree, { profile: 'argus', root });
      const orphan = startGateway({ root, profile: 'argus', env: { STANDIN_STAY_ON_LOCK_BUSY: '1' } });
      await waitForOpen(orphan.pid, 'kanban.db-wal', 8000, 'orphan to open kanban.db-wal');
      expect(readStat(orphan.pid).ok && (readStat(orphan.pid) as { value: { ppid: number } }).value.ppid).toBe(1);

      const { code, report } = await cli(['orphans', '--json', '--s6-scandir', tree.scanDir, ...homesArgs(profileHome(root, 'argus'))]);
      const r = report!;
      const o = verdictOf(r, orphan.pid);
      expect(o.verdict).toBe('orphan');
      expect(o.ppid).toBe(1);
      expect(o.supervisor).toBeNull();
      expect(o.reasons.join(' ')).toContain('gateway-argus');
      expect(o.reasons.join(' ')).toContain(`not the PID ${sup.pid} of s6 slot gateway-argus`);
      expect(verdictOf(r, sup.pid).verdict).toBe('supervised');
      const k = r.kanban.find((x) => x.db === path.join(root, 'kanban.db'))!;
      expect(k.risk).toBe('rival-writers');
      expect(k.holders.map((h) => h.pid)).toEqual(expect.arrayContaining([orphan.pid, sup.pid]));
      expect(k.holders.find((h) => h.pid === orphan.pid)!.mode).toBe('rw');
      const crit = r.findings.find((f) => f.code === 'RIVAL_WRITERS')!;
      expect(crit.severity).toBe('critical');
      // One remedy per PID, the kill that protects the owner's files, with the scan flags it needs.
      const remedy = `hermes-doctor orphans --kill --pid ${orphan.pid} --s6-scandir ${tree.scanDir} --home ${profileHome(root, 'argus')}`;
      expect(crit.remedy).toBe(remedy);
      const of = r.findings.find((f) => f.code === 'ORPHAN_GATEWAY' && f.pid === orphan.pid)!;
      expect(of.remedy).toBe(remedy);
      expect(code).toBe(2);

      // The table names the same things.
      const table = await cli(['orphans', '--no-color', '--s6-scandir', tree.scanDir, ...homesArgs(profileHome(root, 'argus'))]);
      expect(table.code).toBe(2);
      expect(table.out).toContain('rival-writers');
      expect(table.out).toMatch(new RegExp(`│ ${orphan.pid}\\s+│ 1\\s+│`));
      expect(table.out).toContain(`remedy: ${remedy}`);
      expect(table.out).not.toMatch(/\u001b\[/);
    });

    it('2b. the incident\u2019s other orphans: `gateway restart --profile argus`, and a bare `gateway run` moved to argus by active_profile', async () => {
      const scratch = makeScratch();
      const root = scratch.root('argus');
      const home = profileHome(root, 'argus');
      fs.writeFileSync(path.join(root, 'active_profile'), 'argus\n');
      tree = await startS6Tree(path.join(scratch.dir, 'service'));
      const sup = await addGatewaySlot(tree, { profile: 'argus', root });
      const restart = startGateway({ root, args: ['gateway', 'restart', '--profile', 'argus'], env: { STANDIN_STAY_ON_LOCK_BUSY: '1' } });
      const bare = startGateway({ root, args: ['gateway', 'run', '--replace'], env: { STANDIN_STAY_ON_LOCK_BUSY: '1' } });
      await waitForOpen(restart.pid, 'kanban.db', 8000, 'restart orphan to open kanban.db');
      await waitForOpen(bare.pid, 'kanban.db', 8000, 'bare orphan to open kanban.db');
      const { code, report } = await cli(['orphans', '--json', '--s6-scandir', tree.scanDir, ...homesArgs(home)]);
      const r = report!;
      expect(verdictOf(r, sup.pid).verdict).toBe('supervised');
      expect(verdictOf(r, sup.pid).homeSource).toBe('argv -p argus');
      const rs = verdictOf(r, restart.pid);
      expect(rs.role).toBe('gateway');
      expect(rs.verdict).toBe('orphan');
      const b = verdictOf(r, bare.pid);
      expect(b.argv).not.toContain('-p');
      expect(b.hermesHome).toBe(home);
      expect(b.homeSource).toContain('active_profile argus');
      expect(b.verdict).toBe('orphan');
      expect(r.kanban.find((k) => k.db === path.join(root, 'kanban.db'))!.risk).toBe('rival-writers');
      expect(code).toBe(2);
    });
  });

  it('3. one gateway from a shell, nothing installed: manual, exit 0', async () => {
    const scratch = makeScratch();
    const root = scratch.root();
    const g = startGateway({ root });
    await waitForGatewayReady(root, g.pid);
    const { code, report } = await cli(['orphans', '--json', ...NO_S6, ...homesArgs(root)]);
    const p = verdictOf(report!, g.pid);
    expect(p.verdict).toBe('manual');
    expect(p.profile).toBe('default');
    expect(p.homeSource).toMatch(/^default root .*\.hermes \(no active_profile\)$/);
    expect(report!.kanban[0]!.risk).toBe('ok');
    expect(code).toBe(0);
  });

  it('4. two shell gateways for one home: duplicate, the flock owner named', async () => {
    const scratch = makeScratch();
    const root = scratch.root('argus');
    const home = profileHome(root, 'argus');
    const first = startGateway({ root, profile: 'argus' });
    await waitForGatewayReady(home, first.pid);
    const second = startGateway({ root, profile: 'argus', env: { STANDIN_STAY_ON_LOCK_BUSY: '1' } });
    await waitFor(() => readCmdline(second.pid).ok && hasOpen(second.pid, 'kanban.db'), 8000, 'second gateway to open kanban.db');
    const { code, report } = await cli(['orphans', '--json', ...NO_S6, ...homesArgs(home)]);
    const r = report!;
    expect(verdictOf(r, first.pid).verdict).toBe('manual');
    expect(verdictOf(r, first.pid).reasons.join(' ')).toContain('holds the flock');
    const dup = verdictOf(r, second.pid);
    expect(dup.verdict).toBe('duplicate');
    expect(dup.reasons.join(' ')).toContain(`PID ${first.pid} holds the flock on ${home}/gateway.lock`);
    expect(r.kanban.find((k) => k.db === path.join(root, 'kanban.db'))!.risk).toBe('rival-writers');
    expect(code).toBe(2);
  });

  it('5. a gateway whose profile folder was deleted: ghost', async () => {
    const scratch = makeScratch();
    const root = scratch.root('gone');
    const home = profileHome(root, 'gone');
    const g = startGateway({ root, profile: 'gone' });
    await waitForGatewayReady(home, g.pid);
    fs.rmSync(home, { recursive: true, force: true });
    const { code, report } = await cli(['orphans', '--json', ...NO_S6, ...homesArgs(home)]);
    const p = verdictOf(report!, g.pid);
    expect(p.verdict).toBe('ghost');
    expect(p.reasons.join(' ')).toContain('no longer exists');
    expect(p.handles.some((h) => h.deleted && h.path.endsWith('gateway.lock'))).toBe(true);
    expect(report!.findings.find((f) => f.code === 'GHOST_GATEWAY')!.pid).toBe(g.pid);
    expect(code).toBe(1);
  });

  it('5b. a tombstoned profile is a ghost too', async () => {
    const scratch = makeScratch();
    const root = scratch.root('old');
    const home = profileHome(root, 'old');
    const g = startGateway({ root, profile: 'old' });
    await waitForGatewayReady(home, g.pid);
    fs.mkdirSync(path.join(root, 'profiles', '.deleted', 'old'), { recursive: true });
    const { report } = await cli(['orphans', '--json', ...NO_S6, ...homesArgs(home)]);
    expect(verdictOf(report!, g.pid).verdict).toBe('ghost');
    expect(verdictOf(report!, g.pid).reasons.join(' ')).toContain('tombstoned');
  });

  it('6. a kanban worker whose gateway is gone: orphaned-worker', async () => {
    const scratch = makeScratch();
    const root = scratch.root('argus');
    const gw = startGateway({ root, profile: 'argus' });
    await waitForGatewayReady(profileHome(root, 'argus'), gw.pid);
    await gw.stop();
    const w = startWorker({ root, profile: 'argus', taskId: 't_orphan01' });
    await waitForOpen(w.pid, 'kanban.db', 8000, 'worker to open kanban.db');
    const { code, report } = await cli(['orphans', '--json', ...NO_S6, ...homesArgs(profileHome(root, 'argus'))]);
    const p = verdictOf(report!, w.pid);
    expect(p.role).toBe('kanban-worker');
    expect(p.verdict).toBe('orphaned-worker');
    expect(p.reasons.join(' ')).toContain('t_orphan01');
    expect(p.reasons.join(' ')).toContain('reparented to PID 1');
    expect(report!.kanban[0]!.holders.find((h) => h.pid === w.pid)!.role).toBe('kanban-worker');
    expect(code).toBe(1);
  });

  it.skipIf(requireOrSkip('sqlite3 (apt-get install sqlite3)', hasBinary('sqlite3')))('7. sqlite3 holding kanban.db open: stray-holder, stray-writer, exit 1', async () => {
    const scratch = makeScratch();
    const root = scratch.root();
    const g = startGateway({ root });
    await waitForGatewayReady(root, g.pid);
    const sq = startProcess(['sqlite3', path.join(root, 'kanban.db')], { stdin: 'pipe', cwd: scratch.dir });
    sq.write('select count(*) from ticks;\n');
    await waitForOpen(sq.pid, 'kanban.db', 8000, 'sqlite3 to open kanban.db');
    const { code, report } = await cli(['orphans', '--json', ...NO_S6, ...homesArgs(root)]);
    const p = verdictOf(report!, sq.pid);
    expect(p.verdict).toBe('stray-holder');
    expect(p.role).toBe('stray-holder');
    expect(verdictOf(report!, g.pid).verdict).toBe('manual');
    const k = report!.kanban.find((x) => x.db === path.join(root, 'kanban.db'))!;
    expect(k.risk).toBe('stray-writer');
    expect(k.holders.find((h) => h.pid === sq.pid)!.mode).toBe('rw');
    const f = report!.findings.find((x) => x.pid === sq.pid)!;
    expect(f.code).toBe('STRAY_WRITER');
    expect(f.remedy).toBeNull();
    expect(f.message).toContain('sqlite3');
    expect(code).toBe(1);
  });

  it('8. corrupt gateway.pid and half-written gateway_state.json: clear reasons, no crash', async () => {
    const scratch = makeScratch();
    const root = scratch.root('argus');
    const home = profileHome(root, 'argus');
    const g = startGateway({ root, profile: 'argus' });
    await waitForGatewayReady(home, g.pid);
    fs.writeFileSync(path.join(home, 'gateway.pid'), '{"pid": 12');
    fs.writeFileSync(path.join(home, 'gateway_state.json'), '');
    const { code, report } = await cli(['orphans', '--json', ...NO_S6, ...homesArgs(home)]);
    expect(verdictOf(report!, g.pid).verdict).toBe('manual');
    const bad = report!.findings.filter((f) => f.code === 'IDENTITY_FILE_BAD').map((f) => f.message);
    expect(bad.some((m) => m.includes('gateway.pid is corrupt') && m.includes('not JSON'))).toBe(true);
    expect(bad.some((m) => m.includes('gateway_state.json is corrupt') && m.includes('half-written'))).toBe(true);
    expect(code).toBe(0);

    // Legacy bare-integer gateway.pid is accepted as legacy.
    fs.writeFileSync(path.join(home, 'gateway.pid'), `${g.pid}\n`);
    const legacy = await cli(['orphans', '--json', ...NO_S6, ...homesArgs(home)]);
    expect(legacy.report!.findings.some((f) => f.code === 'IDENTITY_FILE_LEGACY' && f.pid === g.pid)).toBe(true);
  });

  it('8b. processes that exit mid-scan are dropped, never half-reported', async () => {
    const scratch = makeScratch();
    const root = scratch.root();
    const churnArgv = ['python3', '-m', 'hermes_cli.main', 'gateway', 'status'];
    // Hermes-looking processes that exit at once, started continuously while scans run.
    let stop = false;
    const churn = (async () => {
      while (!stop) {
        const p = startProcess(churnArgv, { env: { HERMES_HOME: root } });
        await p.exited;
      }
    })();
    try {
      for (let i = 0; i < 15; i++) {
        const snap = await scanLinux({ s6ScanDir: '/nonexistent', extraHomes: [root] });
        for (const p of snap.processes) {
          expect(p.startTicks).toBeGreaterThan(0);
          expect(Array.isArray(p.argv)).toBe(true);
          // Whole or absent: every field read, nothing marked as having left during the read.
          expect(p.startTime).not.toBeNull();
          expect(p.uid).toBeGreaterThanOrEqual(0);
          expect([p.visibility.fd, p.visibility.environ, p.visibility.cgroup]).not.toContain('gone');
          if (p.argv.join(' ') === churnArgv.join(' ')) {
            expect(p.env.HERMES_HOME).toBe(root);
            expect(p.cgroups.length).toBeGreaterThan(0);
          }
        }
        classify(snap);
      }
    } finally {
      stop = true;
      await churn;
    }

    // Deterministically: one gateway ends after the process table was read and before it is read in
    // full, another in the middle of its own read (after its first stat); a third is left alone.
    const groot = makeScratch().root('argus', 'scout', 'relay');
    const home = (profile: string) => profileHome(groot, profile);
    // Children of this process: it cannot reap them while the scan reads synchronously, so each one is a
    // zombie (exited, still in /proc) when the scan reaches it, the hardest case to tell from a live one.
    const before = startGateway({ root: groot, profile: 'argus', detached: 'child' });
    const mid = startGateway({ root: groot, profile: 'scout', detached: 'child' });
    const kept = startGateway({ root: groot, profile: 'relay' });
    await Promise.all([waitForGatewayReady(home('argus'), before.pid), waitForGatewayReady(home('scout'), mid.pid), waitForGatewayReady(home('relay'), kept.pid)]);
    /** SIGKILL a gateway this test started, and wait (synchronously: the scan is mid-read) until it has exited. */
    const end = (pid: number) => {
      process.kill(pid, 'SIGKILL');
      const deadline = performance.now() + 5000;
      for (;;) {
        const st = readStat(pid);
        if (!st.ok || st.value.state === 'Z' || performance.now() > deadline) break;
      }
    };
    const hooked: number[] = [];
    const facets = linuxFacets({ s6ScanDir: '/nonexistent', extraHomes: [groot] }, (pid) => {
      if (pid !== mid.pid) return;
      hooked.push(pid);
      end(pid);
    });
    const read = facets.table.read;
    facets.table.read = (pid, argv, handles) => {
      if (pid === before.pid) {
        hooked.push(pid);
        end(pid);
      }
      return read(pid, argv, handles);
    };
    const snap = await scanHostFacets(facets, { extraHomes: [groot] });
    expect(hooked).toEqual(expect.arrayContaining([before.pid, mid.pid]));
    expect(snap.processes.map((p) => p.pid)).not.toContain(before.pid);
    expect(snap.processes.map((p) => p.pid)).not.toContain(mid.pid);
    const k = snap.processes.find((p) => p.pid === kept.pid)!;
    expect(k).toBeDefined();
    expect(k.startTicks).toBe(kept.startTicks);
    expect(k.startTime).not.toBeNull();
    expect(k.argv).toContain('gateway');
    expect(k.visibility).toEqual({ fd: 'ok', environ: 'ok', cgroup: 'ok' });
    expect(k.cgroups.length).toBeGreaterThan(0);
    expect(k.handles.map((h) => h.path)).toContain(path.join(home('relay'), 'gateway.lock'));
    expect(snap.locks.some((l) => l.pid === kept.pid)).toBe(true);
    expect(snap.locks.some((l) => l.pid === before.pid || l.pid === mid.pid)).toBe(false);
    classify(snap);

    // A process that is gone reads as gone.
    const p = startProcess(['sleep', '30']);
    const pid = p.pid;
    await p.stop();
    const st = readStat(pid);
    expect(st.ok).toBe(false);
    if (!st.ok) expect(st.why).toBe('gone');
  });

  it('PID 1 fd table (EACCES even for root here) is reported as not visible', async () => {
    const { report } = await cli(['orphans', '--json', ...NO_S6]);
    const fds = readFdLinks(1);
    if (!fds.ok) {
      expect(report!.findings.some((f) => f.code === 'NOT_VISIBLE' && f.message.includes('PID 1'))).toBe(true);
    } else {
      expect(report!.findings.some((f) => f.code === 'NOT_VISIBLE' && f.message.includes('PID 1'))).toBe(false);
    }
  });

  it('secrets in the environment appear in no output, table or JSON', async () => {
    const scratch = makeScratch();
    const root = scratch.root('argus');
    const g = startGateway({ root, profile: 'argus', env: { OPENAI_API_KEY: FAKE_SECRET, TELEGRAM_BOT_TOKEN: FAKE_SECRET, HERMES_SECRET_TOKEN: FAKE_SECRET } });
    await waitForGatewayReady(profileHome(root, 'argus'), g.pid);
    // The secret is really there to be found.
    expect(fs.readFileSync(`/proc/${g.pid}/environ`, 'utf8')).toContain(FAKE_SECRET);
    const json = await cli(['orphans', '--json', ...NO_S6]);
    const table = await cli(['orphans', ...NO_S6]);
    expect(json.report!.processes.some((p) => p.pid === g.pid)).toBe(true);
    expect(json.out).not.toContain(FAKE_SECRET);
    expect(table.out).not.toContain(FAKE_SECRET);
    expect(json.err + table.err).not.toContain(FAKE_SECRET);
    const snap = await scanLinux({ s6ScanDir: '/nonexistent' });
    expect(JSON.stringify(snap)).not.toContain(FAKE_SECRET);
    const rec = snap.processes.find((p) => p.pid === g.pid)!;
    expect(rec.env.HOME).toBeDefined();
    expect(Object.keys(rec.env)).not.toContain('OPENAI_API_KEY');
  });
});

describe('the JSON contract validator', () => {
  it('rejects a document that breaks the contract', () => {
    expect(() => assertOrphansV1({ schema: 'hermes-doctor.orphans/v1' })).toThrow(/must have required property 'processes'/);
    expect(() =>
      assertOrphansV1({
        schema: 'hermes-doctor.orphans/v1', takenAt: '2026-11-23T00:00:00.000Z', hostname: 'h', processes: [], kanban: [],
        findings: [{ severity: 'fatal', code: 'X', pid: null, message: 'm', remedy: null }], supervisors: [],
        summary: { processes: 0, byVerdict: {}, critical: 0, unknown: 0, warnings: 0, exitCode: 0, scanMs: 1 },
      }),
    ).toThrow(/severity/);
  });
});
