/**
 * The facets of a host that the one scan (src/sources/scan.ts) reads, each a small interface with a
 * Linux, a macOS and a Windows implementation behind it (sources/linux, sources/darwin, sources/win32),
 * the way psutil keeps one facade over `_pslinux`, `_psosx` and `_pswindows`. Every implementation can
 * be handed recorded inputs (a copy of /proc, recorded command outputs, a folder of identity files), so
 * any platform's scan can be replayed on any host.
 */
import type { Handle, HomeRecord, HostSnapshot, LockRecord, ProcessRecord, ScanNote, SupervisorObservation, Visibility } from '../types.js';
import type { HostFiles } from './hostfiles.js';
import type { PortLookup } from './processlist.js';
import type { ListenerLookup } from './ports.js';

export type { HostFiles } from './hostfiles.js';
export type { PortLookup } from './processlist.js';

/** What a process table listed: every PID whose argv could be read, with that argv. */
export interface TableListing {
  /** PID → argv, for every process whose command line could be read (a kernel thread's is empty). */
  argv: Map<number, string[]>;
  /** Processes in the table, readable or not (HostSnapshot.processCount). */
  count: number;
  /** What could not be seen while listing. */
  notes: ScanNote[];
}

/** The process table: a cheap listing of every process, then a full read of the few that matter. */
export interface ProcessTable {
  /**
   * Lists every process with its argv.
   *
   * @throws Error when no process can be listed at all (nothing can be decided then)
   */
  list(): Promise<TableListing>;
  /**
   * Reads one process in full; `handles` is called while the process is being read (between the reads
   * that prove it is alive), so its open files belong to the same process. Returns null when the
   * process is not in the table or left while it was read: a record is whole or absent, never half.
   *
   * @param argv the argv from the listing, when known (the table reads it otherwise)
   */
  read(pid: number, argv: string[] | undefined, handles: () => Handle[]): ProcessRecord | null;
  /** Parent of a PID, or undefined when it is not in the table (the scanner's own chain). */
  ppidOf(pid: number): number | undefined;
  /** Boot time, ms since the epoch, when the platform's start stamps count from it (Linux); else null. */
  bootTimeMs: number | null;
  /** Why another process's environment may be unreadable here, added to the `environ` notes. */
  environHint?: string;
  /**
   * Where the platform shows neither environments nor open files (Windows): records the homes that
   * identity files prove (a gateway.pid whose pid and start stamp match) as platform hints. Called once
   * the homes in sight are read.
   */
  proveHomes?(records: readonly ProcessRecord[], homes: readonly HomeRecord[]): void;
}

/** The fd table of one process as far as a per-process open-files source shows it. */
export interface FdTable {
  visibility: Visibility;
  /** The read error when not visible. */
  error: string | null;
  /** The fds that point at files of interest (target as the kernel shows it); null when not readable. */
  interesting: { fd: number; target: string }[] | null;
}

/** Who has some files open, as a by-file open-files source (lsof) answers. */
export interface FileHolders {
  /** `ok` when the answer is complete enough to say who holds what; `unsupported` when the source failed. */
  visibility: Visibility;
  holders: { pid: number; command: string; handle: Handle }[];
  notes: ScanNote[];
}

/**
 * Open files. A platform offers one of two shapes: per process (Linux: /proc/PID/fd of every process,
 * cheap enough to select candidates by), or by file (macOS: lsof asked about the files of interest of
 * the homes in sight). Windows offers neither (another process's handles are not visible).
 */
export interface OpenFiles {
  /** The fd table of one process (per-process sources). */
  ofProcess?(pid: number): FdTable;
  /** The handles of the interesting fds (access mode, inode), read while the process is read. */
  handles?(pid: number, fds: FdTable): Handle[];
  /** Who has these files open (by-file sources). */
  ofFiles?(files: string[]): Promise<FileHolders>;
}

/** Locks held on files of interest. */
export interface Locks {
  /**
   * The locks on `lockFiles` and on the deleted lock files the records hold open, with notes on what
   * could not be seen. Never throws.
   */
  read(lockFiles: string[], records: readonly ProcessRecord[]): { locks: LockRecord[]; notes: ScanNote[] };
}

/** The host's users as far as the scan needs them. */
export interface UserAccounts {
  /** UID (as text) → home directory; UID → user name. */
  homes: Record<string, string>;
  names: Record<string, string>;
  /** UID of the scanning process; -1 when the platform has none. */
  scannerUid: number;
  /** Hermes roots in sight whatever runs: the scanner's own default root where the platform has one. */
  defaultRoots: string[];
  notes: ScanNote[];
}

/** The supervisors a platform has (systemd and s6; launchd; Scheduled Tasks), observed together. */
export interface Supervisors {
  /** Observes every supervisor kind; `records` are the processes read so far (systemd finds units by their cgroups). Never throws. */
  observe(records: readonly ProcessRecord[], users: UserAccounts): Promise<SupervisorObservation[]>;
}

/** One host, as the one scan sees it. */
export interface HostFacets {
  platform: HostSnapshot['platform'];
  table: ProcessTable;
  openFiles: OpenFiles;
  locks: Locks;
  files: HostFiles;
  users: () => UserAccounts;
  supervisors: Supervisors;
  /** Who listens on a port named in a gateway's environment (macOS: the web UI's gateways). */
  ports?: PortLookup;
  /** Who listens on the ports the homes are configured to serve (Linux: /proc/net/tcp and fd tables; elsewhere {@link ports}). */
  listeners?: ListenerLookup;
  /** The platform's spelling of a path (cleanPath; Windows: lowercase with `/`). */
  normalise: (p: string) => string;
}
