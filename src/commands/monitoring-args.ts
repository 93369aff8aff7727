/**
 * Whether a run of `orphans` needs the monitoring module (./monitoring.ts), and the report filters a
 * live run and a `--from` run share. Kept apart so that a plain scan does not load that module and the
 * table renderer it imports (issue 8).
 */
import type { Argv } from 'yargs';
import type { ClassifyOptions } from '../core/classify.js';
import { confirmDelayOption } from './numeric-args.js';

/**
 * The report filters of `--home`, `--profile` and `--all-users`: the processes of `uid` only, unless
 * --all-users, or `uid` is root (0) or unknown (< 0).
 */
export function reportFilters(args: { home?: string[]; profile?: string[]; 'all-users'?: boolean }, uid: number): ClassifyOptions {
  return {
    ...(args.home ? { homes: args.home } : {}),
    ...(args.profile ? { profiles: args.profile } : {}),
    uids: args['all-users'] || uid <= 0 ? null : [uid],
  };
}

/** The monitoring options that decide whether ./monitoring.ts is needed. */
export interface MonitoringSwitches {
  quiet?: boolean;
  format?: string;
  plain?: boolean;
  'textfile-dir'?: string;
  from?: string;
}

/** True when the run needs the monitoring module (any monitoring option set). */
export function usesMonitoring(args: MonitoringSwitches): boolean {
  return !!(args.quiet || args.format || args.plain || args['textfile-dir'] || args.from);
}

/** Adds --quiet, --format, --plain, --textfile-dir and --from to a command. */
export function monitoringOptions<T>(y: Argv<T>) {
  return y
    .option('quiet', {
      type: 'boolean',
      default: false,
      describe: 'print nothing when healthy (exit 0); print the report otherwise. For cron and systemd timers',
    })
    .option('format', {
      type: 'string',
      choices: ['table', 'json', 'prometheus', 'nagios', 'plain'] as const,
      describe:
        'output format (--json is --format json): prometheus: text exposition format; nagios: plugin output (status and summary | perfdata); plain: --plain',
      defaultDescription: 'table',
    })
    .option('plain', {
      type: 'boolean',
      describe: 'one tab-separated line per process, no header, no box drawing, no colour (like systemctl --plain --no-legend); same as --format plain',
    })
    .option('textfile-dir', {
      type: 'string',
      describe: "also write the metrics to DIR/hermes_doctor.prom atomically (node_exporter's --collector.textfile.directory)",
    })
    .option('confirm-delay', confirmDelayOption)
    .option('from', {
      type: 'string',
      describe: 'classify a snapshot file (hermes-doctor snapshot -o FILE) instead of scanning this host; - reads stdin',
    });
}
