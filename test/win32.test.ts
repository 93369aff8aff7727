/**
 * The Windows scanner and signaller driven with recorded Get-CimInstance, schtasks and taskkill outputs
 * (fixtures/win32): the real adapter code runs on Linux with the platform injected; only the command
 * runner and the ps-list table are replaced. Identity files are real files under a scratch dir.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { windowsSignaller } from '../src/actions/signaller-win32.js';
import { recordedRunner } from '../src/sources/runner.js';
import { cimArgs, findLauncherStubs, parseCimJson, stampOfCreated } from '../src/sources/win32/cim.js';
import { launcherOf, winPath, windowsDefaultRoot } from '../src/sources/win32/paths.js';
import { scanWin32 } from '../src/sources/win32/scan.js';
import { parseCsv, parseSchtasksCsv } from '../src/sources/supervisors/windows-task.js';
import { rootedHostFiles } from '../src/sources/hostfiles.js';
import type { ScanOptions } from '../src/sources/index.js';
import { runRecordedOrphans, verdictOf } from './harness/cli.js';
import { FIXTURES, layoutHome, readFixture, recordedResult, runnerFrom } from './harness/fixtures.js';
import { cleanupAllScratch, makeScratch } from './harness/scratch.js';

const ROOT = 'c:/users/alice/appdata/local/hermes';
const ARGUS = `${ROOT}/profiles/argus`;
/** Centiseconds since the epoch of 2026-11-20T08:00:31.2512345Z, computed independently of the parser. */
const STAMP_2004 = Date.UTC(2026, 10, 20, 8, 0, 31) / 10 + 25;

function host(overrides: string[] = [], pidRecord: Record<string, unknown> | null = { pid: 2004, kind: 'hermes-gateway', start_time: STAMP_2004 }) {
  const scratch = makeScratch();
  layoutHome(scratch.dir, ROOT);
  layoutHome(scratch.dir, ARGUS, pidRecord ? { pid: pidRecord } : {});
  const runner = runnerFrom('win32/task-and-shell', ...overrides);
  const scan: ScanOptions = {
    platform: 'win32',
    runner,
    listProcesses: async () => [],
    files: rootedHostFiles(scratch.dir),
    env: { LOCALAPPDATA: 'C:\\Users\\Alice\\AppData\\Local' },
    hostname: 'ALICE-PC',
    selfPid: 99999,
  };
  return { scan, runner };
}

afterAll(() => cleanupAllScratch());

