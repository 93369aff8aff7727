/**
 * Parent chains, pure: the one walk up a process tree that every platform uses (the Linux scan over
 * /proc/PID/stat, the guard's caller, the macOS and Windows process tables), with the table behind
 * `ppidOf` injected.
 */

/**
 * A PID and its ancestors, nearest first: the scanner's (the kill action's never-signal list) or the
 * guard's caller. A PID whose parent cannot be read ends the chain (it is still listed).
 *
 * @param selfPid where the chain starts
 * @param ppidOf the parent of a PID from the process table, or undefined when the PID is not in it
 * @param max how many generations at the most (a loop in a recorded table must end)
 */
export function ancestorChain(selfPid: number, ppidOf: (pid: number) => number | undefined, max = 64): number[] {
  const chain: number[] = [];
  for (let cur = selfPid; chain.length < max && cur > 0 && !chain.includes(cur); ) {
    chain.push(cur);
    const parent = ppidOf(cur);
    if (parent === undefined) break;
    cur = parent;
  }
  return chain;
}
