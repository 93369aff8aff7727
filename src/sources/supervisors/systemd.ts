/**
 * systemd source: the units that hold Hermes processes or are named `hermes*`, with MainPID,
 * ControlGroup, ActiveState, NRestarts, ExecStart, the HERMES_HOME of Environment=, and what decides
 * whether the unit comes back: UnitFileState (enabled at boot), Restart= and SuccessExitStatus=
 * (systemd.service(5)).
 * Formats: `systemctl show` prints `Key=Value` lines, one block per unit separated by a blank line
 * (systemctl(1)); ExecStart is `{ path=… ; argv[]=… ; … }` (org.freedesktop.systemd1(5)).
 */
import fs from 'node:fs';
import type { SupervisorObservation, SystemdUnit } from '../../types.js';
import type { CommandRunner } from '../runner.js';
import { processUid } from '../../util/uid.js';

/** Properties read per unit. Environment= is read only to extract HERMES_HOME; the rest is dropped. */
export const SYSTEMD_PROPS = [
  'Id',
  'LoadState',
  'MainPID',
  'ControlGroup',
  'ActiveState',
  'SubState',
  'NRestarts',
  'ExecStart',
  'WorkingDirectory',
  'Environment',
  'FragmentPath',
  'Result',
  'ExecMainStatus',
  'UnitFileState',
  'Restart',
  'SuccessExitStatus',
] as const;

