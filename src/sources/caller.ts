/**
 * The caller as the guard sees it: its own cgroups (/proc/self/cgroup, cgroups(7)) and its
 * parent chain (/proc/PID/stat field 4, /proc/PID/cmdline), nearest first, up to PID 1. Off Linux both
 * are empty: the guard then judges by supervisor PIDs in the ancestry it cannot see, i.e. "outside".
 * Of the environment only the presence of INVOCATION_ID is recorded, never its value.
 */
import { ancestorChain } from '../core/ancestry.js';
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
  const ppidOf = (p: number) => {
    const st = readStat(p, procRoot);
    return st.ok ? st.value.ppid : undefined;
  };
  caller.ancestors = ancestorChain(pid, ppidOf, 129)
    .slice(1)
    .map((p) => {
      const argv = readCmdline(p, procRoot);
      return { pid: p, argv: argv.ok ? argv.value : [] };
    });
  return caller;
}