describe('Windows parsers', () => {
  it('paths: backslashes to /, drive letter kept, lowercased; default root from LOCALAPPDATA', () => {
    expect(winPath('"C:\\Users\\Alice\\AppData\\Local\\hermes\\"')).toBe(ROOT);
    expect(windowsDefaultRoot({ USERPROFILE: 'C:\\Users\\Alice' })).toBe(ROOT);
    expect(windowsDefaultRoot({})).toBeNull();
    expect(launcherOf('wscript.exe //B //Nologo "C:\\Users\\Alice\\AppData\\Local\\hermes\\profiles\\argus\\gateway-service\\Hermes_Gateway_argus.vbs"')).toEqual({
      launcher: `${ARGUS}/gateway-service/hermes_gateway_argus.vbs`,
      home: ARGUS,
    });
    expect(launcherOf('C:\\Windows\\Explorer.EXE')).toBeNull();
  });

  it('the CIM script travels as -EncodedCommand (UTF-16LE base64), output forced to UTF-8', () => {
    const args = cimArgs('ProcessId=3204');
    expect(args.slice(0, 3)).toEqual(['-NoProfile', '-NonInteractive', '-EncodedCommand']);
    const script = Buffer.from(args[3]!, 'base64').toString('utf16le');
    expect(script).toContain("Get-CimInstance -ClassName Win32_Process -Filter 'ProcessId=3204'");
    expect(script).toContain('[Text.Encoding]::UTF8');
    expect(script).toContain("ToString('o')");
  });

  it('CreationDate (round-trip "o", 100 ns) → the centisecond start stamp Hermes writes', () => {
    expect(stampOfCreated('2026-11-20T08:00:31.2512345Z')).toBe(STAMP_2004);
    expect(stampOfCreated('/Date(1763625631251)/')).toBe(176362563125);
    expect(stampOfCreated('yesterday')).toBe(0);
    expect(stampOfCreated(null)).toBe(0);
  });

  it('Win32_Process JSON: rows, the launcher stub pair; truncated output is a clear error', () => {
    const { rows, bad } = parseCimJson(readFixture('win32/task-and-shell/cim.txt').body);
    expect(bad).toBe(0);
    expect(rows.find((r) => r.pid === 4)!.commandLine).toBeNull();
    expect([...findLauncherStubs(rows)]).toEqual([[2000, 2004]]);
    expect(() => parseCimJson(readFixture('win32/malformed/cim-truncated.txt').body)).toThrow(/not JSON \(truncated\?\)/);
    expect(parseCimJson(readFixture('win32/malformed/cim-rows.txt').body).bad).toBe(1);
  });

  it('schtasks CSV: Hermes tasks, launcher homes, repeated headers skipped; localised header by position; garbage null', () => {
    const p = parseSchtasksCsv(readFixture('win32/task-and-shell/schtasks.txt').body)!;
    expect(p.problems).toEqual([]);
    expect(p.tasks.map((t) => [t.name, t.state, t.hermesHome, t.profile])).toEqual([
      ['Hermes_Gateway', 'Running', ROOT, 'default'],
      ['Hermes_Gateway_argus', 'Ready', ARGUS, 'argus'],
    ]);
    const de = parseSchtasksCsv(readFixture('win32/malformed/schtasks-localized.txt').body)!;
    expect(de.tasks).toEqual([expect.objectContaining({ name: 'Hermes_Gateway_argus', state: 'Bereit', hermesHome: ARGUS })]);
    expect(parseSchtasksCsv(readFixture('win32/malformed/schtasks-garbage.txt').body)).toBeNull();
    expect(parseCsv('"a","b\nc').truncated).toBe(true);
  });
});

describe('Windows scans (recorded outputs)', () => {
  it('task gateways (.cmd chain alive, .vbs chain exited behind a launcher stub) are supervised; the PowerShell gateway is an orphan', async () => {
    const h = host();
    const snap = await scanWin32(h.scan);
    expect(snap.processes.map((p) => p.pid)).not.toContain(2000); // the venv launcher stub is dropped
    const g = snap.processes.find((p) => p.pid === 2004)!;
    expect(g.ppid).toBe(1888);
    expect(g.platformHints).toMatchObject({ launcherStub: { pid: 2000, ppid: 1888 }, hermesHome: { path: ARGUS } });
    expect(g.startTicks).toBe(STAMP_2004);
    expect(snap.notes.some((n) => n.detail.includes('not visible'))).toBe(true);

    const { code, report } = await runRecordedOrphans(h.scan);
    const r = report!;
    expect(verdictOf(r, 5004).verdict).toBe('supervised');
    expect(verdictOf(r, 5004).supervisor).toMatchObject({ kind: 'windows-task', unit: 'Hermes_Gateway', mainPid: null });
    expect(verdictOf(r, 5004).supervisor!.via).toContain('PID 5000');
    expect(verdictOf(r, 5004).hermesHome).toBe(ROOT);
    expect(verdictOf(r, 2004).verdict).toBe('supervised');
    expect(verdictOf(r, 2004).supervisor).toMatchObject({ kind: 'windows-task', unit: 'Hermes_Gateway_argus' });
    expect(verdictOf(r, 3204).verdict).toBe('orphan');
    expect(verdictOf(r, 3204).hermesHome).toBe(ARGUS);
    const f = r.findings.find((x) => x.code === 'ORPHAN_GATEWAY' && x.pid === 3204)!;
    expect(f.remedy).toBe('hermes-doctor orphans --kill --pid 3204');
    expect(f.message).toContain('schtasks /Run /TN "Hermes_Gateway_argus"');
    // Gateways open kanban.db per tick, but Windows shows no other process's fds or locks: whether the
    // orphan dispatches beside the task's gateway is unknown (never a critical without evidence), exit 3.
    expect(r.kanban.find((k) => k.db === `${ROOT}/kanban.db`)!.risk).toBe('unknown');
    expect(r.findings.find((f) => f.code === 'KANBAN_RISK_UNKNOWN')!.severity).toBe('unknown');
    expect(code).toBe(3);
  });

  it('a localised schtasks answer gives the same verdicts for argus', async () => {
    const h = host(['win32/malformed/schtasks-localized.txt']);
    const { report } = await runRecordedOrphans(h.scan);
    expect(verdictOf(report!, 2004).verdict).toBe('supervised');
    expect(verdictOf(report!, 3204).verdict).toBe('orphan');
  });
});

