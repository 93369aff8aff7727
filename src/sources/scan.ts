/**
 * The one host scan: the same steps on every platform, over the facets of src/sources/facets.ts.
 *
 * 1. The process table: every process's argv (and, where the platform shows them cheaply, its open
 *    files of interest). This is the step whose cost grows with the host; everything after it works on
 *    the few candidates.
 * 2. Candidates (core/candidates.ts): Hermes processes, the web UI, the Desktop app, s6 gateway slots,
 *    holders of Hermes files; read in full, then their ancestors (parents explain supervision:
 *    s6-supervise, node, wrappers, task launchers), {@link ANCESTOR_DEPTH} generations at most.
 * 3. Users, the sticky `active_profile` of every root a process may default to, and the homes in sight
 *    (core/candidates.ts `sightOfProcess`).
 * 4. Supervisors; the homes they name and the PIDs they run.
 * 5. Every profile of every root in sight; by-file open files (lsof) of those homes.
 * 6. Identity files of every home, the PIDs they name, the Hermes sources of the gateways, the
 *    database files of every kanban root and home (sources/databases.ts: header, sidecars, backups), locks.
 * 7. The snapshot.
 *
 * A process that exits during the scan is absent, never half-reported (ProcessTable.read).
 */
import os from 'node:os';
import type { HomeRecord, HostSnapshot, PortHolder, ProcessRecord, ScanNote } from '../types.js';
import { ancestorChain } from '../core/ancestry.js';
import { parseHermesArgv } from '../core/argv.js';
import {
  ANCESTOR_DEPTH,
  activeProfileRootOf,
  filesOfInterest,
  homesOfSupervisors,
  isCandidate,
  lockFilesOf,
  pidsOfIdentityFiles,
  pidsOfSupervisors,
  sightOfProcess,
} from '../core/candidates.js';
import { dispatcherLockPath, rootOfHome } from '../core/paths.js';
import type { FdTable, HostFacets } from './facets.js';
import { checkIntegrityAll } from './db-integrity.js';
import { observeHermesSources } from './hermes-source.js';
import { listenersVia, observeHomePorts } from './ports.js';
import { type CommandRunner, execRunner } from './runner.js';

/**
 * Clock ticks per second of `startTicks`. Linux: USER_HZ, the unit of /proc/PID/stat field 22, which is
 * 100 on every mainstream Linux architecture (man 7 time); it is not read from sysconf(_SC_CLK_TCK).
 * macOS and Windows: start stamps are centiseconds since the epoch, also 100 per second.
 */
export const CLOCK_TICKS = 100;

/** The variables that give a web-UI-managed gateway its port in its environment. */
export const PORT_VARIABLES = ['GATEWAY_PORT', 'HERMES_GATEWAY_PORT'] as const;

/** Options every platform's scan takes. */
export interface CommonScanOptions {
  /** Homes to inspect even when no process names them (`--home`). */
  extraHomes?: string[];
  /** PID of the scanner (default process.pid): it and its ancestors are never targets. */
  selfPid?: number;
  /** Host name in the snapshot (default os.hostname()). */
  hostname?: string;
  /** Run the read-only `PRAGMA quick_check` on every database in sight (`--integrity`; sources/db-integrity.ts). */
  integrity?: boolean;
  /** Runner of the integrity check's python3 (default execRunner; the scan's deadline runner when given). */
  runner?: CommandRunner;
}

/**
 * Scans one host through its facets and returns a {@link HostSnapshot}. Never throws for a process that
 * vanished or could not be read, nor for a supervisor tool that is missing or hangs (that supervisor is
 * `unknown`).
 *
 * @throws Error only when the process table cannot be listed at all (ProcessTable.list)
 */
