/**
 * Windows process table with command lines: PowerShell `Get-CimInstance Win32_Process` (wmic is
 * deprecated). Fields of Win32_Process (Microsoft Learn, "Win32_Process class", CIMWin32 provider):
 * ProcessId, ParentProcessId, Name, ExecutablePath, CommandLine (null for protected processes),
 * CreationDate. The script formats CreationDate in UTC with the round-trip format `o`
 * (`2026-11-20T09:15:02.1234567Z`, 100 ns resolution) and prints one JSON array (ConvertTo-Json).
 */
import { splitCommandLine } from '../../core/argv.js';

/** The PowerShell script (see {@link cimArgs}). `filter` is a WQL filter (`ProcessId=123`) or empty for every process. */
export function cimScript(filter = ''): string {
  const f = filter ? ` -Filter '${filter.replace(/'/g, "''")}'` : '';
  return (
    `$ErrorActionPreference='Stop'; [Console]::OutputEncoding = [Text.Encoding]::UTF8; ` +
    `$p = @(Get-CimInstance -ClassName Win32_Process${f} | ForEach-Object { [pscustomobject]@{ ` +
    `ProcessId=$_.ProcessId; ParentProcessId=$_.ParentProcessId; Name=$_.Name; ExecutablePath=$_.ExecutablePath; ` +
    `CommandLine=$_.CommandLine; Created=$(if ($_.CreationDate) { $_.CreationDate.ToUniversalTime().ToString('o') } else { $null }) } }); ` +
    `ConvertTo-Json -InputObject $p -Compress -Depth 2`
  );
}

/**
 * Arguments for the runner: `powershell.exe <these>`. The script goes as `-EncodedCommand` (base64 of
 * UTF-16LE, powershell.exe -? / about_PowerShell_exe) so no quoting rule of CreateProcess or of
 * PowerShell's command-line parser can change it.
 */
export function cimArgs(filter = ''): string[] {
  return ['-NoProfile', '-NonInteractive', '-EncodedCommand', Buffer.from(cimScript(filter), 'utf16le').toString('base64')];
}

/** One Win32_Process row. */
export interface CimProcess {
  pid: number;
  ppid: number;
  name: string;
  exe: string | null;
  commandLine: string | null;
  /** Centiseconds since the epoch (Hermes's `round(psutil.create_time()*100)`), 0 when unknown. */
  startStamp: number;
  /** ISO time of creation, or null. */
  created: string | null;
}

/**
 * Creation time `o`-format (`2026-11-20T09:15:02.1234567Z`) → centiseconds since the epoch, the value
 * Hermes writes as start_time on Windows. Also accepts `/Date(ms)/` (Windows PowerShell 5.1 default
 * serialisation). 0 when unparseable.
 */
export function stampOfCreated(created: string | null | undefined): number {
  if (!created) return 0;
  const legacy = /\/Date\((\d+)\)\//.exec(created);
  if (legacy) return Math.round(Number(legacy[1]) / 10);
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.(\d+))?Z$/.exec(created);
  if (!m) return 0;
  const secs = Date.parse(`${m[1]}Z`) / 1000;
  if (Number.isNaN(secs)) return 0;
  const frac = m[2] ? Number(`0.${m[2]}`) : 0;
  return Math.round((secs + frac) * 100);
}

/**
 * Parses the script's JSON. Throws Error with a clear message when the text is not a JSON array or
 * object (truncated, an error message); rows without an integer ProcessId are skipped and counted.
 */
export function parseCimJson(text: string): { rows: CimProcess[]; bad: number } {
  const t = text.trim();
  if (t === '') throw new Error('Get-CimInstance Win32_Process printed nothing');
  let data: unknown;
  try {
    data = JSON.parse(t);
  } catch (err) {
    throw new Error(`Get-CimInstance Win32_Process output is not JSON (truncated?): ${(err as Error).message}`);
  }
  const list = Array.isArray(data) ? data : typeof data === 'object' && data !== null ? [data] : null;
  if (!list) throw new Error('Get-CimInstance Win32_Process output is not a list of processes');
  const rows: CimProcess[] = [];
  let bad = 0;
  for (const o of list as Record<string, unknown>[]) {
    const pid = typeof o?.ProcessId === 'number' ? o.ProcessId : NaN;
    if (!Number.isInteger(pid) || pid < 0) {
      bad++;
      continue;
    }
    const stamp = stampOfCreated(typeof o.Created === 'string' ? o.Created : null);
    rows.push({
      pid,
      ppid: typeof o.ParentProcessId === 'number' ? o.ParentProcessId : 0,
      name: typeof o.Name === 'string' ? o.Name : '',
      exe: typeof o.ExecutablePath === 'string' ? o.ExecutablePath : null,
      commandLine: typeof o.CommandLine === 'string' ? o.CommandLine : null,
      startStamp: stamp,
      created: stamp ? new Date(stamp * 10).toISOString() : null,
    });
  }
  return { rows, bad };
}

/** argv of a Windows command line: Hermes's non-POSIX split (core/argv splitCommandLine), surrounding quotes removed. */
export function argvOfCommandLine(commandLine: string | null): string[] {
  return commandLine ? splitCommandLine(commandLine).map((x) => x.replace(/^"(.*)"$/, '$1')) : [];
}

const PY = /^pythonw?(\d+(\.\d+)*)?(\.exe)?$/i;

/**
 * The venv launcher stubs (Hermes `_filter_venv_launcher_stubs` in hermes_cli/gateway.py, v0.15.1 and 306e2d2): a python/pythonw
 * parent whose child has the very same command line. Returns stub PID → its child PID.
 */
export function findLauncherStubs(rows: CimProcess[]): Map<number, number> {
  const byPid = new Map(rows.map((r) => [r.pid, r]));
  const out = new Map<number, number>();
  for (const child of rows) {
    const parent = byPid.get(child.ppid);
    if (!parent || parent.pid === child.pid || !child.commandLine || !parent.commandLine) continue;
    if (parent.commandLine.trim() !== child.commandLine.trim()) continue;
    if (!PY.test(parent.name) || !PY.test(child.name)) continue;
    // A reused parent PID started after the child is not its stub.
    if (parent.startStamp && child.startStamp && parent.startStamp > child.startStamp) continue;
    out.set(parent.pid, child.pid);
  }
  return out;
}
