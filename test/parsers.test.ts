/**
 * The parsers of host text, fed canned text the way psutil's test_linux.py feeds its /proc parsers:
 * /proc/PID/stat, /proc/locks, /proc/PID/fdinfo/FD, /proc/PID/cmdline, /proc/PID/environ, tty_nr,
 * Hermes identity files; the lock matcher shared by the scan and the signaller; the bounded head reader.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isCandidateArgv, isInterestingPath } from '../src/core/candidates.js';
import { locksOnFile } from '../src/core/lock-match.js';
import { filterEnvironBlock } from '../src/sources/environ.js';
import { realSourceFs } from '../src/sources/hermes-source.js';
import { parseIdentityFile } from '../src/sources/homes.js';
import { parseFdInfo, parseLocks, parseStat, splitCmdline, ttyName } from '../src/sources/linux/procfs.js';
import { safeReadFile, safeReadHead } from '../src/sources/safe-read.js';
import { cleanupAllScratch, makeScratch } from './harness/scratch.js';

afterAll(() => cleanupAllScratch());

/** Fields 3 to 52 of a stat line (man 5 proc) after `pid (comm) `, with ppid, pgrp, session, tty_nr and starttime set. */
function statTail(o: { state?: string; ppid?: number; pgrp?: number; sid?: number; tty?: number; start?: number } = {}): string {
  const f = ['S', '1', '4321', '4321', '34817', '4321', '4194560', '100', '0', '0', '0', '1', '2', '0', '0', '20', '0', '1', '0', '987654'];
  if (o.state) f[0] = o.state;
  if (o.ppid !== undefined) f[1] = String(o.ppid);
  if (o.pgrp !== undefined) f[2] = String(o.pgrp);
  if (o.sid !== undefined) f[3] = String(o.sid);
  if (o.tty !== undefined) f[4] = String(o.tty);
  if (o.start !== undefined) f[19] = String(o.start);
  // vsize … exit_code (fields 23–52): present on every kernel since 3.5.
  return [...f, ...Array.from({ length: 30 }, (_, i) => String(i))].join(' ');
}

describe('/proc/PID/stat', () => {
  it('reads the fields after comm: state, ppid, pgrp, session, tty_nr, starttime', () => {
    const s = parseStat(`4321 (python3) ${statTail({ ppid: 17, pgrp: 4300, sid: 4200, tty: 34817, start: 123456 })}\n`);
    expect(s).toEqual({ comm: 'python3', state: 'S', ppid: 17, pgid: 4300, sid: 4200, ttyNr: 34817, startTicks: 123456 });
  });

  it('comm with spaces and `)` is cut at the last `)`', () => {
    expect(parseStat(`4321 (my (odd) comm) ${statTail({ ppid: 9 })}`)).toMatchObject({ comm: 'my (odd) comm', ppid: 9, startTicks: 987654 });
    expect(parseStat(`4321 (a) b) S) ${statTail({ state: 'R' })}`)).toMatchObject({ comm: 'a) b) S', state: 'R' });
    expect(parseStat(`4321 () ${statTail()}`).comm).toBe('');
  });

  it('a zombie reads like any process (the signaller and the table treat Z as gone)', () => {
    expect(parseStat(`4321 (hermes) ${statTail({ state: 'Z', ppid: 1 })}`)).toMatchObject({ state: 'Z', ppid: 1 });
  });

  it('a line without parentheses or with too few fields throws', () => {
    expect(() => parseStat('4321 python3 S 1 2 3')).toThrow(/malformed stat line/);
    expect(() => parseStat('4321 (python3) S 1 4321 4321 0')).toThrow(/short stat line/);
    expect(() => parseStat('')).toThrow(/malformed/);
  });
});

describe('tty_nr', () => {
  it('decodes pts, virtual consoles, serial lines, /dev/tty and unknown majors', () => {
    expect(ttyName(0)).toBeNull();
    expect(ttyName((136 << 8) | 1)).toBe('pts/1');
    expect(ttyName((137 << 8) | 0)).toBe('pts/256');
    // Minor 300: low byte in bits 0–7, the rest in bits 20–31.
    expect(ttyName((0x100 << 12) | (136 << 8) | 0x2c)).toBe('pts/300');
    expect(ttyName((4 << 8) | 1)).toBe('tty1');
    expect(ttyName((4 << 8) | 64)).toBe('ttyS0');
    expect(ttyName((5 << 8) | 0)).toBe('tty');
    expect(ttyName((3 << 8) | 2)).toBe('tty(3:2)');
  });
});

