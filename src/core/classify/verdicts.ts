/**
 * Verdicts, each decided once: gateways first (a gateway's verdict reads only its home, its peers'
 * owners and the locks), then wrappers, dispatcher daemons, stray holders and the rest (they read the
 * gateways' verdicts), then kanban workers (they read their parent's). Pure.
 */
import path from 'node:path';
import { recordNames } from '../identify.js';
import { FILES, cleanPath, isFileOfInterest, isKanbanDataFile, kanbanDbOfFile } from '../paths.js';
import { describeOwner } from '../supervision/index.js';
import { workerScope } from '../supervision/systemd.js';
import { type Candidate, type ClassifyContext, type Decision, type Subject, ageAt, describeOutside, launchedFrom, short } from './common.js';

/** Every process with a role, with its owner and the reasons known before a verdict, in snapshot order. */
export function candidatesOf(ctx: ClassifyContext): Candidate[] {
  const out: Candidate[] = [];
  for (const p of ctx.snap.processes) {
    const id = ctx.a.identities.get(p.pid)!;
    if (!id.role) continue;
    const reasons = [...id.conflicts];
    if (id.recordArgv) reasons.push(`its cmdline (${short(p.argv) || 'empty'}) does not show the command (setproctitle); the record in its home names it by pid and start_time: ${short(id.recordArgv)}`);
    out.push({ rec: p, id, role: id.role, sup: ctx.a.supervisorOf(p), reasons });
  }
  return out;
}

/** Gateways by HERMES_HOME (those whose home is known). */
function gatewaysByHome(cands: readonly Candidate[]): Map<string, Candidate[]> {
  const out = new Map<string, Candidate[]>();
  for (const s of cands) {
    if (s.role !== 'gateway' || !s.id.hermesHome) continue;
    const list = out.get(s.id.hermesHome) ?? [];
    list.push(s);
    out.set(s.id.hermesHome, list);
  }
  return out;
}

/** A gateway's verdict on the evidence, before the start-up window is applied. */
function judgeGateway(s: Candidate, ctx: ClassifyContext, byHome: ReadonlyMap<string, Candidate[]>): Decision {
  const reasons = [...s.reasons];
  const decided = (verdict: Decision['verdict'], ...more: string[]): Decision => ({ verdict, reasons: [...reasons, ...more] });
  const home = s.id.hermesHome;
  const hr = home ? ctx.homeRec.get(home) : undefined;
  if (home) reasons.push(`HERMES_HOME ${home} (from ${s.id.homeSource})`);
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
    return decided(
      'ghost',
      !hr.exists
        ? `its HERMES_HOME ${home} no longer exists: the profile was deleted`
        : hr.tombstoned
          ? `profile ${hr.profile} is tombstoned (${hr.root}/profiles/.deleted/${hr.profile}): it was deleted`
          : `it holds ${homeLock} (deleted) and no gateway.pid or gateway.lock of ${home} names it: its HERMES_HOME was deleted while it ran, and the folder there now is a new one`,
      ...(s.sup ? [`${describeOwner(s.sup)}, which will respawn it`] : []),
    );
  }
  if (s.sup) return decided('supervised', describeOwner(s.sup));
  if (!home) return decided('unknown', `HERMES_HOME unknown: ${s.id.homeUnknownWhy}`);
  if (s.id.homeGuessed) return decided('unknown', 'its HERMES_HOME is a guess (environment and open files not visible to this user): run as root or as its owner to decide');
  if (hr?.accessError) return decided('unknown', `its HERMES_HOME ${home} cannot be checked (${hr.accessError}): run as root or as its owner to decide`);
  const sups = ctx.a.homeSupervisorsOf(home);
  const supervisedPeers = (byHome.get(home) ?? []).filter((o) => o !== s && o.sup);
  if (sups.length > 0 || supervisedPeers.length > 0) {
    return decided(
      'orphan',
      ...(sups.length > 0 ? [`a supervisor exists for this home (${sups.map((x) => `${x.kind} ${x.unit}, ${x.state}`).join('; ')}) but this process is outside it: ${describeOutside(s.rec, sups)}`] : []),
      ...supervisedPeers.map((o) => `its supervisor owns another gateway for this home: PID ${o.rec.pid} (${o.sup!.kind} ${o.sup!.unit})`),
      `launched by hand: ${launchedFrom(s.rec)}${sups.length > 0 ? `, outside ${sups.map((x) => x.unit).join(', ')}` : ''}`,
    );
  }
  // A gateway of the web UI or Desktop app that is gone (every platform; docs/platforms.md).
  const gone = ctx.a.abandonedBy(s.rec);
  if (gone) {
    const abandoned = `managed by the ${gone.kind === 'desktop' ? 'Desktop app' : 'web UI'}, which is gone: ${gone.via}`;
    return { ...decided('ghost', abandoned), abandoned };
  }
  if (ctx.unknownKinds.length > 0) return decided('unknown', `cannot tell whether a supervisor owns this home: ${ctx.unknownKinds.map((k) => `${k.kind} ${k.detail}`).join('; ')}`);
  const peers = (byHome.get(home) ?? []).filter((o) => !o.sup);
  const lockFile = path.posix.join(home, FILES.gatewayLock);
  const holders = ctx.a.lockHolders(lockFile).filter((pid) => peers.some((o) => o.rec.pid === pid));
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
    if (owner === null) return decided('unknown', `${peers.length} gateways run for this home and none holds ${lockFile} or matches gateway.pid: cannot tell which one to keep`);
    if (owner === s.rec.pid) return decided('manual', `no supervisor is installed for this home; this gateway ${ownerWhy}; ${peers.length - 1} other gateway(s) for this home are duplicates`);
    return decided('duplicate', `${peers.length} gateways run for this home; PID ${owner} ${ownerWhy}, this one does not`, `launched by hand: ${launchedFrom(s.rec)}`);
  }
  return decided(
    'manual',
    hr?.launchdUnsupported
      ? 'manual (launchd unsupported): the .gateway-launchd-unsupported marker says macOS runs the detached fallback'
      : 'no supervisor is installed for this home and no other gateway runs for it: a legitimate manual gateway (tmux, nohup, WSL)',
    ...(holders.includes(s.rec.pid) ? [`holds the flock on ${lockFile}`] : []),
  );
}

