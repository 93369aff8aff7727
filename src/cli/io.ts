/**
 * A command's I/O with its caller: the two output streams it writes, and what a test (or an embedding
 * program) injects in place of the host: scan overrides, the second look's delay and clock, and for
 * `orphans --kill` the terminal, the confirmation prompt and the platform's signaller. Types only; the
 * real process streams are src/cli/main.ts `processContext`.
 */
import type { KillOptions } from '../actions/kill.js';
import type { ScanOptions } from '../sources/index.js';

/** What every command gets: its output streams and the overrides of its scan. */
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

/** What a test (or an embedding program) may inject into a kill run. */
export interface KillContext {
  /** Whether stdin and stderr are a terminal (default: both are TTYs). */
  tty?: boolean;
  /** Asks the question and resolves true for yes (default: readline on stdin/stderr). */
  confirm?: (question: string) => Promise<boolean>;
  /** Overrides of the platform's signaller, audit sink, lock reader, clock… */
  kill?: Partial<KillOptions>;
}
