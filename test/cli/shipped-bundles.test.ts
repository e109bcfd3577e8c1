/** The shipped bundles as a user runs them: the CLI bin under node, the Lambda assets with their source maps. */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const CLI = join(ROOT, 'assets', 'cli', 'index.js');

function runBin(args: readonly string[], env: Record<string, string> = {}) {
  const result = spawnSync(process.execPath, [CLI, ...args], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', HOME: mkdtempSync(join(tmpdir(), 'bin-home-')), ...env },
    timeout: 30_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('the signed-image bin', () => {
  test('an AWS Signer call prints no AWS SDK NodeVersionSupportWarning (@aws-sdk/core emitWarningIfUnsupportedVersion)', () => {
    // The SDK warns on Node.js < 22 when a client is constructed; port 1 makes the registry call fail right after.
    const run = runBin(
      ['sign', '--insecure-registry', '--signer-profile', 'arn:aws:signer:us-west-2:111122223333:/signing-profiles/release', `127.0.0.1:1/app@sha256:${'0'.repeat(64)}`],
      { AWS_REGION: 'us-west-2', AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'not-a-secret' },
    );
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('127.0.0.1:1/app@sha256:');
    expect(run.stderr).not.toMatch(/NodeVersionSupportWarning|Warning:.*node/i);
  });

  test('ships without a source map, so --debug stack traces name the shipped file', () => {
    const code = readFileSync(CLI, 'utf8');
    expect(code).not.toContain('sourceMappingURL');
    expect(existsSync(`${CLI}.map`)).toBe(false);
    const run = runBin(['list', '--debug', '--insecure-registry', `127.0.0.1:1/app@sha256:${'0'.repeat(64)}`]);
    expect(run.stderr).toMatch(/at .*assets\/cli\/index\.js:\d+:\d+/);
  });
});

describe('the Lambda assets', () => {
  test.each(['sign-handler', 'verify-handler', 'deploy-check-handler'])('%s has a source map naming the lambda/ sources it was built from', (name) => {
    const code = readFileSync(join(ROOT, 'assets', name, 'index.js'), 'utf8');
    expect(code).toMatch(/\/\/# sourceMappingURL=index\.js\.map\s*$/);
    const map = JSON.parse(readFileSync(join(ROOT, 'assets', name, 'index.js.map'), 'utf8')) as { sources: string[] };
    expect(map.sources).toContain(`../../lambda/handlers/${name.replace(/-handler$/, '')}.ts`);
  });
});

describe('what each Lambda asset carries', () => {
  const sources = (name: string) => (JSON.parse(readFileSync(join(ROOT, 'assets', name, 'index.js.map'), 'utf8')) as { sources: string[] }).sources;

  test('ECS enforcement: neither the verify handler nor the pipeline SDKs (CodePipeline, CodeBuild, S3); ECS events come from no pipeline', () => {
    const carried = sources('ecs-enforcement-handler');
    expect(carried).toContain('../../lambda/handlers/verify-config.ts');
    expect(carried.filter((source) => /lambda\/handlers\/verify\.ts$|@aws-sdk\/client-(s3|codepipeline|codebuild)\//.test(source))).toEqual([]);
  });

  test('verify and deploy check: no CodeBuild SDK (only the sign function reads the build)', () => {
    for (const name of ['verify-handler', 'deploy-check-handler']) expect(sources(name).filter((source) => source.includes('@aws-sdk/client-codebuild/'))).toEqual([]);
    expect(sources('sign-handler').some((source) => source.includes('@aws-sdk/client-codebuild/'))).toBe(true);
  });
});

describe('the signed-image-cli package (scripts/cli-package.mjs)', () => {
  test('has no dependencies, installs with npm install -g from its directory, and its bin runs', () => {
    const work = mkdtempSync(join(tmpdir(), 'cli-package-'));
    const packageDir = join(work, 'cli-package');
    const built = spawnSync(process.execPath, [join(ROOT, 'scripts', 'cli-package.mjs'), packageDir], { encoding: 'utf8' });
    expect(built.stderr).toBe('');
    const manifest = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8'));
    expect(manifest).toMatchObject({ name: 'signed-image-cli', bin: { 'signed-image': 'bin/signed-image.js' } });
    expect(Object.keys(manifest).filter((key) => /dependencies$/i.test(key))).toEqual([]);

    const prefix = join(work, 'prefix');
    const install = spawnSync('npm', ['install', '-g', '--prefix', prefix, '--offline', '--no-audit', '--no-fund', '--install-links', packageDir], { encoding: 'utf8' });
    expect(install.status).toBe(0);
    const run = spawnSync(join(prefix, 'bin', 'signed-image'), ['version'], { encoding: 'utf8' });
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('signed-image - sign and verify container images');
    expect(run.stderr).toBe('');
  });
});
