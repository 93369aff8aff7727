/**
 * Whether a run of `orphans` needs the monitoring module (./monitoring.ts). Kept apart so that a plain
 * scan does not load that module and the table renderer it imports (issue 8).
 */
import type { Argv } from 'yargs';

/** The monitoring options that decide whether ./monitoring.ts is needed. */
export interface MonitoringSwitches {
  quiet?: boolean;
  format?: string;
  'textfile-dir'?: string;
  from?: string;
}

/** True when the run needs the monitoring module (any monitoring option set). */
export function usesMonitoring(args: MonitoringSwitches): boolean {
  return !!(args.quiet || args.format || args['textfile-dir'] || args.from);
}

/** Adds --quiet, --format, --textfile-dir and --from to a command. */
export function monitoringOptions<T>(y: Argv<T>) {
  return y
    .option('quiet', {
      type: 'boolean',
      default: false,
      describe: 'print nothing when healthy (exit 0); print the report otherwise. For cron and systemd timers',
    })
    .option('format', {
      type: 'string',
      choices: ['table', 'json', 'prometheus'] as const,
      describe: 'output format (--json is --format json); prometheus: text exposition format',
      defaultDescription: 'table',
    })
    .option('textfile-dir', {
      type: 'string',
      describe: "also write the metrics to DIR/hermes_doctor.prom atomically (node_exporter's --collector.textfile.directory)",
    })
    .option('from', {
      type: 'string',
      describe: 'classify a snapshot file (hermes-doctor snapshot -o FILE) instead of scanning this host; - reads stdin',
    });
}
