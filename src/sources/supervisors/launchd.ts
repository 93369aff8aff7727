/**
 * launchd source (macOS): the jobs `ai.hermes.gateway*` (`get_launchd_label` in hermes_cli/gateway.py,
 * v0.15.1 and 306e2d2) with their PID, state, ProgramArguments and the HERMES_HOME of their environment (every other variable is dropped).
 *
 * Formats, from launchctl(1) (macOS 13–15) and Hermes's own parser `_parse_launchd_pid_from_list_output`
 * (hermes_cli/gateway.py at 306e2d23):
 * - `launchctl list`: a header `PID\tStatus\tLabel`, then one line per job, PID `-` when not running.
 * - `launchctl list LABEL`: a plist-ish dictionary, `"PID" = 1234;`, `"LastExitStatus" = 0;`,
 *   `"ProgramArguments" = ( "a"; "b"; );`. No `"PID"` line means registered but not running.
 * - `launchctl print gui/UID/LABEL`: `key = value` lines, nested `name = { … }` blocks; `pid = N`,
 *   `state = running`, `path = …plist`, `arguments = { … }` one argument per line, `environment = { K => V }`.
 * Domains are probed gui/UID then user/UID, as Hermes's `_launchd_domain` does.
 */
import type { LaunchdJob, SupervisorObservation } from '../../types.js';
import type { CommandRunner } from '../runner.js';

/**
 * Labels of Hermes gateway jobs: `ai.hermes.gateway`, `ai.hermes.gateway-<suffix>`,
 * `ai.hermes.gateway.<suffix>` (hermes_cli/gateway.py `get_launchd_label` at 306e2d2), and the older
 * `io.nousresearch.hermes-agent.gateway[-<suffix>]` that real installs still run (Hermes #55441, PR
 * #55531; Hermes's uninstaller sweeps both patterns).
 */
export const LAUNCHD_LABEL_RE = /^(?:ai\.hermes\.gateway|io\.nousresearch\.hermes-agent\.gateway)(?:[-.][A-Za-z0-9_.-]+)?$/;

/** The labels Hermes writes whatever the list shows: the default one and the older one. */
export const HERMES_DEFAULT_LABELS = ['ai.hermes.gateway', 'io.nousresearch.hermes-agent.gateway'] as const;

/** One row of the `launchctl list` table. `pid` 0 when `-`; `status` null when not a number. */
export interface LaunchctlListRow {
  pid: number;
  status: number | null;
  label: string;
}

/**
 * Parses the `launchctl list` table. Returns null when the text is not that table (no header and no
 * line with three tab- or space-separated fields), so the caller can say "unknown".
 */
export function parseLaunchctlList(text: string): LaunchctlListRow[] | null {
  const rows: LaunchctlListRow[] = [];
  let header = false;
  let bad = 0;
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    if (/^PID\s+Status\s+Label\s*$/.test(line.trim())) {
      header = true;
      continue;
    }
    const f = line.includes('\t') ? line.split('\t') : line.trim().split(/\s+/);
    if (f.length < 3 || !/^(-|\d+)$/.test(f[0]!.trim()) || !/^-?\d+$|^-$/.test(f[1]!.trim())) {
      bad++;
      continue;
    }
    const pid = f[0]!.trim() === '-' ? 0 : Number(f[0]!.trim());
    const st = f[1]!.trim();
    rows.push({ pid, status: st === '-' ? null : Number(st), label: f.slice(2).join('\t').trim() });
  }
  if (!header && rows.length === 0) return null;
  if (!header && bad > rows.length) return null;
  return rows;
}