describe('/proc/locks', () => {
  const text = [
    '1: POSIX  ADVISORY  WRITE 812 fd:01:2099 0 EOF',
    '2: FLOCK  ADVISORY  WRITE 4321 00:2f:550038 0 EOF',
    '2: -> FLOCK  ADVISORY  WRITE 4400 00:2f:550038 0 EOF',
    '3: OFDLCK ADVISORY  READ -1 103:02:77 0 100',
    '4: LEASE  ACTIVE    READ 990 00:14:12345 0 EOF',
    '5: FLOCK  MSNFS     READ 991 00:14:12346 0 EOF',
    'garbage line',
    '',
  ].join('\n');

  it('POSIX, FLOCK and OFDLCK lines: kind, access, pid, hex device, decimal inode', () => {
    const locks = parseLocks(text);
    expect(locks[0]).toEqual({ kind: 'POSIX', access: 'WRITE', pid: 812, major: 0xfd, minor: 1, inode: 2099 });
    expect(locks[1]).toEqual({ kind: 'FLOCK', access: 'WRITE', pid: 4321, major: 0, minor: 0x2f, inode: 550038 });
    expect(locks.find((l) => l.kind === 'OFDLCK')).toEqual({ kind: 'OFDLCK', access: 'READ', pid: -1, major: 0x103, minor: 2, inode: 77 });
    expect(locks.find((l) => l.kind === 'LEASE')).toMatchObject({ pid: 990, inode: 12345 });
  });

  it('blocked waiters (`->` lines) and garbage are skipped', () => {
    const locks = parseLocks(text);
    expect(locks.map((l) => l.pid)).not.toContain(4400);
    expect(locks).toHaveLength(5);
    expect(parseLocks('')).toEqual([]);
  });
});

describe('the lock matcher (scan and signaller)', () => {
  const lock = (pid: number, major: number, minor: number, inode: number) => ({ pid, major, minor, inode });

  it('device and inode match exactly; an exact match wins over inode-only ones', () => {
    const locks = [lock(1, 0, 0x2f, 99), lock(2, 0, 0x30, 99), lock(3, 0, 0x2f, 98)];
    expect(locksOnFile(locks, { major: 0, minor: 0x2f, inode: 99 }).map((l) => l.pid)).toEqual([1]);
  });

  it('overlayfs: no exact match, every lock on the inode on one device → accepted', () => {
    const locks = [lock(1, 0, 0x31, 99), lock(2, 0, 0x31, 99)];
    expect(locksOnFile(locks, { major: 0, minor: 0x2f, inode: 99 }).map((l) => l.pid)).toEqual([1, 2]);
  });

  it('the inode on two other devices → no match (could be another file)', () => {
    const locks = [lock(1, 0, 0x31, 99), lock(2, 0, 0x32, 99)];
    expect(locksOnFile(locks, { major: 0, minor: 0x2f, inode: 99 })).toEqual([]);
    expect(locksOnFile([], { major: 0, minor: 0x2f, inode: 99 })).toEqual([]);
  });
});

describe('/proc/PID/fdinfo/FD', () => {
  it('access mode from the octal flags, inode from ino:, lock: lines ignored', () => {
    const flocked = 'pos:\t0\nflags:\t0100002\nmnt_id:\t29\nino:\t550038\nlock:\t1: FLOCK  ADVISORY  WRITE 4321 00:2f:550038 0 EOF\n';
    expect(parseFdInfo(flocked)).toEqual({ mode: 'rw', inode: 550038 });
    expect(parseFdInfo('pos:\t0\nflags:\t02100000\nmnt_id:\t29\nino:\t7\n')).toEqual({ mode: 'r', inode: 7 });
    expect(parseFdInfo('pos:\t0\nflags:\t0102001\nmnt_id:\t29\nino:\t8\n')).toEqual({ mode: 'w', inode: 8 });
  });

  it('an older kernel without ino: gives no inode; a `lock:` line never passes for flags or ino', () => {
    expect(parseFdInfo('pos:\t0\nflags:\t02\n')).toEqual({ mode: 'rw', inode: null });
    expect(parseFdInfo('lock:\t1: FLOCK ADVISORY WRITE 1 00:2f:5 0 EOF\nino:\t6\n')).toEqual({ mode: 'r', inode: 6 });
  });
});

