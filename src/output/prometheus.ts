/**
 * The report as Prometheus metrics, pure: Report → text exposition format 0.0.4
 * (https://prometheus.io/docs/instrumenting/exposition_formats/#text-based-format), for stdout
 * (`--format prometheus`) or node_exporter's textfile collector (`--textfile-dir`). Validated with
 * `promtool check metrics` in the tests.
 *
 * Every run is a separate process, so everything is a gauge describing the last run; alerting rules
 * live in Prometheus (docs/monitoring.md).
 *
 * Metrics (all prefixed `hermes_doctor_`):
 * - `build_info{version}`: always 1, the hermes-doctor version that wrote the metrics;
 * - `gateways{home,profile,verdict}`: gateway processes by HERMES_HOME, profile and verdict
 *   (`home=""` / `profile=""` when unknown);
 * - `processes{role,verdict}`: every Hermes process of the report;
 * - `orphan_info{hostname,home,profile,role,verdict,pid}`: always 1, one series per process an operator
 *   must remove (verdicts orphan, duplicate, ghost, orphaned-worker), so an alert can name the PID;
 * - `kanban_writers{db}`, `kanban_holders{db}`: processes that may write / have open each kanban.db;
 * - `kanban_risk{db,risk}`: 1 for the DB's risk (`ok`, `stray-writer`, `rival-writers`, `unknown`), 0 for the others;
 * - `findings{severity}`: findings by severity (critical, unknown, warning, info);
 * - `supervisor_status{kind,status}`: 1 per supervisor kind with its status (present, absent, unknown);
 * - `exit_code`: the run's exit code (0 ok, 1 warning, 2 critical, 3 could not decide);
 * - `orphans_killed`: orphans the run killed (only when the run used `--kill` and reported kills);
 * - `scan_duration_seconds`: how long the host scan took;
 * - `last_run_timestamp_seconds`: when the run finished, seconds since the epoch.
 */
import type { Report, Severity } from '../types.js';
import { redact } from './redact.js';
import { escapeControls } from './terminal.js';

export interface PrometheusOptions {
  /** End of the run, ms since the epoch (default: Date.now()). */
  nowMs?: number;
  /**
   * Orphans killed by this run. Give it only when the run used `--kill` and the kill step reported
   * its outcome; undefined or null leaves the metric out (never a made-up 0).
   */
  orphansKilled?: number | null;
  /** Version of hermes-doctor for `build_info` (default "unknown"; the CLI passes its package version). */
  version?: string;
}

/** Verdicts that get a per-process `orphan_info` series: the ones an operator has to remove. */
export const ORPHAN_INFO_VERDICTS: readonly string[] = ['orphan', 'duplicate', 'ghost', 'orphaned-worker'];

/**
 * Escapes a label value: control characters other than the line feed shown as text first (`\x1b`, see
 * ./terminal.ts), then backslash, double quote and line feed (exposition format).
 */
export function escapeLabel(value: string): string {
  const shown = value.split('\n').map(escapeControls).join('\n');
  return shown.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function labels(l: Record<string, string>): string {
  const parts = Object.entries(l).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
  return parts.length ? `{${parts.join(',')}}` : '';
}

function fmt(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Infinity) return '+Inf';
  if (n === -Infinity) return '-Inf';
  return String(n);
}

class Exposition {
  private lines: string[] = [];
  metric(name: string, help: string, samples: { labels?: Record<string, string>; value: number }[]): void {
    this.lines.push(`# HELP hermes_doctor_${name} ${help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`);
    this.lines.push(`# TYPE hermes_doctor_${name} gauge`);
    for (const s of samples) this.lines.push(`hermes_doctor_${name}${labels(s.labels ?? {})} ${fmt(s.value)}`);
  }
  text(): string {
    return this.lines.join('\n') + '\n';
  }
}

function countBy<T>(items: T[], key: (x: T) => string[]): Map<string, { labels: string[]; n: number }> {
  const out = new Map<string, { labels: string[]; n: number }>();
  for (const x of items) {
    const k = key(x);
    const id = JSON.stringify(k);
    const cur = out.get(id) ?? { labels: k, n: 0 };
    cur.n++;
    out.set(id, cur);
  }
  return out;
}

