/**
 * The cron scheduler: one crontab line, `MIN HOUR * * * flock -n LOCK node cli orphans --quiet … #
 * hermes-doctor-schedule`, installed into the user's crontab next to the other lines (crontab(1):
 * `crontab -l` prints the table, `crontab -` replaces it from stdin; crontab(5): five time fields,
 * the rest of the line runs through /bin/sh, an unescaped `%` becomes a newline). `flock -n`
 * (util-linux flock(1)) makes a run that finds the previous one still going exit at once, so runs
 * never overlap. The trailing `# hermes-doctor-schedule` is a shell comment that marks our line.
 *
 * Generators and crontab edits are pure; the installer takes a runner and the crontab command.
 */
import { createHash } from 'node:crypto';
import { MANAGED_MARKER, type Program, type ScheduleSpec, checkArgv, shQuote } from './job.js';
import { type ActionRunner, describeFailure } from './command-runner.js';

export interface CronGenOptions {
  /** flock(1) binary, absolute (cron's PATH is minimal). */
  flock: string;
  /** Lock file shared by all runs. */
  lockFile: string;
  /** Spreads a fleet: the minute offset is derived from it (default: none, offset 0). */
  hostname?: string;
}

/** A stable offset in [0, n) from a host name, so a fleet does not run at the same minute. */
export function hostOffset(hostname: string | undefined, n: number): number {
  if (!hostname || n <= 1) return 0;
  return createHash('sha256').update(hostname).digest().readUInt32BE(0) % n;
}

/** Minute intervals cron runs evenly: the divisors of 60 below 60 (a minute step restarts every hour). */
export const CRON_MINUTES: readonly number[] = [1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30];

/**
 * The five time fields for an interval.
 *
 * @throws Error when cron cannot express it evenly (under a minute, not whole minutes, minutes not dividing an
 *   hour, or hours not dividing a day); the message lists the intervals it can run
 */
export function cronSchedule(everySec: number, hostname?: string): string {
  if (everySec < 60 || everySec % 60 !== 0) {
    throw new Error(`cron runs jobs on whole minutes: --every ${everySec}s cannot be expressed (use a multiple of 1m, or --via systemd)`);
  }
  const min = everySec / 60;
  if (min < 60 && 60 % min !== 0) {
    // `*/45` or `21-59/45` restart at every hour: runs :21 and … :21 again an hour later, not every 45 minutes.
    throw new Error(`cron cannot run every ${min} minutes evenly (a minute step restarts each hour): use one of ${CRON_MINUTES.map((m) => `${m}m`).join(', ')}, a whole number of hours that divides a day, or --via systemd`);
  }
  if (min < 60) {
    const off = hostOffset(hostname, min);
    return min === 1 ? '* * * * *' : `${off}-59/${min} * * * *`;
  }
  if (min % 60 !== 0) throw new Error(`cron cannot run every ${min} minutes evenly: use a whole number of hours above 59 minutes`);
  const hours = min / 60;
  const minute = hostOffset(hostname, 60);
  if (hours < 24 && 24 % hours === 0) return `${minute} ${hostOffset(hostname ? hostname + 'h' : undefined, hours)}-23/${hours} * * *`;
  if (hours === 24) return `${minute} ${hostOffset(hostname ? hostname + 'h' : undefined, 24)} * * *`;
  throw new Error(`cron cannot run every ${hours} hours evenly: use 1h, 2h, 3h, 4h, 6h, 8h, 12h or 1d`);
}

/** Escapes `%` for crontab(5) (an unescaped `%` ends the command). */
export function cronEscape(command: string): string {
  return command.replace(/%/g, '\\%');
}

/** The crontab line (without newline). */
export function generateCronLine(spec: ScheduleSpec, program: Program, opts: CronGenOptions): string {
  const cmd = [opts.flock, '-n', opts.lockFile, ...checkArgv(spec, program)].map(shQuote).join(' ');
  return `${cronSchedule(spec.everySec, opts.hostname)} ${cronEscape(cmd)} # ${MANAGED_MARKER}`;
}

/** True when a crontab line is one hermes-doctor wrote. */
export function isManagedLine(line: string): boolean {
  return line.trimEnd().endsWith(`# ${MANAGED_MARKER}`);
}

/** The crontab without our line(s); other lines untouched, trailing blank lines dropped. */
export function removeFromCrontab(existing: string): string {
  const kept = existing.split('\n').filter((l) => !isManagedLine(l));
  while (kept.length > 0 && kept[kept.length - 1] === '') kept.pop();
  return kept.length ? kept.join('\n') + '\n' : '';
}

/** The crontab with our line replaced or added at the end; every other line kept as it was, in order. */
export function addToCrontab(existing: string, line: string): string {
  return removeFromCrontab(existing) + line + '\n';
}

/** How to reach the user's crontab. */
export interface CrontabTarget {
  runner: ActionRunner;
  /** crontab binary (default `crontab`). */
  crontab?: string;
  /** Extra arguments before the action, e.g. ['-u', 'alice'] (root only). */
  userArgs?: string[];
}

/**
 * Reads the current crontab; "no crontab for USER" (exit 1) reads as empty.
 *
 * @throws Error when crontab is missing or fails otherwise
 */
export async function readCrontab(t: CrontabTarget): Promise<string> {
  const r = await t.runner(t.crontab ?? 'crontab', [...(t.userArgs ?? []), '-l']);
  if (r.error === null && r.code === 0) return r.stdout;
  if (r.error === null && r.code === 1 && /no crontab/i.test(r.stderr)) return '';
  throw new Error(describeFailure('crontab -l', r) + (r.error === 'ENOENT' ? ' (install cron: apt-get install cron)' : ''));
}

async function writeCrontab(t: CrontabTarget, text: string): Promise<void> {
  const bin = t.crontab ?? 'crontab';
  const r = text === '' ? await t.runner(bin, [...(t.userArgs ?? []), '-r']) : await t.runner(bin, [...(t.userArgs ?? []), '-'], { input: text });
  if (r.error !== null || r.code !== 0) throw new Error(describeFailure(text === '' ? 'crontab -r' : 'crontab -', r));
}

/**
 * Installs (or replaces) our line in the user's crontab, keeping every other line.
 *
 * @returns the steps done, in words
 */
export async function installCron(line: string, t: CrontabTarget): Promise<string[]> {
  const before = await readCrontab(t);
  const replaced = before.split('\n').some(isManagedLine);
  await writeCrontab(t, addToCrontab(before, line));
  return [`${replaced ? 'replaced' : 'added'} the hermes-doctor line in the crontab (${before.split('\n').filter((l) => l.trim() && !isManagedLine(l)).length} other line(s) kept)`];
}

/**
 * Removes our line(s) from the user's crontab, keeping every other line. Idempotent.
 *
 * @returns the steps done, in words
 */
export async function removeCron(t: CrontabTarget): Promise<string[]> {
  const before = await readCrontab(t);
  if (!before.split('\n').some(isManagedLine)) return ['no hermes-doctor line in the crontab: nothing to remove'];
  await writeCrontab(t, removeFromCrontab(before));
  return ['removed the hermes-doctor line from the crontab'];
}
