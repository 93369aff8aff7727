/**
 * The Linux process table over procfs (man 5 proc): the listing reads every process's
 * /proc/PID/cmdline once (one open, read and close each; the part of a scan whose cost grows with the
 * host, kept on the main thread: a second thread gave no gain, docs/benchmark.md); a full read adds
 * stat, status, environ, cgroup, exe and cwd for the few processes that matter.
 */
import type { ProcessRecord } from '../../types.js';
import { CLOCK_TICKS } from '../scan.js';
import type { ProcessTable, TableListing } from '../facets.js';
import { filterEnvironBlock } from '../environ.js';
import { listPids, readBootTimeMs, readCgroup, readCmdline, readEnvironBlock, readLink, readStat, readUid, ttyName } from './procfs.js';
import { UNKNOWN_UID } from '../../util/uid.js';

/** Options of the Linux process table. */
export interface LinuxTableOptions {
  /** procfs mount, default /proc. */
  procRoot?: string;
  /**
   * Called during every full read, after the first look at /proc/PID/stat and before the other files:
   * tests end a process there to prove that a process leaving mid-read is dropped whole.
   */
  duringRead?: (pid: number) => void;
}

/** A zombie (Z) or dead (X, x) process has exited: only its exit status waits for its parent. */
function exited(state: string): boolean {
  return state === 'Z' || state === 'X' || state === 'x';
}

/**
 * The process table of a Linux host. `read` returns null for a process that is not there, has exited
 * (zombie), or left or was replaced while it was read: its stat is read first and last, and the record
 * is kept only when both show the same living process and no read in between found it gone.
 */
export function linuxProcessTable(opts: LinuxTableOptions = {}): ProcessTable {
  const procRoot = opts.procRoot ?? '/proc';
  const table: ProcessTable = {
    bootTimeMs: null,
    async list(): Promise<TableListing> {
      table.bootTimeMs = readBootTimeMs(procRoot);
      const pids = listPids(procRoot);
      const argv = new Map<number, string[]>();
      for (const pid of pids) {
        const cmd = readCmdline(pid, procRoot);
        // Unreadable or left mid-scan (kernel threads read as empty, and are kept).
        if (cmd.ok) argv.set(pid, cmd.value);
      }
      return { argv, count: pids.length, notes: [] };
    },
    read(pid, knownArgv, handles): ProcessRecord | null {
      const stat = readStat(pid, procRoot);
      if (!stat.ok || exited(stat.value.state)) return null;
      opts.duringRead?.(pid);
      let argv = knownArgv;
      if (!argv) {
        const cmd = readCmdline(pid, procRoot);
        argv = cmd.ok ? cmd.value : [];
      }
      const uid = readUid(pid, procRoot);
      const environ = readEnvironBlock(pid, procRoot);
      const cgroup = readCgroup(pid, procRoot);
      const open = handles();
      const exe = readLink(`${procRoot}/${pid}/exe`);
      const cwd = readLink(`${procRoot}/${pid}/cwd`);
      const last = readStat(pid, procRoot);
      if (!last.ok || last.value.startTicks !== stat.value.startTicks || exited(last.value.state)) return null;
      if ([uid, environ, cgroup].some((r) => !r.ok && r.why === 'gone')) return null;
      const s = stat.value;
      const bootTimeMs = table.bootTimeMs;
      return {
        pid,
        ppid: s.ppid,
        uid: uid.ok ? uid.value : UNKNOWN_UID,
        startTicks: s.startTicks,
        startTime: bootTimeMs !== null ? new Date(bootTimeMs + (s.startTicks * 1000) / CLOCK_TICKS).toISOString() : null,
        argv,
        comm: s.comm,
        exe: exe.ok ? exe.value : null,
        cwd: cwd.ok ? cwd.value : null,
        tty: ttyName(s.ttyNr),
        sid: s.sid,
        pgid: s.pgid,
        cgroups: cgroup.ok ? cgroup.value : [],
        env: environ.ok ? filterEnvironBlock(environ.value) : {},
        handles: open,
        visibility: {
          fd: 'unsupported',
          environ: environ.ok ? 'ok' : environ.why,
          cgroup: cgroup.ok ? 'ok' : cgroup.why,
        },
      };
    },
    ppidOf(pid) {
      const st = readStat(pid, procRoot);
      return st.ok ? st.value.ppid : undefined;
    },
  };
  return table;
}
