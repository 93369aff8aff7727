/**
 * The facets of a Windows host (src/sources/facets.ts): the process table from PowerShell
 * `Get-CimInstance Win32_Process` (command lines, creation times; ps-list only to count), Scheduled
 * Tasks from schtasks.
 *
 * What Windows does not show: another process's environment, its open files and its locks (Hermes locks
 * gateway.lock with msvcrt byte locks). So `env` is empty, `handles` and `locks` are empty, and the
 * scan says so in `notes`. A process's HERMES_HOME comes from `-p` under `%LOCALAPPDATA%\hermes`, from a
 * gateway.pid whose pid and start stamp match (Hermes writes `round(create_time*100)`), or from the task
 * launcher that started it. Every path is normalised by win32/paths.ts (lowercase, `/`). `startTicks` is
 * centiseconds since the epoch; `uid`, `sid` and `pgid` are -1.
 */
import path from 'node:path';
import type { ProcessRecord, ScanNote } from '../../types.js';
import { ANCESTOR_DEPTH } from '../../core/candidates.js';
import { cleanPath } from '../../core/paths.js';
import type { HostFacets, ProcessTable, TableListing } from '../facets.js';
import { realHostFiles } from '../hostfiles.js';
import { type CommandHostScanOptions, type ProcessRow, psListLister } from '../processlist.js';
import { DEFAULT_COMMAND_TIMEOUT_MS, execRunner } from '../runner.js';
import { observeWindowsTasks } from '../supervisors/windows-task.js';
import { type CimProcess, argvOfCommandLine, cimArgs, findLauncherStubs, parseCimJson } from './cim.js';
import { launcherOf, windowsDefaultRoot, winPath } from './paths.js';
import { UNKNOWN_UID } from '../../util/uid.js';

/** Options of scanWin32: the shared command-host options plus the scanner's environment. */
export interface Win32ScanOptions extends CommandHostScanOptions {
  /** The scanner's environment (LOCALAPPDATA, USERPROFILE, HERMES_DATA_DIR_SUFFIX); default process.env. */
  env?: Record<string, string | undefined>;
}

/**
 * The Windows process table. The venv launcher stubs (a python parent with its child's very command
 * line) are dropped and their children hang from the stub's parent; every record carries the default
 * root and the task launcher of its living ancestors as platform hints.
 */
