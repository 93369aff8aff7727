/**
 * The classifier: a pure function from a {@link HostSnapshot} to a {@link Report}. No I/O, no clock:
 * the same snapshot always gives the same report, so snapshots from other hosts (fixtures, bug
 * reports) classify exactly as they would live.
 *
 * Verdicts (issue 3): supervised, manual, orphan, duplicate, ghost, orphaned-worker, stray-holder,
 * unknown. Kanban risk per DB: rival-writers (critical; the corruption condition of hermes-agent #35240),
 * stray-writer (warning), ok.
 */
import { maskArgv } from './mask.js';
import path from 'node:path';
import type {
  AccessMode,
  ExitCodeValue,
  Finding,
  HomeRecord,
  HostSnapshot,
  KanbanHolder,
  KanbanReport,
  ProcessRecord,
  ProcessVerdict,
  Report,
  Role,
  SupervisorRef,
  Verdict,
} from '../types.js';
import { ExitCode } from '../types.js';
import { type Identity, identify, identifyContext, recordNames } from './identify.js';
import { type DispatcherInput, type RootEvidence, dispatchEvidence, dispatchRisk } from './kanban-risk.js';
import { killRemedy, remedyScope } from './remedy.js';
import { shellCommand } from './shell-quote.js';
import { FILES, cleanPath, defaultKanbanDb, dispatcherLockPath, isFileOfInterest, isKanbanDataFile, kanbanDbOfFile, profileOfHome, rootOfHome } from './paths.js';
import { type HomeSupervisor, abandonedBy, supervisorOf, supervisorsByHome, systemdCgroupPaths, unitStates, workerScope } from './supervision.js';

/**
 * Start-up window of a gateway, ms: a gateway younger than this that holds no lock and no Hermes file
 * yet is `starting`, not judged. A real gateway runs 1–7 s with its final argv before it takes
 * gateway.lock (1.4–1.6 s measured idle, up to 8.8 s under strace; real-gateway.md, M-poll and M-strace).
 */
export const STARTUP_WINDOW_MS = 15_000;

/** Age of a process at the snapshot, ms, from takenAt and its start time; null when either is unknown. Pure: no clock. */
function ageAt(takenAt: string, rec: ProcessRecord): number | null {
  if (!rec.startTime) return null;
  const a = Date.parse(takenAt) - Date.parse(rec.startTime);
  return Number.isFinite(a) ? Math.max(0, a) : null;
}

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

interface Subject {
  rec: ProcessRecord;
  id: Identity;
  role: Role;
  sup: SupervisorRef | null;
  verdict?: Verdict;
  reasons: string[];
  /** For a ghost left by a web UI or Desktop app that is gone: the reason that says so. */
  abandoned?: string;
}

const TARGET_VERDICTS: ReadonlySet<Verdict> = new Set(['orphan', 'duplicate', 'ghost']);

function short(argv: string[]): string {
  // Reasons and findings are output: the command they quote is masked entry by entry, like every argv shown.
  const s = maskArgv(argv).join(' ');
  return s.length > 120 ? s.slice(0, 117) + '...' : s;
}

/**
 * Why several writers of one database are no risk, in words that match their verdicts: the profiles of
 * a root share its kanban.db by design, each gateway under its own supervisor or run by hand.
 */
function sharedBy(writers: { pid: number; verdict: Verdict; role: Role }[]): string {
  const by = (v: Verdict) => writers.filter((w) => w.verdict === v).length;
  const supervised = by('supervised');
  const manual = by('manual');
  const other = writers.length - supervised - manual;
  const parts = [
    ...(supervised > 0 ? [`${supervised} under ${supervised === 1 ? 'its supervisor' : 'their supervisors'}`] : []),
    ...(manual > 0 ? [`${manual} run by hand without a supervisor`] : []),
    ...(other > 0 ? [`${other} not decided (${writers.filter((w) => w.verdict !== 'supervised' && w.verdict !== 'manual').map((w) => `PID ${w.pid} ${w.verdict}`).join(', ')})`] : []),
  ];
  return `${writers.length} ${writers.every((w) => w.role === 'gateway') ? 'gateways' : 'Hermes writers'} share it (${parts.join(', ')}): the profiles of a root share its kanban.db by design`;
}

function mergeMode(a: AccessMode | null, b: AccessMode | null): AccessMode | null {
  if (!a) return b;
  if (!b || a === b) return a;
  return 'rw';
}

function writes(mode: AccessMode | null): boolean {
  return mode === 'w' || mode === 'rw';
}

function launchedFrom(rec: ProcessRecord): string {
  // sid is -1 where the platform does not report sessions (macOS ps-list, Windows).
  if (rec.sid < 0) return rec.tty ? `started from ${rec.tty}` : `PPID ${rec.ppid}`;
  return `${rec.tty ? `started from ${rec.tty}` : 'no controlling terminal'}, session ${rec.sid}`;
}

function describeOutside(rec: ProcessRecord, sups: HomeSupervisor[]): string {
  const bits: string[] = [`PPID ${rec.ppid}${rec.ppid === 1 ? ' (reparented to init)' : ''}`];
  for (const s of sups) {
    if (s.kind === 'systemd') {
      bits.push(s.mainPid > 0 ? `not MainPID ${s.mainPid} of ${s.unit}` : `${s.unit} is ${s.state}`);
      const cg = systemdCgroupPaths(rec)[0];
      bits.push(`cgroup ${cg ?? '?'} is not ${s.controlGroup || s.unit}`);
    } else if (s.kind === 's6') {
      bits.push(s.mainPid > 0 ? `not the PID ${s.mainPid} of s6 slot ${s.unit}` : `s6 slot ${s.unit} is ${s.state}`);
    } else {
      bits.push(`not the process of ${s.kind} ${s.unit}`);
    }
  }
  return bits.join(', ');
}

