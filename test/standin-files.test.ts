/**
 * The stand-in gateway (fixtures/standin/hermes_cli/main.py) writes gateway.lock, gateway.pid and
 * gateway_state.json in the shape the real gateway of both versions writes them (fixtures/real/, recorded
 * from hermes-agent v0.15.1 and 306e2d2; code: gateway/status.py `_build_pid_record`,
 * `_write_gateway_lock_record`, `write_pid_file`, `write_runtime_status`, `remove_pid_file`): the same keys
 * in the same order, the same separators, the same modes, argv without `-p NAME`, gateway.pid removed and
 * gateway.lock left with its record after a SIGTERM, and the state that SIGTERM leaves per version.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { parseIdentityFile } from '../src/sources/homes.js';
import { FIXTURES } from './harness/fixtures.js';
import { STANDIN_PYTHONPATH, killAll, startGateway, waitFor, waitForGatewayReady } from './harness/processes.js';
import { cleanupAllScratch, makeScratch, profileHome } from './harness/scratch.js';
import { hasPython3, isLinux, requireOrSkip } from './harness/skip.js';

const REAL = path.join(FIXTURES, 'real');
const real = (v: string, run: string, f: string) => fs.readFileSync(path.join(REAL, v, run, f), 'utf8');

/** Python `json.dumps(obj)` with the default separators (", " and ": "), ASCII only, for flat records. */
function pythonDumps(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(pythonDumps).join(', ')}]`;
  if (v !== null && typeof v === 'object') return `{${Object.entries(v).map(([k, x]) => `${JSON.stringify(k)}: ${pythonDumps(x)}`).join(', ')}}`;
  return JSON.stringify(v).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

const mode = (f: string) => fs.statSync(f).mode & 0o777;
const read = (f: string) => fs.readFileSync(f, 'utf8');

afterEach(async () => {
  await killAll();
});

afterAll(async () => {
  await killAll();
  cleanupAllScratch();
});

describe.skipIf(requireOrSkip('Linux /proc and python3', isLinux() && hasPython3()))('stand-in gateway files match the real ones', () => {
  it('gateway.lock and (STANDIN_PID_RECORD=real) gateway.pid: the real record, byte shape, modes; gateway_state.json compact with the real keys, 0600', async () => {
    const s = makeScratch();
    const root = s.root('argus');
    const home = profileHome(root, 'argus');
    const gw = startGateway({ root, profile: 'argus', args: ['gateway', 'run'], env: { STANDIN_NO_KANBAN: '1', STANDIN_PID_RECORD: 'real' } });
    await waitForGatewayReady(home, gw.pid);
    const realLock = JSON.parse(real('v0.15.1', 'blocker-module', 'gateway.lock')) as Record<string, unknown>;
    const lockText = read(path.join(home, 'gateway.lock'));
    const lock = JSON.parse(lockText) as Record<string, unknown>;
    expect(Object.keys(lock)).toEqual(Object.keys(realLock));
    expect(lockText).toBe(pythonDumps(lock));
    expect(lock).toMatchObject({ pid: gw.pid, kind: 'hermes-gateway', start_time: gw.startTicks });
    // `python3 -m hermes_cli.main -p argus gateway run` records [<main.py>, "gateway", "run"].
    expect(lock.argv).toEqual([path.join(STANDIN_PYTHONPATH, 'hermes_cli', 'main.py'), 'gateway', 'run']);
    expect(read(path.join(home, 'gateway.pid'))).toBe(lockText);

    await waitFor(() => fs.existsSync(path.join(home, 'gateway_state.json')), 5000, 'gateway_state.json');
    const realState = JSON.parse(real('v0.15.1', 'blocker-module', 'gateway_state.json')) as Record<string, unknown>;
    const stateText = read(path.join(home, 'gateway_state.json'));
    const state = JSON.parse(stateText) as Record<string, unknown>;
    expect(Object.keys(state)).toEqual(Object.keys(realState));
    expect(stateText).toBe(JSON.stringify(state));
    expect(state).toMatchObject({ pid: gw.pid, argv: lock.argv, start_time: gw.startTicks, gateway_state: 'running', exit_reason: null, restart_requested: false, active_agents: 0, platforms: {} });
    expect(state.updated_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?\+00:00$/);

    const umask = process.umask();
    expect(mode(path.join(home, 'gateway.lock'))).toBe(0o666 & ~umask);
    expect(mode(path.join(home, 'gateway.pid'))).toBe(0o777 & ~umask);
    expect(mode(path.join(home, 'gateway_state.json'))).toBe(0o600);
    for (const [f, kind] of [['gateway.lock', 'lock'], ['gateway.pid', 'pid'], ['gateway_state.json', 'state']] as const) {
      expect(parseIdentityFile(f, read(path.join(home, f)), kind), f).toMatchObject({ status: 'ok', pid: gw.pid, startTime: gw.startTicks, hermesHome: null });
    }
  });

  for (const v of ['v0.15.1', '306e2d2'] as const) {
    it(`STANDIN_HERMES_VERSION=${v}: an unplanned SIGTERM removes gateway.pid, leaves gateway.lock with its record and the state ${v === 'v0.15.1' ? 'stopped' : 'running'}, as the real ${v} does`, async () => {
      const s = makeScratch();
      const root = s.root();
      const gw = startGateway({ root, args: ['gateway', 'run'], env: { STANDIN_NO_KANBAN: '1', STANDIN_HERMES_VERSION: v } });
      await waitForGatewayReady(root, gw.pid);
      const lockText = read(path.join(root, 'gateway.lock'));
      const before = JSON.parse(read(path.join(root, 'gateway_state.json'))) as Record<string, unknown>;
      gw.signal('SIGTERM');
      await waitFor(() => !gw.alive(), 5000, 'gateway exit');
      expect(fs.existsSync(path.join(root, 'gateway.pid'))).toBe(false);
      expect(read(path.join(root, 'gateway.lock'))).toBe(lockText);
      const after = JSON.parse(read(path.join(root, 'gateway_state.json'))) as Record<string, unknown>;
      const realAfter = JSON.parse(real(v, 'blocker-script', 'gateway_state.after-sigterm.json')) as Record<string, unknown>;
      expect(Object.keys(after)).toEqual(Object.keys(realAfter));
      expect(after.gateway_state).toBe(realAfter.gateway_state);
      expect(after.exit_reason).toBe(realAfter.exit_reason);
      expect({ ...after, gateway_state: null, updated_at: null }).toEqual({ ...before, gateway_state: null, updated_at: null });
      expect(mode(path.join(root, 'gateway_state.json'))).toBe(0o600);
      expect(fs.existsSync(path.join(root, '.clean_shutdown'))).toBe(true);
    });
  }

  it('a start that finds gateway.lock unheld removes the dead gateway\'s gateway.pid before its O_EXCL create; the previous state keeps its key order and mode', async () => {
    const s = makeScratch();
    const root = s.root();
    fs.writeFileSync(path.join(root, 'gateway.pid'), '{"pid": 999999, "kind": "hermes-gateway", "argv": ["x", "gateway", "run"], "start_time": 1}');
    fs.writeFileSync(path.join(root, 'gateway_state.json'), '{"gateway_state":"stopped","pid":999999,"extra":1}', { mode: 0o644 });
    fs.chmodSync(path.join(root, 'gateway_state.json'), 0o644);
    const gw = startGateway({ root, env: { STANDIN_NO_KANBAN: '1', STANDIN_PID_RECORD: 'real' } });
    await waitForGatewayReady(root, gw.pid);
    expect((JSON.parse(read(path.join(root, 'gateway.pid'))) as { pid: number }).pid).toBe(gw.pid);
    const state = JSON.parse(read(path.join(root, 'gateway_state.json'))) as Record<string, unknown>;
    // write_runtime_status updates the file it finds (gateway/status.py), so its keys come first.
    expect(Object.keys(state).slice(0, 3)).toEqual(['gateway_state', 'pid', 'extra']);
    expect(state).toMatchObject({ gateway_state: 'running', pid: gw.pid, extra: 1, platforms: {} });
    expect(mode(path.join(root, 'gateway_state.json'))).toBe(0o644);
  });
});
