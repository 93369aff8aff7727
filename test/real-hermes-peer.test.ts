/**
 * Hermes's own detection as the peer: on real scenarios with the REAL Hermes gateway, each kit
 * version's own functions (what `hermes gateway status` / `stop` / `restart` use) run beside
 * hermes-doctor, and the test asserts where hermes-doctor is right and Hermes is not:
 *   - hermes_cli/gateway.py:find_gateway_pids counts a default-profile gateway of ANOTHER root as this
 *     home's (its argv matcher accepts any argv without a profile flag; v0.15.1 reads `ps -A eww`,
 *     306e2d2 /proc/PID/cmdline, neither sees a HOME-only home);
 *   - it counts a `bash -c "... gateway run --replace; ..."` wrapper as a gateway PID;
 *   - 306e2d2 matches `-p P` / `--profile P` as a substring, so a gateway of profile `P-b` of another root is P's;
 *   - hermes_cli/service_manager.py:detect_service_manager sees s6 only when /proc/1/comm is s6-svscan,
 *     so a gateway in an s6 slot of a tree that is not PID 1 has no service manager for Hermes.
 * Hermes's functions run with the kit's PYTHONPATH and the home's HERMES_HOME/HOME, as the CLI would.
 * docs/real-hermes.md lists the differences.
 */
import path from 'node:path';
import { expect, it } from 'vitest';
import type { Report } from '../src/types.js';
import { cliJson, verdictOf } from './harness/cli.js';
import {
  addRealS6Slot,
  kitEnv,
  kitPython,
  makeRoot,
  startRealGateway,
  waitRealReady,
  type HermesKit,
  ARGUS,
} from './harness/hermes.js';
import { childrenOf, readCmdline, registerPid, startProcess, waitFor } from './harness/processes.js';
import { describeRealHermes } from './harness/real-suite.js';
import { startS6Tree } from './harness/s6.js';
import { makeScratch } from './harness/scratch.js';
import { hasS6, requireOrSkip } from './harness/skip.js';

/** What Hermes's own functions say for one home (fields absent where the version lacks the function). */
interface HermesView {
  find_gateway_pids?: number[];
  get_running_pid?: number | null;
  service_manager?: string;
  errors: Record<string, string>;
}

const PEER = `
import json, sys
out = {"errors": {}}
try:
    from hermes_cli.gateway import find_gateway_pids
    out["find_gateway_pids"] = sorted(find_gateway_pids())
except Exception as e:
    out["errors"]["find_gateway_pids"] = repr(e)
try:
    from gateway.status import get_running_pid
    out["get_running_pid"] = get_running_pid()
except Exception as e:
    out["errors"]["get_running_pid"] = repr(e)
try:
    from hermes_cli.service_manager import detect_service_manager
    out["service_manager"] = detect_service_manager()
except Exception as e:
    out["errors"]["service_manager"] = repr(e)
print(json.dumps(out))
`;

/** Hermes's own view of HOME under `root` (HERMES_HOME=home, HOME=root's parent), as a `hermes gateway status` there would compute it. */
function hermesView(kit: HermesKit, root: string, home = root): HermesView {
  const env = { ...kitEnv(kit, root), HERMES_HOME: home };
  return JSON.parse(kitPython(kit, PEER, env)) as HermesView;
}

/** `orphans --json ARGS`: the schema-checked report. */
async function doctor(args: string[]): Promise<Report> {
  return (await cliJson(['orphans', '--json', ...args])).report;
}

