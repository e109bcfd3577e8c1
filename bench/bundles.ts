/**
 * The bundled handlers: bytes of each assets/<name>/index.js, cold module load in a fresh node process,
 * and the verify handler's first invocation in that process.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { FigureInput } from './report';
import { percentile } from './stats';

export const ROOT = join(__dirname, '..');
const ASSETS = join(ROOT, 'assets');
const MIB = 1024 * 1024;

/** Loads BENCH_BUNDLE, then (with BENCH_EVENT) invokes its handler once; prints one `BENCH {...}` line. */
const CHILD = `
const cpu = process.cpuUsage();
const started = process.hrtime.bigint();
const bundle = require(process.env.BENCH_BUNDLE);
const loaded = process.hrtime.bigint();
const loadCpu = process.cpuUsage(cpu);
(async () => {
  let first = null;
  if (process.env.BENCH_EVENT) {
    const invoked = process.hrtime.bigint();
    const outcome = await bundle.handler(JSON.parse(process.env.BENCH_EVENT));
    first = Number(process.hrtime.bigint() - invoked) / 1e6;
    if (!outcome || outcome.verified !== true) throw new Error('not verified: ' + JSON.stringify(outcome).slice(0, 500));
  }
  process.stdout.write('\\nBENCH ' + JSON.stringify({ loadMs: Number(loaded - started) / 1e6, loadCpuMs: (loadCpu.user + loadCpu.system) / 1000, firstMs: first }) + '\\n');
})().catch((error) => { console.error(error); process.exit(1); });
`;

export interface ChildResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

/** Runs a command to completion (or until `timeoutMs`, then kills it). */
export interface RunOptions {
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly timeoutMs: number;
}

export function run(command: string, args: readonly string[], options: RunOptions): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(command, args, { cwd: options.cwd ?? ROOT, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout = (stdout + String(chunk)).slice(-200_000)));
    child.stderr.on('data', (chunk) => (stderr = (stderr + String(chunk)).slice(-20_000)));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Number(process.hrtime.bigint() - started) / 1e6 });
    });
  });
}

function newestMtime(directory: string): number {
  let newest = 0;
  for (const entry of readdirSync(directory, { withFileTypes: true })) {
    const path = join(directory, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestMtime(path));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

function bundles(): string[] {
  if (!existsSync(ASSETS)) return [];
  return readdirSync(ASSETS).filter((name) => existsSync(join(ASSETS, name, 'index.js'))).sort();
}

/** Rebuilds assets/ with scripts/bundle.mjs when a bundle is missing or older than lambda/ (or when asked). */
export async function ensureBundles(force: boolean): Promise<string | undefined> {
  const present = bundles();
  const oldest = Math.min(...present.map((name) => statSync(join(ASSETS, name, 'index.js')).mtimeMs));
  const stale = present.length === 0 || newestMtime(join(ROOT, 'lambda')) > oldest;
  if (!force && !stale) return undefined;
  const result = await run(process.execPath, [join(ROOT, 'scripts', 'bundle.mjs')], { timeoutMs: 120_000 });
  if (result.code !== 0) throw new Error(`node scripts/bundle.mjs failed: ${result.stderr.slice(-2000)}`);
  return `bundles rebuilt first (${force ? 'asked' : 'older than lambda/'}): ${result.stdout.trim()}`;
}

function parseChild(result: ChildResult, what: string): { loadMs: number; loadCpuMs: number; firstMs: number | null } {
  const line = result.stdout.split('\n').find((text) => text.startsWith('BENCH '));
  if (result.code !== 0 || !line) throw new Error(`${what} failed (exit ${result.code}): ${result.stderr.slice(-1500)}`);
  return JSON.parse(line.slice('BENCH '.length));
}

export interface BundleSettings {
  /** Fresh processes for the verify handler (load and first invocation). */
  readonly runs: number;
  /** Fresh processes for each other bundle. */
  readonly otherRuns: number;
  /** The verify handler's environment and event for the first invocation. */
  readonly verify: { readonly env: Record<string, string>; readonly imageUri: string };
  /** Write a .cpuprofile of every fresh process here. */
  readonly cpuProfileDirectory?: string;
}

export async function benchBundles(settings: BundleSettings, note?: string): Promise<FigureInput[]> {
  const figures: FigureInput[] = [];
  const baseEnv: NodeJS.ProcessEnv = { ...process.env, AWS_REGION: 'us-east-1', AWS_EC2_METADATA_DISABLED: 'true' };
  delete baseEnv.AWS_LAMBDA_FUNCTION_NAME;
  delete baseEnv.NODE_OPTIONS;
  for (const name of bundles()) {
    const path = join(ASSETS, name, 'index.js');
    const bytes = statSync(path).size;
    // A Lambda asset's size is part of its cold start (the package Lambda downloads and loads). The CLI ships
    // unminified so that --debug traces name its own lines (scripts/bundle.mjs); its cold load carries the target.
    const isCli = name === 'cli';
    figures.push({
      name: `bundle ${name}/index.js size`,
      value: bytes / MIB,
      unit: 'MiB',
      ...(isCli ? {} : { target: { on: 'value' as const, max: 1 } }),
      note: `${bytes} bytes${isCli ? ', unminified' : ''}${note && figures.length === 0 ? `; ${note}` : ''}`,
    });
    const isVerify = name === 'verify-handler';
    const loads: number[] = [];
    const loadCpus: number[] = [];
    const firsts: number[] = [];
    const runs = isVerify ? settings.runs : settings.otherRuns;
    for (let i = 0; i < runs; i++) {
      const env: NodeJS.ProcessEnv = { ...baseEnv, BENCH_BUNDLE: path };
      if (isVerify) Object.assign(env, settings.verify.env, { BENCH_EVENT: JSON.stringify({ imageUri: settings.verify.imageUri }) });
      const profile = settings.cpuProfileDirectory ? ['--cpu-prof', '--cpu-prof-dir', join(settings.cpuProfileDirectory, name)] : [];
      const result = parseChild(await run(process.execPath, [...profile, '-e', CHILD], { env, timeoutMs: 60_000 }), `loading ${name}`);
      loads.push(result.loadMs);
      loadCpus.push(result.loadCpuMs);
      if (result.firstMs !== null) firsts.push(result.firstMs);
    }
    figures.push({
      name: `bundle ${name} cold load p50`,
      value: percentile(loads, 50),
      unit: 'ms',
      target: { on: 'value', max: 150 },
      note: `require() in a fresh node process, ${runs} runs; max ${Math.max(...loads).toFixed(1)} ms`,
    });
    figures.push({
      name: `bundle ${name} cold load CPU p50`,
      value: percentile(loadCpus, 50),
      unit: 'ms',
      note: 'CPU time (user + system) of the same require(): the wall time it would take on an otherwise idle core',
    });
    if (isVerify) {
      figures.push({
        name: 'verify handler first invocation after cold load p50',
        value: percentile(firsts, 50),
        unit: 'ms',
        note: `direct invocation in the fresh process (configuration parsed on first use, registry ${settings.verify.imageUri.split('/')[0]}); max ${Math.max(...firsts).toFixed(1)} ms`,
      });
    }
  }
  if (settings.cpuProfileDirectory) console.log(`  CPU profiles of the fresh processes: ${settings.cpuProfileDirectory}`);
  if (figures.length === 0) figures.push({ name: 'bundles', value: null, unit: '', skipped: 'no assets/*/index.js; run node scripts/bundle.mjs' });
  return figures;
}
