/**
 * Who is who: the role, HERMES_HOME, profile and kanban root of one process, from its argv, its
 * allow-listed environment and its open files. Pure; follows Hermes's own rules (the matcher in
 * gateway/status.py at 306e2d2, hermes_cli/main.py:_apply_profile_override and
 * hermes_cli/kanban_db.py:kanban_home at v0.15.1 and 306e2d2): `-p/--profile NAME` →
 * `<root>/profiles/NAME` (root from env HERMES_HOME, else `~/.hermes` of the process's HOME); else env
 * HERMES_HOME; else the folder of an fd on `gateway.lock`; else unknown, because a sticky
 * `active_profile` may have moved it inside the process.
 *
 * A process that holds the flock on `<home>/gateway.lock` is that home's gateway whatever its cmdline:
 * with the setproctitle module importable, 306e2d2 (hermes_cli/main.py `_set_process_title`) rewrites
 * /proc/PID/cmdline to `hermes` and blanks the environ area, so neither argv nor environment names the
 * command or the home. Hermes takes that flock in gateway/status.py `acquire_gateway_runtime_lock`
 * (v0.15.1 e71a2bd and 306e2d2) and keeps it for the process's life; the record it writes into
 * gateway.lock and gateway.pid (`pid`, `kind`, `argv`, `start_time`) gives the argv, trusted only when
 * its pid and start_time both match the process.
 */
import path from 'node:path';
import type { HomeRecord, HostSnapshot, IdentityFile, LockRecord, ProcessRecord, Role } from '../types.js';
import { type HermesCommand, isWebUiArgv, parseHermesArgv } from './argv.js';
import { FILES, PROFILE_RE, cleanPath, homeForProfile, isKanbanDataFile, kanbanDbOfFile, rootOfHome } from './paths.js';

/** The identity of one process, as far as it can be decided. */
export interface Identity {
  role: Role | null;
  cmd: HermesCommand | null;
  hermesHome: string | null;
  /** How the home was found, in words (`argv -p argus`, `env HERMES_HOME`, `fd on gateway.lock`). */
  homeSource: string | null;
  /** Why no home could be decided, when hermesHome is null. */
  homeUnknownWhy: string | null;
  profile: string | null;
  kanbanRoot: string | null;
  /** Disagreement between sources (argv vs the lock the process actually holds), in words. */
  conflicts: string[];
  /**
   * True when the home rests on a guess: `-p NAME` was seen but the process environment was not readable,
   * so its root was assumed to be `~/.hermes` of its UID. A guessed home never yields a confident verdict.
   */
  homeGuessed: boolean;
  /** The home whose gateway.lock flock this process holds (from /proc/locks), or null. */
  holdsLockOf: string | null;
  /** argv of the matching gateway.lock / gateway.pid record, when the cmdline does not show the gateway command; else null. */
  recordArgv: string[] | null;
}

/**
 * Env markers that make Hermes skip the sticky active_profile: HERMES_S6_SUPERVISED_CHILD in
 * hermes_cli/main.py:_apply_profile_override at 306e2d2 (v0.15.1 skips for none); the others in newer
 * upstream (hermes-agent PR #77582).
 */
export const ACTIVE_PROFILE_SKIP_ENV = ['HERMES_S6_SUPERVISED_CHILD', 'HERMES_SUPERVISED_CHILD', 'HERMES_GATEWAY_EXTERNAL_SUPERVISOR', 'INVOCATION_ID'] as const;

/** What identify needs besides the process: passwd homes and the active_profile of roots. */
export interface IdentifyContext {
  /** UID (as text) → passwd home directory. */
  userHomes: Record<string, string>;
  /** Root → its active_profile, null when none; a root missing from the map was not read. */
  activeProfiles?: Record<string, string | null>;
  /** Locks of the snapshot (who holds which gateway.lock); absent: no lock is known. */
  locks?: readonly LockRecord[];
  /** Home records (their gateway.lock and gateway.pid records); absent: none known. */
  homes?: readonly HomeRecord[];
  /** Start stamp units the process source cannot tell apart ({@link startStampsAgree}): 100 on macOS, else 1 (absent). */
  startResolution?: number;
}

/** macOS start stamps are ps `lstart` seconds times 100: 100 stamp units are one indistinguishable second. */
export const DARWIN_START_RESOLUTION = 100;

