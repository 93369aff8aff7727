/**
 * `hermes-doctor guard [--home H | --profile P] [--force] [--json] [-- COMMAND ARGS…]` and
 * `hermes-doctor guard --shell-hook bash|zsh|fish`. Thin: it scans, reads the caller, and hands
 * everything to the pure decision in src/core/guard.ts; with COMMAND it then runs it
 * (src/actions/guard/run-guarded.ts). Exit: 0 allowed (or COMMAND's own code), 1 refused, 3 usage error.
 * The decision and the runner are imported when guard runs, so declaring the command line loads neither.
 */
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { HOOK_SHELLS, type HookShell, shellHook } from '../actions/guard/hook.js';
import type { CommandContext } from '../cli/io.js';
import { colorOption, deadlineOption, s6ScanDirOption, timeoutOption } from '../cli/options.js';
import { analysisOf } from '../core/analysis.js';
import { classify } from '../core/classify.js';
import type { GuardCaller, GuardDecision } from '../core/guard.js';
import { cleanPath } from '../core/paths.js';
import { remedyScope } from '../core/remedy.js';
import { emitGuardDecision } from '../output/emit.js';
import { readActiveProfile } from '../sources/homes.js';
import type { HostSnapshot } from '../types.js';
import { scanFor } from './scan-host.js';

/** Options of the guard command, as yargs parses them. */
export interface GuardArgs {
  home?: string;
  profile?: string;
  force: boolean;
  json: boolean;
  'shell-hook'?: HookShell;
  's6-scandir'?: string;
  /** Per external command, ms (1–600000). */
  timeout: number;
  /** The whole scan, ms (100–3600000). */
  deadline?: number;
  color?: boolean;
}

/** The yargs command module; `command` is what followed `--` on the command line (split off before yargs). */
export function guardCommand(ctx: CommandContext, setCode: (code: number) => void, command: string[] | null): CommandModule<object, GuardArgs> {
  return {
    command: 'guard',
    describe: 'refuse `hermes gateway run|restart|start` from outside the supervisor of that home, or while orphans run (then run it)',
    builder: (y: Argv<object>) =>
      y
        .usage('$0 guard [--home H | --profile P] [--force] [--json] [-- COMMAND ARGS…]\n$0 guard --shell-hook bash|zsh|fish')
        .option('home', { type: 'string', describe: 'the HERMES_HOME to check (default: read from COMMAND like Hermes: -p/--profile, HERMES_HOME)' })
        .option('profile', { type: 'string', describe: 'the profile to check (under HERMES_HOME or ~/.hermes)' })
        .option('force', { type: 'boolean', default: false, describe: 'turn a refusal into a warning and proceed' })
        .option('json', { type: 'boolean', default: false, describe: 'print the decision as JSON (schema hermes-doctor.guard/v1)' })
        .option('shell-hook', { choices: HOOK_SHELLS, describe: 'print a shell function that sends `hermes … gateway run|restart|start` through the guard' })
        .option('s6-scandir', s6ScanDirOption)
        .option('timeout', timeoutOption)
        .option('deadline', deadlineOption)
        .option('color', colorOption) as unknown as Argv<GuardArgs>,
    handler: async (args: ArgumentsCamelCase<GuardArgs>) => {
      setCode(await runGuard(args, command, ctx));
    },
  };
}

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
  const { decideGuard, resolveGuardTarget } = await import('../core/guard.js');
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
  // The supervisors of the home from the analysis the report was classified from (a copy: the loop below adds to it).
  const sups = [...analysisOf(report, snap).homeSupervisorsOf(cleanPath(target.home))];
  // Units named by Hermes's convention whose home could not be read (no HERMES_HOME in Environment=, not running).
  const profile = target.home === target.root ? null : path.posix.basename(target.home);
  for (const u of report.units ?? []) {
    if (u.home !== null || sups.some((s) => s.kind === 'systemd' && s.unit === u.unit)) continue;
    if (u.unit === (profile ? `hermes-gateway-${profile}.service` : 'hermes-gateway.service')) {
      sups.push({ kind: 'systemd', unit: u.unit, mainPid: u.mainPid, state: `${u.activeState}/${u.subState}`, restart: u.restart, controlGroup: u.controlGroup });
    }
  }
  const caller = snap.platform === 'linux' ? (await import('../sources/caller.js')).readCaller() : callerFromSnapshot(snap);
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
  await emitGuardDecision(d, args, command !== null, ctx);
  if (d.exitCode !== 0) return d.exitCode;
  if (!command) return 0;
  const { runGuarded } = await import('../actions/guard/run-guarded.js');
  return runGuarded(command, ctx.stderr);
}