/** Extracts HERMES_HOME from a systemd Environment= value (space-separated, optionally quoted). */
export function hermesHomeFromEnvironment(env: string): string | null {
  const m = /(?:^|\s)"?HERMES_HOME=("([^"]*)"|[^\s"]+)/.exec(env);
  if (!m) return null;
  return m[2] ?? m[1]!;
}

/**
 * The WorkingDirectory= property as the unit file spells it. `systemctl show` prints the D-Bus property,
 * which systemd builds in `property_get_working_directory` (src/core/dbus-execute.c): `~` for the home
 * directory, prefixed with `!` when the directory may be missing (the unit file's `-`, systemd.exec(5)).
 * `!` is turned back into `-` so {@link missingUnitPaths} knows the directory is optional; null when unset.
 */
export function workingDirectoryOf(value: string | undefined): string | null {
  if (!value) return null;
  const optional = /^[!-]/.test(value);
  const p = value.replace(/^[!-]+/, '');
  if (!p) return null;
  return optional ? `-${p}` : p;
}

/** Parses the first `argv[]=… ;` of an ExecStart property value. */
export function parseExecStartArgv(value: string): string[] {
  const m = /argv\[\]=(.*?) ;/.exec(value);
  if (!m) return [];
  return m[1]!.split(' ').filter((t) => t.length > 0);
}

/**
 * Parses `systemctl show -p … UNIT…` output into units; blocks whose LoadState is `not-found` are dropped.
 * Only HERMES_HOME survives from Environment=.
 */
export function parseSystemctlShow(text: string, scope: 'system' | 'user', uid?: number): SystemdUnit[] {
  const units: SystemdUnit[] = [];
  for (const block of text.split(/\n\s*\n/)) {
    const props: Record<string, string> = {};
    for (const line of block.split('\n')) {
      const eq = line.indexOf('=');
      if (eq > 0) props[line.slice(0, eq)] = line.slice(eq + 1);
    }
    if (!props.Id || props.LoadState === 'not-found') continue;
    units.push({
      unit: props.Id,
      scope,
      mainPid: Number(props.MainPID ?? 0) || 0,
      controlGroup: props.ControlGroup ?? '',
      activeState: props.ActiveState ?? 'unknown',
      subState: props.SubState ?? 'unknown',
      nRestarts: Number(props.NRestarts ?? 0) || 0,
      execStart: parseExecStartArgv(props.ExecStart ?? ''),
      workingDirectory: workingDirectoryOf(props.WorkingDirectory),
      hermesHome: hermesHomeFromEnvironment(props.Environment ?? ''),
      fragmentPath: props.FragmentPath || null,
      ...(props.Result ? { result: props.Result } : {}),
      ...(props.ExecMainStatus !== undefined ? { execMainStatus: /^\d+$/.test(props.ExecMainStatus) ? Number(props.ExecMainStatus) : null } : {}),
      // Absent from older recordings: left out, so "not asked" never reads as "disabled" or "Restart=no".
      ...('UnitFileState' in props ? { unitFileState: props.UnitFileState || null } : {}),
      ...('Restart' in props ? { restart: props.Restart || null } : {}),
      ...('SuccessExitStatus' in props ? { successExitStatus: props.SuccessExitStatus || null } : {}),
      ...(uid !== undefined ? { uid } : {}),
    });
  }
  return units;
}

/** Unit names in the first column of `systemctl list-units|list-unit-files --plain --no-legend`. */
export function parseUnitList(text: string): string[] {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    const name = line.trim().replace(/^●\s*/, '').split(/\s+/)[0];
    if (name && /\.(service|scope)$/.test(name)) out.push(name);
  }
  return out;
}

/** A cgroup path read as systemd lays it out (systemd.special(7), systemd.slice(5)). */
export interface CgroupUnit {
  /** The innermost `*.service` (never the user manager `user@UID.service` itself). */
  unit: string;
  /** `user` when the service runs under a user manager (`…/user@UID.service/…`). */
  scope: 'system' | 'user';
  /** Owner of the user manager (user scope only). */
  uid?: number;
}

/**
 * Reads a cgroup path (v2 `0::PATH` or v1 `name=systemd:PATH`): `/system.slice/hermes-gateway.service`
 * → system unit; `/user.slice/user-1000.slice/user@1000.service/app.slice/hermes-gateway.service` →
 * user unit of UID 1000. A process in the user manager's own `init.scope`, a session scope or a
 * transient scope (`hermes-worker-*.scope`, `session-3.scope`) is in no service: null.
 */
export function cgroupUnit(cgPath: string): CgroupUnit | null {
  const parts = cgPath.split('/').filter(Boolean);
  let userUid: number | undefined;
  let managerAt = -1;
  parts.forEach((p, i) => {
    const m = /^user@(\d+)\.service$/.exec(p);
    if (m) {
      userUid = Number(m[1]);
      managerAt = i;
    }
  });
  for (let i = parts.length - 1; i > managerAt; i--) {
    const p = parts[i]!;
    if (p.endsWith('.scope')) return null;
    if (p.endsWith('.service')) return managerAt >= 0 ? { unit: p, scope: 'user', uid: userUid! } : { unit: p, scope: 'system' };
  }
  return null;
}

export interface SystemdOptions {
  runner: CommandRunner;
  timeoutMs: number;
  /** System units found in the cgroups of Hermes processes (custom names such as `hermes-michel.service`). */
  cgroupUnits: string[];
  /**
   * User units found in the cgroups of Hermes processes (`…/user@UID.service/app.slice/UNIT`), and user
   * managers to ask for `hermes*` units even when no process sits in them (units: []), by UID.
   */
  userUnits?: { uid: number; units: string[] }[];
  /** UID → user name (passwd), for `systemctl --user --machine=NAME@`. */
  userNames?: Record<string, string>;
  /** UID of the scanner: its own manager is asked with plain `systemctl --user`. Default processUid(). */
  selfUid?: number;
  /** Path whose existence means systemd is PID 1 (sd_booted(3)); default /run/systemd/system. */
  bootedMarker?: string;
  /** systemctl binary, default `systemctl`. */
  systemctl?: string;
  /** Existence check for WorkingDirectory / ExecStart paths (default fs.existsSync); tests with recorded outputs replace it. */
  pathExists?: (p: string) => boolean;
}

/**
 * Paths a unit needs that are gone: WorkingDirectory (unless `-`-prefixed, `~` or a specifier) and the
 * ExecStart executable when it is absolute (systemd resolves bare names itself).
 */
export function missingUnitPaths(u: SystemdUnit, exists: (p: string) => boolean): string[] {
  const out: string[] = [];
  const wd = u.workingDirectory;
  if (wd && !wd.startsWith('-') && wd !== '~' && !wd.includes('%') && wd.startsWith('/') && !exists(wd)) out.push(wd);
  const exe = u.execStart[0];
  if (exe && exe.startsWith('/') && !exists(exe)) out.push(exe);
  return out;
}

/** `systemctl` arguments that address one manager: none for the system, `--user` (+ `--machine=NAME@`) for a user's. */
function managerArgs(scope: 'system' | 'user', uid: number | undefined, selfUid: number, names: Record<string, string>): string[] | null {
  if (scope === 'system') return [];
  if (uid === selfUid) return ['--user'];
  const name = names[String(uid)];
  return name ? ['--user', `--machine=${name}@`] : null;
}

async function observeManager(
  opts: SystemdOptions,
  scope: 'system' | 'user',
  uid: number | undefined,
  extraUnits: string[],
): Promise<{ units: SystemdUnit[]; error: string | null }> {
  const bin = opts.systemctl ?? 'systemctl';
  const t = { timeoutMs: opts.timeoutMs };
  const selfUid = opts.selfUid ?? processUid();
  const m = managerArgs(scope, uid, selfUid, opts.userNames ?? {});
  if (!m) return { units: [], error: `no user name for UID ${uid} (needed for systemctl --user --machine=NAME@)` };
  const [loaded, files] = await Promise.all([
    opts.runner(bin, [...m, 'list-units', '--all', '--plain', '--no-legend', '--no-pager', '--type=service', 'hermes*'], t),
    opts.runner(bin, [...m, 'list-unit-files', '--plain', '--no-legend', '--no-pager', '--type=service', 'hermes*'], t),
  ]);
  const sc = ['systemctl', ...m].join(' ');
  for (const r of [loaded, files]) {
    if (r.error) return { units: [], error: `${sc} failed: ${r.error}` };
  }
  if (scope === 'user' && loaded.code !== 0 && files.code !== 0) {
    return { units: [], error: `${sc} failed: exit ${loaded.code}: ${loaded.stderr.trim().slice(0, 200)}` };
  }
  const names = new Set([...parseUnitList(loaded.stdout), ...parseUnitList(files.stdout), ...extraUnits]);
  if (names.size === 0) return { units: [], error: null };
  const args = [...m, 'show', '--no-pager', ...SYSTEMD_PROPS.map((p) => `--property=${p}`), ...[...names].sort()];
  const shown = await opts.runner(bin, args, t);
  if (shown.error || shown.code !== 0) {
    return { units: [], error: `${sc} show failed: ${shown.error ?? `exit ${shown.code}: ${shown.stderr.trim().slice(0, 200)}`}` };
  }
  const exists = opts.pathExists ?? ((p: string) => fs.existsSync(p));
  const units = parseSystemctlShow(shown.stdout, scope, uid);
  const name = uid !== undefined ? opts.userNames?.[String(uid)] : undefined;
  for (const u of units) {
    if (name) u.userName = name;
    const missing = missingUnitPaths(u, exists);
    if (missing.length > 0) u.missingPaths = missing;
  }
  return { units, error: null };
}

/**
 * Observes systemd: the system manager, and the user managers of the UIDs given in `userUnits`.
 * Never throws: failures become status `unknown` with the reason. A user manager that cannot be asked
 * makes the whole observation unknown only when a Hermes process sits in one of its services.
 */
export async function observeSystemd(opts: SystemdOptions): Promise<SupervisorObservation> {
  const marker = opts.bootedMarker ?? '/run/systemd/system';
  if (!fs.existsSync(marker)) {
    return { kind: 'systemd', status: 'absent', detail: `systemd is not running here (no ${marker})`, systemdUnits: [] };
  }
  const users = opts.userUnits ?? [];
  const [sys, ...user] = await Promise.all([
    observeManager(opts, 'system', undefined, opts.cgroupUnits),
    ...users.map((u) => observeManager(opts, 'user', u.uid, u.units)),
  ]);
  if (sys!.error) return { kind: 'systemd', status: 'unknown', detail: sys!.error, systemdUnits: [] };
  const units = [...sys!.units];
  const problems: string[] = [];
  let blind = false;
  user.forEach((r, i) => {
    units.push(...r.units);
    if (r.error) {
      problems.push(`user manager of UID ${users[i]!.uid}: ${r.error}`);
      if (users[i]!.units.length > 0) blind = true;
    }
  });
  const userCount = units.filter((u) => u.scope === 'user').length;
  const detail =
    units.length === 0 && problems.length === 0
      ? 'no Hermes units'
      : `${units.length} unit(s)${userCount ? ` (${userCount} user)` : ''}${problems.length ? `; ${problems.join('; ')}` : ''}`;
  return { kind: 'systemd', status: blind ? 'unknown' : 'present', detail, systemdUnits: units };
}
