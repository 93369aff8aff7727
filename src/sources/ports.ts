/**
 * The ports a home's gateway is configured to serve, found the way Hermes finds them, and who listens
 * on them.
 *
 * Hermes at 306e2d2 (the same rules in v0.15.1):
 * - The API server platform is enabled by `API_SERVER_ENABLED` (truthy: `1`, `true`, `yes`, `on`;
 *   utils.py `is_truthy_value`) or a non-empty `API_SERVER_KEY` (gateway/config.py `_apply_env_overrides`,
 *   "API Server"), or `platforms.api_server.enabled` in config.yaml (also under `gateway.platforms`;
 *   gateway/config.py `load_gateway_config`). Its port: `API_SERVER_PORT` (the env block runs after
 *   config.yaml and wins), else `platforms.api_server.extra.port`, else 8642 (gateway/platforms/
 *   api_server.py `DEFAULT_PORT`).
 * - The webhook platform: `WEBHOOK_ENABLED` or `platforms.webhook.enabled`; port `WEBHOOK_PORT`, else
 *   `extra.port`, else 8644 (gateway/platforms/webhook.py `DEFAULT_PORT`).
 * - The environment is the gateway's own overlaid by `<HERMES_HOME>/.env`, which overrides what the shell
 *   exported (hermes_cli/env_loader.py `load_hermes_dotenv`, `override=True`).
 * `.env` holds secrets: only the enable and port variables are kept, `API_SERVER_KEY` only as "set".
 */
import fs from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { HomePortRecord } from '../types.js';
import { MAX_CONFIG_BYTES, pythonTruthy } from './kanban-config.js';
import { safeReadText } from './safe-read.js';

/** Default port of the API server platform (gateway/platforms/api_server.py `DEFAULT_PORT` at 306e2d2). */
export const API_SERVER_DEFAULT_PORT = 8642;
/** Default port of the webhook platform (gateway/platforms/webhook.py `DEFAULT_PORT` at 306e2d2). */
export const WEBHOOK_DEFAULT_PORT = 8644;
/** Largest `.env` read, bytes. */
const MAX_DOTENV_BYTES = 256 * 1024;
/** The variables of `.env` this module keeps; every other value is dropped unread. */
const PORT_ENV = ['API_SERVER_ENABLED', 'API_SERVER_PORT', 'WEBHOOK_ENABLED', 'WEBHOOK_PORT'] as const;

/** What a home's files say, before the listeners: the port and where its value came from. */
export interface ConfiguredPort {
  variable: 'API_SERVER_PORT' | 'WEBHOOK_PORT';
  port: number;
  source: string;
}

/** Hermes's truthy strings (utils.py TRUTHY_STRINGS at 306e2d2). */
function truthy(v: string | undefined): boolean {
  return v !== undefined && ['1', 'true', 'yes', 'on'].includes(v.trim().toLowerCase());
}

function portOf(v: unknown): number | null {
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\s*\d+\s*$/.test(v) ? Number(v) : NaN;
  return Number.isInteger(n) && n > 0 && n <= 65535 ? n : null;
}

/**
 * Parses the port variables out of a `.env` text (python-dotenv syntax: `KEY=VALUE`, optional `export `,
 * quotes, `#` comments). `keySet` tells whether `API_SERVER_KEY` has a non-empty value; its value is
 * never kept.
 */