const SEVERITIES: Severity[] = ['critical', 'unknown', 'warning', 'info'];
const RISKS = ['ok', 'stray-writer', 'rival-writers', 'unknown'] as const;

/**
 * Renders a report as Prometheus text exposition format. Output is sorted and deterministic for a
 * given report and options.
 */
export function renderPrometheus(raw: Report, opts: PrometheusOptions = {}): string {
  // Labels carry host paths and profile names: masked like every other output.
  const report = redact(raw);
  const e = new Exposition();
  e.metric('build_info', 'Version of hermes-doctor that wrote these metrics; always 1.', [{ labels: { version: opts.version ?? 'unknown' }, value: 1 }]);
  const gw = countBy(
    report.processes.filter((p) => p.role === 'gateway'),
    (p) => [p.hermesHome ?? '', p.profile ?? '', p.verdict],
  );
  e.metric(
    'gateways',
    'Hermes gateway processes by HERMES_HOME, profile and verdict (last run).',
    [...gw.values()]
      .sort((a, b) => a.labels.join('\0').localeCompare(b.labels.join('\0')))
      .map((g) => ({ labels: { home: g.labels[0]!, profile: g.labels[1]!, verdict: g.labels[2]! }, value: g.n })),
  );
  const procs = countBy(report.processes, (p) => [p.role, p.verdict]);
  e.metric(
    'processes',
    'Hermes processes by role and verdict (last run).',
    [...procs.values()]
      .sort((a, b) => a.labels.join('\0').localeCompare(b.labels.join('\0')))
      .map((g) => ({ labels: { role: g.labels[0]!, verdict: g.labels[1]! }, value: g.n })),
  );
  e.metric(
    'orphan_info',
    'One series per process to remove (orphan, duplicate, ghost, orphaned-worker), value 1; labels name host, home, PID and verdict.',
    report.processes
      .filter((p) => ORPHAN_INFO_VERDICTS.includes(p.verdict))
      .sort((a, b) => a.pid - b.pid)
      .map((p) => ({
        labels: { hostname: report.hostname, home: p.hermesHome ?? '', profile: p.profile ?? '', role: p.role, verdict: p.verdict, pid: String(p.pid) },
        value: 1,
      })),
  );
  const dbs = [...report.kanban].sort((a, b) => a.db.localeCompare(b.db));
  e.metric('kanban_writers', 'Gateways and dispatchers that may write each kanban database (last run).', dbs.map((k) => ({ labels: { db: k.db }, value: k.writers.length })));
  e.metric('kanban_holders', 'Processes with an open fd on each kanban database, its WAL or shm (last run).', dbs.map((k) => ({ labels: { db: k.db }, value: k.holders.length })));
  e.metric(
    'kanban_risk',
    'Kanban database risk: 1 for the current risk (ok, stray-writer, rival-writers, unknown), 0 for the others.',
    dbs.flatMap((k) => RISKS.map((r) => ({ labels: { db: k.db, risk: r }, value: k.risk === r ? 1 : 0 }))),
  );
  e.metric(
    'findings',
    'Findings of the last run by severity.',
    SEVERITIES.map((s) => ({ labels: { severity: s }, value: report.findings.filter((f) => f.severity === s).length })),
  );
  e.metric(
    'supervisor_status',
    'Supervisor kinds seen by the last run: 1 with the status (present, absent, unknown).',
    report.supervisors.map((s) => ({ labels: { kind: s.kind, status: s.status }, value: 1 })),
  );
  e.metric('exit_code', 'Exit code of the last run: 0 ok, 1 warning, 2 critical, 3 could not decide.', [{ value: report.summary.exitCode }]);
  if (opts.orphansKilled !== undefined && opts.orphansKilled !== null) {
    e.metric('orphans_killed', 'Orphan processes killed by the last run (runs with --kill only).', [{ value: opts.orphansKilled }]);
  }
  e.metric('scan_duration_seconds', 'Duration of the host scan of the last run, seconds.', [{ value: Math.round(report.summary.scanMs) / 1000 }]);
  e.metric('last_run_timestamp_seconds', 'End of the last run, seconds since the Unix epoch.', [{ value: Math.round(opts.nowMs ?? Date.now()) / 1000 }]);
  return e.text();
}
