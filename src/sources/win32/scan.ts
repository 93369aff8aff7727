/**
 * The Windows host scan: process table from ps-list, command lines and creation times from PowerShell
 * `Get-CimInstance Win32_Process`, Scheduled Tasks from schtasks, identity files of every HERMES_HOME in
 * sight. Returns the same {@link HostSnapshot} as the Linux scan.
 *
 * What Windows does not show: another process's environment, its open files and its locks (Hermes locks
 * gateway.lock with msvcrt byte locks). So `env` is empty, `handles` and `locks` are empty, and the
 * scan says so in `notes`. A process's HERMES_HOME comes from `-p` under `%LOCALAPPDATA%\hermes`, from a
 * gateway.pid whose pid and start stamp match (Hermes writes `round(create_time*100)`), or from the task
 * launcher that started it. Every path is normalised by win32/paths.ts (lowercase, `/`). `startTicks` is
 * centiseconds since the epoch; `uid`, `sid` and `pgid` are -1.
 */
import os from 'node:os';
import path from 'node:path';
import type { HostSnapshot, ProcessRecord, ScanNote } from '../../types.js';
import { parseHermesArgv } from '../../core/argv.js';
import { cleanPath, homeForProfile, rootOfHome } from '../../core/paths.js';
import { isHermesOrAppArgv } from '../../core/supervision.js';
import { activeProfilesOf, realHostFiles } from '../hostfiles.js';
import { type CommandHostScanOptions, type ProcessRow, psListLister } from '../processlist.js';
import { ancestorChain } from '../../core/ancestry.js';
import { DEFAULT_COMMAND_TIMEOUT_MS, execRunner } from '../runner.js';
import { observeWindowsTasks } from '../supervisors/windows-task.js';
import { type CimProcess, argvOfCommandLine, cimArgs, findLauncherStubs, parseCimJson } from './cim.js';
import { launcherOf, windowsDefaultRoot, winPath } from './paths.js';

/** Options of scanWin32: the shared command-host options plus the scanner's environment. */
export interface Win32ScanOptions extends CommandHostScanOptions {
  /** The scanner's environment (LOCALAPPDATA, USERPROFILE, HERMES_DATA_DIR_SUFFIX); default process.env. */
  env?: Record<string, string | undefined>;
}

/**
 * Scans this Windows host.
 *
 * @throws Error when Get-CimInstance gives no usable process list (nothing can be decided then)
 */
