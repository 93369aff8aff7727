/**
 * The guard's decision for a terminal (stderr): one headline (ok, REFUSED, or WARNING under --force),
 * the problems, the rivals already running, and the commands that do it the right way. Pure.
 */
import type { GuardDecision } from '../core/guard.js';

/** Colour functions for the headline and the remedies; identity functions give plain text. */
export interface GuardPaint {
  red: (s: string) => string;
  yellow: (s: string) => string;
  bold: (s: string) => string;
}

/**
 * Renders a decision for a terminal (stderr). `paint` wraps the headline, the warnings' tag and the
 * remedies; the text is otherwise plain. Ends with a newline.
 */
export function renderGuardText(d: GuardDecision, paint: GuardPaint): string {
  const out: string[] = [];
  const cmd = d.target.command ? d.target.command.join(' ') : 'a gateway';
  if (!d.judged) return `hermes-doctor guard: not a gateway run/restart/start command; nothing to check.\n`;
  const warn = d.warnings.map((w) => `${paint.yellow('  warning:')} ${w}\n`).join('');
  if (d.problems.length === 0) {
    const where = d.inside ? `inside ${d.inside.unit} (${d.inside.via})` : d.supervisors.length === 0 ? 'no supervisor owns it' : '';
    return `hermes-doctor guard: ok for ${d.target.home} (${d.target.source}): ${where}.\n${warn}`;
  }
  out.push(
    d.forced
      ? paint.yellow(paint.bold(`hermes-doctor guard: WARNING (--force): running ${cmd} for ${d.target.home} anyway.`))
      : paint.red(paint.bold(`hermes-doctor guard: REFUSED: ${cmd} for ${d.target.home} (${d.target.source}).`)),
  );
  for (const p of d.problems) out.push(`  - ${p}`);
  if (d.rivals.length > 0) {
    out.push('  already running:');
    for (const r of d.rivals) out.push(`    PID ${r.pid} ${r.verdict} ${r.role}: ${r.argv.join(' ')}`);
  }
  out.push('  do instead:');
  for (const r of d.remedies) out.push(`    ${paint.bold(r)}`);
  if (!d.forced) out.push('  (hermes-doctor guard --force … runs it anyway)');
  return out.join('\n') + '\n' + warn;
}
