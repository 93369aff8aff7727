/**
 * The ports a home's gateway is configured to serve (Hermes's rules: sources/ports.ts) and who really
 * listens on them: a real listener started by the test, found through /proc/net/tcp and its fd table.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { scanLinux } from '../src/sources/linux/scan.js';
import { API_SERVER_DEFAULT_PORT, WEBHOOK_DEFAULT_PORT, configuredPorts, parseDotenvPorts, parseProcNetTcp } from '../src/sources/ports.js';
import { cleanUpAfterEach } from './harness/cleanup.js';
import { registerPid } from './harness/processes.js';
import { makeScratch } from './harness/scratch.js';
import { isLinux, requireOrSkip } from './harness/skip.js';

cleanUpAfterEach();

describe('configured ports (Hermes 306e2d2 gateway/config.py rules)', () => {
  it('API server off unless enabled; enabled by API_SERVER_ENABLED or a key; port from .env, else config.yaml, else 8642', () => {
    const s = makeScratch('ports-');
    const home = s.dir;
    expect(configuredPorts(home)).toEqual([]);
    fs.writeFileSync(path.join(home, '.env'), 'API_SERVER_KEY="sk-live-123456789abcdef"\n');
    expect(configuredPorts(home)).toEqual([{ variable: 'API_SERVER_PORT', port: API_SERVER_DEFAULT_PORT, source: "Hermes's default for the api_server platform" }]);
    fs.writeFileSync(path.join(home, 'config.yaml'), 'platforms:\n  api_server:\n    enabled: true\n    extra:\n      port: 9100\n  webhook:\n    enabled: true\n');
    fs.writeFileSync(path.join(home, '.env'), '');
    expect(configuredPorts(home)).toEqual([
      { variable: 'API_SERVER_PORT', port: 9100, source: `platforms.api_server.extra.port in ${home}/config.yaml` },
      { variable: 'WEBHOOK_PORT', port: WEBHOOK_DEFAULT_PORT, source: "Hermes's default for the webhook platform" },
    ]);
    // .env overrides the gateway's environment, and the env block overrides config.yaml.
    fs.writeFileSync(path.join(home, '.env'), 'export API_SERVER_PORT=9200 # local\n');
    expect(configuredPorts(home, { API_SERVER_PORT: '9300' })[0]).toEqual({ variable: 'API_SERVER_PORT', port: 9200, source: `API_SERVER_PORT in ${home}/.env` });
    fs.writeFileSync(path.join(home, '.env'), '');
    expect(configuredPorts(home, { API_SERVER_PORT: '9300' })[0]!.port).toBe(9300);
  });

  it('keeps no secret from .env: API_SERVER_KEY only as set or not; garbage ports are ignored', () => {
    const r = parseDotenvPorts('API_SERVER_KEY=sk-secret\nOPENAI_API_KEY=sk-other\nAPI_SERVER_ENABLED=yes\nAPI_SERVER_PORT=99999\n');
    expect(r.keySet).toBe(true);
    expect(JSON.stringify(r)).not.toContain('sk-');
    const s = makeScratch('ports-');
    fs.writeFileSync(path.join(s.dir, '.env'), 'API_SERVER_ENABLED=on\nAPI_SERVER_PORT=99999\n');
    expect(configuredPorts(s.dir)[0]!.port).toBe(API_SERVER_DEFAULT_PORT);
    fs.writeFileSync(path.join(s.dir, 'config.yaml'), ': not yaml [');
    expect(configuredPorts(s.dir)).toHaveLength(1);
  });

  it('parses /proc/net/tcp LISTEN sockets only', () => {
    const text = [
      '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
      '   0: 0100007F:21C2 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 4242 1 0000000000000000 100 0 0 10 0',
      '   1: 0100007F:21C2 0100007F:D431 01 00000000:00000000 00:00000000 00000000     0        0 4343 1 0000000000000000 20 4 30 10 -1',
    ].join('\n');
    expect([...parseProcNetTcp(text)]).toEqual([[0x21c2, [4242]]]);
  });
});

describe.skipIf(requireOrSkip('Linux /proc', isLinux()))('a real listener on a home API port', () => {
  let child: ChildProcess | null = null;
  afterEach(() => {
    if (child?.pid && child.exitCode === null) child.kill('SIGKILL');
    child = null;
  });

  it('names the process that listens, and nobody once it is gone', async () => {
    const s = makeScratch('ports-real-');
    const home = path.join(s.dir, '.hermes');
    fs.mkdirSync(home);
    // The child binds port 0 on loopback and prints the port the kernel gave it.
    child = spawn(process.execPath, ['-e', "const s=require('net').createServer().listen(0,'127.0.0.1',()=>console.log(s.address().port));setInterval(()=>{},1e6)"], { stdio: ['ignore', 'pipe', 'inherit'] });
    registerPid(child.pid!);
    const port = await new Promise<number>((resolve, reject) => {
      child!.stdout!.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
      child!.once('exit', () => reject(new Error('listener exited')));
    });
    fs.writeFileSync(path.join(home, '.env'), `API_SERVER_ENABLED=true\nAPI_SERVER_PORT=${port}\n`);
    const snap = await scanLinux({ extraHomes: [home], s6ScanDir: '/nonexistent/hermes-doctor-no-s6' });
    expect(snap.homePorts).toEqual([{ home, variable: 'API_SERVER_PORT', port, source: `API_SERVER_PORT in ${home}/.env`, listeners: [{ pid: child.pid!, name: 'node' }] }]);

    const pid = child.pid!;
    child.kill('SIGKILL');
    await new Promise((r) => child!.once('exit', r));
    const after = await scanLinux({ extraHomes: [home], s6ScanDir: '/nonexistent/hermes-doctor-no-s6' });
    expect(after.homePorts![0]!.listeners).toEqual([]);
    expect(after.homePorts![0]!.listeners!.some((l) => l.pid === pid)).toBe(false);
  }, 30_000);
});
