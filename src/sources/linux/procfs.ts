/**
 * Low-level readers of Linux procfs (man 5 proc). Every reader is synchronous (procfs files are tiny
 * and served from memory; sync reads avoid the libuv thread-pool round trip per file) and reports a
 * process that vanished mid-read as `gone` rather than throwing.
 */
import fs from 'node:fs';
import type { AccessMode, CgroupLine, LockKind, Visibility } from '../../types.js';

/** Result of a read that can fail because the process left or the kernel refused. */
export type ProcRead<T> = { ok: true; value: T } | { ok: false; why: Visibility; error: string };

/** Maps a read error to a visibility: ENOENT/ESRCH mean the process left, EACCES/EPERM a refusal. */
export function errorVisibility(err: unknown): Visibility {
  const code = (err as NodeJS.ErrnoException)?.code;
  if (code === 'ENOENT' || code === 'ESRCH') return 'gone';
  if (code === 'EACCES' || code === 'EPERM') return 'denied';
  return 'denied';
}

function attempt<T>(fn: () => T): ProcRead<T> {
  try {
    return { ok: true, value: fn() };
  } catch (err) {
    return { ok: false, why: errorVisibility(err), error: (err as Error).message };
  }
}

/** Numeric entries of /proc (the PIDs), unsorted. */
export function listPids(procRoot = '/proc'): number[] {
  const out: number[] = [];
  for (const name of fs.readdirSync(procRoot)) {
    const c = name.charCodeAt(0);
    if (c >= 48 && c <= 57) out.push(Number(name));
  }
  return out;
}

/** The fields of /proc/PID/stat hermes-doctor uses. */
export interface ProcStat {
  comm: string;
  state: string;
  ppid: number;
  pgid: number;
  sid: number;
  /** tty_nr, the kernel's encoded device number of the controlling terminal (0: none). */
  ttyNr: number;
  /** Field 22: start time in clock ticks since boot. */
  startTicks: number;
}

/**
 * Parses /proc/PID/stat. comm is field 2 in parentheses and may itself contain spaces and `)`, so the
 * fields after it are read from the last `)`.
 *
 * @throws Error when the line is not in the man 5 proc format
 */
export function parseStat(line: string): ProcStat {
  const open = line.indexOf('(');
  const close = line.lastIndexOf(')');
  if (open < 0 || close < open) throw new Error(`malformed stat line: ${line.slice(0, 60)}`);
  const f = line.slice(close + 2).split(' ');
  // f[0] is field 3 (state); field N is f[N - 3].
  if (f.length < 20) throw new Error(`short stat line: ${f.length + 2} fields`);
  return {
    comm: line.slice(open + 1, close),
    state: f[0]!,
    ppid: Number(f[1]),
    pgid: Number(f[2]),
    sid: Number(f[3]),
    ttyNr: Number(f[4]),
    startTicks: Number(f[19]),
  };
}

export function readStat(pid: number, procRoot = '/proc'): ProcRead<ProcStat> {
  return attempt(() => parseStat(fs.readFileSync(`${procRoot}/${pid}/stat`, 'latin1')));
}

/**
 * Decodes tty_nr (field 7 of stat) to a device name: major 136–143 are `pts/N`, major 4 `ttyN` /
 * `ttySN` (Documentation/admin-guide/devices.txt). Returns null for 0 (no controlling terminal).
 */
export function ttyName(ttyNr: number): string | null {
  if (!ttyNr) return null;
  const major = (ttyNr >> 8) & 0xfff;
  const minor = (ttyNr & 0xff) | ((ttyNr >> 12) & 0xfff00);
  if (major >= 136 && major <= 143) return `pts/${(major - 136) * 256 + minor}`;
  if (major === 4) return minor < 64 ? `tty${minor}` : `ttyS${minor - 64}`;
  if (major === 5 && minor === 0) return 'tty';
  return `tty(${major}:${minor})`;
}

/**
 * Splits a NUL-separated cmdline; bytes that are not UTF-8 become U+FFFD, never a crash. Trailing NULs
 * are dropped: setproctitle rewrites the argv area to the new title and pads the rest with NULs (a real
 * 306e2d2 gateway with the setproctitle module shows `hermes` and 51 NULs; fixtures/real/306e2d2/spt-module).
 */
export function splitCmdline(buf: Buffer): string[] {
  let end = buf.length;
  while (end > 0 && buf[end - 1] === 0) end--;
  if (end === 0) return [];
  return buf.toString('utf8', 0, end).split('\0');
}

/** Scratch buffer of {@link readProcFile}; grows when a file does not fit. */
let scratch = Buffer.allocUnsafe(16 * 1024);

/**
 * Reads a procfs file whole with open, read and close only: readFileSync also fstat()s (procfs sizes
 * are 0) and allocates per call, which counts when every process's cmdline is read (docs/benchmark.md). The
 * returned bytes are a view of a shared buffer, valid until the next call: decode them at once.
 *
 * @throws the read error (ENOENT/ESRCH when the process left)
 */
export function readProcFile(file: string): Buffer {
  const fd = fs.openSync(file, 'r');
  try {
    let len = 0;
    for (;;) {
      if (len === scratch.length) {
        const bigger = Buffer.allocUnsafe(scratch.length * 2);
        scratch.copy(bigger, 0, 0, len);
        scratch = bigger;
      }
      const n = fs.readSync(fd, scratch, len, scratch.length - len, null);
      if (n === 0) break;
      len += n;
      // procfs answers a read with everything that fits: a short read is the end of the file.
      if (len < scratch.length) break;
    }
    return scratch.subarray(0, len);
  } finally {
    fs.closeSync(fd);
  }
}