/**
 * A gateway's verdict. One in its start-up window is not judged yet: an orphan or duplicate verdict there
 * would make a timer alert or kill a gateway that is about to take its lock, or to be ended by its
 * supervisor's own --replace. Only when its fd table was read and shows no Hermes file, and no record
 * names it; the start-up reason then comes first.
 */
function gatewayDecision(s: Candidate, ctx: ClassifyContext, byHome: ReadonlyMap<string, Candidate[]>): Decision {
  const d = judgeGateway(s, ctx, byHome);
  if (d.verdict !== 'orphan' && d.verdict !== 'duplicate') return d;
  const age = ageAt(ctx.snap.takenAt, s.rec);
  const hr = s.id.hermesHome ? ctx.homeRec.get(s.id.hermesHome) : undefined;
  if (age === null || age >= ctx.startupWindowMs || s.id.holdsLockOf !== null || s.rec.visibility.fd !== 'ok') return d;
  if (s.rec.handles.some((h) => isFileOfInterest(h.path)) || (hr && (recordNames(hr.pidFile, s.rec) || recordNames(hr.lockFile, s.rec)))) return d;
  return {
    verdict: 'starting',
    reasons: [
      `started ${(age / 1000).toFixed(1)} s before the scan and holds no gateway.lock or Hermes file yet: within the start-up window (${ctx.startupWindowMs / 1000} s; a real gateway takes its lock 1–7 s after exec), so not judged ${d.verdict} yet`,
      ...d.reasons,
    ],
  };
}

/**
 * The verdict of every candidate, in candidate order.
 *
 * @returns subjects: each candidate with its one verdict and its reasons
 */