/**
 * Classifies a host snapshot.
 *
 * @param snap what the sources observed
 * @param opts report filters
 * @returns the report; `summary.exitCode` follows the Nagios convention (0 ok, 1 warning, 2 critical, 3 unknown)
 */
export function classify(snap: HostSnapshot, opts: ClassifyOptions = {}): Report {
  const byPid = new Map(snap.processes.map((p) => [p.pid, p]));
  const ageMs = (rec: ProcessRecord) => ageAt(snap.takenAt, rec);
  const startupWindowMs = opts.startupWindowMs ?? STARTUP_WINDOW_MS;
  // One remedy per PID, wherever the report offers one (./remedy.ts): never a bare kill.
  const scope = remedyScope(snap, opts.homes ?? []);
  const termCommand = (pid: number) => killRemedy([pid], scope);
  const homeRec = new Map<string, HomeRecord>(snap.homes.map((h) => [cleanPath(h.path), h]));
  const ids = new Map<number, Identity>();
  for (const p of snap.processes) ids.set(p.pid, identify(p, identifyContext(snap)));

  const subjects: Subject[] = [];
  for (const p of snap.processes) {
    const id = ids.get(p.pid)!;
    if (!id.role) continue;
    const reasons = [...id.conflicts];
    if (id.recordArgv) reasons.push(`its cmdline (${short(p.argv) || 'empty'}) does not show the command (setproctitle); the record in its home names it by pid and start_time: ${short(id.recordArgv)}`);
    subjects.push({ rec: p, id, role: id.role, sup: supervisorOf(p, snap, byPid), reasons });
  }
  const subjectByPid = new Map(subjects.map((s) => [s.rec.pid, s]));
  const homeSups = supervisorsByHome(snap, (pid) => ids.get(pid)?.hermesHome ?? null);
  const unknownKinds = snap.supervisors.filter((s) => s.status === 'unknown');
  const lockHolders = (file: string): number[] =>
    [...new Set(snap.locks.filter((l) => l.path === file && (l.kind === 'FLOCK' || l.kind === 'POSIX' || l.kind === 'OFDLCK')).map((l) => l.pid))];

  // Gateways by home.
  const gatewaysByHome = new Map<string, Subject[]>();
  for (const s of subjects) {
    if (s.role !== 'gateway' || !s.id.hermesHome) continue;
    const list = gatewaysByHome.get(s.id.hermesHome) ?? [];
    list.push(s);
    gatewaysByHome.set(s.id.hermesHome, list);
  }

  const supText = (sup: SupervisorRef) =>
    sup.kind === 'systemd'
      ? `supervised by ${sup.unit} (${sup.via}${sup.via === 'MainPID' ? '' : sup.mainPid ? `; MainPID ${sup.mainPid}` : ''})`
      : `supervised by ${sup.kind} ${sup.unit} (${sup.via})`;

  // 1. Gateways.
  for (const s of subjects.filter((x) => x.role === 'gateway')) {
    const home = s.id.hermesHome;
    const hr = home ? homeRec.get(home) : undefined;
    if (home) s.reasons.push(`HERMES_HOME ${home} (from ${s.id.homeSource})`);
    // A folder at the home that is not the one the gateway started in: it holds the home's gateway.lock
    // only on an unlinked inode and no record of the folder names it. The real gateway re-creates a
    // removed home on its next cron tick (cron/scheduler.py:tick mkdirs <home>/cron, v0.15.1 and
    // 306e2d2) without gateway.pid or gateway.lock; Hermes itself unlinks gateway.lock only once no
    // one holds it (gateway/status.py:_cleanup_invalid_pid_path).
    const homeLock = home ? path.posix.join(home, FILES.gatewayLock) : '';
    const lostHome =
      !!home && !!hr && hr.exists && s.rec.visibility.fd === 'ok' &&
      s.rec.handles.some((h) => h.deleted && cleanPath(h.path) === homeLock) &&
      !s.rec.handles.some((h) => !h.deleted && cleanPath(h.path) === homeLock) &&
      !recordNames(hr.pidFile, s.rec) && !recordNames(hr.lockFile, s.rec);
    // Ghost only from a home that was read, not guessed, and not refused (EACCES is not ENOENT).
    if (home && hr && !hr.accessError && !s.id.homeGuessed && (!hr.exists || hr.tombstoned || lostHome)) {
      s.verdict = 'ghost';
      s.reasons.push(
        !hr.exists
          ? `its HERMES_HOME ${home} no longer exists: the profile was deleted`
          : hr.tombstoned
            ? `profile ${hr.profile} is tombstoned (${hr.root}/profiles/.deleted/${hr.profile}): it was deleted`
            : `it holds ${homeLock} (deleted) and no gateway.pid or gateway.lock of ${home} names it: its HERMES_HOME was deleted while it ran, and the folder there now is a new one`,
      );
      if (s.sup) s.reasons.push(`${supText(s.sup)}, which will respawn it`);
      continue;
    }
    if (s.sup) {
      s.verdict = 'supervised';
      s.reasons.push(supText(s.sup));
      continue;
    }
    if (!home) {
      s.verdict = 'unknown';
      s.reasons.push(`HERMES_HOME unknown: ${s.id.homeUnknownWhy}`);
      continue;
    }
    if (s.id.homeGuessed) {
      s.verdict = 'unknown';
      s.reasons.push('its HERMES_HOME is a guess (environment and open files not visible to this user): run as root or as its owner to decide');
      continue;
    }
    if (hr?.accessError) {
      s.verdict = 'unknown';
      s.reasons.push(`its HERMES_HOME ${home} cannot be checked (${hr.accessError}): run as root or as its owner to decide`);
      continue;
    }
    const sups = homeSups.get(home) ?? [];
    const supervisedPeers = (gatewaysByHome.get(home) ?? []).filter((o) => o !== s && o.sup);
    if (sups.length > 0 || supervisedPeers.length > 0) {
      s.verdict = 'orphan';
      if (sups.length > 0) {
        s.reasons.push(`a supervisor exists for this home (${sups.map((x) => `${x.kind} ${x.unit}, ${x.state}`).join('; ')}) but this process is outside it: ${describeOutside(s.rec, sups)}`);
      }
      for (const o of supervisedPeers) s.reasons.push(`its supervisor owns another gateway for this home: PID ${o.rec.pid} (${o.sup!.kind} ${o.sup!.unit})`);
      s.reasons.push(`launched by hand: ${launchedFrom(s.rec)}${sups.length > 0 ? `, outside ${sups.map((x) => x.unit).join(', ')}` : ''}`);
      continue;
    }
    // A gateway of the web UI or Desktop app that is gone (every platform; docs/platforms.md).
    const gone = abandonedBy(s.rec, snap, byPid);
    if (gone) {
      s.verdict = 'ghost';
      s.abandoned = `managed by the ${gone.kind === 'desktop' ? 'Desktop app' : 'web UI'}, which is gone: ${gone.via}`;
      s.reasons.push(s.abandoned);
      continue;
    }
    if (unknownKinds.length > 0) {
      s.verdict = 'unknown';
      s.reasons.push(`cannot tell whether a supervisor owns this home: ${unknownKinds.map((k) => `${k.kind} ${k.detail}`).join('; ')}`);
      continue;
    }
    const peers = (gatewaysByHome.get(home) ?? []).filter((o) => !o.sup);
    const lockFile = path.posix.join(home, FILES.gatewayLock);
    const holders = lockHolders(lockFile).filter((pid) => peers.some((o) => o.rec.pid === pid));
    if (peers.length > 1) {
      let owner: number | null = holders.length === 1 ? holders[0]! : null;
      let ownerWhy = `holds the flock on ${lockFile}`;
      if (owner === null && hr?.pidFile.status === 'ok') {
        const byRecord = peers.find((o) => o.rec.pid === hr.pidFile.pid && o.rec.startTicks === hr.pidFile.startTime);
        if (byRecord) {
          owner = byRecord.rec.pid;
          ownerWhy = `is named by ${hr.pidFile.path} (pid and start_time match); no gateway holds ${lockFile}`;
        }
      }
      if (owner === null) {
        s.verdict = 'unknown';
        s.reasons.push(`${peers.length} gateways run for this home and none holds ${lockFile} or matches gateway.pid: cannot tell which one to keep`);
      } else if (owner === s.rec.pid) {
        s.verdict = 'manual';
        s.reasons.push(`no supervisor is installed for this home; this gateway ${ownerWhy}; ${peers.length - 1} other gateway(s) for this home are duplicates`);
      } else {
        s.verdict = 'duplicate';
        s.reasons.push(`${peers.length} gateways run for this home; PID ${owner} ${ownerWhy}, this one does not`);
        s.reasons.push(`launched by hand: ${launchedFrom(s.rec)}`);
      }
      continue;
    }
    s.verdict = 'manual';
    s.reasons.push(
      hr?.launchdUnsupported
        ? 'manual (launchd unsupported): the .gateway-launchd-unsupported marker says macOS runs the detached fallback'
        : 'no supervisor is installed for this home and no other gateway runs for it: a legitimate manual gateway (tmux, nohup, WSL)',
    );
    if (holders.includes(s.rec.pid)) s.reasons.push(`holds the flock on ${lockFile}`);
  }

  // A gateway in its start-up window is not judged yet: an orphan or duplicate verdict there would make
  // a timer alert or kill a gateway that is about to take its lock, or to be ended by its supervisor's
  // own --replace. Only when its fd table was read and shows no Hermes file, and no record names it.
  for (const s of subjects) {
    if (s.role !== 'gateway' || (s.verdict !== 'orphan' && s.verdict !== 'duplicate')) continue;
    const age = ageMs(s.rec);
    const hr = s.id.hermesHome ? homeRec.get(s.id.hermesHome) : undefined;
    if (age === null || age >= startupWindowMs || s.id.holdsLockOf !== null || s.rec.visibility.fd !== 'ok') continue;
    if (s.rec.handles.some((h) => isFileOfInterest(h.path)) || (hr && (recordNames(hr.pidFile, s.rec) || recordNames(hr.lockFile, s.rec)))) continue;
    s.reasons.unshift(
      `started ${(age / 1000).toFixed(1)} s before the scan and holds no gateway.lock or Hermes file yet: within the start-up window (${startupWindowMs / 1000} s; a real gateway takes its lock 1–7 s after exec), so not judged ${s.verdict} yet`,
    );
    s.verdict = 'starting';
  }

  // 2. Wrappers, dispatcher daemons, workers, the rest.
  const gatewayRootsDispatching = new Map<string, Subject[]>();
  for (const s of subjects) {
    if (s.role !== 'gateway' || !s.id.kanbanRoot || s.verdict === 'ghost') continue;
    const list = gatewayRootsDispatching.get(s.id.kanbanRoot) ?? [];
    list.push(s);
    gatewayRootsDispatching.set(s.id.kanbanRoot, list);
  }
  for (const s of subjects) {
    if (s.verdict) continue;
    const parent = subjectByPid.get(s.rec.ppid);
    switch (s.role) {
      case 'gateway-wrapper': {
        const child = subjects.find((c) => c.rec.ppid === s.rec.pid && c.role === 'gateway');
        s.verdict = s.sup ? 'supervised' : 'manual';
        s.reasons.push(`a launcher that stays alive as the parent of ${child ? `gateway PID ${child.rec.pid} (${child.verdict})` : 'a gateway'}; not a second gateway`);
        if (s.sup) s.reasons.push(supText(s.sup));
        break;
      }
      case 'dispatcher-daemon': {
        if (s.sup) {
          s.verdict = 'supervised';
          s.reasons.push(supText(s.sup));
          break;
        }
        const rivals = (s.id.kanbanRoot ? gatewayRootsDispatching.get(s.id.kanbanRoot) ?? [] : []).filter((g) => g.verdict === 'supervised' || g.verdict === 'manual');
        const home = s.id.hermesHome;
        const sups = home ? homeSups.get(home) ?? [] : [];
        if (rivals.length > 0 || sups.length > 0) {
          s.verdict = 'orphan';
          if (rivals.length > 0) s.reasons.push(`a second dispatcher: gateway PID ${rivals.map((r) => r.rec.pid).join(', ')} already serves kanban root ${s.id.kanbanRoot} (dispatch_in_gateway defaults to true)`);
          if (sups.length > 0) s.reasons.push(`outside the supervisor of its home: ${describeOutside(s.rec, sups)}`);
          s.reasons.push(`launched by hand: ${launchedFrom(s.rec)}`);
        } else {
          s.verdict = 'manual';
          s.reasons.push('the only dispatcher for its kanban root, not supervised');
        }
        break;
      }
      case 'kanban-worker': {
        const task = s.id.cmd?.kanbanTask ?? s.rec.env.HERMES_KANBAN_TASK ?? null;
        if (task) s.reasons.push(`kanban worker for task ${task}`);
        const scope = workerScope(s.rec);
        if (scope) s.reasons.push(`in transient scope ${scope}: a Hermes tool-worker scope, which belongs to the gateway that started it`);
        if (parent && (parent.role === 'gateway' || parent.role === 'dispatcher-daemon')) {
          const v = parent.verdict ?? 'unknown';
          s.verdict = v === 'supervised' ? 'supervised' : v === 'unknown' ? 'unknown' : 'manual';
          s.reasons.push(`child of ${parent.role} PID ${parent.rec.pid} (${v}); counted with its dispatcher, not as a rival`);
        } else if (parent) {
          // The parent is some other Hermes process (a CLI dispatch): the worker is attached.
          s.verdict = 'manual';
          s.reasons.push(`child of ${parent.role} PID ${parent.rec.pid}`);
        } else {
          s.verdict = 'orphaned-worker';
          const p = byPid.get(s.rec.ppid);
          s.reasons.push(`reparented to PID ${s.rec.ppid}${p ? ` (${p.argv[0] ?? p.comm})` : ''}: the gateway that spawned it is gone`);
          if (s.sup) s.reasons.push(`still inside ${s.sup.unit} (${s.sup.via})`);
          const live = s.id.hermesHome ? (gatewaysByHome.get(s.id.hermesHome) ?? []).map((g) => g.rec.pid) : [];
          if (live.length > 0) s.reasons.push(`its home now has gateway PID ${live.join(', ')}, which did not start it`);
        }
        break;
      }
      case 'stray-holder': {
        s.verdict = 'stray-holder';
        const dbs = [...new Set(s.rec.handles.filter((h) => isKanbanDataFile(h.path)).map((h) => kanbanDbOfFile(h.path)!.db))];
        s.reasons.push(`not a Hermes gateway or worker, but holds ${dbs.join(', ')}`);
        break;
      }
      default: {
        s.verdict = s.sup ? 'supervised' : 'manual';
        if (s.sup) s.reasons.push(supText(s.sup));
        else s.reasons.push(`${s.role} process, not a gateway: not subject to supervision checks`);
      }
    }
  }

  // 3. Kanban databases: holders by fd, writers by kanban root (gateways open the DB per tick).
  interface DbAcc {
    db: string;
    root: string;
    holders: Map<number, KanbanHolder>;
  }
  const dbs = new Map<string, DbAcc>();
  const dbAcc = (db: string, root: string): DbAcc => {
    let a = dbs.get(db);
    if (!a) {
      a = { db, root, holders: new Map() };
      dbs.set(db, a);
    }
    return a;
  };
  for (const p of snap.processes) {
    for (const h of p.handles) {
      if (!isKanbanDataFile(h.path)) continue;
      const k = kanbanDbOfFile(h.path)!;
      const a = dbAcc(k.db, k.root);
      const s = subjectByPid.get(p.pid);
      const prev = a.holders.get(p.pid);
      a.holders.set(p.pid, {
        pid: p.pid,
        mode: mergeMode(prev?.mode ?? null, h.mode),
        role: s?.role ?? 'unknown',
        verdict: s?.verdict ?? null,
      });
    }
  }
  for (const s of subjects) {
    if ((s.role === 'gateway' || s.role === 'dispatcher-daemon') && s.id.kanbanRoot) {
      dbAcc(defaultKanbanDb(s.id.kanbanRoot), s.id.kanbanRoot);
    }
  }
  /** Gateways and daemons of a root, plus any that holds one of its kanban files. */
  const dispatcherSubjects = (root: string): Subject[] =>
    subjects.filter(
      (s) =>
        (s.role === 'gateway' || s.role === 'dispatcher-daemon') &&
        (s.id.kanbanRoot === root || s.rec.handles.some((h) => kanbanDbOfFile(h.path)?.root === root)),
    );
  const dispatcherInput = (s: Subject): DispatcherInput => ({
    rec: s.rec,
    role: s.role,
    verdict: s.verdict!,
    holdsGatewayLock: s.id.holdsLockOf !== null,
    ageMs: ageMs(s.rec),
  });
  const kanban: KanbanReport[] = [];
  for (const a of [...dbs.values()].sort((x, y) => x.db.localeCompare(y.db))) {
    const lockFile = dispatcherLockPath(a.root);
    const dl = lockHolders(lockFile);
    const reasons: string[] = [];
    const rootEv: RootEvidence = {
      root: a.root,
      dispatcherLockHolders: dl,
      dispatchLockHolders: lockHolders(path.posix.join(a.root, 'kanban.db.dispatch.lock')),
      dispatcherLockExists: snap.kanbanRoots?.find((r) => r.root === a.root)?.dispatcherLockExists ?? null,
      sources: snap.hermesSources ?? [],
    };
    const evidence = dispatcherSubjects(a.root).map((s) => dispatchEvidence(dispatcherInput(s), rootEv));
    const dr = dispatchRisk(evidence, rootEv);
    // Writers: every gateway or daemon of the root that dispatches or may dispatch (a proven non-dispatcher is not one).
    const writers = evidence.filter((e) => e.dispatches !== 'no').map((e) => ({ pid: e.pid, verdict: e.verdict, role: e.role }));
    let risk: KanbanReport['risk'] = dr.risk;
    reasons.push(...dr.reasons);
    const strays = [...a.holders.values()].filter((h) => h.role === 'stray-holder');
    const strayText = (h: KanbanHolder) => `PID ${h.pid} (${short(byPid.get(h.pid)?.argv ?? [])})`;
    const strayWriters = strays.filter((h) => writes(h.mode));
    const strayReaders = strays.filter((h) => !writes(h.mode));
    if (strayWriters.length > 0) {
      if (risk === 'ok') risk = 'stray-writer';
      reasons.push(`non-Hermes process ${strayWriters.map(strayText).join(', ')} holds it read-write`);
    }
    if (strayReaders.length > 0) reasons.push(`non-Hermes process ${strayReaders.map(strayText).join(', ')} holds it ${strayReaders.some((h) => h.mode === null) ? 'in an unknown mode' : 'read-only'}`);
    if (dl.length > 1) reasons.push(`${dl.length} processes hold ${lockFile}: ${dl.join(', ')}`);
    if (risk === 'ok') {
      const proven = evidence.filter((e) => e.dispatches === 'yes').length;
      reasons.push(writers.length > 1 ? `${sharedBy(writers)}${proven < writers.length ? `; ${proven} of them seen dispatching` : ''}` : 'one writer or none');
    }
    kanban.push({
      db: a.db,
      root: a.root,
      holders: [...a.holders.values()].sort((x, y) => x.pid - y.pid),
      dispatcherLockHolder: dl[0] ?? null,
      writers,
      risk,
      reasons,
      dispatchLockHolder: rootEv.dispatchLockHolders[0] ?? null,
      singletonLock: dr.singletonLock,
      dispatchers: evidence.map(({ pid, role, verdict, dispatches, why }) => ({ pid, role, verdict, dispatches, why })),
    });
  }
  // Holder verdicts were read before every verdict was final for non-gateways: refresh them.
  for (const k of kanban) for (const h of k.holders) h.verdict = subjectByPid.get(h.pid)?.verdict ?? null;

  // 4. Findings.
  const findings: Finding[] = [];
  const homeSupFor = (s: Subject) => (s.id.hermesHome ? homeSups.get(s.id.hermesHome) ?? [] : []);
  for (const s of subjects) {
    const pid = s.rec.pid;
    const what = `PID ${pid} (${short(s.rec.argv)})`;
    switch (s.verdict) {
      case 'orphan': {
        const sups = homeSupFor(s);
        const restart = sups[0] ? `; the supervised way to restart this home is \`${sups[0].restart}\`` : '';
        findings.push({
          severity: 'warning',
          code: s.role === 'dispatcher-daemon' ? 'ORPHAN_DISPATCHER' : 'ORPHAN_GATEWAY',
          pid,
          message: `${what} is a ${s.role} for ${s.id.hermesHome ?? s.id.kanbanRoot} running outside its supervisor${sups[0] ? ` ${sups[0].unit}` : ''} (${launchedFrom(s.rec)})${restart}.`,
          remedy: termCommand(pid),
        });
        break;
      }
      case 'duplicate':
        findings.push({
          severity: 'warning',
          code: 'DUPLICATE_GATEWAY',
          pid,
          message: `${what} is a second gateway for ${s.id.hermesHome}; it does not hold gateway.lock and a --replace will not see it.`,
          remedy: termCommand(pid),
        });
        break;
      case 'ghost': {
        const respawn = s.sup ? ` ${s.sup.kind} ${s.sup.unit} will respawn it: stop that first.` : '';
        findings.push({
          severity: 'warning',
          code: 'GHOST_GATEWAY',
          pid,
          message: s.abandoned
            ? `${what} was started by an app that is gone; nothing will stop it (${s.abandoned}).`
            : `${what} serves deleted profile ${s.id.profile} (${s.id.hermesHome}).${respawn}`,
          remedy:
            s.sup?.kind === 'systemd'
              ? shellCommand(['systemctl', 'disable', '--now', s.sup.unit])
              : s.sup?.kind === 's6'
                ? shellCommand(['s6-svc', '-d', snap.supervisors.flatMap((x) => x.s6Slots ?? []).find((x) => x.name === s.sup!.unit)?.dir ?? s.sup.unit])
                : termCommand(pid),
        });
        break;
      }
      case 'orphaned-worker':
        findings.push({
          severity: 'warning',
          code: 'ORPHANED_WORKER',
          pid,
          message: `${what} is a kanban worker whose gateway is gone (PPID ${s.rec.ppid}); it may still be finishing its task.`,
          remedy: killRemedy([pid], scope, true),
        });
        break;
      case 'stray-holder': {
        const rw = s.rec.handles.some((h) => isKanbanDataFile(h.path) && writes(h.mode));
        findings.push({
          severity: rw ? 'warning' : 'info',
          code: rw ? 'STRAY_WRITER' : 'STRAY_HOLDER',
          pid,
          message: `${what} is not part of Hermes but holds ${s.rec.handles.filter((h) => isKanbanDataFile(h.path)).map((h) => `${h.path} (${h.mode ?? '?'})`).join(', ')}; a person should decide whether to close it.`,
          remedy: null,
        });
        break;
      }
      case 'starting':
        findings.push({
          severity: 'info',
          code: 'GATEWAY_STARTING',
          pid,
          message: `${what}: ${s.reasons[0]}.`,
          remedy: null,
        });
        break;
      case 'unknown':
        findings.push({
          severity: 'unknown',
          code: 'UNDECIDED',
          pid,
          message: `${what}: ${s.reasons[s.reasons.length - 1]}.`,
          remedy: null,
        });
        break;
      default:
        break;
    }
  }
  for (const k of kanban) {
    if (k.risk === 'rival-writers') {
      const rogue = k.writers.filter((w) => TARGET_VERDICTS.has(w.verdict)).map((w) => w.pid);
      findings.push({
        severity: 'critical',
        code: 'RIVAL_WRITERS',
        pid: null,
        message:
          `${k.db}: ${k.reasons[0]} (the corruption condition of hermes-agent #35240: disk I/O error, then "database disk image is malformed").` +
          (rogue.length === 0 ? ' Keep one dispatcher per root: set kanban.dispatch_in_gateway: false in the config of all profiles but one, or upgrade Hermes to a version with the singleton dispatcher lock.' : ''),
        remedy: rogue.length > 0 ? killRemedy(rogue, scope) : null,
      });
    } else if (k.risk === 'unknown') {
      findings.push({
        severity: 'unknown',
        code: 'KANBAN_RISK_UNKNOWN',
        pid: null,
        message: `${k.db}: ${k.reasons[0]}: ${k.reasons.slice(1).join('; ')}.`,
        remedy: null,
      });
    }
  }
  const subjectHomes = new Set(subjects.map((s) => s.id.hermesHome).filter((h): h is string => h !== null));
  /** The HERMES_HOME a finding about identity files is about (a filtered report keeps those of its homes). */
  const findingHome = new Map<Finding, string>();
  for (const h of snap.homes) {
    if (!subjectHomes.has(cleanPath(h.path)) && !(homeSups.get(cleanPath(h.path))?.length)) continue;
    const before = findings.length;
    for (const f of [h.pidFile, h.stateFile]) {
      if (f.status === 'corrupt' || f.status === 'unreadable') {
        findings.push({
          severity: 'info',
          code: 'IDENTITY_FILE_BAD',
          pid: null,
          message: `${f.path} is ${f.status} (${f.error}); it was not trusted.`,
          remedy: null,
        });
      } else if (f.status === 'legacy') {
        findings.push({ severity: 'info', code: 'IDENTITY_FILE_LEGACY', pid: f.pid, message: `${f.path} is a legacy bare PID (${f.pid}) without start_time; matched by PID only.`, remedy: null });
      } else if (f.status === 'ok' && f.pid !== null && f === h.pidFile) {
        const p = byPid.get(f.pid);
        const live = p && (f.startTime === null || f.startTime === p.startTicks);
        if (!live) {
          findings.push({
            severity: 'info',
            code: 'IDENTITY_FILE_STALE',
            pid: f.pid,
            message: p
              ? `${f.path} names PID ${f.pid} started at tick ${f.startTime}; PID ${f.pid} now runs another process (${short(p.argv.length > 0 ? p.argv : [p.comm])}, started at tick ${p.startTicks}): the PID was reused.`
              : `${f.path} names PID ${f.pid}${f.startTime !== null ? ` started at tick ${f.startTime}` : ''}, which is not running.`,
            remedy: null,
          });
        }
      }
    }
    for (const f of findings.slice(before)) findingHome.set(f, cleanPath(h.path));
  }
  // Identity files that contradict the live flock owner of gateway.lock, the strongest ownership proof
  // of a home (reference §2.1): a gateway that saved its state on its way out, or a stale-record cleanup,
  // leaves the owner's home saying "stopped" or naming nobody, and Hermes's own status, --replace and the
  // s6 autostart read these files.
  for (const h of snap.homes) {
    const home = cleanPath(h.path);
    if (!subjectHomes.has(home) && !(homeSups.get(home)?.length)) continue;
    if (!h.exists || h.tombstoned) continue; // a deleted profile's gateway is GHOST_GATEWAY already
    const lockFile = path.posix.join(home, FILES.gatewayLock);
    const owners = lockHolders(lockFile).filter((pid) => byPid.has(pid));
    if (owners.length !== 1) continue;
    const owner = byPid.get(owners[0]!)!;
    const restart = homeSups.get(home)?.[0]?.restart ?? null;
    const contradictions: string[] = [];
    if (h.pidFile.status === 'missing') contradictions.push(`${h.pidFile.path} is missing`);
    for (const f of [h.pidFile, h.stateFile]) {
      if ((f.status !== 'ok' && f.status !== 'legacy') || f.pid === null) continue;
      const named = byPid.get(f.pid);
      const namedLive = named && (f.startTime === null || f.startTime === named.startTicks);
      if (f.pid === owner.pid && (f.startTime === null || f.startTime === owner.startTicks)) continue;
      // A gateway.pid naming a dead PID is IDENTITY_FILE_STALE already.
      if (f === h.pidFile && !namedLive) continue;
      contradictions.push(
        `${f.path} names PID ${f.pid}${f.gatewayState ? ` (gateway_state ${f.gatewayState})` : ''}, ${
          f.pid === owner.pid ? 'with another start time' : namedLive ? 'another running process' : 'which is not running'
        }`,
      );
    }
    if (contradictions.length === 0) continue;
    const finding: Finding = {
      severity: 'warning',
      code: 'IDENTITY_FILE_CONTRADICTS_LOCK',
      pid: owner.pid,
      message:
        `PID ${owner.pid} holds the flock on ${lockFile}, but ${contradictions.join(' and ')}: Hermes's \`gateway status\`, --replace and the s6 autostart read these files and will not see the running gateway` +
        (restart ? `; a supervised restart rewrites them` : '; restarting that gateway rewrites them') +
        '.',
      remedy: restart,
    };
    findings.push(finding);
    findingHome.set(finding, home);
  }
  // Per-unit state (issue 4) and crash loops: a unit that cannot start leaves its home without a gateway.
  const units = unitStates(snap, (pid) => ids.get(pid)?.hermesHome ?? null);
  for (const u of units) {
    if (!u.crashLoop) continue;
    const chdir = /WorkingDirectory|CHDIR/.test(u.crashLoop);
    findings.push({
      severity: 'warning',
      code: 'UNIT_CRASH_LOOP',
      pid: null,
      message:
        `${u.unit} (${u.scope}${u.uid !== undefined ? ` UID ${u.uid}` : ''}) ` +
        (u.activeState === 'active'
          ? `will crash-loop on its next start: ${u.crashLoop}`
          : `crash-loops: ${u.crashLoop}; ${u.home ? `home ${u.home} has no supervised gateway` : 'its gateway is down'}`) +
        (chdir
          ? '. Point WorkingDirectory at the HERMES_HOME (or regenerate the unit with `hermes gateway install`), then `systemctl daemon-reload` and restart it.'
          : `. See \`systemctl${u.scope === 'user' ? ' --user' : ''} status ${u.unit}\`.`),
      remedy: null,
    });
  }
  for (const k of unknownKinds) {
    findings.push({ severity: 'info', code: 'SUPERVISOR_UNKNOWN', pid: null, message: `${k.kind}: ${k.detail}.`, remedy: null });
  }
  const fdNotes = snap.notes.filter((n) => n.what === 'fd');
  if (fdNotes.length > 0) {
    findings.push({
      severity: 'info',
      code: 'NOT_VISIBLE',
      pid: null,
      message: `the fd tables of ${fdNotes.length} process(es) could not be read (${fdNotes.slice(0, 5).map((n) => `PID ${n.pid}`).join(', ')}${fdNotes.length > 5 ? ', …' : ''}): a kanban holder among them would be missed.`,
      remedy: null,
    });
  }
  for (const n of snap.notes.filter((x) => x.what !== 'fd')) {
    findings.push({ severity: 'info', code: 'NOT_VISIBLE', pid: n.pid ?? null, message: n.detail, remedy: null });
  }

  // 5. Filters, then the summary.
  const homeFilter = opts.homes?.map(cleanPath);
  const inHomeAndProfile = (s: Subject) =>
    (!homeFilter || (s.id.hermesHome !== null && homeFilter.includes(s.id.hermesHome))) &&
    (!opts.profiles || (s.id.profile !== null && opts.profiles.includes(s.id.profile)));
  const byFilters = subjects.filter((s) => inHomeAndProfile(s) && (!opts.uids || opts.uids.includes(s.rec.uid)));
  // A database of a reported home (all profiles of a root share its kanban.db) keeps every holder: a stray
  // sqlite3 on it belongs to no home, and hiding it would hide the writer the report is about.
  const reportedRoots = new Set<string>([...byFilters.map((s) => s.id.kanbanRoot).filter((r): r is string => r !== null), ...(homeFilter ?? []).map(rootOfHome)]);
  const reportedDbHolders = new Set(kanban.filter((k) => reportedRoots.has(k.root)).flatMap((k) => k.holders.map((h) => h.pid)));
  const kept = subjects.filter((s) => byFilters.includes(s) || (s.role === 'stray-holder' && reportedDbHolders.has(s.rec.pid)));
  const keptPids = new Set(kept.map((s) => s.rec.pid));
  const keptHomes = new Set(kept.map((s) => s.id.hermesHome).filter((h): h is string => h !== null));
  const filtered = !!(homeFilter || opts.profiles || opts.uids);
  const outKanban = filtered ? kanban.filter((k) => reportedRoots.has(k.root) || k.holders.some((h) => keptPids.has(h.pid))) : kanban;
  const outUnits = filtered && homeFilter ? units.filter((u) => (u.home !== null && homeFilter.includes(u.home)) || u.pids.some((p) => keptPids.has(p))) : units;
  /** Identity-file findings follow their home: kept when the report is about that home. */
  const identityKept = (f: Finding): boolean | null => {
    const h = findingHome.get(f);
    if (h === undefined) return null;
    if (homeFilter) return homeFilter.includes(h);
    if (opts.profiles) return keptHomes.has(h) || opts.profiles.includes(profileOfHome(h));
    return true;
  };
  const outFindings = filtered
    ? findings.filter(
        (f) =>
          identityKept(f) ??
          (f.pid !== null
            ? keptPids.has(f.pid)
            : f.code === 'UNIT_CRASH_LOOP'
              ? outUnits.some((u) => f.message.startsWith(`${u.unit} (`))
              : (f.code !== 'RIVAL_WRITERS' && f.code !== 'KANBAN_RISK_UNKNOWN') || outKanban.some((k) => f.message.startsWith(k.db + ':'))),
      )
    : findings;
  outFindings.push(...filterTargetsNotFound(snap, opts, kept));

  const processes: ProcessVerdict[] = kept
    .sort((a, b) => a.rec.pid - b.rec.pid)
    .map((s) => ({
      pid: s.rec.pid,
      ppid: s.rec.ppid,
      uid: s.rec.uid,
      startTicks: s.rec.startTicks,
      startTime: s.rec.startTime,
      argv: s.rec.argv,
      role: s.role,
      hermesHome: s.id.hermesHome,
      homeSource: s.id.homeSource,
      profile: s.id.profile,
      kanbanRoot: s.id.kanbanRoot,
      supervisor: s.sup,
      verdict: s.verdict ?? 'unknown',
      reasons: s.reasons,
      ...(s.id.recordArgv ? { recordArgv: s.id.recordArgv } : {}),
      handles: s.rec.handles,
      tty: s.rec.tty,
      sid: s.rec.sid,
    }));
  const byVerdict: Partial<Record<Verdict, number>> = {};
  for (const p of processes) byVerdict[p.verdict] = (byVerdict[p.verdict] ?? 0) + 1;
  const count = (sev: Finding['severity']) => outFindings.filter((f) => f.severity === sev).length;
  const critical = count('critical');
  const unknown = count('unknown');
  const warnings = count('warning');
  const exitCode: ExitCodeValue = critical > 0 ? ExitCode.CRITICAL : unknown > 0 ? ExitCode.UNKNOWN : warnings > 0 ? ExitCode.WARNING : ExitCode.OK;
  const sevOrder = { critical: 0, unknown: 1, warning: 2, info: 3 } as const;
  outFindings.sort((a, b) => sevOrder[a.severity] - sevOrder[b.severity] || (a.pid ?? 0) - (b.pid ?? 0));
  return {
    schema: 'hermes-doctor.orphans/v1',
    takenAt: snap.takenAt,
    hostname: snap.hostname,
    processes,
    kanban: outKanban,
    findings: outFindings,
    supervisors: supervisorSummary(snap, subjects),
    summary: { processes: processes.length, byVerdict, critical, unknown, warnings, exitCode, scanMs: snap.scanMs },
    units: outUnits,
  };
}

