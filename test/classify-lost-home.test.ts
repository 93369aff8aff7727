/**
 * The pure classifier on a gateway whose home was removed while it ran and then re-created: it holds
 * `<home>/gateway.lock` only on the unlinked inode (fd link `... (deleted)`) and no record in the new
 * folder names it. The real gateway does this on its next cron tick (cron/scheduler.py:tick mkdirs
 * `<home>/cron`, v0.15.1 and 306e2d2); test/real-profiles.test.ts shows it on the real gateway.
 */
import { describe, expect, it } from 'vitest';
import { KILLABLE_VERDICTS, classify } from '../src/core/classify.js';
import type { HomeRecord, HostSnapshot, ProcessRecord } from '../src/types.js';
import { home, proc, snapshot } from './harness/records.js';

const ROOT = '/root/.hermes';
const HOME = `${ROOT}/profiles/gone`;
const GW = ['/usr/bin/python3', '/opt/hermes/venv/bin/hermes', '-p', 'gone', 'gateway', 'run'];

function snap(processes: ProcessRecord[], homes: HomeRecord[]): HostSnapshot {
  return snapshot({
    processes,
    homes,
    activeProfiles: { [ROOT]: null },
    locks: [{ path: `${HOME}/gateway.lock (deleted)`, inode: 77, kind: 'FLOCK', access: 'WRITE', pid: 40 }],
  });
}

/** The gateway of profile `gone`, holding only the unlinked gateway.lock of its home. */
const ghost = () =>
  proc(40, GW, { env: { HERMES_HOME: ROOT }, handles: [{ fd: 15, path: `${HOME}/gateway.lock`, mode: 'rw', deleted: true, inode: 77 }] });

describe('classify: a gateway whose home was deleted and re-created under it', () => {
  it('is a ghost (a kill target) when it holds only the unlinked gateway.lock and no record of the new folder names it', () => {
    const r = classify(snap([ghost()], [home(ROOT), home(HOME)]));
    const p = r.processes.find((x) => x.pid === 40)!;
    expect(p.verdict).toBe('ghost');
    expect(p.hermesHome).toBe(HOME);
    expect(p.reasons.join(' ')).toContain(`it holds ${HOME}/gateway.lock (deleted) and no gateway.pid or gateway.lock of ${HOME} names it`);
    expect(KILLABLE_VERDICTS.has(p.verdict)).toBe(true);
    expect(r.findings.find((f) => f.code === 'GHOST_GATEWAY')!.message).toContain(`serves deleted profile gone (${HOME})`);
  });

  it('stays manual when the folder\u2019s gateway.pid still names it (only gateway.lock was removed: the home is its own)', () => {
    const g = ghost();
    const h = home(HOME, { pidFile: { path: `${HOME}/gateway.pid`, status: 'ok', pid: 40, startTime: g.startTicks } });
    const p = classify(snap([g], [home(ROOT), h])).processes.find((x) => x.pid === 40)!;
    expect(p.verdict).toBe('manual');
  });

  it('stays manual while it holds the folder\u2019s own gateway.lock', () => {
    const g = proc(40, GW, { env: { HERMES_HOME: ROOT }, handles: [{ fd: 15, path: `${HOME}/gateway.lock`, mode: 'rw', deleted: false, inode: 78 }] });
    const p = classify(snap([g], [home(ROOT), home(HOME)])).processes.find((x) => x.pid === 40)!;
    expect(p.verdict).toBe('manual');
  });
});
