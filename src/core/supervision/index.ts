/**
 * The supervisor kinds and the questions asked across them: who owns a process, which supervisors exist
 * for each home. Each kind's knowledge is in its rules module (./systemd.ts, ./s6.ts, ./launchd.ts,
 * ./windows-task.ts, behind ./rules.ts `SupervisorRules`); apps that manage a gateway without being an
 * observed supervisor (web UI, Desktop) are in ./apps.ts. Pure.
 */
import type { ProcessRecord, SupervisorRef } from '../../types.js';
import { cleanPath } from '../paths.js';
import { abandonedByApp, appOwnerByEnv, webUiParentOwner } from './apps.js';
import { launchdRules } from './launchd.js';
import { type HomeSupervisor, type SupervisionContext, type SupervisorKind, type SupervisorRules } from './rules.js';
import { s6Rules } from './s6.js';
import { systemdRules, workerScope } from './systemd.js';
import { windowsTaskRules } from './windows-task.js';

/** The rules of every supervisor kind, in the order their proofs are asked. */
export const SUPERVISOR_KINDS: readonly SupervisorRules[] = [systemdRules, s6Rules, launchdRules, windowsTaskRules];

const BY_KIND = new Map<string, SupervisorRules>(SUPERVISOR_KINDS.map((r) => [r.kind, r]));

/** The rules of a kind; undefined for an app (`web-ui`, `desktop`), which has none. */
export function rulesFor(kind: SupervisorKind): SupervisorRules;
export function rulesFor(kind: string): SupervisorRules | undefined;
export function rulesFor(kind: string): SupervisorRules | undefined {
  return BY_KIND.get(kind);
}

/** How the owner of a process is described in its reason: the kind's own words, `supervised by KIND UNIT (VIA)` for an app. */
export function describeOwner(ref: SupervisorRef): string {
  return rulesFor(ref.kind)?.describeOwner(ref) ?? `supervised by ${ref.kind} ${ref.unit} (${ref.via})`;
}

/**
 * The supervisor that owns a process, or null. Proofs, strongest first: each kind's own record of it
 * (systemd MainPID, then the unit's cgroup; s6 slot PID; launchd job PID; a Scheduled Task's launcher or
 * launch shape); a tool worker in a transient `hermes-worker-*.scope` takes its gateway's owner; a living
 * Desktop or web UI parent with that app's environment signature; a parent `s6-supervise SLOT`; a
 * parent web UI server; a wrapper parent that stays alive passes on its owner. Environment markers
 * (INVOCATION_ID, HERMES_S6_SUPERVISED_CHILD) are never proof alone: desktop terminals set INVOCATION_ID
 * (hermes-agent PR #85990), though Hermes itself trusts them
 * (hermes_cli/gateway.py:_running_under_gateway_supervisor at 306e2d2).
 */
export function ownerOf(p: ProcessRecord, ctx: SupervisionContext): SupervisorRef | null {
  for (const r of SUPERVISOR_KINDS) {
    const ref = r.owns(p, ctx);
    if (ref) return ref;
  }
  // A tool worker that newer Hermes moved into a transient `hermes-worker-*.scope` (systemd-run --user
  // --scope, hermes-agent PR #93333, after 306e2d2) sits outside the service cgroup but belongs to the
  // gateway that started it.
  const scope = workerScope(p);
  if (scope) {
    let cur = ctx.byPid.get(p.ppid);
    for (let depth = 0; cur && depth < 8; depth++, cur = ctx.byPid.get(cur.ppid)) {
      if (ctx.cmdOf(cur)?.command !== 'gateway') continue;
      const up = ownerOf(cur, ctx);
      if (up) return { ...up, via: `worker scope ${scope} of gateway PID ${cur.pid} (${up.via})` };
      break;
    }
  }
  const app = appOwnerByEnv(p, ctx);
  if (app) return app;
  const parent = ctx.byPid.get(p.ppid);
  if (parent) {
    for (const r of SUPERVISOR_KINDS) {
      const ref = r.ownsAsChild?.(p, parent, ctx);
      if (ref) return ref;
    }
    const web = webUiParentOwner(parent);
    if (web) return web;
    // A launcher that stays alive as the parent (sudo, doppler, the launchd stderr wrapper) passes on its owner.
    const pc = ctx.cmdOf(parent);
    if (pc && (pc.command === 'wrapper' || !pc.direct)) {
      const up = ownerOf(parent, ctx);
      if (up) return { ...up, via: `${up.via} of its wrapper PID ${parent.pid}` };
    }
  }
  return null;
}

/** Proofs off Linux only (launchd job PID, Scheduled Task, living web UI / Desktop parent), strongest first; null when none applies. */
export function platformOwnerOf(p: ProcessRecord, ctx: SupervisionContext): SupervisorRef | null {
  return launchdRules.owns(p, ctx) ?? windowsTaskRules.owns(p, ctx) ?? appOwnerByEnv(p, ctx);
}

/** The app (web UI, Desktop) that managed a gateway and is gone, or null (./apps.ts). */
export function abandonedBy(p: ProcessRecord, ctx: SupervisionContext): SupervisorRef | null {
  return abandonedByApp(p, ctx);
}

/**
 * The order in which kinds add their supervisors to a home's list (systemd before s6 where a home has
 * both): the first of a home is the one an orphan's finding names, with its restart command.
 */
const HOME_ORDER: readonly SupervisorRules[] = [launchdRules, windowsTaskRules, systemdRules, s6Rules];

/**
 * Supervisors that exist for each home (installed units, s6 slots, launchd jobs, Scheduled Tasks),
 * keyed by home path (cleaned), each home's list in the order the kinds report them.
 */
export function homeSupervisors(ctx: SupervisionContext): Map<string, HomeSupervisor[]> {
  const out = new Map<string, HomeSupervisor[]>();
  const add = (home: string | null, hs: HomeSupervisor) => {
    if (!home) return;
    const k = cleanPath(home);
    const list = out.get(k) ?? [];
    if (!list.some((x) => x.kind === hs.kind && x.unit === hs.unit)) list.push(hs);
    out.set(k, list);
  };
  for (const r of HOME_ORDER) r.homeSupervisors(ctx, add);
  return out;
}


export type { AddHomeSupervisor, CallerInside, HomeSupervisor, SupervisionContext, SupervisorKind, SupervisorRules } from './rules.js';
export { supervisionContext } from './rules.js';
