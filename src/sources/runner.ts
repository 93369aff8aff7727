/**
 * The command runner: the one way sources run external programs (systemctl, s6-svstat, launchctl, ps,
 * lsof, schtasks). Every call has a timeout; a missing, failing or hanging program is an answer
 * (`error`), never an exception, so the supervisor it speaks for becomes "unknown" and the scan goes on.
 * Tests of platforms that cannot run here replace the runner with recorded outputs; nothing else changes.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/** Outcome of one command. */
export interface RunResult {
  /** Exit code; null when the program did not run or was killed. */
  code: number | null;
  stdout: string;
  stderr: string;
  /** Why the command produced no usable answer: `ENOENT` (not installed), `timeout`, `EACCES`, … */
  error: string | null;
}

export interface RunOptions {
  /** Kill the program after this many ms (default 3000). */
  timeoutMs?: number;
  /** Extra environment for the program (merged over process.env). */
  env?: Record<string, string>;
  /** Written to the program's stdin, which is then closed (`crontab -` reads the new table from stdin). */
  input?: string;
}

/** Runs `file args…` and resolves with its outcome; never rejects. */
export type CommandRunner = (file: string, args: readonly string[], opts?: RunOptions) => Promise<RunResult>;

/**
 * The absolute path of an executable `name` in PATH (then /usr/bin, /bin, /usr/sbin, /sbin), or null.
 * Checks with access(2) X_OK: no process is started.
 */
export function findOnPath(name: string, envPath: string = process.env.PATH ?? ''): string | null {
  for (const d of envPath.split(':').concat(['/usr/bin', '/bin', '/usr/sbin', '/sbin'])) {
    if (!d) continue;
    const p = path.join(d, name);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      /* next */
    }
  }
  return null;
}

/** Default timeout of external commands, ms. */
export const DEFAULT_COMMAND_TIMEOUT_MS = 3000;

/** The real runner: child_process.execFile with a timeout and SIGKILL on expiry, output capped at 16 MiB. */
export const execRunner: CommandRunner = (file, args, opts = {}) =>
  new Promise((resolve) => {
    const timeout = opts.timeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
    const child = execFile(
      file,
      [...args],
      {
        timeout,
        killSignal: 'SIGKILL',
        maxBuffer: 16 * 1024 * 1024,
        encoding: 'utf8',
        env: opts.env ? { ...process.env, ...opts.env } : process.env,
      },
      (err, stdout, stderr) => {
        if (!err) return resolve({ code: 0, stdout, stderr, error: null });
        const e = err as NodeJS.ErrnoException & { killed?: boolean; signal?: string; code?: unknown };
        if (e.killed || e.signal === 'SIGKILL') {
          return resolve({ code: null, stdout, stderr, error: `timeout after ${timeout} ms` });
        }
        if (typeof e.code === 'string') return resolve({ code: null, stdout, stderr, error: e.code });
        resolve({ code: typeof e.code === 'number' ? e.code : null, stdout, stderr, error: null });
      },
    );
    if (opts.input !== undefined && child.stdin) {
      child.stdin.on('error', () => undefined); // the program may exit without reading it
      child.stdin.end(opts.input);
    }
  });

/**
 * A runner that answers from recorded outputs, for tests of platforms that cannot run here. Keys are
 * `file arg1 arg2 …` (the basename of file, `/` or `\` separated); a missing key answers ENOENT like a
 * missing program. A value may be an array: successive calls with that key get successive entries
 * (the last one repeats), for commands asked twice (an identity re-check before a signal).
 * A key ending in ` *` matches any remaining arguments. Every call is appended to `calls` of the
 * returned function, for assertions.
 */
export function recordedRunner(
  outputs: Record<string, Partial<RunResult> | Partial<RunResult>[]>,
): CommandRunner & { calls: string[] } {
  const used = new Map<string, number>();
  const calls: string[] = [];
  const run = async (file: string, args: readonly string[]): Promise<RunResult> => {
    const base = file.slice(Math.max(file.lastIndexOf('/'), file.lastIndexOf('\\')) + 1);
    const key = [base, ...args].join(' ');
    calls.push(key);
    let entry = outputs[key];
    if (entry === undefined) {
      // `prefix *` keys match any remaining arguments (e.g. lsof's file list, asserted through `calls`).
      const wild = Object.keys(outputs).find((k) => k.endsWith(' *') && key.startsWith(k.slice(0, -1)));
      if (wild) entry = outputs[wild];
    }
    let hit: Partial<RunResult> | undefined;
    if (Array.isArray(entry)) {
      const n = used.get(key) ?? 0;
      used.set(key, n + 1);
      hit = entry[Math.min(n, entry.length - 1)];
    } else hit = entry;
    if (!hit) return { code: null, stdout: '', stderr: '', error: 'ENOENT' };
    return { code: hit.code === undefined ? 0 : hit.code, stdout: hit.stdout ?? '', stderr: hit.stderr ?? '', error: hit.error ?? null };
  };
  return Object.assign(run, { calls });
}
