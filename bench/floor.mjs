#!/usr/bin/env node
/**
 * The floor of the benchmark: the least a Node program must do to answer "who holds this file and
 * what is every process": list /proc, read every process's cmdline and its fd links. No parsing, no
 * classification, no output beyond two counts. hermes-doctor's scan is compared to this.
 */
import fs from 'node:fs';

let processes = 0;
let links = 0;
for (const name of fs.readdirSync('/proc')) {
  const c = name.charCodeAt(0);
  if (c < 48 || c > 57) continue;
  try {
    fs.readFileSync(`/proc/${name}/cmdline`);
  } catch {
    continue; // left meanwhile
  }
  processes++;
  let fds;
  try {
    fds = fs.readdirSync(`/proc/${name}/fd`);
  } catch {
    continue; // not ours to read, or gone
  }
  for (const fd of fds) {
    try {
      fs.readlinkSync(`/proc/${name}/fd/${fd}`);
      links++;
    } catch {
      /* closed meanwhile */
    }
  }
}
process.stdout.write(`${processes} processes, ${links} fd links\n`);
