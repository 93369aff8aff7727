/**
 * The Hermes command-line matcher: decides from argv alone what a process is.
 *
 * Mirrors Hermes's own matcher, `gateway/status.py` (`_gateway_command_subcommand`,
 * `looks_like_gateway_command_line`) at NousResearch/hermes-agent 306e2d23, which newer upstream keeps
 * after its September 2026 module split: tokens are unquoted, `\` becomes `/`, matching is
 * case-insensitive; profile selectors (`-p X`, `--profile X`, `-p=X`, `--profile=X`) are dropped anywhere
 * in argv before the subcommand is read, which also consumes a profile literally named `gateway`.
 * Pure: no I/O.
 */

/** What a Hermes command line says about itself. */
export interface HermesCommand {
  /** The entry point that made this a Hermes command. */
  entry:
    | 'hermes_cli.main'
    | 'hermes'
    | 'hermes-gateway'
    | 'gateway/run.py'
    | 'tui_gateway'
    | 'stderr_timestamp'
    | 'kanban-mcp';
  /** Profile from `-p/--profile` (first one), or null. */
  profile: string | null;
  /** First subcommand word after the entry (`gateway`, `chat`, `kanban`, `dashboard`, `serve`, …), or null. */
  command: string | null;
  /** For `gateway …`: the gateway subcommand (`run` when bare), else null. */
  gatewaySub: string | null;
  /** For `kanban …`: the kanban subcommand (`daemon`, `list`, …), else null. */
  kanbanSub: string | null;
  /** Long/short flags present after the entry, lowercased (e.g. `--replace`, `--force`). */
  flags: string[];
  /** Task id from `chat -q "work kanban task t_…"`, else null. */
  kanbanTask: string | null;
  /** A literal `hermes_home=<path>` in the command string (macOS `ps eww` appends the environment). */
  hermesHomeInArgv: string | null;
  /** For the launchd stderr wrapper: the wrapped command after `--`. */
  wrapped: HermesCommand | null;
  /**
   * True when the process itself runs the Hermes entry: the entry is argv[0], or only a Python
   * interpreter and its options stand before it. False for launchers that stay alive as the parent
   * (`sudo hermes …`, `doppler run -- hermes …`, `timeout 1d hermes …`, the restart watcher
   * `python -c SCRIPT PID <argv…>`): those are wrappers, not a second gateway.
   */
  direct: boolean;
}

const PYTHON_RE = /^pythonw?[\d.]*(\.exe)?$/;
/** Python options that take a separate value (`-X utf8`, `-W ignore`). */
const PYTHON_VALUE_OPTS = new Set(['-x', '-w']);

function isDirectEntry(norm: string[], index: number): boolean {
  if (index === 0) return true;
  if (!PYTHON_RE.test(basename(norm[0]!))) return false;
  for (let i = 1; i < index; i++) {
    const t = norm[i]!;
    if (t === '-m') continue;
    if (t === '-c') return false;
    if (!t.startsWith('-')) {
      if (PYTHON_VALUE_OPTS.has(norm[i - 1]!)) continue;
      return false;
    }
  }
  return true;
}

const PROFILE_FLAGS = new Set(['-p', '--profile']);

