/**
 * The shape of the CLI's module graph, read from the import statements of src/: no import cycle among
 * the CLI, the commands, the outputs, the actions and the utilities (type-only imports aside: they
 * vanish at run time), and what defining the command line loads (the static imports of src/cli.ts plus
 * the command modules src/cli/main.ts imports) leaves out the modules only some runs need: the table's
 * libraries, the kill step, the guard's decision, the schedulers, the snapshot reader and writer, and
 * the macOS and Windows sources (docs/benchmark.md "Modules loaded when used").
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from './harness/processes.js';

const SRC = path.join(REPO_ROOT, 'src');

interface Imports {
  /** Static value imports (`import … from`, `export … from`), as repo-relative paths or package names. */
  static: string[];
  /** `import('…')` inside a function: loaded when that code runs. */
  dynamic: string[];
}

function listTs(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? listTs(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : []));
}

function resolveSpec(from: string, spec: string): string {
  if (!spec.startsWith('.')) return spec;
  return path.relative(REPO_ROOT, path.resolve(path.dirname(from), spec)).replace(/\.js$/, '.ts');
}

function importsOf(file: string): Imports {
  // Comments hold example imports (index.ts) and prose; they are not code.
  const text = fs.readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const stat: string[] = [];
  const dyn: string[] = [];
  for (const m of text.matchAll(/^\s*(import|export)\s+(type\s+)?([^;]*?)\s*from\s*'([^']+)'/gm)) {
    const typeOnly = !!m[2] || /^\{\s*(type\s+[^,}]+,?\s*)+\}$/.test(m[3]!.trim());
    if (!typeOnly) stat.push(resolveSpec(file, m[4]!));
  }
  for (const m of text.matchAll(/^\s*import\s+'([^']+)'/gm)) stat.push(resolveSpec(file, m[1]!));
  for (const m of text.matchAll(/\bimport\(\s*'([^']+)'\s*\)/g)) dyn.push(resolveSpec(file, m[1]!));
  return { static: stat, dynamic: dyn };
}

const graph = new Map(listTs(SRC).map((f) => [path.relative(REPO_ROOT, f), importsOf(f)]));

/** Files reached from `roots` through static imports only. */
function staticClosure(roots: string[]): Set<string> {
  const seen = new Set<string>();
  const todo = [...roots];
  while (todo.length > 0) {
    const f = todo.pop()!;
    if (seen.has(f)) continue;
    seen.add(f);
    for (const d of graph.get(f)?.static ?? []) todo.push(d);
  }
  return seen;
}

describe('module graph of the CLI', () => {
  it('reads the imports it checks (the parser of this test sees the command modules)', () => {
    expect(graph.get('src/cli/main.ts')?.dynamic).toEqual(expect.arrayContaining(['src/commands/orphans.ts', 'src/commands/guard.ts']));
    expect(graph.get('src/commands/orphans.ts')?.dynamic).toContain('src/commands/kill.ts');
  });

  it('has no import cycle among src/cli, src/commands, src/output, src/actions and src/util (static or dynamic)', () => {
    const mine = (f: string) => /^src\/(cli|commands|output|actions|util)\//.test(f) || f === 'src/cli.ts';
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const visit = (f: string, stack: string[]) => {
      state.set(f, 'open');
      const g = graph.get(f);
      for (const d of [...(g?.static ?? []), ...(g?.dynamic ?? [])].filter(mine)) {
        if (state.get(d) === 'open') cycles.push([...stack.slice(stack.indexOf(d)), d].join(' -> '));
        else if (!state.has(d)) visit(d, [...stack, d]);
      }
      state.set(f, 'done');
    };
    for (const f of [...graph.keys()].filter(mine)) if (!state.has(f)) visit(f, [f]);
    expect(cycles).toEqual([]);
  });

  it('defining the command line loads no module only some runs need', () => {
    const onParse = staticClosure(['src/cli.ts', ...(graph.get('src/cli/main.ts')?.dynamic ?? [])]);
    const lazy = [
      'chalk',
      'cli-table3',
      'src/output/table.ts',
      'src/output/prometheus.ts',
      'src/output/nagios.ts',
      'src/output/plain.ts',
      'src/output/snapshot.ts',
      'src/output/kill-text.ts',
      'src/commands/kill.ts',
      'src/commands/from-file.ts',
      'src/actions/kill.ts',
      'src/core/guard.ts',
      'src/actions/guard/run-guarded.ts',
      'src/actions/schedule/systemd.ts',
      'src/actions/schedule/cron.ts',
      'src/actions/schedule/launchd.ts',
      'src/sources/snapshot-file.ts',
      'src/sources/darwin/scan.ts',
      'src/sources/win32/scan.ts',
    ];
    expect(onParse.has('src/commands/orphans.ts')).toBe(true);
    expect(lazy.filter((m) => onParse.has(m))).toEqual([]);
  });
});
