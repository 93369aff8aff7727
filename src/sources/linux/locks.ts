/**
 * Locks on Linux: one read of /proc/locks (man 5 proc), matched by device and inode to the lock files
 * of every home and kanban root (core/lock-match.ts), and by inode to the deleted lock files a process
 * still holds open (a deleted gateway.lock can still be held).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { LockRecord, ScanNote } from '../../types.js';
import { locksOnFile } from '../../core/lock-match.js';
import { FILES } from '../../core/paths.js';
import type { Locks } from '../facets.js';
import { type ProcLock, devMajorMinor, parseLocks } from './procfs.js';

/** The Locks facet over `<procRoot>/locks`; lock files are stat(2)ed on the host's file system. */
export function linuxLocks(procRoot = '/proc'): Locks {
  return {
    read(lockFiles, records) {
      const notes: ScanNote[] = [];
      const locks: LockRecord[] = [];
      let procLocks: ProcLock[] = [];
      try {
        procLocks = parseLocks(fs.readFileSync(`${procRoot}/locks`, 'latin1'));
      } catch (err) {
        notes.push({ what: 'locks', detail: `cannot read ${procRoot}/locks: ${(err as Error).message}; lock owners unknown` });
      }
      const seen = new Set<string>();
      const push = (file: string, inode: number, l: ProcLock) => {
        const key = `${file}:${l.pid}:${l.kind}`;
        if (seen.has(key)) return;
        seen.add(key);
        locks.push({ path: file, inode, kind: l.kind, access: l.access, pid: l.pid });
      };
      for (const file of lockFiles) {
        let st: fs.Stats;
        try {
          st = fs.statSync(file);
        } catch {
          continue;
        }
        for (const l of locksOnFile(procLocks, { ...devMajorMinor(st.dev), inode: st.ino })) push(file, st.ino, l);
      }
      for (const rec of records) {
        for (const h of rec.handles) {
          const base = path.posix.basename(h.path);
          if (!h.deleted || h.inode === undefined || (base !== FILES.gatewayLock && base !== FILES.dispatcherLock)) continue;
          for (const l of procLocks) if (l.inode === h.inode && l.pid === rec.pid) push(`${h.path} (deleted)`, h.inode, l);
        }
      }
      return { locks, notes };
    },
  };
}