export async function scanWin32(opts: Win32ScanOptions = {}): Promise<HostSnapshot> {
  const started = performance.now();
  const takenAt = new Date().toISOString();
  const runner = opts.runner ?? execRunner;
  const timeoutMs = opts.timeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
  const files = opts.files ?? realHostFiles;
  const env = opts.env ?? process.env;
  const selfPid = opts.selfPid ?? process.pid;
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
  const stubs = findLauncherStubs(parsed.rows);
  const all = new Map<number, CimProcess>(parsed.rows.map((r) => [r.pid, r]));
  const stubOfChild = new Map([...stubs].map(([stub, child]) => [child, stub]));
  const defaultRoot = windowsDefaultRoot(env);
  if (!defaultRoot) notes.push({ what: 'home', detail: 'neither LOCALAPPDATA nor USERPROFILE is set: the default Hermes root is unknown' });

  const toRecord = (r: CimProcess): ProcessRecord => {
    const stubPid = stubOfChild.get(r.pid);
    const stub = stubPid !== undefined ? all.get(stubPid) : undefined;
    const rec: ProcessRecord = {
      pid: r.pid,
      ppid: stub ? stub.ppid : r.ppid,
      uid: -1,
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
    for (let d = 0; d < 16 && cur && cur.pid !== child.pid; d++) {
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

  const records = new Map<number, ProcessRecord>();
  const add = (pid: number) => {
    if (records.has(pid) || stubs.has(pid)) return records.get(pid) ?? null;
    const r = all.get(pid);
    if (!r) return null;
    const rec = toRecord(r);
    records.set(pid, rec);
    return rec;
  };
  for (const r of parsed.rows) {
    const argv = argvOfCommandLine(r.commandLine);
    if (isHermesOrAppArgv(argv)) add(r.pid);
  }
  for (const rec of [...records.values()]) {
    let ppid = rec.ppid;
    for (let d = 0; d < 16 && ppid > 0 && !records.has(ppid); d++) {
      const p = add(ppid);
      if (!p || (p.startTicks && rec.startTicks && p.startTicks > rec.startTicks)) break;
      ppid = p.ppid;
    }
  }
  const hidden = parsed.rows.filter((r) => r.commandLine === null && /^(pythonw?[\d.]*|hermes(-gateway)?)\.exe$/i.test(r.name));
  if (hidden.length > 0) {
    notes.push({
      what: 'proc',
      detail: `the command lines of ${hidden.length} Python/Hermes process(es) are not visible (${hidden.slice(0, 5).map((r) => `PID ${r.pid}`).join(', ')}): another user's or elevated processes; run hermes-doctor elevated to see them`,
    });
  }
  const cimMissing = table.filter((t) => !all.has(t.pid)).length;
  if (cimMissing > 0) notes.push({ what: 'proc', detail: `${cimMissing} process(es) listed by ps-list are missing from Win32_Process (started during the scan?)` });

  const tasks = await observeWindowsTasks({ runner, timeoutMs: Math.max(timeoutMs, 15_000) });

  // Homes in sight: the default root, task homes, -p homes, --home.
  const homes = new Set<string>();
  if (defaultRoot) homes.add(defaultRoot);
  for (const h of opts.extraHomes ?? []) homes.add(winPath(h));
  for (const t of tasks.windowsTasks ?? []) if (t.hermesHome) homes.add(t.hermesHome);
  for (const rec of records.values()) {
    const cmd = parseHermesArgv(rec.argv);
    const inner = cmd?.wrapped ?? cmd;
    if (rec.platformHints?.hermesHome) homes.add(rec.platformHints.hermesHome.path);
    if (inner?.hermesHomeInArgv) homes.add(winPath(inner.hermesHomeInArgv));
    if (inner?.profile && defaultRoot) homes.add(homeForProfile(defaultRoot, inner.profile));
  }
  for (const root of new Set([...homes].map(rootOfHome))) {
    homes.add(root);
    for (const h of files.listProfileHomes(root)) homes.add(winPath(h));
  }
  const homeRecords = [...homes].sort().map((h) => files.readHome(h));

  // A gateway.pid whose pid and start stamp match names the process's home (proof, like a held lock).
  for (const h of homeRecords) {
    const f = h.pidFile;
    if (f.status !== 'ok' || f.pid === null || f.startTime === null) continue;
    const rec = records.get(f.pid);
    if (rec && rec.startTicks === f.startTime && !rec.platformHints?.hermesHome) {
      rec.platformHints = { ...rec.platformHints, hermesHome: { path: cleanPath(h.path), via: `${path.posix.basename(f.path)} record (pid and start_time match)` } };
    }
  }

  notes.push({ what: 'handles', detail: 'Windows: open files and locks of other processes are not visible; kanban.db holders and the gateway.lock owner are unknown' });
  const scannerPids = ancestorChain(selfPid, (pid) => all.get(pid)?.ppid);
  return {
    schema: 'hermes-doctor.snapshot/v1',
    takenAt,
    platform: 'win32',
    hostname: opts.hostname ?? os.hostname(),
    clockTicks: 100,
    bootTimeMs: null,
    scannerUid: -1,
    scannerPids,
    scanMs: Math.round((performance.now() - started) * 10) / 10,
    processes: [...records.values()].sort((a, b) => a.pid - b.pid),
    processCount: Math.max(table.length, parsed.rows.length),
    userHomes: {},
    locks: [],
    homes: homeRecords,
    activeProfiles: activeProfilesOf(homes, files),
    supervisors: [tasks],
    notes,
  };
}
