/**
 * Apps that manage a gateway without being a supervisor the sources observe: the web UI (the
 * EKKOLearnAI/hermes-studio Node server, packages/server/src/services/hermes/gateway-runner.ts) and the
 * Hermes Desktop app (Electron, hermes-agent apps/desktop). A
 * gateway belongs to one while that app is its living parent; when the app is gone the gateway is a
 * ghost that nothing will stop (hermes-studio #1321).
 */
import type { HostSnapshot, ProcessRecord, SupervisorRef } from '../../types.js';
import { isWebUiArgv, normaliseToken } from '../argv.js';
import { type SupervisionContext, parentGone } from './rules.js';

/** True when argv is the Hermes Desktop app (Electron, hermes-agent apps/desktop): `…/Hermes.app/Contents/MacOS/…`, `Hermes Desktop.exe`, or electron running a hermes app. */
export function isDesktopAppArgv(argv: readonly string[]): boolean {
  if (argv.length === 0) return false;
  const first = normaliseToken(argv[0]!);
  if (/hermes[^/]*\.app\/contents\/macos\//.test(first)) return true;
  const base = first.slice(first.lastIndexOf('/') + 1);
  if (/^hermes[ _-]?desktop(\.exe)?$/.test(base)) return true;
  return /^electron(\.exe)?$/.test(base) && argv.some((a) => /hermes/i.test(a) && /desktop/i.test(a));
}

/** The environment signature of a gateway spawned by the web UI (hermes-studio gateway-runner.ts): a port variable and API_SERVER_ENABLED=1. */
export function hasWebUiGatewayEnv(p: ProcessRecord): boolean {
  return (p.env.GATEWAY_PORT !== undefined || p.env.HERMES_GATEWAY_PORT !== undefined) && p.env.API_SERVER_ENABLED === '1';
}

/**
 * The environment signature of a Desktop-managed backend or gateway: HERMES_DESKTOP=1 from hermes-agent
 * apps/desktop; HERMES_DESKTOP_MANAGED from newer upstream gateway/control_socket.py (after 306e2d2).
 */
export function hasDesktopEnv(p: ProcessRecord): boolean {
  return p.env.HERMES_DESKTOP_MANAGED !== undefined || p.env.HERMES_DESKTOP === '1';
}

function isNodeArgv(argv: readonly string[]): boolean {
  const first = argv[0] ? normaliseToken(argv[0]) : '';
  const base = first.slice(first.lastIndexOf('/') + 1);
  return /^node(js)?(\.exe)?$/.test(base);
}

function portText(p: ProcessRecord, snap: HostSnapshot): string {
  const h = snap.portHolders?.find((x) => x.forPid === p.pid);
  if (!h) return '';
  if (h.pids.length === 0) return `; nothing listens on its ${h.variable} ${h.port}`;
  return `; ${h.variable} ${h.port} is held by ${h.pids.map((pid, i) => `PID ${pid}${h.names[i] ? ` (${h.names[i]})` : ''}`).join(', ')}`;
}

/**
 * The app that owns a Hermes process by its environment signature and its living parent: the Desktop
 * app (Electron or its Node backend) with HERMES_DESKTOP, or the web UI's Node server with GATEWAY_PORT
 * and API_SERVER_ENABLED=1. Null when none applies.
 */
export function appOwnerByEnv(p: ProcessRecord, ctx: SupervisionContext): SupervisorRef | null {
  const parent = ctx.byPid.get(p.ppid);
  if (!parent || parentGone(p, ctx.byPid) || !ctx.cmdOf(p)) return null;
  if (hasDesktopEnv(p) && (isDesktopAppArgv(parent.argv) || isNodeArgv(parent.argv))) {
    return { kind: 'desktop', unit: `Desktop app PID ${parent.pid}`, mainPid: parent.pid, via: `child of the Desktop app (HERMES_DESKTOP in its environment)${portText(p, ctx.snap)}` };
  }
  if (hasWebUiGatewayEnv(p) && isNodeArgv(parent.argv)) {
    return { kind: 'web-ui', unit: `web UI PID ${parent.pid}`, mainPid: parent.pid, via: `child of the web UI server (GATEWAY_PORT, API_SERVER_ENABLED=1)${portText(p, ctx.snap)}` };
  }
  return null;
}

/** The web UI that owns a process because the web UI's server is its parent (any environment), or null. */
export function webUiParentOwner(parent: ProcessRecord): SupervisorRef | null {
  if (!isWebUiArgv(parent.argv)) return null;
  return { kind: 'web-ui', unit: `web UI PID ${parent.pid}`, mainPid: parent.pid, via: 'child of the web UI server' };
}

/**
 * The app that managed a gateway and is gone: a gateway with the web-UI or Desktop environment
 * signature whose parent app no longer lives (PPID 1 or missing). Such a gateway is a ghost: nothing
 * will stop it, and its app will start another (hermes-studio gateway-runner.ts respawns; hermes-studio #1321). Null otherwise.
 */
export function abandonedByApp(p: ProcessRecord, ctx: SupervisionContext): SupervisorRef | null {
  if (ctx.cmdOf(p)?.command !== 'gateway' || !parentGone(p, ctx.byPid)) return null;
  if (hasDesktopEnv(p)) return { kind: 'desktop', unit: 'Desktop app (gone)', mainPid: null, via: `HERMES_DESKTOP in its environment but its Desktop parent is gone (PPID ${p.ppid})${portText(p, ctx.snap)}` };
  if (hasWebUiGatewayEnv(p)) return { kind: 'web-ui', unit: 'web UI (gone)', mainPid: null, via: `GATEWAY_PORT and API_SERVER_ENABLED=1 in its environment but its web UI parent is gone (PPID ${p.ppid})${portText(p, ctx.snap)}` };
  return null;
}
