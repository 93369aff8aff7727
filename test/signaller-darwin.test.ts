/**
 * The macOS signaller with recorded `ps` answers (fixtures/darwin/signaller) and a recording kill
 * function: no real process is signalled.
 */
import { describe, expect, it } from 'vitest';
import { darwinSignaller, parseLstartCommand } from '../src/actions/signaller-darwin.js';
import { runnerFrom } from './harness/fixtures.js';

describe('darwinSignaller', () => {
  it('identity: the same start stamp ps-list gives the scan (new Date(lstart)), argv split', async () => {
    const s = darwinSignaller(runnerFrom('darwin/signaller'), () => true);
    const id = await s.identity(9120);
    expect(id!.startTicks).toBe(Math.round(new Date('Thu Nov 20 08:40:12 2026').getTime() / 10));
    expect(id!.argv.slice(-3)).toEqual(['gateway', 'run', '--replace']);
    expect(await s.identity(9121)).toBeNull();
    await expect(s.identity(9122)).rejects.toThrow(/cannot read the identity of PID 9122/);
    await expect(s.identity(9123)).rejects.toThrow(/ENOENT/);
    expect(parseLstartCommand('garbage')).toBeNull();
  });

  it('signal: SIGTERM/SIGKILL, ESRCH → gone, EPERM → eperm, anything else rethrown', async () => {
    const sent: [number, string][] = [];
    const errs: Record<number, string> = { 2: 'ESRCH', 3: 'EPERM', 4: 'EINVAL' };
    const kill = (pid: number, sig: NodeJS.Signals) => {
      sent.push([pid, sig]);
      if (errs[pid]) throw Object.assign(new Error(`kill ${errs[pid]}`), { code: errs[pid] });
      return true;
    };
    const s = darwinSignaller(runnerFrom('darwin/signaller'), kill);
    expect(await s.signal(1000, 'term')).toBe('sent');
    expect(await s.signal(1000, 'kill')).toBe('sent');
    expect(await s.signal(2, 'term')).toBe('gone');
    expect(await s.signal(3, 'term')).toBe('eperm');
    await expect(s.signal(4, 'term')).rejects.toThrow(/EINVAL/);
    expect(sent).toEqual([[1000, 'SIGTERM'], [1000, 'SIGKILL'], [2, 'SIGTERM'], [3, 'SIGTERM'], [4, 'SIGTERM']]);
  });
});
