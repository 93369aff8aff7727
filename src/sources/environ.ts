/**
 * The environment allowlist. Process environments carry API keys and bot tokens; hermes-doctor keeps
 * only the variables below and drops every other one as soon as it is parsed. Names are exact (no
 * prefixes), so a future `HERMES_*_TOKEN` is never kept by accident.
 */

/** The only environment variables hermes-doctor reads from another process. */
export const ENV_ALLOWLIST: ReadonlySet<string> = new Set([
  // Identity (reference §1.3, §2.3)
  'HERMES_HOME',
  'HERMES_PROFILE',
  'HERMES_DATA_DIR_SUFFIX',
  'HOME',
  'USER',
  'SUDO_USER',
  // Kanban workers (kanban_db._default_spawn)
  'HERMES_KANBAN_TASK',
  'HERMES_KANBAN_DB',
  'HERMES_KANBAN_BOARD',
  'HERMES_KANBAN_HOME',
  'HERMES_KANBAN_WORKSPACES_ROOT',
  'HERMES_KANBAN_WORKSPACE',
  'HERMES_KANBAN_RUN_ID',
  'HERMES_KANBAN_CLAIM_LOCK',
  'HERMES_KANBAN_DISPATCH_IN_GATEWAY',
  // Where the Hermes source of a `python -m hermes_cli.main` comes from (sources/hermes-source.ts)
  'PYTHONPATH',
  'VIRTUAL_ENV',
  // Supervisor markers (reference §3.5)
  'HERMES_S6_SUPERVISED_CHILD',
  'HERMES_SUPERVISED_CHILD',
  'HERMES_GATEWAY_EXTERNAL_SUPERVISOR',
  'HERMES_GATEWAY_NO_SUPERVISE',
  'HERMES_GATEWAY_DETACHED',
  'INVOCATION_ID',
  'XPC_SERVICE_NAME',
  // Desktop and web UI (reference §6.3, §6.4)
  'HERMES_DESKTOP',
  'HERMES_DESKTOP_MANAGED',
  'HERMES_WEB_UI_MANAGED_GATEWAY',
  'HERMES_GATEWAY_PORT',
  'GATEWAY_PORT',
  'API_SERVER_ENABLED',
  'API_SERVER_PORT',
]);

/**
 * Parses a NUL-separated environment block (/proc/PID/environ, man 5 proc) and returns only the
 * allow-listed variables. Values of other variables are never decoded into strings.
 *
 * @param block raw bytes of the environment block
 */
export function filterEnvironBlock(block: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let start = 0;
  while (start < block.length) {
    let end = block.indexOf(0, start);
    if (end < 0) end = block.length;
    const eq = block.indexOf(0x3d, start); // '='
    if (eq > start && eq < end) {
      const name = block.toString('latin1', start, eq);
      // The first of a repeated name wins: getenv(3) and Python's os.environ (posixmodule.c
      // convertenviron, PyDict_SetDefault) both see that one, so Hermes does.
      if (ENV_ALLOWLIST.has(name) && !(name in out)) out[name] = block.toString('utf8', eq + 1, end);
    }
    start = end + 1;
  }
  return out;
}

/** Filters a key/value environment (e.g. `ps -E` output on macOS) through the allowlist. */
export function filterEnvironRecord(env: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(env)) if (v !== undefined && ENV_ALLOWLIST.has(k)) out[k] = v;
  return out;
}
