/**
 * The classifier: a pure function from a {@link HostSnapshot} to a {@link Report}. No I/O, no clock:
 * the same snapshot always gives the same report, so snapshots from other hosts (fixtures, bug
 * reports) classify exactly as they would live.
 *
 * Verdicts: supervised, manual, orphan, duplicate, ghost, orphaned-worker, stray-holder, starting,
 * unknown. Kanban risk per DB: rival-writers (critical; the corruption condition of hermes-agent #35240),
 * stray-writer (warning), unknown, ok.
 *
 * The steps: the snapshot's analysis (../analysis.ts, computed once), verdicts (./verdicts.ts), kanban
 * databases (./holders.ts, ./kanban.ts), findings (./findings.ts), then the report's filters.
 */
import path from 'node:path';
import type { ExitCodeValue, Finding, HomeRecord, HostSnapshot, ProcessVerdict, Report, Verdict } from '../../types.js';
import { ExitCode } from '../../types.js';
import { analyze, attachAnalysis } from '../analysis.js';
import { cleanPath, kanbanRootOfDb, profileOfHome, rootOfHome } from '../paths.js';
import { killRemedy, remedyScope } from '../remedy.js';
import { type ClassifyContext, type ClassifyOptions, STARTUP_WINDOW_MS, type Subject, TARGET_VERDICTS } from './common.js';
import { HOME_FINDINGS, identityFindings, kanbanFindings, processFindings, unitFindings, visibilityFindings } from './findings.js';
import { kanbanReports } from './kanban.js';
import { DB_FINDINGS, type DbHolder, databaseHealth } from '../db-health.js';
import { candidatesOf, decideVerdicts } from './verdicts.js';

export { type ClassifyOptions, STARTUP_WINDOW_MS } from './common.js';

/** Verdicts that `--kill` may target (never the flock owner, never a supervised process). */
export const KILLABLE_VERDICTS: ReadonlySet<Verdict> = TARGET_VERDICTS;

/**
 * Classifies a host snapshot.
 *
 * @param snap what the sources observed
 * @param opts report filters
 * @returns the report; `summary.exitCode` follows the Nagios convention (0 ok, 1 warning, 2 critical, 3 unknown)
 */
export function classify(snap: HostSnapshot, opts: ClassifyOptions = {}): Report {
  const a = analyze(snap);
  const ctx: ClassifyContext = {
    snap,
    a,
    startupWindowMs: opts.startupWindowMs ?? STARTUP_WINDOW_MS,
    // One remedy per PID, wherever the report offers one (../remedy.ts): never a bare kill.
    scope: remedyScope(snap, opts.homes ?? []),
    homeRec: new Map<string, HomeRecord>(snap.homes.map((h) => [cleanPath(h.path), h])),
    unknownKinds: snap.supervisors.filter((s) => s.status === 'unknown'),
  };
  const subjects = decideVerdicts(candidatesOf(ctx), ctx);
  const kanban = kanbanReports(ctx, subjects);
  const health = databaseHealth({ databases: snap.databases ?? [], processes: dbHolders(ctx, subjects), kanban, logs: snap.corruptionLogs ?? [] });
  const findings: Finding[] = [
    ...processFindings(ctx, subjects),
    ...kanbanFindings(ctx, kanban),
    ...health.findings,
    ...identityFindings(ctx, subjects),
    ...unitFindings(a.units),
    ...visibilityFindings(ctx),
  ];

  // Filters, then the summary.
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
  const outDatabases = filtered
    ? health.databases.filter((d) => (d.kind === 'kanban' ? reportedRoots.has(d.owner) || outKanban.some((k) => k.db === d.path) : (homeFilter ?? []).includes(d.owner) || keptHomes.has(d.owner)))
    : health.databases;
  /** Whether a database path (also one whose file is gone) belongs to a reported root or home. */
  const inReported = (db: string) => (path.posix.basename(db) === 'state.db' ? [...(homeFilter ?? []), ...keptHomes].includes(path.posix.dirname(db)) : reportedRoots.has(kanbanRootOfDb(db)));
  const outUnits = filtered && homeFilter ? a.units.filter((u) => (u.home !== null && homeFilter.includes(u.home)) || u.pids.some((p) => keptPids.has(p))) : a.units;
  /** Whether a filtered report keeps a finding, by its subject: identity files by their home, then the process, the unit, the database. */
  const keep = (f: Finding): boolean => {
    const home = f.subject?.home;
    if (HOME_FINDINGS.has(f.code) && home !== undefined) {
      if (homeFilter) return homeFilter.includes(home);
      if (opts.profiles) return keptHomes.has(home) || opts.profiles.includes(profileOfHome(home));
      return true;
    }
    const { unit, db } = f.subject ?? {};
    // A database finding stays with its database: the holder of a deleted WAL may be no Hermes process at all.
    if (DB_FINDINGS.has(f.code) && db !== undefined && (outDatabases.some((d) => d.path === db) || inReported(db))) return true;
    if (f.pid !== null) return keptPids.has(f.pid);
    if (unit !== undefined) return outUnits.some((u) => u.unit === unit);
    if (db !== undefined) return outKanban.some((k) => k.db === db) || outDatabases.some((d) => d.path === db);
    return true;
  };
  const outFindings = filtered ? findings.filter(keep) : findings;
  outFindings.push(...filterTargetsNotFound(snap, opts, kept));

  const processes: ProcessVerdict[] = kept
    .sort((x, y) => x.rec.pid - y.rec.pid)
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
      verdict: s.verdict,
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
  outFindings.sort((x, y) => sevOrder[x.severity] - sevOrder[y.severity] || (x.pid ?? 0) - (y.pid ?? 0));
  return attachAnalysis(
    {
      schema: 'hermes-doctor.orphans/v1',
      takenAt: snap.takenAt,
      hostname: snap.hostname,
      processes,
      kanban: outKanban,
      findings: outFindings,
      supervisors: supervisorSummary(snap, subjects),
      summary: { processes: processes.length, byVerdict, critical, unknown, warnings, exitCode, scanMs: snap.scanMs },
      units: outUnits,
      ...(snap.databases ? { databases: outDatabases } : {}),
    },
    a,
  );
}

