// Teardown problems that belong to someone else. Test namespaces have no cgroup namespace: a systemd
// booted by another test run on the same machine (another checkout running its suites at the same time)
// creates its unit cgroups in the same host hierarchy. When our teardown finds such a dir new and
// busy, the processes in it are not ours (ours all died with our namespace's init): that is not a leak.
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Whether a cgroup dir, or any cgroup below it, holds a live process now. */
function populated(dir: string, depth = 0): boolean {
  try {
    if (fs.readFileSync(path.join(dir, 'cgroup.procs'), 'utf8').trim() !== '') return true;
  } catch {
    return false;
  }
  if (depth > 8) return false;
  let entries: fs.Dirent[] = [];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch {
    return false;
  }
  return entries.some((e) => e.isDirectory() && populated(path.join(dir, e.name), depth + 1));
}

/** rmdir once more: true when the dir is gone now (a foreign process left it between two looks). */
function goneOnSecondTry(dir: string): boolean {
  try {
    fs.rmdirSync(dir);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ENOENT';
  }
}

/**
 * teardownProblems() minus `rmdir CGROUP: EBUSY` for cgroups that hold someone else's live processes.
 * The foreign process may exit between our rmdir and the look at cgroup.procs, leaving an empty dir:
 * that dir is removed on a second try and is not a problem either.
 */
export function ownTeardownProblems(problems: string[]): string[] {
  return problems.filter((p) => {
    const m = /^rmdir (\/sys\/fs\/cgroup\/\S+): EBUSY$/.exec(p);
    if (!m) return true;
    return !(populated(m[1]!) || goneOnSecondTry(m[1]!) || populated(m[1]!));
  });
}

/**
 * Of the cgroup dirs that appeared during a test, the ones that are ours: drops dirs that hold a live
 * process (after our systemd's teardown none of ours is alive, so those belong to a systemd another
 * test run booted meanwhile) and dirs that such a systemd removes within `settleMs` (default 3000 ms;
 * a unit of it that just stopped). What remains is a leak of ours.
 */
export async function ownNewCgroupDirs(added: string[], settleMs = 3000): Promise<string[]> {
  const candidates = (): string[] => added.filter((d) => fs.existsSync(d) && !populated(d));
  const deadline = Date.now() + settleMs;
  let left = candidates();
  while (left.length > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    left = candidates();
  }
  return left;
}
