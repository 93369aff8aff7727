/**
 * The scan the commands run (orphans, its --kill step, snapshot, guard): this host, with the command
 * line's scan options, ended by `--deadline`, and the report filters of `--home`, `--profile` and
 * `--all-users`. Shared so that no command imports another.
 */
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_DEADLINE_MS } from '../cli/options.js';
import type { CommandContext } from '../cli/io.js';
import { type ClassifyOptions, classify } from '../core/classify.js';
import { PROFILE_RE, homeForProfile, rootOfHome } from '../core/paths.js';
import { scanHost } from '../sources/index.js';
import { execRunner, withDeadline } from '../sources/runner.js';
import type { HostSnapshot, Report } from '../types.js';
import { processUid } from '../util/uid.js';

/** The scan options of a command, as yargs parses them. */
export interface ScanArgs {
  's6-scandir'?: string;
  /** Homes to inspect even when no process names them (orphans, snapshot: also a report filter). */
  home?: string[];
  /** Profiles: looked for under the caller's own root too (orphans: also a report filter). */
  profile?: string[];
  /** Per external command, ms (1–600000, src/cli/options.ts). */
  timeout: number;
  /** The whole scan, ms (100–3600000); default {@link DEFAULT_DEADLINE_MS}. */
  deadline?: number;
  /** `--integrity`: the read-only quick_check of every database in sight (orphans). */
  integrity?: boolean;
}

/** The report filters of `orphans`, as yargs parses them. */
export interface FilterArgs {
  home?: string[];
  profile?: string[];
  'all-users'?: boolean;
}

/**
 * The report filters of `--home`, `--profile` and `--all-users`: the processes of `uid` only, unless
 * --all-users, or `uid` is root (0) or unknown (< 0, src/util/uid.ts).
 */
export function reportFilters(args: FilterArgs, uid: number): ClassifyOptions {
  return {
    ...(args.home ? { homes: args.home } : {}),
    ...(args.profile ? { profiles: args.profile } : {}),
    uids: args['all-users'] || uid <= 0 ? null : [uid],
  };
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
export async function scanFor(args: ScanArgs, ctx: CommandContext): Promise<HostSnapshot> {
  // A --profile is looked for under the caller's own root too, so a profile with no running process is
  // found (and a mistyped one reported) even when no process names that root.
  const extraHomes = [...(args.home ?? []), ...(args.profile ?? []).filter((p) => PROFILE_RE.test(p) || p === 'default').map((p) => homeForProfile(callerRoot(), p))];
  const deadlineMs = args.deadline ?? DEFAULT_DEADLINE_MS;
  const deadlineAt = Date.now() + deadlineMs;
  const scan = scanHost({
    ...(args['s6-scandir'] ? { s6ScanDir: args['s6-scandir'] } : {}),
    ...(extraHomes.length > 0 ? { extraHomes } : {}),
    timeoutMs: args.timeout,
    ...(args.integrity ? { integrity: true } : {}),
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

/** The caller's Hermes root: the root of `HERMES_HOME` when set, else `~/.hermes` (hermes_constants.py `get_default_hermes_root` at 306e2d2). */
function callerRoot(): string {
  return process.env.HERMES_HOME ? rootOfHome(path.resolve(process.env.HERMES_HOME)) : path.join(os.homedir(), '.hermes');
}

/**
 * Scans and classifies with the report filters of this caller's UID; returns the snapshot too (the kill
 * planner needs the supervisors, cgroups and locks behind the verdicts).
 */
export async function scanWithSnapshot(args: ScanArgs & FilterArgs, ctx: CommandContext): Promise<{ snap: HostSnapshot; report: Report }> {
  const snap = await scanFor(args, ctx);
  const report = classify(snap, reportFilters(args, processUid()));
  return { snap, report };
}

/** Scans and classifies with the report filters of this caller's UID. */
export async function scanAndClassify(args: ScanArgs & FilterArgs, ctx: CommandContext): Promise<Report> {
  return (await scanWithSnapshot(args, ctx)).report;
}