export async function scanHostFacets(f: HostFacets, opts: CommonScanOptions = {}): Promise<HostSnapshot> {
  const started = performance.now();
  const takenAt = new Date().toISOString();
  const selfPid = opts.selfPid ?? process.pid;
  const notes: ScanNote[] = [];
  const { table, openFiles, files } = f;

  // 1. The process table.
  const listing = await table.list();
  notes.push(...listing.notes);
  const records = new Map<number, ProcessRecord>();
  const add = (pid: number, fds?: FdTable): ProcessRecord | null => {
    const known = records.get(pid);
    if (known) return known;
    const fdt = fds ?? openFiles.ofProcess?.(pid);
    const rec = table.read(pid, listing.argv.get(pid), () => (fdt && openFiles.handles ? openFiles.handles(pid, fdt) : []));
    if (!rec) return null;
    if (fdt) rec.visibility.fd = fdt.visibility;
    records.set(pid, rec);
    return rec;
  };
  /** Ancestors of `recs` up to PID 1; a parent that started after its child is a reused PID: kept, not climbed. */
  const addAncestors = (recs: readonly ProcessRecord[]) => {
    for (const rec of recs) {
      let child = rec;
      for (let depth = 0; depth < ANCESTOR_DEPTH && child.ppid > 1 && !records.has(child.ppid); depth++) {
        const parent = add(child.ppid);
        if (!parent || (parent.startTicks && child.startTicks && parent.startTicks > child.startTicks)) break;
        child = parent;
      }
    }
  };

  // 2. Candidates in full, then their ancestors.
  const candidates: { pid: number; fds: FdTable | undefined }[] = [];
  for (const [pid, argv] of listing.argv) {
    const fds = openFiles.ofProcess?.(pid);
    if (fds) {
      if (fds.visibility === 'gone') continue;
      if (fds.visibility !== 'ok' && argv.length > 0) {
        notes.push({ what: 'fd', pid, detail: `fd table of PID ${pid} (${argv[0]}) not readable: ${fds.error}` });
      }
    }
    if (isCandidate(argv, (fds?.interesting?.length ?? 0) > 0)) candidates.push({ pid, fds });
  }
  for (const c of candidates) add(c.pid, c.fds);
  addAncestors([...records.values()]);

  // 3. Users, active profiles, homes in sight.
  const users = f.users();
  notes.push(...users.notes);
  const activeProfiles: Record<string, string | null> = {};
  const unreadableActive = new Set<string>();
  const readActive = (root: string) => {
    if (root in activeProfiles || unreadableActive.has(root)) return;
    const ap = files.readActiveProfileFile ? files.readActiveProfileFile(root) : { profile: files.readActiveProfile(root), error: null };
    if (ap.error === null) activeProfiles[root] = ap.profile;
    else {
      // Left out of the map: a gateway that would follow it has an unknown home, never a guessed one.
      unreadableActive.add(root);
      notes.push({ what: 'active_profile', detail: `${ap.error}: the sticky profile of ${root} is unknown` });
    }
  };
  const homes = new Set<string>([...users.defaultRoots, ...(opts.extraHomes ?? []).map(f.normalise)]);
  const kanbanRoots = new Set<string>();
  const seen = new Set<number>();
  /** Brings the homes of the records not yet looked at into sight (their roots' active_profile read first). */
  const sight = () => {
    const fresh = [...records.values()].filter((r) => !seen.has(r.pid));
    for (const rec of fresh) {
      seen.add(rec.pid);
      const root = activeProfileRootOf(rec, users.homes);
      if (root) readActive(root);
    }
    for (const rec of fresh) {
      const s = sightOfProcess(rec, { userHomes: users.homes, activeProfiles }, f.normalise);
      for (const h of s.homes) homes.add(h);
      for (const r of s.kanbanRoots) kanbanRoots.add(r);
    }
  };
  sight();

  // 4. Supervisors: the homes they name, the PIDs they run (in the snapshot even when their argv is blank).
  const supervisors = await f.supervisors.observe([...records.values()], users);
  for (const h of homesOfSupervisors(supervisors)) homes.add(f.normalise(h));
  for (const pid of pidsOfSupervisors(supervisors)) add(pid);
  sight();

  // 5. Every profile of every root in sight; by-file open files of those homes and roots.
  for (const root of new Set([...homes].map(rootOfHome))) {
    homes.add(root);
    for (const h of files.listProfileHomes(root)) homes.add(f.normalise(h));
    kanbanRoots.add(root);
  }
  for (const root of new Set([...homes].map(rootOfHome))) readActive(root);
  let byFileVisibility: ProcessRecord['visibility']['fd'] | null = null;
  if (openFiles.ofFiles) {
    const wanted = filesOfInterest(homes, kanbanRoots).filter((file) => files.exists(file));
    const answer = wanted.length > 0 ? await openFiles.ofFiles(wanted.sort()) : { visibility: 'ok' as const, holders: [], notes: [] };
    notes.push(...answer.notes);
    const holders: ProcessRecord[] = [];
    for (const h of answer.holders) {
      const rec = add(h.pid);
      if (!rec) {
        notes.push({ what: 'lsof', pid: h.pid, detail: `PID ${h.pid} (${h.command}) holds ${h.handle.path} but left the process table` });
        continue;
      }
      rec.handles.push(h.handle);
      holders.push(rec);
    }
    addAncestors(holders);
    byFileVisibility = answer.visibility;
  }

  // 6. Identity files, the Hermes sources of the gateways, the PIDs the files name, locks.
  const homeRecords: HomeRecord[] = [...homes].sort().map((h) => files.readHome(h));
  const sources = files.sources;
  const kanbanRootRecords = sources ? [...kanbanRoots].sort().map((root) => ({ root, dispatcherLockExists: files.exists(dispatcherLockPath(root)) })) : null;
  const hermesSources = sources ? observeHermesSources([...records.values()], homeRecords, sources) : null;
  for (const pid of pidsOfIdentityFiles(homeRecords)) add(pid);
  table.proveHomes?.([...records.values()], homeRecords);
  const observed = files.databases ? files.databases([...kanbanRoots].sort(), [...homes].sort(), Date.parse(takenAt)) : [];
  const databases = opts.integrity && observed.length ? await checkIntegrityAll(observed, opts.runner ?? execRunner) : observed;
  const corruptionLogs = files.corruptionLogs ? files.corruptionLogs([...homes].sort(), Date.parse(takenAt)) : [];
  const lockAnswer = f.locks.read(lockFilesOf(homes, kanbanRoots), [...records.values()]);
  notes.push(...lockAnswer.notes);
  const locks = lockAnswer.locks;
  // A by-file answer covers every process, also those read after it: it named every holder of those files.
  if (byFileVisibility) for (const r of records.values()) r.visibility.fd = byFileVisibility;
  for (const rec of records.values()) {
    if (rec.visibility.environ === 'denied' && parseHermesArgv(rec.argv)) {
      notes.push({
        what: 'environ',
        pid: rec.pid,
        detail: `environment of PID ${rec.pid} not readable (${rec.visibility.environ})${table.environHint ? `: ${table.environHint}` : ''}`,
      });
    }
  }

  // Who holds the port a web-UI-managed gateway was given.
  const portHolders: PortHolder[] = [];
  if (f.ports) {
    for (const r of records.values()) {
      if (!parseHermesArgv(r.argv)) continue;
      for (const v of PORT_VARIABLES) {
        const port = Number(r.env[v]);
        if (!Number.isInteger(port) || port <= 0 || port > 65535) continue;
        const held = await f.ports(port);
        portHolders.push({ forPid: r.pid, variable: v, port, pids: held.map((x) => x.pid), names: held.map((x) => x.name) });
        break;
      }
    }
  }

  // The ports each home's gateway is configured to serve, and who listens on them.
  const lookup = f.listeners ?? (f.ports ? listenersVia(f.ports) : null);
  const gatewayEnv = new Map<string, Record<string, string>>();
  for (const r of records.values()) {
    const h = r.env.HERMES_HOME;
    if (h !== undefined && !gatewayEnv.has(f.normalise(h)) && parseHermesArgv(r.argv)?.command === 'gateway') gatewayEnv.set(f.normalise(h), r.env);
  }
  const configured = files.ports ? homeRecords.filter((h) => h.exists).flatMap((h) => files.ports!(h.path, gatewayEnv.get(h.path)).map((c) => ({ home: h.path, ...c }))) : [];
  const homePorts = lookup ? await observeHomePorts(configured, lookup, [...records.keys()]) : [];

  // 7. The snapshot. The scanner and its ancestors are never targets.
  const scannerPids = ancestorChain(selfPid, (pid) => table.ppidOf(pid));
  const processes = [...records.values()].sort((a, b) => a.pid - b.pid);
  return {
    schema: 'hermes-doctor.snapshot/v1',
    takenAt,
    platform: f.platform,
    hostname: opts.hostname ?? os.hostname(),
    clockTicks: CLOCK_TICKS,
    bootTimeMs: table.bootTimeMs,
    scannerUid: users.scannerUid,
    scannerPids,
    scanMs: Math.round((performance.now() - started) * 10) / 10,
    processes,
    processCount: listing.count,
    activeProfiles,
    userHomes: Object.fromEntries(
      [...new Set(processes.map((r) => String(r.uid)))].filter((u) => users.homes[u]).map((u) => [u, users.homes[u]!]),
    ),
    locks,
    homes: homeRecords,
    supervisors,
    notes,
    ...(portHolders.length ? { portHolders } : {}),
    ...(hermesSources ? { hermesSources } : {}),
    ...(kanbanRootRecords ? { kanbanRoots: kanbanRootRecords } : {}),
    ...(databases.length ? { databases } : {}),
    ...(corruptionLogs.length ? { corruptionLogs } : {}),
    ...(homePorts.length ? { homePorts } : {}),
  };
}
