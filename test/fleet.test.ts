/**
 * The fleet path for real: `hermes-doctor orphans --textfile-dir DIR` on a host with an s6-supervised
 * stand-in gateway, Debian's node_exporter reading DIR with its textfile collector, Prometheus scraping
 * it and evaluating the alert rules of docs/monitoring.md every second, Alertmanager delivering to a
 * webhook this test serves. A healthy host alerts nobody; a shell orphan beside the supervised gateway
 * reaches the webhook with host, home, PID and verdict; `--kill` resolves it.
 *
 * The rules are the documented ones with every `for:` shortened to 2 s (a test cannot wait 15 min).
 * Set HERMES_DOCTOR_FLEET_RECORD=FILE to keep what Alertmanager's API returned for the firing alerts
 * (docs/monitoring.md quotes such a run).
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Report } from '../src/types.js';
import { homesArgs, runCli } from './harness/cli.js';
import { isAlive, killAll, startGateway, until, waitForOpen } from './harness/processes.js';
import { hasPrometheusStack, startPrometheusStack, type PrometheusStack, type WebhookAlert } from './harness/prometheus-stack.js';
import { rulesFromDocs, withShortFor } from './harness/rules.js';
import { addGatewaySlot, startS6Tree, stopAllS6Trees } from './harness/s6.js';
import { cleanupAllScratch, makeScratch, profileHome } from './harness/scratch.js';
import { hasPython3, hasS6, isLinux, requireOrSkip } from './harness/skip.js';

const ready = isLinux() && hasPython3() && hasS6() && hasPrometheusStack();
const WAIT_MS = 60_000;
// A profile name of its own: real Hermes's `-p argus gateway stop` elsewhere on this machine sweeps by argv pattern.
const PROFILE = 'fleetcheck';

interface PromAlert {
  labels: Record<string, string>;
  state: string;
}
interface RuleGroup {
  name: string;
  lastEvaluation: string;
}

/** Every alert delivered to the webhook so far, flattened out of the notifications. */
const delivered = (stack: PrometheusStack): WebhookAlert[] => stack.received.flatMap((m) => m.alerts);

