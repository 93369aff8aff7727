/**
 * `orphans --from FILE`: classify a snapshot (`hermes-doctor snapshot -o FILE`, schema
 * `hermes-doctor.snapshot/v1`) offline, with the same report filters as a live run. Loaded only with
 * `--from`, so a live scan does not load the snapshot reader.
 */
import { classify } from '../core/classify.js';
import { readSnapshotFile } from '../sources/snapshot-file.js';
import type { Report } from '../types.js';
import { type FilterArgs, reportFilters } from './scan-host.js';

/**
 * Classifies a snapshot file with the same filters as a live run. The UID filter is the snapshot's
 * scanner UID (as a live run on that host would have used), unless --all-users or the scan ran as root.
 *
 * @param args `from`: the file, `-` for stdin
 * @throws SnapshotError with a clear message when the file is missing or invalid; Error with --kill
 */
export function classifyFromFile(args: FilterArgs & { from: string; kill?: unknown }): Report {
  // A snapshot's PIDs belong to another host or another moment: never act on them.
  if (args.kill) throw new Error('--from classifies a snapshot offline; it cannot be combined with --kill');
  const snap = readSnapshotFile(args.from);
  return classify(snap, reportFilters(args, snap.scannerUid));
}
