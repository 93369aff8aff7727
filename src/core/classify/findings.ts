/**
 * Findings: one per process outside its supervisor (or undecided), per kanban database at risk, per bad
 * or contradicting identity file, per crash-looping unit, per thing the scan could not see. Each carries
 * a structured `subject` (pid, db, unit, home) that the report's filters match on. Pure.
 */
import path from 'node:path';
import type { Finding, FindingCode, FindingSubject, KanbanReport, UnitState } from '../../types.js';
import { killRemedy } from '../remedy.js';
import { FILES, cleanPath, isKanbanDataFile } from '../paths.js';
import { rulesFor } from '../supervision/index.js';
import { type ClassifyContext, type Subject, TARGET_VERDICTS, launchedFrom, short, writes } from './common.js';

/** A finding in the report's key order (subject last, and only when it says something). */
function finding(severity: Finding['severity'], code: FindingCode, pid: number | null, message: string, remedy: string | null, subject?: FindingSubject): Finding {
  return { severity, code, pid, message, remedy, ...(subject ? { subject } : {}) };
}

/** The subject of a finding about one process: its PID and, when known, its HERMES_HOME. */
function processSubject(s: Subject): FindingSubject {
  return { pid: s.rec.pid, ...(s.id.hermesHome ? { home: s.id.hermesHome } : {}) };
}

/** Findings about single processes, in subject order: orphans, duplicates, ghosts, orphaned workers, stray holders, starting and undecided gateways. */
export function processFindings(ctx: ClassifyContext, subjects: readonly Subject[]): Finding[] {
  const termCommand = (pid: number) => killRemedy([pid], ctx.scope);
  const out: Finding[] = [];
  for (const s of subjects) {
    const pid = s.rec.pid;
    const what = `PID ${pid} (${short(s.rec.argv)})`;
    const subject = processSubject(s);
    switch (s.verdict) {
      case 'orphan': {
        const sups = ctx.a.homeSupervisorsOf(s.id.hermesHome);
        const restart = sups[0] ? `; the supervised way to restart this home is \`${sups[0].restart}\`` : '';
        out.push(
          finding(
            'warning',
            s.role === 'dispatcher-daemon' ? 'ORPHAN_DISPATCHER' : 'ORPHAN_GATEWAY',
            pid,
            `${what} is a ${s.role} for ${s.id.hermesHome ?? s.id.kanbanRoot} running outside its supervisor${sups[0] ? ` ${sups[0].unit}` : ''} (${launchedFrom(s.rec)})${restart}.`,
            termCommand(pid),
            subject,
          ),
        );
        break;
      }
      case 'duplicate':
        out.push(finding('warning', 'DUPLICATE_GATEWAY', pid, `${what} is a second gateway for ${s.id.hermesHome}; it does not hold gateway.lock and a --replace will not see it.`, termCommand(pid), subject));
        break;
      case 'ghost': {
        const respawn = s.sup ? ` ${s.sup.kind} ${s.sup.unit} will respawn it: stop that first.` : '';
        // A supervisor that would respawn it is stopped the supervised way; otherwise the process itself is ended.
        const stop = s.sup ? rulesFor(s.sup.kind)?.stopCommand(s.sup, ctx.snap) ?? null : null;
        out.push(
          finding(
            'warning',
            'GHOST_GATEWAY',
            pid,
            s.abandoned ? `${what} was started by an app that is gone; nothing will stop it (${s.abandoned}).` : `${what} serves deleted profile ${s.id.profile} (${s.id.hermesHome}).${respawn}`,
            stop ?? termCommand(pid),
            subject,
          ),
        );
        break;
      }
      case 'orphaned-worker':
        out.push(finding('warning', 'ORPHANED_WORKER', pid, `${what} is a kanban worker whose gateway is gone (PPID ${s.rec.ppid}); it may still be finishing its task.`, killRemedy([pid], ctx.scope, true), subject));
        break;
      case 'stray-holder': {
        const files = s.rec.handles.filter((h) => isKanbanDataFile(h.path));
        const rw = files.some((h) => writes(h.mode));
        out.push(
          finding(
            rw ? 'warning' : 'info',
            rw ? 'STRAY_WRITER' : 'STRAY_HOLDER',
            pid,
            `${what} is not part of Hermes but holds ${files.map((h) => `${h.path} (${h.mode ?? '?'})`).join(', ')}; a person should decide whether to close it.`,
            null,
            subject,
          ),
        );
        break;
      }
      case 'starting':
        out.push(finding('info', 'GATEWAY_STARTING', pid, `${what}: ${s.reasons[0]}.`, null, subject));
        break;
      case 'unknown':
        out.push(finding('unknown', 'UNDECIDED', pid, `${what}: ${s.reasons[s.reasons.length - 1]}.`, null, subject));
        break;
      default:
        break;
    }
  }
  return out;
}

