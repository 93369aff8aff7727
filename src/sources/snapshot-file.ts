/**
 * The snapshot-file source: a {@link HostSnapshot} read back from a file written by
 * `hermes-doctor snapshot` (schema `hermes-doctor.snapshot/v1`, the JSON form of the HostSnapshot type
 * in src/types.ts), so `hermes-doctor orphans --from FILE` classifies another host offline.
 *
 * The file is untrusted input (a bug report, a fixture edited by hand): it is validated field by field
 * down to what the classifier reads, and every problem is reported with its JSON path. Environment
 * variables outside ENV_ALLOWLIST are dropped on load, whatever the file says.
 */
import fs from 'node:fs';
import { type HostSnapshot, LOCK_KINDS, SCAN_NOTE_KINDS } from '../types.js';
import { filterEnvironRecord } from './environ.js';
import { safeReadText } from './safe-read.js';

/** The schema id a snapshot file must carry. */
export const SNAPSHOT_SCHEMA = 'hermes-doctor.snapshot/v1';

/** Largest snapshot file accepted, bytes (a busy host's snapshot is a few hundred KiB). */
export const MAX_SNAPSHOT_BYTES = 64 * 1024 * 1024;

/** A snapshot file that cannot be used; `problems` lists each defect with its JSON path. */
export class SnapshotError extends Error {
  constructor(
    readonly file: string,
    readonly problems: string[],
  ) {
    super(
      `${file} is not a usable hermes-doctor snapshot (${SNAPSHOT_SCHEMA}): ${problems.slice(0, 8).join('; ')}` +
        (problems.length > 8 ? `; and ${problems.length - 8} more problem(s)` : ''),
    );
    this.name = 'SnapshotError';
  }
}

type Check = (v: unknown, at: string, problems: string[]) => void;

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function typeName(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
}

const num: Check = (v, at, p) => {
  if (typeof v !== 'number' || !Number.isFinite(v)) p.push(`${at}: expected a number, got ${typeName(v)}`);
};
const int: Check = (v, at, p) => {
  if (typeof v !== 'number' || !Number.isInteger(v)) p.push(`${at}: expected an integer, got ${typeName(v)}`);
};
const str: Check = (v, at, p) => {
  if (typeof v !== 'string') p.push(`${at}: expected a string, got ${typeName(v)}`);
};
const bool: Check = (v, at, p) => {
  if (typeof v !== 'boolean') p.push(`${at}: expected true or false, got ${typeName(v)}`);
};
const nullable =
  (c: Check): Check =>
  (v, at, p) => {
    if (v !== null) c(v, at, p);
  };
const optional =
  (c: Check): Check =>
  (v, at, p) => {
    if (v !== undefined) c(v, at, p);
  };
const oneOf =
  (...values: string[]): Check =>
  (v, at, p) => {
    if (typeof v !== 'string' || !values.includes(v)) p.push(`${at}: expected one of ${values.join(', ')}, got ${JSON.stringify(v)}`);
  };
const arrayOf =
  (c: Check): Check =>
  (v, at, p) => {
    if (!Array.isArray(v)) return void p.push(`${at}: expected an array, got ${typeName(v)}`);
    v.forEach((x, i) => c(x, `${at}[${i}]`, p));
  };
const recordOf =
  (c: Check): Check =>
  (v, at, p) => {
    if (!isObj(v)) return void p.push(`${at}: expected an object, got ${typeName(v)}`);
    for (const [k, x] of Object.entries(v)) c(x, `${at}.${k}`, p);
  };
const shape =
  (fields: Record<string, Check>): Check =>
  (v, at, p) => {
    if (!isObj(v)) return void p.push(`${at}: expected an object, got ${typeName(v)}`);
    for (const [k, c] of Object.entries(fields)) c(v[k], `${at}.${k}`, p);
  };

