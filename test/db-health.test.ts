/**
 * Database health at file level: real SQLite databases written by real processes (python3's sqlite3,
 * the library Hermes itself uses), scanned by the real CLI in-process, and the pure judge on snapshots
 * from the harness builder.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { classify } from '../src/core/classify.js';
import { walGrowthThreshold } from '../src/core/db-health.js';
import { renderTable } from '../src/output/table.js';
import { parseSnapshot } from '../src/sources/snapshot-file.js';
import type { DatabaseRecord, Finding, Report } from '../src/types.js';
import { cleanUpAfterEach } from './harness/cleanup.js';
import { startProcess, until } from './harness/processes.js';
import { home, proc, snapshot } from './harness/records.js';
import { makeScratch } from './harness/scratch.js';
import { databaseRecord, dbOf, py, scanLeavingFolder as scan } from './harness/sqlite.js';

/** A WAL database as Hermes makes one (journal_mode=WAL, wal_autocheckpoint=100), with a few rows. */
const MAKE_WAL = `
import sqlite3, sys
c = sqlite3.connect(sys.argv[1])
c.execute('PRAGMA journal_mode=WAL'); c.execute('PRAGMA wal_autocheckpoint=100')
c.execute('CREATE TABLE IF NOT EXISTS tasks (id INTEGER PRIMARY KEY, body TEXT)')
for i in range(50): c.execute('INSERT INTO tasks (body) VALUES (?)', ('task %d' % i,))
c.commit(); c.close()
`;

const codesOf = (r: Report, file: string) => r.findings.filter((f) => f.subject?.db === file).map((f) => f.code);

