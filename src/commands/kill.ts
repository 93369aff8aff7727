/**
 * The kill step of `hermes-doctor orphans --kill`: scan, plan (src/core/kill-plan.ts), confirm, act
 * (src/actions/kill.ts), scan again and report what remains (src/output/emit.ts). Loaded by the
 * orphans command (./orphans.ts) on `--kill` only; its options are declared there.
 *
 * Confirmation: `--yes` acts at once; on a TTY without it the targets are listed and a `y` is asked
 * for; with no TTY and no `--yes` nothing is signalled and the exit code is 3. `--dry-run` prints the
 * plan and signals nothing.
 */
import readline from 'node:readline';
import { executeKillPlan, killedCount, plannedActions, platformKillDeps } from '../actions/kill.js';
import type { CommandContext, KillContext } from '../cli/io.js';
import { DEFAULT_GRACE_S, confirmDelayOf } from '../cli/options.js';
import { planKill } from '../core/kill-plan.js';
import { confirmedPlan, resolvedFindings } from '../core/second-look.js';
import { type OutputArgs, emitReport, isMachineFormat } from '../output/emit.js';
import { progressLine, renderPlan } from '../output/kill-text.js';
import { type KillAction, ExitCode, type Report } from '../types.js';
import { processUid } from '../util/uid.js';
import { type FilterArgs, type ScanArgs, scanWithSnapshot } from './scan-host.js';

/** The kill options, as yargs parses them. */
export interface KillArgs {
  kill?: boolean;
  yes?: boolean;
  'dry-run'?: boolean;
  /** Seconds between SIGTERM and SIGKILL. */
  grace?: number;
  'include-workers'?: boolean;
  pid?: number[];
}

/** What the kill step reads of an `orphans --kill` command line. */
export interface KillRunArgs extends ScanArgs, FilterArgs, OutputArgs, KillArgs {
  /** `--confirm-delay`, ms. */
  'confirm-delay'?: number;
}

function askOnTty(question: string): Promise<boolean> {
  const rl = readline.createInterface({ input: process.stdin, output: process.stderr });
  return new Promise((resolve) => {
    rl.question(question, (answer) => {
      rl.close();
      resolve(/^y(es)?$/i.test(answer.trim()));
    });
  });
}

/**
 * Runs `orphans --kill`.
 *
 * @returns the exit code: 3 when refused for want of confirmation (or a usage error), otherwise the
 *   code of the report scanned after acting (a dry run: of the current state)
 */
export async function runKill(args: KillRunArgs, ctx: CommandContext & KillContext): Promise<number> {
  if (args.from) {
    ctx.stderr('hermes-doctor: --from classifies a snapshot offline; it cannot be combined with --kill\n');
    return ExitCode.UNKNOWN;
  }
  const grace = args.grace ?? DEFAULT_GRACE_S;
  if (!Number.isFinite(grace) || grace < 0) {
    ctx.stderr(`hermes-doctor: --grace must be a number of seconds ≥ 0, not ${args.grace}\n`);
    return ExitCode.UNKNOWN;
  }
  const pids = args.pid?.map(Number);
  if (pids?.some((p) => !Number.isInteger(p))) {
    ctx.stderr(`hermes-doctor: --pid takes whole PIDs, not ${args.pid?.join(' ')}\n`);
    return ExitCode.UNKNOWN;
  }
  const uid = processUid();
  const tty = ctx.tty ?? !!(process.stdin.isTTY && process.stderr.isTTY);
  // Formats a program reads get no prose on stdout.
  const machine = isMachineFormat(args);

  let { snap, report } = await scanWithSnapshot(args, ctx);
  const planOpts = { ...(pids ? { pids } : {}), includeWorkers: !!args['include-workers'], uid };
  let plan = planKill(report, snap, planOpts);

  const finish = (r: Report, actions: KillAction[], orphansKilled: number | null): Promise<number> => {
    r.actions = actions;
    return emitReport(r, args, ctx, { actions, orphansKilled });
  };

  if (args['dry-run']) {
    if (machine) ctx.stderr('hermes-doctor: dry run: nothing was signalled\n');
    else if (!args.quiet) ctx.stdout('Dry run: nothing was signalled.\n');
    return finish(report, plannedActions(plan), null);
  }
  if (!args.yes && !tty) {
    // Refused even when there is nothing to kill today, so a cron line without --yes fails at once, not on the day it matters.
    ctx.stderr(renderPlan(plan));
    ctx.stderr('hermes-doctor: --kill needs --yes when not run on a terminal (cron and timers pass --yes); nothing was signalled\n');
    return ExitCode.UNKNOWN;
  }
  // The second look: a target must still be one a few seconds later (start-up, a supervisor's own --replace).
  const delayMs = confirmDelayOf(args, ctx.confirmDelayMs);
  let resolved: ReturnType<typeof resolvedFindings> = [];
  let firstLook: Report | null = null;
  if (plan.targets.length > 0 && delayMs > 0) {
    await (ctx.confirmWait ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms))))(delayMs);
    const second = await scanWithSnapshot(args, ctx);
    plan = confirmedPlan(plan, planKill(second.report, second.snap, planOpts), delayMs);
    resolved = resolvedFindings(report, second.report, delayMs);
    firstLook = report;
    ({ snap, report } = second);
  }
  const confirmed = (r: Report): Report =>
    firstLook
      ? { ...r, findings: [...r.findings, ...resolved], confirmation: { delayMs, firstTakenAt: firstLook.takenAt, firstExitCode: firstLook.summary.exitCode, resolved: resolved.length } }
      : r;
  if (!args.yes && plan.targets.length > 0) {
    ctx.stderr(renderPlan(plan));
    const ok = await (ctx.confirm ?? askOnTty)(`Send SIGTERM (then SIGKILL after ${grace} s) to ${plan.targets.length} process(es)? [y/N] `);
    if (!ok) {
      ctx.stderr('hermes-doctor: not confirmed; nothing was signalled\n');
      return ExitCode.UNKNOWN;
    }
  }

  const deps = { ...platformKillDeps(snap.platform), ...(ctx.kill ?? {}) };
  // Ctrl-C while acting: no SIGKILL and no further target, but the audit lines, the rescan and the report
  // still happen. A second Ctrl-C exits at once.
  const interrupt = new AbortController();
  const onSigint = () => {
    if (interrupt.signal.aborted) process.exit(130);
    ctx.stderr('\nhermes-doctor: interrupted: no SIGKILL and no further target (Ctrl-C again to quit now)\n');
    interrupt.abort();
  };
  process.on('SIGINT', onSigint);
  let actions: KillAction[];
  try {
    actions = await executeKillPlan(plan, {
      ...deps,
      graceMs: grace * 1000,
      abort: interrupt.signal,
      ...(tty && !ctx.kill?.onProgress ? { onProgress: progressLine(ctx.stderr) } : {}),
    });
  } finally {
    process.off('SIGINT', onSigint);
  }
  const after = plan.targets.length > 0 ? (await scanWithSnapshot(args, ctx)).report : report;
  return finish(confirmed(after), actions, killedCount(actions));
}
