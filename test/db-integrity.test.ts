/**
 * The read-only integrity check (`orphans --integrity`) and the corruption messages of the homes' logs:
 * real SQLite databases written by real python3 processes (the sqlite3 module Hermes uses), scanned by
 * the real CLI in-process, with the folders listed before and after every scan.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { integrityOpenOf } from '../src/sources/db-integrity.js';
import { MAX_LOG_TAIL_BYTES, observeCorruptionLogs, scanLogText } from '../src/sources/db-logs.js';
import { safeReadTail } from '../src/sources/safe-read.js';
import { renderTable } from '../src/output/table.js';
import { classify } from '../src/core/classify.js';
import { parseSnapshot } from '../src/sources/snapshot-file.js';
import type { CorruptionLogRecord, DatabaseRecord } from '../src/types.js';
import { home, snapshot } from './harness/records.js';
import { cleanUpAfterEach } from './harness/cleanup.js';
import { startProcess, until } from './harness/processes.js';
import { makeScratch } from './harness/scratch.js';
import { databaseRecord, dbOf, py, scanLeavingFolder as scan } from './harness/sqlite.js';

/** A WAL database as Hermes makes one, with enough rows for several B-tree pages; closed (no sidecars left). */
const MAKE_WAL = `
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
c.execute('PRAGMA journal_mode=WAL'); c.execute('PRAGMA wal_autocheckpoint=100')
c.execute('CREATE TABLE IF NOT EXISTS tasks (id INTEGER PRIMARY KEY, body TEXT)')
c.execute('CREATE INDEX IF NOT EXISTS tasks_body ON tasks(body)')
for i in range(2000): c.execute('INSERT INTO tasks (body) VALUES (?)', ('task %d ' % i * 4,))
c.commit(); c.close()
`;

/**
 * A writer that commits in a loop for `seconds` with a small busy_timeout (50 ms) and counts the
 * SQLITE_BUSY / "locked" errors it gets; prints `{"writes": N, "busy": M}` at the end.
 */
const WRITER = `
import json, sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], timeout=0.05, isolation_level=None)
c.execute('PRAGMA journal_mode=WAL')
end = time.monotonic() + float(sys.argv[2])
writes = busy = 0
while time.monotonic() < end:
    try:
        c.execute('BEGIN IMMEDIATE'); c.execute('INSERT INTO tasks (body) VALUES (?)', ('live %d' % writes,)); c.execute('COMMIT')
        writes += 1
    except sqlite3.OperationalError as e:
        if 'locked' in str(e) or 'busy' in str(e): busy += 1
        try: c.execute('ROLLBACK')
        except sqlite3.OperationalError: pass
    time.sleep(0.002)
print(json.dumps({'writes': writes, 'busy': busy}), flush=True)
`;

/** Overwrites every page but the first (the schema) with garbage, while no process holds the file. */
function corruptPages(db: string): void {
  const size = fs.statSync(db).size;
  const fd = fs.openSync(db, 'r+');
  try {
    const junk = Buffer.alloc(4096, 0xa5);
    for (let off = 4096; off < size; off += 4096 * 2) fs.writeSync(fd, junk, 0, 4096, off);
  } finally {
    fs.closeSync(fd);
  }
}

