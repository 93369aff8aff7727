/**
 * Runs the guarded COMMAND once the guard allows it: same stdin/stdout/stderr, its exit code passed
 * through (a signal death becomes 128 + signal number, like a shell), SIGINT and SIGTERM that reach the
 * guard forwarded to it (SIGHUP too), so `guard -- hermes gateway run` behaves like `hermes gateway run`.
 */
import { spawn } from 'node:child_process';
import os from 'node:os';

/** Forwarded signals. */
export const FORWARDED_SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/**
 * Spawns `argv` with inherited stdio and waits for it.
 *
 * @returns its exit code; 128 + N when killed by signal N; 127 when it cannot be started (not found), 126 when not executable
 */
export function runGuarded(argv: string[], onError: (msg: string) => void): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: 'inherit' });
    const handlers = new Map<NodeJS.Signals, () => void>();
    const cleanup = () => {
      for (const [sig, h] of handlers) process.removeListener(sig, h);
    };
    for (const sig of FORWARDED_SIGNALS) {
      const h = () => {
        try {
          child.kill(sig);
        } catch {
          /* already gone */
        }
      };
      handlers.set(sig, h);
      process.on(sig, h);
    }
    child.once('error', (err: NodeJS.ErrnoException) => {
      cleanup();
      onError(`hermes-doctor guard: cannot run ${argv[0]}: ${err.message}\n`);
      resolve(err.code === 'ENOENT' ? 127 : 126);
    });
    child.once('exit', (code, signal) => {
      cleanup();
      if (code !== null) return resolve(code);
      const n = signal ? (os.constants.signals as Record<string, number>)[signal] ?? 0 : 0;
      resolve(128 + n);
    });
  });
}
