/**
 * A model provider that never answers, so a REAL kanban worker spawned by a real gateway's dispatcher
 * stays alive as long as a test needs it.
 *
 * Why a stand-in is needed at all: a real worker is `hermes -p <assignee> ... chat -q "work kanban task
 * <id>"` (hermes_cli/kanban_db.py:_default_spawn, v0.15.1 and 306e2d2). Without a provider it exits
 * after ~0.8 s at the first-run guard (hermes_cli/main.py:_has_any_provider_configured). With one
 * configured, cmd_chat goes on to `from cli import main` (hermes_cli/main.py:cmd_chat), and the kit
 * leaves out Hermes's top-level cli.py and run_agent.py (KIT-SOURCE.txt: "Left out: ... the other
 * top-level modules (cli.py, run_agent.py, ...)"), and Debian has no python3-openai for the agent's
 * client. So everything up to the agent loop is Hermes's own: the dispatcher's claim, spawn, argv,
 * environment, session, the profile override, the profile's .env and config.yaml, the first-run
 * guard; the agent loop is {@link AGENT_SHIM_PY}, a `cli` module put on the gateway's PYTHONPATH
 * (inherited by the worker: `env = dict(os.environ)` in _default_spawn) whose main() makes the
 * agent's first call, a chat-completions POST to the profile's `model.base_url`, and waits for an
 * answer that {@link startFakeLlm}'s endpoint never gives. The gateway itself imports `cli` only for
 * messaging-platform slash commands (gateway/run.py), which these tests never send.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import * as path from 'node:path';
import { waitFor } from './processes.js';

/** One request the fake endpoint received. */
export interface FakeLlmRequest {
  method: string;
  /** Request path, e.g. `/v1/chat/completions`. */
  url: string;
  /** The Authorization header ('' when none). */
  authorization: string;
  /** The parsed JSON body (null when none or not JSON). */
  body: { model?: string; messages?: { role: string; content: string }[] } | null;
}

export interface FakeLlm {
  /** `http://127.0.0.1:<port>/v1`: what a profile's `model.base_url` names. */
  baseUrl: string;
  /** Requests so far, in arrival order. */
  requests: FakeLlmRequest[];
  /** Waits until a chat-completions request matches `pred` (at most timeoutMs); returns it. */
  waitForChat(pred: (r: FakeLlmRequest) => boolean, timeoutMs: number, what: string): Promise<FakeLlmRequest>;
  /** Ends every held connection (the clients see a reset) and closes the server. Idempotent. */
  close(): Promise<void>;
}

/**
 * Starts an OpenAI-compatible endpoint on 127.0.0.1 (an ephemeral port): `GET /v1/models` lists one
 * model, `POST /v1/chat/completions` is read in full, recorded and then held open without an answer
 * until close().
 */
export async function startFakeLlm(model = 'fake-model'): Promise<FakeLlm> {
  const requests: FakeLlmRequest[] = [];
  const sockets = new Set<Socket>();
  const server = http.createServer((req, res) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (text += c));
    req.on('end', () => {
      let body: FakeLlmRequest['body'] = null;
      try {
        body = text ? (JSON.parse(text) as FakeLlmRequest['body']) : null;
      } catch {
        body = null;
      }
      requests.push({ method: req.method ?? '', url: req.url ?? '', authorization: String(req.headers.authorization ?? ''), body });
      if (req.method === 'GET' && req.url?.endsWith('/models')) {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ object: 'list', data: [{ id: model, object: 'model' }] }));
      }
      // Anything else, chat completions included, stays unanswered until close().
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  let closed: Promise<void> | null = null;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    async waitForChat(pred, timeoutMs, what) {
      let hit: FakeLlmRequest | undefined;
      await waitFor(
        () => {
          hit = requests.find((r) => r.method === 'POST' && r.url.endsWith('/chat/completions') && pred(r));
          return !!hit;
        },
        timeoutMs,
        what,
        100,
      );
      return hit!;
    },
    close() {
      closed ??= new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      });
      return closed;
    },
  };
}

/**
 * The `cli` module of the worker's agent loop (see the file comment): main(query=..., **kwargs) as
 * hermes_cli/main.py:cmd_chat calls it. It reads the model section with Hermes's own
 * hermes_cli.config.load_config (the worker's HERMES_HOME is the assignee's profile home) and the key
 * from the environment, where Hermes's load_hermes_dotenv put the profile's .env.
 */
export const AGENT_SHIM_PY = `"""Test stand-in for Hermes's top-level cli.py, which the kit leaves out (see test/harness/fake-llm.ts)."""
import json
import os
import sys
import urllib.request


def main(query=None, **kwargs):
    from hermes_cli.config import load_config

    model = load_config().get("model") or {}
    base = str(model.get("base_url") or os.environ.get("OPENAI_BASE_URL") or "").rstrip("/")
    body = json.dumps({"model": model.get("default"), "messages": [{"role": "user", "content": query or ""}]}).encode()
    req = urllib.request.Request(
        base + "/chat/completions",
        data=body,
        headers={"Content-Type": "application/json", "Authorization": "Bearer " + os.environ.get("OPENAI_API_KEY", "")},
    )
    with urllib.request.urlopen(req) as r:
        sys.stdout.write(r.read().decode())
`;

/** Writes {@link AGENT_SHIM_PY} as `<dir>/cli.py`; returns `dir`, to put first on the gateway's PYTHONPATH. */
export function writeAgentShim(dir: string): string {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'cli.py'), AGENT_SHIM_PY);
  return dir;
}

/**
 * Points a profile home at the fake endpoint the way a user configures a local OpenAI-compatible
 * server: `<home>/config.yaml` `model: {default, provider: custom, base_url}` (hermes_cli/config.py,
 * DEFAULT_CONFIG["model"]; hermes_cli/runtime_provider.py honours model.base_url for `custom`) and
 * `<home>/.env` `OPENAI_API_KEY=...`, one of the keys the first-run guard accepts
 * (hermes_cli/main.py:_has_any_provider_configured). Overwrites both files.
 */
export function configureFakeProvider(home: string, llm: Pick<FakeLlm, 'baseUrl'>, apiKey: string, model = 'fake-model'): void {
  fs.mkdirSync(home, { recursive: true });
  fs.writeFileSync(path.join(home, 'config.yaml'), `model:\n  default: ${model}\n  provider: custom\n  base_url: ${llm.baseUrl}\n`);
  fs.writeFileSync(path.join(home, '.env'), `OPENAI_API_KEY=${apiKey}\n`, { mode: 0o600 });
}
