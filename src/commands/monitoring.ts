/**
 * The periodic-check side of `hermes-doctor orphans` (issue 6): `--from FILE` (classify a snapshot
 * offline), `--quiet` (print nothing when healthy), `--format table|json|prometheus` and
 * `--textfile-dir DIR` (node_exporter textfile collector). Kept out of orphans.ts so that file only
 * gains its options and one branch.
 */
import { classify } from '../core/classify.js';
import { renderJson } from '../output/json.js';
import { renderNagios } from '../output/nagios.js';
import { renderPlain } from '../output/plain.js';
import { renderPrometheus } from '../output/prometheus.js';
import { colorWanted, renderTable } from '../output/table.js';
import { writeTextfile } from '../output/textfile.js';
import { readSnapshotFile } from '../sources/snapshot-file.js';
import { ExitCode, type Report } from '../types.js';
import { packageVersion } from '../version.js';
import type { CommandContext } from './context.js';
import { reportFilters } from './monitoring-args.js';

/** Output formats of `orphans`. */
export type OutputFormat = 'table' | 'json' | 'prometheus' | 'nagios' | 'plain';

/** The monitoring options, as yargs parses them. */
export interface MonitoringArgs {
  quiet?: boolean;
  format?: OutputFormat;
  plain?: boolean;
  'textfile-dir'?: string;
  from?: string;
  json?: boolean;
  color?: boolean;
  /** `--confirm-delay`, ms (absent: the context's default, else 5000). */
  'confirm-delay'?: number;
  home?: string[];
  profile?: string[];
  'all-users'?: boolean;
}

/**
 * Classifies a snapshot file with the same filters as a live run. The UID filter is the snapshot's
 * scanner UID (as a live run on that host would have used), unless --all-users or the scan ran as root.
 *
 * @throws SnapshotError with a clear message when the file is missing or invalid; Error with --kill
 */
export function classifyFromFile(args: MonitoringArgs & { from: string }): Report {
  // A snapshot's PIDs belong to another host or another moment: never act on them.
  if ((args as { kill?: unknown }).kill) throw new Error('--from classifies a snapshot offline; it cannot be combined with --kill');
  const snap = readSnapshotFile(args.from);
  return classify(snap, reportFilters(args, snap.scannerUid));
}

/**
 * Writes the textfile (when asked) and prints the report in the chosen format, honouring --quiet.
 *
 * @param orphansKilled kills done by this run (from the --kill step), or null/undefined when none ran
 * @returns the exit code: the report's, or 3 when a healthy run could not write its textfile
 */
export function emitReport(report: Report, args: MonitoringArgs, ctx: CommandContext, orphansKilled?: number | null): number {
  let code: number = report.summary.exitCode;
  if (args.plain && args.format && args.format !== 'plain') {
    ctx.stderr(`hermes-doctor: --plain is --format plain; it cannot be combined with --format ${args.format}\n`);
    return ExitCode.UNKNOWN;
  }
  const metrics = () => renderPrometheus(report, { orphansKilled: orphansKilled ?? null, version: packageVersion() });
  if (args['textfile-dir']) {
    try {
      writeTextfile(args['textfile-dir'], metrics());
    } catch (err) {
      ctx.stderr(`hermes-doctor: cannot write the textfile in ${args['textfile-dir']}: ${(err as Error).message}\n`);
      if (code === ExitCode.OK) code = ExitCode.UNKNOWN;
    }
  }
  if (args.quiet && report.summary.exitCode === ExitCode.OK) return code;
  const format: OutputFormat = args.format ?? (args.plain ? 'plain' : args.json ? 'json' : 'table');
  if (format === 'json') ctx.stdout(renderJson(report));
  else if (format === 'prometheus') ctx.stdout(metrics());
  else if (format === 'nagios') ctx.stdout(renderNagios(report));
  else if (format === 'plain') ctx.stdout(renderPlain(report, args.from ? Date.parse(report.takenAt) : Date.now()));
  else {
    // A snapshot's ages are relative to when it was taken, not to now.
    const nowMs = args.from ? Date.parse(report.takenAt) : NaN;
    ctx.stdout(renderTable(report, { color: args.color ?? colorWanted(), ...(Number.isFinite(nowMs) ? { nowMs } : {}) }) + '\n');
  }
  return code;
}
