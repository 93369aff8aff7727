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
import type { HomeRecord, IdentityFile } from '../types.js';
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
  };
}

/** Profile homes that exist under `<root>/profiles/` (names matching Hermes's profile id format). */
export function listProfileHomes(root: string): string[] {
  try {
    return fs
      .readdirSync(path.join(root, 'profiles'), { withFileTypes: true })
      .filter((d) => d.isDirectory() && PROFILE_RE.test(d.name))
      .map((d) => path.join(root, 'profiles', d.name));
  } catch {
    return [];
  }
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
