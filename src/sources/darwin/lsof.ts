/**
 * lsof reader for macOS: open files, access modes and locks of the Hermes files only. The scan passes
 * the exact files (kanban.db and its -wal/-shm, gateway.lock, .dispatcher.lock, …) so lsof never walks
 * the whole machine.
 *
 * Format: lsof(8) "OUTPUT FOR OTHER PROGRAMS" (`-F pcfanl`, lsof 4.91 on macOS 13–15): one field per
 * line, the first character names it: `p` PID (starts a process set), `c` command, `f` fd (starts a file
 * set), `a` access (`r`, `w`, `u` = read/write, space = unknown), `l` lock (`r`/`R` read, `w`/`W` write,
 * `u` read+write, `N`/`x`/`X` other, space = none), `n` name. lsof exits 1 when none of the files is open.
 */
import type { AccessMode } from '../../types.js';

/** One open file of one process, as lsof printed it. */
export interface LsofFile {
  pid: number;
  command: string;
  fd: number;
  mode: AccessMode | null;
  /** Lock character (`W`, `w`, `R`, `r`, `u`), or null when none. */
  lock: string | null;
  name: string;
}

/**
 * Parses `lsof -F pcfanl` output. Files with a non-numeric fd (`cwd`, `txt`) are skipped. A truncated
 * set (a `p` or `f` without its `n`) is dropped and counted in `bad`.
 */
export function parseLsofF(text: string): { files: LsofFile[]; bad: number } {
  const files: LsofFile[] = [];
  let bad = 0;
  let pid = 0;
  let command = '';
  let cur: Partial<LsofFile> | null = null;
  const flush = () => {
    if (!cur) return;
    if (cur.name !== undefined && cur.fd !== undefined && !Number.isNaN(cur.fd) && pid > 0) {
      files.push({ pid, command, fd: cur.fd, mode: cur.mode ?? null, lock: cur.lock ?? null, name: cur.name });
    } else if (cur.fd === undefined || cur.name === undefined) bad++;
    cur = null;
  };
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const tag = line[0];
    const v = line.slice(1);
    switch (tag) {
      case 'p':
        flush();
        pid = /^\d+$/.test(v) ? Number(v) : 0;
        if (pid === 0) bad++;
        command = '';
        break;
      case 'c':
        command = v;
        break;
      case 'f':
        flush();
        cur = { fd: /^\d+$/.test(v) ? Number(v) : NaN };
        break;
      case 'a':
        if (cur) cur.mode = v === 'r' ? 'r' : v === 'w' ? 'w' : v === 'u' ? 'rw' : null;
        break;
      case 'l':
        if (cur) cur.lock = v.trim() === '' ? null : v.trim();
        break;
      case 'n':
        if (cur) cur.name = v;
        break;
      default:
        bad++;
    }
  }
  flush();
  return { files, bad };
}

/** True when an lsof lock character is a write lock (what an exclusive flock shows as). */
export function isWriteLock(lock: string | null): boolean {
  return lock === 'W' || lock === 'w' || lock === 'u';
}
