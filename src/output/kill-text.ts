/**
 * The text of `orphans --kill`: the plan (targets and refusals, on stderr before asking or refusing), the
 * action lines (above the report) and the live progress line of a terminal. Every renderer reads a
 * {@link textModel} copy: host strings masked and with their control characters shown visibly.
 */
import type { KillProgress } from '../actions/kill.js';
import type { KillPlan } from '../core/kill-plan.js';
import { maskArgv } from '../core/mask.js';
import type { KillAction } from '../types.js';
import { textModel } from './redact.js';

/** A command line for one line of text: masked, at most 100 characters. */
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

/** The actions as text, one line each (plus a line per restored file), read from a {@link textModel} copy; '' for none. */
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

/**
 * A live line per target on a terminal: phase and countdown (whole seconds), rewritten in place with a
 * leading `\r`; a final line with the outcome when the target is done.
 *
 * @param write where the line goes (stderr)
 */
export function progressLine(write: (t: string) => void): (p: KillProgress) => void {
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
