/**
 * What a command needs from its surroundings, injectable for tests: output streams and scan overrides.
 */
import type { ScanOptions } from '../sources/index.js';

export interface CommandContext {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Overrides merged into every scan (tests: a recorded runner, another platform, another /proc). */
  scan?: ScanOptions;
  /** Default of `--confirm-delay` when the flag is absent, ms (tests of immediate verdicts pass 0); unset: 3500. */
  confirmDelayMs?: number;
  /** How the second look waits its delay (default: a timer); tests change the host in between. */
  confirmWait?: (ms: number) => Promise<void>;
}

/** The real process streams. */
export const processContext: CommandContext = {
  stdout: (t) => void process.stdout.write(t),
  stderr: (t) => void process.stderr.write(t),
};
