// Builders of the pure core's input records (src/types.ts) for unit tests of classify and the kill
// planner: a process, a home and a systemd unit with plain defaults, each overridable field by field.
import type { HomeRecord, ProcessRecord, SystemdUnit } from '../../src/types.js';

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
