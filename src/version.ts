/**
 * The version of this installation, read once from its own package.json (one folder above both
 * `src/` and `dist/`). yargs' own guess looks for the package.json of the running script's folders
 * and of the working directory, which prints "unknown" for a global install run from elsewhere.
 */
import fs from 'node:fs';

let cached: string | null = null;

/**
 * The `version` field of hermes-doctor's package.json, or "unknown" when the file cannot be read or
 * has no string `version` (a broken installation must not stop a scan).
 */
export function packageVersion(): string {
  if (cached !== null) return cached;
  try {
    const pkg = JSON.parse(fs.readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: unknown };
    cached = typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    cached = 'unknown';
  }
  return cached;
}
