/**
 * The one place output leaves hermes-doctor: which renderer a run's options pick (table, plain, JSON,
 * Nagios, Prometheus, the node_exporter textfile), `--quiet`, the kill step's action lines, the guard's
 * decision, and the terminal escaping of everything written.
 *
 * Two layers keep host strings from acting on a terminal or leaking a secret:
 * - every renderer reads a masked copy of what it prints (./redact.ts: `textModel` for text,
 *   `redact` / `renderJsonDocument` for JSON and metrics), so the masking policy (src/core/mask.ts)
 *   and the control-character escaping (./terminal.ts) reach every field;
 * - {@link terminalStreams}: the CLI's stdout and stderr escape any control character that is not our
 *   own layout once more as text leaves the program.
 *
 * Renderers other than JSON are imported when a run picks them, so the JSON path does not load the
 * table's libraries (chalk, cli-table3), the metrics or the kill step's text.
 */
import { ExitCode, type KillAction, type Report } from '../types.js';
import { renderJson } from './json.js';
import { terminalSafe } from './terminal.js';

/** Output formats of `orphans`. */
export type OutputFormat = 'table' | 'json' | 'prometheus' | 'nagios' | 'plain';

/** The output options of `orphans`, as yargs parses them. */
export interface OutputArgs {
  quiet?: boolean;
  format?: OutputFormat;
  plain?: boolean;
  'textfile-dir'?: string;
  /** A `--from FILE` run: ages are measured from when the snapshot was taken, not from now. */
  from?: string;
  json?: boolean;
  color?: boolean;
}

/** Where a command writes. */
export interface OutputStreams {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
}

/**
 * The streams with the last line of defence against terminal injection: whatever a command writes, a
 * control character that is not our own layout (newline, tab, chalk's colours, the progress line's
 * leading \r) is shown escaped (./terminal.ts sanitizeTerminalText).
 */
export function terminalStreams<T extends OutputStreams>(given: T): T {
  return { ...given, stdout: terminalSafe(given.stdout), stderr: terminalSafe(given.stderr) };
}

/** Whether the chosen format is one a program reads (JSON, plain, Nagios, Prometheus): no prose goes to stdout beside it. */
export function isMachineFormat(args: OutputArgs): boolean {
  return !!args.json || !!args.plain || (args.format !== undefined && args.format !== 'table');
}

/** What a `--kill` run adds to its report. */
export interface KillOutput {
  /** The actions done (or planned, for a dry run), printed above a text report. */
  actions: readonly KillAction[];
  /** Processes this run ended, for `hermes_doctor_orphans_killed`; null when nothing was signalled (a dry run). */
  orphansKilled: number | null;
}

/**
 * Prints a report as the options ask: the kill step's action lines (text formats only; with --quiet only
 * when something was signalled or failed), then writes the textfile (when asked), then the report in the
 * chosen format, unless --quiet and healthy.
 *
 * @param kill the kill step's actions and count, or undefined for a run without --kill
 * @returns the exit code: the report's; 3 when `--plain` meets another `--format`, or when a healthy run
 *   could not write its textfile
 */
export async function emitReport(report: Report, args: OutputArgs, out: OutputStreams, kill?: KillOutput): Promise<number> {
  if (kill) {
    // Formats a program reads: the action lines would break them (kill progress goes to stderr anyway).
    if (!isMachineFormat(args) && (!args.quiet || kill.actions.some((a) => a.signals.length > 0 || a.outcome === 'failed'))) {
      const { renderActions } = await import('./kill-text.js');
      out.stdout(renderActions(kill.actions));
    }
  }
  let code: number = report.summary.exitCode;
  if (args.plain && args.format && args.format !== 'plain') {
    out.stderr(`hermes-doctor: --plain is --format plain; it cannot be combined with --format ${args.format}\n`);
    return ExitCode.UNKNOWN;
  }
  const metrics = async () => {
    const [{ renderPrometheus }, { packageVersion }] = await Promise.all([import('./prometheus.js'), import('../version.js')]);
    return renderPrometheus(report, { orphansKilled: kill?.orphansKilled ?? null, version: packageVersion() });
  };
  if (args['textfile-dir']) {
    try {
      const { writeTextfile } = await import('./textfile.js');
      writeTextfile(args['textfile-dir'], await metrics());
    } catch (err) {
      out.stderr(`hermes-doctor: cannot write the textfile in ${args['textfile-dir']}: ${(err as Error).message}\n`);
      if (code === ExitCode.OK) code = ExitCode.UNKNOWN;
    }
  }
  if (args.quiet && report.summary.exitCode === ExitCode.OK) return code;
  const format: OutputFormat = args.format ?? (args.plain ? 'plain' : args.json ? 'json' : 'table');
  if (format === 'json') out.stdout(renderJson(report));
  else if (format === 'prometheus') out.stdout(await metrics());
  else if (format === 'nagios') out.stdout((await import('./nagios.js')).renderNagios(report));
  else if (format === 'plain') out.stdout((await import('./plain.js')).renderPlain(report, args.from ? Date.parse(report.takenAt) : Date.now()));
  else {
    const { colorWanted, renderTable } = await import('./table.js');
    // A snapshot's ages are relative to when it was taken, not to now.
    const nowMs = args.from ? Date.parse(report.takenAt) : NaN;
    out.stdout(renderTable(report, { color: args.color ?? colorWanted(), ...(Number.isFinite(nowMs) ? { nowMs } : {}) }) + '\n');
  }
  return code;
}

/**
 * Prints a guard decision: `--json` as one document on stdout (schema `hermes-doctor.guard/v1`);
 * otherwise the text on stderr (stdout belongs to the guarded COMMAND) when there is something to say or
 * no COMMAND to run. Colour: `--color`, else a TTY on stderr without NO_COLOR.
 *
 * @param decision the guard's decision (src/core/guard.ts GuardDecision); masked here, not modified
 * @param hasCommand whether a COMMAND follows (its run says the rest)
 */
export async function emitGuardDecision(
  decision: import('../core/guard.js').GuardDecision,
  args: { json: boolean; color?: boolean },
  hasCommand: boolean,
  out: OutputStreams,
): Promise<void> {
  if (args.json) {
    const { renderJsonDocument } = await import('./redact.js');
    out.stdout(renderJsonDocument(decision));
    return;
  }
  if (decision.problems.length === 0 && decision.warnings.length === 0 && hasCommand) return;
  const [{ Chalk }, { colorWanted }, { textModel }, { renderGuardText }] = await Promise.all([
    import('chalk'),
    import('./color.js'),
    import('./redact.js'),
    import('./guard-text.js'),
  ]);
  const c = new Chalk({ level: (args.color ?? colorWanted(process.stderr)) ? 1 : 0 });
  out.stderr(renderGuardText(textModel(decision), { red: c.red, yellow: c.yellow, bold: c.bold }));
}
