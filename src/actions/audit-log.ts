/**
 * The `--kill` audit log: one JSON line per action appended to `<root>/logs/hermes-doctor.log`
 * (the Hermes root's own logs folder, `home / "logs"` in hermes_logging.py:setup_logging at v0.15.1 and
 * 306e2d2). The file is opened with O_WRONLY|O_APPEND|O_CREAT|O_NOFOLLOW|O_NONBLOCK and mode 0600, so a symlink planted at its path (or at
 * `logs/`) is refused rather than followed, a FIFO is refused without waiting for a reader, as is any
 * non-regular file and a file with more than one hard link; each line goes
 * out in one write(2) (appends of one write do not interleave). Lines carry masked argv only (src/core/mask.ts): never a secret.
 */
import fs from 'node:fs';
import path from 'node:path';
import { jsonSafe } from '../output/terminal.js';
import { fileTypeWords } from '../sources/safe-read.js';
import type { KillAction } from '../types.js';

/** Name of the audit log inside `<root>/logs/`. */
export const AUDIT_LOG_NAME = 'hermes-doctor.log';

/** One line of the audit log (JSON). */
export interface AuditEntry {
  /** ISO-8601 UTC time of the entry. */
  time: string;
  /** hermes-doctor's own PID. */
  by: number;
  pid: number;
  /** Start stamp of the target from the scan (clock ticks since boot on Linux), or null. */
  startTicks: number | null;
  /** Masked argv. */
  argv: string[];
  verdict: KillAction['verdict'];
  /** The classifier's reasons (masked). */
  reasons: string[];
  signals: KillAction['signals'];
  outcome: KillAction['outcome'];
  reason: string | null;
  restored: string[];
  /** Identity files of the owner that could not be put back, each with the reason (absent in older lines). */
  notRestored?: { file: string; reason: string }[];
  ownerHoldsLock: boolean | null;
}

/** Where actions are recorded; injectable (tests on recorded Windows/macOS fixtures use a memory sink). */
export interface AuditSink {
  /** Throws (with the reason) when `root`'s log cannot be used; called before any signal for that root. */
  check(root: string): void;
  /** Appends one entry; throws when it cannot. */
  append(root: string, entry: AuditEntry): void;
}

/** Path of the audit log of a Hermes root. */
export function auditLogPath(root: string): string {
  return path.join(root, 'logs', AUDIT_LOG_NAME);
}

function openLog(root: string): number {
  const dir = path.join(root, 'logs');
  let st: fs.Stats | null = null;
  try {
    st = fs.lstatSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  if (st?.isSymbolicLink()) throw new Error(`${dir} is a symlink: refusing to write the audit log through it`);
  if (st && !st.isDirectory()) throw new Error(`${dir} is not a directory`);
  if (!st) fs.mkdirSync(dir, { mode: 0o700 });
  const file = path.join(dir, AUDIT_LOG_NAME);
  let fd: number;
  try {
    // O_NONBLOCK: a FIFO planted at the path must not hold the kill step until someone reads it
    // (with no reader open(2) fails with ENXIO; with one, fstat below refuses it).
    fd = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_APPEND | fs.constants.O_CREAT | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK, 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ELOOP') throw new Error(`${file} is a symlink: refusing to write the audit log through it`);
    if ((err as NodeJS.ErrnoException).code === 'ENXIO') throw new Error(`${file} is a FIFO, not a regular file: refusing to write the audit log to it`);
    throw err;
  }
  try {
    const fst = fs.fstatSync(fd);
    if (!fst.isFile()) throw new Error(`${file} is ${fileTypeWords(fst)}, not a regular file: refusing to write the audit log to it`);
    // A hard link planted at the log's path would make root append to another file (say /etc/shadow).
    if (fst.nlink > 1) throw new Error(`${file} has ${fst.nlink} hard links: refusing to append to it`);
    if ((fst.mode & 0o777) !== 0o600) fs.fchmodSync(fd, 0o600);
  } catch (err) {
    fs.closeSync(fd);
    throw err;
  }
  return fd;
}

/** The real audit log on this host's file system. */
export const fileAuditSink: AuditSink = {
  check(root) {
    fs.closeSync(openLog(root));
  },
  append(root, entry) {
    const fd = openLog(root);
    try {
      // jsonSafe: a DEL or C1 character from argv stays escaped when someone `cat`s the log.
      fs.writeSync(fd, jsonSafe(JSON.stringify(entry)) + '\n');
    } finally {
      fs.closeSync(fd);
    }
  },
};

/** An in-memory sink (tests, dry runs): entries by root. */
export function memoryAuditSink(refuse: Record<string, string> = {}): AuditSink & { entries: { root: string; entry: AuditEntry }[] } {
  const entries: { root: string; entry: AuditEntry }[] = [];
  return {
    entries,
    check(root) {
      if (refuse[root]) throw new Error(refuse[root]);
    },
    append(root, entry) {
      if (refuse[root]) throw new Error(refuse[root]);
      entries.push({ root, entry });
    },
  };
}
