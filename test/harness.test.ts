// Proves the test harness and the stand-in gateway behave like the real thing at the OS level.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { cleanupAllScratch, makeScratch, profileHome } from './harness/scratch.js';
import {
  fdTargets,
  holdsFlock,
  ignoresSignal,
  isAlive,
  killAll,
  readCmdline,
  readEnviron,
  readJson,
  readProcLocks,
  readStat,
  registeredPids,
  startGateway,
  startProcess,
  startWorker,
  waitFor,
  waitForGatewayReady,
} from './harness/processes.js';
import { addGatewaySlot, s6TreePids, slotPid, startS6Tree, stopAllS6Trees, supervisePid } from './harness/s6.js';
import { hasPython3, hasS6, isLinux, requireOrSkip } from './harness/skip.js';

interface PidRecord {
  pid: number;
  kind: string;
  argv: string[];
  start_time: number;
  hermes_home: string;
  gateway_state?: string;
  updated_at?: string;
}

const started: number[] = [];

afterEach(async () => {
  started.push(...registeredPids(), ...s6TreePids());
  await stopAllS6Trees(); // before killAll, so s6-supervise does not respawn a SIGKILLed slot
  await killAll();
});

afterAll(async () => {
  await stopAllS6Trees();
  await killAll();
  cleanupAllScratch();
});