/** The identify context of a snapshot: passwd homes, active profiles, locks and home records. */
export function identifyContext(snap: HostSnapshot): IdentifyContext {
  return {
    userHomes: snap.userHomes ?? {},
    activeProfiles: snap.activeProfiles ?? {},
    locks: snap.locks,
    homes: snap.homes,
    ...(snap.platform === 'darwin' ? { startResolution: DARWIN_START_RESOLUTION } : {}),
  };
}

/**
 * Whether a record's start stamp and a process's agree, compared at the resolution of the process's
 * source. `resolution` is how many stamp units the process's source cannot tell apart: 1 where it is
 * exact (Linux clock ticks; Windows CIM CreationDate in centiseconds), 100 on macOS, where `startTicks`
 * comes from ps `lstart` (whole seconds, times 100) while Hermes writes `round(create_time*100)` from
 * psutil (gateway/status.py:_get_process_start_time at 306e2d2). A process started in second S has a
 * record stamp in [100·S, 100·S + 100] (the rounding may carry into the next second), so with
 * resolution 100 the record may lie anywhere from the process's stamp to one second after it.
 */
export function startStampsAgree(recordStamp: number, procStamp: number, resolution = 1): boolean {
  if (resolution <= 1) return recordStamp === procStamp;
  const base = Math.floor(procStamp / resolution) * resolution;
  return recordStamp >= base && recordStamp <= base + resolution;
}

/**
 * Whether an identity record names exactly this process: same pid and start_time (clock ticks, or a
 * platform start stamp) agreeing at `resolution` (see {@link startStampsAgree}; default exact).
 */
export function recordNames(f: IdentityFile | undefined, proc: Pick<ProcessRecord, 'pid' | 'startTicks'>, resolution = 1): boolean {
  return !!f && (f.status === 'ok' || f.status === 'legacy') && f.pid === proc.pid && f.startTime !== null && startStampsAgree(f.startTime, proc.startTicks, resolution);
}

/**
 * The gateway.lock flock this process holds, with the record (inside gateway.lock, else gateway.pid) that
 * names it by pid and start_time; null when it holds none.
 */
export function heldGatewayLock(proc: ProcessRecord, ctx: IdentifyContext): { home: string; record: IdentityFile | null } | null {
  const lock = (ctx.locks ?? []).find(
    (l) => l.pid === proc.pid && l.kind === 'FLOCK' && path.posix.basename(l.path) === FILES.gatewayLock,
  );
  if (!lock) return null;
  const home = cleanPath(path.posix.dirname(lock.path));
  const rec = (ctx.homes ?? []).find((h) => cleanPath(h.path) === home);
  const res = ctx.startResolution ?? 1;
  const record = recordNames(rec?.lockFile, proc, res) ? rec!.lockFile! : recordNames(rec?.pidFile, proc, res) ? rec!.pidFile : null;
  return { home, record };
}

/** The default Hermes root for a process: `$HOME/.hermes` (+ HERMES_DATA_DIR_SUFFIX, newer upstream), as hermes_constants.py at v0.15.1 and 306e2d2. */
export function defaultRoot(proc: ProcessRecord, userHomes: Record<string, string>): string | null {
  if (proc.platformHints?.defaultRoot) return proc.platformHints.defaultRoot;
  const home = proc.env.HOME ?? userHomes[String(proc.uid)];
  if (!home) return null;
  return path.posix.join(home, `.hermes${proc.env.HERMES_DATA_DIR_SUFFIX ?? ''}`);
}

/** Home folders of gateway.lock / identity files this process has open. */
function homesFromHandles(proc: ProcessRecord): string[] {
  const out = new Set<string>();
  for (const h of proc.handles) {
    const base = path.posix.basename(h.path);
    if (base === FILES.gatewayLock) out.add(path.posix.dirname(h.path));
  }
  return [...out];
}

function holdsGatewayOrKanbanFiles(proc: ProcessRecord): boolean {
  return proc.handles.some(
    (h) =>
      path.posix.basename(h.path) === FILES.gatewayLock ||
      path.posix.basename(h.path) === FILES.dispatcherLock ||
      isKanbanDataFile(h.path),
  );
}

