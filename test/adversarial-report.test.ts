/**
 * What a report tells the operator, tried as a hostile or unlucky host would: the remedies it prints
 * (one per PID, protecting the supervised owner's files, shell-quoted), the identity files that
 * contradict the live flock owner, the filters and the messages. Real stand-in gateways, a real s6 tree,
 * a real sqlite3, real files, the real CLI in-process. Tests signal only processes they started, by PID.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { shellCommand } from '../src/core/shell-quote.js';
import type { Report } from '../src/types.js';
import { NO_S6, cliReport as cli, homesArgs, runCli } from './harness/cli.js';
import { actionFor as action, ownerAndDuplicate } from './harness/kill-cli.js';
import { SNAPSHOTS } from './harness/fixtures.js';
import { CLI_BIN, REPO_ROOT, holdsFlock, isAlive, readJson, readStartTicks, startGateway, startProcess, waitFor, waitForGatewayReady, waitForOpen } from './harness/processes.js';
import { addGatewaySlot, slotPid, startS6Tree } from './harness/s6.js';
import { makeScratch, profileHome } from './harness/scratch.js';
import { cleanUpAfterEach } from './harness/cleanup.js';
import { hasBinary, hasPython3, hasS6, isLinux, requireOrSkip } from './harness/skip.js';




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


const ready = isLinux() && hasPython3();

describe.skipIf(requireOrSkip('Linux /proc and python3 with sqlite3', ready))('the supervised gateway\u2019s files, always accounted for', () => {
  cleanUpAfterEach();

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

      // The guard's refusal offers the same kill and the quoted supervised restart.
      const g = await runCli(['guard', '--json', '--s6-scandir', tree.scanDir, '--home', home]);
      const remedies = (JSON.parse(g.out) as { remedies: string[] }).remedies;
      expect(remedies).toContain(`hermes-doctor orphans --kill --pid ${orphan.pid} --s6-scandir '${tree.scanDir}'`);
      expect(remedies).toContain(`s6-svc -r '${path.join(tree.scanDir, 'gateway-argus')}'`);
      expect(g.code).toBe(1);

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
    const { renderActions } = await import('../src/output/kill-text.js');
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

describe.skipIf(requireOrSkip('Linux /proc and python3 with sqlite3', ready))('filters and messages that tell the truth', () => {
  cleanUpAfterEach();

  describe.skipIf(requireOrSkip('s6 (apt-get install -y s6) and sqlite3', hasS6() && hasBinary('sqlite3')))('on a real s6 tree', () => {
    it('--home H keeps the sqlite3 writer on H\u2019s kanban.db with its command; --kill --pid on it says stray holder and why; --kill does not exit 0 while it remains', async () => {
      const scratch = makeScratch();
      const root = scratch.root('argus');
      const home = profileHome(root, 'argus');
      const tree = await startS6Tree(path.join(scratch.dir, 'service'));
      const sup = await addGatewaySlot(tree, { profile: 'argus', root });
      const orphan = startGateway({ root, profile: 'argus', env: { STANDIN_STAY_ON_LOCK_BUSY: '1' } });
      await waitForOpen(orphan.pid, 'kanban.db-wal', 8000, 'orphan to open kanban.db-wal');
      const db = path.join(root, 'kanban.db');
      const stray = startProcess(['sqlite3', db], { stdin: 'pipe' });
      stray.write('select count(*) from ticks;\n');
      await waitForOpen(stray.pid, 'kanban.db', 5000, 'sqlite3 to hold kanban.db');
      const scan = ['--s6-scandir', tree.scanDir, ...homesArgs(home)];

      const r = await cli(['orphans', '--json', ...scan]);
      expect(r.report!.processes.find((p) => p.pid === stray.pid)?.verdict).toBe('stray-holder');
      expect(r.report!.findings.find((f) => f.pid === stray.pid)?.code).toBe('STRAY_WRITER');
      const k = r.report!.kanban.find((x) => x.db === db)!;
      expect(k.reasons.join(' ')).toContain(`PID ${stray.pid} (sqlite3 ${db})`);
      const t = await cli(['orphans', '--no-color', ...scan]);
      expect(t.out).toContain(`non-Hermes process PID ${stray.pid} (sqlite3 ${db}) holds it read-write`);

      const refused = await cli(['orphans', '--json', '--kill', '--yes', '--pid', String(stray.pid), ...scan]);
      const a = action(refused, stray.pid);
      expect(a.outcome).toBe('refused');
      expect(a.reason).toContain(`PID ${stray.pid} is a stray holder of ${db} (command: sqlite3 ${db})`);
      expect(a.reason).toMatch(/not part of Hermes, so it is never signalled/);
      expect(a.reason).not.toMatch(/not a Hermes process in this scan/);
      expect(stray.alive()).toBe(true);

      const killed = await cli(['orphans', '--json', '--kill', '--yes', ...scan]);
      expect(action(killed, orphan.pid).outcome).toBe('terminated');
      expect(stray.alive()).toBe(true);
      expect(isAlive(sup.pid)).toBe(true);
      expect(killed.report!.findings.map((f) => f.code)).toContain('STRAY_WRITER');
      expect(killed.code).toBe(1);
    });

    it('an s6 slot found by ancestry (scan directory not given): the summary says s6 present, not absent', async () => {
      const scratch = makeScratch();
      const root = scratch.root('argus');
      const tree = await startS6Tree(path.join(scratch.dir, 'service'));
      const sup = await addGatewaySlot(tree, { profile: 'argus', root });
      const r = await cli(['orphans', '--json', ...NO_S6, ...homesArgs(profileHome(root, 'argus'))]);
      expect(r.report!.processes.find((p) => p.pid === sup.pid)?.supervisor?.kind).toBe('s6');
      const s6 = r.report!.supervisors.find((s) => s.kind === 's6')!;
      expect(s6.status).toBe('present');
      expect(s6.detail).toContain('gateway-argus found by');
      const t = await cli(['orphans', '--no-color', ...NO_S6, ...homesArgs(profileHome(root, 'argus'))]);
      expect(t.out).toMatch(/supervisors: systemd \w+, s6 present/);
    });
  });

  it('--home /nonexistent and --profile nosuch: a warning and exit 3, not "No Hermes processes found" and 0', async () => {
    const scratch = makeScratch();
    const missing = path.join(scratch.dir, 'nonexistent');
    const h = await cli(['orphans', '--json', ...NO_S6, '--home', missing]);
    expect(h.report!.findings).toContainEqual(expect.objectContaining({ code: 'HOME_NOT_FOUND', severity: 'unknown' }));
    expect(h.code).toBe(3);
    const ht = await cli(['orphans', '--no-color', ...NO_S6, '--home', missing]);
    expect(ht.out).toContain(`HOME_NOT_FOUND: --home ${missing}: no such HERMES_HOME`);
    expect(ht.code).toBe(3);
    const p = await cli(['orphans', '--json', ...NO_S6, '--profile', 'nosuch-h13']);
    expect(p.report!.findings).toContainEqual(expect.objectContaining({ code: 'PROFILE_NOT_FOUND', severity: 'unknown' }));
    expect(p.code).toBe(3);
    // One of two given homes exists: a warning, exit 1.
    const root = scratch.root();
    const both = await cli(['orphans', '--json', ...NO_S6, '--home', missing, '--home', root]);
    expect(both.report!.findings).toContainEqual(expect.objectContaining({ code: 'HOME_NOT_FOUND', severity: 'warning' }));
    expect(both.code).toBe(1);
    // A given home that exists with nothing running is healthy.
    expect((await cli(['orphans', '--json', ...NO_S6, '--home', root])).code).toBe(0);
  });

  it('two manual gateways of two profiles share kanban.db: the reason names them as run by hand, not "under their supervisors"', async () => {
    const scratch = makeScratch();
    const root = scratch.root('a', 'b');
    const ga = startGateway({ root, profile: 'a' });
    const gb = startGateway({ root, profile: 'b' });
    await waitForGatewayReady(profileHome(root, 'a'), ga.pid);
    await waitForGatewayReady(profileHome(root, 'b'), gb.pid);
    const r = await cli(['orphans', '--json', ...NO_S6, ...homesArgs(profileHome(root, 'a'), profileHome(root, 'b'))]);
    const k = r.report!.kanban.find((x) => x.db === path.join(root, 'kanban.db'))!;
    expect(k.risk).toBe('ok');
    expect(k.reasons.join(' ')).not.toContain('under their supervisors');
    expect(k.reasons.join(' ')).toContain('2 gateways share it (2 run by hand without a supervisor)');
  });
});

describe('shell quoting of remedy words', () => {
  it("plain words stay, others are single-quoted for sh (a quote as '\\''), double-quoted for cmd.exe", () => {
    expect(shellCommand(['s6-svc', '-r', '/run/service/gateway-argus'])).toBe('s6-svc -r /run/service/gateway-argus');
    expect(shellCommand(['s6-svc', '-r', '/tmp/S 6/service/gateway-argus'])).toBe("s6-svc -r '/tmp/S 6/service/gateway-argus'");
    expect(shellCommand(['x', "it's $HOME; rm -rf /", ''])).toBe("x 'it'\\''s $HOME; rm -rf /' ''");
    expect(shWords(shellCommand(['x', "it's $HOME", 'a b']))).toEqual(['x', "it's $HOME", 'a b']);
    expect(shellCommand(['taskkill', 'C:\\Program Files\\x "y"'], 'win32')).toBe('taskkill "C:\\Program Files\\x ""y"""');
  });
});

const built = fs.existsSync(path.join(REPO_ROOT, 'dist', 'cli.js'));

describe('the command line tells the truth', () => {
  it.skipIf(requireOrSkip('a build (npm run build) for the bin with stdin', built))('`--from -` (with a space) reads the snapshot from stdin, as the help says', () => {
    const snapshot = fs.readFileSync(path.join(SNAPSHOTS, 'seed-000-webui-respawn.snapshot.json'));
    const spaced = spawnSync(process.execPath, [CLI_BIN, 'orphans', '--from', '-', '--json', '--all-users'], { input: snapshot, encoding: 'utf8', timeout: 20_000 });
    expect(spaced.stderr).not.toContain('Unknown argument');
    expect((JSON.parse(spaced.stdout) as Report).processes.map((p) => p.pid)).toEqual([181, 200, 301, 457]);
    expect(spaced.status).toBe(2);
  });

  it('schedule --via cron refuses intervals cron cannot keep evenly (45m, 25m, 7m) and lists the valid ones', async () => {
    for (const every of ['45m', '25m', '7m']) {
      const r = await runCli(['schedule', 'print', '--via', 'cron', '--every', every]);
      expect(r.code).toBe(3);
      expect(r.out).toBe('');
      expect(r.err).toContain(`cron cannot run every ${parseInt(every, 10)} minutes evenly`);
      expect(r.err).toContain('1m, 2m, 3m, 4m, 5m, 6m, 10m, 12m, 15m, 20m, 30m');
    }
    const ok = await runCli(['schedule', 'print', '--via', 'cron', '--every', '20m']);
    expect(ok.code).toBe(0);
    expect(ok.out).toMatch(/^\d+-59\/20 \* \* \* \* /m);
  });

  it('-h and -V, "did you mean" for a mistyped command, and a completion command', async () => {
    const h = await runCli(['-h']);
    expect(h.code).toBe(0);
    expect(h.out).toContain('hermes-doctor <command> [options]');
    expect(h.out).toMatch(/-h, --help/);
    const v = await runCli(['-V']);
    expect(v.code).toBe(0);
    const pkg = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(v.out.trim()).toBe(pkg.version);
    const typo = await runCli(['orpahns']);
    expect(typo.code).toBe(3);
    expect(typo.err).toContain('Did you mean "orphans"?');
    expect((await runCli(['snapshto'])).err).toContain('Did you mean "snapshot"?');
    expect((await runCli(['zzzzzz'])).err).not.toContain('Did you mean');
    const c = await runCli(['completion']);
    expect(c.code).toBe(0);
    expect(c.err).toBe('');
    expect(c.out).toContain('--get-yargs-completions');
  });

  it('snapshot --help offers only what snapshot does: no --profile or --all-users filter, and they are refused', async () => {
    const h = await runCli(['snapshot', '--help']);
    expect(h.out).not.toMatch(/--profile|--all-users|only report/);
    expect(h.out).toMatch(/--home\s+also read this HERMES_HOME/);
    for (const flag of [['--profile', 'argus'], ['--all-users']]) {
      const r = await runCli(['snapshot', ...flag]);
      expect(r.code).toBe(3);
      expect(r.err).toContain('Unknown argument');
    }
  });
});
