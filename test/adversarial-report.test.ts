/**
 * What a report tells the operator, tried as a hostile or unlucky host would: the remedies it prints
 * (one per PID, protecting the supervised owner's files, shell-quoted), the identity files that
 * contradict the live flock owner, the filters and the messages. Real stand-in gateways, a real s6 tree,
 * a real sqlite3, real files, the real CLI in-process. Tests signal only processes they started, by PID.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { KillAction, Report } from '../src/types.js';
import { assertOrphansV1 } from './contract.js';
import { NO_S6, homesArgs, runCli, type CliRun as CliOutput } from './harness/cli.js';
import { holdsFlock, isAlive, killAll, readJson, readStartTicks, startGateway, startProcess, waitFor, waitForGatewayReady, waitForOpen } from './harness/processes.js';
import { addGatewaySlot, slotPid, startS6Tree, stopAllS6Trees } from './harness/s6.js';
import { cleanupAllScratch, makeScratch, profileHome } from './harness/scratch.js';
import { hasBinary, hasPython3, hasS6, isLinux, requireOrSkip } from './harness/skip.js';

interface CliRun extends CliOutput {
  report: Report | null;
}

/** The real CLI in-process, no TTY; every --json document is checked against the schema. */
async function cli(args: string[]): Promise<CliRun> {
  const { code, out, err } = await runCli(args, { tty: false });
  const report = args.includes('--json') && out.trim().startsWith('{') ? (JSON.parse(out) as Report) : null;
  if (report) assertOrphansV1(report);
  return { code, out, err, report };
}

const action = (r: CliRun, pid: number): KillAction => {
  const a = r.report?.actions?.find((x) => x.pid === pid);
  if (!a) throw new Error(`no action for PID ${pid}: ${r.out}${r.err}`);
  return a;
};