describe('--integrity: a read-only quick_check that creates nothing and disturbs no writer', () => {
  cleanUpAfterEach();

  it('a healthy WAL kanban.db without sidecars: checked ok (immutable open), no -wal/-shm created', async () => {
    const s = makeScratch();
    const root = s.root();
    const db = path.join(root, 'kanban.db');
    py(MAKE_WAL, db);
    expect(fs.existsSync(`${db}-wal`) || fs.existsSync(`${db}-shm`)).toBe(false);
    const { report } = await scan(root, '--integrity');
    expect(dbOf(report, db)!.integrity).toMatchObject({ status: 'ok', lines: ['ok'], open: 'immutable' });
    expect(fs.existsSync(`${db}-wal`) || fs.existsSync(`${db}-shm`)).toBe(false);
    expect(report.findings.map((f) => f.code)).not.toContain('KANBAN_CORRUPT');
    expect(renderTable(report, { color: false })).toContain('checked ok');
  });

  it('without --integrity nothing is checked', async () => {
    const s = makeScratch();
    const root = s.root();
    const db = path.join(root, 'kanban.db');
    py(MAKE_WAL, db);
    const { report } = await scan(root);
    expect(dbOf(report, db)!.integrity).toBeUndefined();
  });

  it('a WAL kanban.db with B-tree pages overwritten while no process held it: KANBAN_CORRUPT, critical, with the quick_check lines', async () => {
    const s = makeScratch();
    const root = s.root();
    const db = path.join(root, 'kanban.db');
    py(MAKE_WAL, db);
    corruptPages(db);
    const { report, code } = await scan(root, '--integrity');
    const d = dbOf(report, db)!;
    expect(d.integrity!.status).toBe('corrupt');
    expect(d.integrity!.lines.length).toBeGreaterThan(0);
    expect(d.integrity!.lines.length).toBeLessThanOrEqual(20);
    expect(d.integrity!.lines).not.toEqual(['ok']);
    expect(d.findings).toContain('KANBAN_CORRUPT');
    const f = report.findings.find((x) => x.code === 'KANBAN_CORRUPT')!;
    expect(f).toMatchObject({ severity: 'critical', subject: { db } });
    expect(f.message).toContain(d.integrity!.lines[0]!);
    expect(code).toBe(2);
    expect(fs.existsSync(`${db}-wal`) || fs.existsSync(`${db}-shm`)).toBe(false);
  });

  it('a live writer during the check: it sees no SQLITE_BUSY, the existing -wal/-shm are used (ro open), none is created or removed', async () => {
    const s = makeScratch();
    const root = s.root();
    const db = path.join(root, 'kanban.db');
    py(MAKE_WAL, db);
    const writer = startProcess(['python3', '-c', WRITER, db, '6']);
    await until(() => (fs.existsSync(`${db}-wal`) && fs.existsSync(`${db}-shm`) ? true : null), 10_000, 'the writer to open the database in WAL mode');
    const walIno = fs.statSync(`${db}-wal`).ino;
    const shmIno = fs.statSync(`${db}-shm`).ino;
    for (let i = 0; i < 3; i++) {
      const { report } = await scan(root, '--integrity');
      expect(dbOf(report, db)!.integrity).toMatchObject({ status: 'ok', open: 'ro' });
      expect(writer.alive()).toBe(true);
    }
    expect(fs.statSync(`${db}-wal`).ino).toBe(walIno);
    expect(fs.statSync(`${db}-shm`).ino).toBe(shmIno);
    await writer.exited;
    const result = JSON.parse(writer.output().stdout.trim()) as { writes: number; busy: number };
    expect(result.writes).toBeGreaterThan(0);
    expect(result.busy).toBe(0);
  });

  it('a database with only one sidecar, or a rollback journal, is not checked (never opened), never corrupt', () => {
    const base: Pick<DatabaseRecord, 'error' | 'header' | 'bytes' | 'walBytes' | 'shmBytes' | 'journalBytes'> = {
      bytes: 8192,
      header: { magic: true, pageSize: 4096, writeVersion: 2, readVersion: 2 },
      walBytes: null,
      shmBytes: null,
      journalBytes: null,
    };
    expect(integrityOpenOf(base)).toEqual({ open: 'immutable' });
    expect(integrityOpenOf({ ...base, walBytes: 0, shmBytes: 32768 })).toEqual({ open: 'ro' });
    expect(integrityOpenOf({ ...base, walBytes: 0 })).toMatchObject({ skip: expect.stringContaining('only -wal') });
    expect(integrityOpenOf({ ...base, shmBytes: 32768 })).toMatchObject({ skip: expect.stringContaining('only -shm') });
    expect(integrityOpenOf({ ...base, journalBytes: 512 })).toMatchObject({ skip: expect.stringContaining('-journal') });
    expect(integrityOpenOf({ ...base, header: { magic: false, pageSize: null, writeVersion: null, readVersion: null } })).toMatchObject({ skip: expect.any(String) });
  });

  it('a real database with only a -shm beside it: not checked, and no -wal is created', async () => {
    const s = makeScratch();
    const root = s.root();
    const db = path.join(root, 'kanban.db');
    py(MAKE_WAL, db);
    fs.writeFileSync(`${db}-shm`, Buffer.alloc(0));
    const { report } = await scan(root, '--integrity');
    expect(dbOf(report, db)!.integrity).toMatchObject({ status: 'not-checked', open: null });
    expect(fs.existsSync(`${db}-wal`)).toBe(false);
    expect(report.findings.map((f) => f.code)).not.toContain('KANBAN_CORRUPT');
  });
});

