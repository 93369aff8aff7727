/**
 * s6 source: the service slots of an s6 scan directory (the official Hermes image uses /run/service
 * with slots `gateway-default` and `gateway-<profile>`: S6_DYNAMIC_SCANDIR and S6_SERVICE_PREFIX in
 * hermes_cli/service_manager.py, v0.15.1 and 306e2d2). Status from
 * `s6-svstat -o up,wantedup,pid,normallyup,exitcode,updownfor SLOT` (s6-svstat(8): space-separated
 * fields, pid -1 when down). `normallyup` is false when the slot has a `down` file, which Hermes's
 * reconciler writes for a profile whose persisted state was not running (hermes_cli/container_boot.py at
 * 306e2d2), so it tells whether the next container boot starts the gateway.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { S6Slot, SupervisorObservation } from '../../types.js';
import { type CommandRunner, findOnPath } from '../runner.js';
import { safeReadText } from '../safe-read.js';

/** Default scan directory of the official Hermes Docker image. */
export { DEFAULT_S6_SCANDIR } from '../../core/remedy.js';
import { DEFAULT_S6_SCANDIR } from '../../core/remedy.js';

/** The fields asked of `s6-svstat -o` (s6-svstat(8), s6 2.11: Debian bookworm and s6-overlay 3). */
export const SVSTAT_FIELDS = 'up,wantedup,pid,normallyup,exitcode,updownfor';
/** The three fields every s6 since 2.x prints; asked again when an older s6-svstat refuses {@link SVSTAT_FIELDS}. */
export const SVSTAT_FIELDS_MIN = 'up,wantedup,pid';

/** What `s6-svstat -o` says of one slot. */
export interface SvstatFields {
  up: boolean;
  wantedUp: boolean;
  /** Supervised PID, 0 when down (s6 prints -1). */
  pid: number;
  /** No `down` file in the slot: s6-svscan starts it when it scans; absent with the three-field form. */
  normallyUp?: boolean;
  /** Exit code of the last run; -1 when it died of a signal or never ran; absent with the three-field form. */
  exitCode?: number;
  /** Seconds since it last went up or down; absent with the three-field form. */
  upDownForS?: number;
}

/**
 * Parses `s6-svstat -o up,wantedup,pid[,normallyup,exitcode,updownfor]` output: space-separated values in
 * the order asked (`true true 1234 true -1 52` / `false true -1 true 1 0`). Null when it is not that shape.
 */
export function parseSvstatFields(text: string): SvstatFields | null {
  const f = text.trim().split(/\s+/);
  const isBool = (v: string | undefined) => v !== undefined && /^(true|false)$/.test(v);
  const isInt = (v: string | undefined) => v !== undefined && /^-?\d+$/.test(v);
  if (f.length < 3 || !isBool(f[0]) || !isBool(f[1]) || !isInt(f[2])) return null;
  const pid = Number(f[2]);
  const out: SvstatFields = { up: f[0] === 'true', wantedUp: f[1] === 'true', pid: pid > 0 ? pid : 0 };
  if (f.length === 3) return out;
  if (f.length !== 6 || !isBool(f[3]) || !isInt(f[4]) || !isInt(f[5])) return null;
  return { ...out, normallyUp: f[3] === 'true', exitCode: Number(f[4]), upDownForS: Number(f[5]) };
}

/** Parses the default `s6-svstat SLOT` line: `up (pid 1234) 5 seconds` / `down (exitcode 0) …`. */
export function parseSvstatLine(text: string): { up: boolean; pid: number } | null {
  const up = /^up \(pid (\d+)\)/.exec(text.trim());
  if (up) return { up: true, pid: Number(up[1]) };
  if (/^down\b/.test(text.trim())) return { up: false, pid: 0 };
  return null;
}

/**
 * What a slot's run script says about its gateway: `HERMES_HOME=` (export or env assignment) and
 * `-p/--profile NAME`. Hermes renders `hermes [-p X] gateway run --replace` (service_manager._render_run_script).
 */
