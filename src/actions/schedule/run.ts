/**
 * The runner of the schedule installers: runs systemctl, crontab, launchctl with a timeout and,
 * unlike the scan runner, optional standard input (`crontab -` reads the new table from stdin).
 * Never rejects: a missing program is `error: 'ENOENT'`. Injectable so tests can point the installers
 * at a test namespace (`nsenter … systemctl`) or at recorded answers.
 */
import { spawn } from 'node:child_process';
import type { RunResult } from '../../sources/runner.js';

export interface ActionRunOptions {
  /** Written to the program's stdin (stdin is empty otherwise). */
  input?: string;
  /** Kill the program after this many ms (default 30000). */
  timeoutMs?: number;
}

/** Runs `file args…`; resolves with its outcome, never rejects. */
export type ActionRunner = (file: string, args: readonly string[], opts?: ActionRunOptions) => Promise<RunResult>;

/** The real runner (child_process.spawn, SIGKILL on timeout). */
export const spawnRunner: ActionRunner = (file, args, opts = {}) =>
  new Promise((resolve) => {
    const timeoutMs = opts.timeoutMs ?? 30_000;
    const child = spawn(file, [...args], { stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let timedOut = false;
    child.stdout!.on('data', (b: Buffer) => out.push(b));
    child.stderr!.on('data', (b: Buffer) => err.push(b));
    if (child.stdin) {
      child.stdin.on('error', () => undefined);
      child.stdin.end(opts.input);
    }
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.once('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      resolve({ code: null, stdout: '', stderr: '', error: e.code ?? e.message });
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({
        code: timedOut ? null : code,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        error: timedOut ? `timeout after ${timeoutMs} ms` : null,
      });
    });
  });

/** One-line description of a failed run, for error messages. */
export function describeFailure(cmd: string, r: RunResult): string {
  return `${cmd} failed: ${r.error ?? `exit ${r.code}`}${r.stderr.trim() ? `: ${r.stderr.trim().slice(0, 300)}` : ''}`;
}
