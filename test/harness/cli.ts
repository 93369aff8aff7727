// The real CLI run in-process: main() of src/cli/main.ts with its stdout and stderr captured, and its
// --json report parsed and checked against the schema.
import { main } from '../../src/cli/main.js';
import type { CommandContext, KillContext } from '../../src/cli/io.js';
import type { ScanOptions } from '../../src/sources/index.js';
import type { ProcessVerdict, Report } from '../../src/types.js';
import { assertOrphansV1 } from '../contract.js';

/** argv fragment pointing --s6-scandir at a folder that does not exist, so no s6 tree is seen. */
export const NO_S6 = ['--s6-scandir', '/nonexistent/hermes-doctor-no-s6'];

/** argv fragment `--home H` for each home given. */
export const homesArgs = (...homes: string[]): string[] => homes.flatMap((h) => ['--home', h]);

/** What one in-process run gave: the exit code and everything written to stdout and stderr. */
export interface CliRun {
  code: number;
  out: string;
  err: string;
}

/** The context main() takes besides the two streams: scan overrides, tty, confirm, kill overrides. */
export type CliContext = Omit<CommandContext & KillContext, 'stdout' | 'stderr'>;

/**
 * Runs main(args) of src/cli/main.ts in-process with `ctx` added, capturing stdout and stderr. The second look
 * of --quiet/--kill/Prometheus is off (`confirmDelayMs: 0`) unless `ctx` or `--confirm-delay` sets it:
 * these runs assert the verdicts of one moment; test/second-look.test.ts covers the second look.
 */
export async function runCli(args: string[], ctx: CliContext = {}): Promise<CliRun> {
  let out = '';
  let err = '';
  const code = await main(args, { confirmDelayMs: 0, ...ctx, stdout: (t) => void (out += t), stderr: (t) => void (err += t) });
  return { code, out, err };
}

/** One in-process run and, for `--json` runs, its parsed report (null otherwise). */
export interface CliReportRun extends CliRun {
  report: Report | null;
}

/**
 * Runs the real CLI in-process (no TTY unless `extra` says so). With `--json` in `args` and a stdout
 * that starts with `{`, `report` is that document, checked against the orphans/v1 schema (throws when
 * it does not match); otherwise null.
 */
export async function cliReport(args: string[], extra: Pick<CliContext, 'tty' | 'confirm'> = {}): Promise<CliReportRun> {
  const { code, out, err } = await runCli(args, { tty: false, ...extra });
  const report = args.includes('--json') && out.trim().startsWith('{') ? (JSON.parse(out) as Report) : null;
  if (report) assertOrphansV1(report);
  return { code, out, err, report };
}

/** cliReport for a run that must print a report: throws with the exit code and output when stdout has none. */
export async function cliJson(args: string[], extra: Pick<CliContext, 'tty' | 'confirm'> = {}): Promise<CliRun & { report: Report }> {
  const r = await cliReport(args, extra);
  if (!r.report) throw new Error(`hermes-doctor ${args.join(' ')} printed no JSON report (exit ${r.code}): ${r.out}${r.err}`);
  return { ...r, report: r.report };
}

/** `orphans --json --all-users ARGS` on an injected (recorded) scan; report is the parsed stdout, null when empty. */
export async function runRecordedOrphans(scan: ScanOptions, args: string[] = []): Promise<CliRun & { report: Report | null }> {
  const r = await runCli(['orphans', '--json', '--all-users', ...args], { scan });
  return { ...r, report: r.out ? (JSON.parse(r.out) as Report) : null };
}

/** The verdict of PID in a report; throws naming the PIDs and commands the report has when it is missing. */
export function verdictOf(r: Report, pid: number): ProcessVerdict {
  const p = r.processes.find((x) => x.pid === pid);
  if (!p) throw new Error(`PID ${pid} not in report: ${JSON.stringify(r.processes.map((x) => [x.pid, x.argv.join(' ')]))}`);
  return p;
}
