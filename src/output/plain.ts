/**
 * `--plain`: the process table for scripts, pure. One line per Hermes process, fields separated by one
 * tab, no header, no legend, no box drawing, no colour, as `systemctl --plain --no-legend` prints
 * units (systemctl(1)). Fields, in this order:
 *
 *   PID PPID AGE PROFILE ROLE SUPERVISOR KANBAN VERDICT HERMES_HOME
 *
 * the table's columns (AGE like ps's ELAPSED, `?` unknown; PROFILE `?` unknown; SUPERVISOR `kind:unit`
 * or `-`; KANBAN `rw`/`r`/`w` plus `+dispatcher`, or `-`), then the HERMES_HOME (`-` when unknown).
 * Every host string is masked and its control characters (tab and line feed included) are shown as
 * visible text (./redact.ts textModel), so a field never holds a tab and a line is always one process.
 * No processes: no lines.
 */
import type { Report } from '../types.js';
import { ageCell, kanbanAccess, supervisorCell } from './cells.js';
import { textModel } from './redact.js';

/** Field names of a `--plain` line, in order (documented; not printed). */
export const PLAIN_FIELDS = ['PID', 'PPID', 'AGE', 'PROFILE', 'ROLE', 'SUPERVISOR', 'KANBAN', 'VERDICT', 'HERMES_HOME'] as const;

/**
 * Renders the processes of a report as tab-separated lines, each ending in `\n`.
 *
 * @param nowMs the moment ages are measured from, ms since the epoch (default now)
 */
export function renderPlain(raw: Report, nowMs: number = Date.now()): string {
  const report = textModel(raw);
  return report.processes
    .map((p) =>
      [
        String(p.pid),
        String(p.ppid),
        ageCell(p, nowMs),
        p.profile || '?',
        p.role,
        supervisorCell(p),
        kanbanAccess(p),
        p.verdict,
        p.hermesHome || '-',
      ].join('\t') + '\n',
    )
    .join('');
}
