/**
 * HERMES_HOME, root, profile and kanban path rules, pure (no I/O).
 *
 * Source: hermes_constants.get_default_hermes_root, profiles.resolve_profile_env and
 * hermes_cli/kanban_db.kanban_home / kanban_db_path at hermes-agent 306e2d23 (v0.15.1 differs only in
 * its Windows default root).
 */
import path from 'node:path';

/** Basenames of the files whose open fds and locks a scan records. */
export const FILES = {
  gatewayLock: 'gateway.lock',
  gatewayPid: 'gateway.pid',
  gatewayState: 'gateway_state.json',
  dispatcherLock: '.dispatcher.lock',
  kanbanDb: 'kanban.db',
  launchdUnsupported: '.gateway-launchd-unsupported',
  plannedStop: '.gateway-planned-stop.json',
  cleanShutdown: '.clean_shutdown',
  soul: 'SOUL.md',
} as const;

/** Profile id format of Hermes: `^[a-z0-9][a-z0-9_-]{0,63}$`. */
export const PROFILE_RE = /^[a-z0-9][a-z0-9_-]{0,63}$/;

/** Strips trailing slashes and resolves `.`/`..` (no symlinks: that needs I/O). */
export function cleanPath(p: string): string {
  const n = path.posix.normalize(p);
  return n.length > 1 ? n.replace(/\/+$/, '') : n;
}

/** The root of a home: `<X>/profiles/<n>` → `<X>`; any other home is its own root. */
export function rootOfHome(home: string): string {
  const h = cleanPath(home);
  const parent = path.posix.dirname(h);
  return path.posix.basename(parent) === 'profiles' ? path.posix.dirname(parent) : h;
}

/** Profile name of a home: the folder name under `profiles/`, or `default` for a root. */
export function profileOfHome(home: string): string {
  const h = cleanPath(home);
  return rootOfHome(h) === h ? 'default' : path.posix.basename(h);
}

/** HERMES_HOME of profile `name` under `root` (`default` is the root itself). */
export function homeForProfile(root: string, name: string): string {
  return name === 'default' ? cleanPath(root) : path.posix.join(cleanPath(root), 'profiles', name);
}

/** Tombstone of a deleted profile: `<root>/profiles/.deleted/<name>` (Hermes, September 2026). */
export function tombstonePath(home: string): string | null {
  const root = rootOfHome(home);
  if (root === cleanPath(home)) return null;
  return path.posix.join(root, 'profiles', '.deleted', profileOfHome(home));
}

/** Default database of a kanban root: `<root>/kanban.db` (board `default`, legacy location). */
export function defaultKanbanDb(kanbanRoot: string): string {
  return path.posix.join(cleanPath(kanbanRoot), FILES.kanbanDb);
}

/** The singleton dispatcher lock of a kanban root: `<root>/kanban/.dispatcher.lock`. */
export function dispatcherLockPath(kanbanRoot: string): string {
  return path.posix.join(cleanPath(kanbanRoot), 'kanban', FILES.dispatcherLock);
}

/**
 * If `file` is a kanban database file (`kanban.db`, `-wal`, `-shm`, `.dispatch.lock`, `.init.lock`),
 * returns the database path and its kanban root; else null. Boards live at
 * `<root>/kanban/boards/<slug>/kanban.db`, the default board at `<root>/kanban.db`.
 */
export function kanbanDbOfFile(file: string): { db: string; root: string } | null {
  const base = path.posix.basename(file);
  const m = /^kanban\.db(-wal|-shm|-journal|\.dispatch\.lock|\.init\.lock)?$/.exec(base);
  if (!m) return null;
  const db = path.posix.join(path.posix.dirname(file), FILES.kanbanDb);
  const dir = path.posix.dirname(db);
  const boards = /^(.*)\/kanban\/boards\/[^/]+$/.exec(dir);
  return { db, root: boards ? boards[1]! : dir };
}

/** Kanban root of a database path (see {@link kanbanDbOfFile}). */
export function kanbanRootOfDb(db: string): string {
  return kanbanDbOfFile(db)?.root ?? path.posix.dirname(db);
}

/** True when a path names one of the files a scan watches (identity, lock or kanban files). */
export function isFileOfInterest(file: string): boolean {
  const base = path.posix.basename(file);
  return (
    base === FILES.gatewayLock ||
    base === FILES.dispatcherLock ||
    base === FILES.gatewayPid ||
    base === FILES.gatewayState ||
    kanbanDbOfFile(file) !== null
  );
}

/** True when a path is a home's `state.db`, its WAL, shared-memory file or rollback journal (hermes_state.py at 306e2d2 keeps sessions there). */
export function isStateDbFile(file: string): boolean {
  return /\/state\.db(-wal|-shm|-journal)?$/.test(file);
}

/** The database a kanban or state.db data file belongs to (`…/kanban.db-wal` → `…/kanban.db`), or null. */
export function databaseOfFile(file: string): string | null {
  const m = /^(.*\/(?:kanban|state)\.db)(-wal|-shm|-journal)?$/.exec(file);
  return m ? m[1]! : null;
}

/** True when a path is a kanban database, its WAL or its shared-memory file (what a writer holds). */
export function isKanbanDataFile(file: string): boolean {
  return /\/kanban\.db(-wal|-shm|-journal)?$/.test(file);
}
