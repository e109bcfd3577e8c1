// Bundles each lambda/ entry point with esbuild into assets/<name>/index.js.
// The bundles carry their dependencies (AWS SDK v3 clients included), so consumers of the
// construct library need neither esbuild nor Docker at synth time.
import { build } from 'esbuild';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

// Paths below are relative to the repository root, wherever this runs from (e.g. examples/cdk.json).
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
process.chdir(ROOT);

/** Asset name -> entry point. The CLI is the package's `bin`. */
const ENTRY_POINTS = {
  'sign-handler': 'lambda/handlers/sign.ts',
  'verify-handler': 'lambda/handlers/verify.ts',
  'deploy-check-handler': 'lambda/handlers/deploy-check.ts',
  'ecs-enforcement-handler': 'lambda/handlers/ecs-enforcement.ts',
  'cli': 'lambda/cli/main.ts',
};

// `--outdir <dir>` bundles elsewhere than assets/ (the tests bundle into a temporary directory).
const outdirFlag = process.argv.indexOf('--outdir');
const OUT_ROOT = outdirFlag >= 0 ? process.argv[outdirFlag + 1] : 'assets';

const { version } = JSON.parse(readFileSync('package.json', 'utf8'));
const started = Date.now();
const built = [];
for (const [name, entry] of Object.entries(ENTRY_POINTS)) {
  if (!existsSync(entry)) continue;
  const outdir = join(OUT_ROOT, name);
  rmSync(outdir, { recursive: true, force: true });
  const result = await build({
    absWorkingDir: ROOT,
    entryPoints: [entry],
    outfile: join(outdir, 'index.js'),
    bundle: true,
    // Lambda bundles are minified with source maps, and the functions run with --enable-source-maps
    // (src/private/handler-function.ts), so their stack traces name lambda/ sources and lines. The CLI bin cannot
    // pass node flags portably from its shebang, so it ships unminified and without a map: its --debug traces
    // name functions and lines of the shipped assets/cli/index.js itself.
    minify: name !== 'cli',
    sourcemap: name !== 'cli',
    sourcesContent: false,
    platform: 'node',
    target: 'node22', // the oldest supported Node.js (package.json engines) and Lambda runtime (nodejs22.x)
    format: 'cjs',
    // Prefer the ES module builds: the AWS SDK and pkijs tree-shake far better from them.
    mainFields: ['module', 'main'],
    metafile: true,
    legalComments: 'none',
    define: { __VERSION__: JSON.stringify(version) },
    banner: name === 'cli' ? { js: '#!/usr/bin/env node' } : undefined,
    logLevel: 'warning',
  });
  const bytes = Object.values(result.metafile.outputs).find((o) => o.entryPoint)?.bytes ?? 0;
  built.push(`${name} ${(bytes / 1024).toFixed(0)} KiB`);
}
// On stderr: `cdk synth > template.yaml` runs this as part of the example app, and its stdout is the template.
console.error(`bundled ${built.length} entry points in ${Date.now() - started} ms: ${built.join(', ')}`);
