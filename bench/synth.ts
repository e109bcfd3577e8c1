/** Synthesis time of the example app (`cd examples && npx cdk synth -q -c nag=false`). */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, run } from './bundles';
import { FigureInput } from './report';

export async function benchSynth(timeoutMs: number): Promise<FigureInput[]> {
  const name = 'synth example app (cdk synth -q -c nag=false)';
  const examples = join(ROOT, 'examples');
  if (!existsSync(join(examples, 'cdk.json'))) {
    return [{ name, value: null, unit: 's', skipped: 'examples/cdk.json does not exist' }];
  }
  const output = mkdtempSync(join(tmpdir(), 'bench-cdk-out-'));
  // No request leaves the machine: no notices, version check or telemetry, no instance metadata, and
  // anything else that would go out through a proxy meets a closed loopback port.
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    CDK_DISABLE_VERSION_CHECK: 'true',
    CDK_DISABLE_CLI_TELEMETRY: 'true',
    AWS_EC2_METADATA_DISABLED: 'true',
    HTTPS_PROXY: 'http://127.0.0.1:9',
    HTTP_PROXY: 'http://127.0.0.1:9',
    NO_PROXY: '127.0.0.1,localhost',
  };
  const npx = join(ROOT, 'node_modules', '.bin', 'cdk');
  try {
    const result = await run(npx, ['synth', '-q', '-c', 'nag=false', '--no-notices', '--no-version-reporting', '-o', output], {
      cwd: examples,
      env,
      timeoutMs,
    });
    if (result.code !== 0) {
      const reason = (result.stderr || result.stdout).trim().split('\n').slice(-6).join(' ').slice(0, 600);
      return [{ name, value: null, unit: 's', skipped: `cdk synth exited with ${result.code ?? 'a timeout'}: ${reason}` }];
    }
    return [{ name, value: result.ms / 1000, unit: 's', note: 'wall time of one run, including the app command\'s bundling step (node ../scripts/bundle.mjs)' }];
  } finally {
    rmSync(output, { recursive: true, force: true });
  }
}
