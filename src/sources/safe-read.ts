/**
 * The one way hermes-doctor reads a file that a local user can shape (identity files, active_profile,
 * s6 run scripts, snapshot files). Host input is hostile: a FIFO at `gateway.pid` would block a plain
 * read forever, a symlink would redirect it, a huge file would exhaust memory. So every read:
 *
 * - opens with O_RDONLY|O_NONBLOCK|O_NOFOLLOW (open(2)): opening a FIFO never waits for a writer, and a
 *   symlink as the last path component fails with ELOOP instead of being followed (libuv adds
 *   O_CLOEXEC to every open);
 * - fstat(2)s the open fd, not the path, so what is judged is what was opened (no stat/open race);
 * - refuses anything but a regular file, with the file type in words;
 * - reads at most `maxBytes` (a larger file is refused, not truncated).
 *
 * Never throws and never blocks: a refusal is a value with its reason.
 */
import fs from 'node:fs';

/** Why a file was not read. `missing`: ENOENT/ENOTDIR; `not-regular`: a FIFO, symlink, socket, device or directory; `too-large`; `denied`: EACCES/EPERM; `error`: anything else. */
export type SafeReadRefusal = 'missing' | 'not-regular' | 'too-large' | 'denied' | 'error';

/** Outcome of {@link safeReadFile}. */
export type SafeRead =
  | { ok: true; bytes: Buffer; stat: fs.Stats }
  | { ok: false; refusal: SafeReadRefusal; reason: string };

/** Default cap of {@link safeReadFile}, bytes. */
export const DEFAULT_MAX_READ_BYTES = 1024 * 1024;

/** The type of a non-regular file in words (`a FIFO`, `a directory`, …), from its fstat/lstat mode. */
export function fileTypeWords(st: fs.Stats): string {
  if (st.isFIFO()) return 'a FIFO';
  if (st.isSymbolicLink()) return 'a symlink';
  if (st.isDirectory()) return 'a directory';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  return st.isFile() ? 'a regular file' : 'not a regular file';
}

/** The open(2) flags of a read that can neither block nor follow a final symlink. */
export const SAFE_READ_FLAGS = fs.constants.O_RDONLY | fs.constants.O_NONBLOCK | fs.constants.O_NOFOLLOW;

/**
 * Reads a host file whole, safely (see the module header).
 *
 * @param file path; only its last component is protected against symlinks (folders above may be links, as `~/.hermes` often is)
 * @param maxBytes largest size accepted, bytes
 * @param follow follow a symlink at the last component (only for paths the operator typed, such as `--from FILE`)
 * @returns the bytes and the fstat of the opened fd, or the refusal with a reason such as `is a FIFO, not a regular file`
 */
export function safeReadFile(file: string, maxBytes = DEFAULT_MAX_READ_BYTES, follow = false): SafeRead {
  return boundedRead(file, maxBytes, follow, false);
}

/**
 * The first `maxBytes` bytes of a regular file, safely (see the module header), for files read only
 * to look for a mark (a Hermes source file): unlike {@link safeReadFile} a larger file is not refused,
 * its head is returned.
 *
 * @param file path
 * @param maxBytes how many bytes at most, bytes
 * @param follow follow a symlink at the last component
 * @returns the bytes (fewer when the file is shorter), or null when the file is missing, unreadable or
 *   not a regular file (a FIFO is never waited on)
 */
export function safeReadHead(file: string, maxBytes: number, follow = false): Buffer | null {
  const r = boundedRead(file, maxBytes, follow, true);
  return r.ok ? r.bytes : null;
}

/**
 * The bounded read behind both readers: open non-blocking (and not following a final symlink unless
 * asked), fstat the fd, refuse anything but a regular file, then read at most `maxBytes` (whole mode:
 * one byte more, to tell a file that grew past the cap; head mode: exactly the cap, the rest ignored).
 */
