#!/usr/bin/env node
/**
 * `npm run bench` (issue 8): what a hermes-doctor scan costs against the hand-typed diagnosis it
 * replaces, on this host, at about 500, 2,000 and 5,000 processes.
 *
 * It builds nothing (the npm script runs `npm run build` first). It starts the incident scenario (a real
 * s6 tree supervising stand-in gateways for the default and argus homes of a temporary Hermes root, an
 * argus gateway launched detached with `--replace` beside it (the orphan, PPID 1), all three holding the
 * shared kanban.db), checks that hermes-doctor sees the incident, then adds idle processes it owns
 * (`sleep`, children of a few `bash` nurseries) until the host holds each size, and measures every tool
 * several times, interleaved (one round = every tool once, in a rotated order). Costs are read by
 * bench/measure.py (wait4 rusage: wall, user+sys CPU, peak RSS). It prints a table with ratios, checks
 * the issue's targets, writes bench/results.json, and removes every process it started (by PID and
 * start time, also on SIGINT/SIGTERM and on errors) and its temporary folder.
 *
 * `node bench/run.mjs --hold N` sets up the incident and N processes and keeps them until SIGINT or
 * SIGTERM (for profiling by hand: `node --cpu-prof bin/hermes-doctor.js orphans --json …`).
 *
 * Environment: BENCH_SIZES (default 500,2000,5000), BENCH_RUNS (default 7), BENCH_OUT (default
 * bench/results.json), BENCH_CLI (the hermes-doctor launcher to measure, default bin/hermes-doctor.js:
 * point it at another checkout's to compare builds), BENCH_BASELINE (another checkout's launcher, measured
 * as one more tool in the same interleaved rounds: before/after under the same load).
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const CLI = path.resolve(process.env.BENCH_CLI ?? path.join(REPO, 'bin', 'hermes-doctor.js'));
const FLOOR = path.join(REPO, 'bench', 'floor.mjs');
const BASELINE = process.env.BENCH_BASELINE ? path.resolve(process.env.BENCH_BASELINE) : null;
const METER = path.join(REPO, 'bench', 'measure.py');
const STANDIN = path.join(REPO, 'fixtures', 'standin');
const SIZES = (process.env.BENCH_SIZES ?? '500,2000,5000').split(',').map((s) => Number(s.trim())).filter((n) => n > 0).sort((a, b) => a - b);
const RUNS = Math.max(1, Number(process.env.BENCH_RUNS ?? 7));
const OUT = process.env.BENCH_OUT ?? path.join(REPO, 'bench', 'results.json');
const MINIMAL_PATH = '/usr/local/bin:/usr/bin:/bin';
const NURSERY_BATCH = 1000;

// ------------------------------------------------------------------------------------------ /proc

/** Start time (field 22 of /proc/PID/stat) and state, or null when the process is gone. */
function procStat(pid) {
  try {
    const line = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
    const f = line.slice(line.lastIndexOf(')') + 2).split(' ');
    return { state: f[0], ppid: Number(f[1]), startTicks: Number(f[19]) };
  } catch {
    return null;
  }
}

/** Alive: present, not a zombie, same start time as recorded. */
function alive(pid, startTicks) {
  const st = procStat(pid);
  return st !== null && st.state !== 'Z' && st.state !== 'X' && st.startTicks === startTicks;
}

/** Number of processes on the host (numeric entries of /proc). */
function hostProcessCount() {
  let n = 0;
  for (const name of fs.readdirSync('/proc')) {
    const c = name.charCodeAt(0);
    if (c >= 48 && c <= 57) n++;
  }
  return n;
}

function childrenOf(ppid) {
  const out = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const st = procStat(Number(name));
    if (st && st.ppid === ppid) out.push(Number(name));
  }
  return out;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitFor(pred, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let ok = false;
    try {
      ok = await pred();
    } catch {
      ok = false;
    }
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(25);
  }
}

// --------------------------------------------------------------------------- owned processes

/** Every process this script caused to exist: PID → start ticks. Only these are ever signalled. */
const owned = new Map();
/** Kill order: s6 first (so nothing restarts a gateway), then gateways, then idle sleeps, then nurseries. */
const killGroups = { s6: new Set(), gateways: new Set(), sleeps: new Set(), nurseries: new Set(), other: new Set() };

