// Builders of the pure core's input records (src/types.ts) for unit tests of classify and the kill
// planner: a process, a home, a systemd unit and the host snapshot around them, with plain defaults,
// each overridable field by field.
import type { HomeRecord, HostSnapshot, ProcessRecord, SupervisorObservation, SystemdUnit } from '../../src/types.js';

/** A Linux process record: PPID 1, uid 0, start ticks 1000+PID, in /user.slice, everything visible. */
export function proc(pid: number, argv: string[], over: Partial<ProcessRecord> = {}): ProcessRecord {
  return {
    pid,
    ppid: 1,
    uid: 0,
    startTicks: 1000 + pid,
    startTime: null,
    argv,
    comm: 'python3',
    exe: null,
    cwd: null,
    tty: null,
    sid: pid,
    pgid: pid,
    cgroups: [{ hierarchy: 0, controllers: '', path: '/user.slice' }],
    env: {},
    handles: [],
    visibility: { fd: 'ok', environ: 'ok', cgroup: 'ok' },
    ...over,
  };
}

/** A home at `path` (a profile when under `/profiles/`), existing, no identity files. */
export function home(path: string, over: Partial<HomeRecord> = {}): HomeRecord {
  const root = path.includes('/profiles/') ? path.slice(0, path.indexOf('/profiles/')) : path;
  return {
    path,
    root,
    profile: path.includes('/profiles/') ? path.slice(path.lastIndexOf('/') + 1) : 'default',
    exists: true,
    tombstoned: false,
    launchdUnsupported: false,
    pidFile: { path: `${path}/gateway.pid`, status: 'missing', pid: null, startTime: null },
    stateFile: { path: `${path}/gateway_state.json`, status: 'missing', pid: null, startTime: null },
    ...over,
  };
}

/** An active system unit `hermes-gateway.service` for /root/.hermes, MainPID 0 unless overridden. */
export function unit(over: Partial<SystemdUnit>): SystemdUnit {
  return {
    unit: 'hermes-gateway.service',
    scope: 'system',
    mainPid: 0,
    controlGroup: '/system.slice/hermes-gateway.service',
    activeState: 'active',
    subState: 'running',
    nRestarts: 0,
    execStart: ['/venv/bin/python', '-m', 'hermes_cli.main', 'gateway', 'run'],
    workingDirectory: '/root/.hermes',
    hermesHome: '/root/.hermes',
    fragmentPath: '/etc/systemd/system/hermes-gateway.service',
    ...over,
  };
}

/** What a host with neither supervisor shows: systemd not booted, no s6 scan dir. A new array each call. */
export function noSupervisors(): SupervisorObservation[] {
  return [
    { kind: 'systemd', status: 'absent', detail: 'not booted', systemdUnits: [] },
    { kind: 's6', status: 'absent', detail: 'no scan dir', s6Slots: [] },
  ];
}

/**
 * A Linux host snapshot (schema hermes-doctor.snapshot/v1) as the scan would hand it to classify:
 * taken at 2026-11-23T00:00:00.000Z on host `test` by uid 0 (scanner PID 99999) in 1 ms, 100 clock
 * ticks per second, no boot time, uid 0's home /root, no active profile for /root/.hermes, no
 * processes, homes, locks or notes, and noSupervisors(). Every field of `over` replaces its default;
 * processCount is the length of `processes` unless `over` gives it.
 */
export function snapshot(over: Partial<HostSnapshot> = {}): HostSnapshot {
  const processes = over.processes ?? [];
  return {
    schema: 'hermes-doctor.snapshot/v1',
    takenAt: '2026-11-23T00:00:00.000Z',
    platform: 'linux',
    hostname: 'test',
    clockTicks: 100,
    bootTimeMs: null,
    scannerUid: 0,
    scannerPids: [99999],
    scanMs: 1,
    processes,
    processCount: processes.length,
    userHomes: { '0': '/root' },
    activeProfiles: { '/root/.hermes': null },
    locks: [],
    homes: [],
    supervisors: noSupervisors(),
    notes: [],
    ...over,
  };
}
