/**
 * systemd source: the units that hold Hermes processes or are named `hermes*`, with MainPID,
 * ControlGroup, ActiveState, NRestarts, ExecStart and the HERMES_HOME of Environment=.
 * Formats: `systemctl show` prints `Key=Value` lines, one block per unit separated by a blank line
 * (systemctl(1)); ExecStart is `{ path=… ; argv[]=… ; … }` (org.freedesktop.systemd1(5)).
 */
import fs from 'node:fs';
import type { SupervisorObservation, SystemdUnit } from '../../types.js';
import type { CommandRunner } from '../runner.js';

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
] as const;

/** Extracts HERMES_HOME from a systemd Environment= value (space-separated, optionally quoted). */
export function hermesHomeFromEnvironment(env: string): string | null {
  const m = /(?:^|\s)"?HERMES_HOME=("([^"]*)"|[^\s"]+)/.exec(env);
  if (!m) return null;
  return m[2] ?? m[1]!;
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
export function parseSystemctlShow(text: string, scope: 'system' | 'user'): SystemdUnit[] {
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
      workingDirectory: props.WorkingDirectory ? props.WorkingDirectory.replace(/^!+/, '') : null,
      hermesHome: hermesHomeFromEnvironment(props.Environment ?? ''),
      fragmentPath: props.FragmentPath || null,
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

/** The unit a cgroup path belongs to: the last `*.service` component (`/system.slice/x.service` → `x.service`). */
export function unitOfCgroupPath(cgPath: string): string | null {
  const parts = cgPath.split('/').filter(Boolean);
  for (let i = parts.length - 1; i >= 0; i--) if (parts[i]!.endsWith('.service')) return parts[i]!;
  return null;
}

export interface SystemdOptions {
  runner: CommandRunner;
  timeoutMs: number;
  /** Units found in the cgroups of Hermes processes (custom names such as `hermes-michel.service`). */
  cgroupUnits: string[];
  /** Path whose existence means systemd is PID 1 (sd_booted(3)); default /run/systemd/system. */
  bootedMarker?: string;
  /** systemctl binary, default `systemctl`. */
  systemctl?: string;
}

/** Observes system-scope systemd. Never throws: failures become status `unknown` with the reason. */
export async function observeSystemd(opts: SystemdOptions): Promise<SupervisorObservation> {
  const marker = opts.bootedMarker ?? '/run/systemd/system';
  if (!fs.existsSync(marker)) {
    return { kind: 'systemd', status: 'absent', detail: `systemd is not running here (no ${marker})`, systemdUnits: [] };
  }
  const bin = opts.systemctl ?? 'systemctl';
  const t = { timeoutMs: opts.timeoutMs };
  const [loaded, files] = await Promise.all([
    opts.runner(bin, ['list-units', '--all', '--plain', '--no-legend', '--no-pager', '--type=service', 'hermes*'], t),
    opts.runner(bin, ['list-unit-files', '--plain', '--no-legend', '--no-pager', '--type=service', 'hermes*'], t),
  ]);
  for (const r of [loaded, files]) {
    if (r.error) return { kind: 'systemd', status: 'unknown', detail: `systemctl failed: ${r.error}`, systemdUnits: [] };
  }
  const names = new Set([...parseUnitList(loaded.stdout), ...parseUnitList(files.stdout), ...opts.cgroupUnits]);
  if (names.size === 0) return { kind: 'systemd', status: 'present', detail: 'no Hermes units', systemdUnits: [] };
  const args = ['show', '--no-pager', ...SYSTEMD_PROPS.map((p) => `--property=${p}`), ...[...names].sort()];
  const shown = await opts.runner(bin, args, t);
  if (shown.error || shown.code !== 0) {
    return {
      kind: 'systemd',
      status: 'unknown',
      detail: `systemctl show failed: ${shown.error ?? `exit ${shown.code}: ${shown.stderr.trim().slice(0, 200)}`}`,
      systemdUnits: [],
    };
  }
  const units = parseSystemctlShow(shown.stdout, 'system');
  return { kind: 'systemd', status: 'present', detail: `${units.length} unit(s)`, systemdUnits: units };
}
