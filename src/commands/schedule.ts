/**
 * `hermes-doctor schedule print|install|remove [--every 15m] [--kill] [--via systemd|systemd-user|cron|launchd]`:
 * run `hermes-doctor orphans --quiet` periodically. `print` shows what `install` would write and
 * changes nothing; `install` writes and activates; `remove` undoes exactly that. The generators and
 * installers live in src/actions/schedule/.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import type { Program, ScheduleSpec } from '../actions/schedule/job.js';
import type { SystemdScope } from '../actions/schedule/systemd.js';
import type { CommandContext } from '../cli/io.js';
import { findOnPath } from '../sources/runner.js';
import { processUid } from '../util/uid.js';

/** Schedulers. */
export const VIAS = ['systemd', 'systemd-user', 'cron', 'launchd'] as const;
export type Via = (typeof VIAS)[number];

/** Options of the schedule command, as yargs parses them. */
export interface ScheduleArgs {
  action: 'print' | 'install' | 'remove';
  every: string;
  kill: boolean;
  via?: Via;
  'unit-dir'?: string;
  'default-dependencies': boolean;
  'textfile-dir'?: string;
  home?: string[];
  profile?: string[];
  'all-users': boolean;
  's6-scandir'?: string;
  'lock-file'?: string;
  'launch-agents-dir'?: string;
  node?: string;
  cli?: string;
}

/**
 * The scheduler this host has: launchd on macOS; systemd when it is PID 1 (/run/systemd/system,
 * sd_booted(3)): the system manager for root, the user manager otherwise; else cron when crontab exists.
 *
 * @throws Error when none is found
 */
export function defaultVia(platform: NodeJS.Platform = process.platform, uid = processUid()): Via {
  if (platform === 'darwin') return 'launchd';
  if (fs.existsSync('/run/systemd/system')) return uid === 0 ? 'systemd' : 'systemd-user';
  if (findOnPath('crontab')) return 'cron';
  throw new Error('no scheduler found (no systemd running, no crontab on PATH): install cron (apt-get install cron) or pass --via');
}

/** Lock file of the cron job: /run/lock for root, the home folder otherwise (cron runs with HOME set). */
export function defaultLockFile(uid: number, homedir: string): string {
  return uid === 0 && fs.existsSync('/run/lock') ? '/run/lock/hermes-doctor.lock' : path.join(homedir, '.hermes-doctor.lock');
}

/**
 * Runs the schedule command.
 *
 * @returns 0 on success, 3 when the scheduler could not be changed (the message says why)
 */
export async function runSchedule(args: ScheduleArgs, ctx: CommandContext): Promise<number> {
  // The scheduler back ends load when `schedule` runs, not with every command line.
  const [{ defaultProgram, parseEvery }, { generateCronLine, installCron, removeCron }, { generatePlist, installLaunchd, plistPath, removeLaunchd }, { spawnRunner }, { defaultUnitDir, runtimeFlag, generateSystemdUnits, installSystemd, removeSystemd }] =
    await Promise.all([
      import('../actions/schedule/job.js'),
      import('../actions/schedule/cron.js'),
      import('../actions/schedule/launchd.js'),
      import('../actions/schedule/command-runner.js'),
      import('../actions/schedule/systemd.js'),
    ]);
  const everySec = parseEvery(args.every);
  const via = args.via ?? defaultVia();
  const spec: ScheduleSpec = {
    everySec,
    kill: args.kill,
    ...(args['textfile-dir'] ? { textfileDir: path.resolve(args['textfile-dir']) } : {}),
    ...(args.home ? { homes: args.home.map((h) => path.resolve(h)) } : {}),
    ...(args.profile ? { profiles: args.profile } : {}),
    ...(args['all-users'] ? { allUsers: true } : {}),
    ...(args['s6-scandir'] ? { s6ScanDir: path.resolve(args['s6-scandir']) } : {}),
  };
  const def = defaultProgram();
  const program: Program = { node: args.node ? path.resolve(args.node) : def.node, cli: args.cli ? path.resolve(args.cli) : def.cli };
  const uid = processUid();
  const home = os.homedir();
  const out = (lines: string[]) => ctx.stdout(lines.join('\n') + '\n');
  try {
    if (via === 'systemd' || via === 'systemd-user') {
      const scope: SystemdScope = via === 'systemd-user' ? 'user' : 'system';
      const unitDir = args['unit-dir'] ? path.resolve(args['unit-dir']) : defaultUnitDir(scope, home);
      const target = { scope, unitDir, runner: spawnRunner };
      const sc = scope === 'user' ? 'systemctl --user' : 'systemctl';
      if (args.action === 'remove') return out(await removeSystemd(target)), 0;
      const units = generateSystemdUnits(spec, program, { scope, defaultDependencies: args['default-dependencies'] });
      if (args.action === 'print') {
        const lines = [`# hermes-doctor schedule install --via ${via} would write ${Object.keys(units).length} unit files and run:`, `#   ${sc} daemon-reload && ${sc} enable ${runtimeFlag(target).map((f) => f + ' ').join('')}--now hermes-doctor.timer`];
        for (const [name, text] of Object.entries(units)) lines.push('', `# ---- ${path.join(unitDir, name)}`, text.trimEnd());
        return out(lines), 0;
      }
      return out(await installSystemd(units, target)), 0;
    }
    if (via === 'cron') {
      const target = { runner: spawnRunner };
      if (args.action === 'remove') return out(await removeCron(target)), 0;
      const line = generateCronLine(spec, program, {
        flock: findOnPath('flock') ?? '/usr/bin/flock',
        lockFile: args['lock-file'] ? path.resolve(args['lock-file']) : defaultLockFile(uid, home),
        hostname: os.hostname(),
      });
      if (args.action === 'print') return out([`# hermes-doctor schedule install --via cron would add this line to the crontab of ${os.userInfo().username} (other lines kept):`, line]), 0;
      return out(await installCron(line, target)), 0;
    }
    const agentsDir = args['launch-agents-dir'] ? path.resolve(args['launch-agents-dir']) : path.join(home, 'Library', 'LaunchAgents');
    const target = { agentsDir, uid, runner: spawnRunner };
    if (args.action === 'remove') return out(await removeLaunchd(target)), 0;
    const plist = generatePlist(spec, program, { logFile: path.join(home, 'Library', 'Logs', 'hermes-doctor.log') });
    if (args.action === 'print') {
      return out([`# hermes-doctor schedule install --via launchd would write ${plistPath(agentsDir)} and run: launchctl bootstrap gui/${uid} ${plistPath(agentsDir)}`, plist.trimEnd()]), 0;
    }
    return out(await installLaunchd(plist, target)), 0;
  } catch (err) {
    ctx.stderr(`hermes-doctor schedule ${args.action} --via ${via}: ${(err as Error).message}\n`);
    return 3;
  }
}

