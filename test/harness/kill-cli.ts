// What the kill suites share: the real CLI with its --json report parsed and schema-checked, the
// action for one PID, the audit log's lines, and an owner gateway beside a duplicate without the lock.
import fs from 'node:fs';
import path from 'node:path';
import type { KillAction, Report } from '../../src/types.js';
import { assertOrphansV1 } from '../contract.js';
import { runCli, type CliContext, type CliRun } from './cli.js';
import { startGateway, waitForGatewayReady, waitForOpen } from './processes.js';
import { makeScratch } from './scratch.js';

/** One in-process run and, for `--json` runs, its parsed report (null otherwise). */
export interface CliReportRun extends CliRun {
  report: Report | null;
}

/** Runs the real CLI in-process (no TTY unless `extra` says so); every --json document is checked against the schema. */
export async function cliReport(args: string[], extra: Pick<CliContext, 'tty' | 'confirm'> = {}): Promise<CliReportRun> {
  const { code, out, err } = await runCli(args, { tty: false, ...extra });
  const report = args.includes('--json') && out.trim().startsWith('{') ? (JSON.parse(out) as Report) : null;
  if (report) assertOrphansV1(report);
  return { code, out, err, report };
}

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
