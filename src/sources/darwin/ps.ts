/**
 * macOS `ps` readers. Formats from ps(1) of macOS 13–15:
 * - `ps -A -ww -o pid=,tty=,command=`: the PID right-aligned, the controlling terminal (`ttys003`, `??`
 *   when none), then the whole command line (argv joined by spaces; `-ww` removes the width limit).
 * - `ps -A -E -ww -o pid=,command=`: the same command line followed by the environment (`NAME=value`
 *   words), which ps shows only for the caller's own processes (Hermes scans with `ps -A eww`:
 *   hermes_cli/gateway.py:_scan_gateway_pids, v0.15.1 and 306e2d2).
 * The environment is filtered through ENV_ALLOWLIST as soon as it is split; nothing else is kept.
 */
import { splitCommandLine } from '../../core/argv.js';
import { filterEnvironRecord } from '../environ.js';

/** One parsed line of `ps -o pid=,tty=,command=`. */
export interface PsCommandLine {
  pid: number;
  /** Terminal name (`ttys003`), or null for `??`/`-` (none). */
  tty: string | null;
  command: string;
}

/**
 * Parses `ps -A -ww -o pid=,tty=,command=` (withTty) or `ps -A -E -ww -o pid=,command=` output into
 * lines keyed by PID. Lines that do not start with a PID are counted in `bad` and skipped.
 */
export function parsePsCommands(text: string, withTty: boolean): { rows: Map<number, PsCommandLine>; bad: number } {
  const rows = new Map<number, PsCommandLine>();
  let bad = 0;
  const re = withTty ? /^\s*(\d+)\s+(\S+)\s(.*)$/ : /^\s*(\d+)\s(.*)$/;
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const m = re.exec(line);
    if (!m) {
      bad++;
      continue;
    }
    const pid = Number(m[1]);
    if (withTty) {
      const tty = m[2]!;
      rows.set(pid, { pid, tty: tty === '??' || tty === '-' ? null : tty, command: m[3]!.trim() });
    } else rows.set(pid, { pid, tty: null, command: m[2]!.trim() });
  }
  return { rows, bad };
}

const ENV_WORD = /(?:^|\s)([A-Za-z_][A-Za-z0-9_]*)=/g;

/**
 * Splits the environment that `ps -E` appended after a command line and keeps only allow-listed
 * variables. `withEnv` is the `ps -E` command, `bare` the same process's command without it; when
 * `withEnv` does not start with `bare` (the process exec'd between the two reads) null is returned.
 * Values run to the next ` NAME=` word, so a value containing ` X=` is cut there (a ps(1) limit).
 */
export function envFromPsE(withEnv: string, bare: string): Record<string, string> | null {
  if (!withEnv.startsWith(bare)) return null;
  const tail = withEnv.slice(bare.length);
  const starts: { name: string; at: number; valueAt: number }[] = [];
  for (const m of tail.matchAll(ENV_WORD)) {
    const lead = m[0].length - m[1]!.length - 1;
    starts.push({ name: m[1]!, at: m.index! + lead, valueAt: m.index! + m[0].length });
  }
  const env: Record<string, string | undefined> = {};
  for (let i = 0; i < starts.length; i++) {
    const s = starts[i]!;
    const end = i + 1 < starts.length ? starts[i + 1]!.at : tail.length;
    env[s.name] ??= tail.slice(s.valueAt, end).trim();
  }
  return filterEnvironRecord(env);
}

/**
 * Start stamp off Linux: centiseconds since the epoch (Hermes writes `round(create_time*100)` there:
 * gateway/status.py:_get_process_start_time at 306e2d2; v0.15.1 wrote none off Linux).
 */
export function startStamp(d: Date | undefined): number {
  return d && !Number.isNaN(d.getTime()) ? Math.round(d.getTime() / 10) : 0;
}

/**
 * argv of a `ps -o command=` text (macOS ps(1) prints argv joined by spaces, without quoting): split like a
 * shell line, with a leading and a trailing quote of each word removed. Used by the scan and the signaller,
 * so both see the same argv.
 */
export function argvOfPsCommand(command: string): string[] {
  return splitCommandLine(command).map((x) => x.replace(/^["']|["']$/g, ''));
}
