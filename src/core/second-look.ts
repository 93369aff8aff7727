/**
 * The second look, pure part: which problems of a first scan were gone on a second scan taken a few
 * seconds later, and the report that says so. Used by `--quiet`, `--kill` and the Prometheus outputs
 * (src/commands/orphans.ts and src/commands/kill.ts) so that a start-up or a supervisor's own takeover does not raise an alert or a
 * kill: a real gateway runs 1–7 s with its final argv before it takes gateway.lock, and s6's `--replace`
 * (306e2d2 run script) ends a shell gateway about 3 s after it starts (docs/real-hermes.md, timings).
 */
import type { Finding, Report } from '../types.js';
import type { KillPlan, KillRefusal, KillTarget } from './kill-plan.js';
import { maskArgv, maskShapes } from './mask.js';

/**
 * Default delay between the two looks, ms (`--confirm-delay`): s6's own `--replace` ends a shell gateway
 * about 3 s after the slot's gateway starts (docs/real-hermes.md, timings: SIGTERM 3.1 s after exec, gone 0.3 s later,
 * under strace); a gateway's own start-up is covered by the `starting` verdict. Kept below a 5 s timer
 * period so a scheduled run still ends before the next one starts.
 */
export const DEFAULT_CONFIRM_DELAY_MS = 3500;

/** Findings that count as a problem to confirm (what sets a non-zero exit code). */
function isProblem(f: Finding): boolean {
  return f.severity === 'critical' || f.severity === 'warning' || f.severity === 'unknown';
}

/**
 * Identity of a finding across two scans: its code and PID; for a finding without PID its subject's
 * unit or database; else (a finding from an older report without `subject`, a `--home` that names
 * nothing) the text before the first `:` of its message.
 */
export function findingKey(f: Finding): string {
  return `${f.code}|${f.pid ?? f.subject?.unit ?? f.subject?.db ?? f.message.split(':')[0]!.split(' (')[0]}`;
}

/** Whether a report has anything the second look must confirm. */
export function needsConfirmation(r: Report): boolean {
  return r.findings.some(isProblem);
}

/**
 * The findings of `first` that `second` no longer has, as info findings `RESOLVED` (code kept in the
 * message), in the order of `first`.
 */
export function resolvedFindings(first: Report, second: Report, delayMs: number): Finding[] {
  const still = new Set(second.findings.map(findingKey));
  return first.findings
    .filter((f) => isProblem(f) && !still.has(findingKey(f)))
    .map((f) => ({
      severity: 'info' as const,
      code: 'RESOLVED',
      pid: f.pid,
      message: `resolved itself within ${(delayMs / 1000).toFixed(1)} s (second look): ${f.code}: ${f.message}`,
      remedy: null,
      ...(f.subject ? { subject: f.subject } : {}),
    }));
}

/**
 * The confirmed report: `second`, with the first look's problems that resolved themselves added as info
 * and `confirmation` set. Exit code and counts are the second look's (info findings count for nothing).
 */
export function confirmedReport(first: Report, second: Report, delayMs: number): Report {
  const resolved = resolvedFindings(first, second, delayMs);
  return {
    ...second,
    findings: [...second.findings, ...resolved],
    confirmation: { delayMs, firstTakenAt: first.takenAt, firstExitCode: first.summary.exitCode, resolved: resolved.length },
  };
}

/**
 * The kill plan confirmed by a second look: only targets of both plans (same PID and start stamp) stay
 * targets; a target of the second plan alone is refused (not confirmed, left for the next run); a
 * target of the first plan that the second plan no longer targets is refused with what happened to it.
 */
export function confirmedPlan(first: KillPlan, second: KillPlan, delayMs: number): KillPlan {
  const s = (delayMs / 1000).toFixed(1);
  const same = (a: KillTarget, b: KillTarget) => a.pid === b.pid && a.startTicks === b.startTicks;
  const targets = second.targets.filter((t) => first.targets.some((f) => same(f, t)));
  const refusals: KillRefusal[] = [...second.refusals];
  for (const t of second.targets.filter((x) => !targets.includes(x))) {
    refusals.push({
      pid: t.pid,
      startTicks: t.startTicks,
      argv: maskArgv(t.argv),
      verdict: t.verdict,
      role: t.role,
      hermesHome: t.hermesHome,
      auditRoot: t.auditRoot,
      reasons: t.reasons.map(maskShapes),
      reason: `a target only on the second look (${s} s after the first): not confirmed, left for the next run`,
    });
  }
  for (const f of first.targets.filter((x) => !second.targets.some((t) => same(x, t)))) {
    const later = second.refusals.find((r) => r.pid === f.pid && r.startTicks === f.startTicks);
    if (later) {
      later.reason = `resolved on the second look (${s} s later): ${later.reason}`;
      continue;
    }
    refusals.push({
      pid: f.pid,
      startTicks: f.startTicks,
      argv: maskArgv(f.argv),
      verdict: f.verdict,
      role: f.role,
      hermesHome: f.hermesHome,
      auditRoot: f.auditRoot,
      reasons: f.reasons.map(maskShapes),
      reason: `resolved itself on the second look (${s} s later): it is gone or no longer a target; not signalled`,
    });
  }
  refusals.sort((a, b) => a.pid - b.pid);
  return { targets, refusals };
}