export function parseRunScript(text: string): { hermesHome: string | null; profile: string | null; hermes: boolean } {
  const home = /HERMES_HOME=["']?([^\s"';]+)/.exec(text);
  const prof = /(?:\s-p|\s--profile)(?:\s+|=)["']?([a-z0-9][a-z0-9_-]{0,63})/.exec(text);
  return { hermesHome: home ? home[1]! : null, profile: prof ? prof[1]! : null, hermes: /hermes/i.test(text) };
}

export interface S6Options {
  runner: CommandRunner;
  timeoutMs: number;
  scanDir?: string;
  /** s6-svstat binary; default tries `s6-svstat` on PATH, then /command/s6-svstat (s6-overlay). */
  svstat?: string;
}

/** Observes the s6 scan directory. Never throws. Slots not about Hermes (no `gateway-` name, no hermes in run) are skipped. */
export async function observeS6(opts: S6Options): Promise<SupervisorObservation> {
  const scanDir = opts.scanDir ?? DEFAULT_S6_SCANDIR;
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(scanDir, { withFileTypes: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      return { kind: 's6', status: 'absent', detail: `no s6 scan directory at ${scanDir}`, s6Slots: [], s6ScanDir: scanDir };
    }
    return { kind: 's6', status: 'unknown', detail: `cannot read ${scanDir}: ${code}`, s6Slots: [], s6ScanDir: scanDir };
  }
  const candidates: { name: string; dir: string; run: ReturnType<typeof parseRunScript> }[] = [];
  for (const e of entries) {
    if (e.name.startsWith('.') || !(e.isDirectory() || e.isSymbolicLink())) continue;
    const dir = path.join(scanDir, e.name);
    // No run script readable (missing, a FIFO, too large): judge by name alone. Never blocks.
    const read = safeReadText(path.join(dir, 'run'), 64 * 1024, true);
    const runText = read.ok ? read.text : '';
    const run = parseRunScript(runText);
    if (!e.name.startsWith('gateway-') && !run.hermes) continue;
    candidates.push({ name: e.name, dir, run });
  }
  const slots: S6Slot[] = [];
  let failures = 0;
  const svstat = async (bin: string, dir: string) => {
    const full = await opts.runner(bin, ['-o', SVSTAT_FIELDS, dir], { timeoutMs: opts.timeoutMs });
    // An older s6-svstat refuses a field it does not know (usage message, exit 100): ask the three every s6 has,
    // so a slot never turns unknown for a field that only enriches it.
    if (full.error || full.code !== 100) return full;
    return opts.runner(bin, ['-o', SVSTAT_FIELDS_MIN, dir], { timeoutMs: opts.timeoutMs });
  };
  // Every slot is asked at once (one round trip instead of one per slot), with s6-svstat
  // from PATH or else s6-overlay's /command/s6-svstat, chosen without starting a process.
  const bin = opts.svstat ?? findOnPath('s6-svstat') ?? (fs.existsSync('/command/s6-svstat') ? '/command/s6-svstat' : 's6-svstat');
  const answers = await Promise.all(candidates.map((c) => svstat(bin, c.dir)));
  for (const [i, c] of candidates.entries()) {
    const r = answers[i]!;
    const profile = c.run.profile ?? (c.name.startsWith('gateway-') ? c.name.slice('gateway-'.length) : null);
    const slot: S6Slot = {
      name: c.name,
      dir: c.dir,
      up: false,
      pid: 0,
      wantedUp: null,
      hermesHome: c.run.hermesHome,
      profile,
    };
    const parsed = r.error || r.code !== 0 ? null : parseSvstatFields(r.stdout);
    // The three-field form carries no key for the fields it lacks: they stay absent ("not asked"), never null.
    if (parsed) Object.assign(slot, parsed);
    else {
      failures++;
      slot.error = r.error ?? (r.stderr.trim() || `unparseable s6-svstat output: ${r.stdout.trim().slice(0, 80)}`);
    }
    slots.push(slot);
  }
  if (failures > 0 && failures === slots.length) {
    return {
      kind: 's6',
      status: 'unknown',
      detail: `s6-svstat failed for every slot (${slots[0]!.error})`,
      s6Slots: slots,
      s6ScanDir: scanDir,
    };
  }
  return { kind: 's6', status: 'present', detail: `${slots.length} Hermes slot(s) in ${scanDir}`, s6Slots: slots, s6ScanDir: scanDir };
}
