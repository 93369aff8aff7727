// The built CLI as another user runs it. A checkout often sits below a folder only its owner may
// enter (a 0700 home or mktemp dir), where `setpriv --reuid U node bin/hermes-doctor.js` fails
// before main() with EACCES: then a copy of what the CLI needs at run time (bin/, dist/,
// package.json and the production node_modules that `npm ls --omit=dev` names) is staged in a
// world-readable temp dir, once per test process.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CLI_BIN, REPO_ROOT } from './processes.js';

let staged: string | null = null;

/** Can `uid` read `file` (every folder above it searchable)? Asked as that user, through setpriv. */
function readableBy(uid: number, file: string): boolean {
  const r = spawnSync('setpriv', ['--reuid', String(uid), '--regid', String(uid), '--clear-groups', process.execPath, '-e', `require('fs').accessSync(${JSON.stringify(file)}, 4)`], {
    cwd: '/',
    timeout: 20_000,
  });
  return r.status === 0;
}

/** Path of a bin/hermes-doctor.js that `uid` can run: CLI_BIN itself, or the staged copy's. */
export function cliBinFor(uid: number): string {
  if (readableBy(uid, path.join(REPO_ROOT, 'dist', 'cli.js'))) return CLI_BIN;
  if (staged) return path.join(staged, 'bin', 'hermes-doctor.js');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hermes-doctor-cli-'));
  fs.chmodSync(dir, 0o755);
  for (const entry of ['bin', 'dist', 'package.json']) fs.cpSync(path.join(REPO_ROOT, entry), path.join(dir, entry), { recursive: true });
  const prod = execFileSync('npm', ['ls', '--omit=dev', '--all', '--parseable'], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 60_000 })
    .split('\n')
    .map((p) => p.trim())
    .filter((p) => p.startsWith(path.join(REPO_ROOT, 'node_modules') + path.sep));
  for (const p of prod) fs.cpSync(p, path.join(dir, path.relative(REPO_ROOT, p)), { recursive: true });
  staged = dir;
  return path.join(dir, 'bin', 'hermes-doctor.js');
}

/** Removes the staged copy, if one was made. */
export function removeStagedCli(): void {
  if (staged) fs.rmSync(staged, { recursive: true, force: true });
  staged = null;
}