/** Normalises a token the way Hermes does before matching: strip quotes, `\` → `/`, lowercase. */
export function normaliseToken(token: string): string {
  return token.replace(/^["']+|["']+$/g, '').replace(/\\/g, '/').toLowerCase();
}

function basename(token: string): string {
  const i = token.lastIndexOf('/');
  return i >= 0 ? token.slice(i + 1) : token;
}

/**
 * Splits a command string into tokens like Python's `shlex.split(s, posix=False)` as Hermes uses it on
 * `ps` and `wmic` output: whitespace separates, double or single quotes group (and are kept, to be
 * stripped by {@link normaliseToken}). Used where only a flat string is available (macOS, Windows).
 */
export function splitCommandLine(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quote: string | null = null;
  let inToken = false;
  for (const ch of line) {
    if (quote) {
      cur += ch;
      if (ch === quote) quote = null;
    } else if (ch === '"' || ch === "'") {
      quote = ch;
      cur += ch;
      inToken = true;
    } else if (/\s/.test(ch)) {
      if (inToken) out.push(cur);
      cur = '';
      inToken = false;
    } else {
      cur += ch;
      inToken = true;
    }
  }
  if (inToken) out.push(cur);
  return out;
}

/** Index of the token that makes argv a Hermes CLI invocation, with its entry kind, or null. */
function findEntry(norm: string[]): { index: number; entry: HermesCommand['entry'] } | null {
  for (let i = 0; i < norm.length; i++) {
    const t = norm[i]!;
    const base = basename(t);
    if (t.endsWith('gateway/run.py') || base === 'hermes-gateway' || base === 'hermes-gateway.exe') {
      return { index: i, entry: t.endsWith('run.py') ? 'gateway/run.py' : 'hermes-gateway' };
    }
    if (t === 'hermes_cli.stderr_timestamp' || t.endsWith('hermes_cli/stderr_timestamp.py')) {
      return { index: i, entry: 'stderr_timestamp' };
    }
    if (t === 'tui_gateway' || t.startsWith('tui_gateway.') || t.endsWith('/tui_gateway/__main__.py')) {
      return { index: i, entry: 'tui_gateway' };
    }
    if (t.endsWith('hermes_tools_mcp_server.py') || t === 'agent.transports.hermes_tools_mcp_server') {
      return { index: i, entry: 'kanban-mcp' };
    }
    if (t === 'hermes_cli.main' || t.endsWith('hermes_cli/main.py')) return { index: i, entry: 'hermes_cli.main' };
    if (base === 'hermes' || base === 'hermes.exe') return { index: i, entry: 'hermes' };
  }
  return null;
}

/** Options of the Hermes CLI that take a value (worker argv: `--skills S`, `-m M`, `--toolsets a,b`). */
const VALUE_OPTIONS = new Set(['--skills', '-s', '-m', '--model', '--toolsets', '-t', '--provider', '-q', '--query']);

/**
 * Parses a process argv as a Hermes command, or returns null when it is not one.
 *
 * @param argv argv as the kernel gives it (/proc/PID/cmdline split on NUL), or tokens of a flat command
 *   line from {@link splitCommandLine}.
 */
export function parseHermesArgv(argv: readonly string[]): HermesCommand | null {
  const norm = argv.map(normaliseToken);
  const found = findEntry(norm);
  if (!found) return null;
  const { index, entry } = found;

  let hermesHomeInArgv: string | null = null;
  for (const t of argv) {
    const m = /(?:^|\s)hermes_home=(\S+)/i.exec(t);
    if (m) hermesHomeInArgv = m[1]!;
  }

  // Profile selectors are dropped anywhere in argv (Hermes strips them before argparse).
  const rest: { raw: string; norm: string }[] = [];
  let profile: string | null = null;
  for (let i = index + 1; i < argv.length; i++) {
    const n = norm[i]!;
    if (PROFILE_FLAGS.has(n)) {
      if (i + 1 < argv.length) {
        profile ??= normaliseToken(argv[i + 1]!);
        i++;
      }
      continue;
    }
    const eq = /^(?:-p|--profile)=(.*)$/.exec(n);
    if (eq) {
      profile ??= eq[1]!;
      continue;
    }
    rest.push({ raw: argv[i]!, norm: n });
  }
  // Selectors before the entry (`python -p` is not one) are not Hermes's; only after the entry count.

  const base: HermesCommand = {
    entry,
    profile,
    command: null,
    gatewaySub: null,
    kanbanSub: null,
    flags: rest.filter((r) => r.norm.startsWith('-')).map((r) => r.norm.split('=')[0]!),
    kanbanTask: null,
    hermesHomeInArgv,
    wrapped: null,
    direct: isDirectEntry(norm, index),
  };

  if (entry === 'gateway/run.py' || entry === 'hermes-gateway') {
    return { ...base, command: 'gateway', gatewaySub: 'run' };
  }
  if (entry === 'tui_gateway') return { ...base, command: 'tui' };
  if (entry === 'kanban-mcp') return { ...base, command: 'kanban-mcp' };
  if (entry === 'stderr_timestamp') {
    const dd = argv.indexOf('--', index + 1);
    const inner = dd >= 0 ? parseHermesArgv(argv.slice(dd + 1)) : null;
    return { ...base, profile: inner?.profile ?? profile, command: 'wrapper', wrapped: inner };
  }

  // The subcommand: the first positional token, skipping options and the values of value options.
  let cmdIdx = -1;
  for (let i = 0; i < rest.length; i++) {
    const n = rest[i]!.norm;
    if (n.startsWith('-')) {
      if (VALUE_OPTIONS.has(n)) i++;
      continue;
    }
    cmdIdx = i;
    break;
  }
  // Hermes itself looks for the `gateway` token anywhere after the entry.
  const gwIdx = rest.findIndex((r) => r.norm === 'gateway');
  if (gwIdx >= 0 && (cmdIdx < 0 || gwIdx === cmdIdx || rest[cmdIdx]!.norm !== 'chat')) {
    const next = rest.slice(gwIdx + 1).find((r) => !r.norm.startsWith('-'));
    return { ...base, command: 'gateway', gatewaySub: next ? next.norm : 'run' };
  }
  if (cmdIdx < 0) return base;
  const command = rest[cmdIdx]!.norm;
  const after = rest.slice(cmdIdx + 1);
  if (command === 'kanban') {
    const sub = after.find((r) => !r.norm.startsWith('-'));
    return { ...base, command, kanbanSub: sub ? sub.norm : null };
  }
  if (command === 'chat') {
    let task: string | null = null;
    for (let i = 0; i < rest.length; i++) {
      const n = rest[i]!.norm;
      let q: string | null = null;
      if ((n === '-q' || n === '--query') && i + 1 < rest.length) q = rest[i + 1]!.raw;
      else if (n.startsWith('--query=')) q = rest[i]!.raw.slice('--query='.length);
      const m = q ? /work kanban task\s+(\S+)/i.exec(q) : null;
      if (m) task = m[1]!.replace(/["']+$/, '');
    }
    return { ...base, command, kanbanTask: task };
  }
  return { ...base, command };
}

/** True when argv is a Node.js process of the Hermes web UI (hermes-studio, formerly hermes-web-ui). */
export function isWebUiArgv(argv: readonly string[]): boolean {
  if (argv.length === 0) return false;
  const first = basename(normaliseToken(argv[0]!));
  const isNode = first === 'node' || first === 'nodejs' || first === 'node.exe' || first.startsWith('node');
  if (!isNode && first !== 'hermes-web-ui' && first !== 'hermes-studio') return false;
  return argv.some((t) => /hermes-(web-ui|studio)/i.test(t));
}

/** True when argv is `s6-supervise NAME`; returns the slot name or null. */
export function s6SuperviseSlot(argv: readonly string[]): string | null {
  if (argv.length < 2) return null;
  if (basename(normaliseToken(argv[0]!)) !== 's6-supervise') return null;
  return basename(argv[1]!.replace(/\/+$/, ''));
}
