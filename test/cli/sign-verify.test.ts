import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetRevocationStatusCommand, SignerClient, SignPayloadCommand } from '@aws-sdk/client-signer';
import { mockClient } from 'aws-sdk-client-mock';
import { listSignatures } from '../../lambda/notary/list-signatures';
import { signImage } from '../../lambda/notary/sign-image';
import { OciLayoutRepository } from '../../lambda/oci/layout-repository';
import { MediaType } from '../../lambda/oci/media-types';
import { RegistryRepository } from '../../lambda/oci/registry-repository';
import { OciRepository } from '../../lambda/oci/repository';
import { Descriptor } from '../../lambda/oci/types';
import { LocalKeySigner } from '../../lambda/signers/local-key';
import { plainRegistry } from '../harness/env';
import { runSignedImage } from '../util/cli';
import { createRandomImage, pushImage } from '../util/images';
import { trustPolicy, writeNotationConfig } from '../util/notation-config';
import { createChain, TestChain } from '../util/pki';

const PROFILE_ARN = 'arn:aws:signer:us-west-2:111122223333:/signing-profiles/release';
const PROFILE_VERSION_ARN = `${PROFILE_ARN}/Ab12Cd34Ef`;

let chain: TestChain;
let other: TestChain;
let keyFile: string;
let certFile: string;
let otherKeyFile: string;
let otherCertFile: string;
let configDir: string;

beforeAll(async () => {
  chain = await createChain({ keySpec: 'EC-384', leaf: { subject: 'CN=builder,O=Acme,L=Seattle,ST=WA,C=US' } });
  other = await createChain();
  const dir = mkdtempSync(join(tmpdir(), 'sign-verify-'));
  keyFile = join(dir, 'key.pem');
  certFile = join(dir, 'chain.pem');
  otherKeyFile = join(dir, 'other-key.pem');
  otherCertFile = join(dir, 'other-chain.pem');
  writeFileSync(keyFile, chain.leaf.keyPem);
  writeFileSync(certFile, chain.chainPem);
  writeFileSync(otherKeyFile, other.leaf.keyPem);
  writeFileSync(otherCertFile, other.chainPem);
  configDir = writeNotationConfig(
    trustPolicy({ trustStores: ['ca:acme'], trustedIdentities: ['x509.subject: C=US, ST=WA, O=Acme'] }),
    { 'ca:acme': chain.root.pem },
  );
});

function registryRepository(prefix: string): { repository: RegistryRepository; ref: string } {
  const host = plainRegistry();
  const name = `${prefix}-${randomBytes(4).toString('hex')}`;
  return { repository: new RegistryRepository({ registry: host, repository: name, plainHttp: true }), ref: `${host}/${name}` };
}

/** Copies a manifest and its blobs (and, recursively, its signatures) from one store to another. */
async function copyWithSignatures(from: OciRepository, to: OciRepository, manifest: Descriptor, tag?: string): Promise<void> {
  const { bytes } = await from.fetchManifest(manifest.digest);
  const parsed = JSON.parse(Buffer.from(bytes).toString()) as { config: Descriptor; layers: Descriptor[] };
  for (const blob of [parsed.config, ...parsed.layers]) await to.pushBlob(await from.fetchBlob(blob), blob.mediaType);
  await to.pushManifest(bytes, manifest.mediaType, tag);
  for (const signature of await listSignatures(from, manifest)) await copyWithSignatures(from, to, signature);
}

