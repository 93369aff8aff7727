// What a suite on real processes registers so that nothing it started outlives it.
import { afterAll, afterEach } from 'vitest';
import { killAll } from './processes.js';
import { stopAllS6Trees } from './s6.js';
import { cleanupAllScratch } from './scratch.js';

/**
 * Registers in the current describe: after each test, also a failed one, every s6 tree this worker
 * started is stopped and every process the harness registered is ended by PID (the trees first, so
 * that s6-supervise does not start a killed slot again); after the last test the scratch folders go.
 */
export function cleanUpAfterEach(): void {
  afterEach(async () => {
    await stopAllS6Trees();
    await killAll();
  });
  afterAll(() => cleanupAllScratch());
}
