/**
 * Reads what a HERMES_HOME says about its gateway: gateway.pid, gateway_state.json, the record inside
 * gateway.lock, whether the folder exists or is tombstoned. Formats: gateway/status.py
 * (`_build_pid_record`, `_write_gateway_lock_record`, `write_runtime_status`) at hermes-agent v0.15.1
 * (e71a2bd) and 306e2d2, identical in both: `{"pid", "kind":"hermes-gateway", "argv":[…], "start_time"}`
 * (gateway.pid, O_EXCL, and gateway.lock, rewritten after the flock), plus in gateway_state.json (compact
 * JSON, 0600) `gateway_state`, `exit_reason`, `restart_requested`, `active_agents`, `platforms`,
 * `updated_at`. Neither version writes `hermes_home` (some builds do: read when present). gateway.pid may
 * be a legacy bare integer. Half-written and corrupt files are reported, never trusted. Samples recorded
 * from both real versions: fixtures/real/.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { HomeRecord, IdentityFile, PlannedStopRecord, PlatformRecord } from '../types.js';
import { maskText } from '../core/mask.js';
import { FILES, PROFILE_RE, cleanPath, profileOfHome, rootOfHome, tombstonePath } from '../core/paths.js';
import { safeReadText } from './safe-read.js';

/** Largest identity file read, bytes; anything bigger is reported corrupt. */
const MAX_IDENTITY_BYTES = 256 * 1024;

function num(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : null;
}

function str(v: unknown): string | null {
  return typeof v === 'string' ? v : null;
}

function bool(v: unknown): boolean | null {
  return typeof v === 'boolean' ? v : null;
}

/** Most platforms kept from one gateway_state.json; Hermes has a few dozen adapters, a file with more is not trusted further. */
const MAX_PLATFORMS = 64;
/** Longest platform error message kept, characters. */
const MAX_PLATFORM_ERROR = 300;

/**
 * The `platforms` object of gateway_state.json (gateway/status.py `write_runtime_status` at v0.15.1 and
 * 306e2d2: `platforms{name:{state, error_code, error_message, updated_at, …}}`) as records sorted by
 * name; null when the field is absent or not an object. The error message is host input that may quote a
 * token: masked, cut to {@link MAX_PLATFORM_ERROR} characters.
 */
export function platformsOf(v: unknown): PlatformRecord[] | null {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return null;
  const out: PlatformRecord[] = [];
  for (const [name, raw] of Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (out.length >= MAX_PLATFORMS) break;
    const p = typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? (raw as Record<string, unknown>) : {};
    const msg = str(p.error_message);
    out.push({
      name,
      state: str(p.state),
      errorCode: str(p.error_code) ?? (typeof p.error_code === 'number' ? String(p.error_code) : null),
      errorMessage: msg === null ? null : maskText(msg).slice(0, MAX_PLATFORM_ERROR),
      updatedAt: str(p.updated_at),
    });
  }
  return out;
}

/**
 * Reads `.gateway-planned-stop.json` (gateway/status.py `write_planned_stop_marker` at v0.15.1 and
 * 306e2d2: `{"target_pid", "target_start_time", "stopper_pid", "written_at"}`, TTL 60 s; the stopped
 * gateway consumes it as it exits, so it is seldom there after the stop). Never throws.
 */
