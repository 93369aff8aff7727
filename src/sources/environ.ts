/**
 * The environment allowlist. Process environments carry API keys and bot tokens; hermes-doctor keeps
 * only the variables below and drops every other one as soon as it is parsed. Names are exact (no
 * prefixes), so a future `HERMES_*_TOKEN` is never kept by accident.
 */

/** The only environment variables hermes-doctor reads from another process. */
export const ENV_ALLOWLIST: ReadonlySet<string> = new Set([
  // Identity: HERMES_HOME from hermes_cli/main.py:_apply_profile_override, HERMES_PROFILE from
  // hermes_cli/kanban_db.py:_default_spawn (v0.15.1, 306e2d2); SUDO_USER as `sudo hermes -p NAME` reads it
  // (hermes_cli/main.py:_resolve_sudo_user_profile_env at 306e2d2); HERMES_DATA_DIR_SUFFIX from newer
  // upstream hermes_constants.py (after 306e2d2)
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
  // Supervisor markers: hermes_cli/gateway.py:_running_under_gateway_supervisor at 306e2d2; HERMES_SUPERVISED_CHILD
  // and HERMES_GATEWAY_EXTERNAL_SUPERVISOR come from newer upstream (after 306e2d2, hermes-agent PR #65502)
  'HERMES_S6_SUPERVISED_CHILD',
  'HERMES_SUPERVISED_CHILD',
  'HERMES_GATEWAY_EXTERNAL_SUPERVISOR',
  'HERMES_GATEWAY_NO_SUPERVISE',
  'HERMES_GATEWAY_DETACHED',
  'INVOCATION_ID',
  'XPC_SERVICE_NAME',
  // Desktop (hermes-agent apps/desktop) and web UI (EKKOLearnAI/hermes-studio
  // packages/server/src/services/hermes/gateway-runner.ts)
  'HERMES_DESKTOP',
  'HERMES_DESKTOP_MANAGED',
  'HERMES_WEB_UI_MANAGED_GATEWAY',
  'HERMES_GATEWAY_PORT',
  'GATEWAY_PORT',
  'API_SERVER_ENABLED',
  'API_SERVER_PORT',
  // The webhook platform's switch and port (gateway/config.py at 306e2d2); not secrets, unlike WEBHOOK_SECRET
  'WEBHOOK_ENABLED',
  'WEBHOOK_PORT',
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
