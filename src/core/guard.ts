/**
 * The guard's decision, pure: may a gateway command (`hermes … gateway run|restart|start`) run from
 * this caller for this HERMES_HOME? See hermes-agent #35240.
 *
 * It refuses (exit 1) when
 *   1. a supervisor (systemd unit, s6 slot, launchd job, Windows task) exists for the home and the
 *      caller is not inside it. Inside is judged by the caller's OWN cgroup (its systemd cgroup lies in
 *      the unit's ControlGroup) and ancestry (an ancestor is the unit's MainPID, the s6 slot's PID or
 *      `s6-supervise <slot>`, the launchd job's PID). Environment markers such as INVOCATION_ID prove
 *      nothing: desktop terminals set it for every shell (hermes-agent PR #85990);
 *   2. orphans, duplicates, ghosts or a rival dispatcher already run for that home or its kanban root:
 *      a `--replace` only ever sees the pid-file process, the others would survive it.
 * `--force` turns a refusal into a warning. Nothing here reads the host: the command gathers the
 * report, the home's supervisors and the caller; src/output/guard-text.ts renders the decision.
 */
import type { CgroupLine, ProcessVerdict, Report, Verdict } from '../types.js';
import { parseHermesArgv } from './argv.js';
import { ACTIVE_PROFILE_SKIP_ENV } from './identify.js';
import { cleanPath, homeForProfile, rootOfHome } from './paths.js';
import { type HomeSupervisor, rulesFor } from './supervision/index.js';
import { type RemedyScope, killRemedy } from './remedy.js';

/** JSON schema tag of `hermes-doctor guard --json`. */
export const GUARD_SCHEMA = 'hermes-doctor.guard/v1';

/** The process that asks, and its ancestors, as /proc shows them. */
export interface GuardCaller {
  /** PID of the guard itself. */
  pid: number;
  /** The guard's own cgroup lines (/proc/self/cgroup, v2 `0::` and v1 `name=systemd`). */
  cgroups: CgroupLine[];
  /** The parent chain, nearest first, up to (and including) PID 1: pid and argv of each. */
  ancestors: { pid: number; argv: string[] }[];
  /** Whether INVOCATION_ID is set in the caller's environment (reported, never trusted). */
  invocationId: boolean;
}

/** The HERMES_HOME a gateway command would use, and how it was found. */
export interface GuardTarget {
  home: string;
  /** Kanban root (the root of the home: all profiles of a root share `<root>/kanban.db`). */
  root: string;
  /** `--home`, `--profile argus`, `argv -p argus`, `env HERMES_HOME`, `default ~/.hermes`, … */
  source: string;
  /** The command that would run, when one was given. */
  command: string[] | null;
}

/** A process that already runs outside its supervisor for the target's home or kanban root. */
export interface GuardRival {
  pid: number;
  verdict: Verdict;
  role: string;
  home: string | null;
  argv: string[];
  /** Why it counts: same home, or same kanban root (a second dispatcher / writer). */
  why: string;
}

/** The answer. `exitCode` 0 = run, 1 = refused. */
export interface GuardDecision {
  schema: typeof GUARD_SCHEMA;
  target: GuardTarget;
  /** The command is a gateway runtime command the guard judges (`gateway run|restart|start`), or no command was given. */
  judged: boolean;
  /** Supervisors that exist for the home. */
  supervisors: { kind: string; unit: string; state: string; mainPid: number; restart: string }[];
  /** The supervisor the caller runs inside, and the proof; null when outside all of them. */
  inside: { kind: string; unit: string; via: string } | null;
  rivals: GuardRival[];
  /** Why it refuses (empty when nothing is wrong). */
  problems: string[];
  /** Exact commands that do it the right way. */
  remedies: string[];
  /** What could not be seen (a supervisor whose state is unknown): the decision may miss a unit. */
  warnings: string[];
  /** A refusal was turned into a warning by --force. */
  forced: boolean;
  /** Whether the command may run. */
  allowed: boolean;
  exitCode: 0 | 1;
}

const RIVAL_VERDICTS: ReadonlySet<Verdict> = new Set(['orphan', 'duplicate', 'ghost']);
const JUDGED_SUBS = new Set(['run', 'restart', 'start']);

