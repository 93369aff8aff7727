/**
 * The command runner: the one way sources run external programs (systemctl, s6-svstat, launchctl, ps,
 * lsof, schtasks). Every call has a timeout; a missing, failing or hanging program is an answer
 * (`error`), never an exception, so the supervisor it speaks for becomes "unknown" and the scan goes on.
 * Tests of platforms that cannot run here replace the runner with recorded outputs; nothing else changes.
 */
import { spawn } from 'node:child_process';
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
  /** stdout as the bytes the program wrote, when asked with {@link RunOptions.bytes} (for output in a code page other than UTF-8). */
  stdoutBytes?: Buffer;
}

export interface RunOptions {
  /** Kill the program after this many ms (default {@link DEFAULT_COMMAND_TIMEOUT_MS}). */
  timeoutMs?: number;
  /** Extra environment for the program (merged over process.env). */
  env?: Record<string, string>;
  /** Written to the program's stdin, which is then closed (`crontab -` reads the new table from stdin). */
  input?: string;
  /** Also return stdout undecoded (`stdoutBytes`): the caller decodes it (schtasks writes the OEM code page). */
  bytes?: boolean;
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

/** Largest output kept per stream, bytes; a program that writes more is ended (its group too). */
export const MAX_COMMAND_OUTPUT = 16 * 1024 * 1024;

/** setTimeout's largest delay, ms; a larger one fires at once (Node clamps it to 1 ms). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * The real runner. Off Windows each program runs detached in its own session and process group
 * (setsid(2) via spawn `detached`), so on timeout the whole group is sent SIGKILL (kill(2) with -PGID):
 * children it forked (a `sleep` in a hung script) end with it instead of being reparented to PID 1.
 * The answer is taken when its output pipes close; a program that exits while a child keeps the pipes
 * open is still bounded by the timeout. Output is capped at {@link MAX_COMMAND_OUTPUT} per stream.
 */
export const execRunner: CommandRunner = (file, args, opts = {}) =>
  new Promise((resolve) => {
    const requested = opts.timeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
    const timeout = Number.isFinite(requested) ? Math.min(Math.max(1, Math.round(requested)), MAX_TIMER_MS) : DEFAULT_COMMAND_TIMEOUT_MS;
    const group = process.platform !== 'win32';
    let child: ReturnType<typeof spawn>;
    try {
      child = spawn(file, [...args], {
        detached: group,
        stdio: [opts.input !== undefined ? 'pipe' : 'ignore', 'pipe', 'pipe'],
        env: opts.env ? { ...process.env, ...opts.env } : process.env,
        windowsHide: true,
      });
    } catch (err) {
      return resolve({ code: null, stdout: '', stderr: '', error: (err as NodeJS.ErrnoException).code ?? (err as Error).message });
    }
    const out: Buffer[] = [];
    const errOut: Buffer[] = [];
    let outLen = 0;
    let errLen = 0;
    let failure: string | null = null;
    let settled = false;
    const endGroup = () => {
      if (group && child.pid) {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          /* the group is already empty */
        }
      }
      try {
        child.kill('SIGKILL');
      } catch {
        /* already gone */
      }
    };
    const timer = setTimeout(() => {
      failure ??= `timeout after ${timeout} ms`;
      endGroup();
    }, timeout);
    const collect = (chunks: Buffer[], which: 'out' | 'err') => (b: Buffer) => {
      const len = (which === 'out' ? (outLen += b.length) : (errLen += b.length));
      if (len > MAX_COMMAND_OUTPUT) {
        failure ??= `output larger than ${MAX_COMMAND_OUTPUT} bytes`;
        endGroup();
        return;
      }
      chunks.push(b);
    };
    child.stdout?.on('data', collect(out, 'out'));
    child.stderr?.on('data', collect(errOut, 'err'));
    const finish = (code: number | null, error: string | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      const bytes = Buffer.concat(out);
      resolve({ code, stdout: bytes.toString('utf8'), stderr: Buffer.concat(errOut).toString('utf8'), error, ...(opts.bytes ? { stdoutBytes: bytes } : {}) });
    };
    child.on('error', (err: NodeJS.ErrnoException) => {
      // spawn failures (ENOENT, EACCES) come here, with no 'close' after them when nothing ran.
      if (child.pid === undefined) finish(null, err.code ?? err.message);
      else failure ??= err.code ?? err.message;
    });
    child.on('close', (code) => {
      if (failure) return finish(null, failure);
      finish(code, null);
    });
    if (opts.input !== undefined && child.stdin) {
      child.stdin.on('error', () => undefined); // the program may exit without reading it
      child.stdin.end(opts.input);
    }
  });

/**
 * A runner whose every command ends by `deadlineAt` (ms since the epoch): its timeout is the smaller of
 * its own and the time left, and once the deadline has passed a command is not started at all
 * (`error`: run deadline reached). The whole-run bound of `--deadline`.
 */
export function withDeadline(runner: CommandRunner, deadlineAt: number, now: () => number = Date.now): CommandRunner {
  return (file, args, opts = {}) => {
    const left = deadlineAt - now();
    if (left <= 0) return Promise.resolve({ code: null, stdout: '', stderr: '', error: 'run deadline reached before it could start' });
    const own = opts.timeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
    return runner(file, args, { ...opts, timeoutMs: Math.min(own, left) });
  };
}

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
    return {
      code: hit.code === undefined ? 0 : hit.code,
      stdout: hit.stdout ?? '',
      stderr: hit.stderr ?? '',
      error: hit.error ?? null,
      ...(hit.stdoutBytes ? { stdoutBytes: hit.stdoutBytes } : {}),
    };
  };
  return Object.assign(run, { calls });
}