describe('schtasks as it really prints (inner quotes not doubled, an odd-quote Comment)', () => {
  it('rows are read one by one: the Hermes tasks survive a third-party row with unbalanced quotes', () => {
    const p = parseSchtasksCsv(readFixture('win32/real-quotes/schtasks.txt').body)!;
    expect(p.tasks.map((t) => [t.name, t.state, t.hermesHome, t.profile, t.enabled])).toEqual([
      ['Hermes_Gateway', 'Running', ROOT, 'default', true],
      ['Hermes_Gateway_argus', 'Ready', ARGUS, 'argus', true],
    ]);
    expect(p.tasks[1]!.taskToRun).toBe('wscript.exe //B //Nologo "C:\\Users\\Alice\\AppData\\Local\\hermes\\profiles\\argus\\gateway-service\\Hermes_Gateway_argus.vbs"');
    // Only the row whose Comment holds `","` cannot be split by the column count; it is not a Hermes task.
    expect(p.problems).toEqual([]);
    expect(p.skipped).toEqual([expect.stringContaining('\\Fabrikam\\Sync')]);
  });

  it('the scan keeps the verdicts: task gateways supervised, the PowerShell gateway an orphan, windows-task present', async () => {
    const { report } = await runRecordedOrphans(host(['win32/real-quotes/schtasks.txt']).scan);
    const sup = report!.supervisors.find((s) => s.kind === 'windows-task')!;
    expect(sup.status).toBe('present');
    expect(sup.detail).toContain('Fabrikam');
    expect(verdictOf(report!, 5004).verdict).toBe('supervised');
    expect(verdictOf(report!, 2004).verdict).toBe('supervised');
    expect(verdictOf(report!, 3204).verdict).toBe('orphan');
  });
});

