/**
 * The second look of `--quiet`, `--kill` and the Prometheus outputs: when the first scan shows a
 * problem, wait `--confirm-delay` ms and scan again; the second scan is what alerts or signals, and what
 * resolved itself in between is reported as info (src/core/second-look.ts). `--confirm-delay 0` turns
 * it off. A plain `orphans` (table or JSON) shows the first look as it is.
 */
import { DEFAULT_CONFIRM_DELAY_MS, confirmedReport, needsConfirmation } from '../core/second-look.js';
import type { Report } from '../types.js';

/** What decides the delay: the flag, else the context's default (tests), else {@link DEFAULT_CONFIRM_DELAY_MS}. */
export function confirmDelayOf(args: { 'confirm-delay'?: number }, ctxDefault?: number): number {
  const v = args['confirm-delay'] ?? ctxDefault ?? DEFAULT_CONFIRM_DELAY_MS;
  return Number.isFinite(v) && v > 0 ? v : 0;
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
