/**
 * The Windows host scan: the one scan (src/sources/scan.ts) over the Windows facets (win32/facets.ts):
 * Get-CimInstance Win32_Process, schtasks, the identity files of every HERMES_HOME in sight.
 */
import type { HostSnapshot } from '../../types.js';
import { scanHostFacets } from '../scan.js';
import { type Win32ScanOptions, win32Facets } from './facets.js';

export { type Win32ScanOptions, win32Facets } from './facets.js';

/**
 * Scans this Windows host.
 *
 * @throws Error when Get-CimInstance gives no usable process list (nothing can be decided then)
 */
export async function scanWin32(opts: Win32ScanOptions = {}): Promise<HostSnapshot> {
  return scanHostFacets(win32Facets(opts), opts);
}
