/**
 * The `--kill` action: carries out a {@link KillPlan} on this host.
 *
 * Per target, in order:
 * 1. the audit log of its root must be usable (else refused: no action without a trail);
 * 2. copy its home's gateway.pid and gateway_state.json (bytes and mode);
 * 3. re-check identity (same PID, start stamp and argv as the scan) → mismatch: `skipped`, nothing sent;
 * 4. SIGTERM (taskkill /PID); poll its identity until it is gone or the grace (ms) runs out;
 * 5. re-check identity, SIGKILL (taskkill /PID /F), poll again up to `killWaitMs`;
 *    on Windows a polite taskkill refused with "can only be terminated forcefully" goes straight to 5;
 * 6. after it exited: while the home's owner (supervised or flock-owning gateway) is alive with the
 *    same start stamp, put back its gateway.pid / gateway_state.json when the target rewrote or removed
 *    them (atomic temp + rename, never through a symlink), and check the owner still holds the flock
 *    on gateway.lock (never replaced or unlinked: the flock lives on that inode);
 * 7. append one JSON line to `<root>/logs/hermes-doctor.log`.
 *
 * The platform parts are injected: an {@link AsyncProcessSignaller} (Linux procfs + kill(2), macOS ps,
 * Windows CIM + taskkill), a lock reader, the state-file store and the audit sink.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { KillOwner, KillPlan, KillRefusal, KillTarget } from '../core/kill-plan.js';
import { maskArgv, maskShapes } from '../core/mask.js';
import { FILES } from '../core/paths.js';
import { parseIdentityFile } from '../sources/homes.js';
import { safeReadFile } from '../sources/safe-read.js';
import type { KillAction, KillOutcome } from '../types.js';
import { writeFileAtomic } from '../util/write-file-atomic.js';
import { type AuditEntry, type AuditSink, fileAuditSink } from './audit-log.js';
import { DEFAULT_GRACE_MS, DEFAULT_KILL_WAIT_MS } from './kill-timing.js';
import type { AsyncProcessSignaller } from './signaller.js';
import { linuxLockHolders, linuxSignaller } from './signaller-linux.js';
import { darwinSignaller } from './signaller-darwin.js';
import { windowsSignaller } from './signaller-win32.js';

export { DEFAULT_GRACE_MS, DEFAULT_KILL_WAIT_MS };

/** A saved identity file: its bytes, permission bits and owner (restored by root as the same owner). */
export interface SavedFile {
  bytes: Buffer;
  mode: number;
  uid?: number;
  gid?: number;
}

/** Reads and restores identity files; injectable for tests. */
export interface StateFiles {
  /** The file's bytes and mode, or null when missing, a symlink or unreadable. */
  read(file: string): SavedFile | null;
  /**
   * Writes `saved` to `file` atomically: a new temp file in the same folder (O_EXCL|O_NOFOLLOW, the saved
   * mode and, as root, owner), fsync, rename over `file` (rename replaces a directory entry, it never
   * writes through a link). Throws when `file` is a symlink, or on any I/O error (the temp file is removed).
   */
  restore(file: string, saved: SavedFile): void;
  /**
   * Why `read` gave null for a file that is there (`is a symlink`, `is a FIFO`…), or null when the file is
   * missing or was read. Optional: a store without it reports no refusals.
   */
  refusal?(file: string): string | null;
}

/** What lstat(2) says a path is, in words, for a path that is not a regular file. */
function fileKind(st: fs.Stats): string {
  if (st.isSymbolicLink()) return 'a symlink';
  if (st.isFIFO()) return 'a FIFO';
  if (st.isDirectory()) return 'a directory';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  return 'not a regular file';
}

