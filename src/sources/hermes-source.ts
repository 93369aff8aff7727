/**
 * Which Hermes source a gateway runs, and whether that source has the singleton kanban dispatcher lock.
 *
 * Hermes added `<root>/kanban/.dispatcher.lock` in upstream dfa561092 (2026-06-12): 306e2d2
 * gateway/kanban_watchers.py `_kanban_dispatcher_watcher` takes it (flock, LOCK_NB) and a gateway that
 * loses it never dispatches; v0.15.1 (e71a2bd) has no such lock (gateway/run.py
 * `_kanban_dispatcher_watcher`), so every gateway of a root dispatches. The source folder of a running
 * gateway is found from what it shows, without importing anything: a `…/hermes_cli/main.py` or
 * `…/gateway/run.py` token in its argv or in the record that names it (gateway.lock / gateway.pid), the
 * `site-packages` of a console script's venv (`<venv>/bin/hermes`), its cwd and `PYTHONPATH` entries
 * for `python -m hermes_cli.main`. Files are read bounded (at most {@link MAX_SOURCE_BYTES} each); an
 * unreadable or absent folder is simply not a candidate.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { HermesSource, HomeRecord, ProcessRecord } from '../types.js';
import { parseHermesArgv } from '../core/argv.js';
import { recordNames } from '../core/identify.js';
import { safeReadHead } from './safe-read.js';

/** Largest Python file read when looking for the lock, bytes. */
export const MAX_SOURCE_BYTES = 2 * 1024 * 1024;

/** What the singleton lock's code says, as written in 306e2d2 gateway/kanban_watchers.py. */
const SINGLETON_MARK = '.dispatcher.lock';

/** File system calls the detector uses (tests inject a folder tree). */
export interface SourceFs {
  exists(file: string): boolean;
  /** At most `max` bytes of a file as UTF-8, or null when unreadable. */
  readHead(file: string, max: number): string | null;
  /** Entry names of a folder, or [] when unreadable. */
  list(dir: string): string[];
}

/** The real file system. */
export const realSourceFs: SourceFs = {
  exists: (f) => {
    try {
      fs.statSync(f);
      return true;
    } catch {
      return false;
    }
  },
  // Through the safe reader: a FIFO named like a source file must not block the scan. A final symlink
  // is followed (an editable install may link its files); the read stays bounded and non-blocking.
  readHead: (f, max) => safeReadHead(f, max, true)?.toString('utf8') ?? null,
  list: (d) => {
    try {
      return fs.readdirSync(d);
    } catch {
      return [];
    }
  },
};

/** Candidate source folders (holding `hermes_cli/`) for one gateway process, most specific first. */
export function sourceCandidates(proc: ProcessRecord, recordArgv: readonly string[] | null, fsx: SourceFs): string[] {
  const out: string[] = [];
  const add = (d: string | null | undefined) => {
    if (d && path.isAbsolute(d) && !out.includes(d)) out.push(path.normalize(d));
  };
  for (const t of [...proc.argv, ...(recordArgv ?? [])]) {
    const n = t.replace(/\\/g, '/');
    if (n.endsWith('/hermes_cli/main.py') || n.endsWith('/gateway/run.py')) add(path.dirname(path.dirname(n)));
  }
  for (const t of [...proc.argv, ...(recordArgv ?? [])]) {
    // A console script `<venv>/bin/hermes`: the package sits in `<venv>/lib/pythonX.Y/site-packages`.
    if (path.basename(t) !== 'hermes' || path.basename(path.dirname(t)) !== 'bin') continue;
    const lib = path.join(path.dirname(path.dirname(t)), 'lib');
    for (const py of fsx.list(lib).filter((e) => /^python3/.test(e))) add(path.join(lib, py, 'site-packages'));
  }
  if (proc.env.VIRTUAL_ENV) {
    const lib = path.join(proc.env.VIRTUAL_ENV, 'lib');
    for (const py of fsx.list(lib).filter((e) => /^python3/.test(e))) add(path.join(lib, py, 'site-packages'));
  }
  for (const p of (proc.env.PYTHONPATH ?? '').split(':')) add(p);
  add(proc.cwd);
  return out.filter((d) => fsx.exists(path.join(d, 'hermes_cli', 'main.py')));
}

/** Whether the source at `dir` has the singleton dispatcher lock, and the file that says so; null when it cannot tell. */
export function singletonLockOf(dir: string, fsx: SourceFs): { singleton: boolean; file: string } | null {
  const watchers = path.join(dir, 'gateway', 'kanban_watchers.py');
  const w = fsx.readHead(watchers, MAX_SOURCE_BYTES);
  if (w !== null && w.includes(SINGLETON_MARK)) return { singleton: true, file: watchers };
  const run = path.join(dir, 'gateway', 'run.py');
  const r = fsx.readHead(run, MAX_SOURCE_BYTES);
  if (r === null) return null;
  if (r.includes(SINGLETON_MARK)) return { singleton: true, file: run };
  // The dispatcher lives in run.py (v0.15.1) or kanban_watchers.py; without the mark in either, no lock.
  if (r.includes('_kanban_dispatcher_watcher') || (w !== null && w.includes('_kanban_dispatcher_watcher'))) return { singleton: false, file: w !== null ? watchers : run };
  return null;
}

/**
 * The Hermes sources behind the gateways of a scan: one entry per source folder, with the PIDs that run
 * it and whether it has the singleton dispatcher lock. Gateways whose source cannot be found are absent.
 */
export function observeHermesSources(procs: readonly ProcessRecord[], homes: readonly HomeRecord[], fsx: SourceFs = realSourceFs): HermesSource[] {
  const byDir = new Map<string, HermesSource>();
  for (const p of procs) {
    const record = homes.map((h) => [h.lockFile, h.pidFile].find((f) => recordNames(f, p))).find((f) => f !== undefined);
    const cmd = parseHermesArgv(record?.argv ?? p.argv) ?? parseHermesArgv(p.argv);
    if (cmd?.command !== 'gateway' && !record) continue;
    for (const dir of sourceCandidates(p, record?.argv ?? null, fsx)) {
      const known = byDir.get(dir);
      if (known) {
        known.pids.push(p.pid);
        break;
      }
      const lock = singletonLockOf(dir, fsx);
      if (!lock) continue;
      byDir.set(dir, { dir, singletonDispatcherLock: lock.singleton, file: lock.file, pids: [p.pid] });
      break;
    }
  }
  return [...byDir.values()];
}
