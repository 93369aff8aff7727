/**
 * The one lock matcher: which lines of /proc/locks (man 5 proc) lie on a given file. Pure; used by the
 * scan (every lock file of every home in sight) and by the Linux signaller (does a home's owner still
 * hold its gateway.lock after a kill), so the kill action and the next scan never disagree.
 *
 * A lock line names its file by device (`MAJOR:MINOR`) and inode; stat(2) gives the same two numbers.
 * On overlayfs (Docker) stat() reports the overlay's device while /proc/locks names the upper layer's,
 * so a line that matches the inode alone is accepted, but only when every such line sits on one
 * device: inodes are unique per device only, and two devices holding the inode mean the match could be
 * another file.
 */

/** Where a lock or a file lives: device major and minor, inode. */
export interface LockLocation {
  major: number;
  minor: number;
  inode: number;
}

/**
 * The lock lines on `file`: those with its device and inode; failing any, those with its inode when all
 * of them sit on one device (overlayfs); else none.
 *
 * @param locks parsed /proc/locks lines (any shape carrying device and inode)
 * @param file device and inode of the file, from stat(2) (see devMajorMinor for Node's dev_t)
 */
export function locksOnFile<T extends LockLocation>(locks: readonly T[], file: LockLocation): T[] {
  const exact = locks.filter((l) => l.inode === file.inode && l.major === file.major && l.minor === file.minor);
  if (exact.length > 0) return exact;
  const byInode = locks.filter((l) => l.inode === file.inode);
  return new Set(byInode.map((l) => `${l.major}:${l.minor}`)).size === 1 ? byInode : [];
}