describe.skipIf(requireOrSkip('Linux /proc and python3', isLinux() && hasPython3()))('stand-in gateway', () => {
  it('setsid launch reproduces the incident: reparented, PPID 1, new session', async () => {
    const s = makeScratch();
    const root = s.root('argus');
    const home = profileHome(root, 'argus');
    const gw = startGateway({ root, profile: 'argus', env: { OPENAI_API_KEY: 'sk-test-not-a-secret' } });
    await waitForGatewayReady(home, gw.pid);
    const st = readStat(gw.pid)!;
    expect(st.ppid).not.toBe(process.pid);
    expect(st.ppid).toBe(1);
    expect(st.session).toBe(gw.pid);
    expect(readCmdline(gw.pid)).toEqual(['python3', '-m', 'hermes_cli.main', '-p', 'argus', 'gateway', 'run', '--replace']);
    const env = readEnviron(gw.pid);
    expect(env.HERMES_HOME).toBeUndefined(); // the profile came only from -p, root from ~/.hermes
    expect(env.HOME).toBe(path.dirname(root));
    expect(gw.home).toBe(home);
  });

  it('writes gateway.pid / gateway_state.json JSON with start_time = /proc stat field 22', async () => {
    const s = makeScratch();
    const root = s.root('argus');
    const home = profileHome(root, 'argus');
    const gw = startGateway({ root, profile: 'argus' });
    await waitForGatewayReady(home, gw.pid);
    const rec = readJson(path.join(home, 'gateway.pid')) as PidRecord;
    expect(rec).toMatchObject({ pid: gw.pid, kind: 'hermes-gateway', start_time: gw.startTicks, hermes_home: home });
    expect(rec.start_time).toBe(readStat(gw.pid)!.startTicks);
    expect(rec.argv.slice(1)).toEqual(['-p', 'argus', 'gateway', 'run', '--replace']);
    const state = readJson(path.join(home, 'gateway_state.json')) as PidRecord;
    expect(state).toMatchObject({ pid: gw.pid, kind: 'hermes-gateway', start_time: gw.startTicks, gateway_state: 'running' });
    expect(Date.parse(state.updated_at!)).toBeGreaterThan(Date.now() - 60_000);
    expect(fs.readdirSync(home).filter((f) => f.includes('.tmp'))).toEqual([]);
  });

  it('holds FLOCK WRITE on gateway.lock and .dispatcher.lock, and has kanban.db + -wal open', async () => {
    const s = makeScratch();
    const root = s.root('argus');
    const home = profileHome(root, 'argus');
    const gw = startGateway({ root, profile: 'argus', env: { STANDIN_TICK_MS: '50' } });
    await waitForGatewayReady(home, gw.pid);
    // The stand-in takes the dispatcher flock after it writes gateway.pid: wait for that flock too.
    const dispatcherLock = path.join(root, 'kanban', '.dispatcher.lock');
    await waitFor(() => holdsFlock(gw.pid, dispatcherLock), 10_000, `PID ${gw.pid} flock on ${dispatcherLock}`);
    const mine = readProcLocks().filter((l) => l.pid === gw.pid && l.kind === 'FLOCK' && l.type === 'WRITE');
    expect(mine.map((l) => l.inode)).toContain(Number(fs.statSync(path.join(home, 'gateway.lock')).ino));
    expect(mine.map((l) => l.inode)).toContain(Number(fs.statSync(dispatcherLock).ino));
    const db = path.join(root, 'kanban.db');
    await waitFor(() => fs.existsSync(`${db}-wal`) && fdTargets(gw.pid).includes(`${db}-wal`), 5000, 'wal fd');
    const fds = fdTargets(gw.pid);
    expect(fds).toContain(db);
    expect(fds).toContain(`${db}-wal`);
    expect(fds).toContain(path.join(home, 'gateway.lock'));
  });

  it('a second gateway on the same home exits 1; with STANDIN_STAY_ON_LOCK_BUSY=1 it stays', async () => {
    const s = makeScratch();
    const root = s.root();
    const first = startGateway({ root, detached: 'child' });
    await waitForGatewayReady(root, first.pid);
    expect(readStat(first.pid)!.ppid).toBe(process.pid);
    const second = startGateway({ root, detached: 'child' });
    const ex = await second.exited!;
    expect(ex.code).toBe(1);
    expect(second.output().stderr).toMatch(/gateway\.lock is held/);
    const dup = startGateway({ root, env: { STANDIN_STAY_ON_LOCK_BUSY: '1' } });
    // It opens kanban.db only after both flock attempts, so once the fd is there both have failed.
    await waitFor(() => fdTargets(dup.pid).includes(path.join(root, 'kanban.db')), 10_000, `duplicate ${dup.pid} opens kanban.db`);
    expect(dup.alive()).toBe(true);
    expect((readJson(path.join(root, 'gateway.pid')) as PidRecord).pid).toBe(first.pid);
    const dupLocks = readProcLocks().filter((l) => l.pid === dup.pid && l.kind === 'FLOCK');
    expect(dupLocks).toEqual([]); // lost both gateway.lock and .dispatcher.lock
    expect(fdTargets(dup.pid)).toContain(path.join(root, 'kanban.db'));
  });

  it('SIGTERM saves state "stopped" and removes gateway.pid', async () => {
    const s = makeScratch();
    const root = s.root('argus');
    const home = profileHome(root, 'argus');
    const gw = startGateway({ root, args: ['gateway', 'restart', '--profile', 'argus'] });
    await waitForGatewayReady(home, gw.pid);
    gw.signal('SIGTERM');
    await waitFor(() => !gw.alive(), 5000, 'gateway exit');
    expect(fs.existsSync(path.join(home, 'gateway.pid'))).toBe(false);
    expect((readJson(path.join(home, 'gateway_state.json')) as PidRecord).gateway_state).toBe('stopped');
  });

  it('STANDIN_IGNORE_TERM=1 survives SIGTERM and needs SIGKILL', async () => {
    const s = makeScratch();
    const root = s.root();
    const gw = startGateway({ root, env: { STANDIN_IGNORE_TERM: '1', STANDIN_NO_KANBAN: '1' } });
    await waitForGatewayReady(root, gw.pid);
    // SIG_IGN discards SIGTERM when it is sent (signal(7)), so once SigIgn has it the process is
    // alive right after kill() returns: no wait for a delivery that never comes.
    expect(ignoresSignal(gw.pid, 15)).toBe(true);
    gw.signal('SIGTERM');
    expect(gw.alive()).toBe(true);
    expect(fs.existsSync(path.join(root, 'kanban.db'))).toBe(false);
    gw.signal('SIGKILL');
    await waitFor(() => !gw.alive(), 5000, 'gateway exit after SIGKILL');
    // SIGKILL leaves the identity files behind, like a real crash
    expect((readJson(path.join(root, 'gateway_state.json')) as PidRecord).gateway_state).toBe('running');
  });

  it('HERMES_HOME env (web UI style) and -p default resolve like Hermes', async () => {
    const s = makeScratch();
    const root = s.root('muse');
    const muse = profileHome(root, 'muse');
    const web = startGateway({ root, env: { HERMES_HOME: muse, STANDIN_NO_KANBAN: '1' } });
    await waitForGatewayReady(muse, web.pid);
    const dflt = startGateway({ root, profile: 'default', homeVia: 'HERMES_HOME', env: { STANDIN_NO_KANBAN: '1' } });
    expect(dflt.home).toBe(root);
    await waitForGatewayReady(root, dflt.pid);
  });

  it('kanban worker and held-open sqlite3 show up on kanban.db; stop() ends them', async () => {
    const s = makeScratch();
    const root = s.root('argus');
    const db = path.join(root, 'kanban.db');
    const w = startWorker({ root, profile: 'argus', taskId: 't_abc123' });
    await waitFor(() => fdTargets(w.pid).includes(db), 5000, 'worker opens kanban.db');
    expect(readCmdline(w.pid)).toContain('work kanban task t_abc123');
    expect(readEnviron(w.pid)).toMatchObject({ HERMES_KANBAN_DB: db, HERMES_KANBAN_TASK: 't_abc123', HERMES_PROFILE: 'argus' });
    expect(readStat(w.pid)!.ppid).toBe(1);
    const sq = startProcess(['sqlite3', db], { stdin: 'pipe', cwd: root });
    await waitFor(() => fdTargets(sq.pid).includes(db), 5000, 'sqlite3 opens kanban.db');
    await sq.stop();
    await w.stop();
    expect(isAlive(w.pid, w.startTicks)).toBe(false);
    expect(isAlive(sq.pid, sq.startTicks)).toBe(false);
  });
});

