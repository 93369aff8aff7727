/**
 * Pass 1 of the Linux scan: every process's cmdline and fd links, to find the candidates (Hermes
 * processes, holders of Hermes files). It is the part of a scan whose cost grows with the host (one
 * open/read/close, one readdir and one readlink per fd for every process), so on a host with many
 * processes it runs on two threads (issue 8): this thread and one worker (./pass1-worker.ts) claim
 * chunks of the PID list with compare-and-swap on a shared array, so neither waits for the other and
 * the worker helps only if it boots in time. The result is in PID-list order whichever thread read
 * an entry, so the scan's output does not depend on the split.
 */
import fs from 'node:fs';
import os from 'node:os';
import type { Worker } from 'node:worker_threads';
import type { ProcessRecord } from '../../types.js';
import { isWebUiArgv, parseHermesArgv, s6SuperviseSlot } from '../../core/argv.js';
import { isFileOfInterest } from '../../core/paths.js';
import { type FdLink, readCmdline, readFdLinks } from './procfs.js';

const DELETED = ' (deleted)';

/** Every file of interest has one of these in its name (see isFileOfInterest): a cheap first test. */
const INTEREST_HINT = /gateway|kanban\.db|\.dispatcher\.lock/;

/** The fd links that point at files a scan watches (identity, lock and kanban files, also deleted ones). */
export function interestingLinks(links: FdLink[]): FdLink[] {
  return links.filter(
    (l) =>
      l.target.startsWith('/') &&
      INTEREST_HINT.test(l.target) &&
      isFileOfInterest(l.target.endsWith(DELETED) ? l.target.slice(0, -DELETED.length) : l.target),
  );
}

/**
 * Every argv the parsers below accept has a token containing `hermes` or `gateway` (any case): Hermes
 * entries, the web UI (`hermes-web-ui`), s6 slots (`gateway-*`). Most of a host fails this one test.
 */
const CANDIDATE_HINT = /hermes|gateway/i;

/** True when an argv is a Hermes process, the web UI, or the s6-supervise of a gateway slot. */
export function isCandidateArgv(argv: string[]): boolean {
  if (argv.length === 0) return false;
  if (!CANDIDATE_HINT.test(argv.join('\0'))) return false;
  if (parseHermesArgv(argv)) return true;
  if (isWebUiArgv(argv)) return true;
  const slot = s6SuperviseSlot(argv);
  return slot !== null && slot.startsWith('gateway-');
}

/** What pass 1 learnt about one PID. */
export interface Pass1Entry {
  pid: number;
  /** argv; null when the cmdline could not be read (the process left, or refused). */
  argv: string[] | null;
  /** Visibility of the fd table. */
  fdVis: ProcessRecord['visibility']['fd'];
  /** The read error of the fd table, when not readable. */
  fdError: string | null;
  /** A candidate: a Hermes argv, or an fd on a file of interest. */
  candidate: boolean;
  /** All fd links, kept for candidates only (null otherwise, or when not readable). */
  links: FdLink[] | null;
}

/** Reads one PID's cmdline and fd links. */
export function readPass1(pid: number, procRoot: string): Pass1Entry {
  const cmd = readCmdline(pid, procRoot);
  if (!cmd.ok) return { pid, argv: null, fdVis: cmd.why, fdError: null, candidate: false, links: null };
  const argv = cmd.value;
  const fds = readFdLinks(pid, procRoot);
  const links = fds.ok ? fds.value : null;
  const candidate = isCandidateArgv(argv) || (links !== null && interestingLinks(links).length > 0);
  return {
    pid,
    argv,
    fdVis: fds.ok ? 'ok' : fds.why,
    fdError: fds.ok ? null : fds.error,
    candidate,
    links: candidate ? links : null,
  };
}

/** PIDs per chunk claimed by a thread. */
export const PASS1_CHUNK = 64;
/** Below this many PIDs one thread is faster than booting a worker (about 20 ms of CPU). */
export const PASS1_PARALLEL_MIN = 600;