export function parseDotenvPorts(text: string): { vars: Partial<Record<(typeof PORT_ENV)[number], string>>; keySet: boolean } {
  const vars: Partial<Record<(typeof PORT_ENV)[number], string>> = {};
  let keySet = false;
  for (const raw of text.split(/\r?\n/)) {
    const m = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(raw);
    if (!m) continue;
    const name = m[1]!;
    if (name !== 'API_SERVER_KEY' && !(PORT_ENV as readonly string[]).includes(name)) continue;
    let v = m[2]!.trim();
    const q = /^(['"])(.*)\1$/.exec(v);
    v = q ? q[2]! : v.replace(/\s+#.*$/, '');
    if (name === 'API_SERVER_KEY') keySet = v !== '';
    else vars[name as (typeof PORT_ENV)[number]] = v;
  }
  return { vars, keySet };
}

/** `platforms.<name>` of config.yaml, merged as Hermes merges it: `gateway.platforms` first, top-level `platforms` over it. */
function platformBlock(cfg: unknown, name: string): { enabled: unknown; port: unknown } {
  const get = (o: unknown, k: string): unknown => (typeof o === 'object' && o !== null && !Array.isArray(o) ? (o as Record<string, unknown>)[k] : undefined);
  const blocks = [get(get(get(cfg, 'gateway'), 'platforms'), name), get(get(cfg, 'platforms'), name)];
  let enabled: unknown;
  let port: unknown;
  for (const b of blocks) {
    if (get(b, 'enabled') !== undefined) enabled = get(b, 'enabled');
    if (get(get(b, 'extra'), 'port') !== undefined) port = get(get(b, 'extra'), 'port');
  }
  return { enabled, port };
}

/**
 * The ports a home's gateway serves (API server, webhook), from its `.env`, its `config.yaml` and the
 * allow-listed environment of its gateway process. Never throws; an unreadable or unparsable file counts
 * as absent (its platform may then be missed, never invented).
 *
 * @param home the HERMES_HOME
 * @param processEnv the allow-listed environment of the home's gateway process, when one runs
 */
export function configuredPorts(home: string, processEnv: Record<string, string> = {}): ConfiguredPort[] {
  const dotenvFile = path.join(home, '.env');
  const envText = safeReadText(dotenvFile, MAX_DOTENV_BYTES);
  const dot = envText.ok ? parseDotenvPorts(envText.text) : { vars: {}, keySet: false };
  const env: Record<string, { value: string; from: string }> = {};
  for (const k of PORT_ENV) {
    if (processEnv[k] !== undefined) env[k] = { value: processEnv[k]!, from: 'the gateway process environment' };
    if (dot.vars[k] !== undefined) env[k] = { value: dot.vars[k]!, from: dotenvFile };
  }
  const cfgFile = path.join(home, 'config.yaml');
  const cfgText = safeReadText(cfgFile, MAX_CONFIG_BYTES);
  let cfg: unknown = null;
  if (cfgText.ok) {
    try {
      cfg = parseYaml(cfgText.text);
    } catch {
      cfg = null;
    }
  }
  const out: ConfiguredPort[] = [];
  const one = (variable: ConfiguredPort['variable'], enableVar: string, platform: string, fallback: number, keySet: boolean) => {
    const block = platformBlock(cfg, platform);
    const enabled = truthy(env[enableVar]?.value) || keySet || pythonTruthy(block.enabled);
    if (!enabled) return;
    const fromEnv = env[variable] ? portOf(env[variable]!.value) : null;
    const fromCfg = portOf(block.port);
    if (fromEnv !== null) out.push({ variable, port: fromEnv, source: `${variable} in ${env[variable]!.from}` });
    else if (fromCfg !== null) out.push({ variable, port: fromCfg, source: `platforms.${platform}.extra.port in ${cfgFile}` });
    else out.push({ variable, port: fallback, source: `Hermes's default for the ${platform} platform` });
  };
  one('API_SERVER_PORT', 'API_SERVER_ENABLED', 'api_server', API_SERVER_DEFAULT_PORT, dot.keySet);
  one('WEBHOOK_PORT', 'WEBHOOK_ENABLED', 'webhook', WEBHOOK_DEFAULT_PORT, false);
  return out;
}

/** Who listens on some TCP ports: port → listeners, or null with the reason when it cannot be told. */
export type ListenerLookup = (ports: number[], knownPids: readonly number[]) => Promise<Map<number, { pid: number; name: string }[] | { error: string }>>;

/**
 * Parses /proc/net/tcp or /proc/net/tcp6 (man 5 proc: `sl local_address rem_address st … uid timeout
 * inode`, addresses `HEXIP:HEXPORT`) into port → socket inodes of the sockets in state 0A (TCP_LISTEN).
 */
export function parseProcNetTcp(text: string): Map<number, number[]> {
  const out = new Map<number, number[]>();
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10 || f[3] !== '0A') continue;
    const port = parseInt(f[1]!.split(':')[1] ?? '', 16);
    const inode = Number(f[9]);
    if (!Number.isInteger(port) || !Number.isInteger(inode) || inode <= 0) continue;
    out.set(port, [...(out.get(port) ?? []), inode]);
  }
  return out;
}

/** Most processes whose fd tables the listener search reads beyond the snapshot's own. */
const MAX_FD_WALK = 100_000;

/**
 * Listeners from /proc: the LISTEN sockets of /proc/net/tcp{,6} (this network namespace), then the PID
 * whose fd table holds `socket:[inode]`. The snapshot's processes are looked at first (the home's own
 * gateway is there); only a socket none of them holds costs a walk of every fd table, and that case is
 * the one that matters (a stray holds the port). A socket found in no readable fd table while some tables
 * were unreadable is an `error`: its holder is not known, and nobody is named.
 */
export function procListeners(procRoot = '/proc'): ListenerLookup {
  return async (ports, knownPids) => {
    const sockets = new Map<number, number[]>();
    const tables: string[] = [];
    for (const f of ['net/tcp', 'net/tcp6']) {
      const r = safeReadText(path.join(procRoot, f), 16 * 1024 * 1024);
      if (!r.ok) continue;
      tables.push(f);
      for (const [port, inodes] of parseProcNetTcp(r.text)) sockets.set(port, [...(sockets.get(port) ?? []), ...inodes]);
    }
    const out = new Map<number, { pid: number; name: string }[] | { error: string }>();
    if (tables.length === 0) {
      for (const p of ports) out.set(p, { error: `${procRoot}/net/tcp not readable` });
      return out;
    }
    const wanted = new Map<number, number>();
    for (const p of ports) for (const i of sockets.get(p) ?? []) wanted.set(i, p);
    const found = new Map<number, number>();
    let unreadable = 0;
    const search = (pid: number) => {
      let fds: string[];
      try {
        fds = fs.readdirSync(path.join(procRoot, String(pid), 'fd'));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EACCES') unreadable++;
        return;
      }
      for (const fd of fds) {
        let target: string;
        try {
          target = fs.readlinkSync(path.join(procRoot, String(pid), 'fd', fd));
        } catch {
          continue;
        }
        const m = /^socket:\[(\d+)\]$/.exec(target);
        if (m && wanted.has(Number(m[1])) && !found.has(Number(m[1]))) found.set(Number(m[1]), pid);
      }
    };
    for (const pid of knownPids) search(pid);
    if (found.size < wanted.size) {
      let all: string[] = [];
      try {
        all = fs.readdirSync(procRoot).filter((d) => /^\d+$/.test(d));
      } catch {
        all = [];
      }
      const known = new Set(knownPids);
      for (const d of all.slice(0, MAX_FD_WALK)) {
        if (found.size >= wanted.size) break;
        if (!known.has(Number(d))) search(Number(d));
      }
    }
    const nameOf = (pid: number) => {
      const r = safeReadText(path.join(procRoot, String(pid), 'comm'), 256);
      return r.ok ? r.text.trim() : '';
    };
    for (const p of ports) {
      const inodes = sockets.get(p) ?? [];
      const holders = [...new Set(inodes.map((i) => found.get(i)).filter((x): x is number => x !== undefined))];
      if (holders.length < new Set(inodes).size && unreadable > 0) {
        out.set(p, { error: `port ${p} is listened on, but ${unreadable} fd table(s) could not be read: its holder is unknown` });
      } else {
        out.set(p, holders.sort((a, b) => a - b).map((pid) => ({ pid, name: nameOf(pid) })));
      }
    }
    return out;
  };
}

/**
 * The ports of every home and their listeners, as snapshot records (sorted by home, then variable).
 *
 * @param configured the configured ports of each home (configuredPorts through the scan's HostFiles)
 * @param lookup who listens (procListeners on Linux; find-process elsewhere)
 * @param knownPids the snapshot's processes, searched first
 */
export async function observeHomePorts(
  configured: readonly (ConfiguredPort & { home: string })[],
  lookup: ListenerLookup,
  knownPids: readonly number[],
): Promise<HomePortRecord[]> {
  if (configured.length === 0) return [];
  const answers = await lookup([...new Set(configured.map((c) => c.port))], knownPids);
  return configured
    .map((c): HomePortRecord => {
      const a = answers.get(c.port);
      if (!a) return { ...c, listeners: null, error: 'not looked up' };
      return 'error' in a ? { ...c, listeners: null, error: a.error } : { ...c, listeners: a };
    })
    .sort((x, y) => (x.home < y.home ? -1 : x.home > y.home ? 1 : x.variable < y.variable ? -1 : 1));
}

/**
 * A {@link ListenerLookup} over a per-port lookup (find-process: lsof or netstat underneath), for the
 * platforms without /proc. find-process answers an empty list also when its tool failed, so an empty
 * answer there says "nobody seen", which never leads to a kill by itself.
 */
export function listenersVia(lookup: (port: number) => Promise<{ pid: number; name: string }[]>): ListenerLookup {
  return async (ports) => {
    const out = new Map<number, { pid: number; name: string }[] | { error: string }>();
    for (const p of ports) {
      try {
        out.set(p, await lookup(p));
      } catch (err) {
        out.set(p, { error: `port lookup failed: ${(err as Error).message}` });
      }
    }
    return out;
  };
}
