/**
 * The asynchronous variant of ProcessSignaller, for platforms whose identity probe is an external
 * command (macOS `ps`, Windows `Get-CimInstance`): the same method names, returning Promises.
 */
import type { ProcessIdentity, SignalOutcome } from './signaller.js';

export interface AsyncProcessSignaller {
  /** The identity of `pid` now, or null when it is gone. Rejects when it cannot be read (then nothing may be signalled). */
  identity(pid: number): Promise<ProcessIdentity | null>;
  /** `term`: SIGTERM / taskkill; `kill`: SIGKILL / taskkill /F. Rejects on an answer it cannot map. */
  signal(pid: number, how: 'term' | 'kill'): Promise<SignalOutcome>;
  /** What the last signal() call was told (the platform's message), for the audit log. */
  lastDetail: string | null;
}
