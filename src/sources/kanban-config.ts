/**
 * `kanban.dispatch_in_gateway` of a home, read from its `config.yaml` the way its gateway reads it. I/O,
 * bounded and non-blocking: the file is read only through safe-read.ts (O_NONBLOCK|O_NOFOLLOW, regular
 * files only, at most {@link MAX_CONFIG_BYTES}); a broken or unreadable file is an `unknown` answer, never
 * a throw.
 *
 * What the gateway does (gateway/run.py at v0.15.1 and gateway/kanban_watchers.py at 306e2d2,
 * `_kanban_dispatcher_watcher`): `cfg = load_config()`, `kanban_cfg = cfg.get("kanban", {})`, and the
 * dispatcher runs unless `not kanban_cfg.get("dispatch_in_gateway", True)`. `load_config()`
 * (hermes_cli/config.py) reads only `<HERMES_HOME>/config.yaml` (`get_config_path`), deep-merged over
 * `DEFAULT_CONFIG`, whose `kanban.dispatch_in_gateway` is `True`: a profile does not inherit the root's
 * file, and a home without config.yaml dispatches. The test is Python truthiness, so the string
 * `"false"` dispatches and `0`, `""`, `null` do not. PyYAML parses YAML 1.1, where `no`/`off` are false:
 * the file is parsed here as YAML 1.1 too.
 *
 * `HERMES_KANBAN_DISPATCH_IN_GATEWAY=0|false|no|off` in the gateway's environment turns it off as well;
 * that is per process and is judged by core/kanban-risk.ts, not here.
 */
import path from 'node:path';
import { parse } from 'yaml';
import type { DispatchSetting } from '../types.js';
import { safeReadText } from './safe-read.js';

/** Largest config.yaml read, bytes (Hermes configs are a few KiB). */
export const MAX_CONFIG_BYTES = 1024 * 1024;

/**
 * Python truthiness of a value YAML gave. Pure.
 *
 * @returns whether `bool(v)` is True in Python
 */
export function pythonTruthy(v: unknown): boolean {
  if (v === null || v === undefined || v === false || v === 0 || v === '') return false;
  if (typeof v === 'number' && Number.isNaN(v)) return true;
  if (Array.isArray(v)) return v.length > 0;
  if (v instanceof Map || v instanceof Set) return v.size > 0;
  if (typeof v === 'object') return Object.keys(v as object).length > 0;
  return true;
}

/**
 * The setting from the text of a config.yaml. Pure.
 *
 * @param home the HERMES_HOME the file belongs to
 * @param text the file's content, or null when the file is absent
 */
export function dispatchSettingOf(home: string, text: string | null): DispatchSetting {
  if (text === null) return { home, dispatches: 'yes', explicit: false, why: 'no config.yaml: the default kanban.dispatch_in_gateway is true' };
  let doc: unknown;
  try {
    doc = parse(text, { version: '1.1', uniqueKeys: false, maxAliasCount: 100 });
  } catch (err) {
    return { home, dispatches: 'unknown', explicit: false, why: `config.yaml is not valid YAML (${oneLine((err as Error).message)})` };
  }
  if (doc === null || doc === undefined) return { home, dispatches: 'yes', explicit: false, why: 'config.yaml is empty: the default kanban.dispatch_in_gateway is true' };
  if (typeof doc !== 'object' || Array.isArray(doc)) return { home, dispatches: 'unknown', explicit: false, why: 'config.yaml is not a mapping' };
  const kanban = (doc as Record<string, unknown>).kanban;
  if (kanban === undefined) return { home, dispatches: 'yes', explicit: false, why: 'config.yaml has no kanban section: the default kanban.dispatch_in_gateway is true' };
  if (kanban === null || typeof kanban !== 'object' || Array.isArray(kanban)) return { home, dispatches: 'unknown', explicit: false, why: 'kanban in config.yaml is not a mapping' };
  const k = kanban as Record<string, unknown>;
  if (!('dispatch_in_gateway' in k)) return { home, dispatches: 'yes', explicit: false, why: 'config.yaml does not set kanban.dispatch_in_gateway: the default is true' };
  const v = k.dispatch_in_gateway;
  const on = pythonTruthy(v);
  return { home, dispatches: on ? 'yes' : 'no', explicit: true, why: `config.yaml sets kanban.dispatch_in_gateway: ${oneLine(JSON.stringify(v) ?? String(v))}` };
}

/** Error text on one line, control characters escaped, at most 200 characters. */
function oneLine(s: string): string {
  // eslint-disable-next-line no-control-regex
  const t = s.replace(/[\u0000-\u001f\u007f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return t.length > 200 ? `${t.slice(0, 200)}…` : t;
}

/**
 * Reads `<home>/config.yaml` and answers its `kanban.dispatch_in_gateway`. Never throws.
 *
 * @param home an absolute HERMES_HOME
 */
export function readDispatchSetting(home: string): DispatchSetting {
  const r = safeReadText(path.posix.join(home, 'config.yaml'), MAX_CONFIG_BYTES);
  if (r.ok) return dispatchSettingOf(home, r.text);
  if (r.refusal === 'missing') return dispatchSettingOf(home, null);
  return { home, dispatches: 'unknown', explicit: false, why: `config.yaml not read: ${oneLine(r.reason)}` };
}

/**
 * The homes of a kanban root that dispatch its boards, from the homes in sight: the root itself (the
 * default profile) and every `<root>/profiles/<name>` among `homes`. Sorted.
 */
export function homesOfRoot(root: string, homes: Iterable<string>): string[] {
  const out = new Set<string>([root]);
  const prefix = path.posix.join(root, 'profiles') + '/';
  for (const h of homes) {
    if (h.startsWith(prefix) && !h.slice(prefix.length).includes('/') && h.length > prefix.length) out.add(h);
  }
  return [...out].sort();
}