/**
 * The report's supervisor kinds. A kind the source found absent (no scan directory, no systemd) is still
 * present when a process was proven supervised by it another way (a parent `s6-supervise gateway-<p>`
 * outside the scan directory): the summary must not say "s6 absent" beside an s6 slot.
 */
function supervisorSummary(snap: HostSnapshot, subjects: Subject[]): Report['supervisors'] {
  return snap.supervisors.map((s) => {
    const seen = s.status === 'absent' ? subjects.filter((x) => x.sup?.kind === s.kind) : [];
    if (seen.length === 0) return { kind: s.kind, status: s.status, detail: s.detail };
    const units = [...new Set(seen.map((x) => x.sup!.unit))].join(', ');
    return { kind: s.kind, status: 'present', detail: `${units} found by ${seen.map((x) => `PID ${x.rec.pid} (${x.sup!.via})`).join(', ')}; the source said: ${s.detail}` };
  });
}

/**
 * HOME_NOT_FOUND / PROFILE_NOT_FOUND for each `--home` / `--profile` that names nothing: no process of
 * the report runs for it and no such folder was seen by the scan (for a profile: under any root in
 * sight). A typo in a scheduled check must not stay green: when no given home or profile exists the
 * findings are `unknown` (exit 3), otherwise warnings.
 */