/** What `launchctl list LABEL` says: PID (0 when absent), last exit status, ProgramArguments. Null when unparseable. */
export function parseLaunchctlListLabel(text: string): { pid: number; lastExitStatus: number | null; arguments: string[] } | null {
  const t = text.trim();
  if (!t.startsWith('{')) return null;
  const pid = /"PID"\s*=\s*(-?\d+)\s*;/.exec(t);
  const les = /"LastExitStatus"\s*=\s*(-?\d+)\s*;/.exec(t);
  const args: string[] = [];
  const pa = /"ProgramArguments"\s*=\s*\(([\s\S]*?)\);/.exec(t);
  if (pa) for (const m of pa[1]!.matchAll(/"((?:[^"\\]|\\.)*)"\s*;?/g)) args.push(m[1]!.replace(/\\"/g, '"'));
  const n = pid ? Number(pid[1]) : 0;
  return { pid: n > 0 ? n : 0, lastExitStatus: les ? Number(les[1]) : null, arguments: args };
}

/** What `launchctl print DOMAIN/LABEL` says. Null when the text has no `{` block (an error message) or it is cut off (unbalanced braces). */
export function parseLaunchctlPrint(
  text: string,
): { pid: number; state: string | null; plist: string | null; arguments: string[]; hermesHome: string | null } | null {
  const lines = text.split('\n');
  if (!lines.some((l) => /=\s*\{\s*$/.test(l))) return null;
  let pid = 0;
  let state: string | null = null;
  let plist: string | null = null;
  let hermesHome: string | null = null;
  const args: string[] = [];
  // Track nesting: only top-level (depth 1) keys count; arguments/environment blocks are depth 2.
  let depth = 0;
  let block: string | null = null;
  for (const raw of lines) {
    const line = raw.trim();
    if (line.endsWith('{')) {
      depth++;
      if (depth === 2) block = line.replace(/\s*=\s*\{$/, '');
      continue;
    }
    if (line === '}') {
      if (depth === 2) block = null;
      depth--;
      continue;
    }
    if (depth === 1) {
      const m = /^([a-z][a-z ]*?)\s*=\s*(.*)$/.exec(line);
      if (!m) continue;
      if (m[1] === 'pid' && /^\d+$/.test(m[2]!)) pid = Number(m[2]);
      else if (m[1] === 'state') state = m[2]!;
      else if (m[1] === 'path') plist = m[2]!;
    } else if (depth === 2 && block === 'arguments') {
      if (line) args.push(line);
    } else if (depth === 2 && block === 'environment') {
      // Only HERMES_HOME is kept; plists may carry API keys in EnvironmentVariables.
      const m = /^HERMES_HOME\s*=>\s*(.*)$/.exec(line);
      if (m) hermesHome = m[1]!;
    }
  }
  // A block that never closes was cut off: its missing `pid =` line proves nothing.
  if (depth !== 0) return null;
  return { pid, state, plist, arguments: args, hermesHome };
}

/**
 * Profile named by a label: `ai.hermes.gateway` → default, `ai.hermes.gateway-argus` / `.argus` → argus.
 * Null for an 8-hex-digit suffix: Hermes uses `sha256(HERMES_HOME)[:8]` for a home outside
 * `<root>/profiles/` (hermes_cli/gateway.py `_profile_suffix` at 306e2d2; Hermes #11187), so such a
 * suffix names no profile; the home then comes from the job's environment or its process. Null also
 * for the older `io.nousresearch.hermes-agent.gateway*` labels, whose suffix rule is not Hermes's current one.
 */
export function profileOfLabel(label: string): string | null {
  if (label === 'ai.hermes.gateway') return 'default';
  const m = /^ai\.hermes\.gateway[-.]([a-z0-9][a-z0-9_-]{0,63})$/.exec(label);
  if (!m || /^[0-9a-f]{8}$/.test(m[1]!)) return null;
  return m[1]!;
}

export interface LaunchdOptions {
  runner: CommandRunner;
  timeoutMs: number;
  /** UID whose gui/ and user/ domains are probed. */
  uid: number;
  /** launchctl binary, default `launchctl`. */
  launchctl?: string;
  /**
   * Labels to ask `launchctl print` about even when `launchctl list` does not show them (the labels
   * Hermes writes, the XPC_SERVICE_NAME of Hermes processes); only those matching LAUNCHD_LABEL_RE are asked.
   */
  extraLabels?: readonly string[];
}

/** Observes the Hermes launchd jobs of one user. Never throws: failures become status `unknown` with the reason. */
export async function observeLaunchd(opts: LaunchdOptions): Promise<SupervisorObservation> {
  const bin = opts.launchctl ?? 'launchctl';
  const t = { timeoutMs: opts.timeoutMs };
  const listed = await opts.runner(bin, ['list'], t);
  if (listed.error || listed.code !== 0) {
    const why = listed.error ?? `exit ${listed.code}: ${listed.stderr.trim().slice(0, 200)}`;
    return { kind: 'launchd', status: 'unknown', detail: `launchctl list failed: ${why}`, launchdJobs: [] };
  }
  const rows = parseLaunchctlList(listed.stdout);
  if (!rows) {
    return { kind: 'launchd', status: 'unknown', detail: `launchctl list output not understood: ${JSON.stringify(listed.stdout.slice(0, 80))}`, launchdJobs: [] };
  }
  const hermes = rows.filter((r) => LAUNCHD_LABEL_RE.test(r.label));
  const jobs: LaunchdJob[] = [];
  const problems: string[] = [];
  // `launchctl list` run over SSH, in tmux or outside the Aqua session can miss a job that runs fine in
  // gui/UID (Hermes PRs #22302, #33152): the labels Hermes writes are asked about whatever the list says.
  const listed_ = new Set(hermes.map((r) => r.label));
  for (const label of new Set([...HERMES_DEFAULT_LABELS, ...(opts.extraLabels ?? [])])) {
    if (listed_.has(label) || !LAUNCHD_LABEL_RE.test(label)) continue;
    for (const domain of [`gui/${opts.uid}`, `user/${opts.uid}`]) {
      const r = await opts.runner(bin, ['print', `${domain}/${label}`], t);
      const printed = r.error || r.code !== 0 ? null : parseLaunchctlPrint(r.stdout);
      if (!printed) continue;
      jobs.push({
        label,
        domain,
        pid: printed.pid,
        state: printed.state,
        hermesHome: printed.hermesHome,
        profile: profileOfLabel(label),
        arguments: printed.arguments,
        plist: printed.plist,
      });
      problems.push(`${label}: not in launchctl list, found by launchctl print ${domain}/${label}`);
      break;
    }
  }
  for (const row of hermes) {
    const job: LaunchdJob = { label: row.label, domain: `gui/${opts.uid}`, pid: row.pid, state: null, hermesHome: null, profile: profileOfLabel(row.label) };
    let printed: ReturnType<typeof parseLaunchctlPrint> = null;
    for (const domain of [`gui/${opts.uid}`, `user/${opts.uid}`]) {
      const r = await opts.runner(bin, ['print', `${domain}/${row.label}`], t);
      if (r.error || r.code !== 0) continue;
      printed = parseLaunchctlPrint(r.stdout);
      if (printed) {
        job.domain = domain;
        break;
      }
    }
    if (printed) {
      job.pid = printed.pid;
      job.state = printed.state;
      job.hermesHome = printed.hermesHome;
      job.arguments = printed.arguments;
      job.plist = printed.plist;
    } else {
      const r = await opts.runner(bin, ['list', row.label], t);
      const parsed = r.error || r.code !== 0 ? null : parseLaunchctlListLabel(r.stdout);
      if (parsed) {
        job.pid = parsed.pid;
        job.state = parsed.pid > 0 ? 'running' : 'not running';
        job.arguments = parsed.arguments;
      } else {
        problems.push(`${row.label}: neither launchctl print nor launchctl list ${row.label} was understood; PID from the list table only`);
        job.state = row.pid > 0 ? 'running' : 'not running';
      }
    }
    jobs.push(job);
  }
  const detail = `${jobs.length} Hermes job(s)${problems.length ? `; ${problems.join('; ')}` : ''}`;
  return { kind: 'launchd', status: 'present', detail, launchdJobs: jobs };
}
