/**
 * What a home's files say about its gateway's next start: the platforms of gateway_state.json, the
 * planned-stop marker, `.clean_shutdown`, SOUL.md, and deleted profiles whose tombstone outlived the
 * folder. Formats from gateway/status.py and gateway/run.py at v0.15.1 and 306e2d2.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { listProfileHomes, parseIdentityFile, platformsOf, readHome, readPlannedStop } from '../src/sources/homes.js';
import { validateSnapshot } from '../src/sources/snapshot-file.js';
import { cleanUpAfterEach } from './harness/cleanup.js';
import { snapshot } from './harness/records.js';
import { makeScratch } from './harness/scratch.js';

cleanUpAfterEach();

describe('platforms of gateway_state.json', () => {
  it('one record per platform, sorted, with state and error code; absent when the file has none', () => {
    const state = parseIdentityFile(
      '/h/gateway_state.json',
      JSON.stringify({
        pid: 10,
        gateway_state: 'running',
        platforms: {
          telegram: { state: 'fatal', error_code: 'unauthorized', error_message: 'Unauthorized', updated_at: '2026-12-02T10:00:00+00:00' },
          discord: { state: 'connected', updated_at: '2026-12-02T10:00:01+00:00' },
        },
      }),
      'state',
    );
    expect(state.platforms).toEqual([
      { name: 'discord', state: 'connected', errorCode: null, errorMessage: null, updatedAt: '2026-12-02T10:00:01+00:00' },
      { name: 'telegram', state: 'fatal', errorCode: 'unauthorized', errorMessage: 'Unauthorized', updatedAt: '2026-12-02T10:00:00+00:00' },
    ]);
    expect(parseIdentityFile('/h/gateway_state.json', '{"pid":10}', 'state').platforms).toBeUndefined();
    expect(parseIdentityFile('/h/gateway.pid', '{"pid":10,"platforms":{"x":{}}}', 'pid').platforms).toBeUndefined();
  });

  it('masks a token quoted in an error message, cuts it, and takes no non-string for a string', () => {
    const token = '123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw';
    const p = platformsOf({
      telegram: { state: 'fatal', error_message: `409 Conflict for bot${token}: ${'x'.repeat(1000)}`, error_code: 409 },
      weird: 'not an object',
      odd: { state: ['connected'] },
    })!;
    const tg = p.find((x) => x.name === 'telegram')!;
    expect(tg.errorMessage).not.toContain(token);
    expect(tg.errorMessage!.length).toBeLessThanOrEqual(300);
    expect(tg.errorCode).toBe('409');
    expect(p.find((x) => x.name === 'weird')).toEqual({ name: 'weird', state: null, errorCode: null, errorMessage: null, updatedAt: null });
    expect(p.find((x) => x.name === 'odd')!.state).toBeNull();
    expect(platformsOf(Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`p${i}`, {}])))).toHaveLength(64);
    expect(platformsOf(['telegram'])).toBeNull();
  });
});

describe('markers of a home', () => {
  it('reads the planned-stop marker, .clean_shutdown and SOUL.md, and refuses a FIFO as a marker', () => {
    const s = makeScratch('home-rec-');
    const home = s.dir;
    expect(readHome(home)).toMatchObject({ plannedStop: { status: 'missing', targetPid: null }, cleanShutdown: false, hasSoul: false });
    fs.writeFileSync(path.join(home, '.gateway-planned-stop.json'), JSON.stringify({ target_pid: 4242, target_start_time: 98765, stopper_pid: 1, written_at: '2026-12-02T10:00:00+00:00' }));
    fs.writeFileSync(path.join(home, '.clean_shutdown'), '');
    fs.writeFileSync(path.join(home, 'SOUL.md'), '# soul\n');
    expect(readHome(home)).toMatchObject({
      plannedStop: { status: 'ok', targetPid: 4242, targetStartTime: 98765, writtenAt: '2026-12-02T10:00:00+00:00' },
      cleanShutdown: true,
      hasSoul: true,
    });
    fs.writeFileSync(path.join(home, '.gateway-planned-stop.json'), '{"target_pid": ');
    expect(readHome(home).plannedStop!.status).toBe('corrupt');
    fs.rmSync(path.join(home, '.gateway-planned-stop.json'));
    execFileSync('mkfifo', [path.join(home, '.gateway-planned-stop.json')]);
    const fifo = readPlannedStop(path.join(home, '.gateway-planned-stop.json'));
    expect(fifo.status).toBe('unreadable');
    expect(fifo.error).toMatch(/FIFO/);
  });

  it('brings a tombstoned profile into sight after its folder is gone, and lists nothing Hermes would not name', () => {
    const s = makeScratch('home-rec-');
    const root = path.join(s.dir, '.hermes');
    fs.mkdirSync(path.join(root, 'profiles', 'argus'), { recursive: true });
    fs.mkdirSync(path.join(root, 'profiles', '.deleted', 'minos'), { recursive: true });
    fs.writeFileSync(path.join(root, 'profiles', '.deleted', 'hera'), '{}');
    fs.mkdirSync(path.join(root, 'profiles', 'Not A Profile'), { recursive: true });
    expect(listProfileHomes(root)).toEqual(['argus', 'hera', 'minos'].map((n) => path.join(root, 'profiles', n)));
    const minos = readHome(path.join(root, 'profiles', 'minos'));
    expect(minos).toMatchObject({ exists: false, tombstoned: true, profile: 'minos' });
  });
});

describe('snapshot files keep the new home fields', () => {
  it('validates them and names a mistyped one by its JSON path', () => {
    const h = readHome('/nonexistent/hermes-doctor/home');
    const good = snapshot({
      homes: [{ ...h, stateFile: { ...h.stateFile, platforms: [{ name: 'telegram', state: 'fatal', errorCode: null, errorMessage: null, updatedAt: null }] } }],
      homePorts: [{ home: h.path, variable: 'API_SERVER_PORT', port: 8642, source: 'default', listeners: [{ pid: 7, name: 'python3' }] }],
    });
    expect(validateSnapshot(JSON.parse(JSON.stringify(good))).homePorts).toHaveLength(1);
    const bad = JSON.parse(JSON.stringify(good));
    bad.homes[0].plannedStop.targetPid = 'x';
    bad.homePorts[0].listeners = [{ pid: 'seven', name: 'python3' }];
    expect(() => validateSnapshot(bad, 'bad.json')).toThrow(/homes\[0\]\.plannedStop\.targetPid: expected an integer.*homePorts\[0\]\.listeners\[0\]\.pid/s);
  });
});
