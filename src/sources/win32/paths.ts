/**
 * Windows paths at the source boundary. The core compares paths as posix strings, so every Windows path
 * entering a snapshot is normalised once, here: quotes stripped, `\` → `/`, repeated slashes collapsed,
 * trailing slash removed, and the whole path lowercased (NTFS compares names case-insensitively, and the
 * same home arrives as `C:\Users\Alice\AppData\Local\hermes` from a task and `c:\users\alice\…` from a
 * command line). The drive letter is kept: `c:/users/alice/appdata/local/hermes`. Hermes itself does the
 * same (`_normalize_windows_path`: strip, `\` → `/`, casefold). docs/platforms.md.
 */

/** Normalises one Windows path (see the module comment). */
export function winPath(p: string): string {
  let s = p.trim().replace(/^["']+|["']+$/g, '').replace(/\\/g, '/');
  const unc = s.startsWith('//');
  s = s.replace(/\/{2,}/g, '/');
  if (unc) s = '/' + s;
  if (s.length > 3) s = s.replace(/\/+$/, '');
  return s.toLowerCase();
}

/** `%LOCALAPPDATA%\hermes` (+ HERMES_DATA_DIR_SUFFIX), else `%USERPROFILE%\AppData\Local\hermes` (hermes_constants.py:_get_platform_default_hermes_home at 306e2d2; the suffix is newer upstream), normalised; null when neither is set. */
export function windowsDefaultRoot(env: Record<string, string | undefined>): string | null {
  const suffix = env.HERMES_DATA_DIR_SUFFIX ?? '';
  if (env.LOCALAPPDATA) return winPath(`${env.LOCALAPPDATA}/hermes${suffix}`);
  if (env.USERPROFILE) return winPath(`${env.USERPROFILE}/AppData/Local/hermes${suffix}`);
  return null;
}

/** The Scheduled Task launcher named in a command line (`…\gateway-service\<Task>.vbs|.cmd|.js`): its normalised path and HERMES_HOME, or null. */
export function launcherOf(commandLine: string): { launcher: string; home: string } | null {
  const m = /(?:^|["'\s])((?:[a-z]:|\\\\)[^"'<>|?*]*?[\\/]gateway-service[\\/][^"'\\/]+\.(?:vbs|cmd|js))(?=["'\s]|$)/i.exec(commandLine);
  if (!m) return null;
  const launcher = winPath(m[1]!);
  return { launcher, home: launcher.replace(/\/gateway-service\/[^/]+$/, '') };
}
