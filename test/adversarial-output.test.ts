// What a local user can put in front of hermes-doctor's output: escape sequences and forged lines in
// argv and folder names, secrets in argv. Real stand-in gateways (python3), real folders, the real CLI
// (bin/hermes-doctor.js as a program, and in-process for the y/N plan). Every text output must carry no
// raw control character and no forged line; no output (table, JSON, snapshot file, guard, --kill plan
// and actions, audit log, Prometheus) may carry a secret.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MASK } from '../src/core/mask.js';
import type { Report } from '../src/types.js';
import { NO_S6, homesArgs, runCli } from './harness/cli.js';
import { CLI_BIN, type StartedProcess, killAll, startGateway, waitForGatewayReady } from './harness/processes.js';
import { schemaAssertion } from './harness/schema.js';
import { cleanupAllScratch, makeScratch, profileHome } from './harness/scratch.js';
import { hasPython3, isLinux, requireOrSkip } from './harness/skip.js';

const assertOrphansV1 = schemaAssertion('orphans-v1.schema.json');
const assertGuardV1 = schemaAssertion('guard-v1.schema.json');

const JWT = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJoMTN1aSJ9.aDEzdWktand0LXNpZ25hdHVyZQ';
/** Each secret, and the argv entries that carry it. */
const SECRETS = {
  anthropic: 'sk-ant-api03-h13uiAAAABBBBCCCC',
  dashValue: '-h13ui-dash-value-secret',
  envValue: 'h13ui-env-value-secret',
  bearer: 'h13uiBearerSecret123',
  urlPassword: 'h13uiUrlPassword',
  jwt: JWT,
  github: 'ghp_h13uiGithubToken0123456789',
  script: 'h13ui-script-secret',
  pw: 'h13ui-pw-secret',
};
const SECRET_ARGS = [
  '--api-key', SECRETS.anthropic,
  '--token', SECRETS.dashValue,
  `OPENAI_API_KEY=${SECRETS.envValue}`,
  '-H', `Authorization: Bearer ${SECRETS.bearer}`,
  `https://bob:${SECRETS.urlPassword}@example.com/hook`,
  `--id-token=${SECRETS.jwt}`,
  SECRETS.github,
  `export SLACK_BOT_TOKEN=${SECRETS.script}; exec hermes`,
  '--pw', SECRETS.pw,
];
/** The attack of the issue: retitle the terminal, clear it, and forge a report line; plus C1 CSI and DEL. */
const HOSTILE_ARGS = ['\u001b]0;pwned\u0007', '\u001b[2J', 'l1\nPID 1 supervised: fake', '\u009b31mc1\u007f'];
/** A profile folder whose name paints and forges a line in the PROFILE cell and every path. */
const HOSTILE_PROFILE = 'ev\u001b[31mil\nPID 1 supervised: forged';
/** A root folder with an OSC title sequence in its name: the kanban section and Prometheus labels show it. */
const HOSTILE_DIR = 'ro\u001b]0;t\u0007ot\r';

/** Control characters no text output may carry raw (after chalk's SGR colours are taken out). */
function rawControls(text: string): string[] {
  const rest = text.replace(/\u001b\[[0-9;]*m/g, '');
  return [...rest.matchAll(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g)].map((m) => JSON.stringify(m[0]));
}

function expectInert(what: string, text: string): void {
  expect(rawControls(text), `${what}: raw control characters`).toEqual([]);
  expect(text, `${what}: a forged report line`).not.toMatch(/^\s*PID 1 supervised/m);
}

function expectNoSecret(what: string, text: string): void {
  for (const [name, s] of Object.entries(SECRETS)) expect(text.includes(s), `${what} shows the ${name} secret`).toBe(false);
}

/** Runs bin/hermes-doctor.js as a program, no colour unless asked. */
function bin(args: string[], env: Record<string, string> = {}): { code: number; out: string; err: string } {
  const r = spawnSync(process.execPath, [CLI_BIN, ...args], {
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '', ...env },
  });
  if (r.error) throw r.error;
  return { code: r.status ?? -1, out: r.stdout, err: r.stderr };
}

