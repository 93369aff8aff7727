/**
 * The Windows signaller: identity from `Get-CimInstance Win32_Process -Filter "ProcessId=N"`
 * (CreationDate → the same centisecond start stamp the scan records, CommandLine → argv), signals with
 * taskkill (Microsoft Learn, "taskkill"): `taskkill /PID N` asks the process to close, `taskkill /PID N /F`
 * forces it. An {@link AsyncProcessSignaller}, like the Linux and macOS ones.
 *
 * taskkill exit codes and messages (English Windows 10/11): 0 SUCCESS; 128 `ERROR: The process "N" not
 * found.`; 1 with `Access is denied.`; 1 with `This process can only be terminated forcefully (with /F
 * option).` for a process without a window (a hidden-console gateway).
 */
import { type CommandRunner, execRunner } from '../sources/runner.js';
import { argvOfCommandLine, cimArgs, parseCimJson } from '../sources/win32/cim.js';
import type { AsyncProcessSignaller } from './signaller.js';

export type { AsyncProcessSignaller } from './signaller.js';

export interface WindowsSignallerOptions {
  /** Timeout of each command, ms (default 15000: PowerShell starts slowly). */
  timeoutMs?: number;
}

/**
 * A signaller for Windows. `identity` returns null when the process is gone and throws when the answer
 * cannot be read (PowerShell missing or output unparseable): an unknown identity must stop a kill.
 * `signal` maps taskkill's answer; a "can only be terminated forcefully" refusal of `term` is `eperm`
 * with that message in `lastDetail`: the caller re-checks identity and decides on `kill` (taskkill /F).
 */
export function windowsSignaller(runner: CommandRunner = execRunner, opts: WindowsSignallerOptions = {}): AsyncProcessSignaller {
  const timeoutMs = opts.timeoutMs ?? 15_000;
  const self: AsyncProcessSignaller = {
    lastDetail: null,
    async identity(pid) {
      if (!Number.isInteger(pid) || pid <= 0) throw new Error(`invalid PID ${pid}`);
      const r = await runner('powershell.exe', cimArgs(`ProcessId=${pid}`), { timeoutMs });
      if (r.error || r.code !== 0) throw new Error(`cannot read the identity of PID ${pid}: ${r.error ?? `exit ${r.code}: ${r.stderr.trim().slice(0, 200)}`}`);
      const { rows } = parseCimJson(r.stdout.trim() === '' ? '[]' : r.stdout);
      const row = rows.find((x) => x.pid === pid);
      if (!row) return null;
      if (!row.startStamp) throw new Error(`PID ${pid} has no readable CreationDate; its identity cannot be proven`);
      return { pid, startTicks: row.startStamp, argv: argvOfCommandLine(row.commandLine) };
    },
    async signal(pid, how) {
      const args = ['/PID', String(pid), ...(how === 'kill' ? ['/F'] : [])];
      const r = await runner('taskkill', args, { timeoutMs });
      const text = `${r.stdout}\n${r.stderr}`.trim();
      self.lastDetail = text || r.error;
      if (r.error) throw new Error(`taskkill failed to run: ${r.error}`);
      if (r.code === 0) return 'sent';
      if (r.code === 128 || /not found/i.test(text)) return 'gone';
      if (/access is denied|terminated forcefully|denied/i.test(text)) return 'eperm';
      throw new Error(`taskkill /PID ${pid}${how === 'kill' ? ' /F' : ''} answered exit ${r.code}: ${text.slice(0, 200)}`);
    },
  };
  return self;
}
