/**
 * Windows Scheduled Task source: the tasks `Hermes_Gateway` / `Hermes_Gateway_<suffix>` (Hermes
 * `get_task_name` in hermes_cli/gateway_windows.py, v0.15.1 and 306e2d2) with their state and the HERMES_HOME of their launcher.
 *
 * Format: `schtasks /query /fo csv /v` (Microsoft Learn, "schtasks query"): RFC 4180 CSV, every field
 * quoted, a header row (repeated before each task folder) whose English columns include `TaskName`
 * (`\Hermes_Gateway`), `Status` (Ready, Running, Disabled, Queued, Could not start), `Last Run Time`,
 * `Task To Run` (e.g. `wscript.exe //B //Nologo "C:\…\hermes\gateway-service\Hermes_Gateway.vbs"`) and
 * `Scheduled Task State` (Enabled/Disabled). On localised Windows the header is translated, so columns
 * are found by name first and by their fixed position (TaskName 2nd, Status 4th, Task To Run 9th) otherwise.
 * A Scheduled Task has no PID; membership is decided from the launch chain (core/supervision).
 */
import type { SupervisorObservation, WindowsTask } from '../../types.js';
import type { CommandRunner } from '../runner.js';
import { launcherOf } from '../win32/paths.js';

/** Task names of Hermes gateways (the folder prefix `\` removed). */
export const TASK_NAME_RE = /^Hermes_Gateway(?:_[A-Za-z0-9_.-]+)?$/i;

/** Parses RFC 4180 CSV into rows of fields. Returns `truncated` when the text ends inside a quoted field. */
export function parseCsv(text: string): { rows: string[][]; truncated: boolean } {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  let any = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else field += ch;
    } else if (ch === '"') {
      quoted = true;
      any = true;
    } else if (ch === ',') {
      row.push(field);
      field = '';
      any = true;
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      if (any || field !== '') {
        row.push(field);
        rows.push(row);
      }
      row = [];
      field = '';
      any = false;
    } else {
      field += ch;
      any = true;
    }
  }
  if (quoted) return { rows, truncated: true };
  if (any || field !== '') {
    row.push(field);
    rows.push(row);
  }
  return { rows, truncated: false };
}

/** Profile named by a task: `Hermes_Gateway` → default, `Hermes_Gateway_argus` → argus. */
export function profileOfTask(name: string): string | null {
  if (/^Hermes_Gateway$/i.test(name)) return 'default';
  const m = /^Hermes_Gateway_([a-z0-9][a-z0-9_-]{0,63})$/i.exec(name);
  return m ? m[1]!.toLowerCase() : null;
}

/**
 * Parses `schtasks /query /fo csv /v` output into Hermes tasks. Returns null when the text is not that
 * CSV (no header row with at least 9 columns). `problems` lists rows that were cut short.
 */
export function parseSchtasksCsv(text: string): { tasks: WindowsTask[]; problems: string[] } | null {
  const { rows, truncated } = parseCsv(text);
  if (rows.length === 0 || rows[0]!.length < 9) return null;
  const header = rows[0]!;
  const col = (name: string, pos: number) => {
    const i = header.findIndex((h) => h.trim().toLowerCase() === name.toLowerCase());
    return i >= 0 ? i : pos;
  };
  const cName = col('TaskName', 1);
  const cStatus = col('Status', 3);
  const cRun = col('Task To Run', 8);
  const cState = header.findIndex((h) => h.trim().toLowerCase() === 'scheduled task state');
  const problems: string[] = [];
  if (truncated) problems.push('the output ends inside a quoted field (truncated)');
  const tasks: WindowsTask[] = [];
  for (const r of rows.slice(1)) {
    if (r.length === header.length && r.every((f, i) => f === header[i])) continue; // repeated header
    const rawName = r[cName] ?? '';
    const name = rawName.slice(rawName.lastIndexOf('\\') + 1);
    if (!TASK_NAME_RE.test(name)) {
      if (r.length < header.length && r.length > 0) problems.push(`a row with ${r.length} of ${header.length} fields`);
      continue;
    }
    if (r.length <= Math.max(cStatus, cRun)) {
      problems.push(`task ${name}: row cut short (${r.length} of ${header.length} fields)`);
      tasks.push({ name, state: 'unknown', hermesHome: null, profile: profileOfTask(name), launcher: null });
      continue;
    }
    const taskToRun = r[cRun]!;
    const l = launcherOf(taskToRun);
    const st = cState >= 0 ? (r[cState] ?? '').trim().toLowerCase() : '';
    tasks.push({
      name,
      state: r[cStatus]!.trim() || 'unknown',
      hermesHome: l ? l.home : null,
      profile: profileOfTask(name),
      launcher: l ? l.launcher : null,
      taskToRun,
      enabled: st === 'enabled' ? true : st === 'disabled' ? false : null,
    });
  }
  return { tasks, problems };
}

export interface WindowsTaskOptions {
  runner: CommandRunner;
  timeoutMs: number;
  /** schtasks binary, default `schtasks`. */
  schtasks?: string;
}

/** Observes the Hermes Scheduled Tasks. Never throws; a failing, malformed or truncated answer is status `unknown`. */
export async function observeWindowsTasks(opts: WindowsTaskOptions): Promise<SupervisorObservation> {
  const r = await opts.runner(opts.schtasks ?? 'schtasks', ['/query', '/fo', 'csv', '/v'], { timeoutMs: opts.timeoutMs });
  if (r.error || r.code !== 0) {
    const why = r.error ?? `exit ${r.code}: ${r.stderr.trim().slice(0, 200)}`;
    return { kind: 'windows-task', status: 'unknown', detail: `schtasks /query failed: ${why}`, windowsTasks: [] };
  }
  const parsed = parseSchtasksCsv(r.stdout);
  if (!parsed) {
    return { kind: 'windows-task', status: 'unknown', detail: `schtasks /query output not understood: ${JSON.stringify(r.stdout.slice(0, 80))}`, windowsTasks: [] };
  }
  if (parsed.problems.length > 0) {
    return {
      kind: 'windows-task',
      status: 'unknown',
      detail: `schtasks /query output incomplete (${parsed.problems.join('; ')}): a Hermes task may be missing`,
      windowsTasks: parsed.tasks,
    };
  }
  return { kind: 'windows-task', status: 'present', detail: `${parsed.tasks.length} Hermes task(s)`, windowsTasks: parsed.tasks };
}
