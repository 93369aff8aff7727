#!/usr/bin/env node
// Thin launcher: the CLI lives in the compiled library (npm run build, run by npm ci / npm install).
import { main } from '../dist/cli.js';

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`hermes-doctor: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 3;
  },
);
