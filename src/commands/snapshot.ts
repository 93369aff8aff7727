/**
 * `hermes-doctor snapshot [-o FILE]`: scan this host and write everything the classifier needs
 * (schema `hermes-doctor.snapshot/v1`), with ENV_ALLOWLIST applied and secret-looking argv values
 * masked, for a bug report or a fixture. `hermes-doctor orphans --from FILE` classifies it offline.
 */
import type { ArgumentsCamelCase, Argv, CommandModule } from 'yargs';
import type { CommandContext } from '../cli/io.js';
import { deadlineOption, s6ScanDirOption, timeoutOption } from '../cli/options.js';
import { scanFor } from './scan-host.js';

/** Options of the snapshot command. */
export interface SnapshotArgs {
  output?: string;
  home?: string[];
  's6-scandir'?: string;
  timeout: number;
  /** Whole-scan deadline, ms (src/cli/options.ts). */
  deadline?: number;
}

/**
 * Scans and writes the masked snapshot to `args.output` (mode 0600, atomic) or stdout.
 *
 * @returns 0, or 3 when the file cannot be written
 */
export async function runSnapshot(args: SnapshotArgs, ctx: CommandContext): Promise<number> {
  const snap = await scanFor(args, ctx);
  // The snapshot's renderer and the file writer load when a snapshot is taken, not with every command line.
  const [{ renderSnapshot }, { writeFileAtomic }] = await Promise.all([import('../output/snapshot.js'), import('../util/write-file-atomic.js')]);
  const text = renderSnapshot(snap);
  if (!args.output || args.output === '-') {
    ctx.stdout(text);
    return 0;
  }
  try {
    writeFileAtomic(args.output, text, 0o600);
  } catch (err) {
    ctx.stderr(`hermes-doctor: cannot write ${args.output}: ${(err as Error).message}\n`);
    return 3;
  }
  ctx.stderr(`hermes-doctor: wrote ${args.output} (${snap.processes.length} processes, ${snap.homes.length} homes; argv secrets masked)\n`);
  return 0;
}

/** The yargs command module; `setCode` receives the exit code. */
export function snapshotCommand(ctx: CommandContext, setCode: (code: number) => void): CommandModule<object, SnapshotArgs> {
  return {
    command: 'snapshot',
    describe: 'write what the classifier needs about this host (secrets masked) for a bug report or `orphans --from`',
    // Not orphans' scan options: a snapshot keeps every process, so it has no --profile or --all-users filter,
    // and --home only adds a home to read (filters apply when it is classified: orphans --from FILE --home H).
    builder: (y: Argv<object>) =>
      y
        .option('home', {
          type: 'string',
          array: true,
          describe: "also read this HERMES_HOME's identity files and locks, even if no process names it (repeatable); nothing is filtered out: filter with `orphans --from FILE --home H`",
        })
        .option('s6-scandir', s6ScanDirOption)
        .option('timeout', timeoutOption)
        .option('deadline', deadlineOption)
        .option('output', { alias: 'o', type: 'string', describe: 'write to FILE (mode 0600) instead of stdout; - is stdout' }) as unknown as Argv<SnapshotArgs>,
    handler: async (args: ArgumentsCamelCase<SnapshotArgs>) => {
      setCode(await runSnapshot(args, ctx));
    },
  };
}
