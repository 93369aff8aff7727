/**
 * The identity files and cmdline of the real Hermes gateway (fixtures/real/, recorded from v0.15.1 and
 * 306e2d2 on this machine; see its README.md) through hermes-doctor's parsers, and the setproctitle
 * gateway (cmdline `hermes`, no -p, no HERMES_HOME) identified by the flock it holds and the record
 * that names it by pid and start_time.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { classify } from '../src/core/classify.js';
import { parseIdentityFile } from '../src/sources/homes.js';
import { splitCmdline } from '../src/sources/linux/procfs.js';
import { scanLinux } from '../src/sources/linux/scan.js';
import type { HomeRecord, HostSnapshot, IdentityFile, LockRecord, ProcessRecord } from '../src/types.js';
import { FIXTURES } from './harness/fixtures.js';
import { holdsFlock, killAll, readCmdline, startProcess, waitFor } from './harness/processes.js';
import { home, proc, snapshot } from './harness/records.js';
import { cleanupAllScratch, makeScratch, profileHome } from './harness/scratch.js';
import { isLinux, requireOrSkip } from './harness/skip.js';

const REAL = path.join(FIXTURES, 'real');
const VERSIONS = ['v0.15.1', '306e2d2'] as const;
const runs = (v: string) => fs.readdirSync(path.join(REAL, v)).filter((d) => fs.statSync(path.join(REAL, v, d)).isDirectory());
const read = (v: string, run: string, f: string) => fs.readFileSync(path.join(REAL, v, run, f), 'utf8');

describe('parsers accept the real files of both versions', () => {
  for (const v of VERSIONS) {
    for (const run of runs(v)) {
      it(`${v}/${run}: gateway.pid, gateway.lock and gateway_state.json (running and after SIGTERM)`, () => {
        const pid = Number(read(v, run, 'pid'));
        const start = Number(read(v, run, 'start_time'));
        for (const [file, kind] of [['gateway.pid', 'pid'], ['gateway.lock', 'lock'], ['gateway.lock.after-sigterm', 'lock']] as const) {
          const f = parseIdentityFile(file, read(v, run, file), kind);
          expect(f, file).toMatchObject({ status: 'ok', pid, startTime: start, kind: 'hermes-gateway', hermesHome: null });
          // Hermes strips -p NAME from sys.argv before it builds the record.
          expect(f.argv!.slice(-2)).toEqual(['gateway', 'run']);
          expect(f.argv).not.toContain('-p');
        }
        const running = parseIdentityFile('gateway_state.json', read(v, run, 'gateway_state.json'), 'state');
        expect(running).toMatchObject({ status: 'ok', pid, startTime: start, gatewayState: 'running', restartRequested: false, activeAgents: 0, exitReason: null });
        expect(running.updatedAt).toMatch(/\+00:00$/);
        const after = parseIdentityFile('gateway_state.json', read(v, run, 'gateway_state.after-sigterm.json'), 'state');
        // An unplanned SIGTERM: v0.15.1 writes `stopped`, 306e2d2 keeps `running`.
        expect(after.gatewayState).toBe(v === 'v0.15.1' ? 'stopped' : 'running');
        expect(read(v, run, 'modes.txt')).toMatch(/gateway\.lock 644 .*\n.*gateway\.pid 755 .*\n.*gateway_state\.json 600 /);
      });
    }
  }

  it('an empty gateway.lock (created, record not written yet) is missing, not corrupt; an empty gateway.pid stays corrupt', () => {
    expect(parseIdentityFile('gateway.lock', '', 'lock').status).toBe('missing');
    expect(parseIdentityFile('gateway.pid', '', 'pid').status).toBe('corrupt');
    expect(parseIdentityFile('gateway.lock', '{"pid": 7, "kind": "hermes-gateway", "argv": [1, 2]', 'lock').status).toBe('corrupt');
    expect(parseIdentityFile('gateway.lock', '{"pid": 7, "argv": [1, 2]}', 'lock')).toMatchObject({ status: 'ok', argv: null });
  });

  it('the setproctitle cmdline (`hermes` and NUL padding) splits to ["hermes"]', () => {
    const buf = fs.readFileSync(path.join(REAL, '306e2d2', 'spt-module', 'cmdline'));
    expect(buf.length).toBe(57);
    expect(splitCmdline(buf)).toEqual(['hermes']);
    expect(splitCmdline(Buffer.from('python3\0-m\0hermes_cli.main\0'))).toEqual(['python3', '-m', 'hermes_cli.main']);
    expect(splitCmdline(Buffer.alloc(40))).toEqual([]);
  });
});

const ROOT = '/root/.hermes';
const ARGUS = `${ROOT}/profiles/argus`;

const snap = (processes: ProcessRecord[], homes: HomeRecord[], locks: LockRecord[]): HostSnapshot =>
  snapshot({ takenAt: '2026-12-02T06:00:00.000Z', processes, homes, locks });

/** The real 306e2d2 spt-module record, moved to ARGUS. */
function realRecord(file: string, kind: 'pid' | 'lock'): IdentityFile {
  return { ...parseIdentityFile(`${ARGUS}/${file}`, read('306e2d2', 'spt-module', file), kind), path: `${ARGUS}/${file}` };
}

