// The example alert rules of docs/monitoring.md, as the tests feed them to promtool and Prometheus.
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from './processes.js';

/** The ```yaml block of docs/monitoring.md that holds the rule groups; throws when it is missing. */
export function rulesFromDocs(): string {
  const md = fs.readFileSync(path.join(REPO_ROOT, 'docs', 'monitoring.md'), 'utf8');
  const m = /```yaml\n(groups:[\s\S]*?)```/.exec(md);
  if (!m) throw new Error('docs/monitoring.md has no ```yaml block starting with groups:');
  return m[1]!;
}

/** The same rules with every `for:` shortened to `duration` (a test cannot wait 15 minutes). */
export function withShortFor(rules: string, duration: string): string {
  return rules.replace(/^(\s+for: )\S+$/gm, `$1${duration}`);
}
