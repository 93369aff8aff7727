/**
 * What every scheduler runs: the interval, and the exact `hermes-doctor orphans --quiet …` command line
 * with absolute paths of node and the CLI (cron, systemd and launchd start jobs with a minimal PATH).
 * Pure, except {@link defaultProgram} which resolves the running node and CLI paths.
 */
import { fileURLToPath } from 'node:url';

/** What the periodic check runs and how often. */
export interface ScheduleSpec {
  /** Interval between runs, seconds (> 0). */
  everySec: number;
  /** Pass `--kill --yes` to the scheduled run (removes orphans without asking). */
  kill: boolean;
  /** Pass `--textfile-dir DIR` (node_exporter textfile collector). */
  textfileDir?: string;
  /** Pass `--home H` for each. */
  homes?: string[];
  /** Pass `--profile P` for each. */
  profiles?: string[];
  /** Pass `--all-users`. */
  allUsers?: boolean;
  /** Pass `--s6-scandir DIR`. */
  s6ScanDir?: string;
}

/** Absolute paths of the program the job starts. */
export interface Program {
  /** Absolute path of node (process.execPath). */
  node: string;
  /** Absolute path of bin/hermes-doctor.js. */
  cli: string;
}

/** The node running now and the CLI of this installation (bin/hermes-doctor.js next to dist/ or src/). */
export function defaultProgram(): Program {
  return { node: process.execPath, cli: fileURLToPath(new URL('../../../bin/hermes-doctor.js', import.meta.url)) };
}

/**
 * Parses an interval: `15m`, `5s`, `1h`, `2d`, `90` (seconds), `1h30m`, also `min`/`sec`/`hour` spellings.
 *
 * @returns seconds
 * @throws Error with the accepted forms when the text is not an interval or is zero
 */
export function parseEvery(text: string): number {
  const sec = parseEveryText(text);
  if (sec > MAX_EVERY_SEC) throw new Error(`--every ${JSON.stringify(text)}: intervals go from 1s to 7d, this is ${sec} s`);
  return sec;
}

/** Longest `--every`, seconds (7 days): a check rarer than weekly is no check. */
export const MAX_EVERY_SEC = 7 * 86400;

function parseEveryText(text: string): number {
  const t = text.trim().toLowerCase();
  const units: Record<string, number> = { s: 1, sec: 1, secs: 1, second: 1, seconds: 1, m: 60, min: 60, mins: 60, minute: 60, minutes: 60, h: 3600, hr: 3600, hour: 3600, hours: 3600, d: 86400, day: 86400, days: 86400 };
  if (/^\d+$/.test(t)) {
    const n = Number(t);
    if (n > 0) return n;
  } else if (/^(\d+\s*[a-z]+\s*)+$/.test(t)) {
    let total = 0;
    for (const m of t.matchAll(/(\d+)\s*([a-z]+)/g)) {
      const u = units[m[2]!];
      if (u === undefined) throw new Error(`--every ${JSON.stringify(text)}: unknown unit ${JSON.stringify(m[2])} (use s, m, h or d)`);
      total += Number(m[1]) * u;
    }
    if (total > 0) return total;
  }
  throw new Error(`--every ${JSON.stringify(text)}: expected an interval such as 30s, 5m, 15m, 1h or 1d (1s to 7d)`);
}

/** Formats seconds as a systemd time span (systemd.time(7)): `15min`, `5s`, `1h`, `1d`, `90s`. */
export function systemdSpan(sec: number): string {
  if (sec % 86400 === 0) return `${sec / 86400}d`;
  if (sec % 3600 === 0) return `${sec / 3600}h`;
  if (sec % 60 === 0) return `${sec / 60}min`;
  return `${sec}s`;
}

/** The argv of the scheduled run: `node cli orphans --quiet [--kill --yes] [--textfile-dir D] …`. */
export function checkArgv(spec: ScheduleSpec, program: Program): string[] {
  const argv = [program.node, program.cli, 'orphans', '--quiet'];
  if (spec.kill) argv.push('--kill', '--yes');
  if (spec.textfileDir) argv.push('--textfile-dir', spec.textfileDir);
  for (const h of spec.homes ?? []) argv.push('--home', h);
  for (const p of spec.profiles ?? []) argv.push('--profile', p);
  if (spec.allUsers) argv.push('--all-users');
  if (spec.s6ScanDir) argv.push('--s6-scandir', spec.s6ScanDir);
  return argv;
}

/** Quotes one word for /bin/sh (POSIX): bare when safe, else single-quoted. */
export function shQuote(word: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** Marker put in every file and line hermes-doctor writes, so `remove` deletes only its own. */
export const MANAGED_MARKER = 'hermes-doctor-schedule';
