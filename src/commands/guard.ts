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
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import { HOOK_SHELLS, type HookShell, shellHook } from '../actions/guard/hook.js';
import { runGuarded } from '../actions/guard/run.js';
import { classify } from '../core/classify.js';
import { type GuardDecision, decideGuard, renderGuardText, resolveGuardTarget } from '../core/guard.js';
import { identify } from '../core/identify.js';
import { cleanPath } from '../core/paths.js';
import { supervisorsByHome } from '../core/supervision.js';
import { colorWanted } from '../output/table.js';
import { readCaller } from '../sources/caller.js';
import { readActiveProfile } from '../sources/homes.js';
import { scanHost } from '../sources/index.js';
import type { CommandContext } from './context.js';

/** Options of the guard command, as yargs parses them. */
export interface GuardArgs {
  home?: string;
  profile?: string;
  force: boolean;
  json: boolean;
  'shell-hook'?: HookShell;
  's6-scandir'?: string;
  timeout: number;
  color?: boolean;
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
  const { target, judged } = resolveGuardTarget({
    ...(args.home ? { home: args.home } : {}),
    ...(args.profile ? { profile: args.profile } : {}),
    command,
    env: process.env,
    userHome: passwdHome(),
    activeProfile: readActiveProfile,
  });
  const snap = await scanHost({
    ...(args['s6-scandir'] ? { s6ScanDir: args['s6-scandir'] } : {}),
    extraHomes: [target.home],
    timeoutMs: args.timeout,
    ...ctx.scan,
  });
  const report = classify(snap);
  const ids = new Map(snap.processes.map((p) => [p.pid, identify(p, { userHomes: snap.userHomes ?? {}, activeProfiles: snap.activeProfiles ?? {} })]));
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
  const caller = readCaller();
  return decideGuard({ report, supervisors: sups, target, caller, judged, force: args.force });
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
  if (args.json) ctx.stdout(JSON.stringify(d, null, 2) + '\n');
  else if (d.problems.length > 0 || d.warnings.length > 0 || !command) ctx.stderr(renderGuardText(d, { red: c.red, yellow: c.yellow, bold: c.bold }));
  if (d.exitCode !== 0) return d.exitCode;
  if (!command) return 0;
  return runGuarded(command, ctx.stderr);
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
        .option('s6-scandir', { type: 'string', describe: 's6 scan directory', defaultDescription: '/run/service' })
        .option('timeout', { type: 'number', default: 3000, describe: 'timeout of each external command (systemctl, s6-svstat), ms' })
        .option('color', { type: 'boolean', describe: 'force colour on or off (default: TTY and no NO_COLOR)' }) as unknown as Argv<GuardArgs>,
    handler: async (args: ArgumentsCamelCase<GuardArgs>) => {
      setCode(await runGuard(args, command, ctx));
    },
  };
}
