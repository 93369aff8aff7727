/**
 * The human report: one row per Hermes process, then the kanban databases, then findings with their
 * cause and exact remedy. cli-table3 for layout, chalk for colour; colour is off when NO_COLOR is set
 * (https://no-color.org), when stdout is not a TTY, or when `color: false` is passed.
 */
import { Chalk, type ChalkInstance } from 'chalk';
import Table from 'cli-table3';
import type { Finding, Report, Verdict } from '../types.js';
import { ageCell, formatAge, kanbanAccess, supervisorCell } from './cells.js';
import { colorWanted } from './color.js';
import { bytesText } from '../core/db-health.js';
import { textModel } from './redact.js';

export { colorWanted, formatAge };

export interface TableOptions {
  /** Force colour on or off; default: on only for a TTY without NO_COLOR. */
  color?: boolean;
  /** Milliseconds since the epoch used for the age column (default: Date.now()). */
  nowMs?: number;
  /** Show each process's reasons under the table (default true). */
  reasons?: boolean;
}


function verdictColor(c: ChalkInstance, v: Verdict): (s: string) => string {
  switch (v) {
    case 'supervised':
      return c.green;
    case 'manual':
      return c.cyan;
    case 'unknown':
      return c.magenta;
    case 'starting':
      return c.cyan;
    case 'stray-holder':
      return c.yellow;
    default:
      return c.red.bold;
  }
}

function severityTag(c: ChalkInstance, f: Finding): string {
  switch (f.severity) {
    case 'critical':
      return c.bgRed.white.bold(' CRITICAL ');
    case 'unknown':
      return c.magenta.bold('UNKNOWN');
    case 'warning':
      return c.yellow.bold('WARNING');
    default:
      return c.dim('info');
  }
}

/**
 * Renders the report as text for a terminal. Reads only a {@link textModel} copy of the report: every
 * host string masked and with its control characters shown visibly (`\x1b`, `\n`).
 */