export function readCmdline(pid: number, procRoot = '/proc'): ProcRead<string[]> {
  return attempt(() => splitCmdline(readProcFile(`${procRoot}/${pid}/cmdline`)));
}

/** Real UID from the `Uid:` line of /proc/PID/status. */
export function readUid(pid: number, procRoot = '/proc'): ProcRead<number> {
  return attempt(() => {
    const text = fs.readFileSync(`${procRoot}/${pid}/status`, 'latin1');
    const m = /^Uid:\s+(\d+)/m.exec(text);
    if (!m) throw new Error('no Uid line');
    return Number(m[1]);
  });
}

export function readLink(file: string): ProcRead<string> {
  return attempt(() => fs.readlinkSync(file));
}

/** Parses /proc/PID/cgroup (man 7 cgroups): `hierarchy-ID:controller-list:cgroup-path` per line. */
export function parseCgroup(text: string): CgroupLine[] {
  const out: CgroupLine[] = [];
  for (const line of text.split('\n')) {
    if (!line) continue;
    const a = line.indexOf(':');
    const b = line.indexOf(':', a + 1);
    if (a < 0 || b < 0) continue;
    out.push({ hierarchy: Number(line.slice(0, a)), controllers: line.slice(a + 1, b), path: line.slice(b + 1) });
  }
  return out;
}

export function readCgroup(pid: number, procRoot = '/proc'): ProcRead<CgroupLine[]> {
  return attempt(() => parseCgroup(fs.readFileSync(`${procRoot}/${pid}/cgroup`, 'latin1')));
}

export function readEnvironBlock(pid: number, procRoot = '/proc'): ProcRead<Buffer> {
  return attempt(() => fs.readFileSync(`${procRoot}/${pid}/environ`));
}

/** One fd link: number and target. */
export interface FdLink {
  fd: number;
  target: string;
}

/** Lists /proc/PID/fd with every link target. Links that vanish between readdir and readlink are skipped. */
export function readFdLinks(pid: number, procRoot = '/proc'): ProcRead<FdLink[]> {
  const dir = `${procRoot}/${pid}/fd`;
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch (err) {
    return { ok: false, why: errorVisibility(err), error: (err as Error).message };
  }
  const out: FdLink[] = [];
  let denied: unknown = null;
  for (const name of names) {
    try {
      out.push({ fd: Number(name), target: fs.readlinkSync(`${dir}/${name}`) });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EACCES' || code === 'EPERM') denied = err;
    }
  }
  if (out.length === 0 && denied) return { ok: false, why: 'denied', error: (denied as Error).message };
  return { ok: true, value: out };
}

/** Fields of /proc/PID/fdinfo/FD: `flags` (octal open flags) and `ino`. */
export interface FdInfo {
  mode: AccessMode;
  inode: number | null;
}

/** Parses fdinfo text: the O_ACCMODE bits of the octal `flags:` (0 read, 1 write, 2 read-write). */
export function parseFdInfo(text: string): FdInfo {
  const flags = /^flags:\s+([0-7]+)/m.exec(text);
  const ino = /^ino:\s+(\d+)/m.exec(text);
  const acc = flags ? parseInt(flags[1]!, 8) & 3 : 0;
  return { mode: acc === 0 ? 'r' : acc === 1 ? 'w' : 'rw', inode: ino ? Number(ino[1]) : null };
}

export function readFdInfo(pid: number, fd: number, procRoot = '/proc'): ProcRead<FdInfo> {
  return attempt(() => parseFdInfo(fs.readFileSync(`${procRoot}/${pid}/fdinfo/${fd}`, 'latin1')));
}

/** A line of /proc/locks. */
export interface ProcLock {
  kind: LockKind;
  access: string;
  pid: number;
  major: number;
  minor: number;
  inode: number;
}

/**
 * Parses /proc/locks (man 5 proc; format of fs/locks.c `lock_get_status`):
 * `1: FLOCK  ADVISORY  WRITE 1234 fd:01:550038 0 EOF`. The device is `MAJOR:MINOR` in hex, the inode
 * decimal; blocked waiters (`1: -> FLOCK …` lines) are skipped; OFD locks show pid -1. Lines of any
 * other shape are skipped.
 */
export function parseLocks(text: string): ProcLock[] {
  const out: ProcLock[] = [];
  for (const line of text.split('\n')) {
    const m = /^\d+:\s+(FLOCK|POSIX|OFDLCK|LEASE|DELEG)\s+\S+\s+(READ|WRITE|RW|UNLCK|BREAK\S*)\s+(-?\d+)\s+([0-9a-f]+):([0-9a-f]+):(\d+)\s/i.exec(line);
    if (!m) continue;
    out.push({
      kind: m[1]!.toUpperCase() as LockKind,
      access: m[2]!,
      pid: Number(m[3]),
      major: parseInt(m[4]!, 16),
      minor: parseInt(m[5]!, 16),
      inode: Number(m[6]),
    });
  }
  return out;
}

/** Major and minor of a Linux dev_t as Node's fs.Stats gives it (glibc gnu_dev_major/minor). */
export function devMajorMinor(dev: number): { major: number; minor: number } {
  const big = BigInt(dev);
  const major = Number(((big >> 8n) & 0xfffn) | ((big >> 32n) & ~0xfffn));
  const minor = Number((big & 0xffn) | ((big >> 12n) & ~0xffn));
  return { major, minor };
}

/** Boot time in ms since the epoch from the `btime` line of /proc/stat. */
export function readBootTimeMs(procRoot = '/proc'): number | null {
  try {
    const m = /^btime\s+(\d+)/m.exec(fs.readFileSync(`${procRoot}/stat`, 'latin1'));
    return m ? Number(m[1]) * 1000 : null;
  } catch {
    return null;
  }
}
