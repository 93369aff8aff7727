/**
 * A REAL kanban worker reparented when its real gateway dies, on each kit version.
 *
 * The root's default gateway dispatches (its `<root>/config.yaml` sets `kanban.dispatch_interval_seconds:
 * 2`, read by the dispatcher watcher: gateway/run.py:_kanban_dispatcher_watcher at v0.15.1,
 * gateway/kanban_watchers.py at 306e2d2; the first tick is still ~5 s after start). A task created with
 * Hermes's own `hermes kanban create --assignee W` is claimed and handed to a worker spawned by
 * hermes_cli/kanban_db.py:_default_spawn (new session, PPID = the gateway). Profile W points at a
 * local endpoint that never answers, so the worker stays alive (test/harness/fake-llm.ts says which
 * part of the worker is a stand-in and why). Then the gateway is SIGTERMed or SIGKILLed by PID:
 * Hermes's shutdown does not end the workers it spawned (measured here: the worker is in its own
 * session and survives both), so it lives on, reparented to PID 1 or the nearest subreaper, and
 * hermes-doctor must call it an orphaned worker of that root.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { NO_S6, cliJson, homesArgs, verdictOf } from './harness/cli.js';
import { configureFakeProvider, startFakeLlm, writeAgentShim, type FakeLlm } from './harness/fake-llm.js';
import { kanbanCreate, kanbanTask, makeRoot, startReadyGateway } from './harness/hermes.js';
import { isAlive, readCmdline, readEnviron, readStat, registerPid, waitFor } from './harness/processes.js';
import { makeScratch, profileHome } from './harness/scratch.js';
import { describeRealHermes } from './harness/real-suite.js';

/** The real CLI in-process; the --json document is schema-checked and parsed. */
const cli = cliJson;

/** The worker's profile, unique to this test process (`-p P` substrings are matched host-wide by Hermes's restart). */
const WORKER = `x${process.pid}-work`;
const API_KEY = 'sk-hermes-doctor-fake-llm';