describe('the setproctitle gateway is its home\'s gateway by the flock it holds', () => {
  const rec = realRecord('gateway.lock', 'lock');
  const pid = rec.pid!;
  const flock: LockRecord = { path: `${ARGUS}/gateway.lock`, inode: 42, kind: 'FLOCK', access: 'WRITE', pid };
  const dispatcher: LockRecord = { path: `${ROOT}/kanban/.dispatcher.lock`, inode: 43, kind: 'FLOCK', access: 'WRITE', pid };
  // What /proc shows of it: cmdline `hermes`, environ with the caller's root HERMES_HOME (or nothing).
  const spt = (env: Record<string, string>) =>
    proc(pid, ['hermes'], {
      startTicks: rec.startTime!,
      comm: 'hermes',
      env,
      handles: [
        { fd: 16, path: `${ARGUS}/gateway.lock`, mode: 'rw', deleted: false },
        { fd: 17, path: `${ROOT}/kanban/.dispatcher.lock`, mode: 'rw', deleted: false },
      ],
    });
  const homes = [home(ROOT), home(ARGUS, { lockFile: rec, pidFile: realRecord('gateway.pid', 'pid') })];

  for (const [label, env] of [['environ blanked', {}], ['environ kept (HERMES_HOME of the root)', { HERMES_HOME: ROOT }]] as const) {
    it(`${label}: role gateway, home argus from the flock, argv from the record, its kanban role kept`, () => {
      const r = classify(snap([spt(env)], homes, [flock, dispatcher]));
      const p = r.processes.find((x) => x.pid === pid)!;
      expect(p.role).toBe('gateway');
      expect(p.hermesHome).toBe(ARGUS);
      expect(p.profile).toBe('argus');
      expect(p.kanbanRoot).toBe(ROOT);
      expect(p.homeSource).toContain(`flock on ${ARGUS}/gateway.lock`);
      expect(p.homeSource).toContain('pid and start_time match');
      expect(p.recordArgv).toEqual(rec.argv);
      expect(p.verdict).toBe('manual');
      expect(p.reasons.join(' ')).toContain('setproctitle');
      const k = r.kanban.find((x) => x.root === ROOT)!;
      expect(k.dispatcherLockHolder).toBe(pid);
      expect(k.writers.map((w) => w.pid)).toContain(pid);
    });
  }

  it('a record of another start (PID reused) is not trusted: still the gateway by its flock and Hermes argv, but no record argv', () => {
    const stale = { ...rec, startTime: rec.startTime! - 5 };
    const r = classify(snap([spt({})], [home(ROOT), home(ARGUS, { lockFile: stale, pidFile: { ...stale, path: `${ARGUS}/gateway.pid` } })], [flock]));
    const p = r.processes.find((x) => x.pid === pid)!;
    expect(p.role).toBe('gateway');
    expect(p.hermesHome).toBe(ARGUS);
    expect(p.recordArgv).toBeUndefined();
  });

  it('a non-Hermes process holding the flock with no record naming it is not promoted to a gateway', () => {
    const other = proc(pid, ['flock', '-n', `${ARGUS}/gateway.lock`, 'sleep', '60'], { handles: [{ fd: 3, path: `${ARGUS}/gateway.lock`, mode: 'r', deleted: false }] });
    const r = classify(snap([other], [home(ROOT), home(ARGUS)], [flock]));
    expect(r.processes.find((x) => x.pid === pid)).toBeUndefined();
  });

  it('without the flock, cmdline `hermes` alone stays a hermes-cli process (no home guessed)', () => {
    const r = classify(snap([proc(pid, ['hermes'], { env: {} })], [home(ROOT)], []));
    expect(r.processes.find((x) => x.pid === pid)!.role).toBe('hermes-cli');
  });
});

