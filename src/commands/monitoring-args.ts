/**
 * Whether a run of `orphans` needs the monitoring module (./monitoring.ts). Kept apart so that a plain
 * scan does not load that module and the table renderer it imports (issue 8).
 */

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