function own(pid, group) {
  if (owned.has(pid)) return;
  const st = procStat(pid);
  if (!st) return;
  owned.set(pid, st.startTicks);
  killGroups[group].add(pid);
}

function signalOwned(pid, sig) {
  const t = owned.get(pid);
  if (t === undefined || !alive(pid, t)) return;
  try {
    process.kill(pid, sig);
  } catch {
    /* gone */
  }
}

let tmpDir = null;
let scanDir = null;
let cleaned = false;

/** Stops every owned process (s6-svscanctl -t, then SIGKILL by PID) and removes the temp folder. Idempotent, synchronous. */
function cleanupSync() {
  if (cleaned) return;
  cleaned = true;
  if (scanDir) {
    try {
      execFileSync('/usr/bin/s6-svscanctl', ['-t', scanDir], { stdio: 'ignore', timeout: 3000 });
    } catch {
      /* svscan gone or never started */
    }
  }
  for (const group of ['s6', 'gateways', 'sleeps', 'other', 'nurseries']) {
    for (const pid of killGroups[group]) signalOwned(pid, 'SIGKILL');
  }
  const deadline = Date.now() + 10_000;
  const left = () => [...owned].filter(([pid, t]) => alive(pid, t));
  while (left().length > 0 && Date.now() < deadline) {
    for (const [pid] of left()) signalOwned(pid, 'SIGKILL');
    spawnSync('sleep', ['0.05']);
  }
  const still = left();
  if (still.length > 0) process.stderr.write(`bench: ${still.length} owned process(es) still alive: ${still.slice(0, 10).map(([p]) => p).join(' ')}\n`);
  if (tmpDir) fs.rmSync(tmpDir, { recursive: true, force: true });
}

process.on('exit', cleanupSync);
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    process.stderr.write(`\nbench: ${sig}, cleaning up\n`);
    cleanupSync();
    process.exit(130);
  });
}

// ------------------------------------------------------------------------------ the scenario

function shQuote(s) {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

function s6(bin, args) {
  return execFileSync(path.join('/usr/bin', bin), args, { encoding: 'utf8', timeout: 5000, stdio: ['ignore', 'pipe', 'pipe'] });
}

function slotPid(name) {
  try {
    const [up, pid] = s6('s6-svstat', ['-o', 'up,pid', path.join(scanDir, name)]).trim().split(/\s+/);
    const n = Number(pid);
    return up === 'true' && n > 0 ? n : null;
  } catch {
    return null;
  }
}

function holds(pid, suffix) {
  try {
    return fs.readdirSync(`/proc/${pid}/fd`).some((fd) => {
      try {
        return fs.readlinkSync(`/proc/${pid}/fd/${fd}`).endsWith(suffix);
      } catch {
        return false;
      }
    });
  } catch {
    return false;
  }
}

/**
 * The incident of scenario 2 (test/scenarios.test.ts): s6 slots gateway-default and gateway-argus,
 * plus an argus gateway started from a shell with setsid and `--replace` (reparented, PPID 1).
 */
async function startIncident() {
  tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hermes-doctor-bench-'));
  const userHome = path.join(tmpDir, 'home');
  const root = path.join(userHome, '.hermes');
  fs.mkdirSync(path.join(root, 'profiles', 'argus'), { recursive: true });
  scanDir = path.join(tmpDir, 'service');
  fs.mkdirSync(scanDir);
  const svscan = spawn('/usr/bin/s6-svscan', [scanDir], { stdio: 'ignore', env: { PATH: MINIMAL_PATH }, cwd: scanDir });
  svscan.on('error', () => {});
  own(svscan.pid, 's6');
  await waitFor(() => fs.existsSync(path.join(scanDir, '.s6-svscan', 'control')), 5000, 's6-svscan control fifo');
  const baseEnv = { PATH: MINIMAL_PATH, HOME: userHome, LANG: 'C.UTF-8', PYTHONPATH: STANDIN, PYTHONDONTWRITEBYTECODE: '1', HERMES_HOME: root };
  const slots = {};
  for (const profile of ['default', 'argus']) {
    const name = `gateway-${profile}`;
    const dir = path.join(scanDir, name);
    const lines = ['#!/bin/sh'];
    for (const [k, v] of Object.entries({ ...baseEnv, HERMES_S6_SUPERVISED_CHILD: '1' })) lines.push(`export ${k}=${shQuote(v)}`);
    lines.push(`exec python3 -m hermes_cli.main ${profile === 'default' ? '' : `-p ${profile} `}gateway run --replace`);
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'run.tmp'), lines.join('\n') + '\n', { mode: 0o755 });
    fs.renameSync(path.join(dir, 'run.tmp'), path.join(dir, 'run'));
    s6('s6-svscanctl', ['-a', scanDir]);
    await waitFor(() => (slots[profile] = slotPid(name)) !== null, 10_000, `${name} up`);
    for (const sup of childrenOf(svscan.pid)) own(sup, 's6');
    own(slots[profile], 'gateways');
    const home = profile === 'default' ? root : path.join(root, 'profiles', profile);
    await waitFor(() => holds(slots[profile], 'kanban.db') && fs.existsSync(path.join(home, 'gateway.pid')), 15_000, `${name} gateway to open kanban.db`);
  }
  const script = `setsid python3 -m hermes_cli.main -p argus gateway run --replace </dev/null >/dev/null 2>&1 & echo $!`;
  const orphanPid = Number(
    execFileSync('bash', ['-c', script], { env: { ...baseEnv, STANDIN_STAY_ON_LOCK_BUSY: '1' }, cwd: userHome, encoding: 'utf8', timeout: 10_000 }).trim(),
  );
  own(orphanPid, 'gateways');
  await waitFor(() => holds(orphanPid, 'kanban.db-wal'), 15_000, 'the orphan to open kanban.db-wal');
  return { root, db: path.join(root, 'kanban.db'), slots, orphanPid };
}