describe.skipIf(requireOrSkip('Debian s6 (apt-get install -y s6)', hasS6() && hasPython3()))('real s6 tree', () => {
  it('slot gateway is the child of s6-supervise gateway-<p>, and s6-svstat pid equals it', async () => {
    const s = makeScratch();
    const root = s.root('argus');
    const tree = await startS6Tree();
    const slot = await addGatewaySlot(tree, { profile: 'argus', root });
    const dslot = await addGatewaySlot(tree, { profile: 'default', root, env: { STANDIN_NO_KANBAN: '1' } });
    for (const sl of [slot, dslot]) {
      const sup = supervisePid(tree, sl.name);
      expect(sup).not.toBeNull();
      expect(readStat(sl.pid)!.ppid).toBe(sup);
      expect(readStat(sup!)!.ppid).toBe(tree.svscanPid);
      expect(slotPid(tree, sl.name)).toBe(sl.pid);
      expect(readEnviron(sl.pid)).toMatchObject({ HERMES_S6_SUPERVISED_CHILD: '1', HERMES_HOME: root });
    }
    expect(readCmdline(slot.pid)).toEqual(['python3', '-m', 'hermes_cli.main', '-p', 'argus', 'gateway', 'run', '--replace']);
    expect(readCmdline(dslot.pid)).toEqual(['python3', '-m', 'hermes_cli.main', 'gateway', 'run', '--replace']);
    const recorded = [...tree.recorded];
    await tree.stop();
    for (const [p, t] of recorded) expect(isAlive(p, t)).toBe(false);
    expect((readJson(path.join(slot.home, 'gateway_state.json')) as PidRecord).gateway_state).toBe('stopped');
    expect(fs.existsSync(tree.scanDir)).toBe(false);
  });
});

describe.skipIf(requireOrSkip('Linux /proc and python3', isLinux() && hasPython3()))('cleanup', () => {
  it('killAll leaves no process it started (setsid, child, IGNORE_TERM)', async () => {
    const s = makeScratch();
    const root = s.root('a', 'b');
    const a = startGateway({ root, profile: 'a', env: { STANDIN_IGNORE_TERM: '1' } });
    const b = startGateway({ root, profile: 'b', detached: 'child' });
    const w = startWorker({ root, taskId: 't_cleanup' });
    await waitForGatewayReady(profileHome(root, 'a'), a.pid);
    await waitForGatewayReady(profileHome(root, 'b'), b.pid);
    await killAll();
    for (const p of [a, b, w]) expect(isAlive(p.pid, p.startTicks)).toBe(false);
    expect(registeredPids()).toEqual([]);
  });

  it('nothing started by earlier tests is still alive (their gateways, workers and s6 trees)', () => {
    expect(started.length).toBeGreaterThan(0);
    for (const p of started) {
      const st = readStat(p);
      // gone, or a zombie waiting for PID 1 to reap it, or the PID was reused by something else
      if (st && st.state !== 'Z') expect(readCmdline(p).join(' ')).not.toMatch(/hermes_cli\.main|s6-s/);
    }
  });
});
