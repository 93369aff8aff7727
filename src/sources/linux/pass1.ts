/**
 * Pass 1 of the Linux scan: every process's cmdline and fd links, to find the candidates (Hermes
 * processes, holders of Hermes files). It is the part of a scan whose cost grows with the host (one
 * open/read/close, one readdir and one readlink per fd for every process); everything after it works
 * on the candidates only. It runs on the main thread: a second thread was measured in issue 8 and gave
 * no gain on a 2-core host, loaded or idle (docs/benchmark.md).
 */
import type { ProcessRecord } from '../../types.js';
import { isWebUiArgv, parseHermesArgv, s6SuperviseSlot } from '../../core/argv.js';
import { isFileOfInterest } from '../../core/paths.js';
import { type FdLink, readCmdline, readFdLinks } from './procfs.js';

/** What the kernel appends to the fd link of an unlinked file (proc(5), /proc/PID/fd). */
export const DELETED = ' (deleted)';

/** Every file of interest has one of these in its name (see isFileOfInterest): a cheap first test. */
const INTEREST_HINT = /gateway|kanban\.db|\.dispatcher\.lock/;

/** Whether an fd link points at a file a scan watches (identity, lock and kanban files, also deleted ones). */
function isInterestingLink(l: FdLink): boolean {
  return l.target.startsWith('/') && INTEREST_HINT.test(l.target) && isFileOfInterest(l.target.endsWith(DELETED) ? l.target.slice(0, -DELETED.length) : l.target);
}

/** The fd links that point at files a scan watches (identity, lock and kanban files, also deleted ones). */
export function interestingLinks(links: FdLink[]): FdLink[] {
  return links.filter(isInterestingLink);
}

/**
 * Every argv the parsers below accept has a token containing `hermes` or `gateway` (any case): Hermes
 * entries, the web UI (`hermes-web-ui`), s6 slots (`gateway-*`). Most of a host fails this one test.
 */
const CANDIDATE_HINT = /hermes|gateway/i;

/** True when an argv is a Hermes process, the web UI, or the s6-supervise of a gateway slot. */
export function isCandidateArgv(argv: string[]): boolean {
  if (argv.length === 0) return false;
  if (!argv.some((a) => CANDIDATE_HINT.test(a))) return false;
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
  /** The fd links on files of interest, kept for candidates only (null otherwise, or when not readable). */
  links: FdLink[] | null;
}

/** Reads one PID's cmdline and fd links. */
export function readPass1(pid: number, procRoot: string): Pass1Entry {
  const cmd = readCmdline(pid, procRoot);
  if (!cmd.ok) return { pid, argv: null, fdVis: cmd.why, fdError: null, candidate: false, links: null };
  const argv = cmd.value;
  const fds = readFdLinks(pid, procRoot);
  const links = fds.ok ? fds.value : null;
  const candidate = isCandidateArgv(argv) || (links !== null && links.some(isInterestingLink));
  return {
    pid,
    argv,
    fdVis: fds.ok ? 'ok' : fds.why,
    fdError: fds.ok ? null : fds.error,
    candidate,
    links: candidate && links ? interestingLinks(links) : null,
  };
}
