// Real SQLite files for the database-health suites: written by python3's sqlite3 module (the library
// Hermes itself uses), and the folder listing a scan must leave as it was.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { expect } from 'vitest';
import type { DatabaseRecord, Report } from '../../src/types.js';
import { NO_S6, cliJson } from './cli.js';

/** Runs a python3 script to completion (the sqlite3 module); returns its stdout, throws with its stderr when it fails (60 s cap). */
export function py(script: string, ...args: string[]): string {
  const r = spawnSync('python3', ['-c', script, ...args], { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`python3 failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

/** Every entry of every folder under `dir`, sorted (what a scan must leave as it was). */
export function listing(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      out.push(p);
      if (e.isDirectory()) walk(p);
    }
  };
  walk(dir);
  return out.sort();
}

/** A healthy kanban.db record as the scan writes one (WAL header, 4 KiB pages, no backups, 100 GiB free); `over` replaces fields. */
export function databaseRecord(over: Partial<DatabaseRecord> & { path: string }): DatabaseRecord {
  return {
    kind: 'kanban',
    owner: path.dirname(over.path),
    bytes: 4096,
    header: { magic: true, pageSize: 4096, writeVersion: 2, readVersion: 2 },
    walBytes: 0,
    shmBytes: 32768,
    journalBytes: null,
    backups: { count: 0, bytes: 0, recent: 0, windowMs: 3_600_000, newestMtimeMs: null, truncated: false },
    freeBytes: 100 * 1024 ** 3,
    ...over,
  };
}

/**
 * `orphans --json --home root ARGS` in-process, asserting that the scan created or removed no entry
 * under `root` (the no-files-beside-databases rule); returns the schema-checked report and exit code.
 */
export async function scanLeavingFolder(root: string, ...extra: string[]): Promise<{ report: Report; code: number }> {
  const before = listing(root);
  const { report, code } = await cliJson(['orphans', '--json', ...NO_S6, '--home', root, ...extra]);
  expect(listing(root)).toEqual(before);
  return { report, code };
}

/** The database section of `file` in a report, or undefined. */
export const dbOf = (r: Report, file: string) => r.databases?.find((d) => d.path === file);
