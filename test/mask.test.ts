// The masking policy (src/core/mask.ts) and the output boundary (src/output/redact.ts), pure.
import { describe, expect, it } from 'vitest';
import { MASK, isSecretFlag, isSecretName, maskArgv, maskArgvDetailed, maskText } from '../src/core/mask.js';
import { redact, renderJsonDocument, textModel } from '../src/output/redact.js';
import { renderSnapshot } from '../src/output/snapshot.js';
import type { HostSnapshot } from '../src/types.js';
import { escapeControls, sanitizeTerminalText } from '../src/output/terminal.js';

const JWT = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhcmd1cyJ9.c2lnbmF0dXJlLXNpZ25hdHVyZQ';
const GATEWAY = ['python3', '-m', 'hermes_cli.main', '-p', 'argus', 'gateway', 'run', '--replace'];

describe('mask policy: flags', () => {
  it.each([
    ['--api-key', 'v4lue-one'],
    ['--openai-api-key', 'v4lue-one'],
    ['--bot-token', 'v4lue-one'],
    ['--token', '-starts-with-dash'],
    ['--secret', 'v4lue-one'],
    ['--client_secret', 'v4lue-one'],
    ['--password', 'v4lue-one'],
    ['--passwd', 'v4lue-one'],
    ['--pass', 'v4lue-one'],
    ['--pw', 'v4lue-one'],
    ['--auth', 'v4lue-one'],
    ['--credential', 'v4lue-one'],
    ['--credentials', 'v4lue-one'],
    ['--cookie', 'v4lue-one'],
    ['--session', 'v4lue-one'],
    ['--bearer', 'v4lue-one'],
    ['--webhook-url', 'https://hooks.example.com/services/T0/B0/v4lue-one'],
    ['--key', 'v4lue-one'],
    ['-password', 'v4lue-one'],
  ])('%s VALUE and %s=VALUE', (flag, value) => {
    const spaced = maskArgvDetailed([...GATEWAY, flag, value]);
    expect(spaced.argv).toEqual([...GATEWAY, flag, MASK]);
    expect(spaced.masked).toEqual([GATEWAY.length + 1]);
    expect(maskArgv([...GATEWAY, `${flag}=${value}`])).toEqual([...GATEWAY, `${flag}=${MASK}`]);
    // Inside a script the same flag is found in the text.
    expect(maskArgv(['sh', '-c', `hermes ${flag} ${value} gateway run`])[2]).toBe(`hermes ${flag} ${MASK} gateway run`);
  });

  it('never masks one-letter flags, Hermes flags or ordinary options', () => {
    for (const f of ['-p', '-k', '--profile', '--replace', '--home', '--pid', '--kill', '--keep', '--passthrough-x']) {
      if (f !== '--passthrough-x') expect(isSecretFlag(f), f).toBe(false);
    }
    const argv = [...GATEWAY, '--home', '/root/.hermes', '-k', 'x', '--pid', '15747'];
    expect(maskArgvDetailed(argv)).toEqual({ argv, masked: [] });
    expect(maskArgv(['hermes', 'chat', '-q', 'work kanban task t_abc123'])).toEqual(['hermes', 'chat', '-q', 'work kanban task t_abc123']);
  });
});