describe.skipIf(
  requireOrSkip('Linux, python3, s6 and Debian prometheus, prometheus-alertmanager, prometheus-node-exporter (apt-get install)', ready),
)('fleet: textfile → node_exporter → Prometheus → Alertmanager → webhook', () => {
  let stack: PrometheusStack | null = null;
  afterAll(async () => {
    await stack?.stop();
    await stopAllS6Trees();
    await killAll();
    cleanupAllScratch();
  });

  it('healthy host: no alert; shell orphan: the alert reaches the webhook with host, home, PID, verdict; --kill: it resolves', async () => {
    const scratch = makeScratch('hermes-doctor-fleet-');
    const root = scratch.root(PROFILE);
    const home = profileHome(root, PROFILE);
    const textfiles = path.join(scratch.dir, 'node-exporter');
    fs.mkdirSync(textfiles);
    const tree = await startS6Tree(path.join(scratch.dir, 'service'));
    const sup = await addGatewaySlot(tree, { profile: PROFILE, root });
    // What the scheduled check runs, plus the test's s6 tree and home (other processes of this machine are not ours).
    const check = (...extra: string[]) => runCli(['orphans', '--quiet', '--textfile-dir', textfiles, '--s6-scandir', tree.scanDir, ...homesArgs(home), ...extra]);

    const healthy = await check();
    expect(healthy.err).toBe('');
    expect(healthy.out).toBe('');
    expect(healthy.code).toBe(0);

    const s = await startPrometheusStack({ textfileDir: textfiles, rules: withShortFor(rulesFromDocs(), '2s'), workDir: path.join(scratch.dir, 'prometheus') });
    stack = s;
    const instance = s.nodeExporter;
    const query = async (q: string) =>
      ((await s.prom(`/api/v1/query?query=${encodeURIComponent(q)}`)) as { data: { result: { metric: Record<string, string>; value: [number, string] }[] } }).data.result;

    // 1. Healthy: Prometheus has the textfile's metrics and has evaluated the rules for longer than any `for:`.
    await until(async () => ((await query(`hermes_doctor_exit_code{instance="${instance}"} == 0`)).length === 1 ? true : null), WAIT_MS, 'Prometheus to scrape the healthy textfile');
    const healthySince = Date.now();
    await until(
      async () => {
        const groups = ((await s.prom('/api/v1/rules')) as { data: { groups: RuleGroup[] } }).data.groups;
        const g = groups.find((x) => x.name === 'hermes-doctor');
        return g && Date.parse(g.lastEvaluation) > healthySince + 4000 ? true : null;
      },
      WAIT_MS,
      'the hermes-doctor rule group to be evaluated for 4 s on healthy metrics',
    );
    expect((await query(`hermes_doctor_build_info{instance="${instance}"}`)).map((r) => r.metric.version)).toHaveLength(1);
    expect(((await s.prom('/api/v1/alerts')) as { data: { alerts: PromAlert[] } }).data.alerts).toEqual([]);
    expect(await s.am('/api/v2/alerts')).toEqual([]);
    expect(s.received).toEqual([]);

    // 2. The incident: a gateway from a shell beside the s6-supervised one.
    const orphan = startGateway({ root, profile: PROFILE, env: { STANDIN_STAY_ON_LOCK_BUSY: '1' } });
    await waitForOpen(orphan.pid, 'kanban.db-wal', 8000, 'the orphan to open kanban.db-wal');
    const sick = await check('--json');
    const report = JSON.parse(sick.out) as Report;
    expect(report.processes.find((p) => p.pid === orphan.pid)?.verdict).toBe('orphan');
    expect(sick.code).toBe(2);

    const fired = await until(
      () => delivered(s).find((a) => a.status === 'firing' && a.labels.alertname === 'HermesOrphanGateway' && a.labels.pid === String(orphan.pid)) ?? null,
      WAIT_MS,
      `the webhook to receive HermesOrphanGateway firing for PID ${orphan.pid}\n${s.logs()}`,
    );
    expect(fired.labels).toMatchObject({
      instance,
      job: 'node',
      hostname: report.hostname,
      home,
      profile: PROFILE,
      role: 'gateway',
      verdict: 'orphan',
      pid: String(orphan.pid),
      severity: 'warning',
    });
    expect(fired.annotations.summary).toBe(`orphan gateway PID ${orphan.pid} for ${home} on ${report.hostname} (${instance})`);
    expect(fired.annotations.description).toContain(`hermes-doctor orphans --kill --pid ${orphan.pid}`);
    const rival = await until(
      () => delivered(s).find((a) => a.status === 'firing' && a.labels.alertname === 'HermesKanbanRivalWriters') ?? null,
      WAIT_MS,
      'the webhook to receive HermesKanbanRivalWriters firing',
    );
    expect(rival.labels).toMatchObject({ instance, db: path.join(root, 'kanban.db'), risk: 'rival-writers', severity: 'critical' });
    // Only the orphan alerts: the supervised gateway has no orphan_info series and the check ran.
    expect(delivered(s).filter((a) => a.labels.pid === String(sup.pid))).toEqual([]);
    expect(delivered(s).map((a) => a.labels.alertname).filter((n) => n !== 'HermesOrphanGateway' && n !== 'HermesKanbanRivalWriters')).toEqual([]);

    const amAlerts = (await s.am('/api/v2/alerts?active=true')) as { labels: Record<string, string>; status: { state: string } }[];
    expect(amAlerts.map((a) => a.labels.alertname).sort()).toEqual(['HermesKanbanRivalWriters', 'HermesOrphanGateway']);
    expect(amAlerts.every((a) => a.status.state === 'active')).toBe(true);

    // 3. The remedy the alert names; the next textfile has no orphan, so both alerts resolve.
    const killed = await check('--kill', '--yes', '--pid', String(orphan.pid), '--grace', '3');
    expect(killed.code).toBe(0);
    expect(isAlive(orphan.pid, orphan.startTicks)).toBe(false);
    expect(isAlive(sup.pid), `supervised PID ${sup.pid} alive after --kill:\n${killed.out}${killed.err}`).toBe(true);
    const resolved = await until(
      () => delivered(s).find((a) => a.status === 'resolved' && a.labels.alertname === 'HermesOrphanGateway' && a.labels.pid === String(orphan.pid)) ?? null,
      WAIT_MS,
      `the webhook to receive HermesOrphanGateway resolved for PID ${orphan.pid}`,
    );
    expect(Date.parse(resolved.endsAt)).toBeGreaterThanOrEqual(Date.parse(fired.startsAt));
    await until(
      () => delivered(s).find((a) => a.status === 'resolved' && a.labels.alertname === 'HermesKanbanRivalWriters') ?? null,
      WAIT_MS,
      'the webhook to receive HermesKanbanRivalWriters resolved',
    );
    expect(await s.am('/api/v2/alerts?active=true')).toEqual([]);
    if (process.env.HERMES_DOCTOR_FLEET_RECORD) {
      fs.writeFileSync(process.env.HERMES_DOCTOR_FLEET_RECORD, JSON.stringify({ alertmanager: amAlerts, webhook: s.received }, null, 2) + '\n');
    }
  }, 240_000);
});