/** A Hermes log line (hermes_logging.py `_LOG_FORMAT`: local asctime, level, logger, message). */
function logLine(at: Date, msg: string): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${at.getFullYear()}-${p(at.getMonth() + 1)}-${p(at.getDate())} ${p(at.getHours())}:${p(at.getMinutes())}:${p(at.getSeconds())},${p(at.getMilliseconds(), 3)} ERROR gateway.kanban: ${msg}`;
}

describe('CORRUPTION_LOGGED: corruption messages in the tail of the homes logs', () => {
  cleanUpAfterEach();

  it('a gateway.log with a malformed-image line: warning with count, newest time and a masked, escaped example', async () => {
    const s = makeScratch();
    const root = s.root();
    fs.mkdirSync(path.join(root, 'logs'));
    const now = new Date();
    const old = new Date(now.getTime() - 3 * 24 * 3_600_000);
    const recent = new Date(Math.floor((now.getTime() - 60_000) / 1000) * 1000);
    fs.writeFileSync(
      path.join(root, 'logs', 'gateway.log'),
      [
        logLine(old, 'dispatcher tick failed: database disk image is malformed'),
        logLine(recent, 'tick ok'),
        logLine(recent, 'dispatcher tick failed: database disk image is malformed api_key=sk-live-abcdef1234567890 \u001b[31mred'),
        'Traceback (most recent call last):',
        'sqlite3.DatabaseError: database disk image is malformed',
        '',
      ].join('\n'),
    );
    const { report, code } = await scan(root);
    const f = report.findings.find((x) => x.code === 'CORRUPTION_LOGGED')!;
    expect(f).toMatchObject({ severity: 'warning', subject: { home: root } });
    // The old line is outside the window; the traceback continues the record it belongs to.
    expect(f.message).toContain('logged 1 database corruption message ');
    expect(f.message).toContain(recent.toISOString());
    expect(f.message).not.toContain('sk-live-abcdef1234567890');
    expect(f.message).not.toContain('\u001b');
    expect(f.message).toContain('\\x1b');
    expect(code).toBeGreaterThanOrEqual(1);
  });

  it('a 50 MB log is read only from its end, at most the bound, through the API; a FIFO log is skipped without waiting', () => {
    const s = makeScratch();
    const home = s.root();
    const logs = path.join(home, 'logs');
    fs.mkdirSync(logs);
    const big = path.join(logs, 'gateway.log');
    const now = new Date();
    // An old-style line without a timestamp at the very start: far outside the tail, so never seen.
    fs.writeFileSync(big, 'sqlite3.DatabaseError: file is not a database (the head)\n');
    fs.appendFileSync(big, Buffer.alloc(50 * 1024 * 1024, 'INFO gateway: tick ok\n'));
    fs.appendFileSync(big, `${logLine(now, 'sqlite3.OperationalError: disk I/O error')}\n`);
    const size = fs.statSync(big).size;
    const tail = safeReadTail(big, 4096);
    expect(tail.ok).toBe(true);
    if (!tail.ok) return;
    expect(tail.bytes.length).toBe(4096);
    expect(tail.start).toBe(size - 4096);
    expect(spawnSync('mkfifo', [path.join(logs, 'errors.log')]).status).toBe(0);
    const found = observeCorruptionLogs([home], now.getTime() + 1000);
    expect(found).toHaveLength(1);
    expect(found[0]!).toMatchObject({ file: big, count: 1 });
    expect(found[0]!.bytesRead).toBeLessThanOrEqual(MAX_LOG_TAIL_BYTES);
    expect(found[0]!.example).toContain('disk I/O error');
    expect(found[0]!.example).not.toContain('the head');
  });

  it('the text scan: one count per record, old records outside the window, lines before the first timestamp count without time', () => {
    const now = Date.parse('2026-01-02T12:00:00Z');
    expect(scanLogText('x\nno match here\n', now, 3_600_000, false)).toBeNull();
    const r = scanLogText('sqlite3.DatabaseError: database disk image is malformed\n', now, 3_600_000, false)!;
    expect(r).toMatchObject({ count: 1, newestMs: null });
    // The cut first line of a tail is ignored.
    expect(scanLogText('database disk image is malformed\nok\n', now, 3_600_000, true)).toBeNull();
  });
});

describe('the judge on snapshots: integrity and logged corruption', () => {
  const rec = databaseRecord;
  const log = (h: string): CorruptionLogRecord => ({
    home: h,
    file: `${h}/logs/errors.log`,
    count: 3,
    newest: '2026-01-02T12:00:00.000Z',
    example: '2026-01-02 12:00:00,000 ERROR x: database disk image is malformed',
    bytesRead: 1000,
    windowMs: 86_400_000,
  });

  it('corrupt: KANBAN_CORRUPT (also for a state.db); not-checked and ok: no finding, the record says so; both round-trip a snapshot file', () => {
    const snap = snapshot({
      databases: [
        rec({ path: '/root/.hermes/kanban.db', integrity: { status: 'corrupt', lines: ['*** in database main ***', 'Tree 2 page 2: btreeInitPage() returns error code 11'], open: 'immutable', ms: 40 } }),
        rec({ path: '/root/.hermes/state.db', kind: 'state', integrity: { status: 'corrupt', lines: ['database disk image is malformed'], open: 'ro', ms: 10 } }),
        rec({ path: '/root/.hermes/kanban/boards/ops/kanban.db', owner: '/root/.hermes', integrity: { status: 'not-checked', lines: [], open: 'ro', reason: 'busy: database is locked', ms: 5 } }),
        rec({ path: '/root/.hermes/kanban/boards/qa/kanban.db', owner: '/root/.hermes', integrity: { status: 'ok', lines: ['ok'], open: 'ro', ms: 5 } }),
      ],
      corruptionLogs: [log('/root/.hermes')],
    });
    const r = classify(snap);
    const corrupt = r.findings.filter((f) => f.code === 'KANBAN_CORRUPT');
    expect(corrupt.map((f) => f.subject?.db).sort()).toEqual(['/root/.hermes/kanban.db', '/root/.hermes/state.db']);
    expect(corrupt.every((f) => f.severity === 'critical')).toBe(true);
    expect(corrupt[0]!.message).toContain('btreeInitPage()');
    expect(r.databases!.find((d) => d.path.endsWith('ops/kanban.db'))!).toMatchObject({ findings: [], integrity: { status: 'not-checked' } });
    expect(r.databases!.find((d) => d.path.endsWith('qa/kanban.db'))!).toMatchObject({ findings: [], integrity: { status: 'ok' } });
    const logged = r.findings.find((f) => f.code === 'CORRUPTION_LOGGED')!;
    expect(logged).toMatchObject({ severity: 'warning', subject: { home: '/root/.hermes' } });
    expect(logged.message).toContain('3 database corruption messages');
    expect(logged.message).toContain('2026-01-02T12:00:00.000Z');
    const back = parseSnapshot(JSON.stringify(snap));
    expect(back.databases).toEqual(snap.databases);
    expect(back.corruptionLogs).toEqual(snap.corruptionLogs);
    const bad = JSON.parse(JSON.stringify(snap));
    bad.databases[0].integrity.status = 'maybe';
    expect(() => parseSnapshot(JSON.stringify(bad))).toThrow(/integrity\.status/);
  });

  it('a filtered report keeps CORRUPTION_LOGGED of the homes it reports only', () => {
    const snap = snapshot({ homes: [home('/root/.hermes'), home('/srv/h/.hermes')], corruptionLogs: [log('/root/.hermes'), log('/srv/h/.hermes')] });
    const r = classify(snap, { homes: ['/srv/h/.hermes'] });
    expect(r.findings.filter((f) => f.code === 'CORRUPTION_LOGGED').map((f) => f.subject?.home)).toEqual(['/srv/h/.hermes']);
  });
});
