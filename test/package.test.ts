/**
 * The npm package as a user gets it: `npm pack` of this checkout, `npm install -g --prefix DIR` of the
 * tarball, then the installed program (`--version`, `orphans --json` on a real stand-in gateway) and a
 * TypeScript consumer that type-checks against the shipped `.d.ts` with the project's own tsc.
 *
 * The tarball is packed with --ignore-scripts from the dist/ this run already built (`npm test` builds
 * first): its `prepack` would rebuild dist/ under the other test files that run the CLI from it.
 * The tarball's dependencies come from npm's cache when they are there (--prefer-offline), else from the
 * registry, as for `npm ci`.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import Ajv from 'ajv';
import addFormats from 'ajv-formats';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Report } from '../src/types.js';
import { killAll, MINIMAL_PATH, REPO_ROOT, startGateway, waitForGatewayReady } from './harness/processes.js';
import { cleanupAllScratch, makeScratch } from './harness/scratch.js';
import { hasPython3, isLinux, requireOrSkip } from './harness/skip.js';

const PKG = JSON.parse(fs.readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
  scripts: Record<string, string>;
};
const NPM_TIMEOUT = 180_000;

/** Runs a program; returns status and both streams. Never throws on a non-zero exit. */
function run(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv; timeout?: number } = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', cwd: opts.cwd, env: opts.env ?? process.env, timeout: opts.timeout ?? 60_000 });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '', error: r.error };
}

const built = fs.existsSync(path.join(REPO_ROOT, 'dist', 'cli.js')) && fs.existsSync(path.join(REPO_ROOT, 'dist', 'index.d.ts'));

afterAll(async () => {
  await killAll();
  cleanupAllScratch();
});

