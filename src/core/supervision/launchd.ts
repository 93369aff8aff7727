/**
 * launchd's rules: a job `ai.hermes.gateway*` owns the process launchctl(1) names as its PID; its
 * restart is `launchctl kickstart -k DOMAIN/LABEL`. Jobs come from src/sources/supervisors/launchd.ts
 * (`launchctl list` / `print`). A registered job beside the `.gateway-launchd-unsupported` marker of its
 * home (the detached fallback) supervises nothing while it has no process (docs/platforms.md).
 */
import type { HostSnapshot, LaunchdJob } from '../../types.js';
import { parseHermesArgv } from '../argv.js';
import { cleanPath, homeForProfile } from '../paths.js';
import { shellCommand } from '../shell-quote.js';
import { type SupervisorRules, judgedByProcessPid } from './rules.js';

function jobsOf(snap: HostSnapshot): LaunchdJob[] {
  return snap.supervisors.flatMap((s) => s.launchdJobs ?? []);
}

/**
 * The home a launchd job runs: its environment HERMES_HOME, its process's home (or that of the gateway
 * below its stderr wrapper), else its arguments' or label's profile under the root in sight.
 *
 * @param homeOfPid the HERMES_HOME of a PID (identify()), null when unknown
 */
export function launchdJobHome(job: LaunchdJob, snap: HostSnapshot, homeOfPid: (pid: number) => string | null): string | null {
  if (job.hermesHome) return cleanPath(job.hermesHome);
  if (job.pid > 0) {
    const own = homeOfPid(job.pid);
    if (own) return own;
    // The stderr wrapper is the job's PID; the gateway is its child.
    for (const c of snap.processes.filter((x) => x.ppid === job.pid)) {
      const h = homeOfPid(c.pid);
      if (h) return h;
    }
  }
  const cmd = job.arguments ? parseHermesArgv(job.arguments) : null;
  const profile = (cmd?.wrapped ?? cmd)?.profile ?? job.profile;
  if (!profile) return null;
  const userHome = snap.userHomes?.[String(snap.scannerUid)];
  const roots = [...new Set(snap.homes.map((h) => cleanPath(h.root)))];
  const def = userHome ? cleanPath(`${userHome}/.hermes`) : null;
  const root = def && roots.includes(def) ? def : roots.length === 1 ? roots[0]! : null;
  return root ? homeForProfile(root, profile) : null;
}

export const launchdRules: SupervisorRules = {
  kind: 'launchd',
  pidName: 'PID',

  owns(p, ctx) {
    for (const j of jobsOf(ctx.snap)) {
      if (j.pid > 0 && j.pid === p.pid) {
        const xpc = p.env.XPC_SERVICE_NAME === j.label ? '; XPC_SERVICE_NAME agrees' : '';
        return { kind: 'launchd', unit: j.label, mainPid: j.pid, via: `launchctl PID of ${j.domain}/${j.label}${xpc}` };
      }
    }
    return null;
  },

  homeSupervisors(ctx, add) {
    const { snap } = ctx;
    const homeRec = new Map(snap.homes.map((h) => [cleanPath(h.path), h]));
    for (const j of jobsOf(snap)) {
      const home = launchdJobHome(j, snap, ctx.homeOf);
      // The detached fallback (.gateway-launchd-unsupported): a registered job with no process does not supervise.
      if (home && j.pid <= 0 && homeRec.get(home)?.launchdUnsupported) continue;
      add(home, {
        kind: 'launchd',
        unit: j.label,
        mainPid: j.pid,
        state: j.state ?? (j.pid > 0 ? 'running' : 'not running'),
        restart: shellCommand(['launchctl', 'kickstart', '-k', `${j.domain}/${j.label}`]),
      });
    }
  },

  protectsPid(pid, snap) {
    for (const j of jobsOf(snap)) {
      if (j.pid > 0 && j.pid === pid) return `PID ${pid} is the process of launchd job ${j.label}`;
    }
    return null;
  },

  ...judgedByProcessPid,
};
