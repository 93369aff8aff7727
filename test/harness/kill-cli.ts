// What the kill suites share: the action for one PID of a --kill --json run (test/harness/cli.ts
// cliReport), the audit log's lines, and an owner gateway beside a duplicate without the lock.
import fs from 'node:fs';
import path from 'node:path';
import type { KillAction } from '../../src/types.js';
import type { CliReportRun } from './cli.js';
import { startGateway, waitForGatewayReady, waitForOpen } from './processes.js';
import { makeScratch } from './scratch.js';

/** The kill action for `pid` in a --kill --json run; throws with the run's output when there is none. */
export function actionFor(r: CliReportRun, pid: number): KillAction {
  const a = r.report?.actions?.find((x) => x.pid === pid);
  if (!a) throw new Error(`no action for PID ${pid}: ${r.out}${r.err}`);
  return a;
}

/** The JSON lines of `<root>/logs/hermes-doctor.log`, the audit log of a --kill run. */
export function auditLines(root: string): Record<string, unknown>[] {
  return fs.readFileSync(path.join(root, 'logs', 'hermes-doctor.log'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
}

/**
 * An owner gateway for a new scratch root plus a duplicate that keeps running without gateway.lock
 * (STANDIN_STAY_ON_LOCK_BUSY), returned once the duplicate has kanban.db-wal open.
 */
export async function ownerAndDuplicate(env: Record<string, string> = {}) {
  const scratch = makeScratch();
  const root = scratch.root();
  const owner = startGateway({ root });
  await waitForGatewayReady(root, owner.pid);
  const dup = startGateway({ root, env: { STANDIN_STAY_ON_LOCK_BUSY: '1', ...env } });
  await waitForOpen(dup.pid, 'kanban.db-wal', 8000, 'duplicate to open kanban.db');
  return { scratch, root, owner, dup };
}
