/**
 * How the kill action reaches a process, on every platform (Linux procfs + kill(2) in
 * ./signaller-linux.ts, macOS `ps` + kill(2) in ./signaller-darwin.ts, Windows CIM + taskkill in
 * ./signaller-win32.ts): read the identity (PID + start stamp + argv) right before each signal, then
 * signal. Asynchronous because the identity probe is an external command on macOS and Windows.
 */

/** A process's identity: `startTicks` is clock ticks since boot on Linux, a start stamp elsewhere (compared for equality). */
export interface ProcessIdentity {
  pid: number;
  startTicks: number;
  argv: string[];
}

/** `sent`: delivered; `gone`: no such process; `eperm`: not allowed. */
export type SignalOutcome = 'sent' | 'gone' | 'eperm';

/** How the kill action reaches one process: identity right before each signal, then the signal. */
export interface AsyncProcessSignaller {
  /** The identity of `pid` now, or null when it is gone. Rejects when it cannot be read (then nothing may be signalled). */
  identity(pid: number): Promise<ProcessIdentity | null>;
  /** `term`: SIGTERM / taskkill; `kill`: SIGKILL / taskkill /F. Rejects on an answer it cannot map. */
  signal(pid: number, how: 'term' | 'kill'): Promise<SignalOutcome>;
  /** What the last signal() call was told (the platform's message), for the audit log. */
  lastDetail: string | null;
}

/** `process.kill`-shaped: sends a named signal to a PID; throws with an errno `code` (ESRCH, EPERM). */
export type KillFn = (pid: number, signal: NodeJS.Signals) => unknown;

/**
 * The signal step of the POSIX signallers (Linux, macOS): SIGTERM for `term`, SIGKILL for `kill`, with
 * kill(2)'s errors mapped to outcomes (ESRCH → `gone`, EPERM → `eperm`) and its message kept in
 * `self.lastDetail` for the audit log. Any other error is thrown.
 */
export function posixSignal(self: AsyncProcessSignaller, kill: KillFn, pid: number, how: 'term' | 'kill'): SignalOutcome {
  try {
    kill(pid, how === 'kill' ? 'SIGKILL' : 'SIGTERM');
    self.lastDetail = null;
    return 'sent';
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    self.lastDetail = (err as Error).message;
    if (code === 'ESRCH') return 'gone';
    if (code === 'EPERM') return 'eperm';
    throw err;
  }
}
