/**
 * The caller as the guard sees it (issue 4): its own cgroups (/proc/self/cgroup, cgroups(7)) and its
 * parent chain (/proc/PID/stat field 4, /proc/PID/cmdline), nearest first, up to PID 1. Off Linux both
 * are empty: the guard then judges by supervisor PIDs in the ancestry it cannot see, i.e. "outside".
 * Of the environment only the presence of INVOCATION_ID is recorded, never its value.
 */
import type { GuardCaller } from '../core/guard.js';
import { readCgroup, readCmdline, readStat } from './linux/procfs.js';

/**
 * Reads the caller (default: this process).
 *
 * @param pid the process whose cgroups and ancestry to read
 * @param procRoot procfs mount (default /proc)
 */
export function readCaller(pid = process.pid, procRoot = '/proc', env: NodeJS.ProcessEnv = process.env): GuardCaller {
  const caller: GuardCaller = { pid, cgroups: [], ancestors: [], invocationId: env.INVOCATION_ID !== undefined };
  if (process.platform !== 'linux' && procRoot === '/proc') return caller;
  const cg = readCgroup(pid, procRoot);
  if (cg.ok) caller.cgroups = cg.value;
  const self = readStat(pid, procRoot);
  let cur = self.ok ? self.value.ppid : 0;
  for (let depth = 0; depth < 128 && cur > 0; depth++) {
    const argv = readCmdline(cur, procRoot);
    caller.ancestors.push({ pid: cur, argv: argv.ok ? argv.value : [] });
    const st = readStat(cur, procRoot);
    if (!st.ok) break;
    cur = st.value.ppid;
  }
  return caller;
}