describe('/proc/PID/cmdline', () => {
  const buf = (s: string) => Buffer.from(s, 'utf8');

  it('NUL-separated argv; the trailing NUL is dropped', () => {
    expect(splitCmdline(buf('python3\0-m\0hermes_cli.main\0gateway\0run\0'))).toEqual(['python3', '-m', 'hermes_cli.main', 'gateway', 'run']);
  });

  it('empty arguments inside are kept; trailing empty arguments cannot be told from setproctitle padding and are dropped', () => {
    expect(splitCmdline(buf('hermes\0\0-p\0argus\0'))).toEqual(['hermes', '', '-p', 'argus']);
    expect(splitCmdline(buf('hermes\0\0\0'))).toEqual(['hermes']);
  });

  it('setproctitle: one title padded with NULs, or a title without any NUL', () => {
    expect(splitCmdline(Buffer.concat([buf('hermes'), Buffer.alloc(51)]))).toEqual(['hermes']);
    expect(splitCmdline(buf('hermes: gateway run'))).toEqual(['hermes: gateway run']);
  });

  it('a kernel thread (empty) and a NUL-only area read as no argv; invalid UTF-8 becomes U+FFFD', () => {
    expect(splitCmdline(Buffer.alloc(0))).toEqual([]);
    expect(splitCmdline(Buffer.alloc(8))).toEqual([]);
    expect(splitCmdline(Buffer.from([0x68, 0xff, 0x00, 0x61, 0x00]))).toEqual(['h\ufffd', 'a']);
  });
});

describe('/proc/PID/environ allowlist', () => {
  it('keeps only allow-listed names, values whole (an `=` inside included)', () => {
    const block = Buffer.from('HOME=/root\0OPENAI_API_KEY=sk-secret\0HERMES_HOME=/srv/h=1\0HERMES_HOME_X=no\0HERMES_SECRET_TOKEN=t\0PATH=/bin\0', 'utf8');
    expect(filterEnvironBlock(block)).toEqual({ HOME: '/root', HERMES_HOME: '/srv/h=1' });
  });

  it('no trailing NUL, entries without `=`, an empty name and an empty value', () => {
    const block = Buffer.from('JUNK\0=x\0HERMES_PROFILE=\0INVOCATION_ID=abc', 'utf8');
    expect(filterEnvironBlock(block)).toEqual({ HERMES_PROFILE: '', INVOCATION_ID: 'abc' });
    expect(filterEnvironBlock(Buffer.alloc(0))).toEqual({});
  });

  it('a name given twice keeps its first value, the one getenv(3) and Python os.environ see', () => {
    expect(filterEnvironBlock(Buffer.from('HERMES_HOME=/a\0HERMES_HOME=/b\0'))).toEqual({ HERMES_HOME: '/a' });
  });
});

