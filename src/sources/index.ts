/**
 * The host source: one entry point that observes this host on whatever platform it is, behind one
 * interface. Linux reads /proc directly; other platforms plug in here.
 */
import type { HostSnapshot } from '../types.js';
import { type LinuxScanOptions, scanLinux } from './linux/scan.js';

/** Options of a host scan (a superset of every platform's options). */
export type ScanOptions = LinuxScanOptions & {
  /** Platform to scan as; default process.platform. */
  platform?: NodeJS.Platform;
};

/**
 * Observes this host and returns a snapshot for the classifier.
 *
 * @throws Error when the platform is not supported
 */
export async function scanHost(opts: ScanOptions = {}): Promise<HostSnapshot> {
  const platform = opts.platform ?? process.platform;
  if (platform === 'linux') return scanLinux(opts);
  throw new Error(`hermes-doctor cannot scan ${platform} hosts yet`);
}
