/**
 * What a command needs from its surroundings, injectable for tests: output streams and scan overrides.
 */
import type { ScanOptions } from '../sources/index.js';

export interface CommandContext {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  /** Overrides merged into every scan (tests: a recorded runner, another platform, another /proc). */
  scan?: ScanOptions;
}

/** The real process streams. */
export const processContext: CommandContext = {
  stdout: (t) => void process.stdout.write(t),
  stderr: (t) => void process.stderr.write(t),
};
