#!/usr/bin/env node
// Runs the whole test suite N times in a row, optionally under extra CPU load, and reports every
// failure with its file and test name. A test that fails once in N is a race to fix, not noise.
//
//   npm run test:repeat -- 10              ten runs
//   npm run test:repeat -- 10 --load 2     ten runs beside two busy loops (one per core here)
//   npm run test:repeat -- 3 test/harness.test.ts   only these files
//
// Exit 0 when every run passed, 1 when any test failed, 2 on a usage error. The busy loops are
// this script's own children, ended by PID when it exits.
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function usage(msg) {
  process.stderr.write(`test:repeat: ${msg}\nusage: npm run test:repeat -- N [--load K] [vitest file filters...]\n`);
  process.exit(2);
}

const args = process.argv.slice(2);
let runs = 10;
let load = 0;
const filters = [];
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a === '--load') {
    load = Number(args[++i]);
    if (!Number.isInteger(load) || load < 0 || load > 64) usage('--load takes an integer 0–64');
  } else if (/^\d+$/.test(a) && filters.length === 0 && i === 0) {
    runs = Number(a);
  } else if (a.startsWith('-')) {
    usage(`unknown option ${a}`);
  } else {
    filters.push(a);
  }
}
if (!Number.isInteger(runs) || runs < 1 || runs > 1000) usage('N must be an integer 1–1000');

const loaders = [];
/** The vitest run in progress, so a signal to this script ends it too (it ends its own test processes). */
let current = null;
function stopLoad() {
  for (const c of loaders) {
    if (c.exitCode === null && c.signalCode === null) {
      try {
        process.kill(c.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
  }
}
process.on('exit', stopLoad);
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    stopLoad();
    if (current && current.exitCode === null && current.signalCode === null) {
      current.once('exit', () => process.exit(130));
      current.kill(sig);
    } else process.exit(130);
  });
}
for (let i = 0; i < load; i++) {
  loaders.push(spawn(process.execPath, ['-e', 'for(;;){}'], { stdio: 'ignore' }));
}

const build = spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
if (build.status !== 0) {
  process.stderr.write('test:repeat: the build failed\n');
  process.exit(1);
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'hermes-doctor-repeat-'));
const vitest = path.join(root, 'node_modules', 'vitest', 'vitest.mjs');
/** @type {Map<string, number>} failing test "file > name" -> runs it failed in */
const failedTests = new Map();
let failedRuns = 0;

/** One vitest run, asynchronously so that this script still handles signals meanwhile. */
function vitestRun(out) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [vitest, 'run', '--reporter=dot', '--reporter=json', `--outputFile.json=${out}`, ...filters], {
      cwd: root,
      stdio: ['ignore', 'ignore', 'pipe'],
      env: process.env,
    });
    current = child;
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d) => (stderr = (stderr + d).slice(-64 * 1024)));
    child.on('close', (status) => {
      current = null;
      resolve({ status, stderr });
    });
  });
}

async function runOnce(i) {
  const out = path.join(tmp, `run-${i}.json`);
  const started = Date.now();
  const r = await vitestRun(out);
  const secs = ((Date.now() - started) / 1000).toFixed(1);
  const failures = [];
  let report = null;
  try {
    report = JSON.parse(fs.readFileSync(out, 'utf8'));
  } catch {
    failures.push({ name: '(no JSON report: vitest itself failed)', message: String(r.stderr ?? '').slice(-2000) });
  }
  if (report) {
    for (const file of report.testResults ?? []) {
      const rel = path.relative(root, file.name);
      const failedAssertions = (file.assertionResults ?? []).filter((a) => a.status === 'failed');
      for (const a of failedAssertions) {
        failures.push({ name: `${rel} > ${a.fullName}`, message: (a.failureMessages ?? [])[0] ?? '' });
      }
      if (file.status === 'failed' && failedAssertions.length === 0) {
        failures.push({ name: `${rel} (file-level: hook or import)`, message: file.message ?? '' });
      }
    }
  }
  if (r.status !== 0 && failures.length === 0) failures.push({ name: `(vitest exited ${r.status})`, message: '' });
  const total = report ? `${report.numPassedTests}/${report.numTotalTests} passed` : 'no report';
  process.stdout.write(`run ${i}/${runs}: ${failures.length === 0 ? 'ok' : 'FAILED'} (${total}, ${secs} s)\n`);
  for (const f of failures) {
    // The first lines of the error: enough to tell a race from a regression without the run's log.
    const lines = f.message.split('\n').filter((l) => l.trim() !== '' && !/^\s+at /.test(l)).slice(0, 8);
    process.stdout.write(`  ✗ ${f.name}\n${lines.map((l) => `    ${l.slice(0, 300)}\n`).join('')}`);
    failedTests.set(f.name, (failedTests.get(f.name) ?? 0) + 1);
  }
  if (failures.length > 0) failedRuns++;
}

process.stdout.write(`test:repeat: ${runs} run(s)${load ? `, ${load} busy loop(s) beside them` : ''}${filters.length ? `, files: ${filters.join(' ')}` : ''}\n`);
for (let i = 1; i <= runs; i++) await runOnce(i);
stopLoad();
fs.rmSync(tmp, { recursive: true, force: true });

if (failedRuns === 0) {
  process.stdout.write(`test:repeat: all ${runs} run(s) passed\n`);
  process.exit(0);
}
process.stdout.write(`test:repeat: ${failedRuns} of ${runs} run(s) failed; tests that failed:\n`);
for (const [name, n] of [...failedTests].sort((a, b) => b[1] - a[1])) process.stdout.write(`  ${n}× ${name}\n`);
process.exit(1);
