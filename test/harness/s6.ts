// A real s6 supervision tree (Debian's s6: s6-svscan, s6-supervise, s6-svstat, s6-svc, s6-svscanctl)
// running stand-in gateways in per-profile slots, shaped like the official image's /run/service.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  MINIMAL_PATH,
  childrenOf,
  fdTargets,
  isAlive,
  minimalEnv,
  readCmdline,
  readStartTicks,
  readStat,
  registerPid,
  shQuote,
  waitFor,
  waitForGatewayReady,
} from './processes.js';
import { profileHome } from './scratch.js';

export interface S6Slot {
  /** Service name, `gateway-<profile>`. */
  name: string;
  profile: string;
  /** Service directory `<scan>/gateway-<profile>`. */
  dir: string;
  /** HERMES_HOME the slot's gateway uses. */
  home: string;
  /** Gateway PID reported by s6-svstat when the slot became ready. */
  pid: number;
}

export interface S6Tree {
  scanDir: string;
  svscanPid: number;
  slots: Map<string, S6Slot>;
  /** Every PID the harness saw in this tree (svscan, s6-supervise, slot gateways) with start ticks. */
  recorded: Map<number, number>;
  /** `s6-svscanctl -t`, wait, SIGKILL leftovers by recorded PID, remove the scan dir if we made it. */
  stop(): Promise<void>;
}

export interface SlotOptions {
  profile: string;
  root: string;
  env?: Record<string, string>;
  /** Default 10000 ms. */
  readyTimeoutMs?: number;
}

const S6_BIN = '/usr/bin';
const trees = new Set<S6Tree>();

function s6(bin: string, args: string[]): string {
  return execFileSync(path.join(S6_BIN, bin), args, { encoding: 'utf8', timeout: 5000, stdio: ['ignore', 'pipe', 'pipe'] });
}

function record(tree: S6Tree, pid: number): void {
  if (tree.recorded.has(pid)) return;
  const t = readStartTicks(pid);
  if (t !== null) tree.recorded.set(pid, t);
}

/** Record svscan's children (the s6-supervise processes) and their children (the services). */
function recordDescendants(tree: S6Tree): void {
  if (!isAlive(tree.svscanPid)) return;
  for (const sup of childrenOf(tree.svscanPid)) {
    record(tree, sup);
    for (const svc of childrenOf(sup)) record(tree, svc);
  }
}