describe('database health: real databases, real scan', () => {
  cleanUpAfterEach();

  it('a healthy WAL kanban.db and state.db: the header facts, no finding, nothing created beside them', async () => {
    const s = makeScratch();
    const root = s.root();
    const db = path.join(root, 'kanban.db');
    py(MAKE_WAL, db);
    py(MAKE_WAL, path.join(root, 'state.db'));
    const { report } = await scan(root);
    const d = dbOf(report, db)!;
    expect(d).toMatchObject({ kind: 'kanban', owner: root, format: 'sqlite', journalMode: 'wal', pageSize: 4096, findings: [], deletedHeldBy: [] });
    expect(d.backups).toMatchObject({ count: 0, bytes: 0, recent: 0 });
    expect(d.freeBytes).toBeGreaterThan(0);
    expect(dbOf(report, path.join(root, 'state.db'))).toMatchObject({ kind: 'state', owner: root, format: 'sqlite', journalMode: 'wal', findings: [] });
    expect(codesOf(report, db)).toEqual([]);
    const text = renderTable(report, { color: false });
    expect(text).toContain('Database files');
    expect(text).toContain(`${db}  kanban`);
  });

  it('every board of the root is checked; an archived one (board.json) is marked so', async () => {
    const s = makeScratch();
    const root = s.root();
    const boards = path.join(root, 'kanban', 'boards');
    for (const slug of ['ops', 'old']) {
      fs.mkdirSync(path.join(boards, slug), { recursive: true });
      py(MAKE_WAL, path.join(boards, slug, 'kanban.db'));
    }
    fs.writeFileSync(path.join(boards, 'old', 'board.json'), JSON.stringify({ slug: 'old', archived: true }));
    const { report } = await scan(root);
    expect(dbOf(report, path.join(boards, 'ops', 'kanban.db'))).toMatchObject({ format: 'sqlite', journalMode: 'wal', findings: [] });
    expect(dbOf(report, path.join(boards, 'ops', 'kanban.db'))!.archived).toBeUndefined();
    expect(dbOf(report, path.join(boards, 'old', 'kanban.db'))).toMatchObject({ archived: true, findings: [] });
    expect(renderTable(report, { color: false })).toContain('kanban (archived board)');
  });

  it('a board rebuilt with .dump in rollback mode: KANBAN_NOT_WAL', async () => {
    const s = makeScratch();
    const root = s.root();
    const board = path.join(root, 'kanban', 'boards', 'ops');
    fs.mkdirSync(board, { recursive: true });
    const db = path.join(board, 'kanban.db');
    py(MAKE_WAL, db);
    // The rebuild: dump into a fresh file (no WAL pragma: rollback journal, SQLite's default) and move it in place.
    py(
      `
import sqlite3, sys, os
src = sqlite3.connect(sys.argv[1]); dst = sqlite3.connect(sys.argv[1] + '.new')
dst.executescript('\\n'.join(src.iterdump())); dst.close(); src.close()
for s in ('-wal', '-shm'):
    if os.path.exists(sys.argv[1] + s): os.remove(sys.argv[1] + s)
os.replace(sys.argv[1] + '.new', sys.argv[1])
`,
      db,
    );
    const { report, code } = await scan(root);
    expect(dbOf(report, db)).toMatchObject({ format: 'sqlite', journalMode: 'rollback', findings: ['KANBAN_NOT_WAL'] });
    const f = report.findings.find((x) => x.code === 'KANBAN_NOT_WAL')!;
    expect(f).toMatchObject({ severity: 'warning', pid: null, subject: { db } });
    expect(f.message).toContain('rollback-journal mode');
    expect(code).toBeGreaterThanOrEqual(1);
  });

  it('a non-SQLite file named kanban.db, and a FIFO named kanban.db that is never waited on: KANBAN_NOT_SQLITE, critical', async () => {
    const s = makeScratch();
    const root = s.root();
    const db = path.join(root, 'kanban.db');
    fs.writeFileSync(db, '<html>502 Bad Gateway</html>\n'.repeat(10));
    const board = path.join(root, 'kanban', 'boards', 'fifo');
    fs.mkdirSync(board, { recursive: true });
    const fifo = path.join(board, 'kanban.db');
    expect(spawnSync('mkfifo', [fifo]).status).toBe(0);
    const { report, code } = await scan(root);
    expect(code).toBe(2);
    expect(dbOf(report, db)).toMatchObject({ format: 'not-sqlite', journalMode: null, findings: ['KANBAN_NOT_SQLITE'] });
    expect(dbOf(report, fifo)).toMatchObject({ format: 'not-sqlite', bytes: null, findings: ['KANBAN_NOT_SQLITE'] });
    expect(dbOf(report, fifo)!.error).toMatch(/FIFO/);
    for (const file of [db, fifo]) expect(report.findings.find((f) => f.subject?.db === file)).toMatchObject({ severity: 'critical', code: 'KANBAN_NOT_SQLITE' });
  });

  it('2,000 backups from the last hour are a storm; three old ones are not', async () => {
    const s = makeScratch();
    const stormRoot = s.root();
    const calmRoot = s.root();
    const stormDb = path.join(stormRoot, 'kanban.db');
    const calmDb = path.join(calmRoot, 'kanban.db');
    py(MAKE_WAL, stormDb);
    py(MAKE_WAL, calmDb);
    const body = Buffer.alloc(1024, 7);
    for (let i = 0; i < 2000; i++) fs.writeFileSync(`${stormDb}.corrupt.${i.toString(16).padStart(16, '0')}.bak`, body);
    fs.writeFileSync(`${stormDb}.corrupt.${'0'.repeat(16)}.bak-wal`, body);
    const old = (Date.now() - 3 * 86_400_000) / 1000;
    for (let i = 0; i < 3; i++) {
      const f = `${calmDb}.corrupt.${String(i).repeat(16)}.bak`;
      fs.writeFileSync(f, body);
      fs.utimesSync(f, old, old);
    }
    const storm = (await scan(stormRoot)).report;
    expect(dbOf(storm, stormDb)!.backups).toMatchObject({ count: 2000, bytes: 2001 * 1024, recent: 2000, truncated: false });
    const f = storm.findings.find((x) => x.code === 'KANBAN_BACKUP_STORM')!;
    expect(f.subject).toEqual({ db: stormDb });
    expect(f.message).toContain('2000 new corrupt-database backups');
    expect(f.message).toMatch(/free on its filesystem/);
    // Severity follows the free space of this filesystem (critical under 1 GiB).
    const free = dbOf(storm, stormDb)!.freeBytes!;
    expect(f.severity).toBe(free < 1024 ** 3 ? 'critical' : 'warning');

    const calm = (await scan(calmRoot)).report;
    expect(dbOf(calm, calmDb)!.backups).toMatchObject({ count: 3, recent: 0 });
    expect(dbOf(calm, calmDb)!.backups.newestMtimeMs).toBeLessThan(Date.now() - 86_400_000);
    expect(codesOf(calm, calmDb)).toEqual([]);
  });

  it('a real process that holds an unlinked state.db-wal: DELETED_WAL_HELD, critical, naming that PID', async () => {
    const s = makeScratch();
    const root = s.root('coder');
    const home = path.join(root, 'profiles', 'coder');
    const db = path.join(home, 'state.db');
    const ready = path.join(s.dir, 'ready');
    const holder = startProcess([
      'python3',
      '-c',
      `
import sqlite3, sys, os, time
c = sqlite3.connect(sys.argv[1]); c.execute('PRAGMA journal_mode=WAL')
c.execute('CREATE TABLE t (x)'); c.execute('INSERT INTO t VALUES (1)'); c.commit()
os.remove(sys.argv[1] + '-wal'); os.remove(sys.argv[1] + '-shm')
open(sys.argv[2], 'w').close()
time.sleep(120)
`,
      db,
      ready,
    ]);
    await until(() => (fs.existsSync(ready) ? true : null), 10_000, 'the holder unlinked its WAL');
    const { report, code } = await scan(home);
    expect(code).toBe(2);
    const held = report.findings.filter((f) => f.code === 'DELETED_WAL_HELD');
    expect(held.map((f) => f.subject)).toEqual(expect.arrayContaining([{ db, pid: holder.pid }]));
    for (const f of held) {
      expect(f).toMatchObject({ severity: 'critical', pid: holder.pid });
      expect(f.message).toContain(`PID ${holder.pid}`);
      expect(f.message).toContain('not a Hermes process');
    }
    expect(held.map((f) => f.message).join('\n')).toContain('-wal');
    expect(dbOf(report, db)).toMatchObject({ kind: 'state', deletedHeldBy: [holder.pid], findings: expect.arrayContaining(['DELETED_WAL_HELD']) });
    expect(renderTable(report, { color: false })).toContain(`deleted generation held by ${holder.pid}`);
  });

  it('a long read transaction while a writer writes: the WAL grows past its threshold (WAL_GROWING)', async () => {
    const s = makeScratch();
    const root = s.root();
    const db = path.join(root, 'kanban.db');
    py(MAKE_WAL, db);
    const ready = path.join(s.dir, 'reading');
    const reader = startProcess([
      'python3',
      '-c',
      `
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute('BEGIN'); c.execute('SELECT count(*) FROM tasks').fetchone()
open(sys.argv[2], 'w').close()
time.sleep(120)
`,
      db,
      ready,
    ]);
    await until(() => (fs.existsSync(ready) ? true : null), 10_000, 'the reader began its transaction');
    py(
      `
import sqlite3, sys
c = sqlite3.connect(sys.argv[1]); c.execute('PRAGMA wal_autocheckpoint=100')
for i in range(200):
    c.executemany('INSERT INTO tasks (body) VALUES (?)', [('x' * 4000,)] * 10); c.commit()
c.close()
`,
      db,
    );
    const { report } = await scan(root);
    const d = dbOf(report, db)!;
    expect(d.walBytes).toBeGreaterThan(walGrowthThreshold({ kind: 'kanban', header: { magic: true, pageSize: 4096, writeVersion: 2, readVersion: 2 } }));
    expect(d.findings).toContain('WAL_GROWING');
    const f = report.findings.find((x) => x.code === 'WAL_GROWING')!;
    expect(f).toMatchObject({ severity: 'warning', subject: { db } });
    expect(f.message).toContain('100 pages of 4.0 KiB');
    expect(f.message).toContain(`PIDs ${reader.pid}`);
  });
});

