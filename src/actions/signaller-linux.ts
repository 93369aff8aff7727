/**
 * The Linux signaller: identity from procfs (man 5 proc) — start time is field 22 of /proc/PID/stat
 * (clock ticks since boot, the same number the scan records), argv is /proc/PID/cmdline split on NUL
 * exactly as the scan splits it — and signals with kill(2) through process.kill. A zombie (state Z/X)
 * counts as gone: it has exited, only its exit status waits for its parent.
 *
 * Also reads the flock holders of a file from /proc/locks, so the kill action can check that a home's
 * owner still holds its gateway.lock.
 */
import fs from 'node:fs';
import { locksOnFile } from '../core/lock-match.js';
import { devMajorMinor, parseLocks, readCmdline, readStat } from '../sources/linux/procfs.js';
import { type AsyncProcessSignaller, type KillFn, posixSignal } from './signaller.js';

/**
 * A signaller for Linux. `identity` returns null when /proc/PID is gone or a zombie, and rejects when
 * it cannot be read for another reason (then nothing may be signalled). `signal` maps ESRCH → gone,
 * EPERM → eperm.
 *
 * @param procRoot procfs mount (tests: a copy); default /proc
 * @param kill `process.kill`-shaped function (injectable for tests)
 */
export function linuxSignaller(procRoot = '/proc', kill: KillFn = process.kill.bind(process)): AsyncProcessSignaller {
  const self: AsyncProcessSignaller = {
    lastDetail: null,
    async identity(pid) {
      if (!Number.isInteger(pid) || pid <= 0) throw new Error(`invalid PID ${pid}`);
      const st = readStat(pid, procRoot);
      if (!st.ok) {
        if (st.why === 'gone') return null;
        throw new Error(`cannot read the identity of PID ${pid}: ${st.error}`);
      }
      if (st.value.state === 'Z' || st.value.state === 'X' || st.value.state === 'x') return null;
      const cmd = readCmdline(pid, procRoot);
      if (!cmd.ok) {
        if (cmd.why === 'gone') return null;
        throw new Error(`cannot read the identity of PID ${pid}: ${cmd.error}`);
      }
      return { pid, startTicks: st.value.startTicks, argv: cmd.value };
    },
    async signal(pid, how) {
      return posixSignal(self, kill, pid, how);
    },
  };
  return self;
}

/**
 * PIDs holding a FLOCK/POSIX/OFD lock on `file` now, matched in /proc/locks by the scan's own matcher
 * (core/lock-match.ts: device and inode; the inode alone only when all its locks sit on one device, as
 * on overlayfs), so this answer and the next scan agree. Null when the file or /proc/locks cannot be read.
 */
export function linuxLockHolders(file: string, procRoot = '/proc'): number[] | null {
  let st: fs.Stats;
  let text: string;
  try {
    st = fs.statSync(file);
    text = fs.readFileSync(`${procRoot}/locks`, 'latin1');
  } catch {
    return null;
  }
  return [...new Set(locksOnFile(parseLocks(text), { ...devMajorMinor(st.dev), inode: st.ino }).map((l) => l.pid))];
}
