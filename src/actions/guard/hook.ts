/**
 * `hermes-doctor guard --shell-hook bash|zsh|fish`: a shell function named `hermes` that sends
 * `hermes … gateway run|restart|start` through `hermes-doctor guard -- hermes …` and runs every other
 * `hermes` command untouched (`command hermes …`). The guard runs the real `hermes` from PATH when it
 * allows (a child process never sees the shell function), and exits 1 without running it when it
 * refuses. Install: `eval "$(hermes-doctor guard --shell-hook bash)"` in ~/.bashrc (zsh: ~/.zshrc),
 * `hermes-doctor guard --shell-hook fish | source` in ~/.config/fish/config.fish.
 *
 * The gateway subcommand is found like Hermes's own argparse does it: the first non-option word after
 * `gateway`. The profile selector is dropped first, anywhere in argv, as Hermes's pre-parse does
 * (`_apply_profile_override`, hermes_cli/main.py at 306e2d23): `-p NAME` and `--profile NAME` take the
 * next word as their value (so `gateway --profile argus run` is `run`, and a profile named `gateway`
 * is not the command); `--profile=NAME` and `-p=NAME` are one word. Hermes has no `-pNAME` spelling
 * (its pre-parse compares whole words), so neither has the hook.
 */

/** Shells with a hook. */
export const HOOK_SHELLS = ['bash', 'zsh', 'fish'] as const;
export type HookShell = (typeof HOOK_SHELLS)[number];

/** Quotes a word for POSIX sh, bash, zsh and fish alike (single quotes; fish also honours `\'`-free single quotes). */
function q(s: string, shell: HookShell): string {
  if (shell === 'fish') return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * The hook text for a shell.
 *
 * @param shell bash, zsh or fish
 * @param doctor how to run hermes-doctor, as argv (e.g. `[process.execPath, '/…/bin/hermes-doctor.js']`)
 */
export function shellHook(shell: HookShell, doctor: string[]): string {
  const run = doctor.map((w) => q(w, shell)).join(' ');
  if (shell === 'fish') {
    return `# hermes-doctor guard hook (fish): gateway run|restart|start go through the guard (hermes-agent #35240)
function hermes --wraps hermes --description 'hermes, with gateway run/restart/start checked by hermes-doctor guard'
    set -l __hd_seen 0
    set -l __hd_sub ''
    set -l __hd_value 0
    for __hd_a in $argv
        if test $__hd_value = 1
            set __hd_value 0
            continue
        end
        switch $__hd_a
            case '-p' '--profile'
                set __hd_value 1
                continue
            case gateway
                if test $__hd_seen = 0
                    set __hd_seen 1
                    continue
                end
                break
            case '-*'
                continue
            case '*'
                if test $__hd_seen = 1
                    set __hd_sub $__hd_a
                    break
                end
        end
    end
    if test $__hd_seen = 1; and test -z "$__hd_sub"
        set __hd_sub run
    end
    switch $__hd_sub
        case run restart start
            ${run} guard -- hermes $argv
        case '*'
            command hermes $argv
    end
end
`;
  }
  return `# hermes-doctor guard hook (${shell}): gateway run|restart|start go through the guard (hermes-agent #35240)
hermes() {
  local __hd_seen=0 __hd_sub= __hd_a __hd_value=0
  for __hd_a in "$@"; do
    if [ "$__hd_value" = 1 ]; then __hd_value=0; continue; fi
    case "$__hd_a" in
      -p|--profile) __hd_value=1; continue ;;
      gateway) if [ "$__hd_seen" = 0 ]; then __hd_seen=1; continue; fi; break ;;
      -*) continue ;;
      *) if [ "$__hd_seen" = 1 ]; then __hd_sub=$__hd_a; break; fi ;;
    esac
  done
  if [ "$__hd_seen" = 1 ] && [ -z "$__hd_sub" ]; then __hd_sub=run; fi
  case "$__hd_sub" in
    run|restart|start) ${run} guard -- hermes "$@" ;;
    *) command hermes "$@" ;;
  esac
}
`;
}
