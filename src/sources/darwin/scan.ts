/**
 * The macOS host scan: process table from ps-list, argv and (own processes only) the allow-listed
 * environment from `ps`, open files and locks of the Hermes files from lsof, launchd jobs from launchctl,
 * identity files of every HERMES_HOME in sight. Returns the same {@link HostSnapshot} as the Linux scan.
 *
 * Off Linux a process has no cgroup and no session id (`sid`/`pgid` are -1); `startTicks` is the start
 * time in centiseconds since the epoch (ps-list's `lstart`, one-second resolution), compared only for equality.
 */
import os from 'node:os';
import path from 'node:path';
import type { Handle, HomeRecord, HostSnapshot, LockRecord, PortHolder, ProcessRecord, ScanNote } from '../../types.js';
import { parseHermesArgv } from '../../core/argv.js';
import { FILES, cleanPath, dispatcherLockPath, homeForProfile, isFileOfInterest, rootOfHome } from '../../core/paths.js';
import { isHermesOrAppArgv } from '../../core/supervision.js';
import { activeProfilesOf, realHostFiles } from '../hostfiles.js';
import { type CommandHostScanOptions, type PortLookup, type ProcessRow, findProcessPortLookup, psListLister } from '../processlist.js';
import { ancestorChain } from '../../core/ancestry.js';
import { DEFAULT_COMMAND_TIMEOUT_MS, execRunner } from '../runner.js';
import { observeLaunchd } from '../supervisors/launchd.js';
import { parseLsofF, isWriteLock } from './lsof.js';
import { argvOfPsCommand, envFromPsE, parsePsCommands, startStamp } from './ps.js';

/** Options of scanDarwin: the shared command-host options plus the scanning user and the port lookup. */
export interface DarwinScanOptions extends CommandHostScanOptions {
  /** UID of the scanning user (default process.getuid()). */
  uid?: number;
  /** Home directory of the scanning user (default os.homedir()). */
  homeDir?: string;
  /** Port lookup for web-UI gateways (default find-process). */
  findPort?: PortLookup;
}

/** Ports a web-UI-managed gateway is given in its environment (reference §6.3). */
export const PORT_VARIABLES = ['GATEWAY_PORT', 'HERMES_GATEWAY_PORT'] as const;



/** Every file of interest of the homes and kanban roots in sight (what lsof is asked about). */
export function filesOfInterest(homes: Iterable<string>, roots: Iterable<string>): string[] {
  const out = new Set<string>();
  for (const h of homes) {
    out.add(path.posix.join(h, FILES.gatewayLock));
    out.add(path.posix.join(h, FILES.gatewayPid));
  }
  for (const r of roots) {
    for (const suffix of ['', '-wal', '-shm', '.dispatch.lock']) out.add(path.posix.join(r, FILES.kanbanDb + suffix));
    out.add(dispatcherLockPath(r));
  }
  return [...out].filter(isFileOfInterest);
}

/**
 * Scans this macOS host.
 *
 * @throws Error when neither ps-list nor ps can list processes (nothing can be decided then)
 */