/** Runs the real CLI once and checks it names the incident (orphan, rival-writers, exit 2). */
function checkIncident(sc) {
  const r = spawnSync(process.execPath, [CLI, 'orphans', '--json', '--s6-scandir', scanDir], { encoding: 'utf8', maxBuffer: 64 << 20 });
  let report;
  try {
    report = JSON.parse(r.stdout);
  } catch {
    throw new Error(`hermes-doctor orphans --json did not print JSON (exit ${r.status}): ${r.stderr.slice(0, 400)}`);
  }
  const o = report.processes.find((p) => p.pid === sc.orphanPid);
  const k = report.kanban.find((x) => x.db === sc.db);
  const ok = r.status === 2 && o?.verdict === 'orphan' && k?.risk === 'rival-writers';
  if (!ok) throw new Error(`incident not seen: exit ${r.status}, orphan verdict ${o?.verdict}, kanban risk ${k?.risk}`);
  return { exit: r.status, orphanVerdict: o.verdict, risk: k.risk, holders: k.holders.length };
}

// ------------------------------------------------------------------------------ idle processes

/** Starts `count` idle `sleep 3600` processes, children of a detached bash nursery; resolves with their PIDs. */
function startNursery(count) {
  return new Promise((resolve, reject) => {
    const script = 'for ((i=0;i<$1;i++)); do sleep 3600 </dev/null >/dev/null 2>&1 & echo $!; done; echo done; wait';
    const child = spawn('bash', ['-c', script, 'nursery', String(count)], { stdio: ['ignore', 'pipe', 'ignore'], detached: true, env: { PATH: MINIMAL_PATH } });
    child.on('error', reject);
    own(child.pid, 'nurseries');
    const pids = [];
    const rl = readline.createInterface({ input: child.stdout });
    rl.on('line', (line) => {
      if (line === 'done') {
        rl.close();
        child.stdout.destroy();
        child.unref();
        resolve(pids);
        return;
      }
      const pid = Number(line);
      own(pid, 'sleeps');
      pids.push(pid);
    });
    child.on('exit', (code) => reject(new Error(`nursery exited early (${code})`)));
  });
}

async function growTo(target) {
  const now = hostProcessCount();
  let need = target - now;
  while (need > 0) {
    const n = Math.min(need, NURSERY_BATCH);
    await startNursery(n);
    need -= n;
  }
  return hostProcessCount();
}

// ------------------------------------------------------------------------------ measuring

