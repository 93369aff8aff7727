/**
 * Which processes a scan reads in full, and which HERMES_HOMEs it reads the identity files of: the
 * rules every platform's scan applies (src/sources/scan.ts), pure. The platform decides only what it
 * can see (environments on Linux, open files on Linux and macOS); the rules are the same.
 *
 * Homes follow Hermes's own resolution (core/identify.ts): `-p NAME` under the root of HERMES_HOME or of
 * `$HOME/.hermes` + HERMES_DATA_DIR_SUFFIX, the sticky `<root>/active_profile` (hermes_cli/main.py at
 * 306e2d2), and the folder of an open gateway.lock, gateway.pid or gateway_state.json.
 */
import path from 'node:path';
import type { HomeRecord, ProcessRecord, SupervisorObservation } from '../types.js';
import { isWebUiArgv, parseHermesArgv, s6SuperviseSlot } from './argv.js';
import { defaultRoot, identify } from './identify.js';
import { FILES, cleanPath, dispatcherLockPath, isFileOfInterest, kanbanDbOfFile, rootOfHome } from './paths.js';
import { isDesktopAppArgv } from './supervision.js';

/**
 * How many generations the ancestor walk climbs above a process of interest, on every platform. Real
 * chains are short (gateway → wrapper → s6-supervise → s6-svscan, or → node → Desktop app); the bound
 * only ends a loop in a recorded table (a PID reused as its own ancestor).
 */
export const ANCESTOR_DEPTH = 64;

/**
 * Every argv the parsers below accept has a token containing `hermes` or `gateway` (any case): Hermes
 * entries, the web UI (`hermes-web-ui`), the Desktop app, s6 slots (`gateway-*`). Most of a host fails
 * this one test, which is the whole cost of candidate selection for them.
 */
const CANDIDATE_HINT = /hermes|gateway/i;

/** True when an argv is a Hermes process, the web UI, the Hermes Desktop app, or the s6-supervise of a gateway slot. */
export function isCandidateArgv(argv: readonly string[]): boolean {
  if (argv.length === 0) return false;
  if (!argv.some((a) => CANDIDATE_HINT.test(a))) return false;
  if (parseHermesArgv(argv)) return true;
  if (isWebUiArgv(argv) || isDesktopAppArgv(argv)) return true;
  const slot = s6SuperviseSlot(argv);
  return slot !== null && slot.startsWith('gateway-');
}

/** Every file of interest has one of these in its name (see isFileOfInterest): a cheap first test. */
const INTEREST_HINT = /gateway|kanban\.db|\.dispatcher\.lock/;

/** True when an absolute path is a file a scan watches (identity, lock and kanban files). */
export function isInterestingPath(file: string): boolean {
  return file.startsWith('/') && INTEREST_HINT.test(file) && isFileOfInterest(file);
}

/** A process is read in full when its argv is a candidate's or it has a file of interest open. */
export function isCandidate(argv: readonly string[], hasFileOfInterest: boolean): boolean {
  return hasFileOfInterest || isCandidateArgv(argv);
}

/**
 * The root whose `active_profile` decides a process's home when it gives no `-p`: the root of its
 * HERMES_HOME, else its default root (`$HOME/.hermes` + HERMES_DATA_DIR_SUFFIX, or the platform's).
 * Null when neither is known.
 */
export function activeProfileRootOf(rec: ProcessRecord, userHomes: Record<string, string>): string | null {
  const envHome = rec.env.HERMES_HOME ? rootOfHome(cleanPath(rec.env.HERMES_HOME)) : null;
  return envHome ?? defaultRoot(rec, userHomes);
}

/** Homes and kanban roots one process brings into sight. */
export interface ProcessSight {
  homes: string[];
  kanbanRoots: string[];
}

/**
 * The homes and kanban roots a process names: the home identify() decides for it (any role but the
 * web UI, whose home is its gateways'), its kanban root, and the folders of the identity and kanban
 * files it has open.
 *
 * @param ctx passwd homes and the active_profile of the roots read so far
 * @param normalise the platform's path spelling (cleanPath; Windows: lowercase, `/`)
 */
