/**
 * Atomic file writes: the text goes to a temporary file in the same folder, is flushed with fsync,
 * then renamed over the target (rename(2) is atomic within one file system), so a reader (node_exporter's
 * textfile collector, a person attaching a snapshot, systemd reading a unit) never sees half a file. The
 * temporary name starts with `.` and ends in `.tmp`, so the textfile collector (which reads only `*.prom`)
 * never reads it.
 */
import fs from 'node:fs';
import path from 'node:path';

/**
 * Writes `data` to `file` atomically. The temporary file is created with O_EXCL (never through an
 * existing name or symlink) and renamed over `file` (a symlink at `file` is replaced, not followed).
 *
 * @param file target path; its folder must exist
 * @param data text (UTF-8) or bytes
 * @param mode permission bits of the new file (default 0o644)
 * @param owner when running as root: give the new file this uid/gid (a restored file keeps its owner)
 * @throws Error (with the errno code) when the folder is missing or not writable; the temporary file is removed
 */
export function writeFileAtomic(file: string, data: string | Uint8Array, mode = 0o644, owner?: { uid: number; gid: number }): void {
  const dir = path.dirname(file);
  const tmp = path.join(dir, `.${path.basename(file)}.${process.pid}.${Date.now()}.tmp`);
  let fd: number | null = null;
  try {
    fd = fs.openSync(tmp, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, mode);
    fs.writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data);
    if (owner && process.getuid?.() === 0) fs.fchownSync(fd, owner.uid, owner.gid);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fd = null;
    fs.renameSync(tmp, file);
  } catch (err) {
    if (fd !== null) fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    throw err;
  }
}