describe.skipIf(requireOrSkip('Linux with python3 (stand-in gateways)', isLinux() && hasPython3()))('hostile argv and folder names, real CLI', () => {
  let scratch: ReturnType<typeof makeScratch>;
  let plain: StartedProcess;
  let painted: StartedProcess;
  let plainHome: string;
  let paintedRoot: string;
  let paintedHome: string;
  let scope: string[];

  /**
   * A ghost (its profile folder removed after start) with the hostile argv: a --kill target and a guard
   * rival. Started by the test that needs it, so that the window in which any other `--kill` on this
   * machine could end it stays short; its scope args cover its root and home.
   */
  async function startGhost(): Promise<{ ghost: StartedProcess; ghostRoot: string; ghostHome: string; ghostScope: string[] }> {
    const ghostRoot = scratch.root('ghosty');
    const ghostHome = profileHome(ghostRoot, 'ghosty');
    const ghost = startGateway({ root: ghostRoot, profile: 'ghosty', args: ['gateway', 'run', ...HOSTILE_ARGS, ...SECRET_ARGS], env: { STANDIN_NO_KANBAN: '1' } });
    await waitForGatewayReady(ghostHome, ghost.pid);
    fs.rmSync(ghostHome, { recursive: true, force: true });
    return { ghost, ghostRoot, ghostHome, ghostScope: [...scope, ...homesArgs(ghostRoot, ghostHome)] };
  }

  beforeAll(async () => {
    scratch = makeScratch();
    // A gateway whose argv carries escape sequences, a forged line and secrets of every kind.
    const root = scratch.root('argus');
    plainHome = profileHome(root, 'argus');
    plain = startGateway({ root, profile: 'argus', args: ['gateway', 'run', ...HOSTILE_ARGS, ...SECRET_ARGS], env: { STANDIN_NO_KANBAN: '1' } });
    // A gateway whose root and profile folder names carry escape sequences (its kanban.db too).
    paintedRoot = path.join(scratch.dir, HOSTILE_DIR, '.hermes');
    paintedHome = profileHome(paintedRoot, HOSTILE_PROFILE);
    fs.mkdirSync(paintedHome, { recursive: true });
    painted = startGateway({ root: paintedRoot, profile: HOSTILE_PROFILE });
    await Promise.all([waitForGatewayReady(plainHome, plain.pid), waitForGatewayReady(paintedHome, painted.pid)]);
    scope = [...NO_S6, ...homesArgs(root, plainHome, paintedRoot, paintedHome)];
  });

  afterAll(async () => {
    await killAll();
    cleanupAllScratch();
  });

  it('the table, reasons, kanban section and findings show control characters escaped, forge no line and show no secret', async () => {
    const { ghost, ghostScope } = await startGhost(); // a finding that quotes the hostile command
    for (const colour of [[], ['--color']]) {
      const r = bin(['orphans', ...colour, ...ghostScope]);
      expect(r.out).toMatch(new RegExp(`GHOST_GATEWAY: PID ${ghost.pid} \\(python3 -m hermes_cli.main -p ghosty gateway run \\\\x1b\\]0;pwned`));
      const text = r.out + r.err;
      expect(r.out).toContain(`PID ${plain.pid}`);
      expect(r.out).toContain(`PID ${painted.pid}`);
      expectInert(`orphans ${colour.join(' ')}`, text);
      expectNoSecret('orphans table', text);
      // Shown, visibly: what the attacker wrote is there to read, inert.
      expect(r.out).toContain('\\x1b]0;pwned\\x07');
      expect(r.out).toContain('l1\\nPID 1 supervised: fake');
      expect(r.out).toContain('\\x9b31mc1\\x7f');
      expect(r.out).toContain('ev\\x1b[31mil\\nPID 1 supervised: forged');
      expect(r.out).toContain(`${HOSTILE_DIR.replace('\u001b', '\\x1b').replace('\u0007', '\\x07').replace('\r', '\\r')}/.hermes/kanban.db`);
      // Masked values keep their shape.
      expect(r.out).toContain(`--api-key ${MASK} --token ${MASK} OPENAI_API_KEY=${MASK} -H Authorization: Bearer ${MASK}`);
    }
  });

  it('--json keeps the exact hostile strings, masks argv entry by entry and says which entries were masked', () => {
    const r = bin(['orphans', '--json', ...scope]);
    expectInert('orphans --json', r.out);
    expectNoSecret('orphans --json', r.out);
    const report = JSON.parse(r.out) as Report;
    assertOrphansV1(report);
    const p = report.processes.find((x) => x.pid === plain.pid)! as Report['processes'][number] & { argvMasked: number[] };
    const raw = ['python3', '-m', 'hermes_cli.main', '-p', 'argus', 'gateway', 'run', ...HOSTILE_ARGS, ...SECRET_ARGS];
    expect(p.argv).toHaveLength(raw.length);
    expect(p.argv.slice(0, 7 + HOSTILE_ARGS.length)).toEqual(raw.slice(0, 7 + HOSTILE_ARGS.length)); // exact, escapes and all
    const at = (i: number) => 7 + HOSTILE_ARGS.length + i;
    expect(p.argvMasked).toEqual([1, 3, 4, 6, 7, 8, 9, 10, 12].map(at));
    expect(p.argv[at(1)]).toBe(MASK);
    expect(p.argv[at(7)]).toBe(`https://bob:${MASK}@example.com/hook`);
    expect(p.verdict).toBe('manual'); // classified on the raw argv: masking is output only
    expect(report.processes.find((x) => x.pid === painted.pid)!.profile).toBe(HOSTILE_PROFILE);
  });

  it('--format prometheus escapes control characters in labels and shows no secret', () => {
    const r = bin(['orphans', '--format', 'prometheus', ...scope]);
    expectInert('prometheus', r.out);
    expectNoSecret('prometheus', r.out);
    // ESC shown as text (its backslash escaped for the exposition format); the line feed as the format's own `\n`.
    expect(r.out).toContain('profile="ev\\\\x1b[31mil\\nPID 1 supervised: forged"');
  });

  it('snapshot -o writes no secret and no raw control character; the replay classifies the same', () => {
    const file = path.join(scratch.dir, 'host.json');
    const r = bin(['snapshot', '-o', file, ...scope]);
    expect(r.code).toBe(0);
    expectInert('snapshot stderr', r.err);
    const text = fs.readFileSync(file, 'utf8');
    expectNoSecret('snapshot file', text);
    expect(rawControls(text)).toEqual([]);
    const replay = bin(['orphans', '--json', '--from', file, ...homesArgs(plainHome)]);
    const p = (JSON.parse(replay.out) as Report).processes.find((x) => x.pid === plain.pid)!;
    expect(p.verdict).toBe('manual');
    expect(p.argv.slice(7, 7 + HOSTILE_ARGS.length)).toEqual(HOSTILE_ARGS);
  });

  it('guard text and guard --json show the rival and the command masked and inert', async () => {
    const { ghost, ghostHome } = await startGhost();
    const command = ['python3', '-m', 'hermes_cli.main', 'gateway', 'run', ...HOSTILE_ARGS, ...SECRET_ARGS];
    const text = bin(['guard', ...NO_S6, '--home', ghostHome, '--', ...command]);
    expect(ghost.alive(), `ghost PID ${ghost.pid} was ended by something outside this test`).toBe(true);
    expect(text.code).toBe(1);
    expect(text.err).toContain(`PID ${ghost.pid} ghost gateway`);
    expectInert('guard', text.out + text.err);
    expectNoSecret('guard', text.out + text.err);
    const json = bin(['guard', '--json', ...NO_S6, '--home', ghostHome, '--', ...command]);
    expect(json.code).toBe(1);
    expectInert('guard --json', json.out + json.err);
    expectNoSecret('guard --json', json.out);
    const d = JSON.parse(json.out) as { target: { command: string[] }; rivals: { pid: number; argv: string[]; argvMasked: number[] }[] };
    assertGuardV1(d);
    expect(d.target.command).toHaveLength(command.length);
    const rival = d.rivals.find((x) => x.pid === ghost.pid)!;
    expect(rival.argvMasked.length).toBeGreaterThan(0);
    expect(rival.argv.slice(7, 7 + HOSTILE_ARGS.length)).toEqual(HOSTILE_ARGS);
  });

  it('--kill: the plan before the y/N prompt, the actions, the table after and the audit log are masked and inert', async () => {
    const { ghost, ghostRoot, ghostScope } = await startGhost();
    let question = '';
    const asked = await runCli(['orphans', '--kill', '--no-color', '--pid', String(ghost.pid), ...ghostScope], {
      tty: true,
      confirm: async (q) => {
        question = q;
        return false;
      },
    });
    expect(ghost.alive(), `ghost PID ${ghost.pid} was ended by something outside this test`).toBe(true);
    expect(asked.code).toBe(3);
    expect(asked.err).toContain(`PID ${ghost.pid}  ghost gateway`);
    expectInert('kill plan', asked.err + question);
    expectNoSecret('kill plan', asked.err + question);
    expect(ghost.alive()).toBe(true);

    const dry = bin(['orphans', '--kill', '--dry-run', '--json', '--pid', String(ghost.pid), ...ghostScope]);
    const planned = (JSON.parse(dry.out) as Report).actions!.find((a) => a.pid === ghost.pid)! as unknown as { argv: string[]; argvMasked: number[] };
    expectNoSecret('kill --dry-run --json', dry.out + dry.err);
    expect(planned.argvMasked.length).toBeGreaterThan(0);

    const run = bin(['orphans', '--kill', '--yes', '--grace', '5', '--pid', String(ghost.pid), ...ghostScope]);
    expect(run.out).toMatch(new RegExp(`^  PID ${ghost.pid} terminated`, 'm'));
    expect(ghost.alive()).toBe(false);
    expectInert('kill actions', run.out + run.err);
    expectNoSecret('kill actions', run.out + run.err);
    const log = fs.readFileSync(path.join(ghostRoot, 'logs', 'hermes-doctor.log'), 'utf8');
    expectNoSecret('audit log', log);
    expect(rawControls(log)).toEqual([]);
    expect(log).toContain(`"--api-key","${MASK}"`);
  });
});