/** Role from the parsed command (and, for `gateway restart`, from what the process holds). */
export function roleOf(proc: ProcessRecord, cmd: HermesCommand | null): Role | null {
  if (cmd) {
    if (cmd.command === 'wrapper' || !cmd.direct) {
      const inner = cmd.wrapped ?? cmd;
      if (inner.command === 'gateway') return 'gateway-wrapper';
      if (!cmd.direct) return holdsGatewayOrKanbanFiles(proc) ? 'stray-holder' : null;
    }
    if (cmd.command === 'gateway') {
      if (cmd.gatewaySub === 'run') return 'gateway';
      // A `gateway restart` (or start) that stays alive holding gateway or kanban files is a runtime:
      // Hermes runs run_gateway() inside the same process when no supervisor exists (#51325).
      if ((cmd.gatewaySub === 'restart' || cmd.gatewaySub === 'start') && holdsGatewayOrKanbanFiles(proc)) return 'gateway';
      return 'hermes-cli';
    }
    if (cmd.command === 'chat' && (cmd.kanbanTask || proc.env.HERMES_KANBAN_TASK)) return 'kanban-worker';
    if (proc.env.HERMES_KANBAN_TASK) return 'kanban-worker';
    if (cmd.command === 'kanban' && cmd.kanbanSub === 'daemon') return 'dispatcher-daemon';
    if (cmd.command === 'dashboard' || cmd.command === 'serve') return 'dashboard';
    if (cmd.command === 'tui') return 'tui';
    return 'hermes-cli';
  }
  if (isWebUiArgv(proc.argv)) return 'web-ui';
  if (proc.handles.some((h) => isKanbanDataFile(h.path))) return 'stray-holder';
  return null;
}

/**
 * Identifies one process. `ctx.userHomes` maps a UID (as text) to its passwd home directory, used when
 * the process's own HOME is not visible.
 *
 * @param parsed `parseHermesArgv(proc.argv)` when the caller already parsed it (./analysis.ts parses each argv once)
 */
