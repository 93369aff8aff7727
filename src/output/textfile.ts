/**
 * The node_exporter textfile collector's file (`--textfile-dir DIR`): the metrics written atomically
 * (src/util/write-file-atomic.ts) as `DIR/hermes_doctor.prom`, so the collector never reads half a file.
 */
import path from 'node:path';
import { writeFileAtomic } from '../util/write-file-atomic.js';

/** File name written in a `--textfile-dir` (node_exporter reads `*.prom`). */
export const TEXTFILE_NAME = 'hermes_doctor.prom';

/**
 * Writes Prometheus metrics into a node_exporter textfile-collector folder as `hermes_doctor.prom`.
 *
 * @returns the path written
 * @throws Error when the folder does not exist or is not writable
 */
export function writeTextfile(dir: string, metrics: string): string {
  const file = path.join(dir, TEXTFILE_NAME);
  writeFileAtomic(file, metrics);
  return file;
}
