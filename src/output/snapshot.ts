/**
 * The snapshot as it leaves the host: a masked deep copy of a {@link HostSnapshot}, as JSON (schema
 * `hermes-doctor.snapshot/v1`). The live snapshot is never modified (kill decisions use it).
 *
 * Applied on the copy: ENV_ALLOWLIST again (defence in depth), {@link maskArgv} on every process argv,
 * systemd ExecStart and identity-file record argv, {@link maskShapes} on environment values and note texts.
 */
import { maskArgv, maskShapes } from '../core/mask.js';
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
    for (const k of Object.keys(env)) env[k] = maskShapes(env[k]!);
    p.env = env;
  }
  for (const s of copy.supervisors) {
    for (const u of s.systemdUnits ?? []) u.execStart = maskArgv(u.execStart);
  }
  for (const h of copy.homes) {
    for (const f of [h.pidFile, h.stateFile, h.lockFile]) if (f?.argv) f.argv = maskArgv(f.argv);
  }
  for (const n of copy.notes) n.detail = maskShapes(n.detail);
  return copy;
}

/** Serialises a masked copy of the snapshot as pretty JSON with a trailing newline. */
export function renderSnapshot(snap: HostSnapshot): string {
  return JSON.stringify(maskSnapshot(snap), null, 2) + '\n';
}
