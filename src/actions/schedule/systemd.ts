/**
 * The systemd scheduler: `hermes-doctor.service` (Type=oneshot, one `orphans --quiet` run) and
 * `hermes-doctor.timer` (OnBootSec + OnUnitActiveSec, RandomizedDelaySec, Persistent=true).
 * Formats: systemd.unit(5), systemd.service(5), systemd.timer(5), systemd.time(7); ExecStart quoting
 * and `%`/`$` escaping per systemd.service(5) "Command lines".
 *
 * Generators are pure. The installer takes the unit folder and a runner for systemctl, so a test can
 * point it at the /run/systemd/system of a systemd booted in a namespace.
 */
import fs from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../../util/write-file-atomic.js';
import { MANAGED_MARKER, type Program, type ScheduleSpec, checkArgv, systemdSpan } from './job.js';
import { type ActionRunner, describeFailure } from './command-runner.js';

/** Unit names written by the installer. */
export const SERVICE_UNIT = 'hermes-doctor.service';
export const TIMER_UNIT = 'hermes-doctor.timer';

export type SystemdScope = 'system' | 'user';

export interface SystemdGenOptions {
  scope: SystemdScope;
  /**
   * Default true. false adds `DefaultDependencies=no` to both units: ONLY for a systemd without the
   * usual boot targets (the test namespace, where default dependencies would pull in sysinit.target).
   * Real hosts must keep the default dependencies (ordering after sysinit/basic, stop at shutdown).
   */
  defaultDependencies?: boolean;
}

/** Quotes one ExecStart word: double quotes when needed, `%` → `%%`, `$` → `$$` (no specifier or variable expansion). */
export function systemdQuote(word: string): string {
  const esc = word.replace(/%/g, '%%').replace(/\$/g, '$$$$');
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(esc) && esc !== '') return esc;
  return `"${esc.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/** Randomized delay that spreads a fleet: a tenth of the interval, at most 5 minutes, seconds. */
export function randomizedDelaySec(everySec: number): number {
  return Math.min(Math.floor(everySec / 10), 300);
}

/** Timer accuracy: a tenth of the interval, between 1 s and 1 min (the systemd default of 1 min would swallow short intervals). */
export function accuracySec(everySec: number): number {
  return Math.max(1, Math.min(Math.floor(everySec / 10), 60));
}

/**
 * Generates the two unit files.
 *
 * @returns file name → content
 */
export function generateSystemdUnits(spec: ScheduleSpec, program: Program, opts: SystemdGenOptions): Record<string, string> {
  const noDefaultDeps = opts.defaultDependencies === false ? ['# Test namespaces only: no sysinit.target there. Real hosts keep default dependencies.', 'DefaultDependencies=no'] : [];
  const every = systemdSpan(spec.everySec);
  const service = [
    `# Managed by hermes-doctor (${MANAGED_MARKER}); remove with: hermes-doctor schedule remove --via ${opts.scope === 'user' ? 'systemd-user' : 'systemd'}`,
    '[Unit]',
    'Description=hermes-doctor: find Hermes gateways outside their supervisor',
    ...noDefaultDeps,
    '',
    '[Service]',
    'Type=oneshot',
    `ExecStart=${checkArgv(spec, program).map(systemdQuote).join(' ')}`,
    '# Exit 1 (warning), 2 (critical) or 3 (could not decide) leaves the unit "failed": see `systemctl --failed`',
    '# and `journalctl -u hermes-doctor.service`. --quiet prints nothing when healthy.',
    'Environment=NO_COLOR=1',
    'Nice=10',
    'IOSchedulingClass=idle',
    'TimeoutStartSec=5min',
    '',
  ].join('\n');
  const timer = [
    `# Managed by hermes-doctor (${MANAGED_MARKER}); remove with: hermes-doctor schedule remove --via ${opts.scope === 'user' ? 'systemd-user' : 'systemd'}`,
    '[Unit]',
    `Description=Run hermes-doctor every ${every}`,
    ...noDefaultDeps,
    '',
    '[Timer]',
    `OnBootSec=${systemdSpan(Math.min(spec.everySec, 300))}`,
    `OnUnitActiveSec=${every}`,
    `RandomizedDelaySec=${randomizedDelaySec(spec.everySec)}s`,
    `AccuracySec=${accuracySec(spec.everySec)}s`,
    '# Persistent= only acts on OnCalendar= timers; kept so a later OnCalendar= catches up missed runs.',
    'Persistent=true',
    `Unit=${SERVICE_UNIT}`,
    '',
    '[Install]',
    'WantedBy=timers.target',
    '',
  ].join('\n');
  return { [SERVICE_UNIT]: service, [TIMER_UNIT]: timer };
}

