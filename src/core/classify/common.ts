/**
 * What the classifier's steps share: the subjects (processes with a role), the context computed once
 * per classification, and the wording helpers every reason and finding uses. Pure.
 */
import type { HomeRecord, HostSnapshot, ProcessRecord, Role, SupervisorObservation, SupervisorRef, Verdict } from '../../types.js';
import type { Analysis } from '../analysis.js';
import type { Identity } from '../identify.js';
import { maskArgv } from '../mask.js';
import type { RemedyScope } from '../remedy.js';
import { type HomeSupervisor, rulesFor } from '../supervision/index.js';

/**
 * Start-up window of a gateway, ms: a gateway younger than this that holds no lock and no Hermes file
 * yet is `starting`, not judged. A real gateway runs 1–7 s with its final argv before it takes
 * gateway.lock (1.4–1.6 s measured idle, up to 8.8 s under strace; docs/real-hermes.md, timings).
 */
export const STARTUP_WINDOW_MS = 15_000;

/** Filters of a report; classification always uses the whole snapshot. */
export interface ClassifyOptions {
  /** Start-up window, ms (default {@link STARTUP_WINDOW_MS}); 0 judges every gateway at once. */
  startupWindowMs?: number;
  /** Keep only processes of these HERMES_HOMEs (`--home`). */
  homes?: string[];
  /** Keep only processes of these profiles (`--profile`). */
  profiles?: string[];
  /** Keep only processes of these UIDs; null or absent keeps all. */
  uids?: number[] | null;
}

/** A process with a role, before its verdict: what identify() and the supervisor rules found. */
export interface Candidate {
  rec: ProcessRecord;
  id: Identity;
  role: Role;
  sup: SupervisorRef | null;
  /** Reasons known before any verdict: identity conflicts, a record that names a hidden command. */
  reasons: string[];
}

/** A verdict and the reasons for it, decided once. */
export interface Decision {
  verdict: Verdict;
  reasons: string[];
  /** For a ghost left by a web UI or Desktop app that is gone: the reason that says so. */
  abandoned?: string;
}

/** A process with its final verdict. */
export type Subject = Candidate & Decision;

/** Verdicts of a process outside its supervisor: `--kill` targets them, and they make a home's rivals. */
export const TARGET_VERDICTS: ReadonlySet<Verdict> = new Set(['orphan', 'duplicate', 'ghost']);

/** What every step of one classification reads, computed once. */
export interface ClassifyContext {
  snap: HostSnapshot;
  a: Analysis;
  /** Start-up window, ms. */
  startupWindowMs: number;
  /** Remedy flags of the report (../remedy.ts). */
  scope: RemedyScope;
  /** Home records by cleaned path. */
  homeRec: ReadonlyMap<string, HomeRecord>;
  /** Observations whose status is `unknown`. */
  unknownKinds: SupervisorObservation[];
}

/** A command line for reasons and findings (they are output): masked entry by entry, at most 120 characters. */
export function short(argv: string[]): string {
  const s = maskArgv(argv).join(' ');
  return s.length > 120 ? s.slice(0, 117) + '...' : s;
}

/** Where a process was started from: its terminal and session, or its PPID where the platform reports no sessions. */
export function launchedFrom(rec: ProcessRecord): string {
  // sid is -1 where the platform does not report sessions (macOS ps-list, Windows).
  if (rec.sid < 0) return rec.tty ? `started from ${rec.tty}` : `PPID ${rec.ppid}`;
  return `${rec.tty ? `started from ${rec.tty}` : 'no controlling terminal'}, session ${rec.sid}`;
}

/** How a process is outside the supervisors of its home, in the words of each supervisor kind. */
export function describeOutside(rec: ProcessRecord, sups: HomeSupervisor[]): string {
  const bits: string[] = [`PPID ${rec.ppid}${rec.ppid === 1 ? ' (reparented to init)' : ''}`];
  for (const s of sups) bits.push(...rulesFor(s.kind).describeOutside(rec, s));
  return bits.join(', ');
}

/** Age of a process at the snapshot, ms, from `takenAt` and its ISO `startTime`; null when either is unknown. Pure: no clock. */
export function ageAt(takenAt: string, rec: ProcessRecord): number | null {
  if (!rec.startTime) return null;
  const a = Date.parse(takenAt) - Date.parse(rec.startTime);
  return Number.isFinite(a) ? Math.max(0, a) : null;
}

/** Whether an access mode writes. */
export function writes(mode: 'r' | 'w' | 'rw' | null): boolean {
  return mode === 'w' || mode === 'rw';
}