/**
 * The supervisor the caller runs inside, with the proof, or null. Pure. The proofs are the kind's own
 * (./supervision/<kind>.ts `callerInside`): the caller's own systemd cgroup lies in the unit's
 * ControlGroup, or an ancestor is the supervisor's process (MainPID, slot PID, job PID) or runner
 * (`s6-supervise SLOT`).
 *
 * @param sup a supervisor of the target home
 * @param caller the guard's own cgroups and ancestry
 */
export function callerInside(sup: HomeSupervisor, caller: GuardCaller): { kind: string; unit: string; via: string } | null {
  return rulesFor(sup.kind).callerInside(sup, caller);
}

/** Whether a command line is a gateway runtime command the guard must judge (`gateway run|restart|start`). */
export function isJudgedGatewayCommand(gatewaySub: string | null | undefined, command: string | null | undefined): boolean {
  return command === 'gateway' && JUDGED_SUBS.has(gatewaySub ?? 'run');
}

export interface GuardInput {
  report: Report;
  /** Supervisors that exist for the target home (the analysis's homeSupervisorsOf, src/core/analysis.ts). */
  supervisors: HomeSupervisor[];
  target: GuardTarget;
  caller: GuardCaller;
  /** False when a COMMAND was given that is not `gateway run|restart|start`: then nothing is judged. */
  judged: boolean;
  force: boolean;
  /** Platform and scan flags the kill remedy repeats (./remedy.ts); default: Linux, default flags. */
  scope?: RemedyScope;
}

/**
 * Decides. Pure: the same inputs always give the same decision.
 *
 * @returns the decision; `exitCode` 1 when refused and not forced, else 0
 */
export function decideGuard(input: GuardInput): GuardDecision {
  const { report, target, caller } = input;
  const home = cleanPath(target.home);
  const root = cleanPath(target.root || rootOfHome(home));
  const sups = input.supervisors.map((s) => ({ kind: s.kind, unit: s.unit, state: s.state, mainPid: s.mainPid, restart: s.restart }));
  const problems: string[] = [];
  const remedies: string[] = [];
  let inside: GuardDecision['inside'] = null;
  for (const s of input.supervisors) {
    inside = callerInside(s, caller);
    if (inside) break;
  }
  const ancestorPids = new Set([caller.pid, ...caller.ancestors.map((a) => a.pid)]);
  const rivals: GuardRival[] = [];
  const consider = (p: ProcessVerdict) => {
    if (ancestorPids.has(p.pid) || !RIVAL_VERDICTS.has(p.verdict)) return;
    if (p.role !== 'gateway' && p.role !== 'dispatcher-daemon') return;
    const sameHome = p.hermesHome !== null && cleanPath(p.hermesHome) === home;
    const sameRoot = p.kanbanRoot !== null && cleanPath(p.kanbanRoot) === root;
    if (!sameHome && !sameRoot) return;
    rivals.push({
      pid: p.pid,
      verdict: p.verdict,
      role: p.role,
      home: p.hermesHome,
      argv: p.argv,
      why: sameHome ? `runs for ${home}` : `${p.role === 'dispatcher-daemon' ? 'a rival dispatcher' : 'a gateway'} on the same kanban root ${root} (it writes ${root}/kanban.db)`,
    });
  };
  if (input.judged) {
    for (const p of report.processes) consider(p);
    if (input.supervisors.length > 0 && !inside) {
      for (const s of input.supervisors) {
        problems.push(
          `${s.unit} (${s.kind}, ${s.state}${s.mainPid > 0 ? `, ${rulesFor(s.kind).pidName} ${s.mainPid}` : ''}) supervises ${home}, and this caller is outside it: ` +
            describeCaller(caller, s) +
            '; a gateway started here would escape it and become a second writer on the kanban database (hermes-agent #35240)',
        );
        remedies.push(s.restart);
      }
    }
    if (rivals.length > 0) {
      problems.push(
        `${rivals.length} process(es) already run outside their supervisor for this home or kanban root: ${rivals.map((r) => `PID ${r.pid} (${r.verdict} ${r.role}, ${r.why})`).join('; ')}; a --replace only sees the gateway.pid process, these would survive it`,
      );
      remedies.unshift(killRemedy(rivals.map((r) => r.pid), input.scope ?? { platform: 'linux', s6ScanDir: null, homes: [] }));
    }
  }
  const warnings = input.judged
    ? report.supervisors.filter((s) => s.status === 'unknown').map((s) => `${s.kind} is unknown (${s.detail}): a ${s.kind} supervisor of this home would be missed`)
    : [];
  const refused = problems.length > 0;
  const forced = refused && input.force;
  return {
    schema: GUARD_SCHEMA,
    target: { ...target, home, root },
    judged: input.judged,
    supervisors: sups,
    inside,
    rivals,
    problems,
    remedies,
    warnings,
    forced,
    allowed: !refused || forced,
    exitCode: refused && !forced ? 1 : 0,
  };
}

