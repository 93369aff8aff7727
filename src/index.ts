/**
 * hermes-doctor as a library: scan a host (or read a snapshot), classify it, render the report, plan
 * and carry out `--kill`, decide as the guard does. Everything else (the parsers, the supervisor
 * observers, the masking steps inside the renderers, the schedulers, the CLI) is internal.
 *
 * ```ts
 * import { scanHost, classify, renderTable } from 'hermes-doctor';
 * const report = classify(await scanHost());
 * console.log(renderTable(report));
 * ```
 */
export * from './types.js';

// Observe: the one scan of this host, or a snapshot file written by `hermes-doctor snapshot`.
export { scanHost, type ScanOptions } from './sources/index.js';
export { type CommandRunner, type RunResult } from './sources/runner.js';
export { readSnapshotFile, parseSnapshot, SnapshotError, SNAPSHOT_SCHEMA } from './sources/snapshot-file.js';

// Classify: the verdicts, kanban risks and findings of a snapshot.
export { classify, type ClassifyOptions } from './core/classify.js';

// Render: every output format; each masks secrets and shows control characters visibly.
export { renderTable, type TableOptions } from './output/table.js';
export { renderJson } from './output/json.js';
export { renderPlain, PLAIN_FIELDS } from './output/plain.js';
export { renderNagios } from './output/nagios.js';
export { renderPrometheus, type PrometheusOptions } from './output/prometheus.js';
export { writeTextfile, TEXTFILE_NAME } from './output/textfile.js';
export { renderSnapshot, maskSnapshot } from './output/snapshot.js';

// Remove orphans: a pure plan, then the action with injectable platform parts.
export { planKill, type KillPlan, type KillPlanOptions, type KillTarget, type KillRefusal, type KillOwner } from './core/kill-plan.js';
export {
  executeKillPlan,
  plannedActions,
  platformKillDeps,
  DEFAULT_GRACE_MS,
  DEFAULT_KILL_WAIT_MS,
  type KillOptions,
  type KillProgress,
  type StateFiles,
  type SavedFile,
} from './actions/kill.js';
export { type ProcessIdentity, type SignalOutcome, type AsyncProcessSignaller } from './actions/signaller.js';
export { auditLogPath, memoryAuditSink, type AuditEntry, type AuditSink } from './actions/audit-log.js';

// Guard: whether `hermes gateway run|restart|start` may run for a home, and its text.
export { decideGuard, resolveGuardTarget, GUARD_SCHEMA, type GuardDecision, type GuardCaller, type GuardTarget, type GuardInput } from './core/guard.js';
export { renderGuardText } from './output/guard-text.js';
export { supervisorsByHome, type HomeSupervisor } from './core/supervision.js';
export { readCaller } from './sources/caller.js';
