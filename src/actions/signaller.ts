/**
 * How the kill action reaches a process: read its identity (PID + start stamp + argv) right before
 * signalling, then signal it. One implementation per platform.
 */

/** A process's identity: `startTicks` is clock ticks since boot on Linux, a start stamp elsewhere (compared for equality). */
export interface ProcessIdentity {
  pid: number;
  startTicks: number;
  argv: string[];
}

/** `sent`: delivered; `gone`: no such process; `eperm`: not allowed. */
export type SignalOutcome = 'sent' | 'gone' | 'eperm';

export interface ProcessSignaller {
  /** The identity of `pid` now, or null when it is gone. */
  identity(pid: number): ProcessIdentity | null;
  /** `term` asks the process to stop (SIGTERM / taskkill), `kill` forces it (SIGKILL / taskkill /F). */
  signal(pid: number, how: 'term' | 'kill'): SignalOutcome;
}