export function renderTable(raw: Report, opts: TableOptions = {}): string {
  const report = textModel(raw);
  const c = new Chalk({ level: (opts.color ?? colorWanted()) ? 1 : 0 });
  const now = opts.nowMs ?? Date.now();
  const out: string[] = [];
  const style = { head: [] as string[], border: [] as string[] };
  if (report.processes.length === 0) {
    out.push('No Hermes processes found.');
  } else {
    const t = new Table({
      head: ['PID', 'PPID', 'AGE', 'PROFILE', 'ROLE', 'SUPERVISOR', 'KANBAN', 'VERDICT'].map((h) => c.bold(h)),
      style,
    });
    for (const p of report.processes) {
      const age = ageCell(p, now);
      t.push([
        String(p.pid),
        String(p.ppid),
        age,
        p.profile ?? '?',
        p.role,
        supervisorCell(p),
        kanbanAccess(p),
        verdictColor(c, p.verdict)(p.verdict),
      ]);
    }
    out.push(t.toString());
  }
  if (opts.reasons !== false && report.processes.length > 0) {
    out.push('');
    for (const p of report.processes) {
      out.push(`${c.bold(`PID ${p.pid}`)} ${verdictColor(c, p.verdict)(p.verdict)}: ${p.argv.join(' ')}`);
      for (const r of p.reasons) out.push(`  - ${r}`);
    }
  }
  if (report.kanban.length > 0) {
    out.push('', c.bold('Kanban databases'));
    for (const k of report.kanban) {
      const risk = k.risk === 'rival-writers' ? c.red.bold(k.risk) : k.risk === 'stray-writer' ? c.yellow(k.risk) : k.risk === 'unknown' ? c.magenta(k.risk) : c.green(k.risk);
      out.push(`${k.db}  risk: ${risk}`);
      const holders = k.holders.map((h) => `${h.pid} ${h.role}${h.verdict ? `/${h.verdict}` : ''} (${h.mode ?? '?'})`).join(', ');
      out.push(`  holders: ${holders || 'none open right now (gateways open it per tick)'}`);
      out.push(`  dispatcher lock: ${k.dispatcherLockHolder !== null ? `PID ${k.dispatcherLockHolder}` : 'not held'}`);
      out.push(`  writers: ${k.writers.map((w) => `${w.pid} ${w.role}/${w.verdict}`).join(', ') || 'none'}`);
      if (k.singletonLock) out.push(`  singleton dispatcher lock: ${k.singletonLock.value} (${k.singletonLock.why})`);
      for (const r of k.reasons) out.push(`  - ${r}`);
    }
  }
  if (report.databases && report.databases.length > 0) {
    out.push('', c.bold('Database files'));
    for (const d of report.databases) {
      const mode = d.format === 'sqlite' ? `${d.journalMode ?? '?'}${d.pageSize ? `, ${d.pageSize} B pages` : ''}` : d.format;
      const b = d.backups;
      const parts = [
        `${d.kind}${d.archived ? ' (archived board)' : ''} ${d.bytes !== null ? bytesText(d.bytes) : '?'}`,
        d.format === 'sqlite' && d.journalMode === 'wal' ? c.green(mode) : c.yellow(mode),
        `wal ${d.walBytes !== null ? bytesText(d.walBytes) : '-'}`,
        `shm ${d.shmBytes !== null ? bytesText(d.shmBytes) : '-'}`,
        ...(d.journalBytes !== null ? [`journal ${bytesText(d.journalBytes)}`] : []),
        ...(b.count > 0 ? [`backups ${b.count}${b.truncated ? '+' : ''} (${bytesText(b.bytes)}, ${b.recent} in the last hour)`] : []),
        `free ${d.freeBytes !== null ? bytesText(d.freeBytes) : '?'}`,
        ...(d.deletedHeldBy.length ? [c.red.bold(`deleted generation held by ${d.deletedHeldBy.join(', ')}`)] : []),
        ...(d.integrity
          ? [d.integrity.status === 'ok' ? c.green('checked ok') : d.integrity.status === 'corrupt' ? c.red.bold('quick_check: corrupt') : c.yellow(`not checked now: ${d.integrity.reason ?? 'unknown'}`)]
          : []),
      ];
      out.push(`${d.path}  ${parts.join('; ')}${d.findings.length ? `  ${c.red(d.findings.join(' '))}` : ''}`);
      if (d.error) out.push(`  - ${d.error}`);
    }
  }
  if (report.units && report.units.length > 0) {
    out.push('', c.bold('Supervisor units'));
    const t = new Table({ head: ['UNIT', 'SCOPE', 'STATE', 'NRESTARTS', 'MAINPID', 'HERMES PIDS', 'HOME'].map((h) => c.bold(h)), style });
    for (const u of report.units) {
      const state = `${u.activeState}/${u.subState}${u.result && u.result !== 'success' ? ` (${u.result})` : ''}`;
      t.push([
        u.unit,
        u.scope === 'user' ? `user${u.uid !== undefined ? ` ${u.uid}` : ''}` : 'system',
        u.crashLoop ? c.red.bold(state) : u.activeState === 'active' ? c.green(state) : c.yellow(state),
        u.crashLoop ? c.red.bold(String(u.nRestarts)) : String(u.nRestarts),
        u.mainPid > 0 ? String(u.mainPid) : '-',
        u.pids.join(' ') || '-',
        u.home ?? '?',
      ]);
    }
    out.push(t.toString());
    for (const u of report.units) if (u.crashLoop) out.push(`  ${c.red.bold('crash loop')} ${u.unit}: ${u.crashLoop}`);
  }
  const shown = report.findings.filter((f) => f.severity !== 'info');
  const info = report.findings.filter((f) => f.severity === 'info');
  out.push('', c.bold(shown.length ? `Findings (${shown.length})` : 'No problems found.'));
  shown.forEach((f, i) => {
    out.push(`${i + 1}. ${severityTag(c, f)} ${f.code}: ${f.message}`);
    if (f.remedy) out.push(`   remedy: ${c.bold(f.remedy)}`);
  });
  for (const f of info) out.push(`${c.dim('note')} ${f.code}: ${f.message}`);
  const sup = report.supervisors.map((s) => `${s.kind} ${s.status}`).join(', ');
  out.push('', c.dim(`${report.summary.processes} Hermes process(es); supervisors: ${sup}; scan ${report.summary.scanMs} ms; exit ${report.summary.exitCode}`));
  return out.join('\n');
}