/** Where the installer writes units and how it calls systemctl. */
export interface SystemdTarget {
  scope: SystemdScope;
  /** Unit folder: /etc/systemd/system (system), ~/.config/systemd/user (user), or a test namespace's /run/systemd/system. */
  unitDir: string;
  runner: ActionRunner;
  /** systemctl binary (default `systemctl`). */
  systemctl?: string;
}

/** Default unit folder of a scope. */
export function defaultUnitDir(scope: SystemdScope, homedir: string): string {
  return scope === 'user' ? path.join(homedir, '.config', 'systemd', 'user') : '/etc/systemd/system';
}

async function systemctl(t: SystemdTarget, args: string[]): Promise<{ ok: boolean; why: string }> {
  const full = [...(t.scope === 'user' ? ['--user'] : []), ...args];
  const r = await t.runner(t.systemctl ?? 'systemctl', full);
  return r.error === null && r.code === 0 ? { ok: true, why: '' } : { ok: false, why: describeFailure(`systemctl ${full.join(' ')}`, r) };
}

/**
 * `--runtime` when the units live under /run (runtime units: their enablement symlinks must go to
 * /run too, not to /etc; systemctl(1) "enable --runtime"). A test namespace shares the host's /etc.
 */
export function runtimeFlag(t: Pick<SystemdTarget, 'unitDir'>): string[] {
  return t.unitDir === '/run' || t.unitDir.startsWith('/run/') ? ['--runtime'] : [];
}

function isOurs(file: string): boolean | null {
  try {
    return fs.readFileSync(file, 'utf8').includes(MANAGED_MARKER);
  } catch {
    return null;
  }
}

/**
 * Writes the units, reloads systemd, enables and starts the timer.
 *
 * @returns the steps done, in words
 * @throws Error naming the failed step (a unit file of the same name not written by hermes-doctor is never overwritten)
 */
export async function installSystemd(units: Record<string, string>, t: SystemdTarget): Promise<string[]> {
  const done: string[] = [];
  fs.mkdirSync(t.unitDir, { recursive: true });
  for (const [name, text] of Object.entries(units)) {
    const file = path.join(t.unitDir, name);
    if (isOurs(file) === false) throw new Error(`${file} exists and was not written by hermes-doctor: not overwriting it`);
    writeFileAtomic(file, text, 0o644);
    done.push(`wrote ${file}`);
  }
  for (const args of [['daemon-reload'], ['enable', ...runtimeFlag(t), '--now', TIMER_UNIT]]) {
    const r = await systemctl(t, args);
    if (!r.ok) throw new Error(r.why);
    done.push(`systemctl ${t.scope === 'user' ? '--user ' : ''}${args.join(' ')}`);
  }
  return done;
}

/**
 * Undoes {@link installSystemd}: stops and disables the timer, stops the service, deletes both unit
 * files (only when written by hermes-doctor), reloads, clears a failed state. Idempotent.
 *
 * @returns the steps done, in words
 * @throws Error when a unit file cannot be deleted or systemctl daemon-reload fails
 */
export async function removeSystemd(t: SystemdTarget): Promise<string[]> {
  const done: string[] = [];
  const present = [SERVICE_UNIT, TIMER_UNIT].filter((n) => isOurs(path.join(t.unitDir, n)) !== null);
  for (const n of present) {
    if (isOurs(path.join(t.unitDir, n)) === false) throw new Error(`${path.join(t.unitDir, n)} was not written by hermes-doctor: not removing it`);
  }
  if (present.length > 0) {
    // Failures here (unit not loaded) do not stop the removal.
    if ((await systemctl(t, ['disable', ...runtimeFlag(t), '--now', TIMER_UNIT])).ok) done.push(`systemctl disable ${runtimeFlag(t).join('')}${runtimeFlag(t).length ? ' ' : ''}--now ${TIMER_UNIT}`);
    if ((await systemctl(t, ['stop', SERVICE_UNIT])).ok) done.push(`systemctl stop ${SERVICE_UNIT}`);
  }
  for (const n of present) {
    fs.rmSync(path.join(t.unitDir, n));
    done.push(`removed ${path.join(t.unitDir, n)}`);
  }
  if (present.length > 0) {
    const r = await systemctl(t, ['daemon-reload']);
    if (!r.ok) throw new Error(r.why);
    done.push('systemctl daemon-reload');
    await systemctl(t, ['reset-failed', SERVICE_UNIT, TIMER_UNIT]);
  }
  if (done.length === 0) done.push(`nothing to remove in ${t.unitDir}`);
  return done;
}