function win32ProcessTable(opts: Win32ScanOptions, defaultRoot: string | null): ProcessTable {
  const runner = opts.runner ?? execRunner;
  const timeoutMs = opts.timeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
  let all = new Map<number, CimProcess>();
  let stubs = new Map<number, number>();
  let stubOfChild = new Map<number, number>();

  const toRecord = (r: CimProcess): ProcessRecord => {
    const stubPid = stubOfChild.get(r.pid);
    const stub = stubPid !== undefined ? all.get(stubPid) : undefined;
    const rec: ProcessRecord = {
      pid: r.pid,
      ppid: stub ? stub.ppid : r.ppid,
      uid: UNKNOWN_UID,
      startTicks: r.startStamp,
      startTime: r.created,
      argv: argvOfCommandLine(r.commandLine),
      comm: r.name,
      exe: r.exe ? winPath(r.exe) : null,
      cwd: null,
      tty: null,
      sid: -1,
      pgid: -1,
      cgroups: [],
      env: {},
      handles: [],
      visibility: { fd: 'unsupported', environ: 'unsupported', cgroup: 'unsupported' },
    };
    const hints: NonNullable<ProcessRecord['platformHints']> = {};
    if (defaultRoot) hints.defaultRoot = defaultRoot;
    if (stub) hints.launcherStub = { pid: stub.pid, ppid: stub.ppid };
    // A living ancestor that runs a task launcher (the .cmd chain keeps cmd.exe alive as the parent).
    let cur = all.get(rec.ppid);
    let child: CimProcess = r;
    for (let d = 0; d < ANCESTOR_DEPTH && cur && cur.pid !== child.pid; d++) {
      if (cur.startStamp && child.startStamp && cur.startStamp > child.startStamp) break; // a reused PID
      const l = cur.commandLine ? launcherOf(cur.commandLine) : null;
      if (l) {
        hints.taskLauncher = { pid: cur.pid, launcher: l.launcher };
        hints.hermesHome = { path: l.home, via: `launched by ${l.launcher}` };
        break;
      }
      child = cur;
      cur = all.get(cur.ppid);
    }
    rec.platformHints = hints;
    return rec;
  };

  return {
    bootTimeMs: null,
    async list(): Promise<TableListing> {
      const notes: ScanNote[] = [];
      let table: ProcessRow[] = [];
      try {
        table = await (opts.listProcesses ?? psListLister)();
      } catch (err) {
        notes.push({ what: 'proc', detail: `ps-list failed (${(err as Error).message}); using Get-CimInstance alone` });
      }
      const cim = await runner('powershell.exe', cimArgs(), { timeoutMs: Math.max(timeoutMs, 10_000) });
      if (cim.error || cim.code !== 0) {
        throw new Error(`cannot read command lines: Get-CimInstance Win32_Process failed (${cim.error ?? `exit ${cim.code}: ${cim.stderr.trim().slice(0, 200)}`}); nothing can be decided`);
      }
      const parsed = parseCimJson(cim.stdout);
      if (parsed.bad > 0) notes.push({ what: 'proc', detail: `${parsed.bad} Win32_Process row(s) without a ProcessId skipped` });
      stubs = findLauncherStubs(parsed.rows);
      all = new Map(parsed.rows.map((r) => [r.pid, r]));
      stubOfChild = new Map([...stubs].map(([stub, child]) => [child, stub]));
      const hidden = parsed.rows.filter((r) => r.commandLine === null && /^(pythonw?[\d.]*|hermes(-gateway)?)\.exe$/i.test(r.name));
      if (hidden.length > 0) {
        notes.push({
          what: 'proc',
          detail: `the command lines of ${hidden.length} Python/Hermes process(es) are not visible (${hidden.slice(0, 5).map((r) => `PID ${r.pid}`).join(', ')}): another user's or elevated processes; run hermes-doctor elevated to see them`,
        });
      }
      const cimMissing = table.filter((t) => !all.has(t.pid)).length;
      if (cimMissing > 0) notes.push({ what: 'proc', detail: `${cimMissing} process(es) listed by ps-list are missing from Win32_Process (started during the scan?)` });
      return { argv: new Map(parsed.rows.map((r) => [r.pid, argvOfCommandLine(r.commandLine)])), count: Math.max(table.length, parsed.rows.length), notes };
    },
    read(pid) {
      if (stubs.has(pid)) return null;
      const r = all.get(pid);
      return r ? toRecord(r) : null;
    },
    ppidOf: (pid) => all.get(pid)?.ppid,
    // A gateway.pid whose pid and start stamp match names the process's home (proof, like a held lock).
    proveHomes(records, homes) {
      const byPid = new Map(records.map((r) => [r.pid, r]));
      for (const h of homes) {
        const f = h.pidFile;
        if (f.status !== 'ok' || f.pid === null || f.startTime === null) continue;
        const rec = byPid.get(f.pid);
        if (rec && rec.startTicks === f.startTime && !rec.platformHints?.hermesHome) {
          rec.platformHints = { ...rec.platformHints, hermesHome: { path: cleanPath(h.path), via: `${path.posix.basename(f.path)} record (pid and start_time match)` } };
        }
      }
    },
  };
}

/** The facets of a Windows host, or of its recorded outputs. */
export function win32Facets(opts: Win32ScanOptions = {}): HostFacets {
  const runner = opts.runner ?? execRunner;
  const timeoutMs = opts.timeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
  const defaultRoot = windowsDefaultRoot(opts.env ?? process.env);
  const notes: ScanNote[] = defaultRoot ? [] : [{ what: 'home', detail: 'neither LOCALAPPDATA nor USERPROFILE is set: the default Hermes root is unknown' }];
  return {
    platform: 'win32',
    table: win32ProcessTable(opts, defaultRoot),
    openFiles: {},
    locks: {
      read: () => ({
        locks: [],
        notes: [{ what: 'handles', detail: 'Windows: open files and locks of other processes are not visible; kanban.db holders and the gateway.lock owner are unknown' }],
      }),
    },
    files: opts.files ?? realHostFiles,
    users: () => ({ homes: {}, names: {}, scannerUid: UNKNOWN_UID, defaultRoots: defaultRoot ? [defaultRoot] : [], notes }),
    supervisors: { observe: async () => [await observeWindowsTasks({ runner, timeoutMs: Math.max(timeoutMs, 15_000) })] },
    normalise: winPath,
  };
}