/** RIVAL_WRITERS (critical) and KANBAN_RISK_UNKNOWN per database. */
export function kanbanFindings(ctx: ClassifyContext, kanban: readonly KanbanReport[]): Finding[] {
  const out: Finding[] = [];
  for (const k of kanban) {
    if (k.risk === 'rival-writers') {
      const rogue = k.writers.filter((w) => TARGET_VERDICTS.has(w.verdict)).map((w) => w.pid);
      out.push(
        finding(
          'critical',
          'RIVAL_WRITERS',
          null,
          `${k.db}: ${k.reasons[0]} (the corruption condition of hermes-agent #35240: disk I/O error, then "database disk image is malformed").` +
            (rogue.length === 0 ? ' Keep one dispatcher per root: set kanban.dispatch_in_gateway: false in the config of all profiles but one, or upgrade Hermes to a version with the singleton dispatcher lock.' : ''),
          rogue.length > 0 ? killRemedy(rogue, ctx.scope) : null,
          { db: k.db },
        ),
      );
    } else if (k.risk === 'unknown') {
      out.push(finding('unknown', 'KANBAN_RISK_UNKNOWN', null, `${k.db}: ${k.reasons[0]}: ${k.reasons.slice(1).join('; ')}.`, null, { db: k.db }));
    }
  }
  return out;
}

/** Codes of findings about one home (its identity files, its logs): a filtered report keeps them by their home. */
export const HOME_FINDINGS: ReadonlySet<FindingCode> = new Set(['IDENTITY_FILE_BAD', 'IDENTITY_FILE_LEGACY', 'IDENTITY_FILE_STALE', 'IDENTITY_FILE_CONTRADICTS_LOCK', 'CORRUPTION_LOGGED']);

/**
 * Findings about the identity files of every home in sight (one a process runs for, or one with a
 * supervisor): bad, legacy and stale files first, home by home, then files that contradict the live
 * flock owner of gateway.lock.
 */