/** Start `s6-svscan <scanDir>` (a temp dir is made when scanDir is omitted). */
export async function startS6Tree(scanDir?: string): Promise<S6Tree> {
  const made = scanDir === undefined;
  const dir = scanDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'hermes-doctor-s6-'));
  fs.mkdirSync(dir, { recursive: true });
  const child: ChildProcess = spawn(path.join(S6_BIN, 's6-svscan'), [dir], {
    stdio: 'ignore',
    env: { PATH: MINIMAL_PATH },
    cwd: dir,
  });
  child.on('error', () => {});
  if (child.pid === undefined) throw new Error('could not start s6-svscan');
  const svscanPid = child.pid;
  let stopped = false;
  const tree: S6Tree = {
    scanDir: dir,
    svscanPid,
    slots: new Map(),
    recorded: new Map(),
    async stop(): Promise<void> {
      if (stopped) return;
      stopped = true;
      recordDescendants(tree);
      for (const slot of tree.slots.values()) {
        const p = slotPid(tree, slot.name);
        if (p) record(tree, p);
      }
      try {
        if (isAlive(svscanPid)) s6('s6-svscanctl', ['-t', dir]);
      } catch {
        /* svscan already gone or control fifo missing */
      }
      const alive = (): [number, number][] => [...tree.recorded].filter(([p, t]) => isAlive(p, t));
      try {
        await waitFor(() => alive().length === 0, 5000, 's6 tree to exit');
      } catch {
        for (const [p] of alive()) {
          try {
            process.kill(p, 'SIGKILL');
          } catch {
            /* gone */
          }
        }
        await waitFor(() => alive().length === 0, 5000, 's6 tree leftovers to die after SIGKILL');
      }
      trees.delete(tree);
      if (made) fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  record(tree, svscanPid);
  trees.add(tree);
  // s6-svscanctl writes the control FIFO non-blocking and fails ("supervisor not listening") until
  // s6-svscan has opened it: wait for that fd, not only for the FIFO to exist.
  const control = path.join(dir, '.s6-svscan', 'control');
  await waitFor(() => fdTargets(svscanPid).includes(control), 10_000, `s6-svscan ${svscanPid} listening on ${control}`);
  return tree;
}

/** Add `<scan>/gateway-<profile>/run`, register it, and wait until its gateway is up and ready. */
export async function addGatewaySlot(tree: S6Tree, opts: SlotOptions): Promise<S6Slot> {
  if (!/^[a-z0-9][a-z0-9_-]*$/.test(opts.profile)) throw new Error(`bad profile name ${opts.profile}`);
  const root = path.resolve(opts.root);
  const name = `gateway-${opts.profile}`;
  const dir = path.join(tree.scanDir, name);
  const home = profileHome(root, opts.profile);
  const exports: Record<string, string> = {
    ...minimalEnv(path.dirname(root)),
    HERMES_HOME: root,
    HERMES_S6_SUPERVISED_CHILD: '1',
    ...(opts.env ?? {}),
  };
  const lines = ['#!/bin/sh'];
  for (const [k, v] of Object.entries(exports)) lines.push(`export ${k}=${shQuote(v)}`);
  const pflag = opts.profile === 'default' ? '' : `-p ${shQuote(opts.profile)} `;
  lines.push(`exec python3 -m hermes_cli.main ${pflag}gateway run --replace`);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'run.tmp'), lines.join('\n') + '\n', { mode: 0o755 });
  fs.renameSync(path.join(dir, 'run.tmp'), path.join(dir, 'run'));
  s6('s6-svscanctl', ['-a', tree.scanDir]);
  recordDescendants(tree);
  let pid = 0;
  const timeout = opts.readyTimeoutMs ?? 10_000;
  await waitFor(
    () => {
      const p = slotPid(tree, name);
      if (!p) return false;
      pid = p;
      record(tree, p);
      registerPid(p);
      return true;
    },
    timeout,
    `s6-svstat ${name} up with a pid`,
  );
  recordDescendants(tree);
  await waitForGatewayReady(home, pid, timeout);
  const slot: S6Slot = { name, profile: opts.profile, dir, home, pid };
  tree.slots.set(name, slot);
  return slot;
}

/** `s6-svstat -o up,pid <scan>/<name>`: the pid when up, else null. name: `gateway-<p>` or `<p>`. */
export function slotPid(tree: S6Tree, name: string): number | null {
  const svc = name.startsWith('gateway-') ? name : `gateway-${name}`;
  let out: string;
  try {
    out = s6('s6-svstat', ['-o', 'up,pid', path.join(tree.scanDir, svc)]).trim();
  } catch {
    return null;
  }
  const [up, pid] = out.split(/\s+/);
  const n = Number(pid);
  return up === 'true' && Number.isInteger(n) && n > 0 ? n : null;
}

/** PID of `s6-supervise <name>` (a child of the tree's s6-svscan), or null. */
export function supervisePid(tree: S6Tree, name: string): number | null {
  const svc = name.startsWith('gateway-') ? name : `gateway-${name}`;
  for (const p of childrenOf(tree.svscanPid)) {
    const st = readStat(p);
    if (!st) continue;
    if (st.comm === 's6-supervise' && readCmdline(p)[1] === svc) return p;
  }
  return null;
}

/** Stop every tree still running in this worker (for afterAll / afterEach). */
export async function stopAllS6Trees(): Promise<void> {
  for (const t of [...trees]) await t.stop();
}

/** PIDs of every tree still running in this worker: s6-svscan, and the s6-supervise and service PIDs it recorded. */
export function s6TreePids(): number[] {
  return [...trees].flatMap((t) => [t.svscanPid, ...t.recorded.keys()]);
}