/** Debian's python3-setproctitle, importable by /usr/bin/python3. */
function hasSetproctitle(): boolean {
  return spawnSync('/usr/bin/python3', ['-c', 'import setproctitle'], { stdio: 'ignore', timeout: 10_000 }).status === 0;
}

// A real process that does what a 306e2d2 gateway does at the OS level with setproctitle importable:
// retitles itself `hermes`, takes the flock on HOME/gateway.lock and writes Hermes's record into it
// and gateway.pid (gateway/status.py), with an argv that lacks -p, then waits.
const SPT_GATEWAY = `
import fcntl, json, os, sys, time, setproctitle
home = sys.argv[1]
setproctitle.setproctitle("hermes")
start = int(open("/proc/self/stat").read().rsplit(")", 1)[1].split()[19])
rec = {"pid": os.getpid(), "kind": "hermes-gateway", "argv": ["/opt/hermes/src/hermes_cli/main.py", "gateway", "run"], "start_time": start}
f = open(os.path.join(home, "gateway.lock"), "a+")
fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
f.seek(0); f.truncate(); json.dump(rec, f); f.flush()
fd = os.open(os.path.join(home, "gateway.pid"), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o777)
os.write(fd, json.dumps(rec).encode()); os.close(fd)
time.sleep(120)
`;

describe.skipIf(requireOrSkip('Linux, /usr/bin/python3 and python3-setproctitle (apt-get install -y python3-setproctitle)', isLinux() && hasSetproctitle()))(
  'a real retitled process holding gateway.lock',
  () => {
    afterEach(async () => {
      await killAll();
    });
    afterAll(() => cleanupAllScratch());

    it('is found by a live scan as the gateway of its profile home, with the record argv', async () => {
      const s = makeScratch();
      const root = path.join(s.dir, '.hermes');
      const argus = profileHome(root, 'argus');
      fs.mkdirSync(argus, { recursive: true });
      const g = startProcess(['/usr/bin/python3', '-c', SPT_GATEWAY, argus], { env: { HERMES_HOME: root }, detached: 'setsid' });
      await waitFor(() => holdsFlock(g.pid, path.join(argus, 'gateway.lock')) && fs.existsSync(path.join(argus, 'gateway.pid')), 10_000, `PID ${g.pid} holding ${argus}/gateway.lock`);
      await waitFor(() => readCmdline(g.pid).filter(Boolean).join(' ') === 'hermes', 5000, `PID ${g.pid} retitled to hermes`);
      const snapshot = await scanLinux({ extraHomes: [argus], s6ScanDir: '/nonexistent/hermes-doctor-no-s6' });
      const r = classify(snapshot, { homes: [argus] });
      const p = r.processes.find((x) => x.pid === g.pid);
      expect(p, JSON.stringify(r.processes.map((x) => [x.pid, x.argv]))).toBeDefined();
      expect(p!.argv).toEqual(['hermes']);
      expect(p!.role).toBe('gateway');
      expect(p!.hermesHome).toBe(argus);
      expect(p!.profile).toBe('argus');
      expect(p!.recordArgv).toEqual(['/opt/hermes/src/hermes_cli/main.py', 'gateway', 'run']);
      expect(p!.verdict).toBe('manual');
    });
  },
);
