/**
 * `systemctl show` as systemd really prints an optional working directory (fixtures/systemd-show):
 * `WorkingDirectory=-/path` in the unit file reaches `systemctl show` as `!/path`
 * (property_get_working_directory, src/core/dbus-execute.c). A missing optional directory does not stop
 * the unit (systemd skips the chdir), so it is never the unit's failure cause.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { crashLoopReason } from '../src/core/supervision.js';
import { missingUnitPaths, parseSystemctlShow } from '../src/sources/supervisors/systemd.js';
import { FIXTURES } from './harness/fixtures.js';

const show = fs.readFileSync(path.join(FIXTURES, 'systemd-show', 'optional-workdir.txt'), 'utf8');

describe('systemctl show: WorkingDirectory=!PATH (optional directory)', () => {
  it('a missing optional WorkingDirectory is not a missing path and not a crash-loop cause', () => {
    const units = parseSystemctlShow(show, 'user', 1000);
    expect(units.map((u) => u.unit)).toEqual(['hermes-gateway-argus.service', 'hermes-gateway.service']);
    const nothingExists = () => false;
    for (const u of units) {
      const missing = missingUnitPaths(u, nothingExists).filter((p) => p !== u.execStart[0]);
      expect(missing).toEqual([]);
      const m = missingUnitPaths(u, (p) => p === u.execStart[0] || p === '/home/michel');
      if (m.length > 0) u.missingPaths = m;
      expect(u.missingPaths).toBeUndefined();
      expect(crashLoopReason(u) ?? '').not.toContain('WorkingDirectory');
    }
  });

  it('the optional mark is kept (as the unit file spells it, `-`), the path itself unchanged', () => {
    const [argus, dflt] = parseSystemctlShow(show, 'user', 1000);
    expect(argus!.workingDirectory).toBe('-/home/michel/src/hermes-agent/.worktrees/fix-cron');
    expect(dflt!.workingDirectory).toBe('-~');
  });

  it('a required WorkingDirectory (no `!`) that is gone is still reported', () => {
    const [u] = parseSystemctlShow(show.replace('WorkingDirectory=!/home', 'WorkingDirectory=/home'), 'user', 1000);
    expect(missingUnitPaths(u!, (p) => p === u!.execStart[0])).toEqual(['/home/michel/src/hermes-agent/.worktrees/fix-cron']);
  });
});
