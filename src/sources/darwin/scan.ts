/**
 * The macOS host scan: the one scan (src/sources/scan.ts) over the macOS facets (darwin/facets.ts):
 * ps-list and ps, lsof on the Hermes files, launchctl, the identity files of every HERMES_HOME in sight.
 */
import type { HostSnapshot } from '../../types.js';
import { scanHostFacets } from '../scan.js';
import { type DarwinScanOptions, darwinFacets } from './facets.js';

export { type DarwinScanOptions, darwinFacets } from './facets.js';
export { PORT_VARIABLES } from '../scan.js';
export { filesOfInterest } from '../../core/candidates.js';

/**
 * Scans this macOS host.
 *
 * @throws Error when neither ps-list nor ps can list processes (nothing can be decided then)
 */
export async function scanDarwin(opts: DarwinScanOptions = {}): Promise<HostSnapshot> {
  return scanHostFacets(darwinFacets(opts), opts);
}
