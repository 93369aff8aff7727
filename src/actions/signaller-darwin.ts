/**
 * The macOS signaller: identity from `ps -p N -ww -o lstart=,command=` (ps(1) macOS; `lstart` is
 * `Thu Nov 20 08:40:12 2026` in the C locale, parsed exactly as ps-list parses it, so the start stamp
 * equals the one the scan recorded), signals with kill(2) through process.kill. Asynchronous because the
 * identity probe is an external command: an {@link AsyncProcessSignaller}.
 */
import { type CommandRunner, execRunner } from '../sources/runner.js';
import { argvOfPsCommand, startStamp } from '../sources/darwin/ps.js';
import { type AsyncProcessSignaller, type KillFn, posixSignal } from './signaller.js';

export type { KillFn };

/** Parses one line of `ps -o lstart=,command=`: the 24-character start date, then the command. Null when unparseable. */
export function parseLstartCommand(line: string): { start: Date; command: string } | null {
  const m = /^\s*((?:\w{3}\s+){2}\d{1,2}\s+(?:\d{2}:){2}\d{2}\s+\d{4})\s+(.*)$/.exec(line.trim());
  if (!m) return null;
  const start = new Date(m[1]!);
  return Number.isNaN(start.getTime()) ? null : { start, command: m[2]! };
}

/**
 * A signaller for macOS. `identity` returns null when ps says the PID does not exist (exit 1, no
 * output) and rejects when the answer cannot be read. `signal` maps ESRCH → gone, EPERM → eperm.
 */
export function darwinSignaller(runner: CommandRunner = execRunner, kill: KillFn = process.kill.bind(process)): AsyncProcessSignaller {
  const self: AsyncProcessSignaller = {
    lastDetail: null,
    async identity(pid) {
      if (!Number.isInteger(pid) || pid <= 0) throw new Error(`invalid PID ${pid}`);
      const r = await runner('ps', ['-p', String(pid), '-ww', '-o', 'lstart=,command='], { env: { LC_ALL: 'C' } });
      if (r.error) throw new Error(`cannot read the identity of PID ${pid}: ${r.error}`);
      if (r.code === 1 && r.stdout.trim() === '') return null;
      const parsed = r.code === 0 ? parseLstartCommand(r.stdout.split('\n')[0] ?? '') : null;
      if (!parsed) throw new Error(`cannot read the identity of PID ${pid}: ps answered ${JSON.stringify(r.stdout.slice(0, 80))} (exit ${r.code})`);
      return { pid, startTicks: startStamp(parsed.start), argv: argvOfPsCommand(parsed.command) };
    },
    async signal(pid, how) {
      return posixSignal(self, kill, pid, how);
    },
  };
  return self;
}
