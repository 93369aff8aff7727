/**
 * The portable process table (macOS, Windows): ps-list by default, injectable so that recorded tables
 * can be replayed on Linux. ps-list runs `ps awwxo …` on macOS and the bundled fastlist on Windows
 * (pid, ppid, name only there).
 */
import psList from 'ps-list';
import type { HostFiles } from './hostfiles.js';
import type { CommandRunner } from './runner.js';

/** One row of the process table; the shape ps-list returns. `startTime` is a Date (seconds resolution on macOS). */
export interface ProcessRow {
  pid: number;
  ppid: number;
  name: string;
  cmd?: string;
  uid?: number;
  path?: string;
  startTime?: Date;
}

/** Lists every process. May reject (a missing `ps`, a failing fastlist). */
export type ProcessLister = () => Promise<ProcessRow[]>;

/** ps-list over every user's processes. */
export const psListLister: ProcessLister = async () => (await psList({ all: true })) as ProcessRow[];

/** Who listens on a port: find-process `port` lookup. Never rejects: a failure is an empty answer. */
export type PortLookup = (port: number) => Promise<{ pid: number; name: string }[]>;

/** find-process by port (lsof/netstat underneath). */
export const findProcessPortLookup: PortLookup = async (port) => {
  try {
    const mod = (await import('find-process')) as unknown as { default: unknown };
    let fn = mod.default as unknown;
    if (typeof fn !== 'function' && fn && typeof (fn as { default?: unknown }).default === 'function') fn = (fn as { default: unknown }).default;
    const list = (await (fn as (t: string, v: number) => Promise<{ pid: number; name: string }[]>)('port', port)) ?? [];
    return list.map((x) => ({ pid: Number(x.pid), name: String(x.name ?? '') }));
  } catch {
    return [];
  }
};

/**
 * Options shared by the scanners that observe a host through commands and the portable process table
 * (macOS, Windows), so that recorded outputs can replace every part on Linux.
 */
export interface CommandHostScanOptions {
  /** Command runner for the host's commands (ps, lsof, launchctl; PowerShell, schtasks). */
  runner?: CommandRunner;
  /** Timeout of each external command, ms (default DEFAULT_COMMAND_TIMEOUT_MS of src/sources/runner.ts). */
  timeoutMs?: number;
  /** Homes to inspect even when no process names them (`--home`). */
  extraHomes?: string[];
  /** PID of the scanner (default process.pid). */
  selfPid?: number;
  /** Process table (default ps-list). */
  listProcesses?: ProcessLister;
  /** File access (default the real file system). */
  files?: HostFiles;
  /** Host name in the snapshot (default os.hostname()). */
  hostname?: string;
}