export function readPlannedStop(file: string): PlannedStopRecord {
  const none = { targetPid: null, targetStartTime: null, writtenAt: null };
  const r = safeReadText(file, 64 * 1024);
  if (!r.ok) {
    if (r.refusal === 'missing') return { status: 'missing', ...none };
    return { status: r.refusal === 'too-large' ? 'corrupt' : 'unreadable', ...none, error: r.reason };
  }
  let data: unknown;
  try {
    data = JSON.parse(r.text);
  } catch (err) {
    return { status: 'corrupt', ...none, error: `not JSON (${(err as Error).message})` };
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return { status: 'corrupt', ...none, error: 'JSON is not an object' };
  const o = data as Record<string, unknown>;
  const pid = num(o.target_pid);
  return { status: 'ok', targetPid: pid && pid > 0 ? pid : null, targetStartTime: num(o.target_start_time), writtenAt: str(o.written_at) };
}

/** Identity files: `pid` (gateway.pid), `state` (gateway_state.json), `lock` (the record inside gateway.lock). */
export type IdentityFileKind = 'pid' | 'state' | 'lock';

/**
 * Parses the text of gateway.pid or gateway_state.json. Never throws: bad content yields
 * `status: 'corrupt'` with the reason.
 *
 * @param file path, kept in the result
 * @param text file content
 * @param kind which file it is (`pid` accepts a legacy bare integer; an empty `lock` is `missing`: Hermes
 *   creates gateway.lock before it writes the record)
 */
export function parseIdentityFile(file: string, text: string, kind: IdentityFileKind): IdentityFile {
  const base: IdentityFile = { path: file, status: 'corrupt', pid: null, startTime: null };
  const trimmed = text.trim();
  if (trimmed === '' && kind === 'lock') return { ...base, status: 'missing', error: 'empty (no record written yet)' };
  if (trimmed === '') return { ...base, error: 'empty file (half-written?)' };
  if (kind === 'pid' && /^\d+$/.test(trimmed)) {
    const pid = Number(trimmed);
    return pid > 0 ? { ...base, status: 'legacy', pid } : { ...base, error: `invalid pid ${trimmed}` };
  }
  let data: unknown;
  try {
    data = JSON.parse(trimmed);
  } catch (err) {
    return { ...base, error: `not JSON (${(err as Error).message}); half-written or corrupt` };
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    return { ...base, error: 'JSON is not an object' };
  }
  const o = data as Record<string, unknown>;
  const pid = num(o.pid);
  const out: IdentityFile = {
    path: file,
    status: 'ok',
    pid: pid && pid > 0 ? pid : null,
    startTime: num(o.start_time),
    hermesHome: str(o.hermes_home),
    kind: str(o.kind),
    argv: Array.isArray(o.argv) && o.argv.every((a) => typeof a === 'string') ? (o.argv as string[]) : null,
  };
  if (kind === 'state') {
    out.gatewayState = str(o.gateway_state);
    out.desiredState = str(o.desired_state);
    out.exitReason = str(o.exit_reason);
    out.restartRequested = bool(o.restart_requested);
    out.activeAgents = num(o.active_agents);
    out.updatedAt = str(o.updated_at);
    const platforms = platformsOf(o.platforms);
    if (platforms) out.platforms = platforms;
  }
  if (o.pid !== undefined && out.pid === null) return { ...out, status: 'corrupt', error: `invalid pid ${JSON.stringify(o.pid)}` };
  if (kind !== 'state' && out.pid === null) return { ...out, status: 'corrupt', error: 'no pid field' };
  return out;
}

/**
 * Reads and parses one identity file through the safe reader (src/sources/safe-read.ts): a missing file
 * is `missing`; a FIFO, symlink, device or directory, or a permission error, is `unreadable` with the
 * reason (`is a FIFO, not a regular file`); a file over 256 KiB is `corrupt`. Never blocks, never throws.
 */
export function readIdentityFile(file: string, kind: IdentityFileKind): IdentityFile {
  const r = safeReadText(file, MAX_IDENTITY_BYTES);
  if (r.ok) return parseIdentityFile(file, r.text, kind);
  if (r.refusal === 'missing') return { path: file, status: 'missing', pid: null, startTime: null };
  if (r.refusal === 'too-large') return { path: file, status: 'corrupt', pid: null, startTime: null, error: `${r.reason}, too large` };
  return { path: file, status: 'unreadable', pid: null, startTime: null, error: r.reason };
}

/**
 * Whether a path exists: true, false (ENOENT/ENOTDIR), or the reason it cannot be told (EACCES on a
 * folder above it, …). A home that cannot be checked is not a home that is gone.
 */
function existence(p: string | null): { exists: boolean; error: string | null } {
  if (!p) return { exists: false, error: null };
  try {
    fs.statSync(p);
    return { exists: true, error: null };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return { exists: false, error: null };
    return { exists: false, error: `${code ?? 'error'}: ${(err as Error).message}` };
  }
}

function exists(p: string | null): boolean {
  return existence(p).exists;
}

/** Reads everything hermes-doctor needs about one HERMES_HOME. */
export function readHome(home: string): HomeRecord {
  const h = cleanPath(home);
  const here = existence(h);
  return {
    path: h,
    root: rootOfHome(h),
    profile: profileOfHome(h),
    exists: here.exists,
    ...(here.error ? { accessError: here.error } : {}),
    tombstoned: exists(tombstonePath(h)),
    launchdUnsupported: exists(path.join(h, FILES.launchdUnsupported)),
    pidFile: readIdentityFile(path.join(h, FILES.gatewayPid), 'pid'),
    stateFile: readIdentityFile(path.join(h, FILES.gatewayState), 'state'),
    lockFile: readIdentityFile(path.join(h, FILES.gatewayLock), 'lock'),
    plannedStop: readPlannedStop(path.join(h, FILES.plannedStop)),
    // Touched by a gateway whose shutdown drained, removed by the next start (gateway/run.py at v0.15.1 and 306e2d2).
    cleanShutdown: exists(path.join(h, FILES.cleanShutdown)),
    // The s6 reconciler registers a profile's slot only when SOUL.md exists (hermes_cli/container_boot.py at 306e2d2).
    hasSoul: exists(path.join(h, FILES.soul)),
  };
}

/** Most entries read from one `profiles/` or `profiles/.deleted/` folder: a host-made folder is not read without bound. */
export const MAX_PROFILE_ENTRIES = 1000;

function profileNames(dir: string, filesToo = false): string[] {
  let d: fs.Dir;
  try {
    d = fs.opendirSync(dir);
  } catch {
    return [];
  }
  const names: string[] = [];
  try {
    for (let n = 0, e = d.readSync(); e && n < MAX_PROFILE_ENTRIES; e = d.readSync(), n++) {
      if ((e.isDirectory() || (filesToo && e.isFile())) && PROFILE_RE.test(e.name)) names.push(e.name);
    }
  } catch {
    // A folder that fails mid-listing gives what it gave.
  } finally {
    d.closeSync();
  }
  return names;
}

/**
 * Profile homes under `<root>/profiles/` (names matching Hermes's profile id format), and the homes of
 * deleted profiles whose tombstone `<root>/profiles/.deleted/<name>` exists, also when their folder is
 * gone (the per-home view shows them `deleted`). At most {@link MAX_PROFILE_ENTRIES} entries of each folder.
 */
export function listProfileHomes(root: string): string[] {
  const profiles = path.join(root, 'profiles');
  const names = new Set([...profileNames(profiles), ...profileNames(path.join(profiles, '.deleted'), true)]);
  return [...names].sort().map((n) => path.join(profiles, n));
}

/**
 * Reads `<root>/active_profile` (written by `hermes profile use NAME`; hermes_cli/main.py at 306e2d23)
 * through the safe reader: `profile` is the name, or null when the file is absent, empty, `default`, or
 * not a valid profile id; `error` says why a file that is there could not be read (a FIFO, a symlink,
 * EACCES), in which case the sticky profile of that root is unknown.
 */
export function readActiveProfileFile(root: string): { profile: string | null; error: string | null } {
  const file = path.join(root, 'active_profile');
  const r = safeReadText(file, 4096);
  if (!r.ok) return { profile: null, error: r.refusal === 'missing' ? null : `${file} ${r.reason}` };
  const name = r.text.trim();
  return { profile: name && name !== 'default' && PROFILE_RE.test(name) ? name : null, error: null };
}

/** {@link readActiveProfileFile}'s profile: the sticky profile name, or null (absent, `default`, invalid or unreadable). */
export function readActiveProfile(root: string): string | null {
  return readActiveProfileFile(root).profile;
}
