/**
 * Pass 1 of the Linux scan on two threads (issue 8) gives the same entries, in the same order, as on
 * one. The worker is compiled JavaScript, so this suite runs the built dist/ (npm test builds first).
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, killAll, startGateway, waitFor } from './harness/processes.js';
import { cleanupAllScratch, makeScratch } from './harness/scratch.js';
import { hasPython3, isLinux, requireOrSkip } from './harness/skip.js';

const dist = path.join(REPO_ROOT, 'dist', 'sources', 'linux', 'pass1.js');
const ready = isLinux() && hasPython3() && fs.existsSync(dist);

describe.skipIf(requireOrSkip('Linux /proc, python3 and a build (npm run build)', ready))('pass 1 on two threads', () => {
  afterAll(async () => {
    await killAll();
    cleanupAllScratch();
  });

  it('finds the same candidates, in PID-list order, with or without the worker', async () => {
    const { runPass1, lastPass1Split } = (await import(dist)) as typeof import('../src/sources/linux/pass1.js');
    const scratch = makeScratch();
    const g = startGateway({ root: scratch.root() });
    await waitFor(() => fs.readdirSync(`/proc/${g.pid}/fd`).some((fd) => {
      try {
        return fs.readlinkSync(`/proc/${g.pid}/fd/${fd}`).endsWith('kanban.db');
      } catch {
        return false;
      }
    }), 10_000, 'gateway to open kanban.db');
    const pids = fs.readdirSync('/proc').filter((n) => /^\d+$/.test(n)).map(Number);
    // 20,000 absent PIDs pad the list so that both threads get chunks.
    const padded = [...pids, ...Array.from({ length: 20_000 }, (_, i) => 10_000_000 + i)];
    const one = await runPass1(padded, '/proc', Infinity);
    expect(lastPass1Split.worker).toBe(false);
    let two = await runPass1(padded, '/proc', 0, () => true);
    // The worker boots while this thread reads; on a loaded machine it may come too late: retry.
    for (let i = 0; i < 10 && lastPass1Split.workerChunks === 0; i++) two = await runPass1(padded, '/proc', 0, () => true);
    expect(lastPass1Split.worker).toBe(true);
    expect(lastPass1Split.workerChunks).toBeGreaterThan(0);
    expect(two.map((e) => e.pid)).toEqual(padded);
    expect(one.map((e) => e.pid)).toEqual(padded);
    const mine = (r: typeof one) => r.find((e) => e.pid === g.pid)!;
    expect(mine(two).candidate).toBe(true);
    expect(mine(two).argv).toEqual(mine(one).argv);
    expect(mine(two).links!.map((l) => l.target).sort()).toEqual(mine(one).links!.map((l) => l.target).sort());
    expect(two.filter((e) => e.pid >= 10_000_000).every((e) => e.argv === null && !e.candidate)).toBe(true);
    const self = two.find((e) => e.pid === process.pid)!;
    expect(self.argv).toEqual(one.find((e) => e.pid === process.pid)!.argv);
  });
});
