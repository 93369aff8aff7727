/**
 * What the kill action reads and gets back when it reaches a process. The signallers themselves
 * (`AsyncProcessSignaller` in ./signaller-async.ts, one per platform) read the identity
 * (PID + start stamp + argv) right before signalling, then signal.
 */

/** A process's identity: `startTicks` is clock ticks since boot on Linux, a start stamp elsewhere (compared for equality). */
export interface ProcessIdentity {
  pid: number;
  startTicks: number;
  argv: string[];
}

/** `sent`: delivered; `gone`: no such process; `eperm`: not allowed. */
export type SignalOutcome = 'sent' | 'gone' | 'eperm';