describe('database health: the pure judge', () => {
  const rec = databaseRecord;
  const codes = (fs: Finding[]) => fs.map((f) => f.code);

  it('a snapshot without databases has no section (old snapshots), and still loads', () => {
    const snap = snapshot();
    expect(classify(snap).databases).toBeUndefined();
    expect(parseSnapshot(JSON.stringify(snap)).databases).toBeUndefined();
  });

  it('a snapshot file with databases round-trips; a mistyped field is refused', () => {
    const snap = snapshot({ databases: [rec({ path: '/root/.hermes/kanban.db' })] });
    expect(parseSnapshot(JSON.stringify(snap)).databases).toEqual(snap.databases);
    const bad = JSON.parse(JSON.stringify(snap));
    bad.databases[0].kind = 'other';
    expect(() => parseSnapshot(JSON.stringify(bad))).toThrow(/databases\[0\]\.kind/);
  });

  it('a storm on a nearly full filesystem is critical; the same storm with room is a warning', () => {
    const storm = { count: 88_500, bytes: 395 * 1024 ** 3, recent: 60, windowMs: 3_600_000, newestMtimeMs: 0, truncated: false };
    const full = classify(snapshot({ databases: [rec({ path: '/root/.hermes/kanban.db', backups: storm, freeBytes: 2 * 1024 ** 3 })] }));
    expect(full.findings.find((f) => f.code === 'KANBAN_BACKUP_STORM')?.severity).toBe('critical');
    expect(full.summary.exitCode).toBe(2);
    const room = classify(snapshot({ databases: [rec({ path: '/root/.hermes/kanban.db', backups: { ...storm, bytes: 1024 ** 3 }, freeBytes: 500 * 1024 ** 3 })] }));
    expect(room.findings.find((f) => f.code === 'KANBAN_BACKUP_STORM')?.severity).toBe('warning');
    expect(room.summary.exitCode).toBe(1);
    const few = classify(snapshot({ databases: [rec({ path: '/root/.hermes/kanban.db', backups: { ...storm, recent: 10 } })] }));
    expect(codes(few.findings)).not.toContain('KANBAN_BACKUP_STORM');
  });

  it('an orphaned worker holding a deleted kanban.db-wal: its verdict and the --kill remedy with --include-workers', () => {
    const db = '/root/.hermes/kanban.db';
    const worker = proc(4242, ['/usr/bin/python3', '/usr/local/bin/hermes', 'chat', '-q', 'work the task'], {
      ppid: 1,
      env: { HERMES_KANBAN_TASK: 't_1', HERMES_HOME: '/root/.hermes' },
      handles: [{ fd: 7, path: `${db}-wal`, mode: 'rw', deleted: true, inode: 99 }],
    });
    const report = classify(snapshot({ processes: [worker], databases: [rec({ path: db })] }));
    const verdict = report.processes.find((p) => p.pid === 4242)!.verdict;
    const f = report.findings.find((x) => x.code === 'DELETED_WAL_HELD')!;
    expect(f).toMatchObject({ severity: 'critical', pid: 4242, subject: { db, pid: 4242 } });
    expect(f.message).toContain(`verdict ${verdict}`);
    expect(f.message).toContain('fd 7, inode 99');
    if (verdict === 'orphaned-worker') expect(f.remedy).toContain('--include-workers');
    expect(report.databases![0]).toMatchObject({ deletedHeldBy: [4242], findings: ['DELETED_WAL_HELD'] });
  });

  it('a ghost of a deleted profile holding that profile\u2019s deleted state.db: GHOST_GATEWAY only, no DELETED_WAL_HELD', () => {
    const homeDir = '/root/.hermes/profiles/gone';
    const ghost = proc(4343, ['/usr/bin/python3', '/usr/local/bin/hermes', '-p', 'gone', 'gateway', 'run'], {
      ppid: 1,
      handles: [
        { fd: 5, path: `${homeDir}/gateway.lock`, mode: 'rw', deleted: true },
        { fd: 6, path: `${homeDir}/state.db`, mode: 'rw', deleted: true },
      ],
    });
    const report = classify(snapshot({ processes: [ghost], homes: [home('/root/.hermes'), home(homeDir, { exists: false })] }));
    expect(report.processes.find((p) => p.pid === 4343)?.verdict).toBe('ghost');
    expect(codes(report.findings)).toContain('GHOST_GATEWAY');
    expect(codes(report.findings)).not.toContain('DELETED_WAL_HELD');
  });

  it('a rollback-mode kanban.db is a warning alone and critical beside two writers; state.db is never KANBAN_NOT_WAL', () => {
    const rollback = { magic: true, pageSize: 4096, writeVersion: 1, readVersion: 1 };
    const alone = classify(snapshot({ databases: [rec({ path: '/root/.hermes/kanban.db', header: rollback })] }));
    expect(alone.findings.find((f) => f.code === 'KANBAN_NOT_WAL')?.severity).toBe('warning');
    const a = proc(501, ['sqlite3', '/root/.hermes/kanban.db'], { handles: [{ fd: 3, path: '/root/.hermes/kanban.db', mode: 'rw', deleted: false }] });
    const b = proc(502, ['sqlite3', '/root/.hermes/kanban.db'], { handles: [{ fd: 3, path: '/root/.hermes/kanban.db', mode: 'rw', deleted: false }] });
    const two = classify(snapshot({ processes: [a, b], databases: [rec({ path: '/root/.hermes/kanban.db', header: rollback })] }));
    const f = two.findings.find((x) => x.code === 'KANBAN_NOT_WAL')!;
    expect(f.severity).toBe('critical');
    expect(f.message).toContain('PIDs 501, 502');
    const state = classify(snapshot({ databases: [rec({ path: '/root/.hermes/state.db', kind: 'state', owner: '/root/.hermes', header: rollback })] }));
    expect(codes(state.findings)).toEqual([]);
  });

  it('WAL_GROWING uses the kind threshold: 100 pages for kanban.db, 1000 for state.db', () => {
    const page = { magic: true, pageSize: 4096, writeVersion: 2, readVersion: 2 };
    expect(walGrowthThreshold({ kind: 'kanban', header: page })).toBe(100 * 4096 * 10);
    expect(walGrowthThreshold({ kind: 'state', header: page })).toBe(1000 * 4096 * 10);
    const wal = 8 * 1024 * 1024;
    const r = classify(
      snapshot({
        databases: [rec({ path: '/root/.hermes/kanban.db', walBytes: wal }), rec({ path: '/root/.hermes/state.db', kind: 'state', owner: '/root/.hermes', walBytes: wal })],
      }),
    );
    expect(r.findings.filter((f) => f.code === 'WAL_GROWING').map((f) => f.subject?.db)).toEqual(['/root/.hermes/kanban.db']);
  });
});