/**
 * Every process of the snapshot as the database judge needs it: the verdict where the classifier gave
 * one, and the report's way to end it for the verdicts `--kill` takes (orphaned workers with
 * `--include-workers`); null otherwise (a person restarts a supervised or hand-run process).
 */
function dbHolders(ctx: ClassifyContext, subjects: readonly Subject[]): DbHolder[] {
  const byPid = new Map(subjects.map((s) => [s.rec.pid, s]));
  return ctx.snap.processes.map((rec) => {
    const s = byPid.get(rec.pid);
    const killable = s !== undefined && (TARGET_VERDICTS.has(s.verdict) || s.verdict === 'orphaned-worker');
    return {
      rec,
      role: s?.role ?? null,
      verdict: s?.verdict ?? null,
      remedy: killable ? killRemedy([rec.pid], ctx.scope, s.verdict === 'orphaned-worker') : null,
      home: s?.id.hermesHome ?? null,
    };
  });
}

/**
 * The report's supervisor kinds. A kind the source found absent (no scan directory, no systemd) is still
 * present when a process was proven supervised by it another way (a parent `s6-supervise gateway-<p>`
 * outside the scan directory): the summary must not say "s6 absent" beside an s6 slot.
 */
function supervisorSummary(snap: HostSnapshot, subjects: readonly Subject[]): Report['supervisors'] {
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
function filterTargetsNotFound(snap: HostSnapshot, opts: ClassifyOptions, kept: readonly Subject[]): Finding[] {
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
    ...missingHomes.map(
      (h): Finding => ({
        severity,
        code: 'HOME_NOT_FOUND',
        pid: null,
        message: `--home ${h}: no such HERMES_HOME (the folder does not exist${snap.homes.some((x) => cleanPath(x.path) === h) ? '' : ' or was not in sight of the scan'}) and no Hermes process runs for it: nothing was checked for it`,
        remedy: null,
        subject: { home: h },
      }),
    ),
    ...missingProfiles.map(
      (p): Finding => ({
        severity,
        code: 'PROFILE_NOT_FOUND',
        pid: null,
        message: `--profile ${p}: no such profile under ${roots.length > 0 ? roots.map((r) => `${r}/profiles`).join(', ') : 'any Hermes root in sight'} and no Hermes process runs for it: nothing was checked for it`,
        remedy: null,
      }),
    ),
  ];
}