export function decideVerdicts(cands: readonly Candidate[], ctx: ClassifyContext): Subject[] {
  const byHome = gatewaysByHome(cands);
  const byPid = new Map(cands.map((c) => [c.rec.pid, c]));
  const decisions = new Map<Candidate, Decision>();
  const verdictOf = (c: Candidate) => decisions.get(c)?.verdict;
  for (const c of cands) if (c.role === 'gateway') decisions.set(c, gatewayDecision(c, ctx, byHome));

  // Gateways that serve a kanban root (a ghost's profile is gone: it is no rival).
  const dispatching = new Map<string, Candidate[]>();
  for (const c of cands) {
    if (c.role !== 'gateway' || !c.id.kanbanRoot || verdictOf(c) === 'ghost') continue;
    const list = dispatching.get(c.id.kanbanRoot) ?? [];
    list.push(c);
    dispatching.set(c.id.kanbanRoot, list);
  }

  const decideOther = (s: Candidate): Decision => {
    const reasons = [...s.reasons];
    const decided = (verdict: Decision['verdict'], ...more: string[]): Decision => ({ verdict, reasons: [...reasons, ...more] });
    switch (s.role) {
      case 'gateway-wrapper': {
        const child = cands.find((c) => c.rec.ppid === s.rec.pid && c.role === 'gateway');
        return decided(
          s.sup ? 'supervised' : 'manual',
          `a launcher that stays alive as the parent of ${child ? `gateway PID ${child.rec.pid} (${verdictOf(child)})` : 'a gateway'}; not a second gateway`,
          ...(s.sup ? [describeOwner(s.sup)] : []),
        );
      }
      case 'dispatcher-daemon': {
        if (s.sup) return decided('supervised', describeOwner(s.sup));
        const rivals = (s.id.kanbanRoot ? dispatching.get(s.id.kanbanRoot) ?? [] : []).filter((g) => verdictOf(g) === 'supervised' || verdictOf(g) === 'manual');
        const sups = ctx.a.homeSupervisorsOf(s.id.hermesHome);
        if (rivals.length === 0 && sups.length === 0) return decided('manual', 'the only dispatcher for its kanban root, not supervised');
        return decided(
          'orphan',
          ...(rivals.length > 0 ? [`a second dispatcher: gateway PID ${rivals.map((r) => r.rec.pid).join(', ')} already serves kanban root ${s.id.kanbanRoot} (dispatch_in_gateway defaults to true)`] : []),
          ...(sups.length > 0 ? [`outside the supervisor of its home: ${describeOutside(s.rec, sups)}`] : []),
          `launched by hand: ${launchedFrom(s.rec)}`,
        );
      }
      case 'kanban-worker': {
        const task = s.id.cmd?.kanbanTask ?? s.rec.env.HERMES_KANBAN_TASK ?? null;
        if (task) reasons.push(`kanban worker for task ${task}`);
        const scope = workerScope(s.rec);
        if (scope) reasons.push(`in transient scope ${scope}: a Hermes tool-worker scope, which belongs to the gateway that started it`);
        const parent = byPid.get(s.rec.ppid);
        if (parent && (parent.role === 'gateway' || parent.role === 'dispatcher-daemon')) {
          const v = verdictOf(parent) ?? 'unknown';
          return decided(v === 'supervised' ? 'supervised' : v === 'unknown' ? 'unknown' : 'manual', `child of ${parent.role} PID ${parent.rec.pid} (${v}); counted with its dispatcher, not as a rival`);
        }
        // The parent is some other Hermes process (a CLI dispatch): the worker is attached.
        if (parent) return decided('manual', `child of ${parent.role} PID ${parent.rec.pid}`);
        const p = ctx.a.byPid.get(s.rec.ppid);
        const live = s.id.hermesHome ? (byHome.get(s.id.hermesHome) ?? []).map((g) => g.rec.pid) : [];
        return decided(
          'orphaned-worker',
          `reparented to PID ${s.rec.ppid}${p ? ` (${p.argv[0] ?? p.comm})` : ''}: the gateway that spawned it is gone`,
          ...(s.sup ? [`still inside ${s.sup.unit} (${s.sup.via})`] : []),
          ...(live.length > 0 ? [`its home now has gateway PID ${live.join(', ')}, which did not start it`] : []),
        );
      }
      case 'stray-holder': {
        const dbs = [...new Set(s.rec.handles.filter((h) => isKanbanDataFile(h.path)).map((h) => kanbanDbOfFile(h.path)!.db))];
        return decided('stray-holder', `not a Hermes gateway or worker, but holds ${dbs.join(', ')}`);
      }
      default:
        return decided(s.sup ? 'supervised' : 'manual', s.sup ? describeOwner(s.sup) : `${s.role} process, not a gateway: not subject to supervision checks`);
    }
  };
  // Workers last: a worker's verdict follows its parent's (a gateway or a dispatcher daemon).
  for (const c of cands) if (c.role !== 'gateway' && c.role !== 'kanban-worker') decisions.set(c, decideOther(c));
  for (const c of cands) if (c.role === 'kanban-worker') decisions.set(c, decideOther(c));
  return cands.map((c) => ({ ...c, ...decisions.get(c)! }));
}
