/**
 * Host file access of a scan: whether a file exists, and the identity files of a
 * HERMES_HOME. The real implementation reads the host's file system; {@link rootedHostFiles} reads the
 * same absolute paths under a folder instead (a snapshot of another host's homes laid out on disk), so
 * macOS and Windows scans can be replayed on Linux. Paths in results are always the host's paths.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { CorruptionLogRecord, DatabaseRecord, HomeRecord } from '../types.js';
import { observeDatabases } from './databases.js';
import { observeCorruptionLogs } from './db-logs.js';
import type { SourceFs } from './hermes-source.js';
import { listProfileHomes, readActiveProfile, readActiveProfileFile, readHome } from './homes.js';
import { type ConfiguredPort, configuredPorts } from './ports.js';

/** File access of a platform scan. */
export interface HostFiles {
  /** True when the path exists on the host. */
  exists(file: string): boolean;
  /** Reads a HERMES_HOME's identity files (see readHome). Never throws. */
  readHome(home: string): HomeRecord;
  /** Profile homes under `<root>/profiles/`. */
  listProfileHomes(root: string): string[];
  /** `<root>/active_profile` (see readActiveProfile), null when absent or `default`. Never throws. */
  readActiveProfile(root: string): string | null;
  /**
   * `<root>/active_profile` with the reason a file that is there could not be read (see
   * readActiveProfileFile); absent: readActiveProfile, with every failure read as "no sticky profile".
   */
  readActiveProfileFile?(root: string): { profile: string | null; error: string | null };
  /**
   * The host's file system as the Hermes source detector reads it (sources/hermes-source.ts). When set,
   * the scan records which Hermes source each gateway runs and whether each kanban root's
   * `kanban/.dispatcher.lock` exists; absent, both stay unknown (the snapshot leaves them out).
   */
  sources?: SourceFs;
  /**
   * The file-level facts of the databases in sight (sources/databases.ts `observeDatabases`). When set,
   * the snapshot has `databases`; absent (a replayed host), it leaves them out.
   */
  databases?(kanbanRoots: Iterable<string>, homes: Iterable<string>, nowMs: number): DatabaseRecord[];
  /** Corruption messages in the tail of the homes' logs (sources/db-logs.ts `observeCorruptionLogs`); absent (a replayed host), none are looked for. */
  corruptionLogs?(homes: Iterable<string>, nowMs: number): CorruptionLogRecord[];
  /** The ports a home's gateway is configured to serve (sources/ports.ts `configuredPorts`); absent (a replayed host), none are looked for. */
  ports?(home: string, processEnv: Record<string, string> | undefined): ConfiguredPort[];
}

/** The host's own file system. */
export const realHostFiles: HostFiles = {
  exists: (f) => fs.existsSync(f),
  readHome,
  listProfileHomes,
  readActiveProfile,
  readActiveProfileFile,
  databases: observeDatabases,
  corruptionLogs: observeCorruptionLogs,
  ports: configuredPorts,
};

/**
 * Host paths looked up under `dir`: host `/Users/a/.hermes` is `<dir>/Users/a/.hermes`, host
 * `c:/users/a/appdata/local/hermes` is `<dir>/c:/users/a/appdata/local/hermes`. For replaying a recorded
 * host (tests, bug reports).
 */
export function rootedHostFiles(dir: string): HostFiles {
  const base = path.resolve(dir);
  const inside = (p: string) => path.join(base, p.startsWith('/') ? p : `/${p}`);
  /** Local path back to the host's spelling (a drive path has no leading slash). */
  const toHost = (p: string, drive: boolean) => {
    if (!p.startsWith(base)) return p;
    const rel = p.slice(base.length) || '/';
    return drive ? rel.replace(/^\/+/, '') : rel;
  };
  return {
    exists: (f) => fs.existsSync(inside(f)),
    readHome(home) {
      const drive = !home.startsWith('/');
      const r = readHome(inside(home));
      return {
        ...r,
        path: toHost(r.path, drive),
        root: toHost(r.root, drive),
        pidFile: { ...r.pidFile, path: toHost(r.pidFile.path, drive) },
        stateFile: { ...r.stateFile, path: toHost(r.stateFile.path, drive) },
        ...(r.lockFile ? { lockFile: { ...r.lockFile, path: toHost(r.lockFile.path, drive) } } : {}),
      };
    },
    listProfileHomes(root) {
      const drive = !root.startsWith('/');
      return listProfileHomes(inside(root)).map((p) => toHost(p, drive));
    },
    readActiveProfile: (root) => readActiveProfile(inside(root)),
    readActiveProfileFile(root) {
      const r = readActiveProfileFile(inside(root));
      return r.error === null ? r : { profile: r.profile, error: r.error.split(inside(root)).join(root) };
    },
  };
}