describeRealHermes('a real kanban worker whose gateway dies', [], (kit, version) => {
  let llm: FakeLlm | null = null;
  afterEach(async () => {
    await llm?.close();
    llm = null;
  });

  // SIGTERM runs Hermes's shutdown handler (gateway/run.py:start_gateway); SIGKILL runs nothing.
  it.each(['SIGTERM', 'SIGKILL'] as const)('spawned by the root\u2019s gateway it is that gateway\u2019s worker; after a %s of the gateway it is an orphaned worker of the root, reparented, ended only with --include-workers', async (sig) => {
    const fake = (llm = await startFakeLlm());
    const scratch = makeScratch();
    const root = makeRoot(scratch.dir, 'u', WORKER);
    const whome = profileHome(root, WORKER);
    configureFakeProvider(whome, fake, API_KEY);
    fs.writeFileSync(path.join(root, 'config.yaml'), 'kanban:\n  dispatch_interval_seconds: 2\n');
    const shim = writeAgentShim(path.join(scratch.dir, 'agent-shim'));
    const t0 = Date.now();
    const g = await startReadyGateway({ kit, root, env: { PYTHONPATH: `${shim}:${kit.pythonPath()}` } });
    const task = kanbanCreate(kit, root, 'hold the model call open', WORKER);

    // The real dispatcher claims the task and spawns the worker; its agent call reaches the endpoint.
    const call = await fake.waitForChat((r) => r.body?.messages?.some((m) => m.content === `work kanban task ${task}`) ?? false, 60_000, `the worker of ${task} to call the model`);
    expect(call.authorization).toBe(`Bearer ${API_KEY}`);
    expect(call.body!.model).toBe('fake-model');
    let row = kanbanTask(kit, root, task);
    await waitFor(() => (row = kanbanTask(kit, root, task))?.worker_pid != null, 10_000, `${task} to record its worker_pid`);
    const w = row!.worker_pid!;
    registerPid(w); // not started by this test, but ours to clean up
    const spawnedMs = Date.now() - t0;
    expect(row!.status).toBe('running');
    expect(row!.claim_lock).toMatch(new RegExp(`:${g.pid}$`));
    // What _default_spawn made: a new session led by the worker, PPID the gateway, the assignee's home.
    const st = readStat(w)!;
    expect(st.ppid).toBe(g.pid);
    expect(st.session).toBe(w);
    expect(st.pgrp).toBe(w);
    const argv = readCmdline(w);
    expect(argv.slice(0, 4)).toEqual(['/usr/bin/python3', kit.hermesBin, '-p', WORKER]);
    expect(argv.slice(-3)).toEqual(['chat', '-q', `work kanban task ${task}`]);
    const env = readEnviron(w);
    expect(env.HERMES_HOME).toBe(whome);
    expect(env.HERMES_KANBAN_TASK).toBe(task);
    expect(env.HERMES_KANBAN_DB).toBe(path.join(root, 'kanban.db'));

    const scope = [...NO_S6, ...homesArgs(root, whome)];
    const live = await cli(['orphans', '--json', ...scope]);
    const pw = verdictOf(live.report, w);
    expect(pw.role).toBe('kanban-worker');
    expect(pw.hermesHome).toBe(whome);
    expect(pw.profile).toBe(WORKER);
    expect(pw.kanbanRoot).toBe(root);
    expect(pw.verdict).toBe('manual');
    expect(pw.reasons).toContain(`kanban worker for task ${task}`);
    expect(pw.reasons).toContain(`child of gateway PID ${g.pid} (manual); counted with its dispatcher, not as a rival`);
    expect(verdictOf(live.report, g.pid).verdict).toBe('manual');
    expect(live.report.findings.filter((f) => f.severity !== 'info')).toEqual([]);
    expect(live.code).toBe(0);

    // The gateway dies (by PID); the worker it spawned does not.
    g.signal(sig);
    await waitFor(() => !g.alive(), 30_000, `gateway ${g.pid} to exit after ${sig}`);
    await waitFor(() => readStat(w)?.ppid !== g.pid, 5000, `worker ${w} to be reparented`);
    expect(isAlive(w)).toBe(true);
    const ppid = readStat(w)!.ppid;
    expect(ppid).not.toBe(g.pid);

    const after = await cli(['orphans', '--json', ...scope]);
    expect(after.report.processes.some((p) => p.pid === g.pid)).toBe(false);
    const ow = verdictOf(after.report, w);
    expect(ow.role).toBe('kanban-worker');
    expect(ow.hermesHome).toBe(whome);
    expect(ow.kanbanRoot).toBe(root);
    expect(ow.ppid).toBe(ppid);
    expect(ow.verdict).toBe('orphaned-worker');
    expect(ow.reasons).toContain(`kanban worker for task ${task}`);
    expect(ow.reasons.join(' ')).toContain(`reparented to PID ${ppid}`);
    expect(ow.reasons.join(' ')).toContain('the gateway that spawned it is gone');
    const f = after.report.findings.find((x) => x.code === 'ORPHANED_WORKER' && x.pid === w)!;
    expect(f.severity).toBe('warning');
    expect(f.message).toContain(`(PPID ${ppid})`);
    expect(f.remedy).toMatch(new RegExp(`^hermes-doctor orphans --kill --pid ${w} .*--include-workers$`));
    expect(after.code).toBe(1);

    // --kill leaves a worker that may still be finishing its task unless --include-workers says so.
    const kill = ['orphans', '--kill', '--yes', '--json', '--grace', '5', ...NO_S6, ...homesArgs(whome)];
    const refused = await cli(kill);
    expect(refused.report.actions!.filter((a) => a.outcome !== 'refused')).toEqual([]);
    expect(refused.report.actions!.find((a) => a.pid === w)!.reason).toMatch(/--include-workers/);
    expect(isAlive(w)).toBe(true);
    const ended = await cli([...kill, '--include-workers']);
    const acted = ended.report.actions!.filter((a) => a.outcome !== 'refused');
    expect(acted.map((a) => a.pid)).toEqual([w]);
    expect(acted[0]).toMatchObject({ verdict: 'orphaned-worker', outcome: 'terminated' });
    await waitFor(() => !isAlive(w), 5000, `worker ${w} to be gone`);
    console.info(`[real-worker ${version} ${sig}] gateway ready + task to worker spawn: ${spawnedMs} ms; worker reparented to PID ${ppid}`);
  }, 150_000);
});
