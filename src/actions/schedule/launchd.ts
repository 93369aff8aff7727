/**
 * The launchd scheduler (macOS): a LaunchAgent plist with StartInterval in ~/Library/LaunchAgents,
 * loaded with `launchctl bootstrap gui/UID PLIST` and unloaded with `launchctl bootout gui/UID/LABEL`
 * (launchd.plist(5), launchctl(1)). launchd never starts a second instance of a running job, so runs
 * do not overlap. It cannot be loaded on Linux: tests verify the file by content and the launchctl
 * calls through an injected runner.
 */
import fs from 'node:fs';
import path from 'node:path';
import { writeFileAtomic } from '../../util/write-file-atomic.js';
import { MANAGED_MARKER, type Program, type ScheduleSpec, checkArgv } from './job.js';
import { type ActionRunner, describeFailure } from './command-runner.js';

/** Label of the LaunchAgent. */
export const LAUNCHD_LABEL = 'hermes-doctor.check';

/** Escapes text for a plist <string> (XML 1.0). */
export function xmlEscape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

export interface LaunchdGenOptions {
  /** Log file for stdout and stderr (default ~/Library/Logs/hermes-doctor.log). */
  logFile: string;
}

/** Generates the plist (XML property list, DOCTYPE PropertyList-1.0). */
export function generatePlist(spec: ScheduleSpec, program: Program, opts: LaunchdGenOptions): string {
  const args = checkArgv(spec, program).map((a) => `    <string>${xmlEscape(a)}</string>`);
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">',
    // XML comments may not contain "--": no option names in here.
    `<!-- Managed by hermes-doctor (${MANAGED_MARKER}); remove it with: hermes-doctor schedule remove, via launchd -->`,
    '<plist version="1.0">',
    '<dict>',
    '  <key>Label</key>',
    `  <string>${LAUNCHD_LABEL}</string>`,
    '  <key>ProgramArguments</key>',
    '  <array>',
    ...args,
    '  </array>',
    '  <key>StartInterval</key>',
    `  <integer>${spec.everySec}</integer>`,
    '  <key>RunAtLoad</key>',
    '  <true/>',
    '  <key>ProcessType</key>',
    '  <string>Background</string>',
    '  <key>LowPriorityIO</key>',
    '  <true/>',
    '  <key>EnvironmentVariables</key>',
    '  <dict>',
    '    <key>NO_COLOR</key>',
    '    <string>1</string>',
    '  </dict>',
    '  <key>StandardOutPath</key>',
    `  <string>${xmlEscape(opts.logFile)}</string>`,
    '  <key>StandardErrorPath</key>',
    `  <string>${xmlEscape(opts.logFile)}</string>`,
    '</dict>',
    '</plist>',
    '',
  ].join('\n');
}

export interface LaunchdTarget {
  /** ~/Library/LaunchAgents */
  agentsDir: string;
  uid: number;
  runner: ActionRunner;
  /** launchctl binary (default `launchctl`). */
  launchctl?: string;
}

/** Path of our plist in a LaunchAgents folder. */
export function plistPath(agentsDir: string): string {
  return path.join(agentsDir, `${LAUNCHD_LABEL}.plist`);
}

/**
 * Writes the plist and loads it (bootout of an older copy first, then bootstrap in gui/UID).
 *
 * @returns the steps done, in words
 * @throws Error when the plist cannot be written or launchctl fails (the message says the file is written and how to load it)
 */
export async function installLaunchd(plist: string, t: LaunchdTarget): Promise<string[]> {
  const file = plistPath(t.agentsDir);
  fs.mkdirSync(t.agentsDir, { recursive: true });
  writeFileAtomic(file, plist, 0o644);
  const done = [`wrote ${file}`];
  const bin = t.launchctl ?? 'launchctl';
  await t.runner(bin, ['bootout', `gui/${t.uid}/${LAUNCHD_LABEL}`]); // not loaded yet: fine
  const r = await t.runner(bin, ['bootstrap', `gui/${t.uid}`, file]);
  if (r.error !== null || r.code !== 0) {
    throw new Error(`${file} is written but not loaded: ${describeFailure(`launchctl bootstrap gui/${t.uid}`, r)}; load it on the Mac with: launchctl bootstrap gui/${t.uid} ${file}`);
  }
  done.push(`launchctl bootstrap gui/${t.uid} ${file}`);
  return done;
}

/**
 * Unloads and deletes the plist (only when written by hermes-doctor). Idempotent.
 *
 * @returns the steps done, in words
 */
export async function removeLaunchd(t: LaunchdTarget): Promise<string[]> {
  const file = plistPath(t.agentsDir);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return [`no ${file}: nothing to remove`];
  }
  if (!text.includes(MANAGED_MARKER)) throw new Error(`${file} was not written by hermes-doctor: not removing it`);
  const done: string[] = [];
  const r = await t.runner(t.launchctl ?? 'launchctl', ['bootout', `gui/${t.uid}/${LAUNCHD_LABEL}`]);
  if (r.error === null && r.code === 0) done.push(`launchctl bootout gui/${t.uid}/${LAUNCHD_LABEL}`);
  fs.rmSync(file);
  done.push(`removed ${file}`);
  return done;
}
