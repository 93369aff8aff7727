/**
 * `hermes-doctor orphans` (the default command): scan this host (or classify a snapshot: `--from FILE`),
 * classify, print the report in the chosen format (src/output/emit.ts), exit with the health code.
 * `--kill` hands over to the kill step (./kill.ts), loaded only then.
 *
 * The second look: when `--quiet`, `--format prometheus|nagios` or `--textfile-dir` would alert on a
 * problem, wait `--confirm-delay` ms and scan again; the second scan is what alerts, and what resolved
 * itself in between is reported as info (src/core/second-look.ts). A plain `orphans` (table or JSON)
 * shows the first look as it is.
 */
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import type { CommandContext, KillContext } from '../cli/io.js';
import { colorOption, confirmDelayOf, confirmDelayOption, deadlineOption, graceOption, integrityOption, pidOption, s6ScanDirOption, timeoutOption } from '../cli/options.js';
import { confirmedReport, needsConfirmation } from '../core/second-look.js';
import { type OutputArgs, emitReport } from '../output/emit.js';
import type { Report } from '../types.js';
import type { KillArgs } from './kill.js';
import { type FilterArgs, type ScanArgs, scanAndClassify } from './scan-host.js';

/** Options of the orphans command, as yargs parses them. */
export interface OrphansArgs extends ScanArgs, FilterArgs, OutputArgs, KillArgs {
  json: boolean;
  'all-users': boolean;
  /** `--confirm-delay`, ms (absent: the context's default, else 3500: src/cli/options.ts confirmDelayOf). */
  'confirm-delay'?: number;
}

/** The yargs command module; `setCode` receives the exit code. */
export function orphansCommand(ctx: CommandContext & KillContext, setCode: (code: number) => void): CommandModule<object, OrphansArgs> {
  return {
    command: ['orphans', '$0'],
    describe: 'find Hermes gateways outside their supervisor and who holds the kanban databases',
    builder: (y: Argv<object>) =>
      y
        // What to scan and whose processes to report.
        .option('home', { type: 'string', array: true, describe: 'only report processes of this HERMES_HOME (repeatable)' })
        .option('profile', { type: 'string', array: true, describe: 'only report processes of this profile name (repeatable)' })
        .option('s6-scandir', s6ScanDirOption)
        .option('all-users', { type: 'boolean', default: false, describe: "include other users' processes (always on for root)" })
        .option('timeout', timeoutOption)
        .option('deadline', deadlineOption)
        .option('integrity', integrityOption)
        // Periodic checks: what to print, where the metrics go, the second look, an offline snapshot.
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
        })
        // The kill step (docs/kill.md); loaded on --kill only.
        .option('kill', { type: 'boolean', default: false, describe: 'end orphans, duplicates and ghosts (SIGTERM, grace, SIGKILL); see docs/kill.md' })
        .option('yes', { type: 'boolean', default: false, describe: 'with --kill: do not ask (needed without a TTY: cron, timers)' })
        .option('dry-run', { type: 'boolean', default: false, describe: 'with --kill: print the plan, signal nothing' })
        .option('grace', graceOption)
        .option('include-workers', { type: 'boolean', default: false, describe: 'with --kill: also end orphaned kanban workers' })
        .option('pid', pidOption)
        .option('json', { type: 'boolean', default: false, describe: 'print one JSON document (schema hermes-doctor.orphans/v1)' })
        .option('color', colorOption) as unknown as Argv<OrphansArgs>,
    handler: async (args: ArgumentsCamelCase<OrphansArgs>) => {
      setCode(await runOrphans(args, ctx));
    },
  };
}

/** Whether a run confirms before it alerts or signals: `--quiet`, `--kill` (not `--dry-run`), `--format prometheus|nagios`, `--textfile-dir`; never `--from`. */
export function confirmsProblems(args: { quiet?: boolean; kill?: boolean; 'dry-run'?: boolean; format?: string; 'textfile-dir'?: string; from?: string }): boolean {
  if (args.from) return false;
  return !!(args.quiet || (args.kill && !args['dry-run']) || args.format === 'prometheus' || args.format === 'nagios' || args['textfile-dir']);
}

/**
 * The confirmed report: `first` when it has no problem or the delay is 0; else the rescan after
 * `delayMs`, with what resolved itself as info.
 *
 * @param wait resolves after the given ms (tests inject a clock)
 */
export async function confirmReport(
  first: Report,
  rescan: () => Promise<Report>,
  delayMs: number,
  wait: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
): Promise<Report> {
  if (delayMs <= 0 || !needsConfirmation(first)) return first;
  await wait(delayMs);
  return confirmedReport(first, await rescan(), delayMs);
}

/**
 * The command handler.
 *
 * @returns the exit code: the report's (0 ok, 1 warning, 2 critical, 3 could not decide), 3 for a
 *   kill option without --kill
 * @throws Error when the scan misses its deadline or a `--from` file is missing or invalid (main: exit 3)
 */
export async function runOrphans(args: OrphansArgs, ctx: CommandContext & KillContext): Promise<number> {
  if (args.kill) {
    const { runKill } = await import('./kill.js');
    return runKill(args, ctx);
  }
  const killOnly = (['dry-run', 'include-workers', 'pid', 'yes'] as const).filter((k) => args[k] !== undefined && args[k] !== false);
  if (killOnly.length > 0) {
    ctx.stderr(`hermes-doctor: --${killOnly.join(', --')} only go with --kill\n`);
    return 3;
  }
  let report = args.from ? (await import('./from-file.js')).classifyFromFile({ ...args, from: args.from }) : await scanAndClassify(args, ctx);
  // --quiet and the Prometheus outputs alert: a problem is confirmed by a second look first.
  if (confirmsProblems(args)) report = await confirmReport(report, () => scanAndClassify(args, ctx), confirmDelayOf(args, ctx.confirmDelayMs), ctx.confirmWait);
  return emitReport(report, args, ctx);
}