describe('schtasks in the OEM code page (de-DE, cp850 bytes) beside UTF-8 CIM output', () => {
  const J_ROOT = 'c:/users/jürgen/appdata/local/hermes';
  /** The recorded bytes after the ASCII header, as the runner hands them over: undecoded, and as its UTF-8 text. */
  const cp850 = (() => {
    const all = fs.readFileSync(path.join(FIXTURES, 'win32/de-cp850/schtasks.bin'));
    const body = all.subarray(all.indexOf('\n---\n') + 5);
    return { stdout: body.toString('utf8'), stdoutBytes: body };
  })();
  const oemKey = 'reg query HKLM\\SYSTEM\\CurrentControlSet\\Control\\Nls\\CodePage /v OEMCP';

  function jHost(oem: boolean) {
    const scratch = makeScratch();
    layoutHome(scratch.dir, J_ROOT);
    layoutHome(scratch.dir, `${J_ROOT}/profiles/argus`);
    const cim = readFixture('win32/de-cp850/cim.txt');
    const runner = recordedRunner({
      [cim.meta.key!]: { stdout: cim.body },
      'schtasks /query /fo csv /v': cp850,
      ...(oem ? { [oemKey]: { stdout: '\r\nHKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Control\\Nls\\CodePage\r\n    OEMCP    REG_SZ    850\r\n\r\n' } } : {}),
    });
    const scan: ScanOptions = {
      platform: 'win32',
      runner,
      listProcesses: async () => [],
      files: rootedHostFiles(scratch.dir),
      env: { LOCALAPPDATA: 'C:\\Users\\Jürgen\\AppData\\Local' },
      hostname: 'JUERGEN-PC',
      selfPid: 99999,
    };
    return { scan, runner };
  }

  it('the fixture really is cp850: ü is byte 0x81, not UTF-8', () => {
    expect(cp850.stdoutBytes.includes(Buffer.from('J\x81rgen', 'latin1'))).toBe(true);
    expect(cp850.stdout).not.toContain('Jürgen');
  });

  it('decoded in the OEM code page, the task launcher path matches the CIM path: the gateways are supervised by their tasks', async () => {
    const h = jHost(true);
    const { report } = await runRecordedOrphans(h.scan);
    const sup = report!.supervisors.find((s) => s.kind === 'windows-task')!;
    expect(sup.status).toBe('present');
    expect(sup.detail).toContain('decoded as cp850');
    expect(verdictOf(report!, 5004).verdict).toBe('supervised');
    expect(verdictOf(report!, 5004).supervisor).toMatchObject({ kind: 'windows-task', unit: 'Hermes_Gateway' });
    expect(verdictOf(report!, 5004).hermesHome).toBe(J_ROOT);
    expect(verdictOf(report!, 2004).verdict).toBe('supervised');
    expect(verdictOf(report!, 2004).supervisor).toMatchObject({ kind: 'windows-task', unit: 'Hermes_Gateway_argus' });
    expect(h.runner.calls).toContain(oemKey);
  });

  it('the OEM code page unknown (reg fails): cp850 is assumed and said so; the verdicts hold for this host', async () => {
    const { report } = await runRecordedOrphans(jHost(false).scan);
    const sup = report!.supervisors.find((s) => s.kind === 'windows-task')!;
    expect(sup.detail).toContain('OEM code page is unknown');
    expect(verdictOf(report!, 5004).verdict).toBe('supervised');
  });
});

describe('Windows malformed and failing outputs: clear unknown, no crash', () => {
  it('Get-CimInstance truncated → the CLI says why and exits 3', async () => {
    const { code, err } = await runRecordedOrphans(host(['win32/malformed/cim-truncated.txt']).scan);
    expect(err).toContain('not JSON (truncated?)');
    expect(code).toBe(3);
  });

  it('Get-CimInstance failing → exit 3 with PowerShell\'s reason', async () => {
    const { code, err } = await runRecordedOrphans(host(['win32/malformed/cim-fails.txt']).scan);
    expect(err).toContain('Get-CimInstance Win32_Process failed');
    expect(err).toContain('service cannot be started');
    expect(code).toBe(3);
  });

  it('ps-list failing on Windows: a note, Get-CimInstance alone still decides', async () => {
    const h = host();
    const snap = await scanWin32({
      ...h.scan,
      listProcesses: async () => {
        throw new Error('fastlist.exe exited with code 1');
      },
    });
    expect(snap.notes.some((n) => n.detail.includes('ps-list failed (fastlist.exe exited with code 1)'))).toBe(true);
    expect(snap.processes.map((p) => p.pid)).toContain(3204);
  });

  it('damaged CIM rows: skipped with a note, a bad CreationDate gives no start time', async () => {
    const snap = await scanWin32(host(['win32/malformed/cim-rows.txt']).scan);
    expect(snap.notes.some((n) => n.detail.includes('without a ProcessId'))).toBe(true);
    expect(snap.notes.some((n) => n.detail.includes('command lines of 1 Python/Hermes process(es) are not visible (PID 6100)'))).toBe(true);
    const p = snap.processes.find((x) => x.pid === 3204)!;
    expect(p.startTicks).toBe(0);
    expect(p.startTime).toBeNull();
  });

  for (const [fixture, why] of [
    ['win32/malformed/schtasks-truncated.txt', 'incomplete'],
    ['win32/malformed/schtasks-denied.txt', 'Access is denied'],
    ['win32/malformed/schtasks-garbage.txt', 'not understood'],
  ] as const) {
    it(`schtasks ${fixture.split('-').pop()!.replace('.txt', '')} → windows-task unknown (${why}); no gateway is called an orphan on a guess`, async () => {
      const { code, report } = await runRecordedOrphans(host([fixture]).scan);
      const sup = report!.supervisors.find((s) => s.kind === 'windows-task')!;
      expect(sup.status).toBe('unknown');
      expect(sup.detail).toContain(why);
      expect(code).toBe(3);
      for (const p of report!.processes.filter((x) => x.role === 'gateway')) expect(['unknown', 'orphan', 'supervised']).toContain(p.verdict);
      if (fixture.includes('denied') || fixture.includes('garbage')) {
        expect(report!.processes.filter((x) => x.role === 'gateway').every((p) => p.verdict === 'unknown')).toBe(true);
      }
    });
  }
});

