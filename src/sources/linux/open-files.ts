/**
 * Open files on Linux: /proc/PID/fd of every process (one readdir and one readlink per fd), cheap
 * enough to select candidates by; the access mode and inode of the interesting ones from
 * /proc/PID/fdinfo/FD (man 5 proc).
 */
import type { Handle } from '../../types.js';
import { isInterestingPath } from '../../core/candidates.js';
import { isStateDbFile } from '../../core/paths.js';
import type { FdTable, OpenFiles } from '../facets.js';
import { type FdLink, readFdInfo, readFdLinks } from './procfs.js';

/** What the kernel appends to the fd link of an unlinked file (proc(5), /proc/PID/fd). */
export const DELETED = ' (deleted)';

/** A link target without the kernel's ` (deleted)` suffix. */
function undeleted(target: string): string {
  return target.endsWith(DELETED) ? target.slice(0, -DELETED.length) : target;
}

/**
 * The fd links that point at files a scan watches (identity, lock and kanban files, also deleted ones),
 * and at a deleted generation of a `state.db` (the file, its -wal or -shm): a process that keeps one
 * open makes every later write of that home fail (core/db-health.ts, DELETED_WAL_HELD). A live state.db
 * is not watched: every Hermes process opens it.
 */
export function interestingLinks(links: readonly FdLink[]): FdLink[] {
  return links.filter((l) => isInterestingPath(undeleted(l.target)) || (l.target.endsWith(DELETED) && isStateDbFile(undeleted(l.target))));
}

/** The fd table of one process: visibility, and the links on files of interest. */
export function fdTableOf(pid: number, procRoot = '/proc'): FdTable {
  const fds = readFdLinks(pid, procRoot);
  if (!fds.ok) return { visibility: fds.why, error: fds.error, interesting: null };
  return { visibility: 'ok', error: null, interesting: interestingLinks(fds.value) };
}

/** The handles of the interesting fds: path (` (deleted)` removed), access mode and inode from fdinfo. */
export function handlesOf(pid: number, fds: FdTable, procRoot = '/proc'): Handle[] {
  const out: Handle[] = [];
  for (const l of fds.interesting ?? []) {
    const deleted = l.target.endsWith(DELETED);
    const info = readFdInfo(pid, l.fd, procRoot);
    out.push({
      fd: l.fd,
      path: undeleted(l.target),
      mode: info.ok ? info.value.mode : null,
      deleted,
      ...(info.ok && info.value.inode !== null ? { inode: info.value.inode } : {}),
    });
  }
  return out;
}

/** Per-process open files over procfs. */
export function linuxOpenFiles(procRoot = '/proc'): OpenFiles {
  return {
    ofProcess: (pid) => fdTableOf(pid, procRoot),
    handles: (pid, fds) => handlesOf(pid, fds, procRoot),
  };
}