function filterTargetsNotFound(snap: HostSnapshot, opts: ClassifyOptions, kept: Subject[]): Finding[] {
  const homes = (opts.homes ?? []).map(cleanPath);
  const profiles = opts.profiles ?? [];
  const seen = snap.homes.filter((h) => h.exists);
  const missingHomes = homes.filter((h) => !kept.some((s) => s.id.hermesHome === h) && !seen.some((x) => cleanPath(x.path) === h));
  const missingProfiles = profiles.filter((p) => !kept.some((s) => s.id.profile === p) && !seen.some((x) => x.profile === p));
  const given = homes.length + profiles.length;
  const missing = missingHomes.length + missingProfiles.length;
  if (missing === 0) return [];
  const severity: Finding['severity'] = missing === given ? 'unknown' : 'warning';
  const roots = [...new Set(snap.homes.map((h) => h.root))].sort();
  return [
    ...missingHomes.map((h) => ({
      severity,
      code: 'HOME_NOT_FOUND',
      pid: null,
      message: `--home ${h}: no such HERMES_HOME (the folder does not exist${snap.homes.some((x) => cleanPath(x.path) === h) ? '' : ' or was not in sight of the scan'}) and no Hermes process runs for it: nothing was checked for it`,
      remedy: null,
    })),
    ...missingProfiles.map((p) => ({
      severity,
      code: 'PROFILE_NOT_FOUND',
      pid: null,
      message: `--profile ${p}: no such profile under ${roots.length > 0 ? roots.map((r) => `${r}/profiles`).join(', ') : 'any Hermes root in sight'} and no Hermes process runs for it: nothing was checked for it`,
      remedy: null,
    })),
  ] satisfies Finding[];
}

/** Verdicts that `--kill` may target (never the flock owner, never a supervised process). */
export const KILLABLE_VERDICTS: ReadonlySet<Verdict> = TARGET_VERDICTS;
