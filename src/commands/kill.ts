/**
 * `hermes-doctor orphans --kill` (issue 5): scan, plan (src/core/kill-plan.ts), confirm, act
 * (src/actions/kill.ts), scan again and report what remains. Kept out of orphans.ts so that file only
 * gains its options and one branch.
 *
 * Confirmation: `--yes` acts at once; on a TTY without it the targets are listed and a `y` is asked
 * for; with no TTY and no `--yes` nothing is signalled and the exit code is 3. `--dry-run` prints the
 * plan and signals nothing.
 */
import readline from 'node:readline';
import { type KillPlan, planKill } from '../core/kill-plan.js';
import { confirmedPlan, resolvedFindings } from '../core/second-look.js';
import { confirmDelayOf } from './confirm.js';
import { maskArgv } from '../core/mask.js';
import { renderJson } from '../output/json.js';
import { textModel } from '../output/redact.js';
import { colorWanted, renderTable } from '../output/table.js';
import { type KillAction, ExitCode, type Report } from '../types.js';
import { type KillOptions, type KillProgress, executeKillPlan, killedCount, plannedActions, platformKillDeps } from '../actions/kill.js';
import type { CommandContext } from './context.js';
import { emitReport } from './monitoring.js';
import { usesMonitoring } from './monitoring-args.js';
import { type OrphansArgs, scanWithSnapshot } from './orphans.js';

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

/** What a test (or an embedding program) may inject into a kill run. */
export interface KillContext {
  /** Whether stdin and stderr are a terminal (default: both are TTYs). */
  tty?: boolean;
  /** Asks the question and resolves true for yes (default: readline on stdin/stderr). */
  confirm?: (question: string) => Promise<boolean>;
  /** Overrides of the platform's signaller, audit sink, lock reader, clock… */
  kill?: Partial<KillOptions>;
}

const cmd = (argv: string[]) => {
  const s = maskArgv(argv).join(' ');
  return s.length > 100 ? s.slice(0, 97) + '...' : s;
};

/** The plan as text: targets with their verdict and command, refusals with their reason (read from a {@link textModel} copy). */
export function renderPlan(raw: KillPlan): string {
  const plan = textModel(raw);
  const lines: string[] = [];
  lines.push(plan.targets.length === 0 ? 'Nothing to kill.' : `Kill targets (${plan.targets.length}):`);
  for (const t of plan.targets) {
    lines.push(`  PID ${t.pid}  ${t.verdict} ${t.role}  ${cmd(t.argv)}`);
    if (t.owner) lines.push(`    owner kept: PID ${t.owner.pid} (${t.owner.verdict})`);
  }
  if (plan.refusals.length > 0) {
    lines.push(`Refused (${plan.refusals.length}):`);
    for (const r of plan.refusals) lines.push(`  PID ${r.pid}${r.verdict ? ` (${r.verdict})` : ''}: ${r.reason}`);
  }
  return lines.join('\n') + '\n';
}

/** The actions as text, one line each (plus a line per restored file), read from a {@link textModel} copy. */
export function renderActions(raw: readonly KillAction[]): string {
  if (raw.length === 0) return '';
  const actions = textModel(raw);
  const lines = ['Actions'];
  for (const a of actions) {
    const sigs = a.signals.length > 0 ? ` (${a.signals.join(' → ')}, ${(a.ms / 1000).toFixed(1)} s)` : '';
    lines.push(`  PID ${a.pid} ${a.outcome}${sigs}${a.verdict ? ` [${a.verdict}]` : ''}${a.reason ? `: ${a.reason}` : ''}`);
    if (a.argv.length > 0) lines.push(`    ${cmd(a.argv)}`);
    for (const f of a.restored) lines.push(`    restored ${f}`);
    for (const n of a.notRestored) lines.push(`    NOT restored ${n.file}: ${n.reason}`);
    if (a.ownerHoldsLock !== null) lines.push(`    owner ${a.ownerHoldsLock ? 'still holds' : 'does NOT hold'} gateway.lock`);
  }
  return lines.join('\n') + '\n';
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

/** A live line per target on a TTY: phase and countdown, rewritten in place; a final line when done. */
function ttyProgress(write: (t: string) => void): (p: KillProgress) => void {
  let lastSec = -1;
  return (p) => {
    if (p.phase === 'term') {
      lastSec = -1;
      write(`\rPID ${p.pid}: SIGTERM sent`);
    } else if (p.phase === 'kill') {
      lastSec = -1;
      write(`\rPID ${p.pid}: SIGKILL sent                         `);
    } else if (p.phase === 'wait') {
      const s = Math.ceil((p.remainingMs ?? 0) / 1000);
      if (s !== lastSec) write(`\rPID ${p.pid}: waiting for exit, ${s} s left   `);
      lastSec = s;
    } else write(`\rPID ${p.pid}: ${p.outcome}                              \n`);
  };
}

/**
 * Runs `orphans --kill`.
 *
 * @returns the exit code: 3 when refused for want of confirmation (or a usage error), otherwise the
 *   code of the report scanned after acting (a dry run: of the current state)
 */
export async function runKill(args: OrphansArgs & KillArgs, ctx: CommandContext & KillContext): Promise<number> {
  if (args.from) {
    ctx.stderr('hermes-doctor: --from classifies a snapshot offline; it cannot be combined with --kill\n');
    return ExitCode.UNKNOWN;
  }
  const grace = args.grace ?? 10;
  if (!Number.isFinite(grace) || grace < 0) {
    ctx.stderr(`hermes-doctor: --grace must be a number of seconds ≥ 0, not ${args.grace}\n`);
    return ExitCode.UNKNOWN;
  }
  const pids = args.pid?.map(Number);
  if (pids?.some((p) => !Number.isInteger(p))) {
    ctx.stderr(`hermes-doctor: --pid takes whole PIDs, not ${args.pid?.join(' ')}\n`);
    return ExitCode.UNKNOWN;
  }
  const uid = process.getuid ? process.getuid() : 0;
  const tty = ctx.tty ?? !!(process.stdin.isTTY && process.stderr.isTTY);
  // Formats a program reads: the action lines would break them (kill progress goes to stderr anyway).
  const machine = args.json || !!args.plain || (args.format !== undefined && args.format !== 'table');

  let { snap, report } = await scanWithSnapshot(args, ctx);
  const planOpts = { ...(pids ? { pids } : {}), includeWorkers: !!args['include-workers'], uid };
  let plan = planKill(report, snap, planOpts);

  const finish = (r: Report, actions: KillAction[], killed: number | null): number => {
    r.actions = actions;
    if (usesMonitoring(args)) {
      if (!machine && (!args.quiet || actions.some((a) => a.signals.length > 0 || a.outcome === 'failed'))) ctx.stdout(renderActions(actions));
      return emitReport(r, args, ctx, killed);
    }
    if (args.json) {
      ctx.stdout(renderJson(r));
      return r.summary.exitCode;
    }
    ctx.stdout(renderActions(actions));
    ctx.stdout(renderTable(r, { color: args.color ?? colorWanted() }) + '\n');
    return r.summary.exitCode;
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
      ...(tty && !ctx.kill?.onProgress ? { onProgress: ttyProgress(ctx.stderr) } : {}),
    });
  } finally {
    process.off('SIGINT', onSigint);
  }
  const after = plan.targets.length > 0 ? (await scanWithSnapshot(args, ctx)).report : report;
  return finish(confirmed(after), actions, killedCount(actions));
}
