/**
 * hermes-doctor as a library: observe a host, classify the snapshot, render the report.
 *
 * ```ts
 * import { scanHost, classify, renderTable } from 'hermes-doctor';
 * const report = classify(await scanHost());
 * console.log(renderTable(report));
 * ```
 */
export * from './types.js';
export { scanHost, type ScanOptions } from './sources/index.js';
export { scanLinux, type LinuxScanOptions } from './sources/linux/scan.js';
export { type CommandRunner, type RunResult, execRunner, recordedRunner } from './sources/runner.js';
export { ENV_ALLOWLIST, filterEnvironBlock } from './sources/environ.js';
export { classify, type ClassifyOptions, KILLABLE_VERDICTS } from './core/classify.js';
export { identify, type Identity } from './core/identify.js';
export { parseHermesArgv, splitCommandLine, type HermesCommand } from './core/argv.js';
export { renderTable, formatAge } from './output/table.js';
export { renderJson } from './output/json.js';
// Periodic checks and fleet monitoring (issue 6).
export { renderPrometheus, type PrometheusOptions } from './output/prometheus.js';
export { renderNagios, NAGIOS_STATUS } from './output/nagios.js';
export { renderPlain, PLAIN_FIELDS } from './output/plain.js';
export { writeTextfile, TEXTFILE_NAME } from './output/textfile.js';
export { writeFileAtomic } from './util/write-file-atomic.js';
export { maskSnapshot, renderSnapshot } from './output/snapshot.js';
export { maskArgv, maskArgvDetailed, maskText, maskShapes, isSecretFlag, isSecretName, MASK, type MaskedArgv } from './core/mask.js';
export { redact, textModel, renderJsonDocument } from './output/redact.js';
export { escapeControls, sanitizeTerminalText, terminalSafe, jsonSafe } from './output/terminal.js';
export { readSnapshotFile, parseSnapshot, validateSnapshot, SnapshotError, SNAPSHOT_SCHEMA } from './sources/snapshot-file.js';
export { generateSystemdUnits, installSystemd, removeSystemd } from './actions/schedule/systemd.js';
export { generateCronLine, installCron, removeCron } from './actions/schedule/cron.js';
export { generatePlist, installLaunchd, removeLaunchd } from './actions/schedule/launchd.js';
export { parseEvery, type ScheduleSpec } from './actions/schedule/job.js';
export { scanDarwin, type DarwinScanOptions } from './sources/darwin/scan.js';
export { scanWin32, type Win32ScanOptions } from './sources/win32/scan.js';
export { type HostFiles, realHostFiles, rootedHostFiles } from './sources/hostfiles.js';
export { type ProcessLister, type ProcessRow, type PortLookup, type CommandHostScanOptions } from './sources/processlist.js';
export { type ProcessIdentity, type SignalOutcome } from './actions/signaller.js';
export { type AsyncProcessSignaller } from './actions/signaller.js';
export { windowsSignaller } from './actions/signaller-win32.js';
export { darwinSignaller } from './actions/signaller-darwin.js';
export { decideGuard, resolveGuardTarget, callerInside, renderGuardText, GUARD_SCHEMA, type GuardDecision, type GuardCaller, type GuardTarget, type GuardInput } from './core/guard.js';
export { shellHook, HOOK_SHELLS, type HookShell } from './actions/guard/hook.js';
export { runGuarded } from './actions/guard/run-guarded.js';
export { readCaller } from './sources/caller.js';
export { unitStates, crashLoopReason, supervisorsByHome, type HomeSupervisor } from './core/supervision.js';
export { cgroupUnit, observeSystemd, parseSystemctlShow, missingUnitPaths } from './sources/supervisors/systemd.js';
// Remediation: orphans --kill (issue 5).
export { planKill, protectedReason, auditRootOf, type KillPlan, type KillPlanOptions, type KillTarget, type KillRefusal, type KillOwner } from './core/kill-plan.js';
export {
  executeKillPlan,
  plannedActions,
  killedCount,
  platformKillDeps,
  fsStateFiles,
  recordPid,
  DEFAULT_GRACE_MS,
  DEFAULT_KILL_WAIT_MS,
  type KillOptions,
  type KillProgress,
  type StateFiles,
  type SavedFile,
} from './actions/kill.js';
export { fileAuditSink, memoryAuditSink, auditLogPath, AUDIT_LOG_NAME, type AuditEntry, type AuditSink } from './actions/audit-log.js';
export { linuxSignaller, linuxLockHolders } from './actions/signaller-linux.js';
