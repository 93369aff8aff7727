#!/usr/bin/env node
// Thin launcher: the CLI lives in the compiled library (dist/, built by `npm pack` and `npm test`).
// In a git checkout (src/ beside it, TypeScript installed by `npm ci`) a missing dist/ is built once
// here, so `npm ci && npx hermes-doctor orphans` works in a fresh clone without an install script.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const cli = new URL('../dist/cli.js', import.meta.url);

async function buildCheckout() {
  const tsc = fileURLToPath(new URL('../node_modules/typescript/bin/tsc', import.meta.url));
  const config = fileURLToPath(new URL('../tsconfig.build.json', import.meta.url));
  if (!existsSync(config) || !existsSync(tsc)) return false;
  process.stderr.write('hermes-doctor: building dist/ of this checkout (first run; `npm run build` does the same)\n');
  const { execFileSync } = await import('node:child_process');
  execFileSync(process.execPath, [tsc, '-p', config], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  return true;
}

async function run() {
  if (!existsSync(fileURLToPath(cli)) && !(await buildCheckout())) {
    throw new Error(`${fileURLToPath(cli)} is missing and this is not a checkout that can build it (run \`npm run build\`)`);
  }
  const { main } = await import(cli.href);
  return main(process.argv.slice(2));
}

run().then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`hermes-doctor: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 3;
  },
);