function boundedRead(file: string, maxBytes: number, follow: boolean, head: boolean): SafeRead {
  return withRegularFile<SafeRead & { ok: true }>(file, follow, (fd, st) => {
    if (!head && st.size > maxBytes) return { ok: false, refusal: 'too-large', reason: `${st.size} bytes, larger than the ${maxBytes} accepted` };
    // Whole mode reads up to maxBytes + 1 whatever fstat said: the file may grow between fstat and read.
    const cap = head ? maxBytes : maxBytes + 1;
    const buf = Buffer.allocUnsafe(Math.min(cap, Math.max(st.size + 1, 4096)));
    let len = 0;
    for (;;) {
      if (len === buf.length) break;
      const n = fs.readSync(fd, buf, len, buf.length - len, null);
      if (n === 0) break;
      len += n;
    }
    if (!head && len > maxBytes) return { ok: false, refusal: 'too-large', reason: `more than the ${maxBytes} bytes accepted` };
    return { ok: true, bytes: buf.subarray(0, len), stat: st };
  });
}

/**
 * The steps every reader shares: open non-blocking (not following a final symlink unless asked),
 * fstat(2) the fd, refuse anything but a regular file, run `read` on the fd, close it; an error is a
 * refusal with its reason, never a throw.
 */
function withRegularFile<T extends { ok: true }>(file: string, follow: boolean, read: (fd: number, st: fs.Stats) => T | (SafeRead & { ok: false })): T | (SafeRead & { ok: false }) {
  let fd: number;
  try {
    fd = fs.openSync(file, follow ? SAFE_READ_FLAGS & ~fs.constants.O_NOFOLLOW : SAFE_READ_FLAGS);
  } catch (err) {
    return refusalOf(file, err);
  }
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) return { ok: false, refusal: 'not-regular', reason: `is ${fileTypeWords(st)}, not a regular file` };
    return read(fd, st);
  } catch (err) {
    return refusalOf(file, err);
  } finally {
    fs.closeSync(fd);
  }
}

function refusalOf(file: string, err: unknown): SafeRead & { ok: false } {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'ENOTDIR') return { ok: false, refusal: 'missing', reason: 'no such file' };
  if (code === 'ELOOP') {
    // O_NOFOLLOW on a symlink: say so rather than "too many levels of symbolic links".
    let words = 'a symlink';
    try {
      words = fileTypeWords(fs.lstatSync(file));
    } catch {
      /* keep "a symlink" */
    }
    return { ok: false, refusal: 'not-regular', reason: `is ${words}, not a regular file (not followed)` };
  }
  if (code === 'EACCES' || code === 'EPERM') return { ok: false, refusal: 'denied', reason: `permission denied (${code})` };
  if (code === 'EAGAIN' || code === 'EWOULDBLOCK') return { ok: false, refusal: 'not-regular', reason: 'would block (not a regular file)' };
  return { ok: false, refusal: 'error', reason: (err as Error).message };
}

/** Outcome of {@link safeReadTail}: the last bytes and where they start in the file. */
export type SafeTail =
  | { ok: true; bytes: Buffer; stat: fs.Stats; /** Offset of `bytes[0]` in the file, bytes (0: the whole file was read). */ start: number }
  | { ok: false; refusal: SafeReadRefusal; reason: string };

/**
 * The last `maxBytes` bytes of a regular file, safely (see the module header), for logs that may be
 * huge: it fstat(2)s the open fd and reads (pread(2)) from `size - maxBytes` only, never more than
 * `maxBytes` whatever the file grows to meanwhile. A FIFO or a symlink is refused, never waited on.
 *
 * @param file path
 * @param maxBytes how many bytes from the end at most, bytes
 * @returns the bytes (`bytes.length <= maxBytes`) and their start offset, or the refusal with its reason
 */
export function safeReadTail(file: string, maxBytes: number, follow = false): SafeTail {
  return withRegularFile<SafeTail & { ok: true }>(file, follow, (fd, st) => {
    const cap = Math.max(0, Math.floor(maxBytes));
    const start = Math.max(0, st.size - cap);
    const buf = Buffer.allocUnsafe(Math.min(cap, st.size));
    let len = 0;
    while (len < buf.length) {
      const n = fs.readSync(fd, buf, len, buf.length - len, start + len);
      if (n === 0) break; // truncated meanwhile (a rotated log)
      len += n;
    }
    return { ok: true, bytes: buf.subarray(0, len), stat: st, start };
  });
}

/** {@link safeReadFile} decoded as UTF-8. */
export function safeReadText(file: string, maxBytes = DEFAULT_MAX_READ_BYTES, follow = false): { ok: true; text: string; stat: fs.Stats } | (SafeRead & { ok: false }) {
  const r = safeReadFile(file, maxBytes, follow);
  return r.ok ? { ok: true, text: r.bytes.toString('utf8'), stat: r.stat } : r;
}