/** Splits a POSIX sh command line of plain and single-quoted words (what src/core/shell-quote.ts prints). */
function shWords(line: string): string[] {
  const words: string[] = [];
  const re = /'((?:[^']|'\\'')*)'|(\S+)/g;
  for (let m = re.exec(line); m; m = re.exec(line)) {
    if (m[1] !== undefined) {
      // `'a'\''b'` is one word: join the quoted runs and the escaped quotes between them.
      const last = words.length > 0 && line[m.index - 1] === "'" ? words.pop()! : '';
      words.push(last + m[1].replace(/'\\''/g, "'"));
    } else words.push(m[2]!);
  }
  return words;
}

/** Owner gateway for `root` plus a duplicate that keeps running without the lock. */
async function ownerAndDuplicate(env: Record<string, string> = {}) {
  const scratch = makeScratch();
  const root = scratch.root();
  const owner = startGateway({ root });
  await waitForGatewayReady(root, owner.pid);
  const dup = startGateway({ root, env: { STANDIN_STAY_ON_LOCK_BUSY: '1', ...env } });
  await waitForOpen(dup.pid, 'kanban.db-wal', 8000, 'duplicate to open kanban.db');
  return { scratch, root, owner, dup };
}

const ready = isLinux() && hasPython3();

describe.skipIf(requireOrSkip('Linux /proc and python3 with sqlite3', ready))('the supervised gateway\u2019s files, always accounted for', () => {
  afterEach(async () => {
    await stopAllS6Trees();
    await killAll();
  });
  afterAll(() => cleanupAllScratch());

  describe.skipIf(requireOrSkip('s6 (apt-get install -y s6)', hasS6()))('on a real s6 tree in a folder with a space', () => {
    it('every remedy for the orphan is the one kill that protects the owner, with the scan flags it needs, quoted; following it keeps the owner\u2019s files', async () => {
      const scratch = makeScratch();
      const root = scratch.root('argus');
      const home = profileHome(root, 'argus');
      const tree = await startS6Tree(path.join(scratch.dir, 'S 6', 'service'));
      const sup = await addGatewaySlot(tree, { profile: 'argus', root });
      const orphan = startGateway({ root, profile: 'argus', env: { STANDIN_STAY_ON_LOCK_BUSY: '1', STANDIN_CLOBBER_ON_TERM: '1' } });
      await waitForOpen(orphan.pid, 'kanban.db-wal', 8000, 'orphan to open kanban.db-wal');
      const stateBefore = fs.readFileSync(path.join(home, 'gateway_state.json'), 'utf8');
      const pidBefore = fs.readFileSync(path.join(home, 'gateway.pid'), 'utf8');

      const scan = ['--s6-scandir', tree.scanDir, ...homesArgs(home)];
      const r = await cli(['orphans', '--json', ...scan]);
      const expected = `hermes-doctor orphans --kill --pid ${orphan.pid} --s6-scandir '${tree.scanDir}' --home ${home}`;
      const og = r.report!.findings.find((f) => f.code === 'ORPHAN_GATEWAY' && f.pid === orphan.pid)!;
      expect(og.remedy).toBe(expected);
      expect(og.message).toContain(`s6-svc -r '${path.join(tree.scanDir, 'gateway-argus')}'`);
      expect(r.report!.findings.find((f) => f.code === 'RIVAL_WRITERS')!.remedy).toBe(expected);
      const table = await cli(['orphans', '--no-color', ...scan]);
      expect(table.out).toContain(`remedy: ${expected}`);
      expect(table.out).not.toMatch(/kill -TERM/);

      // The printed remedy, run as printed (plus --yes, as cron would): the orphan's clobbering is undone.
      const words = shWords(expected);
      expect(words.slice(0, 2)).toEqual(['hermes-doctor', 'orphans']);
      expect(words).toContain(tree.scanDir);
      const k = await cli([...words.slice(1), '--yes', '--json']);
      expect(action(k, orphan.pid)).toMatchObject({ outcome: 'terminated', ownerHoldsLock: true });
      expect(isAlive(orphan.pid, orphan.startTicks)).toBe(false);
      expect(slotPid(tree, 'gateway-argus')).toBe(sup.pid);
      expect(fs.readFileSync(path.join(home, 'gateway_state.json'), 'utf8')).toBe(stateBefore);
      expect(fs.readFileSync(path.join(home, 'gateway.pid'), 'utf8')).toBe(pidBefore);
      expect(k.report!.findings.filter((f) => f.severity !== 'info')).toEqual([]);
      expect(k.code).toBe(0);
    });
  });

  it('after a bare SIGTERM let the duplicate save its state and remove gateway.pid, the scan says the files contradict the flock owner (not "No problems found")', async () => {
    const { root, owner, dup } = await ownerAndDuplicate({ STANDIN_CLOBBER_ON_TERM: '1' });
    const before = await cli(['orphans', '--json', ...NO_S6, ...homesArgs(root)]);
    const df = before.report!.findings.find((f) => f.code === 'DUPLICATE_GATEWAY')!;
    expect(df.remedy).toBe(`hermes-doctor orphans --kill --pid ${dup.pid} ${NO_S6.join(' ')} --home ${root}`);
    // What `kill -TERM PID` did to the owner's files.
    await dup.stop();
    await waitFor(() => !fs.existsSync(`/proc/${dup.pid}`), 5000, `PID ${dup.pid} to be reaped`);
    expect(fs.existsSync(path.join(root, 'gateway.pid'))).toBe(false);
    expect((readJson(path.join(root, 'gateway_state.json')) as { pid: number }).pid).toBe(dup.pid);
    expect(holdsFlock(owner.pid, path.join(root, 'gateway.lock'))).toBe(true);

    const r = await cli(['orphans', '--json', ...NO_S6, ...homesArgs(root)]);
    const c = r.report!.findings.find((f) => f.code === 'IDENTITY_FILE_CONTRADICTS_LOCK')!;
    expect(c).toMatchObject({ severity: 'warning', pid: owner.pid });
    expect(c.message).toContain(`${path.join(root, 'gateway.pid')} is missing`);
    expect(c.message).toContain(`${path.join(root, 'gateway_state.json')} names PID ${dup.pid} (gateway_state stopped), which is not running`);
    expect(r.code).toBe(1);
    const t = await cli(['orphans', '--no-color', ...NO_S6, ...homesArgs(root)]);
    expect(t.out).not.toContain('No problems found');
    expect(t.out).toContain('IDENTITY_FILE_CONTRADICTS_LOCK');
  });

  it('a gateway_state.json naming another running gateway contradicts the lock too', async () => {
    const { root, owner, dup } = await ownerAndDuplicate();
    const state = readJson(path.join(root, 'gateway_state.json')) as Record<string, unknown>;
    fs.writeFileSync(path.join(root, 'gateway_state.json'), JSON.stringify({ ...state, pid: dup.pid, start_time: dup.startTicks }));
    const r = await cli(['orphans', '--json', ...NO_S6, ...homesArgs(root)]);
    const c = r.report!.findings.find((f) => f.code === 'IDENTITY_FILE_CONTRADICTS_LOCK')!;
    expect(c.pid).toBe(owner.pid);
    expect(c.message).toContain(`names PID ${dup.pid} (gateway_state running), another running process`);
  });

  it('a state file that is a symlink cannot be restored: the action, its text and the audit line say so', async () => {
    const { root, owner, dup } = await ownerAndDuplicate({ STANDIN_CLOBBER_ON_TERM: '1' });
    const stateFile = path.join(root, 'gateway_state.json');
    const elsewhere = path.join(path.dirname(root), 'state-elsewhere.json');
    fs.renameSync(stateFile, elsewhere);
    fs.symlinkSync(elsewhere, stateFile);
    const r = await cli(['orphans', '--kill', '--yes', '--json', ...NO_S6, ...homesArgs(root)]);
    const a = action(r, dup.pid);
    expect(a.outcome).toBe('terminated');
    expect(a.restored).toEqual([path.join(root, 'gateway.pid')]);
    expect(a.notRestored).toEqual([{ file: stateFile, reason: expect.stringMatching(/is a symlink/) }]);
    expect(a.reason).toMatch(/not restored: .*gateway_state\.json is a symlink/);
    expect(isAlive(owner.pid, owner.startTicks)).toBe(true);
    const line = JSON.parse(fs.readFileSync(path.join(root, 'logs', 'hermes-doctor.log'), 'utf8').trim().split('\n').pop()!) as Record<string, unknown>;
    expect(line.notRestored).toEqual(a.notRestored);
    const { renderActions } = await import('../src/commands/kill.js');
    expect(renderActions([a])).toContain(`NOT restored ${stateFile}`);
  });

  it('gateway.pid naming PID 1 with a wrong start time: PID 1 runs, and the note says it was reused, not "not running"', async () => {
    const scratch = makeScratch();
    const root = scratch.root();
    const owner = startGateway({ root });
    await waitForGatewayReady(root, owner.pid);
    fs.writeFileSync(path.join(root, 'gateway.pid'), JSON.stringify({ pid: 1, kind: 'hermes-gateway', argv: ['x'], start_time: 4242 }));
    const r = await cli(['orphans', '--json', ...NO_S6, ...homesArgs(root)]);
    const stale = r.report!.findings.find((f) => f.code === 'IDENTITY_FILE_STALE')!;
    expect(stale.message).toContain('PID 1 now runs another process');
    expect(stale.message).not.toContain('not running');
    expect(readStartTicks(1)).not.toBe(4242);
  });
});