/** The real file system: symlinks are neither read nor written through, FIFOs and devices are not read. */
export const fsStateFiles: StateFiles = {
  read(file) {
    // The safe reader: a symlink is not followed and a FIFO planted here cannot block the kill step.
    const r = safeReadFile(file, 1024 * 1024);
    return r.ok ? { bytes: Buffer.from(r.bytes), mode: r.stat.mode & 0o777, uid: r.stat.uid, gid: r.stat.gid } : null;
  },
  restore(file, saved) {
    try {
      if (fs.lstatSync(file).isSymbolicLink()) throw new Error(`${file} is a symlink: not restored through it`);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    // root restores a user's file as that user's, so the gateway can still replace and remove it
    writeFileAtomic(file, saved.bytes, saved.mode || 0o644, saved.uid !== undefined && saved.gid !== undefined ? { uid: saved.uid, gid: saved.gid } : undefined);
  },
  refusal(file) {
    try {
      const st = fs.lstatSync(file);
      return st.isFile() ? null : `is ${fileKind(st)}: neither read nor written through`;
    } catch {
      return null;
    }
  },
};

/** A progress event for the live display: one per phase change and one per poll while waiting. */
export interface KillProgress {
  pid: number;
  phase: 'term' | 'wait' | 'kill' | 'done';
  /** While waiting: ms left before SIGKILL (after `term`) or before giving up (after `kill`). */
  remainingMs?: number;
  outcome?: KillOutcome;
}

/** What executeKillPlan needs from the platform and the caller. */
export interface KillOptions {
  signaller: AsyncProcessSignaller;
  /** Wait after SIGTERM before SIGKILL, ms (default {@link DEFAULT_GRACE_MS}). */
  graceMs?: number;
  /** Wait after SIGKILL, ms (default {@link DEFAULT_KILL_WAIT_MS}). */
  killWaitMs?: number;
  /** Identity poll interval while waiting, ms (default 100). */
  pollMs?: number;
  /** Audit sink; default the real `<root>/logs/hermes-doctor.log`; null records nothing. */
  audit?: AuditSink | null;
  /** PIDs holding a lock on a file now, or null when unknown (default: /proc/locks on Linux, else unknown). */
  lockHolders?: (file: string) => number[] | null;
  /** Identity-file store (default the real file system). */
  files?: StateFiles;
  onProgress?: (p: KillProgress) => void;
  /**
   * Aborted (Ctrl-C): no new target is started (`refused`, "interrupted") and a target waiting for its
   * grace gets no SIGKILL (`failed`, still alive); audit lines are still written.
   */
  abort?: AbortSignal;
  /** Injectable clock and sleep (ms). */
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * The signaller, lock reader and poll interval (ms) of a platform (`process.platform` by default), picked
 * like the scanner picks its source.
 *
 * @throws Error for a platform hermes-doctor cannot signal on
 */
export function platformKillDeps(platform: NodeJS.Platform = process.platform): Pick<KillOptions, 'signaller' | 'lockHolders' | 'pollMs'> {
  if (platform === 'linux') return { signaller: linuxSignaller(), lockHolders: (f) => linuxLockHolders(f), pollMs: 100 };
  if (platform === 'darwin') return { signaller: darwinSignaller(), lockHolders: () => null, pollMs: 250 };
  if (platform === 'win32') return { signaller: windowsSignaller(), lockHolders: () => null, pollMs: 1000 };
  throw new Error(`hermes-doctor cannot signal processes on ${platform}`);
}

/**
 * An identity re-check: `changed` with `alive` true when the PID still runs with the scanned start stamp
 * (the same process, but its argv changed); false when the PID now belongs to another process.
 */
type Check = { state: 'same' } | { state: 'gone' } | { state: 'changed'; why: string; alive: boolean };

function sameArgv(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/**
 * pid of an identity-file record (JSON `{"pid": …}` or a legacy bare integer), or null; read with the
 * scanner's own parser of gateway.pid (src/sources/homes.ts), so the kill step and the scan agree.
 */
export function recordPid(bytes: Buffer | null | undefined): number | null {
  return bytes ? parseIdentityFile('', bytes.toString('utf8'), 'pid').pid : null;
}

function baseAction(t: KillTarget | KillRefusal, outcome: KillOutcome, reason: string | null): KillAction {
  const isTarget = !('reason' in t);
  return {
    pid: t.pid,
    startTicks: t.startTicks,
    argv: isTarget ? maskArgv(t.argv) : t.argv,
    verdict: t.verdict,
    role: t.role,
    hermesHome: t.hermesHome,
    outcome,
    signals: [],
    reason,
    restored: [],
    notRestored: [],
    ownerHoldsLock: null,
    ms: 0,
  };
}

/** The actions of a dry run: every target `planned`, every refusal `refused`. Sends nothing. */
export function plannedActions(plan: KillPlan): KillAction[] {
  return [
    ...plan.targets.map((t) => baseAction(t, 'planned', `would send SIGTERM, then SIGKILL after the grace${t.owner ? `; owner PID ${t.owner.pid} (${t.owner.verdict}) keeps its files and lock` : ''}`)),
    ...plan.refusals.map((r) => baseAction(r, 'refused', r.reason)),
  ].sort((a, b) => a.pid - b.pid);
}

function auditEntry(a: KillAction, reasons: string[]): AuditEntry {
  return {
    time: new Date().toISOString(),
    by: process.pid,
    pid: a.pid,
    startTicks: a.startTicks,
    argv: maskArgv(a.argv),
    verdict: a.verdict,
    reasons: reasons.map(maskShapes),
    signals: a.signals,
    outcome: a.outcome,
    reason: a.reason === null ? null : maskShapes(a.reason),
    restored: a.restored,
    notRestored: a.notRestored.map((n) => ({ file: n.file, reason: maskShapes(n.reason) })),
    ownerHoldsLock: a.ownerHoldsLock,
  };
}

/**
 * Carries out a plan: every target is signalled as described in this module's header, every refusal
 * becomes a `refused` action. Targets are handled one after another (a second orphan of the same home
 * must see the first one's restored files).
 *
 * @returns one action per target and refusal, in PID order; never throws for one target's failure
 */
export async function executeKillPlan(plan: KillPlan, opts: KillOptions): Promise<KillAction[]> {
  const sig = opts.signaller;
  const graceMs = opts.graceMs ?? DEFAULT_GRACE_MS;
  const killWaitMs = opts.killWaitMs ?? DEFAULT_KILL_WAIT_MS;
  const pollMs = opts.pollMs ?? 100;
  const audit = opts.audit === undefined ? fileAuditSink : opts.audit;
  const files = opts.files ?? fsStateFiles;
  const lockHolders = opts.lockHolders ?? (() => null);
  const now = opts.now ?? (() => Date.now());
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const progress = opts.onProgress ?? (() => {});

  const check = async (pid: number, startTicks: number, argv: readonly string[] | null): Promise<Check> => {
    const id = await sig.identity(pid);
    if (!id) return { state: 'gone' };
    if (id.startTicks !== startTicks) return { state: 'changed', why: `PID reused: PID ${pid} now started at ${id.startTicks}, the scan saw ${startTicks}`, alive: false };
    if (argv && !sameArgv(id.argv, argv)) return { state: 'changed', why: `PID ${pid} no longer runs the scanned command (argv changed)`, alive: true };
    return { state: 'same' };
  };
  /** Polls until the target is gone (or its PID changed hands); true when it left within `ms`. */
  const waitGone = async (t: KillTarget, ms: number): Promise<boolean> => {
    const deadline = now() + ms;
    for (;;) {
      const c = await check(t.pid, t.startTicks, null);
      if (c.state !== 'same') return true;
      const left = deadline - now();
      if (left <= 0 || opts.abort?.aborted) return false;
      progress({ pid: t.pid, phase: 'wait', remainingMs: left });
      await sleep(Math.min(pollMs, left));
    }
  };

  const actions: KillAction[] = [];
  const record = (a: KillAction, root: string | null, reasons: string[]) => {
    actions.push(a);
    if (!audit || !root) return;
    try {
      audit.append(root, auditEntry(a, reasons));
    } catch (err) {
      a.reason = `${a.reason ? `${a.reason}; ` : ''}audit log not written: ${(err as Error).message}`;
    }
  };

  for (const r of plan.refusals) {
    const a = baseAction(r, 'refused', r.reason);
    let root = r.auditRoot;
    if (root && audit) {
      try {
        audit.check(root);
      } catch {
        root = null; // a refusal is still reported; its unusable log is reported with the targets
      }
    }
    record(a, root, r.reasons);
  }

  for (const t of plan.targets) {
    const a = baseAction(t, 'failed', null);
    if (opts.abort?.aborted) {
      a.outcome = 'refused';
      a.reason = 'interrupted before it was signalled';
      record(a, t.auditRoot, t.reasons);
      continue;
    }
    if (audit) {
      if (!t.auditRoot) {
        a.outcome = 'refused';
        a.reason = 'no Hermes root is known for it, so the action could not be audited: not signalled';
        record(a, null, t.reasons);
        continue;
      }
      try {
        audit.check(t.auditRoot);
      } catch (err) {
        a.outcome = 'refused';
        a.reason = `audit log unusable (${(err as Error).message}): not signalled`;
        record(a, null, t.reasons);
        continue;
      }
    }
    const pidFile = t.hermesHome ? path.join(t.hermesHome, FILES.gatewayPid) : null;
    const stateFile = t.hermesHome ? path.join(t.hermesHome, FILES.gatewayState) : null;
    const saved = new Map<string, SavedFile | null>();
    // A file that could not be saved (a symlink, a FIFO) cannot be put back: say so if the owner needs it.
    const unsaved = new Map<string, string>();
    for (const f of [pidFile, stateFile]) {
      if (!f) continue;
      const bytes = files.read(f);
      saved.set(f, bytes);
      const why = bytes ? null : files.refusal?.(f) ?? null;
      if (why) unsaved.set(f, why);
    }

    const started = now();
    let outcome: KillOutcome;
    let reason: string | null = null;
    try {
      ({ outcome, reason } = await signalTarget(t, a));
    } catch (err) {
      outcome = a.signals.length === 0 ? 'skipped' : 'failed';
      reason = `${a.signals.length === 0 ? 'nothing sent' : `${a.signals.join(', ')} sent, no further signal`}: ${(err as Error).message}`;
    }
    a.outcome = outcome;
    a.reason = reason;
    a.ms = a.signals.length > 0 ? Math.round(now() - started) : 0;
    if ((outcome === 'terminated' || outcome === 'killed') && t.owner && t.hermesHome) {
      await keepOwnerState(t, t.owner, a, saved, unsaved);
    }
    progress({ pid: t.pid, phase: 'done', outcome: a.outcome });
    record(a, t.auditRoot, t.reasons);
  }
  return actions.sort((x, y) => x.pid - y.pid);

  async function signalTarget(t: KillTarget, a: KillAction): Promise<{ outcome: KillOutcome; reason: string | null }> {
    const c0 = await check(t.pid, t.startTicks, t.argv);
    if (c0.state === 'gone') return { outcome: 'already-gone', reason: 'it had exited before any signal' };
    if (c0.state === 'changed') return { outcome: 'skipped', reason: `${c0.why}: not signalled` };
    progress({ pid: t.pid, phase: 'term' });
    const r1 = await sig.signal(t.pid, 'term');
    if (r1 === 'gone') return { outcome: 'already-gone', reason: 'it exited just before SIGTERM' };
    let politeRefused = false;
    let politeDetail = '';
    if (r1 === 'eperm') {
      if (/forcefully/i.test(sig.lastDetail ?? '')) {
        politeRefused = true;
        politeDetail = (sig.lastDetail ?? '').trim().split('\n')[0] ?? '';
      }
      else return { outcome: 'failed', reason: `EPERM: not permitted to signal PID ${t.pid}${sig.lastDetail ? ` (${sig.lastDetail})` : ''}` };
    } else {
      a.signals.push('SIGTERM');
      if (await waitGone(t, graceMs)) return { outcome: 'terminated', reason: null };
    }
    if (opts.abort?.aborted) return { outcome: 'failed', reason: 'interrupted: SIGKILL not sent, it is still running' };
    // SIGKILL, after re-checking that the PID is still the scanned process.
    const c1 = await check(t.pid, t.startTicks, t.argv);
    const exited: KillOutcome = a.signals.length > 0 ? 'terminated' : 'already-gone';
    if (c1.state === 'gone') return { outcome: exited, reason: null };
    if (c1.state === 'changed' && c1.alive) {
      // Same PID and start stamp, other argv: the target still runs but is no longer provably what was
      // scanned, so nothing more is sent; it is not reported as ended.
      return { outcome: 'skipped', reason: `${c1.why} during the grace, still running with the same PID and start time: ${a.signals.length > 0 ? 'SIGTERM was sent, ' : ''}no SIGKILL sent` };
    }
    if (c1.state === 'changed') return { outcome: exited, reason: `${c1.why}; the target had exited, no SIGKILL sent` };
    progress({ pid: t.pid, phase: 'kill' });
    const r2 = await sig.signal(t.pid, 'kill');
    const polite = politeRefused ? `the polite stop was refused (${politeDetail}); identity re-checked, forced` : null;
    if (r2 === 'gone') return { outcome: a.signals.length > 0 ? 'terminated' : 'already-gone', reason: polite };
    if (r2 === 'eperm') return { outcome: 'failed', reason: `EPERM: not permitted to SIGKILL PID ${t.pid}${sig.lastDetail ? ` (${sig.lastDetail})` : ''}` };
    a.signals.push('SIGKILL');
    if (await waitGone(t, killWaitMs)) return { outcome: 'killed', reason: polite ?? (politeRefused ? null : `still alive ${Math.round(graceMs / 1000)} s after SIGTERM`) };
    return { outcome: 'failed', reason: `still alive ${Math.round(killWaitMs / 1000)} s after SIGKILL (uninterruptible sleep?)` };
  }

  async function keepOwnerState(t: KillTarget, owner: KillOwner, a: KillAction, saved: Map<string, SavedFile | null>, unsaved: Map<string, string>): Promise<void> {
    let alive: Check;
    try {
      alive = await check(owner.pid, owner.startTicks, null);
    } catch (err) {
      a.reason = `${a.reason ? `${a.reason}; ` : ''}owner PID ${owner.pid} could not be checked (${(err as Error).message}): its files were left as they are`;
      return;
    }
    if (alive.state !== 'same') {
      a.reason = `${a.reason ? `${a.reason}; ` : ''}owner PID ${owner.pid} is no longer running: its files were left as they are`;
      return;
    }
    const notes: string[] = [];
    for (const [file, why] of unsaved) {
      a.notRestored.push({ file, reason: `${file} ${why} before the kill, so the owner's version was not saved and cannot be put back` });
    }
    for (const [file, before] of saved) {
      if (!before || recordPid(before.bytes) !== owner.pid) continue; // only the owner's own versions go back
      const current = files.read(file);
      if (current && (current.bytes.equals(before.bytes) || recordPid(current.bytes) === owner.pid)) continue;
      try {
        files.restore(file, before);
        a.restored.push(file);
      } catch (err) {
        a.notRestored.push({ file, reason: `restore refused: ${(err as Error).message}` });
      }
    }
    for (const n of a.notRestored) notes.push(`not restored: ${n.reason}`);
    if (a.restored.length > 0) notes.unshift(`PID ${t.pid} rewrote or removed ${a.restored.map((f) => path.basename(f)).join(' and ')} on its way out: the owner's versions were put back`);
    const holders = lockHolders(path.join(t.hermesHome!, FILES.gatewayLock));
    a.ownerHoldsLock = holders === null ? null : holders.includes(owner.pid);
    if (t.holdsHomeLock) {
      if (a.ownerHoldsLock === false) notes.push(`PID ${t.pid} held the flock on ${path.join(t.hermesHome!, FILES.gatewayLock)}; the supervisor's gateway takes it when it next starts`);
    } else if (a.ownerHoldsLock === false) notes.push(`owner PID ${owner.pid} no longer holds the flock on ${path.join(t.hermesHome!, FILES.gatewayLock)}`);
    if (notes.length > 0) a.reason = `${a.reason ? `${a.reason}; ` : ''}${notes.join('; ')}`;
  }
}

/** Number of processes this run ended (terminated + killed), for the hermes_doctor_orphans_killed metric. */
export function killedCount(actions: readonly KillAction[]): number {
  return actions.filter((a) => a.outcome === 'terminated' || a.outcome === 'killed').length;
}
