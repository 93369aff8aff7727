/**
 * The remedy commands a report prints, pure. Every remedy that ends a process is the same one,
 * `hermes-doctor orphans --kill --pid N`, never a bare `kill -TERM N`: the kill step re-checks the
 * target's identity before each signal and puts the supervised owner's gateway.pid and
 * gateway_state.json back when the target rewrites them on its way out (a Hermes gateway saves its
 * state on SIGTERM). It carries the scan flags the report needed to see what it saw (`--s6-scandir`,
 * `--home`), so the kill run judges the same host view. Every word is shell-quoted (./shell-quote.ts).
 */
import type { HostSnapshot } from '../types.js';
import { shellCommand } from './shell-quote.js';

/** s6 scan directory a scan uses when `--s6-scandir` is not given (src/sources/supervisors/s6.ts). */
export const DEFAULT_S6_SCANDIR = '/run/service';

/** What a remedy needs to repeat the scan's view: the platform's shell and the non-default scan flags. */
export interface RemedyScope {
  platform: HostSnapshot['platform'];
  /** `--s6-scandir DIR` when the scan used another scan directory than the default; else null. */
  s6ScanDir: string | null;
  /** `--home H` flags of the report (its home filters, in order). */
  homes: string[];
}

/** The scope of a snapshot classified with these home filters. */
export function remedyScope(snap: Pick<HostSnapshot, 'platform' | 'supervisors'>, homes: readonly string[] = []): RemedyScope {
  const dir = snap.supervisors.find((s) => s.kind === 's6')?.s6ScanDir ?? null;
  return { platform: snap.platform, s6ScanDir: dir && dir !== DEFAULT_S6_SCANDIR ? dir : null, homes: [...homes] };
}

/** The scan flags of a scope, as words: `--s6-scandir DIR`, then `--home H` per home. */
export function scopeFlags(scope: RemedyScope): string[] {
  return [...(scope.s6ScanDir ? ['--s6-scandir', scope.s6ScanDir] : []), ...scope.homes.flatMap((h) => ['--home', h])];
}

/**
 * `hermes-doctor orphans --kill --pid N [M …] [scan flags] [--include-workers]`, quoted for the
 * platform's shell. `includeWorkers` for orphaned kanban workers, which `--kill` ends only when asked.
 */
export function killRemedy(pids: readonly number[], scope: RemedyScope, includeWorkers = false): string {
  return shellCommand(
    ['hermes-doctor', 'orphans', '--kill', '--pid', ...pids, ...scopeFlags(scope), ...(includeWorkers ? ['--include-workers'] : [])],
    scope.platform,
  );
}