export function identify(proc: ProcessRecord, ctx: IdentifyContext, parsed: HermesCommand | null = parseHermesArgv(proc.argv)): Identity {
  const userHomes = ctx.userHomes;
  const held = heldGatewayLock(proc, ctx);
  let cmd = parsed;
  let recordArgv: string[] | null = null;
  if (held?.record?.argv && cmd?.command !== 'gateway') {
    // The cmdline hides the command (setproctitle): the matching record's argv says what runs.
    recordArgv = held.record.argv;
    cmd = parseHermesArgv(recordArgv) ?? cmd;
  }
  let role = roleOf(proc, cmd);
  // The flock holder is the home's gateway, provided something says it is Hermes: its argv or a record naming it.
  if (held && (cmd !== null || held.record !== null)) role = 'gateway';
  const conflicts: string[] = [];
  let hermesHome: string | null = null;
  let homeSource: string | null = null;
  let homeUnknownWhy: string | null = null;

  const effective = cmd?.wrapped ?? cmd;
  const envHome = proc.env.HERMES_HOME ? cleanPath(proc.env.HERMES_HOME) : null;
  const lockHomes = held ? [held.home] : homesFromHandles(proc);
  let homeGuessed = false;
  if (effective?.profile && !PROFILE_RE.test(effective.profile)) {
    // Hermes refuses such a name (hermes_cli/profiles.py _PROFILE_ID_RE at 306e2d23): no home can be derived from it.
    homeUnknownWhy = `argv names profile ${JSON.stringify(effective.profile)}, which is not a Hermes profile id (${PROFILE_RE.source}): Hermes cannot run it as that profile`;
  } else if (effective?.profile) {
    const root = envHome ? rootOfHome(envHome) : defaultRoot(proc, userHomes);
    if (root) {
      hermesHome = homeForProfile(root, effective.profile);
      homeSource = `argv -p ${effective.profile}`;
      if (!envHome && !proc.env.HOME && proc.visibility.environ === 'unsupported') {
        // Windows never exposes another process's environment: the user's default root is what
        // Hermes itself would use, and nothing more can be learnt by anyone, so it is not a guess.
        homeSource += `, root ${root} (the platform does not expose process environments)`;
      } else if (!envHome && !proc.env.HOME && proc.visibility.environ !== 'ok') {
        homeGuessed = true;
        homeSource += `, root assumed to be ${root} (environment not readable: ${proc.visibility.environ})`;
      }
    } else {
      homeUnknownWhy = `argv says profile ${effective.profile} but the root is unknown (no HERMES_HOME or HOME visible)`;
    }
  } else if (envHome) {
    hermesHome = envHome;
    homeSource = 'env HERMES_HOME';
  } else if (effective?.hermesHomeInArgv) {
    hermesHome = cleanPath(effective.hermesHomeInArgv);
    homeSource = 'hermes_home= in the command line';
  }
  // No -p: HERMES_HOME unset or a root → Hermes reads <root>/active_profile (unless a supervised child).
  if (!effective?.profile && (role === 'gateway' || role === 'dispatcher-daemon' || role === 'gateway-wrapper')) {
    const root = hermesHome ?? (proc.env.HOME ? defaultRoot(proc, userHomes) : null);
    if (root && rootOfHome(root) === root && ctx.activeProfiles && root in ctx.activeProfiles) {
      const skip = ACTIVE_PROFILE_SKIP_ENV.find((k) => proc.env[k]);
      const sticky = ctx.activeProfiles[root];
      if (sticky && !skip) {
        hermesHome = homeForProfile(root, sticky);
        homeSource = `${homeSource ?? `default root ${root}`} + active_profile ${sticky}`;
      } else if (!hermesHome) {
        hermesHome = root;
        homeSource = `default root ${root} (${skip ? `${skip} set: active_profile not applied` : 'no active_profile'})`;
      }
    }
  }
  // A home a non-Linux source proved by record (gateway.pid pid + start stamp, or the task launcher): proof, like the lock.
  const hint = proc.platformHints?.hermesHome;
  if (hint) {
    const hinted = cleanPath(hint.path);
    if (hermesHome && hinted !== hermesHome) conflicts.push(`${homeSource} gives ${hermesHome} but ${hint.via} gives ${hinted}`);
    if (hermesHome !== hinted) {
      hermesHome = hinted;
      homeSource = hint.via;
      homeGuessed = false;
    }
  }
  if (lockHomes.length === 1) {
    // The held lock is proof; argv and env are inference (active_profile can move a process).
    const lockHome = cleanPath(lockHomes[0]!);
    if (hermesHome && lockHome !== hermesHome) conflicts.push(`${homeSource} gives ${hermesHome} but the process has ${lockHome}/gateway.lock open`);
    if (held && lockHome !== hermesHome) {
      hermesHome = lockHome;
      homeSource = `flock on ${path.posix.join(lockHome, FILES.gatewayLock)}${held.record ? ` (record in ${path.posix.basename(held.record.path)}: pid and start_time match)` : ''}`;
    } else if (lockHome !== hermesHome) {
      hermesHome = lockHome;
      homeSource = 'fd on gateway.lock';
    }
    homeGuessed = false;
  }
  if (!hermesHome && !homeUnknownWhy && role && role !== 'stray-holder' && role !== 'web-ui') {
    homeUnknownWhy =
      'no -p/--profile in argv, no HERMES_HOME in its environment and no gateway.lock open: a sticky active_profile may have moved it';
    if (proc.visibility.environ !== 'ok') homeUnknownWhy = `its environment is not readable (${proc.visibility.environ}), no -p in argv and no gateway.lock open`;
  }

  // Kanban root: HERMES_KANBAN_HOME, else the root of the home; a DB named by env or an open file also tells.
  let kanbanRoot: string | null = null;
  if (proc.env.HERMES_KANBAN_HOME) kanbanRoot = cleanPath(proc.env.HERMES_KANBAN_HOME);
  else if (proc.env.HERMES_KANBAN_DB) kanbanRoot = kanbanDbOfFile(cleanPath(proc.env.HERMES_KANBAN_DB))?.root ?? null;
  if (!kanbanRoot && hermesHome) kanbanRoot = rootOfHome(hermesHome);
  if (!kanbanRoot) {
    const db = proc.handles.map((h) => kanbanDbOfFile(h.path)).find((x) => x !== null);
    if (db) kanbanRoot = db.root;
  }

  const profile = hermesHome ? (rootOfHome(hermesHome) === hermesHome ? 'default' : path.posix.basename(hermesHome)) : (effective?.profile ?? null);
  return { role, cmd, hermesHome, homeSource, homeUnknownWhy, profile, kanbanRoot, conflicts, homeGuessed, holdsLockOf: held?.home ?? null, recordArgv };
}
