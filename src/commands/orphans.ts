/**
 * `hermes-doctor orphans`: scan this host, classify, print a table or JSON, exit with the health code.
 */
import os from 'node:os';
import path from 'node:path';
import type { Argv } from 'yargs';
import { PROFILE_RE, homeForProfile, rootOfHome } from '../core/paths.js';
import { classify } from '../core/classify.js';
import { renderJson } from '../output/json.js';
import { scanHost } from '../sources/index.js';
import { execRunner, withDeadline } from '../sources/runner.js';
import type { HostSnapshot, Report } from '../types.js';
import type { CommandContext } from './context.js';
import type { MonitoringArgs } from './monitoring.js';
import { reportFilters, usesMonitoring } from './monitoring-args.js';
import type { KillArgs, KillContext } from './kill.js';
import { DEFAULT_DEADLINE_MS, deadlineOption, timeoutOption } from './numeric-args.js';

/** Options of the orphans command, as yargs parses them (monitoring options: issue 6, ./monitoring.ts). */
export interface OrphansArgs extends MonitoringArgs {
  json: boolean;
  home?: string[];
  profile?: string[];
  's6-scandir'?: string;
  'all-users': boolean;
  /** Per external command, ms (1–600000, ./numeric-args.ts). */
  timeout: number;
  /** The whole scan, ms (100–3600000); default 30000. */
  deadline?: number;
  color?: boolean;
}

/** Adds the scan options shared by every command that scans (orphans, guard, …). */
export function scanOptions<T>(y: Argv<T>) {
  return y
    .option('home', { type: 'string', array: true, describe: 'only report processes of this HERMES_HOME (repeatable)' })
    .option('profile', { type: 'string', array: true, describe: 'only report processes of this profile name (repeatable)' })
    .option('s6-scandir', { type: 'string', describe: 's6 scan directory', default: undefined, defaultDescription: '/run/service' })
    .option('all-users', { type: 'boolean', default: false, describe: "include other users' processes (always on for root)" })
    .option('timeout', timeoutOption)
    .option('deadline', deadlineOption);
}

/**
 * Runs a scan with the shared options and classifies it; returns the snapshot too (the kill planner
 * needs the supervisors, cgroups and locks behind the verdicts).
 */
export async function scanWithSnapshot(args: Omit<OrphansArgs, 'json'>, ctx: CommandContext): Promise<{ snap: HostSnapshot; report: Report }> {
  const snap = await scanFor(args, ctx);
  const report = classify(snap, reportFilters(args, process.getuid ? process.getuid() : 0));
  return { snap, report };
}

/**
 * Scans this host with a command's scan options: `--s6-scandir`, `--home` (homes to inspect even when
 * no process names them), `--timeout` (ms per external command) and `--deadline` (ms for the whole
 * scan), plus the context's overrides. Every external command gets at most the time left before the
 * deadline, so a slow or hanging supervisor tool makes that supervisor `unknown` and the scan still
 * ends in time (src/sources/runner.ts, withDeadline).
 *
 * @throws Error when the scan did not finish within the deadline even so (the run then exits 3)
 */
export async function scanFor(
  args: { 's6-scandir'?: string; home?: string[]; profile?: string[]; timeout: number; deadline?: number },
  ctx: CommandContext,
): Promise<HostSnapshot> {
  // A --profile is looked for under the caller's own root too, so a profile with no running process is
  // found (and a mistyped one reported) even when no process names that root.
  const extraHomes = [...(args.home ?? []), ...(args.profile ?? []).filter((p) => PROFILE_RE.test(p) || p === 'default').map((p) => homeForProfile(callerRoot(), p))];
  const deadlineMs = args.deadline ?? DEFAULT_DEADLINE_MS;
  const deadlineAt = Date.now() + deadlineMs;
  const scan = scanHost({
    ...(args['s6-scandir'] ? { s6ScanDir: args['s6-scandir'] } : {}),
    ...(extraHomes.length > 0 ? { extraHomes } : {}),
    timeoutMs: args.timeout,
    ...ctx.scan,
    runner: withDeadline(ctx.scan?.runner ?? execRunner, deadlineAt),
  });
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    // A margin past the deadline: the commands themselves end at it; this is the backstop.
    timer = setTimeout(() => reject(new Error(`the scan did not finish within --deadline ${deadlineMs} ms; nothing was decided`)), deadlineMs + 250);
  });
  try {
    return await Promise.race([scan, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** The caller's Hermes root: the root of `HERMES_HOME` when set, else `~/.hermes` (reference §1.3). */
function callerRoot(): string {
  return process.env.HERMES_HOME ? rootOfHome(path.resolve(process.env.HERMES_HOME)) : path.join(os.homedir(), '.hermes');
}

/** Runs a scan with the shared options and classifies it. */
export async function scanAndClassify(args: Omit<OrphansArgs, 'json'>, ctx: CommandContext): Promise<Report> {
  return (await scanWithSnapshot(args, ctx)).report;
}

/** The command handler; returns the exit code. */
export async function runOrphans(args: OrphansArgs & KillArgs, ctx: CommandContext & KillContext): Promise<number> {
  // Issue 5: --kill (and its --dry-run) scans, plans, acts, rescans: src/commands/kill.ts.
  if (args.kill) {
    const { runKill } = await import('./kill.js');
    return runKill(args, ctx);
  }
  const killOnly = (['dry-run', 'include-workers', 'pid', 'yes'] as const).filter((k) => args[k] !== undefined && args[k] !== false);
  if (killOnly.length > 0) {
    ctx.stderr(`hermes-doctor: --${killOnly.join(', --')} only go with --kill\n`);
    return 3;
  }
  // Issue 6: --from FILE classifies a snapshot offline; --quiet/--format/--textfile-dir shape the output.
  // Issue 8: the monitoring and table modules (chalk, cli-table3) are loaded only when used.
  const monitoring = usesMonitoring(args) ? await import('./monitoring.js') : null;
  let report = args.from && monitoring ? monitoring.classifyFromFile({ ...args, from: args.from }) : await scanAndClassify(args, ctx);
  if (monitoring) {
    // --quiet and the Prometheus outputs alert: a problem is confirmed by a second look first.
    const { confirmDelayOf, confirmReport, confirmsProblems } = await import('./confirm.js');
    if (confirmsProblems(args)) report = await confirmReport(report, () => scanAndClassify(args, ctx), confirmDelayOf(args, ctx.confirmDelayMs), ctx.confirmWait);
    return monitoring.emitReport(report, args, ctx);
  }
  if (args.json) ctx.stdout(renderJson(report));
  else {
    const { colorWanted, renderTable } = await import('../output/table.js');
    ctx.stdout(renderTable(report, { color: args.color ?? colorWanted() }) + '\n');
  }
  return report.summary.exitCode;
}