describe('mask policy: assignments, headers, URLs, shapes', () => {
  it('NAME=value with a secret-looking NAME, alone, behind env, inside sh -c / bash -c scripts', () => {
    expect(isSecretName('OPENAI_API_KEY')).toBe(true);
    expect(isSecretName('DB_PASSWORD')).toBe(true);
    expect(isSecretName('HERMES_HOME')).toBe(false);
    expect(isSecretName('KEYBOARD_LAYOUT')).toBe(false);
    expect(maskArgv(['env', 'OPENAI_API_KEY=v4lue-one', 'HERMES_HOME=/h', ...GATEWAY])).toEqual(['env', `OPENAI_API_KEY=${MASK}`, 'HERMES_HOME=/h', ...GATEWAY]);
    // An entry that starts with a secret assignment is masked to its end: its value may hold blanks.
    expect(maskArgv(['env', '-S', 'SLACK_TOKEN=v4lue one python3 -m hermes_cli.main gateway run'])[2]).toBe(`SLACK_TOKEN=${MASK}`);
    expect(maskArgv(['env', '-S', 'HERMES_HOME=/h SLACK_TOKEN=v4lue-one python3 -m hermes_cli.main gateway run'])[2]).toBe(
      `HERMES_HOME=/h SLACK_TOKEN=${MASK} python3 -m hermes_cli.main gateway run`,
    );
    const script = `export TELEGRAM_BOT_TOKEN='v4lue one'; GITHUB_PASSWORD="v4lue-two" HERMES_HOME=/h exec python3 -m hermes_cli.main gateway run`;
    const m = maskArgv(['bash', '-c', script]);
    expect(m[2]).toBe(`export TELEGRAM_BOT_TOKEN=${MASK}; GITHUB_PASSWORD=${MASK} HERMES_HOME=/h exec python3 -m hermes_cli.main gateway run`);
  });

  it('Authorization:, Bearer and X-Api-Key header forms', () => {
    expect(maskText('Authorization: Bearer v4lue-one-long')).toBe(`Authorization: Bearer ${MASK}`);
    expect(maskText('Authorization: Basic dXNlcjpwYXNzd29yZA==')).toBe(`Authorization: Basic ${MASK}`);
    expect(maskText('authorization:v4lue-one')).toBe(`authorization:${MASK}`);
    expect(maskText('X-Api-Key: v4lue-one')).toBe(`X-Api-Key: ${MASK}`);
    expect(maskText('Cookie: sid=v4lue-one')).toBe(`Cookie: ${MASK}`);
    expect(maskText('curl -H "Authorization: Bearer v4lue-one-long" https://x')).toBe(`curl -H "Authorization: Bearer ${MASK}" https://x`);
    expect(maskText('uses Bearer v4lue-one-long here')).toBe(`uses Bearer ${MASK} here`);
    expect(maskArgv(['curl', '-H', 'X-Api-Key: v4lue-one', 'https://api.example.com'])).toEqual(['curl', '-H', `X-Api-Key: ${MASK}`, 'https://api.example.com']);
  });

  it('URL userinfo', () => {
    expect(maskText('https://bob:v4lue-one@example.com/x')).toBe(`https://bob:${MASK}@example.com/x`);
    expect(maskText('redis://:v4lue-one@127.0.0.1:6379/0')).toBe(`redis://:${MASK}@127.0.0.1:6379/0`);
    expect(maskText('https://v4lue-one@o1.ingest.example.io/1')).toBe(`https://${MASK}@o1.ingest.example.io/1`);
    expect(maskText('https://example.com/a@b')).toBe('https://example.com/a@b');
  });

  it('query parameters, quoted pairs and webhook URLs', () => {
    expect(maskText('https://api.example.com/v1?api_key=v4lue-one&page=2')).toBe(`https://api.example.com/v1?api_key=${MASK}&page=2`);
    expect(maskText('{"model": "x", "api_key": "v4lue-one"}')).toBe(`{"model": "x", "api_key": "${MASK}"}`);
    expect(maskText("{'token': 'v4lue-one'}")).toBe(`{'token': '${MASK}'}`);
    expect(maskText('https://hooks.slack.com/services/T000/B000/v4lue0ne')).toBe(`https://hooks.slack.com/services/${MASK}`);
    expect(maskText('https://discord.com/api/webhooks/123456/v4lue-one')).toBe(`https://discord.com/api/webhooks/${MASK}`);
  });

  it('token shapes anywhere, glued to other text', () => {
    expect(maskText('k=sk-proj-abcdefghijkl')).toBe(`k=sk-${MASK}`);
    expect(maskText('sk-ant-api03-abcdefghijklmnop')).toBe(`sk-${MASK}`);
    expect(maskText('xoxb-1234567890-abcdef')).toBe(`xoxb-${MASK}`);
    expect(maskText('xoxp-1234567890-abcdef')).toBe(`xoxp-${MASK}`);
    expect(maskText('xoxa-1234567890-abcdef')).toBe(`xoxa-${MASK}`);
    expect(maskText('ghp_abcdefghijklmnop1234')).toBe(`ghp_${MASK}`);
    expect(maskText('id:AKIAIOSFODNN7EXAMPLE')).toBe(`id:AKIA${MASK}`);
    expect(maskText(`token=${JWT};`)).toBe(`token=${MASK};`);
    expect(maskArgv(['x', `--data={"t":"${JWT}"}`])[1]).not.toContain(JWT.slice(20));
  });

  it('leaves ordinary text, paths and our own messages alone', () => {
    for (const t of [
      '/root/.hermes/profiles/argus',
      'HERMES_HOME /root/.hermes/profiles/argus (from argv -p argus)',
      'launched by hand: no controlling terminal, session 15747',
      'hermes-doctor orphans --kill --pid 15747',
      's6-svc -r /run/service/gateway-argus',
      '0::/system.slice/hermes-gateway-argus.service',
      '1:name=systemd:/user.slice/user-1000.slice/session-3.scope',
      'dispatcher lock: PID 15745',
      '2026-11-23T09:12:25.634Z',
    ]) {
      expect(maskText(t), t).toBe(t);
    }
  });

  it('keeps the argv length, says which entries were masked, and masks twice to the same result', () => {
    const argv = [...GATEWAY, '--api-key', '-v4lue-secret', 'OPENAI_API_KEY=x', `${JWT}`, '--token=y', 'plain'];
    const once = maskArgvDetailed(argv);
    expect(once.argv).toEqual([...GATEWAY, '--api-key', MASK, `OPENAI_API_KEY=${MASK}`, MASK, `--token=${MASK}`, 'plain']);
    expect(once.masked).toEqual([9, 10, 11, 12]);
    expect(maskArgvDetailed(once.argv)).toEqual(once);
  });
});

