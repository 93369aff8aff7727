/**
 * The database section on files a REAL gateway made, on each kit version: the root's default gateway
 * dispatches (its `<root>/config.yaml` sets `kanban.dispatch_interval_seconds: 2`; the dispatcher watcher,
 * gateway/run.py at v0.15.1 and gateway/kanban_watchers.py at 306e2d2, creates `<root>/kanban.db` in WAL
 * mode on its first tick), `hermes kanban create` adds a task, and the gateway writes its own `state.db`.
 * `orphans --json` must report both as SQLite in WAL with no finding, `dispatchConfig` must say the root
 * dispatches by default, and `--integrity` must answer `ok` for both without creating a `-wal`/`-shm`
 * beside a database that had none (files the live gateway itself creates meanwhile are not compared).
 */
import fs from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import type { Report } from '../src/types.js';
import { NO_S6, cliJson, homesArgs } from './harness/cli.js';
import { kanbanCreate, makeRoot, startReadyGateway } from './harness/hermes.js';
import { waitFor } from './harness/processes.js';
import { describeRealHermes } from './harness/real-suite.js';
import { makeScratch } from './harness/scratch.js';

/** Whether the file starts with the SQLite magic and says WAL (header bytes 18-19 = 2). */
function isWal(file: string): boolean {
  try {
    const b = fs.readFileSync(file).subarray(0, 100);
    return b.length === 100 && b.subarray(0, 16).toString('latin1') === 'SQLite format 3\0' && b[18] === 2 && b[19] === 2;
  } catch {
    return false;
  }
}

const SIDECARS = ['-wal', '-shm'] as const;

describeRealHermes('the database section on a real gateway\u2019s files', [], (kit) => {
  it('kanban.db and state.db: SQLite in WAL, no finding, the default dispatcher setting; --integrity ok and creates no sidecar', async () => {
    const scratch = makeScratch();
    const root = makeRoot(scratch.dir, 'u');
    fs.writeFileSync(path.join(root, 'config.yaml'), 'kanban:\n  dispatch_interval_seconds: 2\n');
    await startReadyGateway({ kit, root });
    const kanban = path.join(root, 'kanban.db');
    const state = path.join(root, 'state.db');
    await waitFor(() => isWal(kanban), 60_000, `${kanban} in WAL mode (the dispatcher's first tick)`);
    kanbanCreate(kit, root, 'a task for the database section', 'nobody');
    await waitFor(() => isWal(state), 60_000, `${state} in WAL mode`);

    const scope = [...NO_S6, ...homesArgs(root)];
    const { report } = await cliJson(['orphans', '--json', ...scope]);
    for (const db of [kanban, state]) {
      const d = report.databases?.find((x) => x.path === db);
      expect(d, db).toMatchObject({ format: 'sqlite', journalMode: 'wal', findings: [], deletedHeldBy: [] });
      expect(d!.integrity).toBeUndefined();
      expect(report.findings.filter((f) => f.subject?.db === db)).toEqual([]);
    }
    const k = report.databases!.find((x) => x.path === kanban)!;
    expect(k).toMatchObject({ kind: 'kanban', owner: root });
    expect(k.dispatchConfig).toEqual([{ home: root, dispatches: 'yes', explicit: false, why: 'config.yaml does not set kanban.dispatch_in_gateway: the default is true' }]);
    expect(report.findings.some((f) => f.code === 'MULTIPLE_DISPATCHERS')).toBe(false);

    // The dispatcher opens kanban.db for a tick every 2 s and closes it: a check that overlaps a tick is
    // thrown away as not-checked (never corrupt), so it is asked again a few times.
    let checked: Report | null = null;
    for (let i = 0; i < 5; i++) {
      const missing = new Set([kanban, state].flatMap((db) => SIDECARS.map((s) => `${db}${s}`)).filter((f) => !fs.existsSync(f)));
      const { report: r } = await cliJson(['orphans', '--json', '--integrity', ...scope]);
      // A sidecar the check could have made: missing before, present after, while the gateway had no
      // reason to open that database (its own sidecars come in pairs with an open WAL connection).
      for (const f of missing) {
        const db = f.replace(/-(wal|shm)$/, '');
        const other = f.endsWith('-wal') ? `${db}-shm` : `${db}-wal`;
        if (fs.existsSync(f) && !fs.existsSync(other)) throw new Error(`${f} appeared alone after --integrity`);
      }
      for (const db of [kanban, state]) {
        const d = r.databases!.find((x) => x.path === db)!;
        expect(d.integrity, db).toBeDefined();
        expect(d.integrity!.status, `${db}: ${d.integrity!.reason ?? ''}`).not.toBe('corrupt');
      }
      if (r.databases!.filter((d) => d.path === kanban || d.path === state).every((d) => d.integrity!.status === 'ok')) {
        checked = r;
        break;
      }
    }
    expect(checked, '--integrity answered ok for both databases within 5 tries').not.toBeNull();
    for (const db of [kanban, state]) expect(checked!.databases!.find((x) => x.path === db)!.integrity!.lines).toEqual(['ok']);
    expect(checked!.findings.filter((f) => f.code === 'KANBAN_CORRUPT')).toEqual([]);
  }, 240_000);
});
