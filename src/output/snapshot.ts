/**
 * The snapshot as it leaves the host: a masked deep copy of a {@link HostSnapshot}, as JSON (schema
 * `hermes-doctor.snapshot/v1`). The live snapshot is never modified (kill decisions use it).
 *
 * Applied on the copy: ENV_ALLOWLIST again (defence in depth), {@link maskArgv} on every process argv,
 * systemd ExecStart, launchd ProgramArguments and identity-file record argv, {@link maskText} on
 * environment values, a Windows task's `Task To Run`, supervisor details, s6 slot errors, note texts and
 * identity-file errors. Only those fields: the rest (paths, cgroups, fds) is what `orphans --from`
 * classifies, kept exact.
 */
import { maskArgv, maskText } from '../core/mask.js';
import { jsonSafe } from './terminal.js';
import { filterEnvironRecord } from '../sources/environ.js';
import type { HostSnapshot } from '../types.js';

/**
 * Returns a masked deep copy of a snapshot, safe to attach to a bug report.
 *
 * @param snap the live snapshot (not modified)
 */
export function maskSnapshot(snap: HostSnapshot): HostSnapshot {
  const copy = structuredClone(snap);
  for (const p of copy.processes) {
    p.argv = maskArgv(p.argv);
    const env = filterEnvironRecord(p.env);
    for (const k of Object.keys(env)) env[k] = maskText(env[k]!);
    p.env = env;
  }
  for (const s of copy.supervisors) {
    s.detail = maskText(s.detail);
    for (const u of s.systemdUnits ?? []) u.execStart = maskArgv(u.execStart);
    for (const j of s.launchdJobs ?? []) if (j.arguments) j.arguments = maskArgv(j.arguments);
    for (const t of s.windowsTasks ?? []) if (t.taskToRun !== undefined) t.taskToRun = maskText(t.taskToRun);
    for (const sl of s.s6Slots ?? []) if (sl.error !== undefined) sl.error = maskText(sl.error);
  }
  for (const n of copy.notes) n.detail = maskText(n.detail);
  for (const h of copy.homes) {
    for (const f of [h.pidFile, h.stateFile, h.lockFile]) {
      if (!f) continue;
      if (f.error !== undefined) f.error = maskText(f.error);
      if (f.argv) f.argv = maskArgv(f.argv);
    }
  }
  return copy;
}

/** Serialises a masked copy of the snapshot as pretty JSON with a trailing newline. */
export function renderSnapshot(snap: HostSnapshot): string {
  return jsonSafe(JSON.stringify(maskSnapshot(snap), null, 2)) + '\n';
}