export function sightOfProcess(
  rec: ProcessRecord,
  ctx: { userHomes: Record<string, string>; activeProfiles: Record<string, string | null> },
  normalise: (p: string) => string,
): ProcessSight {
  const homes: string[] = [];
  const kanbanRoots: string[] = [];
  const id = identify(rec, ctx);
  if (id.hermesHome && id.role && id.role !== 'web-ui') homes.push(normalise(id.hermesHome));
  if (id.kanbanRoot) kanbanRoots.push(normalise(id.kanbanRoot));
  for (const h of rec.handles) {
    const base = path.posix.basename(h.path);
    if (base === FILES.gatewayLock || base === FILES.gatewayPid || base === FILES.gatewayState) homes.push(path.posix.dirname(h.path));
    const db = kanbanDbOfFile(h.path);
    if (db) kanbanRoots.push(db.root);
  }
  return { homes, kanbanRoots };
}

/** The HERMES_HOMEs supervisors name: systemd units' Environment=, s6 run scripts, launchd jobs, task launchers. */
export function homesOfSupervisors(obs: readonly SupervisorObservation[]): string[] {
  const out: string[] = [];
  for (const o of obs) {
    for (const u of o.systemdUnits ?? []) if (u.hermesHome) out.push(cleanPath(u.hermesHome));
    for (const s of o.s6Slots ?? []) if (s.hermesHome) out.push(cleanPath(s.hermesHome));
    for (const j of o.launchdJobs ?? []) if (j.hermesHome) out.push(cleanPath(j.hermesHome));
    for (const t of o.windowsTasks ?? []) if (t.hermesHome) out.push(t.hermesHome);
  }
  return out;
}

/**
 * The PIDs supervisors say they run (s6 slot PIDs, systemd MainPIDs, launchd job PIDs): they belong in
 * the snapshot even when their argv is not a candidate's (setproctitle can blank it).
 */
export function pidsOfSupervisors(obs: readonly SupervisorObservation[]): number[] {
  const out: number[] = [];
  for (const o of obs) {
    for (const s of o.s6Slots ?? []) if (s.pid > 0) out.push(s.pid);
    for (const u of o.systemdUnits ?? []) if (u.mainPid > 0) out.push(u.mainPid);
    for (const j of o.launchdJobs ?? []) if (j.pid > 0) out.push(j.pid);
  }
  return out;
}

/**
 * The PIDs identity files name (gateway.pid, gateway_state.json), PID 1 included: they belong in the
 * snapshot so that "not running" is said only of a PID that is not running.
 */
export function pidsOfIdentityFiles(homes: readonly HomeRecord[]): number[] {
  const out: number[] = [];
  for (const h of homes) for (const f of [h.pidFile, h.stateFile]) if (f.pid !== null && f.pid > 0) out.push(f.pid);
  return out;
}

/** The lock files whose holders a scan looks up: every home's gateway.lock, every kanban root's dispatcher and dispatch locks. */
export function lockFilesOf(homes: Iterable<string>, kanbanRoots: Iterable<string>): string[] {
  const out = new Set<string>();
  for (const h of homes) out.add(path.posix.join(h, FILES.gatewayLock));
  for (const r of kanbanRoots) {
    out.add(dispatcherLockPath(r));
    out.add(path.posix.join(r, `${FILES.kanbanDb}.dispatch.lock`));
  }
  return [...out];
}

/** Every file of interest of the homes and kanban roots in sight (what a by-file open-files source such as lsof is asked about). */
export function filesOfInterest(homes: Iterable<string>, roots: Iterable<string>): string[] {
  const out = new Set<string>();
  for (const h of homes) {
    out.add(path.posix.join(h, FILES.gatewayLock));
    out.add(path.posix.join(h, FILES.gatewayPid));
  }
  for (const r of roots) {
    for (const suffix of ['', '-wal', '-shm', '.dispatch.lock']) out.add(path.posix.join(r, FILES.kanbanDb + suffix));
    out.add(dispatcherLockPath(r));
  }
  return [...out].filter(isFileOfInterest);
}