const visibility = oneOf('ok', 'denied', 'gone', 'unsupported');
const processRecord = shape({
  pid: int,
  ppid: int,
  uid: int,
  startTicks: num,
  startTime: nullable(str),
  argv: arrayOf(str),
  comm: str,
  exe: nullable(str),
  cwd: nullable(str),
  tty: nullable(str),
  sid: int,
  pgid: int,
  cgroups: arrayOf(shape({ hierarchy: int, controllers: str, path: str })),
  env: recordOf(str),
  handles: arrayOf(shape({ fd: int, path: str, mode: nullable(oneOf('r', 'w', 'rw')), deleted: bool, inode: optional(num) })),
  visibility: shape({ fd: visibility, environ: visibility, cgroup: visibility }),
});
const identityFile = shape({
  path: str,
  status: oneOf('ok', 'missing', 'legacy', 'corrupt', 'unreadable'),
  pid: nullable(int),
  startTime: nullable(num),
  gatewayState: optional(nullable(str)),
  desiredState: optional(nullable(str)),
  hermesHome: optional(nullable(str)),
  kind: optional(nullable(str)),
  argv: optional(nullable(arrayOf(str))),
  exitReason: optional(nullable(str)),
  restartRequested: optional(nullable(bool)),
  activeAgents: optional(nullable(num)),
  updatedAt: optional(nullable(str)),
  platforms: optional(arrayOf(shape({ name: str, state: nullable(str), errorCode: nullable(str), errorMessage: nullable(str), updatedAt: nullable(str) }))),
  error: optional(str),
});
const homeRecord = shape({
  path: str,
  root: str,
  profile: str,
  exists: bool,
  accessError: optional(str),
  tombstoned: bool,
  launchdUnsupported: bool,
  pidFile: identityFile,
  stateFile: identityFile,
  lockFile: optional(identityFile),
  plannedStop: optional(
    shape({
      status: oneOf('ok', 'missing', 'legacy', 'corrupt', 'unreadable'),
      targetPid: nullable(int),
      targetStartTime: nullable(num),
      writtenAt: nullable(str),
      error: optional(str),
    }),
  ),
  cleanShutdown: optional(bool),
  hasSoul: optional(bool),
});
const systemdUnit = shape({
  unit: str,
  scope: oneOf('system', 'user'),
  mainPid: int,
  controlGroup: str,
  activeState: str,
  subState: str,
  nRestarts: int,
  execStart: arrayOf(str),
  workingDirectory: nullable(str),
  hermesHome: nullable(str),
  fragmentPath: nullable(str),
  unitFileState: optional(nullable(str)),
  restart: optional(nullable(str)),
  successExitStatus: optional(nullable(str)),
});
const s6Slot = shape({
  name: str,
  dir: str,
  up: bool,
  pid: int,
  wantedUp: nullable(bool),
  hermesHome: nullable(str),
  profile: nullable(str),
  normallyUp: optional(nullable(bool)),
  exitCode: optional(nullable(int)),
  upDownForS: optional(nullable(int)),
  error: optional(str),
});
const supervisor = shape({
  kind: oneOf('systemd', 's6', 'launchd', 'windows-task'),
  status: oneOf('present', 'absent', 'unknown'),
  detail: str,
  systemdUnits: optional(arrayOf(systemdUnit)),
  s6Slots: optional(arrayOf(s6Slot)),
  s6ScanDir: optional(str),
  launchdJobs: optional(arrayOf(shape({ label: str, domain: str, pid: int, state: nullable(str), hermesHome: nullable(str), profile: nullable(str) }))),
  windowsTasks: optional(arrayOf(shape({ name: str, state: str, hermesHome: nullable(str), profile: nullable(str) }))),
});
const snapshotShape = shape({
  takenAt: str,
  platform: oneOf('linux', 'darwin', 'win32'),
  hostname: str,
  clockTicks: num,
  bootTimeMs: nullable(num),
  scannerUid: int,
  scannerPids: arrayOf(int),
  scanMs: num,
  processes: arrayOf(processRecord),
  processCount: int,
  userHomes: recordOf(str),
  locks: arrayOf(shape({ path: str, inode: num, kind: oneOf(...LOCK_KINDS), access: str, pid: int })),
  homes: arrayOf(homeRecord),
  supervisors: arrayOf(supervisor),
  notes: arrayOf(shape({ what: oneOf(...SCAN_NOTE_KINDS), pid: optional(int), detail: str })),
  hermesSources: optional(arrayOf(shape({ dir: str, singletonDispatcherLock: bool, file: str, pids: arrayOf(int) }))),
  kanbanRoots: optional(arrayOf(shape({ root: str, dispatcherLockExists: bool }))),
  databases: optional(
    arrayOf(
      shape({
        path: str,
        kind: oneOf('kanban', 'state'),
        owner: str,
        bytes: nullable(int),
        header: nullable(shape({ magic: bool, pageSize: nullable(int), writeVersion: nullable(int), readVersion: nullable(int) })),
        error: optional(str),
        walBytes: nullable(int),
        shmBytes: nullable(int),
        journalBytes: nullable(int),
        backups: shape({ count: int, bytes: int, recent: int, windowMs: int, newestMtimeMs: nullable(int), truncated: bool }),
        freeBytes: nullable(num),
        archived: optional(bool),
        integrity: optional(
          shape({
            status: oneOf('ok', 'corrupt', 'not-checked'),
            lines: arrayOf(str),
            open: nullable(oneOf('ro', 'immutable')),
            reason: optional(str),
            ms: num,
          }),
        ),
        dispatchConfig: optional(arrayOf(shape({ home: str, dispatches: oneOf('yes', 'no', 'unknown'), explicit: bool, why: str }))),
      }),
    ),
  ),
  corruptionLogs: optional(arrayOf(shape({ home: str, file: str, count: int, newest: nullable(str), example: str, bytesRead: int, windowMs: int }))),
  homePorts: optional(
    arrayOf(
      shape({
        home: str,
        variable: str,
        port: int,
        source: str,
        listeners: nullable(arrayOf(shape({ pid: int, name: str }))),
        error: optional(str),
      }),
    ),
  ),
});