describe('output boundary', () => {
  it('redact masks every argv entry by entry, adds argvMasked, masks other strings, keeps the input', () => {
    const input = { processes: [{ pid: 7, argv: [...GATEWAY, '--api-key', 'v4lue-one'], reasons: ['seen with --token v4lue-two'] }], note: 'sk-abcdefghijkl' };
    const before = JSON.stringify(input);
    const out = redact(input) as unknown as { processes: { argv: string[]; argvMasked: number[]; reasons: string[] }[]; note: string };
    expect(JSON.stringify(input)).toBe(before);
    expect(out.processes[0]!.argv).toEqual([...GATEWAY, '--api-key', MASK]);
    expect(out.processes[0]!.argvMasked).toEqual([9]);
    expect(out.processes[0]!.reasons).toEqual([`seen with --token ${MASK}`]);
    expect(out.note).toBe(`sk-${MASK}`);
  });

  it('textModel shows control characters visibly; JSON keeps exact strings and escapes DEL and C1', () => {
    const hostile = 'a\u001b]0;pwned\u0007b\u001b[2Jc\nPID 1 supervised: fake\u009b31m\u007f\u202e';
    const t = textModel({ s: hostile, argv: [hostile] });
    const shown = '\\x1b]0;pwned\\x07b\\x1b[2Jc\\nPID 1 supervised: fake\\x9b31m\\x7f\\u202e';
    expect(t.s).toBe(`a${shown}`);
    expect(t.argv[0]).toBe(`a${shown}`);
    const json = renderJsonDocument({ s: hostile });
    expect(json).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202e]/);
    expect((JSON.parse(json) as { s: string }).s).toBe(hostile);
    expect(escapeControls('C:\\Users\\x\t')).toBe('C:\\Users\\x\\t');
  });

  it('the terminal writer keeps our newlines, tabs, SGR colours and a leading \\r; escapes everything else', () => {
    expect(sanitizeTerminalText('\u001b[1mPID\u001b[22m\tok\n')).toBe('\u001b[1mPID\u001b[22m\tok\n');
    expect(sanitizeTerminalText('\rPID 5: SIGTERM sent')).toBe('\rPID 5: SIGTERM sent');
    expect(sanitizeTerminalText('x\ry\u001b[2J\u001b]0;t\u0007\u009b\u0000')).toBe('x\\ry\\x1b[2J\\x1b]0;t\\x07\\x9b\\x00');
  });
});

describe('snapshot files', () => {
  it('mask every supervisor command line and error text too (launchd ProgramArguments, Task To Run, details)', () => {
    const secret = 'sk-h13ui-snapshot-secret';
    const snap: HostSnapshot = {
      schema: 'hermes-doctor.snapshot/v1',
      takenAt: '2026-12-02T06:00:00.000Z',
      hostname: 'vm',
      platform: 'darwin',
      scannerUid: 501,
      scannerPids: [1234],
      processes: [],
      locks: [],
      homes: [],
      notes: [{ what: 'launchd', detail: `launchctl said --token ${secret}` }],
      supervisors: [
        { kind: 'launchd', status: 'present', detail: `Authorization: Bearer ${secret}`, launchdJobs: [{ label: 'ai.hermes.gateway', domain: 'gui/501', pid: 0, state: null, hermesHome: null, profile: null, arguments: ['hermes', '--api-key', secret, 'gateway', 'run'] }] },
        { kind: 'windows-task', status: 'present', detail: '', windowsTasks: [{ name: 'Hermes_Gateway', state: 'Ready', hermesHome: null, profile: null, taskToRun: `wscript.exe run.vbs --api-key ${secret}` }] },
      ],
    } as unknown as HostSnapshot;
    const text = renderSnapshot(snap);
    expect(text).not.toContain(secret);
    const parsed = JSON.parse(text) as HostSnapshot;
    expect(parsed.supervisors[0]!.launchdJobs![0]!.arguments).toEqual(['hermes', '--api-key', MASK, 'gateway', 'run']);
  });
});

describe('mask policy: Telegram Bot API URLs', () => {
  it('masks a bot token glued to `bot` in the API URL, as platform errors quote it', () => {
    const token = '123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw';
    const out = maskText(`409 Conflict: https://api.telegram.org/bot${token}/getUpdates`);
    expect(out).not.toContain(token);
    expect(out).toContain('https://api.telegram.org/bot');
    expect(maskText('robot 123456789:short')).toBe('robot 123456789:short');
  });
});