describe('signed-image sign and verify with a local key', () => {
  test('signs an image on a registry, and verify accepts it under a strict policy', async () => {
    const { repository, ref } = registryRepository('cli/signed');
    const image = await pushImage(repository, createRandomImage(), 'v1');

    const sign = await runSignedImage(['sign', '--plain-http', '--key', keyFile, '--cert', certFile, `${ref}:v1`]);
    const verify = await runSignedImage(['verify', '--plain-http', '--config-dir', configDir, `${ref}:v1`]);

    expect(sign.stderr).toBe(
      'Warning: Always sign the artifact using digest(@sha256:...) rather than a tag(:v1) because tags are mutable and a tag reference can point to a different artifact than the one signed.\n',
    );
    expect(sign.code).toBe(0);
    const signatures = await listSignatures(repository, image);
    expect(signatures).toHaveLength(1);
    expect(sign.stdout).toBe(`Successfully signed ${ref}@${image.digest}\nPushed the signature to ${ref}@${signatures[0].digest}\n`);
    expect(verify.stderr).toBe(
      'Warning: Always verify the artifact using digest(@sha256:...) rather than a tag(:v1) because resolved digest may not point to the same signed artifact, as tags are mutable.\n',
    );
    expect(verify.code).toBe(0);
    expect(verify.stdout).toBe(`Successfully verified signature for ${ref}@${image.digest}\n`);
  });

  test('signing again reuses the valid signature; --force adds another', async () => {
    const { repository, ref } = registryRepository('cli/idempotent');
    const image = await pushImage(repository, createRandomImage());

    const first = await runSignedImage(['sign', '--plain-http', '-k', keyFile, '-c', certFile, `${ref}@${image.digest}`]);
    const again = await runSignedImage(['sign', '--plain-http', '-k', keyFile, '-c', certFile, `${ref}@${image.digest}`]);
    const afterReuse = await listSignatures(repository, image);
    const forced = await runSignedImage(['sign', '--plain-http', '-k', keyFile, '-c', certFile, '--force', `${ref}@${image.digest}`]);

    expect(first.code).toBe(0);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain(`already has a valid signature by key "CN=builder,O=Acme,L=Seattle,ST=WA,C=US": ${afterReuse[0].digest}`);
    expect(afterReuse).toHaveLength(1);
    expect(forced.code).toBe(0);
    expect(await listSignatures(repository, image)).toHaveLength(2);
  });

  test('gives the same verdict on a registry and on the same content in an OCI layout', async () => {
    const { repository, ref } = registryRepository('cli/layout-parity');
    const image = await pushImage(repository, createRandomImage(), 'v1');
    await runSignedImage(['sign', '--plain-http', '-k', keyFile, '-c', certFile, `${ref}:v1`]);
    const layoutDir = join(mkdtempSync(join(tmpdir(), 'parity-')), 'app');
    await copyWithSignatures(repository, new OciLayoutRepository(layoutDir), image, 'v1');
    const layoutConfig = writeNotationConfig(
      trustPolicy({ registryScopes: [ref.replace(/^[^/]+\//, `${ref.split('/')[0]}/`), 'local/app'], trustStores: ['ca:acme'], trustedIdentities: ['*'] }),
      { 'ca:acme': chain.root.pem },
    );

    const onRegistry = await runSignedImage(['verify', '--plain-http', '--config-dir', layoutConfig, '-o', 'json', `${ref}:v1`]);
    const onLayout = await runSignedImage(['verify', '--oci-layout', '--scope', 'local/app', '--config-dir', layoutConfig, '-o', 'json', `${layoutDir}:v1`]);

    expect(onRegistry.code).toBe(0);
    expect(onLayout.code).toBe(0);
    const registryVerdict = JSON.parse(onRegistry.stdout);
    const layoutVerdict = JSON.parse(onLayout.stdout);
    expect(registryVerdict.verified).toBe(true);
    expect({ ...layoutVerdict, reference: undefined }).toEqual({ ...registryVerdict, reference: undefined });
    expect(layoutVerdict.reference).toBe(`${layoutDir}:v1`);
  });

  test('--output json reports every check with its action', async () => {
    const { repository, ref } = registryRepository('cli/json');
    const image = await pushImage(repository, createRandomImage(), 'v1');
    await runSignedImage(['sign', '--plain-http', '-k', keyFile, '-c', certFile, `${ref}:v1`]);

    const run = await runSignedImage(['verify', '--plain-http', '--config-dir', configDir, '--output', 'json', `${ref}:v1`]);
    const outcome = JSON.parse(run.stdout);

    expect(run.code).toBe(0);
    expect(outcome).toMatchObject({ reference: `${ref}:v1`, digest: image.digest, verified: true, level: 'strict' });
    expect(outcome.signatureDigest).toBe((await listSignatures(repository, image))[0].digest);
    expect(outcome.results.map((result: { type: string; action: string; ok: boolean }) => [result.type, result.action, result.ok])).toEqual([
      ['integrity', 'enforce', true],
      ['authenticity', 'enforce', true],
      ['expiry', 'enforce', true],
      ['authenticTimestamp', 'enforce', true],
      ['revocation', 'enforce', true],
    ]);
    expect(outcome.error).toBeUndefined();
  });

  test('an unsigned image fails with notation\'s message and exit code 1', async () => {
    const { repository, ref } = registryRepository('cli/unsigned');
    const image = await pushImage(repository, createRandomImage(), 'v1');

    const run = await runSignedImage(['verify', '--plain-http', '--config-dir', configDir, `${ref}@${image.digest}`]);
    const json = await runSignedImage(['verify', '--plain-http', '--config-dir', configDir, '-o', 'json', `${ref}:v1`]);

    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      `Error: signature verification failed: no signature is associated with "${ref}@${image.digest}", make sure the artifact was signed successfully\n`,
    );
    expect(JSON.parse(json.stdout).error.code).toBe('no-signature');
  });

  test('an image replaced under its tag has no signature any more', async () => {
    const { repository, ref } = registryRepository('cli/replaced');
    await pushImage(repository, createRandomImage(), 'v1');
    await runSignedImage(['sign', '--plain-http', '-k', keyFile, '-c', certFile, `${ref}:v1`]);
    const replaced = await pushImage(repository, createRandomImage(), 'v1');

    const run = await runSignedImage(['verify', '--plain-http', '--config-dir', configDir, `${ref}:v1`]);

    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`no signature is associated with "${ref}@${replaced.digest}"`);
  });

  test('a signature by an untrusted key does not verify', async () => {
    const { repository, ref } = registryRepository('cli/untrusted');
    const image = await pushImage(repository, createRandomImage(), 'v1');
    await runSignedImage(['sign', '--plain-http', '-k', otherKeyFile, '-c', otherCertFile, `${ref}:v1`]);

    const run = await runSignedImage(['verify', '--plain-http', '--config-dir', configDir, '-o', 'json', `${ref}:v1`]);
    const outcome = JSON.parse(run.stdout);

    expect(run.code).toBe(1);
    expect(outcome.verified).toBe(false);
    expect(outcome.error.code).toBe('verification-failed');
    expect(outcome.error.message).toContain(`signature verification failed for all the signatures associated with ${ref}@${image.digest}`);
    expect(outcome.error.message).toContain("the signature's certificate chain does not contain any trusted certificate");
  });

  test('user metadata is signed and required metadata must match', async () => {
    const { repository, ref } = registryRepository('cli/metadata');
    await pushImage(repository, createRandomImage(), 'v1');
    await runSignedImage(['sign', '--plain-http', '-k', keyFile, '-c', certFile, '-m', 'buildId=42', `${ref}:v1`]);

    const match = await runSignedImage(['verify', '--plain-http', '--config-dir', configDir, '-m', 'buildId=42', `${ref}:v1`]);
    const mismatch = await runSignedImage(['verify', '--plain-http', '--config-dir', configDir, '-m', 'buildId=43', `${ref}:v1`]);

    expect(match.code).toBe(0);
    expect(mismatch.code).toBe(1);
    expect(mismatch.stderr).toContain('unable to find specified metadata in the signature: buildId=43');
  });

  test('a signature past its --expiry fails verification', async () => {
    const { repository, ref } = registryRepository('cli/expired');
    const image = await pushImage(repository, createRandomImage());
    const signedAt = new Date(Date.now() - 120_000);
    const signer = new LocalKeySigner({ key: chain.leaf.keyPem, certificateChain: chain.chain, expirySeconds: 60, clock: () => signedAt });
    // Signed in the past: at that time the new signature passes the signer's own check.
    await signImage({ repository, tagOrDigest: image.digest, signer, now: signedAt });

    const run = await runSignedImage(['verify', '--plain-http', '--config-dir', configDir, `${ref}@${image.digest}`]);

    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/digital signature has expired on "/);
  });

  test('inspect -o json prints notation\'s shape, and -o tree (the default) the same facts as a tree', async () => {
    const { repository, ref } = registryRepository('cli/inspect');
    const image = await pushImage(repository, createRandomImage(), 'v1');
    await runSignedImage(['sign', '--plain-http', '-k', keyFile, '-c', certFile, '-e', '24h', '-m', 'team=payments', `${ref}@${image.digest}`]);
    const [signatureManifest] = await listSignatures(repository, image);

    const text = await runSignedImage(['inspect', '--plain-http', `${ref}@${image.digest}`]);
    const tree = await runSignedImage(['inspect', '--plain-http', '-o', 'tree', `${ref}@${image.digest}`]);
    const json = await runSignedImage(['inspect', '--plain-http', '-o', 'json', `${ref}@${image.digest}`]);
    const described = JSON.parse(json.stdout);

    // notation 1.x cmd/notation/inspect.go (v1.3.2): `Signatures`, map keys sorted as Go writes them
    const rfc3339 = expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(json.code).toBe(0);
    expect(described).toEqual({
      mediaType: MediaType.OCI_MANIFEST,
      Signatures: [
        {
          mediaType: 'application/jose+json',
          digest: signatureManifest.digest,
          signatureAlgorithm: 'ECDSA-SHA-384',
          signedAttributes: { signingScheme: 'notary.x509', signingTime: rfc3339, expiry: rfc3339 },
          userDefinedAttributes: { team: 'payments' },
          unsignedAttributes: { signingAgent: expect.stringMatching(/^signed-image\//) },
          certificates: chain.chain.map((der, index) => ({
            SHA256Fingerprint: createHash('sha256').update(der).digest('hex'),
            issuedTo: ['CN=builder,O=Acme,L=Seattle,ST=WA,C=US', chain.intermediate.subject, chain.root.subject][index],
            issuedBy: [chain.intermediate.subject, chain.root.subject, chain.root.subject][index],
            expiry: rfc3339,
          })),
          signedArtifact: { mediaType: MediaType.OCI_MANIFEST, digest: image.digest, size: image.size },
        },
      ],
    });
    const { signingTime, expiry } = described.Signatures[0].signedAttributes;
    expect(Date.parse(expiry) - Date.parse(signingTime)).toBe(24 * 3600 * 1000);
    expect(Object.keys(described)).toEqual(['mediaType', 'Signatures']);
    expect(Object.keys(described.Signatures[0])).toEqual([
      'mediaType', 'digest', 'signatureAlgorithm', 'signedAttributes', 'userDefinedAttributes', 'unsignedAttributes', 'certificates', 'signedArtifact',
    ]);
    expect(Object.keys(described.Signatures[0].signedAttributes)).toEqual(['expiry', 'signingScheme', 'signingTime']);
    expect(json.stdout).toMatch(/^{\n {4}"mediaType": /);

    expect(text).toEqual(tree);
    expect(tree.code).toBe(0);
    const lines = tree.stdout.split('\n');
    expect(lines.slice(0, 5)).toEqual([
      'Inspecting all signatures for signed artifact',
      `${ref}@${image.digest}`,
      '└── application/vnd.cncf.notary.signature',
      `    └── ${signatureManifest.digest}`,
      '        ├── media type: application/jose+json',
    ]);
    expect(tree.stdout).toContain('        ├── signature algorithm: ECDSA-SHA-384\n        ├── signed attributes\n        │   ├── expiry: ');
    expect(tree.stdout).toContain('        │   ├── signingScheme: notary.x509\n');
    expect(tree.stdout).toMatch(/│   └── signingTime: \w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}\n/);
    expect(tree.stdout).toContain('        ├── user defined attributes\n        │   └── team: payments\n');
    for (const der of chain.chain) expect(tree.stdout).toContain(`SHA256 fingerprint: ${createHash('sha256').update(der).digest('hex')}`);
    expect(tree.stdout).toContain(`        └── signed artifact\n            ├── media type: ${MediaType.OCI_MANIFEST}\n            ├── digest: ${image.digest}\n            └── size: ${image.size}\n`);
  });
});

test('inspect -o json: a signature without user metadata has "userDefinedAttributes": null, as notation 1.x writes a nil map', async () => {
  const { repository, ref } = registryRepository('cli/inspect-plain');
  const image = await pushImage(repository, createRandomImage());
  await runSignedImage(['sign', '--plain-http', '-k', keyFile, '-c', certFile, `${ref}@${image.digest}`]);

  const json = await runSignedImage(['inspect', '--plain-http', '-o', 'json', `${ref}@${image.digest}`]);
  const tree = await runSignedImage(['inspect', '--plain-http', `${ref}@${image.digest}`]);

  expect(JSON.parse(json.stdout).Signatures[0].userDefinedAttributes).toBeNull();
  expect(tree.stdout).toContain('        ├── user defined attributes\n        │   └── (empty)\n');
});

describe('signed-image sign usage errors', () => {
  const imageRef = 'localhost:5000/app:v1';
  test.each([
    [['sign', imageRef], 'no signing key was given and '],
    [['sign', '--key', 'k.pem', imageRef], 'signing key "k.pem" is not in '],
    [['sign', '--cert', 'c.pem', imageRef], '--cert needs --key <file>'],
    [['sign', '--signer-profile', 'release', '--key', 'k.pem', '--cert', 'c.pem', imageRef], 'give one of --key <name>, --key <file> with --cert, --plugin with --id, or --signer-profile'],
    [['sign', '--signer-profile', 'release', '--expiry', '1h', imageRef], '--expiry is not supported with AWS Signer'],
    [['sign', '--plugin', 'com.example.other', '--id', 'key-1', imageRef], 'plugin "com.example.other" is not supported'],
    [['sign', '--plugin', 'com.amazonaws.signer.notation.plugin', imageRef], '--plugin and --id must be given together'],
    [['sign', '--signature-format', 'cose', '-k', 'k.pem', '-c', 'c.pem', imageRef], '--signature-format cose is not supported'],
    [['sign', '--signer-profile', 'no-dashes-allowed', imageRef], 'give the signing profile ARN'],
    [['sign', '--signer-profile', 'arn:aws:signer:us-east-1:111122223333:/signing-profiles/no-dashes', imageRef], 'signing profile name "no-dashes" is not valid'],
    [
      ['sign', '--signer-profile', 'arn:aws:signer:us-east-1:111122223333:/signing-profiles/release/AbCdEf1234', imageRef],
      'is a signing profile version ARN; sign with the signing profile ARN "arn:aws:signer:us-east-1:111122223333:/signing-profiles/release"',
    ],
    [['sign', '--key', '/nonexistent/k.pem', '--cert', '/nonexistent/c.pem', imageRef], '--key /nonexistent/k.pem: no such file'],
  ])('%j fails with exit code 2: %s', async (argv, message) => {
    const run = await runSignedImage(argv);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(message);
  });

  test('a key that does not match the certificate is rejected before anything is pushed', async () => {
    const { repository, ref } = registryRepository('cli/mismatch');
    const image = await pushImage(repository, createRandomImage(), 'v1');

    const run = await runSignedImage(['sign', '--plain-http', '-k', otherKeyFile, '-c', certFile, `${ref}:v1`]);

    expect(run.code).toBe(2);
    expect(run.stderr).toContain('the private key does not match the signing certificate');
    expect(await listSignatures(repository, image)).toHaveLength(0);
  });

  test('a malformed --expiry is a usage error', async () => {
    const run = await runSignedImage(['sign', '-k', keyFile, '-c', certFile, '--expiry', 'tomorrow', 'localhost:5000/app:v1']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--expiry "tomorrow" is not a duration');
  });
});

describe('signed-image with an AWS Signer profile', () => {
  const signerMock = mockClient(SignerClient);
  afterEach(() => signerMock.reset());
  afterAll(() => signerMock.restore());

  async function signWithProfile(prefix: string): Promise<{ ref: string; image: Descriptor; configDir: string }> {
    const { repository, ref } = registryRepository(prefix);
    const image = await pushImage(repository, createRandomImage(), 'v1');
    const aws = await createChain({ keySpec: 'EC-384' });
    const shaped = new LocalKeySigner({
      key: aws.leaf.keyPem,
      certificateChain: aws.chain,
      signingAuthority: { signingProfileVersionArn: PROFILE_VERSION_ARN },
    });
    signerMock.on(SignPayloadCommand).callsFake(async (input) => ({
      signature: (await shaped.sign(input.payload)).envelope,
      jobId: 'job',
      jobOwner: '111122223333',
      metadata: { 'com.amazonaws.signer.signingProfile': PROFILE_ARN },
    }));
    const dir = writeNotationConfig(
      trustPolicy({ trustStores: ['signingAuthority:aws-test'], trustedIdentities: [PROFILE_ARN] }),
      { 'signingAuthority:aws-test': aws.root.pem },
    );
    // The test CA stands in for AWS Signer's root through the configuration's signingAuthority store.
    const sign = await runSignedImage(['sign', '--plain-http', '--config-dir', dir, '--signer-profile', PROFILE_ARN, `${ref}@${image.digest}`]);
    expect(sign.stderr).toBe('');
    expect(sign.code).toBe(0);
    expect(sign.stdout).toContain('Signing job: arn:aws:signer:us-west-2:111122223333:/signing-jobs/');
    return { ref, image, configDir: dir };
  }

  test('signs with SignPayload and verifies with the profile ARN identity and a revocation check', async () => {
    const { ref, configDir: dir } = await signWithProfile('cli/aws');
    signerMock.on(GetRevocationStatusCommand).resolves({ revokedEntities: [] });

    const run = await runSignedImage(['verify', '--plain-http', '--config-dir', dir, '-o', 'json', `${ref}:v1`]);
    const outcome = JSON.parse(run.stdout);

    expect(run.code).toBe(0);
    expect(outcome.results.find((result: { type: string }) => result.type === 'revocation')).toMatchObject({ ok: true, message: 'Signature is not revoked.' });
    const request = signerMock.commandCalls(SignPayloadCommand)[0].args[0].input;
    expect(request).toMatchObject({ profileName: 'release', profileOwner: '111122223333', payloadFormat: MediaType.NOTARY_PAYLOAD });
    const revocation = signerMock.commandCalls(GetRevocationStatusCommand)[0].args[0].input;
    expect(revocation).toMatchObject({ platformId: 'Notation-OCI-SHA384-ECDSA', profileVersionArn: PROFILE_VERSION_ARN });
    expect(revocation.certificateHashes).toHaveLength(3);
  });

  test('a revoked signing profile fails verification', async () => {
    const { ref, configDir: dir } = await signWithProfile('cli/aws-revoked');
    signerMock.on(GetRevocationStatusCommand).resolves({ revokedEntities: [PROFILE_VERSION_ARN] });

    const run = await runSignedImage(['verify', '--plain-http', '--config-dir', dir, `${ref}:v1`]);

    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`Resource(s) ${PROFILE_VERSION_ARN} have been revoked.`);
  });

  test('SignPayload AccessDenied names the profile and pushes nothing', async () => {
    const { repository, ref } = registryRepository('cli/aws-denied');
    const image = await pushImage(repository, createRandomImage(), 'v1');
    const denied = Object.assign(new Error('User is not authorized to perform: signer:SignPayload'), { name: 'AccessDeniedException' });
    signerMock.on(SignPayloadCommand).rejects(denied);

    const run = await runSignedImage(['sign', '--plain-http', '--signer-profile', PROFILE_ARN, `${ref}:v1`]);

    expect(run.code).toBe(1);
    expect(run.stderr).toContain('AWS Signer SignPayload with AWS Signer profile "release" of account 111122223333 failed: AccessDeniedException');
    expect(await listSignatures(repository, image)).toHaveLength(0);
  });
});
