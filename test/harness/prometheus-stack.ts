// A fleet's monitoring on one machine: Debian's node_exporter (textfile collector only), Prometheus
// (scrapes it every second, evaluates alert rules every second, sends to Alertmanager) and Alertmanager
// (one route to a webhook the test serves), each a child of the test on a free loopback port with its
// own temporary data folder. Nothing is installed or left behind: stop() ends the three by PID.
//
// Flags are those of the Debian bookworm packages: prometheus 2.42, prometheus-alertmanager 0.25,
// prometheus-node-exporter 1.5 (`--help` of each).
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as path from 'node:path';
import { startProcess, until, type StartedProcess } from './processes.js';

export const PROMETHEUS_BIN = '/usr/bin/prometheus';
export const ALERTMANAGER_BIN = '/usr/bin/prometheus-alertmanager';
export const NODE_EXPORTER_BIN = '/usr/bin/prometheus-node-exporter';

/** True when the three Debian binaries are installed. */
export function hasPrometheusStack(): boolean {
  return [PROMETHEUS_BIN, ALERTMANAGER_BIN, NODE_EXPORTER_BIN].every((b) => {
    try {
      fs.accessSync(b, fs.constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** One webhook delivery from Alertmanager (webhook_config payload, version 4). */
export interface WebhookAlert {
  status: 'firing' | 'resolved';
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  fingerprint?: string;
}
export interface WebhookMessage {
  version: string;
  status: 'firing' | 'resolved';
  receiver: string;
  groupLabels: Record<string, string>;
  commonLabels: Record<string, string>;
  alerts: WebhookAlert[];
}

export interface StackOptions {
  /** Folder the textfile collector reads (`--collector.textfile.directory`). */
  textfileDir: string;
  /** Alert rules (YAML text) Prometheus evaluates. */
  rules: string;
  /** Scratch folder for configs and data (created if missing). */
  workDir: string;
  /** How long to wait for each process to be ready, ms (default 30000). */
  readyTimeoutMs?: number;
}

export interface PrometheusStack {
  /** `127.0.0.1:PORT` of node_exporter: the `instance` label of every scraped series. */
  nodeExporter: string;
  prometheusUrl: string;
  alertmanagerUrl: string;
  /** Every webhook POST received so far, in order. */
  received: WebhookMessage[];
  /** GET a JSON API path of Prometheus (`/api/v1/...`); throws on a non-2xx answer. */
  prom(pathAndQuery: string): Promise<unknown>;
  /** GET a JSON API path of Alertmanager (`/api/v2/...`); throws on a non-2xx answer. */
  am(pathAndQuery: string): Promise<unknown>;
  /** Output of the three processes (for failure messages). */
  logs(): string;
  /** SIGTERM each process (SIGKILL after a grace), close the webhook server. Idempotent. */
  stop(): Promise<void>;
}

/** A free TCP port on 127.0.0.1 (bound, read, released; the kernel does not hand it out again at once). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

async function getJson(url: string): Promise<unknown> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
  const text = await res.text();
  if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status}: ${text.slice(0, 500)}`);
  return JSON.parse(text) as unknown;
}

async function ready(url: string, what: string, proc: StartedProcess, timeoutMs: number): Promise<void> {
  await until(
    async () => {
      if (!proc.alive()) throw new Error(`${what} exited before it was ready:\n${proc.output().stderr.slice(-3000)}`);
      try {
        const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
        return res.ok ? true : null;
      } catch {
        return null;
      }
    },
    timeoutMs,
    `${what} ready at ${url}`,
    100,
  );
}

/**
 * Starts the webhook server, Alertmanager, node_exporter and Prometheus, and waits until each
 * answers its readiness endpoint. On any failure, whatever was started is stopped before the error
 * propagates.
 */
export async function startPrometheusStack(opts: StackOptions): Promise<PrometheusStack> {
  const timeout = opts.readyTimeoutMs ?? 30_000;
  fs.mkdirSync(opts.workDir, { recursive: true });
  const received: WebhookMessage[] = [];
  const procs: { name: string; p: StartedProcess }[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString('utf8')));
    req.on('end', () => {
      try {
        received.push(JSON.parse(body) as WebhookMessage);
      } catch {
        /* not JSON: not Alertmanager */
      }
      res.writeHead(200).end();
    });
  });
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    // Prometheus first, so it does not send to a gone Alertmanager or scrape a gone exporter.
    for (const { p } of [...procs].reverse()) await p.stop(5000);
    await new Promise<void>((r) => server.close(() => r()));
  };
  try {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const hookUrl = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}/alerts`;

    const amPort = await freePort();
    const amConfig = path.join(opts.workDir, 'alertmanager.yml');
    fs.writeFileSync(
      amConfig,
      JSON.stringify({
        route: { receiver: 'test-webhook', group_by: ['alertname', 'instance'], group_wait: '1s', group_interval: '1s', repeat_interval: '1h' },
        receivers: [{ name: 'test-webhook', webhook_configs: [{ url: hookUrl, send_resolved: true }] }],
      }),
    );
    const am = startProcess(
      [
        ALERTMANAGER_BIN,
        `--config.file=${amConfig}`,
        `--storage.path=${path.join(opts.workDir, 'alertmanager-data')}`,
        `--web.listen-address=127.0.0.1:${amPort}`,
        '--cluster.listen-address=', // no gossip port: a single Alertmanager
        '--log.level=warn',
      ],
      { cwd: opts.workDir },
    );
    procs.push({ name: 'alertmanager', p: am });
    const alertmanagerUrl = `http://127.0.0.1:${amPort}`;

    const nePort = await freePort();
    const ne = startProcess(
      [
        NODE_EXPORTER_BIN,
        '--collector.disable-defaults',
        '--collector.textfile',
        `--collector.textfile.directory=${opts.textfileDir}`,
        `--web.listen-address=127.0.0.1:${nePort}`,
        '--log.level=warn',
      ],
      { cwd: opts.workDir },
    );
    procs.push({ name: 'node_exporter', p: ne });
    const nodeExporter = `127.0.0.1:${nePort}`;

    const promPort = await freePort();
    const rulesFile = path.join(opts.workDir, 'hermes-doctor.rules.yml');
    fs.writeFileSync(rulesFile, opts.rules);
    const promConfig = path.join(opts.workDir, 'prometheus.yml');
    fs.writeFileSync(
      promConfig,
      JSON.stringify({
        global: { scrape_interval: '1s', evaluation_interval: '1s', scrape_timeout: '1s' },
        rule_files: [rulesFile],
        alerting: { alertmanagers: [{ static_configs: [{ targets: [`127.0.0.1:${amPort}`] }] }] },
        scrape_configs: [{ job_name: 'node', static_configs: [{ targets: [nodeExporter] }] }],
      }),
    );
    const prom = startProcess(
      [
        PROMETHEUS_BIN,
        `--config.file=${promConfig}`,
        `--storage.tsdb.path=${path.join(opts.workDir, 'prometheus-data')}`,
        `--web.listen-address=127.0.0.1:${promPort}`,
        '--rules.alert.resend-delay=1s',
        '--log.level=warn',
      ],
      { cwd: opts.workDir },
    );
    procs.push({ name: 'prometheus', p: prom });
    const prometheusUrl = `http://127.0.0.1:${promPort}`;

    await ready(`${alertmanagerUrl}/-/ready`, 'alertmanager', am, timeout);
    await ready(`http://${nodeExporter}/metrics`, 'node_exporter', ne, timeout);
    await ready(`${prometheusUrl}/-/ready`, 'prometheus', prom, timeout);

    return {
      nodeExporter,
      prometheusUrl,
      alertmanagerUrl,
      received,
      prom: (p) => getJson(prometheusUrl + p),
      am: (p) => getJson(alertmanagerUrl + p),
      logs: () => procs.map(({ name, p }) => `--- ${name}\n${p.output().stdout}${p.output().stderr}`).join('\n'),
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