/**
 * True when a second thread can help: at least two CPUs and, over the last minute, less than all
 * but one of them busy (os.loadavg). On a loaded host a worker only adds its boot cost (measured:
 * no gain at load 3.4 on 2 cores), so pass 1 then stays on one thread.
 */
export function spareCore(): boolean {
  const cpus = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  return cpus >= 2 && os.loadavg()[0]! <= cpus - 1;
}

/** How the last {@link runPass1} split its work (for tests and profiling). */
export const lastPass1Split = { chunks: 0, workerChunks: 0, worker: false };

/** Chunk states in the shared array. */
const FREE = 0;
const MAIN = 1;
const WORKER = 2;

const WORKER_FILE = new URL('./pass1-worker.js', import.meta.url);

/**
 * Runs pass 1 over `pids`, on two threads when there are at least `parallelMin` of them, a core is
 * spare ({@link spareCore}) and the compiled worker is present (tests that run the TypeScript
 * sources get the one-thread path). `spare` replaces the load test (tests force the worker).
 * Never rejects: a worker that fails leaves its chunks to this thread.
 *
 * @returns one entry per PID, in the order of `pids`
 */
export async function runPass1(
  pids: number[],
  procRoot: string,
  parallelMin = PASS1_PARALLEL_MIN,
  spare: () => boolean = spareCore,
): Promise<Pass1Entry[]> {
  const chunks = Math.ceil(pids.length / PASS1_CHUNK);
  const readChunk = (c: number): Pass1Entry[] => {
    const out: Pass1Entry[] = [];
    for (let i = c * PASS1_CHUNK; i < Math.min(pids.length, (c + 1) * PASS1_CHUNK); i++) out.push(readPass1(pids[i]!, procRoot));
    return out;
  };
  let worker: Worker | null = null;
  let states: Int32Array | null = null;
  if (pids.length >= parallelMin && chunks > 1 && spare() && fs.existsSync(WORKER_FILE)) {
    try {
      states = new Int32Array(new SharedArrayBuffer(chunks * 4));
      const { Worker } = await import('node:worker_threads'); // loaded only when used
      worker = new Worker(WORKER_FILE, { workerData: { pids, procRoot, states: states.buffer, chunk: PASS1_CHUNK }, stdout: false, stderr: false });
    } catch {
      worker = null;
    }
  }
  lastPass1Split.chunks = chunks;
  lastPass1Split.workerChunks = 0;
  lastPass1Split.worker = worker !== null;
  if (!worker || !states) {
    const all: Pass1Entry[] = [];
    for (let c = 0; c < chunks; c++) all.push(...readChunk(c));
    return all;
  }
  const results: (Pass1Entry[] | undefined)[] = new Array(chunks);
  const received = new Map<number, Pass1Entry[]>();
  let wake: (() => void) | null = null;
  let workerGone = false;
  worker.on('message', (m: { chunk: number; entries: Pass1Entry[] }) => {
    received.set(m.chunk, m.entries);
    wake?.();
  });
  const gone = () => {
    workerGone = true;
    wake?.();
  };
  worker.on('error', gone);
  worker.on('exit', gone);
  for (let c = 0; c < chunks; c++) {
    if (Atomics.compareExchange(states, c, FREE, MAIN) === FREE) results[c] = readChunk(c);
  }
  // Every chunk is claimed now; wait for the worker's, or read them here if it failed.
  const theirs = [];
  for (let c = 0; c < chunks; c++) if (Atomics.load(states, c) === WORKER) theirs.push(c);
  while (theirs.some((c) => !received.has(c)) && !workerGone) {
    await new Promise<void>((resolve) => (wake = resolve));
    wake = null;
  }
  for (const c of theirs) results[c] = received.get(c) ?? readChunk(c);
  lastPass1Split.workerChunks = theirs.length;
  void worker.terminate().catch(() => {});
  return results.flatMap((r) => r ?? []);
}