class Meter {
  constructor() {
    this.child = spawn('python3', [METER], { stdio: ['pipe', 'pipe', 'inherit'] });
    own(this.child.pid, 'other');
    this.rl = readline.createInterface({ input: this.child.stdout });
    this.waiting = [];
    this.rl.on('line', (line) => this.waiting.shift()?.(JSON.parse(line)));
  }
  /** Runs steps in sequence; resolves with {wall, user, sys, maxrss, codes, errors} (seconds, KiB). */
  run(steps) {
    return new Promise((resolve) => {
      this.waiting.push(resolve);
      this.child.stdin.write(JSON.stringify({ steps, env: { ...process.env } }) + '\n');
    });
  }
  close() {
    this.child.stdin.end();
  }
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Does `hermes-doctor guard` exist yet (issue 4, built in parallel)? Returns its argv or null. */
function guardCommand() {
  const r = spawnSync(process.execPath, [CLI, 'guard', '--help'], { encoding: 'utf8', timeout: 20_000 });
  // Without a guard command yargs shows the default command's help (exit 0): look for guard's own usage.
  if (r.status !== 0 || !/hermes-doctor guard\b/.test(r.stdout)) return null;
  const args = [CLI, 'guard', '--profile', 'argus'];
  if (r.stdout.includes('--s6-scandir')) args.push('--s6-scandir', scanDir);
  return [process.execPath, ...args];
}

function tools(db, guard) {
  return [
    { id: 'orphans', label: 'hermes-doctor orphans --json', steps: [[process.execPath, CLI, 'orphans', '--json', '--s6-scandir', scanDir]] },
    BASELINE
      ? { id: 'baseline', label: 'orphans --json, baseline build', steps: [[process.execPath, BASELINE, 'orphans', '--json', '--s6-scandir', scanDir]] }
      : null,
    guard ? { id: 'guard', label: 'hermes-doctor guard --profile argus', steps: [guard] } : null,
    { id: 'fuser', label: 'fuser kanban.db', steps: [['fuser', db]] },
    { id: 'lsof', label: 'lsof kanban.db', steps: [['lsof', db]] },
    {
      id: 'manual',
      label: 'manual: ps + systemctl show + lsof',
      steps: [['ps', '-eo', 'pid,ppid,etime,args'], ['systemctl', 'show', '-p', 'MainPID', 'hermes-gateway.service'], ['lsof', db]],
    },
    { id: 'floor', label: 'floor: Node, /proc cmdline + fd links', steps: [[process.execPath, FLOOR]] },
  ].filter(Boolean);
}

async function measureSize(meter, list, target) {
  const before = hostProcessCount();
  const loadBefore = os.loadavg().map(round2);
  const samples = Object.fromEntries(list.map((t) => [t.id, []]));
  // One warm-up round (page cache, binaries), not recorded.
  for (const t of list) await meter.run(t.steps);
  for (let round = 0; round < RUNS; round++) {
    const order = list.map((_, i) => list[(i + round) % list.length]);
    for (const t of order) samples[t.id].push(await meter.run(t.steps));
  }
  const after = hostProcessCount();
  const tools = {};
  for (const t of list) {
    const s = samples[t.id];
    tools[t.id] = {
      label: t.label,
      command: t.steps.map((a) => a.map((x) => (x === process.execPath ? 'node' : x.startsWith(REPO) ? path.relative(REPO, x) : x)).join(' ')).join(' ; '),
      exitCodes: [...new Set(s.map((x) => x.codes.join(',')))],
      wallMs: median(s.map((x) => x.wall * 1000)),
      wallMinMs: Math.min(...s.map((x) => x.wall * 1000)),
      cpuMs: median(s.map((x) => (x.user + x.sys) * 1000)),
      userMs: median(s.map((x) => x.user * 1000)),
      sysMs: median(s.map((x) => x.sys * 1000)),
      maxRssMb: Math.max(...s.map((x) => x.maxrss)) / 1024,
      medianRssMb: median(s.map((x) => x.maxrss)) / 1024,
      runs: s.map((x) => ({ wallMs: round1(x.wall * 1000), cpuMs: round1((x.user + x.sys) * 1000), maxRssKb: x.maxrss })),
    };
  }
  return { target, processesBefore: before, processesAfter: after, loadBefore, loadavg: os.loadavg().map(round2), tools };
}

const round1 = (x) => Math.round(x * 10) / 10;
const round2 = (x) => Math.round(x * 100) / 100;

/**
 * What the file-level database checks add to a scan (they run inside `orphans --json`, measured above as
 * part of it): observeDatabases of dist/sources/databases.js timed in-process over the incident root and
 * over a copy of its kanban.db with 2,000 `.corrupt.*.bak` beside it (one folder listing, one lstat per
 * backup). Median wall ms of RUNS calls each.
 */
async function measureDatabaseChecks(root) {
  const { observeDatabases } = await import(path.join(REPO, 'dist', 'sources', 'databases.js'));
  const time = (roots, homes) => {
    const ms = [];
    let n = 0;
    for (let i = 0; i < RUNS; i++) {
      const t = performance.now();
      n = observeDatabases(roots, homes, Date.now()).length;
      ms.push(performance.now() - t);
    }
    return { ms: round2(median(ms)), databases: n };
  };
  const incident = time([root], [root, path.join(root, 'profiles', 'argus')]);
  const stormRoot = path.join(tmpDir, 'storm', '.hermes');
  fs.mkdirSync(stormRoot, { recursive: true });
  fs.copyFileSync(path.join(root, 'kanban.db'), path.join(stormRoot, 'kanban.db'));
  const BACKUPS = 2000;
  for (let i = 0; i < BACKUPS; i++) fs.writeFileSync(path.join(stormRoot, `kanban.db.corrupt.${i.toString(16).padStart(16, '0')}.bak`), 'x');
  return { incident, storm: { ...time([stormRoot], [stormRoot]), backups: BACKUPS } };
}

// ------------------------------------------------------------------------------ report

function pad(s, n, right = false) {
  s = String(s);
  return right ? s.padStart(n) : s.padEnd(n);
}

function printTable(sizes) {
  const lines = [];
  for (const sz of sizes) {
    lines.push(
      `\n${sz.processesBefore}–${sz.processesAfter} processes (target ${sz.target}), load ${sz.loadBefore[0]} → ${sz.loadavg[0]}, ${RUNS} runs; ratios of median wall (of median CPU)`,
    );
    lines.push(
      `  ${pad('tool', 38)} ${pad('wall ms', 8, true)} ${pad('min', 7, true)} ${pad('cpu ms', 7, true)} ${pad('RSS MB', 7, true)} ${pad('/fuser', 13, true)} ${pad('/manual', 13, true)} ${pad('/floor', 13, true)}`,
    );
    const base = (id) => sz.tools[id];
    for (const t of Object.values(sz.tools)) {
      const r = (id) => (base(id) ? `${(t.wallMs / base(id).wallMs).toFixed(2)} (${(t.cpuMs / base(id).cpuMs).toFixed(2)})` : 'n/a');
      lines.push(
        `  ${pad(t.label, 38)} ${pad(t.wallMs.toFixed(1), 8, true)} ${pad(t.wallMinMs.toFixed(1), 7, true)} ${pad(t.cpuMs.toFixed(1), 7, true)} ${pad(t.maxRssMb.toFixed(1), 7, true)} ${pad(r('fuser'), 13, true)} ${pad(r('manual'), 13, true)} ${pad(r('floor'), 13, true)}`,
      );
    }
  }
  return lines.join('\n');
}

/** The issue's targets, each PASS, MISS or n/a. Sizes nearest 2,000 and 5,000 stand for them. */
function checkTargets(sizes) {
  const near = (n) => sizes.reduce((best, s) => (best === null || Math.abs(s.target - n) < Math.abs(best.target - n) ? s : best), null);
  const s2k = near(2000);
  const s5k = near(5000);
  const out = [];
  const verdict = (value, limit) => (value === null || value === undefined || Number.isNaN(value) ? 'n/a' : value <= limit ? 'PASS' : 'MISS');
  const r3 = (v) => (v === null || v === undefined ? null : Math.round(v * 1000) / 1000);
  // status: on median wall time (the issue's measure); cpuStatus: the same ratio on median CPU time,
  // which a loaded machine disturbs less (shown for information).
  const add = (name, value, limit, unit = 'x', cpuValue = null) => {
    out.push({ target: name, value: r3(value), limit, unit, status: verdict(value, limit), cpuValue: r3(cpuValue), cpuStatus: unit === 'x' ? verdict(cpuValue, limit) : null });
  };
  const w = (s, id) => s?.tools[id]?.wallMs ?? null;
  const c = (s, id) => s?.tools[id]?.cpuMs ?? null;
  const ratio = (a, b) => (a === null || b === null ? null : a / b);
  const both = (name, s1, a, s2, b, limit) => add(name, ratio(w(s1, a), w(s2, b)), limit, 'x', ratio(c(s1, a), c(s2, b)));
  both(`orphans --json / fuser at ${s2k?.target}`, s2k, 'orphans', s2k, 'fuser', 1.0);
  both(`orphans --json / manual pipeline at ${s2k?.target}`, s2k, 'orphans', s2k, 'manual', 0.33);
  both(`orphans --json / floor at ${s2k?.target}`, s2k, 'orphans', s2k, 'floor', 1.5);
  if (s5k !== s2k) both(`orphans --json growth ${s2k?.target} → ${s5k?.target}`, s5k, 'orphans', s2k, 'orphans', 2.7);
  if (s5k !== s2k && w(s5k, 'guard') !== null) both(`guard growth ${s2k?.target} → ${s5k?.target}`, s5k, 'guard', s2k, 'guard', 2.7);
  both(`guard / orphans --json at ${s2k?.target}`, s2k, 'guard', s2k, 'orphans', 1.2);
  add(`orphans --json peak RSS at ${s5k?.target}`, s5k?.tools.orphans?.maxRssMb ?? null, 100, 'MB');
  if (w(s5k, 'guard') !== null) add(`guard peak RSS at ${s5k?.target}`, s5k.tools.guard.maxRssMb, 100, 'MB');
  return out;
}

function machine() {
  const cpus = os.cpus();
  let kernel = os.release();
  return {
    hostname: os.hostname(),
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? 'unknown',
    memGb: round1(os.totalmem() / 2 ** 30),
    kernel,
    node: process.version,
    pidMax: Number(fs.readFileSync('/proc/sys/kernel/pid_max', 'utf8')),
    tools: Object.fromEntries(
      [
        ['fuser', ['fuser', '-V']],
        ['lsof', ['lsof', '-v']],
        ['ps', ['ps', '--version']],
      ].map(([k, argv]) => {
        const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8' });
        const text = `${r.stdout}\n${r.stderr}`;
        const m = /(?:revision:?\s*|version\s+|from procps(?:-ng)?\s+|\(PSmisc\)\s+)(\d+(?:\.\d+)+)/i.exec(text);
        return [k, m ? m[1] : 'unknown'];
      }),
    ),
  };
}

// ------------------------------------------------------------------------------ main

async function main() {
  const t0 = Date.now();
  if (!fs.existsSync(path.join(REPO, 'dist', 'cli.js'))) throw new Error('dist/ is missing: run `npm run build` (npm run bench does)');
  if (process.platform !== 'linux') throw new Error('the bench runs on Linux (it reads /proc and starts an s6 tree)');
  const missing = ['bash', 'setsid', 'sleep', 'python3', 'ps', 'lsof', 'fuser', 'systemctl', 's6-svscan', 's6-svscanctl', 's6-svstat'].filter(
    (b) => spawnSync('bash', ['-c', `command -v ${b}`], { stdio: 'ignore' }).status !== 0,
  );
  // systemctl only answers an error where PID 1 is not systemd, but the pipeline needs it installed.
  if (missing.length > 0) throw new Error(`missing programs: ${missing.join(', ')} (bash .ci/run installs them)`);
  const pidMax = Number(fs.readFileSync('/proc/sys/kernel/pid_max', 'utf8'));
  const biggest = SIZES[SIZES.length - 1];
  if (pidMax < biggest + 2000) throw new Error(`kernel.pid_max is ${pidMax}: too low for ${biggest} processes`);
  const nproc = Number(spawnSync('bash', ['-c', 'ulimit -u'], { encoding: 'utf8' }).stdout.trim());
  if (process.getuid?.() !== 0 && Number.isFinite(nproc) && nproc < biggest + 500) {
    throw new Error(`ulimit -u is ${nproc}: too low for ${biggest} processes (raise it, or set BENCH_SIZES)`);
  }
  console.log(`bench: sizes ${SIZES.join(', ')}, ${RUNS} runs each, load ${os.loadavg().map(round2).join(' ')}`);
  const sc = await startIncident();
  const seen = checkIncident(sc);
  console.log(`bench: incident up in ${tmpDir}: s6 gateways ${sc.slots.default} (default), ${sc.slots.argus} (argus), orphan ${sc.orphanPid}; hermes-doctor sees it (exit ${seen.exit}, ${seen.risk})`);
  const hold = process.argv.indexOf('--hold');
  if (hold > 0) {
    // Profiling aid: keep the incident and N processes up until SIGINT/SIGTERM.
    const n = Number(process.argv[hold + 1] ?? SIZES[0]);
    const reached = await growTo(n);
    console.log(`bench: holding ${reached} processes; s6 scan dir ${scanDir}; kanban.db ${sc.db}; Ctrl-C (or kill -INT ${process.pid}) to clean up`);
    await new Promise(() => {});
  }
  const databaseChecks = await measureDatabaseChecks(sc.root);
  console.log(
    `bench: database checks (sources/databases.ts, in-process, median of ${RUNS}): incident root ${databaseChecks.incident.ms} ms for ${databaseChecks.incident.databases} database(s); with ${databaseChecks.storm.backups} backups beside kanban.db ${databaseChecks.storm.ms} ms`,
  );
  const guard = guardCommand();
  console.log(guard ? `bench: guard available: ${guard.slice(1).map((x) => (x.startsWith(REPO) ? path.relative(REPO, x) : x)).join(' ')}` : 'bench: `hermes-doctor guard --help` fails: guard is n/a');
  const meter = new Meter();
  const list = tools(sc.db, guard);
  const sizes = [];
  if (process.env.BENCH_CLI) console.log(`bench: measuring ${CLI}`);
  for (const target of SIZES) {
    const now = hostProcessCount();
    if (now > target) console.log(`bench: host already has ${now} processes, more than ${target}`);
    const ts = Date.now();
    const reached = await growTo(target);
    console.log(`bench: ${reached} processes (${owned.size} owned, spawned in ${Date.now() - ts} ms); measuring…`);
    sizes.push(await measureSize(meter, list, target));
  }
  meter.close();
  const table = printTable(sizes);
  console.log(table);
  const targets = checkTargets(sizes);
  console.log('\nTargets (status on median wall time)');
  const fmt = (v, unit) => (v === null ? 'n/a' : `${v.toFixed(2)}${unit === 'x' ? 'x' : ' ' + unit}`);
  for (const t of targets) {
    const cpu = t.cpuStatus ? `   [cpu time: ${fmt(t.cpuValue, t.unit)} ${t.cpuStatus}]` : '';
    console.log(`  ${pad(t.status, 5)} ${pad(t.target, 46)} ${pad(fmt(t.value, t.unit), 9, true)} (limit ${t.limit}${t.unit === 'x' ? 'x' : ' ' + t.unit})${cpu}`);
  }
  const result = {
    schema: 'hermes-doctor.bench/v1',
    takenAt: new Date().toISOString(),
    machine: machine(),
    runs: RUNS,
    cli: path.relative(REPO, CLI) || CLI,
    baseline: BASELINE,
    incident: { orphanPid: sc.orphanPid, slots: sc.slots, seen },
    guard: guard ? guard.slice(1).map((x) => (x.startsWith(REPO) ? path.relative(REPO, x) : x.startsWith(tmpDir) ? x.replace(tmpDir, '$TMP') : x)).join(' ') : null,
    databaseChecks,
    sizes,
    targets,
    durationS: Math.round((Date.now() - t0) / 1000),
  };
  for (const s of sizes) for (const t of Object.values(s.tools)) t.command = t.command.split(tmpDir).join('$TMP');
  fs.writeFileSync(OUT, JSON.stringify(result, null, 2) + '\n');
  console.log(`\nbench: wrote ${OUT}; ${result.durationS} s; cleaning up ${owned.size} process(es)`);
  cleanupSync();
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`bench: ${err instanceof Error ? err.stack : String(err)}\n`);
    cleanupSync();
    process.exit(1);
  },
);
