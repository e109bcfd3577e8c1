/**
 * The built `signed-image` bundle (assets/cli/index.js, what the signed-image-cli package ships) run as a notation
 * user runs notation, against the test registry: a test key from `cert generate-test --default`, `policy import`,
 * then `sign`, `verify`, `inspect` and `list` with the default configuration directory, and `attest` with
 * `verify --require-attestation`.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RegistryRepository } from '../../lambda/oci/registry-repository';
import { plainRegistry } from '../harness/env';
import { createRandomImage, pushImage } from '../util/images';

const CLI = join(__dirname, '..', '..', 'assets', 'cli', 'index.js');
const HOME = mkdtempSync(join(tmpdir(), 'bundle-home-'));

/** Runs the bundle under this Node.js with only HOME and PATH set, so the default config directory is HOME's. */
function bundle(args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { HOME, PATH: process.env.PATH ?? '' }, timeout: 30_000 });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

async function pushedImage(): Promise<{ ref: string; digest: string }> {
  const name = `cli/bundle-${randomBytes(4).toString('hex')}`;
  const image = await pushImage(new RegistryRepository({ registry: plainRegistry(), repository: name, plainHttp: true }), createRandomImage());
  return { ref: `${plainRegistry()}/${name}@${image.digest}`, digest: image.digest };
}

beforeAll(async () => {
  const generated = await bundle(['cert', 'generate-test', '--default', 'acme']);
  expect(generated).toMatchObject({ code: 0, stderr: '' });
  const policyFile = join(HOME, 'trustpolicy.json');
  writeFileSync(
    policyFile,
    JSON.stringify({
      version: '1.0',
      trustPolicies: [{ name: 'acme', registryScopes: ['*'], signatureVerification: { level: 'strict' }, trustStores: ['ca:acme'], trustedIdentities: ['*'] }],
    }),
  );
  expect(await bundle(['policy', 'import', policyFile])).toMatchObject({ code: 0 });
});

test('sign with the default key, then verify, inspect and list, as notation does', async () => {
  const { ref, digest } = await pushedImage();
  const sign = await bundle(['sign', '--insecure-registry', ref]);
  expect(sign).toMatchObject({ code: 0, stderr: '' });
  expect(sign.stdout).toContain(`Successfully signed ${ref}`);

  const verify = await bundle(['verify', '--insecure-registry', ref]);
  expect(verify).toMatchObject({ code: 0, stderr: '' });
  expect(verify.stdout).toContain(`Successfully verified signature for ${ref}`);

  const inspect = await bundle(['inspect', '--insecure-registry', '-o', 'json', ref]);
  expect(inspect.code).toBe(0);
  const { Signatures: signatures } = JSON.parse(inspect.stdout);
  expect(signatures).toHaveLength(1);
  expect(signatures[0]).toMatchObject({ mediaType: 'application/jose+json', signedArtifact: { digest } });

  const list = await bundle(['list', '--insecure-registry', ref]);
  expect(list.code).toBe(0);
  expect(list.stdout).toContain(signatures[0].digest);
});

test('attest a provenance with the default key, then verify --require-attestation and list it', async () => {
  const { ref } = await pushedImage();
  const predicate = join(HOME, 'provenance.json');
  const builder = 'https://codebuild.us-east-1.amazonaws.com/projects/app-build';
  writeFileSync(predicate, JSON.stringify({ buildDefinition: { buildType: 'https://example.com/build/v1' }, runDetails: { builder: { id: builder } } }));
  expect(await bundle(['sign', '--insecure-registry', ref])).toMatchObject({ code: 0 });

  const missing = await bundle(['verify', '--insecure-registry', '--require-attestation', 'slsa-provenance', ref]);
  expect(missing.code).toBe(1);
  expect(missing.stderr).toContain('slsa-provenance attestation verification failed (missing)');

  const attest = await bundle(['attest', '--insecure-registry', '--type', 'slsa-provenance', '--predicate', predicate, ref]);
  expect(attest).toMatchObject({ code: 0, stderr: '' });
  const attestation = /^Successfully signed .*@(sha256:[0-9a-f]{64})$/m.exec(attest.stdout)?.[1];
  expect(attestation).toBeDefined();

  const verify = await bundle(['verify', '--insecure-registry', '--require-attestation', 'slsa-provenance', '--provenance-builder', builder, ref]);
  expect(verify).toMatchObject({ code: 0, stderr: '' });
  expect(verify.stdout).toContain(`Successfully verified the slsa-provenance attestation ${ref.replace(/@.*$/, '')}@${attestation} (signature sha256:`);

  const otherBuilder = await bundle(['verify', '--insecure-registry', '--require-attestation', 'slsa-provenance', '--provenance-builder', 'https://other.example/builder', ref]);
  expect(otherBuilder.code).toBe(1);
  expect(otherBuilder.stderr).toContain('not the required builder "https://other.example/builder"');

  const list = await bundle(['list', '--insecure-registry', ref]);
  expect(list.code).toBe(0);
  expect(list.stdout).toContain(`└── application/vnd.in-toto+json\n    └── ${attestation}\n        └── application/vnd.cncf.notary.signature\n`);
});

test('an unsigned image fails verify with exit code 1; a command without its reference is a usage error (2)', async () => {
  const { ref } = await pushedImage();
  const verify = await bundle(['verify', '--insecure-registry', ref]);
  expect(verify.code).toBe(1);
  expect(verify.stderr).toMatch(/no signature is associated with/);
  expect((await bundle(['verify'])).code).toBe(2);
});
