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
import iconv from 'iconv-lite';
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
 * One field of a schtasks row with its outer quotes removed. schtasks does not double inner quotes, but
 * an RFC 4180 writer would: a field whose quotes all come in pairs (`""C:\…\x.cmd""`) is un-doubled,
 * one with a lone quote (`reg query "HKLM\…" /v "SD"`) is kept as printed.
 */
function unquoteField(f: string): string {
  const runs = f.match(/"+/g) ?? [];
  return runs.length > 0 && runs.every((r) => r.length % 2 === 0) ? f.replace(/""/g, '"') : f;
}

/**
 * Splits one schtasks record (`"a","b",…,"z"`) on the `","` between fields, so quotes inside a field,
 * doubled or not, never end it. Null when the record is not closed by a quote (the output was cut).
 */
export function splitSchtasksRecord(record: string): string[] | null {
  if (record.length < 2 || !record.startsWith('"') || !record.endsWith('"')) return null;
  return record.slice(1, -1).split('","').map(unquoteField);
}

/**
 * Parses `schtasks /query /fo csv /v` output into Hermes tasks, one record at a time. Real schtasks
 * quotes every field but does not double the quotes inside one (rows pasted in Metasploit's
 * spec/lib/msf/core/post/windows/task_scheduler_spec.rb: `"reg query "HKLM\…" /v "SD""`), so a
 * general CSV reader ends inside a quoted field at the first odd-quote Comment and loses every task
 * after it. Here a record starts at a line beginning with `"` (a line that does not is a line break
 * inside the previous record) and its fields are split on `","`; the header gives the column count.
 * A record with the wrong count is read best-effort: the columns before Comment from the left, the
 * ones after it from the right; a Hermes task read so is kept (its own fields are fixed text).
 *
 * Returns null when the text is not that CSV (no header record with at least 9 columns). `problems`:
 * what may hide a Hermes task (the output ends inside a record); `skipped`: other tasks' records that
 * could not be split (a scan note, not a reason to doubt the Hermes tasks).
 */
export function parseSchtasksCsv(text: string): { tasks: WindowsTask[]; problems: string[]; skipped: string[] } | null {
  const records: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    if (line.startsWith('"') || records.length === 0) records.push(line);
    else records[records.length - 1] += `\n${line}`;
  }
  while (records.length > 0 && records[records.length - 1]!.trim() === '') records.pop();
  const headerLine = records[0]?.trim() ?? '';
  const header = splitSchtasksRecord(headerLine);
  if (!header || header.length < 9) return null;
  const col = (name: string, pos: number) => {
    const i = header.findIndex((h) => h.trim().toLowerCase() === name.toLowerCase());
    return i >= 0 ? i : pos;
  };
  const cName = col('TaskName', 1);
  const cStatus = col('Status', 3);
  const cRun = col('Task To Run', 8);
  const cState = header.findIndex((h) => h.trim().toLowerCase() === 'scheduled task state');
  const problems: string[] = [];
  const skipped: string[] = [];
  const tasks: WindowsTask[] = [];
  records.slice(1).forEach((raw, i, all) => {
    const rec = raw.trim();
    if (rec === '' || rec === headerLine) return; // blank line; header repeated before each task folder
    const last = i === all.length - 1;
    let r = splitSchtasksRecord(rec);
    if (!r) {
      if (last) {
        problems.push('the output ends inside a quoted field (truncated)');
        r = rec.replace(/^"/, '').split('","').map(unquoteField);
      } else {
        skipped.push(`a record not closed by a quote: ${JSON.stringify(rec.slice(0, 60))}`);
        return;
      }
    }
    const exact = r.length === header.length;
    // Counted from the right when fields split wrongly (a `","` inside a Comment): the column's place from the end.
    const fromRight = (c: number) => (exact || c < cRun + 2 ? r![c] : r![r!.length - (header.length - c)]);
    const rawName = r[cName] ?? '';
    const name = rawName.slice(rawName.lastIndexOf('\\') + 1);
    if (!TASK_NAME_RE.test(name)) {
      if (!exact && !problems.length) skipped.push(`task ${rawName || '?'}: ${r.length} of ${header.length} fields, skipped`);
      return;
    }
    if (r.length <= Math.max(cStatus, cRun)) {
      if (!problems.length) problems.push(`task ${name}: row cut short (${r.length} of ${header.length} fields)`);
      else problems[problems.length - 1] += ` (task ${name} cut short: ${r.length} of ${header.length} fields)`;
      tasks.push({ name, state: 'unknown', hermesHome: null, profile: profileOfTask(name), launcher: null });
      return;
    }
    if (!exact) skipped.push(`task ${name}: ${r.length} of ${header.length} fields, read best-effort`);
    const taskToRun = r[cRun]!;
    const l = launcherOf(taskToRun);
    const st = cState >= 0 && (exact || r.length > header.length) ? (fromRight(cState) ?? '').trim().toLowerCase() : '';
    tasks.push({
      name,
      state: r[cStatus]!.trim() || 'unknown',
      hermesHome: l ? l.home : null,
      profile: profileOfTask(name),
      launcher: l ? l.launcher : null,
      taskToRun,
      enabled: st === 'enabled' ? true : st === 'disabled' ? false : null,
    });
  });
  return { tasks, problems, skipped };
}

/** `reg query` of the OEM code page (the console's default code page, which schtasks writes when piped). */
export const OEMCP_QUERY = ['query', 'HKLM\\SYSTEM\\CurrentControlSet\\Control\\Nls\\CodePage', '/v', 'OEMCP'] as const;

/** The code page in `reg query … /v OEMCP` output (`    OEMCP    REG_SZ    850`), or null. */
export function parseOemCodePage(text: string): number | null {
  const m = /^\s*OEMCP\s+REG_SZ\s+(\d+)\s*$/m.exec(text);
  return m ? Number(m[1]) : null;
}

/**
 * schtasks output as text. Piped, schtasks writes the console's OEM code page (cp437 en-US, cp850
 * de-DE/fr-FR…; Checkmk's agents/windows/plugins/windows_tasks.ps1 decodes it so), while Get-CimInstance
 * output is forced to UTF-8: undecoded, `C:\Users\Jürgen` would never match between the two. Bytes that
 * are valid UTF-8 (a console set to 65001) are read as UTF-8; otherwise they are decoded with `codePage`
 * (iconv-lite tables), cp850 when it is unknown (`guessed`). Without bytes, `stdout` is taken as is.
 */
export function decodeSchtasks(stdout: string, bytes: Buffer | undefined, codePage: number | null): { text: string; encoding: string; guessed: boolean } {
  if (!bytes) return { text: stdout, encoding: 'utf8', guessed: false };
  const utf8 = bytes.toString('utf8');
  if (!utf8.includes('\uFFFD')) return { text: utf8, encoding: 'utf8', guessed: false };
  const cp = codePage !== null && codePage !== 65001 && iconv.encodingExists(`cp${codePage}`) ? `cp${codePage}` : null;
  const encoding = cp ?? 'cp850';
  return { text: iconv.decode(bytes, encoding), encoding, guessed: cp === null };
}

export interface WindowsTaskOptions {
  runner: CommandRunner;
  timeoutMs: number;
  /** schtasks binary, default `schtasks`. */
  schtasks?: string;
}

/** Observes the Hermes Scheduled Tasks. Never throws; a failing, malformed or truncated answer is status `unknown`. */
export async function observeWindowsTasks(opts: WindowsTaskOptions): Promise<SupervisorObservation> {
  const r = await opts.runner(opts.schtasks ?? 'schtasks', ['/query', '/fo', 'csv', '/v'], { timeoutMs: opts.timeoutMs, bytes: true });
  if (r.error || r.code !== 0) {
    const why = r.error ?? `exit ${r.code}: ${r.stderr.trim().slice(0, 200)}`;
    return { kind: 'windows-task', status: 'unknown', detail: `schtasks /query failed: ${why}`, windowsTasks: [] };
  }
  let codePage: number | null = null;
  if (r.stdoutBytes && r.stdoutBytes.toString('utf8').includes('\uFFFD')) {
    const q = await opts.runner('reg', [...OEMCP_QUERY], { timeoutMs: opts.timeoutMs });
    codePage = q.error || q.code !== 0 ? null : parseOemCodePage(q.stdout);
  }
  const decoded = decodeSchtasks(r.stdout, r.stdoutBytes, codePage);
  const parsed = parseSchtasksCsv(decoded.text);
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
  let notes = parsed.skipped.length > 0 ? `; ${parsed.skipped.length} record(s) of schtasks not split by its column count (${parsed.skipped.join('; ')})` : '';
  if (decoded.guessed) notes += `; the OEM code page is unknown, schtasks output decoded as ${decoded.encoding}`;
  else if (decoded.encoding !== 'utf8') notes += `; schtasks output decoded as ${decoded.encoding}`;
  return { kind: 'windows-task', status: 'present', detail: `${parsed.tasks.length} Hermes task(s)${notes}`, windowsTasks: parsed.tasks };
}
