/**
 * `--format nagios`: the report as a Nagios/Icinga plugin's output, pure. The exit codes already follow
 * the plugin convention (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN); this gives them the text the
 * Nagios Plugin Development Guidelines (https://nagios-plugins.org/doc/guidelines.html, "Plugin
 * Output" and "Performance data") describe:
 *
 *   HERMES CRITICAL - rival writers on 1 kanban.db; 2 Hermes processes: 1 supervised, 1 orphan | processes=2;;;0 …
 *   CRITICAL RIVAL_WRITERS: … (remedy: hermes-doctor orphans --kill --pid 15747)
 *   WARNING ORPHAN_GATEWAY: … (remedy: kill -TERM 15747)
 *
 * Line 1: service name, status word, a summary, then `|` and the performance data
 * (`'label'=value[UOM];warn;crit;min;max`, thresholds left empty: the verdicts decide, not numbers).
 * The following lines (the plugin's long output) hold one line per critical, unknown and warning
 * finding. `|` is the field separator of this format, so any `|` in host text is shown as `/`; host
 * strings are masked and their control characters shown visibly (./redact.ts textModel).
 */
import type { Report, Verdict } from '../types.js';
import { textModel } from './redact.js';

/** Status words by exit code (0–3), as Nagios prints them. */
export const NAGIOS_STATUS = ['OK', 'WARNING', 'CRITICAL', 'UNKNOWN'] as const;

/** Verdicts counted as `orphans` in the performance data: the processes to remove. */
const REMOVE: Verdict[] = ['orphan', 'duplicate', 'ghost', 'orphaned-worker'];
const VERDICT_ORDER: Verdict[] = ['supervised', 'manual', 'orphan', 'duplicate', 'ghost', 'orphaned-worker', 'stray-holder', 'unknown'];

const noPipe = (s: string): string => s.replace(/\|/g, '/');
const plural = (n: number, one: string, many = `${one}es`): string => `${n} ${n === 1 ? one : many}`;

/** Renders the report as plugin output (first line, then long output), ending in `\n`. */
export function renderNagios(raw: Report): string {
  const report = textModel(raw);
  const s = report.summary;
  const status = NAGIOS_STATUS[s.exitCode] ?? 'UNKNOWN';
  const by = s.byVerdict as Partial<Record<Verdict, number>>;
  const rival = report.kanban.filter((k) => k.risk === 'rival-writers').length;
  const stray = report.kanban.filter((k) => k.risk === 'stray-writer').length;
  const parts: string[] = [];
  if (rival > 0) parts.push(`rival writers on ${rival} kanban.db`);
  if (stray > 0) parts.push(`a stray writer on ${stray} kanban.db`);
  const verdicts = VERDICT_ORDER.filter((v) => (by[v] ?? 0) > 0).map((v) => `${by[v]} ${v}`);
  parts.push(s.processes === 0 ? 'no Hermes processes' : `${plural(s.processes, 'Hermes process')}: ${verdicts.join(', ')}`);
  const orphans = REMOVE.reduce((n, v) => n + (by[v] ?? 0), 0);
  const perf = [
    `processes=${s.processes};;;0`,
    `supervised=${by.supervised ?? 0};;;0`,
    `orphans=${orphans};;;0`,
    `unknown=${by.unknown ?? 0};;;0`,
    `critical=${s.critical};;;0`,
    `warnings=${s.warnings};;;0`,
    `rival_writer_dbs=${rival};;;0`,
    `scan_time=${(Math.round(s.scanMs) / 1000).toFixed(3)}s;;;0`,
  ];
  const lines = [`HERMES ${status} - ${noPipe(parts.join('; '))} | ${perf.join(' ')}`];
  for (const sev of ['critical', 'unknown', 'warning'] as const) {
    for (const f of report.findings.filter((x) => x.severity === sev)) {
      lines.push(noPipe(`${sev.toUpperCase()} ${f.code}: ${f.message}${f.remedy ? ` (remedy: ${f.remedy})` : ''}`));
    }
  }
  return lines.join('\n') + '\n';
}
