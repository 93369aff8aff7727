/**
 * Windows Scheduled Task rules: a task `Hermes_Gateway*` has no PID of its own (schtasks /query /fo csv
 * /v, src/sources/supervisors/windows-task.ts). It owns a gateway when a living ancestor runs its
 * launcher (`<HOME>/gateway-service/<Task>.vbs|.cmd|.js`), or, for a gateway of the task's HERMES_HOME,
 * when HERMES_GATEWAY_DETACHED=1 is set or the gateway has the task's exact launch shape and its launcher
 * exited (the .vbs runs it with `Run …, 0, False`). Its restart is `schtasks /Run /TN "NAME"`.
 * docs/platforms.md.
 */
import type { HostSnapshot, WindowsTask } from '../../types.js';
import { cleanPath } from '../paths.js';
import { type SupervisorRules, judgedByProcessPid, parentGone } from './rules.js';

function tasksOf(snap: HostSnapshot): WindowsTask[] {
  return snap.supervisors.flatMap((s) => s.windowsTasks ?? []);
}

export const windowsTaskRules: SupervisorRules = {
  kind: 'windows-task',
  pidName: 'PID',

  owns(p, ctx) {
    const tasks = tasksOf(ctx.snap);
    if (tasks.length === 0) return null;
    const cmd = ctx.cmdOf(p);
    if (cmd?.command !== 'gateway') return null;
    const tl = p.platformHints?.taskLauncher;
    if (tl) {
      const t = tasks.find((x) => x.launcher && x.launcher === tl.launcher);
      if (t) return { kind: 'windows-task', unit: t.name, mainPid: null, via: `launched by ${tl.launcher} (PID ${tl.pid} still alive)` };
    }
    const home = ctx.homeOf(p.pid);
    const t = home ? tasks.find((x) => x.hermesHome && cleanPath(x.hermesHome) === home) : undefined;
    if (!t) return null;
    if (p.env.HERMES_GATEWAY_DETACHED === '1') return { kind: 'windows-task', unit: t.name, mainPid: null, via: "HERMES_GATEWAY_DETACHED=1 and the task's HERMES_HOME" };
    // The .vbs launcher runs the gateway with `Run …, 0, False` and exits: a task gateway's parent is gone.
    // Hermes's launchers run `<python> -m hermes_cli.main [--profile X] gateway run` without --replace.
    const taskShaped = cmd.entry === 'hermes_cli.main' && cmd.direct && !cmd.flags.includes('--replace');
    if (taskShaped && parentGone(p, ctx.byPid)) {
      return { kind: 'windows-task', unit: t.name, mainPid: null, via: `its launcher exited (PPID ${p.ppid} gone) and it runs the task's \`-m hermes_cli.main … gateway run\` for ${t.hermesHome}` };
    }
    return null;
  },

  homeSupervisors(ctx, add) {
    for (const t of tasksOf(ctx.snap)) {
      add(t.hermesHome ? cleanPath(t.hermesHome) : null, {
        kind: 'windows-task',
        unit: t.name,
        mainPid: 0,
        state: t.state,
        restart: `schtasks /Run /TN "${t.name}"`,
      });
    }
  },

  // A task has no process of its own to protect; its gateway is protected as owned (protectedReason).
  protectsPid: () => null,

  ...judgedByProcessPid,
};
