/**
 * The host source: one entry point that observes this host on whatever platform it is. Every platform
 * runs the one scan (src/sources/scan.ts) over its own facets (src/sources/facets.ts): Linux reads /proc
 * directly; macOS uses ps-list, ps, lsof and launchctl; Windows uses ps-list, Get-CimInstance and
 * schtasks. The platform is injectable so every scan can be replayed with recorded outputs on any host
 * (docs/platforms.md).
 */
import type { HostSnapshot } from '../types.js';
import type { DarwinScanOptions } from './darwin/scan.js';
import { type LinuxScanOptions, scanLinux } from './linux/scan.js';
import type { Win32ScanOptions } from './win32/scan.js';

/** Options of a host scan (a superset of every platform's options). */
export type ScanOptions = LinuxScanOptions &
  DarwinScanOptions &
  Win32ScanOptions & {
    /** Platform to scan as; default process.platform. */
    platform?: NodeJS.Platform;
    /** Run the read-only quick_check on every database in sight (`--integrity`). */
    integrity?: boolean;
  };

/**
 * Observes this host and returns a snapshot for the classifier.
 *
 * @throws Error when the platform is not supported, or when its process table cannot be read at all
 */
export async function scanHost(opts: ScanOptions = {}): Promise<HostSnapshot> {
  const platform = opts.platform ?? process.platform;
  if (platform === 'linux') return scanLinux(opts);
  // The other platforms' facets (and ps-list) are loaded only when asked for: they add to every start-up.
  if (platform === 'darwin') return (await import('./darwin/scan.js')).scanDarwin(opts);
  if (platform === 'win32') return (await import('./win32/scan.js')).scanWin32(opts);
  throw new Error(`hermes-doctor cannot scan ${platform} hosts yet`);
}