describe('identity files', () => {
  it('a Hermes record (gateway.pid / gateway.lock): pid, kind, argv, start_time', () => {
    const text = '{"pid": 4321, "kind": "hermes-gateway", "argv": ["/usr/bin/hermes", "gateway", "run"], "start_time": 987654}';
    expect(parseIdentityFile('/h/gateway.pid', text, 'pid')).toMatchObject({ status: 'ok', pid: 4321, startTime: 987654, kind: 'hermes-gateway', argv: ['/usr/bin/hermes', 'gateway', 'run'] });
  });

  it('gateway_state.json: the state fields; a pid-less state file is still ok', () => {
    const text = '{"gateway_state":"running","exit_reason":null,"restart_requested":false,"active_agents":2,"updated_at":"2026-11-20T09:00:00+00:00"}';
    expect(parseIdentityFile('/h/gateway_state.json', text, 'state')).toMatchObject({ status: 'ok', pid: null, gatewayState: 'running', restartRequested: false, activeAgents: 2 });
  });

  it('real shapes beyond the idle run (gateway/status.py at v0.15.1 and 306e2d2): no /proc start time, non-ASCII argv both ways, 306e2d2 served_profiles and a platform entry, a restart in progress', () => {
    // _get_process_start_time returns None without /proc (macOS, Windows): `"start_time": null`.
    const noProc = '{"pid": 4321, "kind": "hermes-gateway", "argv": ["C:\\\\Hermes\\\\hermes.exe", "gateway", "run"], "start_time": null}';
    expect(parseIdentityFile('/h/gateway.lock', noProc, 'lock')).toMatchObject({ status: 'ok', pid: 4321, startTime: null, argv: ['C:\\Hermes\\hermes.exe', 'gateway', 'run'] });
    // The records use json.dumps defaults (ASCII, \u escapes); gateway_state.json is written with ensure_ascii=False.
    const escaped = '{"pid": 4321, "kind": "hermes-gateway", "argv": ["/home/z\\u00e9/.local/bin/hermes", "gateway", "run"], "start_time": 77}';
    const raw = '{"pid":4321,"kind":"hermes-gateway","argv":["/home/zé/.local/bin/hermes","gateway","run"],"start_time":77,"gateway_state":"starting","exit_reason":null,"restart_requested":false,"active_agents":0,"platforms":{},"updated_at":"2026-12-02T05:49:49+00:00"}';
    expect(parseIdentityFile('/h/gateway.pid', escaped, 'pid').argv).toEqual(['/home/zé/.local/bin/hermes', 'gateway', 'run']);
    expect(parseIdentityFile('/h/gateway_state.json', raw, 'state')).toMatchObject({ status: 'ok', pid: 4321, startTime: 77, gatewayState: 'starting', argv: ['/home/zé/.local/bin/hermes', 'gateway', 'run'] });
    const draining =
      '{"pid":4321,"kind":"hermes-gateway","argv":["/x/hermes","gateway","run"],"start_time":77,"gateway_state":"draining","exit_reason":"Gateway restart requested","restart_requested":true,"active_agents":3,' +
      '"platforms":{"telegram":{"state":"connected","updated_at":"2026-12-02T05:49:50.000001+00:00"},"discord":{"state":"fatal","error_code":"auth","error_message":"bad token","updated_at":"2026-12-02T05:49:51.5+00:00"}},' +
      '"updated_at":"2026-12-02T05:49:52.123456+00:00","served_profiles":["argus","muse"]}';
    expect(parseIdentityFile('/h/gateway_state.json', draining, 'state')).toMatchObject({
      status: 'ok', pid: 4321, startTime: 77, kind: 'hermes-gateway', gatewayState: 'draining', exitReason: 'Gateway restart requested', restartRequested: true, activeAgents: 3, updatedAt: '2026-12-02T05:49:52.123456+00:00',
    });
  });

  it('legacy gateway.pid: a bare integer; zero is corrupt; a bare integer is not a state file', () => {
    expect(parseIdentityFile('/h/gateway.pid', '4321\n', 'pid')).toMatchObject({ status: 'legacy', pid: 4321, startTime: null });
    expect(parseIdentityFile('/h/gateway.pid', '0', 'pid')).toMatchObject({ status: 'corrupt', error: 'invalid pid 0' });
    expect(parseIdentityFile('/h/gateway_state.json', '4321', 'state')).toMatchObject({ status: 'corrupt', error: 'JSON is not an object' });
  });

  it('corrupt: empty, half-written, not an object, a bad pid, no pid in a record; never trusted', () => {
    expect(parseIdentityFile('/h/gateway.pid', '', 'pid')).toMatchObject({ status: 'corrupt', pid: null, error: 'empty file (half-written?)' });
    expect(parseIdentityFile('/h/gateway.pid', '{"pid": 43', 'pid')).toMatchObject({ status: 'corrupt', pid: null });
    expect(parseIdentityFile('/h/gateway.pid', '{"pid": 43', 'pid').error).toMatch(/^not JSON/);
    expect(parseIdentityFile('/h/gateway.pid', '[4321]', 'pid')).toMatchObject({ status: 'corrupt', error: 'JSON is not an object' });
    expect(parseIdentityFile('/h/gateway.pid', '{"pid": "abc"}', 'pid')).toMatchObject({ status: 'corrupt', error: 'invalid pid "abc"' });
    expect(parseIdentityFile('/h/gateway.pid', '{"pid": -5}', 'pid')).toMatchObject({ status: 'corrupt' });
    expect(parseIdentityFile('/h/gateway.lock', '{"kind": "hermes-gateway"}', 'lock')).toMatchObject({ status: 'corrupt', error: 'no pid field' });
  });

  it('an empty gateway.lock is missing (created before its record is written); a digit-string pid and odd argv are read carefully', () => {
    expect(parseIdentityFile('/h/gateway.lock', '  \n', 'lock')).toMatchObject({ status: 'missing' });
    const odd = parseIdentityFile('/h/gateway.lock', '{"pid": "4321", "argv": ["hermes", 7], "start_time": "12"}', 'lock');
    expect(odd).toMatchObject({ status: 'ok', pid: 4321, startTime: 12, argv: null });
  });
});

