/**
 * s6's rules: a slot owns the process s6-svstat(8) names as its PID, and any process whose living
 * parent is `s6-supervise SLOT`; its restart is `s6-svc -r DIR`, its stop `s6-svc -d DIR` (s6-svc(8)).
 * Slots come from src/sources/supervisors/s6.ts (`gateway-<profile>` in the official image's
 * /run/service).
 */
import type { HostSnapshot, S6Slot } from '../../types.js';
import { s6SuperviseSlot } from '../argv.js';
import { cleanPath, homeForProfile, rootOfHome } from '../paths.js';
import { shellCommand } from '../shell-quote.js';
import { type HomeSupervisor, type SupervisorRules, ancestorIsProcessOf, describeOwnerDefault, noAncestorText } from './rules.js';

/** Every s6 slot the snapshot's observations hold. */
function slotsOf(snap: HostSnapshot): S6Slot[] {
  return snap.supervisors.flatMap((s) => s.s6Slots ?? []);
}

/** The gateway home an s6 slot runs: run script HERMES_HOME (+ `-p`), else null. */
export function slotHome(s: S6Slot): string | null {
  if (!s.hermesHome) return null;
  const root = rootOfHome(s.hermesHome);
  if (s.profile && s.profile !== 'default' && cleanPath(s.hermesHome) === root) return homeForProfile(root, s.profile);
  return cleanPath(s.hermesHome);
}

export const s6Rules: SupervisorRules = {
  kind: 's6',
  pidName: 'PID',

  owns(p, ctx) {
    for (const s of slotsOf(ctx.snap)) {
      if (s.pid > 0 && s.pid === p.pid) return { kind: 's6', unit: s.name, mainPid: s.pid, via: 'slot PID (s6-svstat)' };
    }
    return null;
  },

  ownsAsChild(p, parent, ctx) {
    const slot = s6SuperviseSlot(parent.argv);
    if (!slot) return null;
    const s = slotsOf(ctx.snap).find((x) => x.name === slot);
    return { kind: 's6', unit: slot, mainPid: s?.pid || p.pid, via: `child of s6-supervise ${slot} (PID ${parent.pid})` };
  },

  homeSupervisors(ctx, add) {
    const { snap } = ctx;
    for (const s of slotsOf(snap)) {
      const hs: HomeSupervisor = {
        kind: 's6',
        unit: s.name,
        mainPid: s.pid,
        state: s.up ? 'up' : 'down',
        restart: shellCommand(['s6-svc', '-r', s.dir]),
      };
      const home = slotHome(s);
      add(home, hs);
      if (s.pid > 0 && ctx.byPid.has(s.pid)) add(ctx.homeOf(s.pid), hs);
      // A slot with no home in its run script and no process: match by profile name when one root is in sight.
      if (!home && !(s.pid > 0) && s.profile) {
        const roots = new Set(snap.homes.map((h) => h.root));
        if (roots.size === 1) add(homeForProfile([...roots][0]!, s.profile), hs);
      }
    }
  },

  protectsPid(pid, snap) {
    for (const s of slotsOf(snap)) {
      if (s.pid > 0 && s.pid === pid) return `PID ${pid} is the supervised process of s6 slot ${s.name}`;
    }
    return null;
  },

  describeOutside(_rec, s) {
    return [s.mainPid > 0 ? `not the PID ${s.mainPid} of s6 slot ${s.unit}` : `s6 slot ${s.unit} is ${s.state}`];
  },

  describeOwner: describeOwnerDefault,

  stopCommand(ref, snap) {
    return shellCommand(['s6-svc', '-d', slotsOf(snap).find((x) => x.name === ref.unit)?.dir ?? ref.unit]);
  },

  callerInside(sup, caller) {
    for (const a of caller.ancestors) {
      const inside = ancestorIsProcessOf(sup, a, 'PID');
      if (inside) return inside;
      if (s6SuperviseSlot(a.argv) === sup.unit) return { kind: 's6', unit: sup.unit, via: `its ancestor PID ${a.pid} is s6-supervise ${sup.unit}` };
    }
    return null;
  },

  describeCallerOutside(_caller, s) {
    return [noAncestorText(s), `no ancestor is s6-supervise ${s.unit}`];
  },
};
