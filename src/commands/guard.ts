/**
 * `hermes-doctor guard [--home H | --profile P] [--force] [--json] [-- COMMAND ARGS…]` and
 * `hermes-doctor guard --shell-hook bash|zsh|fish` (issue 4). Thin: it scans, reads the caller, and
 * hands everything to the pure decision in src/core/guard.ts; with COMMAND it then runs it
 * (src/actions/guard/run.ts). Exit: 0 allowed (or COMMAND's own code), 1 refused, 3 usage error.
 */
import { Chalk } from 'chalk';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { shellHook } from '../actions/guard/hook.js';
import { runGuarded } from '../actions/guard/run.js';
import { classify } from '../core/classify.js';
import { remedyScope } from '../core/remedy.js';
import { type GuardCaller, type GuardDecision, decideGuard, resolveGuardTarget } from '../core/guard.js';
import { identify, identifyContext } from '../core/identify.js';
import { cleanPath } from '../core/paths.js';
import { supervisorsByHome } from '../core/supervision.js';
import { colorWanted } from '../output/color.js';
import { renderGuardText } from '../output/guard-text.js';
import { renderJsonDocument, textModel } from '../output/redact.js';
import { readCaller } from '../sources/caller.js';
import { readActiveProfile } from '../sources/homes.js';
import type { HostSnapshot } from '../types.js';
import type { CommandContext } from './context.js';
import type { GuardArgs } from './guard-command.js';
import { scanFor } from './orphans.js';

/** Exit code of a usage error. */
const EXIT_USAGE = 3;

/** The caller's passwd home (for a unit without HOME), or null. */
function passwdHome(): string | null {
  try {
    return os.userInfo().homedir || null;
  } catch {
    return null;
  }
}

/** How the hook should call this very hermes-doctor: node and the bin script. */
function selfInvocation(): string[] {
  const bin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'hermes-doctor.js');
  return [process.execPath, bin];
}

/**
 * Decides for this caller; pure apart from the scan and /proc reads.
 *
 * @param command COMMAND after `--`, or null
 */
export async function guardDecision(args: GuardArgs, command: string[] | null, ctx: CommandContext): Promise<GuardDecision> {
  const { target, judged } = resolveGuardTarget({
    ...(args.home ? { home: args.home } : {}),
    ...(args.profile ? { profile: args.profile } : {}),
    command,
    env: process.env,
    userHome: passwdHome(),
    activeProfile: readActiveProfile,
  });
  // The guard's --profile names its target, not a report filter: only the scan options go to the scan.
  const snap = await scanFor({ 's6-scandir': args['s6-scandir'], timeout: args.timeout, ...(args.deadline !== undefined ? { deadline: args.deadline } : {}), home: [target.home] }, ctx);
  const report = classify(snap);
  const ids = new Map(snap.processes.map((p) => [p.pid, identify(p, identifyContext(snap))]));
  const byHome = supervisorsByHome(snap, (pid) => ids.get(pid)?.hermesHome ?? null);
  const sups = [...(byHome.get(cleanPath(target.home)) ?? [])];
  // Units named by Hermes's convention whose home could not be read (no HERMES_HOME in Environment=, not running).
  const profile = target.home === target.root ? null : path.posix.basename(target.home);
  for (const u of report.units ?? []) {
    if (u.home !== null || sups.some((s) => s.kind === 'systemd' && s.unit === u.unit)) continue;
    if (u.unit === (profile ? `hermes-gateway-${profile}.service` : 'hermes-gateway.service')) {
      sups.push({ kind: 'systemd', unit: u.unit, mainPid: u.mainPid, state: `${u.activeState}/${u.subState}`, restart: u.restart, controlGroup: u.controlGroup });
    }
  }
  const caller = snap.platform === 'linux' ? readCaller() : callerFromSnapshot(snap);
  return decideGuard({ report, supervisors: sups, target, caller, judged, force: args.force, scope: remedyScope(snap) });
}

/**
 * The caller off Linux (macOS, Windows): no cgroups; its ancestry is the scanner's own parent chain from
 * the portable process table (HostSnapshot.scannerPids, nearest first), with argv where the scan kept
 * it. INVOCATION_ID is still reported, never trusted.
 */
export function callerFromSnapshot(snap: HostSnapshot, env: NodeJS.ProcessEnv = process.env): GuardCaller {
  const argvOf = new Map(snap.processes.map((p) => [p.pid, p.argv]));
  const [self = process.pid, ...up] = snap.scannerPids;
  return { pid: self, cgroups: [], ancestors: up.map((pid) => ({ pid, argv: argvOf.get(pid) ?? [] })), invocationId: env.INVOCATION_ID !== undefined };
}

/** The command handler; returns the exit code. */
export async function runGuard(args: GuardArgs, command: string[] | null, ctx: CommandContext): Promise<number> {
  if (args['shell-hook']) {
    if (command || args.home || args.profile || args.force) {
      ctx.stderr('hermes-doctor guard: --shell-hook takes no other option and no COMMAND\n');
      return EXIT_USAGE;
    }
    ctx.stdout(shellHook(args['shell-hook'], selfInvocation()));
    return 0;
  }
  if (args.home && args.profile) {
    ctx.stderr('hermes-doctor guard: give --home or --profile, not both\n');
    return EXIT_USAGE;
  }
  if (command && command.length === 0) {
    ctx.stderr('hermes-doctor guard: nothing after --\n');
    return EXIT_USAGE;
  }
  const d = await guardDecision(args, command, ctx);
  const c = new Chalk({ level: (args.color ?? colorWanted(process.stderr)) ? 1 : 0 });
  if (args.json) ctx.stdout(renderJsonDocument(d));
  else if (d.problems.length > 0 || d.warnings.length > 0 || !command) ctx.stderr(renderGuardText(textModel(d), { red: c.red, yellow: c.yellow, bold: c.bold }));
  if (d.exitCode !== 0) return d.exitCode;
  if (!command) return 0;
  return runGuarded(command, ctx.stderr);
}