describe('candidate rules', () => {
  it('Hermes, the web UI, the Desktop app and s6 gateway slots are candidates; the rest of a host is not', () => {
    expect(isCandidateArgv(['python3', '-m', 'hermes_cli.main', 'gateway', 'run'])).toBe(true);
    expect(isCandidateArgv(['s6-supervise', 'gateway-argus'])).toBe(true);
    expect(isCandidateArgv(['s6-supervise', 'nginx'])).toBe(false);
    expect(isCandidateArgv(['/Applications/Hermes.app/Contents/MacOS/Hermes'])).toBe(true);
    expect(isCandidateArgv(['sleep', '30'])).toBe(false);
    expect(isCandidateArgv([])).toBe(false);
  });

  it('files of interest: identity, lock and kanban files by absolute path', () => {
    expect(isInterestingPath('/root/.hermes/gateway.lock')).toBe(true);
    expect(isInterestingPath('/root/.hermes/kanban.db-wal')).toBe(true);
    expect(isInterestingPath('/root/.hermes/kanban/.dispatcher.lock')).toBe(true);
    expect(isInterestingPath('socket:[12345]')).toBe(false);
    expect(isInterestingPath('/var/log/gateway.log')).toBe(false);
  });
});

describe('bounded head reads (Hermes source files)', () => {
  it('a FIFO named like a source file returns null at once, never waiting for a writer', () => {
    const dir = makeScratch().dir;
    const fifo = path.join(dir, 'run.py');
    execFileSync('mkfifo', [fifo]);
    const t0 = performance.now();
    expect(safeReadHead(fifo, 1024)).toBeNull();
    expect(safeReadHead(fifo, 1024, true)).toBeNull();
    expect(realSourceFs.readHead(fifo, 1024)).toBeNull();
    expect(performance.now() - t0).toBeLessThan(1000);
  });

  it('a file larger than the cap gives its first maxBytes (the whole-file reader refuses it)', () => {
    const dir = makeScratch().dir;
    const file = path.join(dir, 'kanban_watchers.py');
    const text = `${'#'.repeat(5000)}\n.dispatcher.lock\n`;
    fs.writeFileSync(file, text);
    const head = safeReadHead(file, 4096)!;
    expect(head.length).toBe(4096);
    expect(head.toString('utf8')).toBe(text.slice(0, 4096));
    expect(safeReadHead(file, 1 << 20)!.toString('utf8')).toBe(text);
    expect(safeReadFile(file, 4096)).toMatchObject({ ok: false, refusal: 'too-large' });
    expect(realSourceFs.readHead(file, 10)).toBe('#'.repeat(10));
  });

  it('a final symlink is refused unless followed; a missing file is null', () => {
    const dir = makeScratch().dir;
    fs.writeFileSync(path.join(dir, 'real.py'), 'x = 1\n');
    fs.symlinkSync(path.join(dir, 'real.py'), path.join(dir, 'link.py'));
    expect(safeReadHead(path.join(dir, 'link.py'), 100)).toBeNull();
    expect(safeReadHead(path.join(dir, 'link.py'), 100, true)!.toString()).toBe('x = 1\n');
    expect(safeReadHead(path.join(dir, 'none.py'), 100)).toBeNull();
  });
});
