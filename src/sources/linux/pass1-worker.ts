/**
 * The worker thread of pass 1 (./pass1.ts): claims free chunks of the PID list with compare-and-swap,
 * reads them, and posts each chunk's entries to the scanning thread. Exits when no chunk is left.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { readPass1 } from './pass1.js';

const { pids, procRoot, states, chunk } = workerData as { pids: number[]; procRoot: string; states: SharedArrayBuffer; chunk: number };
const claimed = new Int32Array(states);
for (let c = 0; c < claimed.length; c++) {
  if (Atomics.compareExchange(claimed, c, 0, 2) !== 0) continue;
  const entries = [];
  for (let i = c * chunk; i < Math.min(pids.length, (c + 1) * chunk); i++) entries.push(readPass1(pids[i]!, procRoot));
  parentPort!.postMessage({ chunk: c, entries });
}