export async function scanDarwin(opts: DarwinScanOptions = {}): Promise<HostSnapshot> {
  const started = performance.now();
  const takenAt = new Date().toISOString();
  const runner = opts.runner ?? execRunner;
  const timeoutMs = opts.timeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
  const files = opts.files ?? realHostFiles;
  const uid = opts.uid ?? (process.getuid ? process.getuid() : -1);
  const homeDir = opts.homeDir ?? os.homedir();
  const selfPid = opts.selfPid ?? process.pid;
  const notes: ScanNote[] = [];
  const t = { timeoutMs };

  let table: ProcessRow[];
  try {
    table = await (opts.listProcesses ?? psListLister)();
  } catch (err) {
    throw new Error(`cannot list processes (ps-list: ${(err as Error).message}); nothing can be decided`);
  }
  const rows = new Map(table.filter((r) => Number.isInteger(r.pid) && r.pid > 0).map((r) => [r.pid, r]));

  // argv (every process) and the environment (own processes) from ps.
  const bare = await runner('ps', ['-A', '-ww', '-o', 'pid=,tty=,command='], t);
  const cmdOf = new Map<number, { tty: string | null; command: string }>();
  if (!bare.error && bare.code === 0) {
    const parsed = parsePsCommands(bare.stdout, true);
    for (const [pid, r] of parsed.rows) cmdOf.set(pid, r);
    if (parsed.bad > 0) notes.push({ what: 'ps', detail: `${parsed.bad} line(s) of ps output not understood and skipped` });
  } else {
    notes.push({ what: 'ps', detail: `ps failed (${bare.error ?? `exit ${bare.code}`}); command lines from ps-list` });
    for (const r of rows.values()) if (r.cmd) cmdOf.set(r.pid, { tty: null, command: r.cmd });
  }
  if (cmdOf.size === 0) throw new Error('cannot read any command line (ps and ps-list gave none); nothing can be decided');
  const withEnv = await runner('ps', ['-A', '-E', '-ww', '-o', 'pid=,command='], t);
  const envRows = !withEnv.error && withEnv.code === 0 ? parsePsCommands(withEnv.stdout, false).rows : null;
  if (!envRows) notes.push({ what: 'environ', detail: `ps -E failed (${withEnv.error ?? `exit ${withEnv.code}`}); environments unknown` });

  const argvOf = (pid: number) => argvOfPsCommand(cmdOf.get(pid)?.command ?? '');
  const records = new Map<number, ProcessRecord>();
  const makeRecord = (pid: number): ProcessRecord | null => {
    const row = rows.get(pid);
    const cmd = cmdOf.get(pid);
    if (!row && !cmd) return null;
    const procUid = row?.uid ?? -1;
    let env: Record<string, string> = {};
    let envVis: ProcessRecord['visibility']['environ'] = 'denied';
    const e = envRows?.get(pid);
    if (!envRows) envVis = 'unsupported';
    else if (e && cmd) {
      const parsed = envFromPsE(e.command, cmd.command);
      if (parsed) {
        env = parsed;
        envVis = procUid === uid || Object.keys(parsed).length > 0 ? 'ok' : 'denied';
      } else envVis = 'gone';
    }
    const start = row?.startTime instanceof Date ? row.startTime : row?.startTime ? new Date(row.startTime as unknown as string) : undefined;
    return {
      pid,
      ppid: row?.ppid ?? 0,
      uid: procUid,
      startTicks: startStamp(start),
      startTime: start && !Number.isNaN(start.getTime()) ? start.toISOString() : null,
      argv: argvOf(pid),
      comm: row?.name ?? '',
      exe: row?.path ?? null,
      cwd: null,
      tty: cmd?.tty ?? null,
      sid: -1,
      pgid: -1,
      cgroups: [],
      env,
      handles: [],
      visibility: { fd: 'unsupported', environ: envVis, cgroup: 'unsupported' },
    };
  };
  const add = (pid: number) => {
    if (records.has(pid)) return records.get(pid)!;
    const r = makeRecord(pid);
    if (r) records.set(pid, r);
    return r;
  };
  const allPids = new Set([...rows.keys(), ...cmdOf.keys()]);
  for (const pid of allPids) if (isHermesOrAppArgv(argvOf(pid))) add(pid);

  // launchd.
  const launchd = await observeLaunchd({ runner, timeoutMs, uid });
  for (const j of launchd.launchdJobs ?? []) if (j.pid > 0) add(j.pid);

  // Homes in sight.
  const defaultRoot = path.posix.join(homeDir, '.hermes');
  const homes = new Set<string>([defaultRoot]);
  for (const h of opts.extraHomes ?? []) homes.add(cleanPath(h));
  for (const r of records.values()) {
    const cmd = parseHermesArgv(r.argv);
    const inner = cmd?.wrapped ?? cmd;
    const envHome = r.env.HERMES_HOME ? cleanPath(r.env.HERMES_HOME) : null;
    if (envHome) homes.add(envHome);
    if (inner?.hermesHomeInArgv) homes.add(cleanPath(inner.hermesHomeInArgv));
    if (inner?.profile) homes.add(homeForProfile(envHome ? rootOfHome(envHome) : defaultRoot, inner.profile));
  }
  for (const j of launchd.launchdJobs ?? []) if (j.hermesHome) homes.add(cleanPath(j.hermesHome));
  const roots = new Set([...homes].map(rootOfHome));
  for (const root of roots) {
    homes.add(root);
    for (const h of files.listProfileHomes(root)) homes.add(cleanPath(h));
  }

  // Open files and locks: lsof on the files of interest that exist, never the whole machine.
  const locks: LockRecord[] = [];
  const wanted = filesOfInterest(homes, roots).filter((f) => files.exists(f));
  let lsofOk = false;
  if (wanted.length > 0) {
    const r = await runner('lsof', ['-n', '-P', '-w', '-F', 'pcfanl', '--', ...wanted.sort()], t);
    if (r.error || (r.code !== 0 && r.code !== 1)) {
      notes.push({ what: 'lsof', detail: `lsof failed (${r.error ?? `exit ${r.code}`}); holders of kanban.db and gateway.lock unknown` });
    } else {
      lsofOk = true;
      const parsed = parseLsofF(r.stdout);
      if (parsed.bad > 0) notes.push({ what: 'lsof', detail: `${parsed.bad} lsof field(s) not understood (truncated output?); some holders may be missing` });
      const seen = new Set<string>();
      for (const f of parsed.files) {
        const rec = add(f.pid);
        if (!rec) {
          notes.push({ what: 'lsof', pid: f.pid, detail: `PID ${f.pid} (${f.command}) holds ${f.name} but left the process table` });
          continue;
        }
        const h: Handle = { fd: f.fd, path: cleanPath(f.name), mode: f.mode, deleted: false };
        rec.handles.push(h);
        if (isWriteLock(f.lock) || f.lock === 'R' || f.lock === 'r') {
          const key = `${h.path}:${f.pid}`;
          if (!seen.has(key)) {
            seen.add(key);
            // lsof does not tell flock from fcntl locks; Hermes takes flock (reference §2.1).
            locks.push({ path: h.path, inode: 0, kind: 'FLOCK', access: isWriteLock(f.lock) ? 'WRITE' : 'READ', pid: f.pid });
          }
        }
      }
    }
  } else lsofOk = true;
  for (const r of records.values()) r.visibility.fd = lsofOk ? 'ok' : 'unsupported';

  // Ancestors explain supervision (the launchd stderr wrapper, the web UI's Node, the Desktop app).
  for (const r of [...records.values()]) {
    let ppid = r.ppid;
    for (let d = 0; d < 64 && ppid > 1 && !records.has(ppid); d++) {
      const p = add(ppid);
      if (!p) break;
      ppid = p.ppid;
    }
  }
  for (const r of records.values()) {
    if (r.visibility.environ !== 'ok' && parseHermesArgv(r.argv)) {
      notes.push({ what: 'environ', pid: r.pid, detail: `environment of PID ${r.pid} not readable (${r.visibility.environ}): ps shows it only for your own processes` });
    }
  }

  // Which process holds a web-UI gateway's port (find-process).
  const portHolders: PortHolder[] = [];
  const findPort = opts.findPort ?? findProcessPortLookup;
  for (const r of records.values()) {
    for (const v of PORT_VARIABLES) {
      const port = Number(r.env[v]);
      if (!parseHermesArgv(r.argv) || !Number.isInteger(port) || port <= 0 || port > 65535) continue;
      const held = await findPort(port);
      portHolders.push({ forPid: r.pid, variable: v, port, pids: held.map((x) => x.pid), names: held.map((x) => x.name) });
      break;
    }
  }

  const homeRecords: HomeRecord[] = [...homes].sort().map((h) => files.readHome(h));
  const scannerPids = ancestorChain(selfPid, (pid) => rows.get(pid)?.ppid);
  return {
    schema: 'hermes-doctor.snapshot/v1',
    takenAt,
    platform: 'darwin',
    hostname: opts.hostname ?? os.hostname(),
    clockTicks: 100,
    bootTimeMs: null,
    scannerUid: uid,
    scannerPids,
    scanMs: Math.round((performance.now() - started) * 10) / 10,
    processes: [...records.values()].sort((a, b) => a.pid - b.pid),
    processCount: allPids.size,
    userHomes: { [String(uid)]: homeDir },
    locks,
    homes: homeRecords,
    activeProfiles: activeProfilesOf(homes, files),
    supervisors: [launchd],
    notes,
    ...(portHolders.length ? { portHolders } : {}),
  };
}
