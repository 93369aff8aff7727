/**
 * The Linux host scan: the one scan (src/sources/scan.ts) over the Linux facets (linux/facets.ts):
 * /proc directly (ps-list cannot give environ, cgroup, fds or start ticks), /proc/locks, passwd,
 * systemd and s6, and the identity files of every HERMES_HOME in sight.
 */
import type { HostSnapshot } from '../../types.js';
import { scanHostFacets } from '../scan.js';
import { type LinuxScanOptions, linuxFacets } from './facets.js';

export { type LinuxScanOptions, cgroupUnitsOfProcess, linuxFacets, parsePasswd } from './facets.js';

/** USER_HZ, the clock ticks per second of /proc times (see CLOCK_TICKS in src/sources/scan.ts). */
export { CLOCK_TICKS as LINUX_CLOCK_TICKS } from '../scan.js';

/**
 * Scans this Linux host. Never throws for a vanished or unreadable process; a missing or hanging
 * supervisor tool makes that supervisor `unknown`.
 *
 * @throws Error only when /proc itself cannot be listed
 */
export async function scanLinux(opts: LinuxScanOptions = {}): Promise<HostSnapshot> {
  return scanHostFacets(linuxFacets(opts), opts);
}
