// Temporary folders for tests: a scratch dir with fake user homes and Hermes roots inside.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export interface Scratch {
  /** The scratch folder itself (fs.mkdtempSync under os.tmpdir()). */
  dir: string;
  /**
   * Create a fresh fake user home `<dir>/home-N/` holding a Hermes root `<dir>/home-N/.hermes/`
   * with `profiles/<name>/` for each name given ('default' is the root itself, no folder made).
   * Returns the root path. Started processes get HOME=<dir>/home-N, so `~/.hermes` is this root.
   */
  root(...profiles: string[]): string;
  /** Remove the scratch folder (idempotent). */
  cleanup(): void;
}

const live = new Set<string>();

export function makeScratch(prefix = 'hermes-doctor-test-'): Scratch {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  live.add(dir);
  let n = 0;
  return {
    dir,
    root(...profiles: string[]): string {
      n += 1;
      const root = path.join(dir, `home-${n}`, '.hermes');
      fs.mkdirSync(root, { recursive: true });
      for (const p of profiles) {
        if (p !== 'default') fs.mkdirSync(path.join(root, 'profiles', p), { recursive: true });
      }
      return root;
    },
    cleanup(): void {
      fs.rmSync(dir, { recursive: true, force: true });
      live.delete(dir);
    },
  };
}

/** Remove every scratch folder made by makeScratch in this worker that was not cleaned yet. */
export function cleanupAllScratch(): void {
  for (const d of [...live]) {
    fs.rmSync(d, { recursive: true, force: true });
    live.delete(d);
  }
}

/** The HERMES_HOME a profile resolves to under a root (`default` = the root). */
export function profileHome(root: string, profile?: string): string {
  return !profile || profile === 'default' ? root : path.join(root, 'profiles', profile);
}