/**
 * Validates parsed JSON as a snapshot and returns it with non-allow-listed environment variables
 * dropped.
 *
 * @param data the parsed JSON
 * @param file name used in error messages
 * @throws SnapshotError listing every defect (wrong schema id, missing or mistyped fields, with JSON paths)
 */
export function validateSnapshot(data: unknown, file = 'snapshot'): HostSnapshot {
  if (!isObj(data)) throw new SnapshotError(file, [`expected a JSON object, got ${typeName(data)}`]);
  if (data.schema !== SNAPSHOT_SCHEMA) {
    const hint =
      data.schema === 'hermes-doctor.orphans/v1'
        ? ' (this is a report from `orphans --json`, not a snapshot: use `hermes-doctor snapshot -o FILE`)'
        : '';
    throw new SnapshotError(file, [`schema is ${JSON.stringify(data.schema ?? null)}, expected "${SNAPSHOT_SCHEMA}"${hint}`]);
  }
  const problems: string[] = [];
  snapshotShape(data, '$', problems);
  if (problems.length > 0) throw new SnapshotError(file, problems);
  const snap = data as unknown as HostSnapshot;
  for (const p of snap.processes) p.env = filterEnvironRecord(p.env);
  return snap;
}

/**
 * Parses the text of a snapshot file.
 *
 * @throws SnapshotError when the text is not JSON or not a valid snapshot
 */
export function parseSnapshot(text: string, file = 'snapshot'): HostSnapshot {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    const empty = text.trim() === '' ? 'the file is empty' : `not JSON (${(err as Error).message})`;
    throw new SnapshotError(file, [empty]);
  }
  return validateSnapshot(data, file);
}

/**
 * Reads and validates a snapshot file (`-` reads standard input).
 *
 * @throws SnapshotError when the file is missing, unreadable, too large or invalid
 */
export function readSnapshotFile(file: string): HostSnapshot {
  let text: string;
  if (file === '-') {
    try {
      text = fs.readFileSync(0, 'utf8');
    } catch (err) {
      throw new SnapshotError(file, [`cannot read standard input: ${(err as Error).message}`]);
    }
  } else {
    // The safe reader: a FIFO or device never blocks the run, size is capped (a symlink the operator typed is followed).
    const r = safeReadText(file, MAX_SNAPSHOT_BYTES, true);
    if (!r.ok) throw new SnapshotError(file, [r.refusal === 'missing' ? 'no such file' : r.refusal === 'too-large' ? r.reason : `cannot read: ${r.reason}`]);
    text = r.text;
  }
  return parseSnapshot(text, file);
}