describeRealHermes('Hermes\u2019s own detection beside hermes-doctor', [], (kit, version) => {
  it('another root\u2019s default gateway and a `bash -c` wrapper: Hermes counts both as this home\u2019s gateways, hermes-doctor does not', async () => {
    const scratch = makeScratch();
    const rootA = makeRoot(scratch.dir, 'alice');
    const rootB = makeRoot(scratch.dir, 'bob');
    const rootC = makeRoot(scratch.dir, 'carol');
    const a = startRealGateway({ kit, root: rootA });
    // Bob's gateway finds its home through HOME (~/.hermes), as a login shell's would: nothing in argv or env names it.
    const b = startRealGateway({ kit, root: rootB, exportHome: false });
    // A wrapper that stays alive around the gateway (a compound command, so bash does not exec).
    const wrapper = startProcess(['bash', '-c', `${kit.hermesBin} gateway run --replace; echo gateway exited`], {
      env: kitEnv(kit, rootC),
      detached: 'setsid',
      cwd: path.dirname(rootC),
      logFile: path.join(path.dirname(rootC), 'wrapper.log'),
    });
    let inner = 0;
    await waitFor(() => {
      inner = childrenOf(wrapper.pid).find((p) => readCmdline(p).includes(kit.hermesBin)) ?? 0;
      return inner !== 0;
    }, 30_000, `the gateway child of the bash -c wrapper ${wrapper.pid}`);
    registerPid(inner); // killAll() ends the wrapper by PID; its gateway child would be reparented and live on
    await Promise.all([
      waitRealReady(rootA, a.pid, 60_000, a.logFile),
      waitRealReady(rootB, b.pid, 60_000, b.logFile),
      waitRealReady(rootC, inner, 60_000, path.join(path.dirname(rootC), 'wrapper.log')),
    ]);

    const viewA = hermesView(kit, rootA);
    expect(viewA.errors).toEqual({});
    expect(viewA.get_running_pid).toBe(a.pid); // right: its own gateway.pid
    // Hermes is wrong: bob's gateway and carol's wrapper and gateway are all "alice's gateways".
    expect(viewA.find_gateway_pids).toEqual(expect.arrayContaining([a.pid, b.pid, wrapper.pid, inner]));

    const r = await doctor(['--s6-scandir', '/nonexistent/hermes-doctor-no-s6']);
    expect(verdictOf(r, a.pid).hermesHome).toBe(rootA);
    expect(verdictOf(r, b.pid).hermesHome).toBe(rootB);
    expect(verdictOf(r, b.pid).homeSource).toContain('default root');
    // The wrapper is no gateway: not in the report, or there as a gateway-wrapper.
    expect([undefined, 'gateway-wrapper']).toContain(r.processes.find((p) => p.pid === wrapper.pid)?.role);
    expect(verdictOf(r, inner).role).toBe('gateway');
    expect(verdictOf(r, inner).hermesHome).toBe(rootC);
    // Scoped to alice's home, hermes-doctor reports alice's gateway alone.
    const onlyA = await doctor(['--s6-scandir', '/nonexistent/hermes-doctor-no-s6', '--home', rootA]);
    expect(onlyA.processes.map((p) => p.pid)).toEqual([a.pid]);
  }, 180_000);

  it('a gateway of another root whose profile name merely starts with this one\u2019s: 306e2d2 counts it (substring match), hermes-doctor does not', async () => {
    const scratch = makeScratch();
    const rootA = makeRoot(scratch.dir, 'alice', ARGUS);
    const other = `${ARGUS}-b`;
    const rootB = makeRoot(scratch.dir, 'bob', other);
    const b = startRealGateway({ kit, root: rootB, profile: other });
    await waitRealReady(b.home, b.pid, 60_000, b.logFile);
    // What `hermes -p ARGUS gateway stop|restart` would signal: find_gateway_pids of alice's ARGUS home.
    const view = hermesView(kit, rootA, path.join(rootA, 'profiles', ARGUS));
    expect(view.errors).toEqual({});
    expect(view.get_running_pid).toBeNull();
    // Measured: 306e2d2's matcher takes `-p P` as a substring of the command line; v0.15.1's does not.
    if (version === '306e2d2') expect(view.find_gateway_pids).toContain(b.pid);
    if (version === 'v0.15.1') expect(view.find_gateway_pids).not.toContain(b.pid);
    const r = await doctor(['--s6-scandir', '/nonexistent/hermes-doctor-no-s6', '--home', path.join(rootA, 'profiles', ARGUS)]);
    expect(r.processes.map((p) => p.pid)).not.toContain(b.pid);
  }, 120_000);

  it.skipIf(requireOrSkip('s6 (apt-get install -y s6)', hasS6()))(
    'a gateway in an s6 slot whose s6-svscan is not PID 1: Hermes sees no s6, hermes-doctor names the slot',
    async () => {
      const scratch = makeScratch();
      const root = makeRoot(scratch.dir, 'u', ARGUS);
      const tree = await startS6Tree(path.join(scratch.dir, 'service'));
      const slot = await addRealS6Slot(tree, { kit, root, profile: ARGUS });
      const view = hermesView(kit, root, slot.home);
      expect(view.errors).toEqual({});
      expect(view.service_manager).not.toBe('s6');
      const r = await doctor(['--s6-scandir', tree.scanDir, '--home', slot.home]);
      expect(verdictOf(r, slot.pid).verdict).toBe('supervised');
      expect(verdictOf(r, slot.pid).supervisor).toMatchObject({ kind: 's6', unit: `gateway-${ARGUS}`, mainPid: slot.pid });
    },
    120_000,
  );
});