function describeCaller(caller: GuardCaller, s: HomeSupervisor): string {
  const bits = rulesFor(s.kind).describeCallerOutside(caller, s);
  if (caller.invocationId) bits.push('INVOCATION_ID is set but proves nothing (desktop terminals set it)');
  return bits.join(', ');
}

/** Where the guard's target comes from: flags, COMMAND's argv and the caller's environment. */
export interface TargetSource {
  /** `--home H`. */
  home?: string;
  /** `--profile P` (`default` is the root). */
  profile?: string;
  /** COMMAND after `--`, or null. */
  command: string[] | null;
  /** The caller's environment (only HERMES_HOME, HOME, HERMES_DATA_DIR_SUFFIX and the supervisor markers are read). */
  env: Record<string, string | undefined>;
  /** The caller's passwd home, used when HOME is unset. */
  userHome: string | null;
  /** Reads `<root>/active_profile` (null when absent or `default`). */
  activeProfile: (root: string) => string | null;
}

/**
 * The HERMES_HOME a gateway command would use, read the way Hermes reads it
 * (hermes_cli/main.py:_apply_profile_override, v0.15.1 and 306e2d2): `--home`, else `--profile P` under the root, else COMMAND's `-p/--profile NAME`, else env HERMES_HOME,
 * else `$HOME/.hermes` with its sticky `active_profile` (skipped under a supervisor marker, like Hermes).
 * Also says whether COMMAND is one the guard judges: a Hermes `gateway run|restart|start`, any non-Hermes
 * COMMAND (a script), or no COMMAND at all; other Hermes commands (`hermes status`) pass unjudged.
 *
 * @throws Error when no home can be determined (no HOME and no passwd home)
 */
export function resolveGuardTarget(src: TargetSource): { target: GuardTarget; judged: boolean } {
  const cmd = src.command ? parseHermesArgv(src.command) : null;
  // A Hermes command is judged only when it starts a gateway; a command that is not Hermes at all (a
  // script that starts one) is judged, because the operator asked to guard it.
  const judged = src.command && cmd ? isJudgedGatewayCommand(cmd.gatewaySub, cmd.command) : true;
  const mk = (home: string, source: string) => ({ target: { home: cleanPath(home), root: rootOfHome(cleanPath(home)), source, command: src.command }, judged });
  if (src.home) return mk(src.home, '--home');
  const envHome = src.env.HERMES_HOME ? cleanPath(src.env.HERMES_HOME) : null;
  const userHome = src.env.HOME || src.userHome;
  const defRoot = userHome ? cleanPath(`${userHome}/.hermes${src.env.HERMES_DATA_DIR_SUFFIX ?? ''}`) : null;
  const root = envHome ? rootOfHome(envHome) : defRoot;
  if (!root) throw new Error('cannot tell which HERMES_HOME: HOME is not set; pass --home');
  if (src.profile) return mk(src.profile === 'default' ? root : homeForProfile(root, src.profile), `--profile ${src.profile}`);
  if (cmd?.profile) return mk(cmd.profile === 'default' ? root : homeForProfile(root, cmd.profile), `argv -p ${cmd.profile}`);
  if (envHome && envHome !== root) return mk(envHome, 'env HERMES_HOME');
  const skip = ACTIVE_PROFILE_SKIP_ENV.some((k) => src.env[k] !== undefined);
  const active = skip ? null : src.activeProfile(root);
  if (active) return mk(homeForProfile(root, active), `${root}/active_profile ${active}`);
  return mk(root, envHome ? 'env HERMES_HOME' : `default ${root}`);
}