describe('windowsSignaller (recorded taskkill and Get-CimInstance)', () => {
  const idKey = ['powershell.exe', ...cimArgs('ProcessId=3204')].join(' ');

  it('identity: start stamp and argv as the scan records them; null once gone; a reused PID differs', async () => {
    const runner = recordedRunner({ [idKey]: [recordedResult('win32/signaller/identity-3204.txt'), recordedResult('win32/signaller/identity-reused.txt'), recordedResult('win32/signaller/identity-none.txt')] });
    const s = windowsSignaller(runner);
    const first = await s.identity(3204);
    expect(first).toEqual({ pid: 3204, startTicks: Date.UTC(2026, 10, 20, 9, 5, 0) / 10 + 50, argv: ['python', '-m', 'hermes_cli.main', '--profile', 'argus', 'gateway', 'run', '--replace'] });
    const reused = await s.identity(3204);
    expect(reused!.startTicks).not.toBe(first!.startTicks);
    expect(await s.identity(3204)).toBeNull();
    expect(runner.calls.every((c) => c === idKey)).toBe(true);
  });

  it('identity that cannot be read throws (an unknown identity must stop a kill)', async () => {
    const s = windowsSignaller(recordedRunner({}));
    await expect(s.identity(3204)).rejects.toThrow(/cannot read the identity of PID 3204: ENOENT/);
    await expect(s.identity(0)).rejects.toThrow(/invalid PID/);
  });

  it('term is taskkill /PID N; a windowless gateway refuses it (eperm + reason), kill is taskkill /PID N /F', async () => {
    const runner = recordedRunner({
      'taskkill /PID 3204': recordedResult('win32/signaller/taskkill-term-forcefully.txt'),
      'taskkill /PID 3204 /F': [recordedResult('win32/signaller/taskkill-force-ok.txt'), recordedResult('win32/signaller/taskkill-notfound.txt')],
      'taskkill /PID 900 /F': recordedResult('win32/signaller/taskkill-denied.txt'),
    });
    const s = windowsSignaller(runner);
    expect(await s.signal(3204, 'term')).toBe('eperm');
    expect(s.lastDetail).toContain('terminated forcefully');
    expect(await s.signal(3204, 'kill')).toBe('sent');
    expect(await s.signal(3204, 'kill')).toBe('gone');
    expect(await s.signal(900, 'kill')).toBe('eperm');
    expect(s.lastDetail).toContain('Access is denied');
    expect(runner.calls).toEqual(['taskkill /PID 3204', 'taskkill /PID 3204 /F', 'taskkill /PID 3204 /F', 'taskkill /PID 900 /F']);
  });

  it('an unexpected taskkill answer is an error, not a guess', async () => {
    const s = windowsSignaller(recordedRunner({ 'taskkill /PID 5 /F': { code: 2, stderr: 'ERROR: Invalid syntax.' } }));
    await expect(s.signal(5, 'kill')).rejects.toThrow(/exit 2/);
  });
});