export function identityFindings(ctx: ClassifyContext, subjects: readonly Subject[]): Finding[] {
  const { snap, a } = ctx;
  const out: Finding[] = [];
  const subjectHomes = new Set(subjects.map((s) => s.id.hermesHome).filter((h): h is string => h !== null));
  const inSight = (home: string) => subjectHomes.has(home) || a.homeSupervisorsOf(home).length > 0;
  for (const h of snap.homes) {
    const home = cleanPath(h.path);
    if (!inSight(home)) continue;
    for (const f of [h.pidFile, h.stateFile]) {
      if (f.status === 'corrupt' || f.status === 'unreadable') {
        out.push(finding('info', 'IDENTITY_FILE_BAD', null, `${f.path} is ${f.status} (${f.error}); it was not trusted.`, null, { home }));
      } else if (f.status === 'legacy') {
        out.push(finding('info', 'IDENTITY_FILE_LEGACY', f.pid, `${f.path} is a legacy bare PID (${f.pid}) without start_time; matched by PID only.`, null, { home, ...(f.pid !== null ? { pid: f.pid } : {}) }));
      } else if (f.status === 'ok' && f.pid !== null && f === h.pidFile) {
        const p = a.byPid.get(f.pid);
        const live = p && (f.startTime === null || f.startTime === p.startTicks);
        if (!live) {
          out.push(
            finding(
              'info',
              'IDENTITY_FILE_STALE',
              f.pid,
              p
                ? `${f.path} names PID ${f.pid} started at tick ${f.startTime}; PID ${f.pid} now runs another process (${short(p.argv.length > 0 ? p.argv : [p.comm])}, started at tick ${p.startTicks}): the PID was reused.`
                : `${f.path} names PID ${f.pid}${f.startTime !== null ? ` started at tick ${f.startTime}` : ''}, which is not running.`,
              null,
              { home, pid: f.pid },
            ),
          );
        }
      }
    }
  }
  // Identity files that contradict the live flock owner of gateway.lock, the strongest ownership proof
  // of a home (gateway/status.py:acquire_gateway_runtime_lock, v0.15.1 and 306e2d2): a gateway that
  // saved its state on its way out, or a stale-record cleanup, leaves the owner's home saying "stopped" or naming nobody, and Hermes's own status, --replace and the
  // s6 autostart read these files.
  for (const h of snap.homes) {
    const home = cleanPath(h.path);
    if (!inSight(home)) continue;
    if (!h.exists || h.tombstoned) continue; // a deleted profile's gateway is GHOST_GATEWAY already
    const lockFile = path.posix.join(home, FILES.gatewayLock);
    const owners = a.lockHolders(lockFile).filter((pid) => a.byPid.has(pid));
    if (owners.length !== 1) continue;
    const owner = a.byPid.get(owners[0]!)!;
    const restart = a.homeSupervisorsOf(home)[0]?.restart ?? null;
    const contradictions: string[] = [];
    if (h.pidFile.status === 'missing') contradictions.push(`${h.pidFile.path} is missing`);
    for (const f of [h.pidFile, h.stateFile]) {
      if ((f.status !== 'ok' && f.status !== 'legacy') || f.pid === null) continue;
      const named = a.byPid.get(f.pid);
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
    out.push(
      finding(
        'warning',
        'IDENTITY_FILE_CONTRADICTS_LOCK',
        owner.pid,
        `PID ${owner.pid} holds the flock on ${lockFile}, but ${contradictions.join(' and ')}: Hermes's \`gateway status\`, --replace and the s6 autostart read these files and will not see the running gateway` +
          (restart ? `; a supervised restart rewrites them` : '; restarting that gateway rewrites them') +
          '.',
        restart,
        { home, pid: owner.pid },
      ),
    );
  }
  return out;
}

/** UNIT_CRASH_LOOP per unit whose crash-loop reason is set: a unit that cannot start leaves its home without a gateway. */
export function unitFindings(units: readonly UnitState[]): Finding[] {
  const out: Finding[] = [];
  for (const u of units) {
    if (!u.crashLoop) continue;
    const chdir = /WorkingDirectory|CHDIR/.test(u.crashLoop);
    out.push(
      finding(
        'warning',
        'UNIT_CRASH_LOOP',
        null,
        `${u.unit} (${u.scope}${u.uid !== undefined ? ` UID ${u.uid}` : ''}) ` +
          (u.activeState === 'active'
            ? `will crash-loop on its next start: ${u.crashLoop}`
            : `crash-loops: ${u.crashLoop}; ${u.home ? `home ${u.home} has no supervised gateway` : 'its gateway is down'}`) +
          (chdir
            ? '. Point WorkingDirectory at the HERMES_HOME (or regenerate the unit with `hermes gateway install`), then `systemctl daemon-reload` and restart it.'
            : `. See \`systemctl${u.scope === 'user' ? ' --user' : ''} status ${u.unit}\`.`),
        null,
        { unit: u.unit, ...(u.home ? { home: u.home } : {}) },
      ),
    );
  }
  return out;
}

/** What the scan could not see: supervisor kinds whose state is unknown, unreadable fd tables, the sources' notes. */
export function visibilityFindings(ctx: ClassifyContext): Finding[] {
  const { snap } = ctx;
  const out: Finding[] = [];
  for (const k of ctx.unknownKinds) out.push(finding('info', 'SUPERVISOR_UNKNOWN', null, `${k.kind}: ${k.detail}.`, null));
  const fdNotes = snap.notes.filter((n) => n.what === 'fd');
  if (fdNotes.length > 0) {
    out.push(
      finding(
        'info',
        'NOT_VISIBLE',
        null,
        `the fd tables of ${fdNotes.length} process(es) could not be read (${fdNotes.slice(0, 5).map((n) => `PID ${n.pid}`).join(', ')}${fdNotes.length > 5 ? ', …' : ''}): a kanban holder among them would be missed.`,
        null,
      ),
    );
  }
  for (const n of snap.notes.filter((x) => x.what !== 'fd')) {
    out.push(finding('info', 'NOT_VISIBLE', n.pid ?? null, n.detail, null, n.pid != null ? { pid: n.pid } : undefined));
  }
  return out;
}