describe.skipIf(requireOrSkip('dist/ built (npm run build; npm test builds it)', built))('npm pack → npm install -g --prefix → the installed package', () => {
  let dir: string;
  let tarball: string;
  let files: string[];
  let installed: string; // PREFIX/lib/node_modules/hermes-doctor
  let bin: string; // PREFIX/bin/hermes-doctor
  let installLog: string;

  beforeAll(() => {
    dir = makeScratch('hermes-doctor-pack-').dir;
    const pack = run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: REPO_ROOT, timeout: NPM_TIMEOUT });
    if (pack.status !== 0) throw new Error(`npm pack failed (${pack.status}): ${pack.stderr}`);
    const info = JSON.parse(pack.stdout) as { filename: string; files: { path: string }[] }[];
    tarball = path.join(dir, info[0]!.filename);
    files = info[0]!.files.map((f) => f.path).sort();
    const prefix = path.join(dir, 'prefix');
    const inst = run('npm', ['install', '-g', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', tarball], { cwd: dir, timeout: NPM_TIMEOUT });
    installLog = inst.stdout + inst.stderr;
    if (inst.status !== 0) throw new Error(`npm install -g --prefix of the tarball failed (${inst.status}): ${installLog}`);
    installed = path.join(prefix, 'lib', 'node_modules', PKG.name);
    bin = path.join(prefix, 'bin', 'hermes-doctor');
  }, 2 * NPM_TIMEOUT);

  it('ships dist, bin, README, LICENSE, docs and schemas; no source maps, no test stand-in, no sources', () => {
    for (const f of ['bin/hermes-doctor.js', 'dist/cli.js', 'dist/index.js', 'dist/index.d.ts', 'README.md', 'LICENSE', 'package.json', 'docs/orphans-v1.schema.json', 'docs/guard-v1.schema.json', 'docs/monitoring.md']) {
      expect(files).toContain(f);
    }
    expect(files.filter((f) => f.endsWith('.map'))).toEqual([]);
    expect(files.filter((f) => !/^(bin|dist|docs)\/|^(README\.md|LICENSE|package\.json)$/.test(f))).toEqual([]);
    expect(files.filter((f) => f.startsWith('fixtures/') || f.startsWith('src/') || f.startsWith('test/') || f.endsWith('.pyc'))).toEqual([]);
    // Every relative link of the README (docs, schemas) resolves inside the installed package.
    const readme = fs.readFileSync(path.join(installed, 'README.md'), 'utf8');
    const links = [...readme.matchAll(/\]\(((?!https?:|#)[^)#\s]+)/g)].map((m) => m[1]!);
    expect(links.length).toBeGreaterThan(3);
    for (const l of links) expect(fs.existsSync(path.join(installed, l)), `README link ${l} in the installed package`).toBe(true);
    expect(fs.readFileSync(path.join(installed, 'LICENSE'), 'utf8')).toMatch(/^MIT License/);
  });

  it('has repository, homepage and bugs, and no install-time script (no allowScripts warning)', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(installed, 'package.json'), 'utf8')) as Record<string, unknown>;
    expect(pkg.repository).toBeTruthy();
    expect(pkg.homepage).toBeTruthy();
    expect(pkg.bugs).toBeTruthy();
    const scripts = (pkg.scripts ?? {}) as Record<string, string>;
    for (const s of ['preinstall', 'install', 'postinstall', 'prepare']) expect(scripts[s], `scripts.${s}`).toBeUndefined();
    expect(installLog).not.toMatch(/allowScripts|allow-scripts|prepare/i);
  });

  it('the installed hermes-doctor --version prints the package version, from any working directory', () => {
    const r = run(bin, ['--version'], { cwd: dir, env: { PATH: `${path.dirname(process.execPath)}:${MINIMAL_PATH}`, HOME: dir } });
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe(PKG.version);
    expect(r.status).toBe(0);
  });

  describe.skipIf(requireOrSkip('Linux /proc and python3 with sqlite3', isLinux() && hasPython3()))('on a real stand-in gateway', () => {
    it('the installed orphans --json reports it (manual, exit 0), following the shipped JSON Schema', async () => {
      const root = makeScratch().root();
      const g = startGateway({ root });
      await waitForGatewayReady(root, g.pid);
      const r = run(bin, ['orphans', '--json', '--s6-scandir', path.join(dir, 'no-s6'), '--home', root], {
        cwd: dir,
        env: { PATH: `${path.dirname(process.execPath)}:${MINIMAL_PATH}`, HOME: dir },
      });
      expect(r.stderr).toBe('');
      const report = JSON.parse(r.stdout) as Report;
      const ajv = new Ajv.default({ allErrors: true, strict: true });
      addFormats.default(ajv);
      const validate = ajv.compile(JSON.parse(fs.readFileSync(path.join(installed, 'docs', 'orphans-v1.schema.json'), 'utf8')));
      expect(validate(report), ajv.errorsText(validate.errors)).toBe(true);
      const p = report.processes.find((x) => x.pid === g.pid);
      expect(p?.verdict).toBe('manual');
      expect(p?.hermesHome).toBe(root);
      expect(r.status).toBe(0);
    });
  });

  it("a TypeScript consumer type-checks against the shipped .d.ts (strict, skipLibCheck off) and runs", () => {
    const c = path.join(dir, 'consumer');
    fs.mkdirSync(path.join(c, 'node_modules', '@types'), { recursive: true });
    fs.symlinkSync(installed, path.join(c, 'node_modules', PKG.name));
    fs.symlinkSync(path.join(REPO_ROOT, 'node_modules', '@types', 'node'), path.join(c, 'node_modules', '@types', 'node'));
    fs.writeFileSync(path.join(c, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
    fs.writeFileSync(
      path.join(c, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, skipLibCheck: false, outDir: 'out', types: ['node'] },
        files: ['main.ts', 'bad.ts'],
      }),
    );
    fs.writeFileSync(
      path.join(c, 'main.ts'),
      [
        "import { classify, renderJson, renderTable, scanHost, type Report, type Verdict } from 'hermes-doctor';",
        "const report: Report = classify(await scanHost({ s6ScanDir: '/nonexistent/no-s6' }));",
        'const verdicts: Verdict[] = report.processes.map((p) => p.verdict);',
        'const table: string = renderTable(report, { color: false });',
        "console.log(JSON.stringify({ schema: (JSON.parse(renderJson(report)) as Report).schema, verdicts: verdicts.length, table: table.length > 0 }));",
        '',
      ].join('\n'),
    );
    // bad.ts is a wrong use that must be refused (the check has teeth); tsc still emits main.js.
    fs.writeFileSync(path.join(c, 'bad.ts'), "import { classify } from 'hermes-doctor';\nexport const n: number = classify;\n");
    const tsc = run(process.execPath, [path.join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', c], { cwd: c, timeout: 120_000 });
    const errors = (tsc.stdout + tsc.stderr).split('\n').filter((l) => /error TS\d+/.test(l));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^bad\.ts\(2,14\): error TS2322/);
    expect(tsc.status).not.toBe(0);
    const out = run(process.execPath, [path.join(c, 'out', 'main.js')], { cwd: c });
    expect(out.stderr).toBe('');
    expect(JSON.parse(out.stdout)).toMatchObject({ schema: 'hermes-doctor.orphans/v1', table: true });
    expect(out.status).toBe(0);
  }, 180_000);
});