/** The yargs command module; `setCode` receives the exit code. */
export function scheduleCommand(ctx: CommandContext, setCode: (code: number) => void): CommandModule<object, ScheduleArgs> {
  return {
    command: 'schedule <action>',
    describe: 'run `orphans --quiet` periodically with systemd, cron or launchd (print, install, remove)',
    builder: (y: Argv<object>) =>
      y
        .positional('action', { choices: ['print', 'install', 'remove'] as const, describe: 'print: show what install writes; install; remove' })
        .option('every', { type: 'string', default: '15m', describe: 'interval: 30s, 5m, 15m, 1h, 1d (cron: whole minutes)' })
        .option('kill', { type: 'boolean', default: false, describe: 'the scheduled run removes orphans (passes --kill --yes)' })
        .option('via', { choices: VIAS, describe: 'scheduler', defaultDescription: 'launchd on macOS; systemd (root) or systemd-user when systemd runs; else cron' })
        .option('unit-dir', { type: 'string', describe: 'systemd unit folder', defaultDescription: '/etc/systemd/system; ~/.config/systemd/user for systemd-user' })
        .option('default-dependencies', {
          type: 'boolean',
          default: true,
          describe: 'systemd: --no-default-dependencies adds DefaultDependencies=no, ONLY for a systemd without boot targets (test namespaces)',
        })
        .option('textfile-dir', { type: 'string', describe: 'the scheduled run writes DIR/hermes_doctor.prom (node_exporter textfile collector)' })
        .option('home', { type: 'string', array: true, describe: 'the scheduled run checks only this HERMES_HOME (repeatable)' })
        .option('profile', { type: 'string', array: true, describe: 'the scheduled run checks only this profile (repeatable)' })
        .option('all-users', { type: 'boolean', default: false, describe: "the scheduled run includes other users' processes" })
        .option('s6-scandir', { type: 'string', describe: 'the scheduled run uses this s6 scan directory' })
        .option('lock-file', { type: 'string', describe: 'cron: flock file', defaultDescription: '/run/lock/hermes-doctor.lock (root), ~/.hermes-doctor.lock' })
        .option('launch-agents-dir', { type: 'string', describe: 'launchd: LaunchAgents folder', defaultDescription: '~/Library/LaunchAgents' })
        .option('node', { type: 'string', describe: 'node binary the job runs', defaultDescription: 'this node' })
        .option('cli', { type: 'string', describe: 'hermes-doctor.js the job runs', defaultDescription: 'this installation' }) as unknown as Argv<ScheduleArgs>,
    handler: async (args: ArgumentsCamelCase<ScheduleArgs>) => {
      setCode(await runSchedule(args, ctx));
    },
  };
}
