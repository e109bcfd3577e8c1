/**
 * `signed-image attest` and `verify --require-attestation` against the real registry, with real keys: a signed
 * provenance or SBOM passes only when it is there, signed over exactly its content by a signer the trust policy
 * trusts, and says what is required; inspect and list show it as a referrer of the image.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AttestationMediaType, buildAttestationManifest, buildProvenanceStatement } from '../../lambda/notary/attestation';
import { attachAttestation } from '../../lambda/notary/attestation-attach';
import { listAttestations } from '../../lambda/notary/attestation-list';
import { listSignatures } from '../../lambda/notary/list-signatures';
import { MediaType } from '../../lambda/oci/media-types';
import { RegistryRepository } from '../../lambda/oci/registry-repository';
import { Descriptor } from '../../lambda/oci/types';
import { LocalKeySigner } from '../../lambda/signers/local-key';
import { plainRegistry } from '../harness/env';
import { runSignedImage } from '../util/cli';
import { createRandomImage, pushImage, pushIndex } from '../util/images';
import { trustPolicy, writeNotationConfig } from '../util/notation-config';
import { createChain, TestChain } from '../util/pki';

const BUILDER = 'https://codebuild.us-east-1.amazonaws.com/projects/app-build';
const REPO = 'https://github.com/acme/app';
const COMMIT = 'b'.repeat(40);

function provenance(builderId: string = BUILDER): Record<string, unknown> {
  return {
    buildDefinition: {
      buildType: 'https://github.com/cdk-signed-image-pipeline/codebuild/v1',
      externalParameters: { source: REPO },
      resolvedDependencies: [{ uri: `git+${REPO}@refs/heads/main`, digest: { gitCommit: COMMIT } }],
    },
    runDetails: { builder: { id: builderId } },
  };
}
const SPDX = { spdxVersion: 'SPDX-2.3', dataLicense: 'CC0-1.0', SPDXID: 'SPDXRef-DOCUMENT', name: 'app', packages: [] };
const bytes = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

let chain: TestChain;
let other: TestChain;
let dir: string;
let key: string[];
let otherKey: string[];
let configDir: string;
let predicateFile: string;
let otherBuilderFile: string;
let spdxFile: string;

function file(name: string, content: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

beforeAll(async () => {
  [chain, other] = await Promise.all([createChain(), createChain()]);
  dir = mkdtempSync(join(tmpdir(), 'attest-cli-'));
  key = ['--key', file('key.pem', chain.leaf.keyPem), '--cert', file('chain.pem', chain.chainPem)];
  otherKey = ['--key', file('other-key.pem', other.leaf.keyPem), '--cert', file('other-chain.pem', other.chainPem)];
  configDir = writeNotationConfig(trustPolicy({ trustStores: ['ca:acme'], trustedIdentities: ['*'] }), { 'ca:acme': chain.root.pem });
  predicateFile = file('provenance.json', provenance());
  otherBuilderFile = file('other-builder.json', provenance('https://evil.example/builder'));
  spdxFile = file('sbom.spdx.json', SPDX);
});

async function pushedImage(prefix: string): Promise<{ repository: RegistryRepository; image: Descriptor; ref: string }> {
  const host = plainRegistry();
  const name = `${prefix}-${randomBytes(4).toString('hex')}`;
  const repository = new RegistryRepository({ registry: host, repository: name, plainHttp: true });
  const image = await pushImage(repository, createRandomImage(), 'v1');
  return { repository, image, ref: `${host}/${name}` };
}

/** Signs the image itself (verify checks that first), with the trusted key. */
async function signed(prefix: string) {
  const pushed = await pushedImage(prefix);
  expect((await runSignedImage(['sign', '--plain-http', ...key, `${pushed.ref}@${pushed.image.digest}`])).code).toBe(0);
  return pushed;
}

const verifyArgs = (ref: string, ...more: string[]) => ['verify', '--plain-http', '--config-dir', configDir, ...more, ref];

describe('attest', () => {
  test('attaches a signed provenance: names the attestation and its signature, as sign does', async () => {
    const { repository, image, ref } = await pushedImage('cli/attest');

    const run = await runSignedImage(['attest', '--plain-http', ...key, '--type', 'slsa-provenance', '--predicate', predicateFile, `${ref}@${image.digest}`]);

    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const [attestation] = await listAttestations(repository, image);
    expect(attestation.type).toBe('slsa-provenance');
    const [signature] = await listSignatures(repository, attestation.descriptor);
    expect(run.stdout).toBe(
      `Attached the slsa-provenance attestation ${ref}@${attestation.descriptor.digest} (application/vnd.in-toto+json) to ${ref}@${image.digest}\n` +
      `Successfully signed ${ref}@${attestation.descriptor.digest}\n` +
      `Pushed the signature to ${ref}@${signature.digest}\n`,
    );
    const manifest = JSON.parse(Buffer.from((await repository.fetchManifest(attestation.descriptor.digest)).bytes).toString());
    const statement = JSON.parse(Buffer.from(await repository.fetchBlob(manifest.layers[0])).toString());
    expect(statement).toMatchObject({ _type: 'https://in-toto.io/Statement/v1', subject: [{ name: ref, digest: { sha256: image.digest.slice(7) } }], predicate: provenance() });
  });

  test('-o json names the attestation and its signature; a tag warns as sign does', async () => {
    const { repository, image, ref } = await pushedImage('cli/attest-json');

    const run = await runSignedImage(['attest', '--plain-http', ...key, '--type', 'spdx', '--predicate', spdxFile, '-o', 'json', `${ref}:v1`]);

    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/^Warning: Always attest the artifact using digest/);
    const [attestation] = await listAttestations(repository, image, 'spdx');
    const [signature] = await listSignatures(repository, attestation.descriptor);
    expect(JSON.parse(run.stdout)).toEqual({
      reference: `${ref}@${image.digest}`,
      type: 'spdx',
      artifactType: 'application/spdx+json',
      attestationDigest: attestation.descriptor.digest,
      signatureDigest: signature.digest,
    });
  });

  test.each([
    ['a missing file', () => ['--type', 'spdx', '--predicate', join(dir, 'none.json')], /--predicate .*none\.json: no such file/],
    ['an unknown type', () => ['--type', 'sbom', '--predicate', spdxFile], /argument 'sbom' is invalid\. Allowed choices are slsa-provenance, spdx, cyclonedx/],
    ['no --type', () => ['--predicate', spdxFile], /required option '--type <type>' not specified/],
    ['a file that is not JSON', () => ['--type', 'cyclonedx', '--predicate', file('bad.json', '{not json')], /--predicate .*bad\.json: .*JSON/],
    ['an SPDX document given as provenance', () => ['--type', 'slsa-provenance', '--predicate', spdxFile], /--predicate .*sbom\.spdx\.json: the SLSA provenance predicate has no buildDefinition/],
    ['a provenance given as CycloneDX', () => ['--type', 'cyclonedx', '--predicate', predicateFile], /--predicate .*provenance\.json: the cyclonedx document has no bomFormat "CycloneDX"/],
    ['a whole in-toto statement', () => ['--type', 'slsa-provenance', '--predicate', file('statement.json', { _type: 'https://in-toto.io/Statement/v1', predicate: provenance() })], /pass its predicate only/],
  ])('refuses %s as a usage error, and pushes nothing', async (_, args, message) => {
    const { repository, image, ref } = await pushedImage('cli/attest-bad');

    const run = await runSignedImage(['attest', '--plain-http', ...key, ...args(), `${ref}@${image.digest}`]);

    expect(run.stderr).toMatch(message);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(await repository.referrers({ digest: image.digest })).toEqual([]);
  });

  test('checks the predicate before the registry is contacted', async () => {
    const run = await runSignedImage(['attest', '--plain-http', ...key, '--type', 'slsa-provenance', '--predicate', spdxFile, `127.0.0.1:1/app@sha256:${'0'.repeat(64)}`]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/--predicate .*sbom\.spdx\.json: the SLSA provenance predicate has no buildDefinition/);
  });

  test('refuses --signature-format cose before anything is pushed, as sign does', async () => {
    const { repository, image, ref } = await pushedImage('cli/attest-cose');
    const run = await runSignedImage(['attest', '--plain-http', ...key, '--signature-format', 'cose', '--type', 'spdx', '--predicate', spdxFile, `${ref}@${image.digest}`]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--signature-format cose is not supported');
    expect(await repository.referrers({ digest: image.digest })).toEqual([]);
  });

  test('--help lists the type, the predicate and sign\'s signer options', async () => {
    const run = await runSignedImage(['attest', '--help']);
    expect(run.code).toBe(0);
    for (const option of ['--type <type>', '--predicate <file>', '--key', '--cert', '--plugin', '--signer-profile', '--signature-format', '--insecure-registry', '--password-stdin']) {
      expect(run.stdout).toContain(option);
    }
  });
});

describe('verify --require-attestation', () => {
  test('passes for a signed image with a signed provenance by the required builder from the required source', async () => {
    const { image, ref } = await signed('cli/require');
    expect((await runSignedImage(['attest', '--plain-http', ...key, '--type', 'slsa-provenance', '--predicate', predicateFile, `${ref}@${image.digest}`])).code).toBe(0);
    expect((await runSignedImage(['attest', '--plain-http', ...key, '--type', 'spdx', '--predicate', spdxFile, `${ref}@${image.digest}`])).code).toBe(0);

    const run = await runSignedImage(verifyArgs(`${ref}@${image.digest}`, '--require-attestation', 'slsa-provenance', '--require-attestation', 'spdx',
      '--provenance-builder', BUILDER, '--provenance-source-repository', `${REPO}.git`, '--provenance-source-branch', 'main', '--provenance-source-revision', COMMIT));

    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`^Successfully verified signature for ${ref}@${image.digest}\n`));
    expect(run.stdout).toMatch(new RegExp(`Successfully verified the slsa-provenance attestation ${ref}@sha256:[0-9a-f]{64} \\(signature sha256:[0-9a-f]{64}\\), built by ${BUILDER}\n`));
    expect(run.stdout).toMatch(new RegExp(`Successfully verified the spdx attestation ${ref}@sha256:[0-9a-f]{64} \\(signature sha256:[0-9a-f]{64}\\)\n$`));
  });

  test('-o json carries each attestation verdict; a failed one makes the whole verdict false', async () => {
    const { image, ref } = await signed('cli/require-json');
    await runSignedImage(['attest', '--plain-http', ...key, '--type', 'slsa-provenance', '--predicate', predicateFile, `${ref}@${image.digest}`]);

    const passed = await runSignedImage(verifyArgs(`${ref}@${image.digest}`, '-o', 'json', '--require-attestation', 'slsa-provenance'));
    const failed = await runSignedImage(verifyArgs(`${ref}@${image.digest}`, '-o', 'json', '--require-attestation', 'slsa-provenance', '--require-attestation', 'cyclonedx'));

    expect(passed.code).toBe(0);
    const verdict = JSON.parse(passed.stdout);
    expect(verdict).toMatchObject({ digest: image.digest, verified: true, level: 'strict' });
    expect(verdict.attestations).toEqual([
      expect.objectContaining({ type: 'slsa-provenance', verified: true, digest: image.digest, provenance: expect.objectContaining({ builderId: BUILDER }) }),
    ]);
    expect(failed.code).toBe(1);
    const failure = JSON.parse(failed.stdout);
    expect(failure).toMatchObject({ verified: false, error: { code: 'verification-failed', message: expect.stringContaining('no cyclonedx attestation') } });
    expect(failure.results.every((result: { ok: boolean }) => result.ok)).toBe(true);
    expect(failure.attestations.map((a: { type: string; verified: boolean }) => [a.type, a.verified])).toEqual([['slsa-provenance', true], ['cyclonedx', false]]);
    expect(failure.attestations[1].failure.reason).toBe('missing');
  });

  test('--user-metadata is required of the image\'s signature only, not of the attestations\'', async () => {
    const { image, ref } = await pushedImage('cli/require-metadata');
    await runSignedImage(['sign', '--plain-http', ...key, '-m', 'stage=release', `${ref}@${image.digest}`]);
    await runSignedImage(['attest', '--plain-http', ...key, '--type', 'slsa-provenance', '--predicate', predicateFile, `${ref}@${image.digest}`]);

    const run = await runSignedImage(verifyArgs(`${ref}@${image.digest}`, '-m', 'stage=release', '--require-attestation', 'slsa-provenance'));

    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Successfully verified the slsa-provenance attestation');
  });

  test('fails as missing when no attestation of the type is attached', async () => {
    const { image, ref } = await signed('cli/require-missing');
    const run = await runSignedImage(verifyArgs(`${ref}@${image.digest}`, '--require-attestation', 'slsa-provenance'));
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      `Error: slsa-provenance attestation verification failed (missing): slsa-provenance attestation required: no slsa-provenance attestation (artifactType application/vnd.in-toto+json) is attached to ${ref}@${image.digest}\n`,
    );
  });

  test('fails as unsigned for an attestation pushed without a signature', async () => {
    const { repository, image, ref } = await signed('cli/require-unsigned');
    const statement = bytes(buildProvenanceStatement(image, ref, provenance()));
    const layer = await repository.pushBlob(statement, AttestationMediaType.IN_TOTO);
    await repository.pushBlob(new TextEncoder().encode('{}'), MediaType.OCI_EMPTY);
    const manifest = buildAttestationManifest({ type: 'slsa-provenance', subject: image, document: { mediaType: AttestationMediaType.IN_TOTO, digest: layer.digest, size: statement.byteLength }, created: new Date() });
    const attestation = (await repository.pushManifest(manifest, MediaType.OCI_MANIFEST)).descriptor;

    const run = await runSignedImage(verifyArgs(`${ref}@${image.digest}`, '--require-attestation', 'slsa-provenance'));

    expect(run.code).toBe(1);
    expect(run.stderr).toContain('slsa-provenance attestation verification failed (unsigned)');
    expect(run.stderr).toContain(`${attestation.digest}: it is not signed: signature verification failed: no signature is associated with`);
  });

  test('fails as tampered for an attestation whose signature was made over another attestation', async () => {
    const { repository, image, ref } = await signed('cli/require-tampered');
    const signer = new LocalKeySigner({ key: chain.leaf.key, certificateChain: chain.chain });
    // A genuine signed provenance of another image in the repository; the forged provenance of this image claims
    // the required builder and borrows the genuine attestation's signature envelope.
    const elsewhere = await pushImage(repository, createRandomImage());
    const genuine = await attachAttestation({ repository, tagOrDigest: elsewhere.digest, type: 'slsa-provenance', document: bytes(provenance()), signer });
    const forgedStatement = bytes(buildProvenanceStatement(image, ref, provenance()));
    const layer = await repository.pushBlob(forgedStatement, AttestationMediaType.IN_TOTO);
    const forged = (await repository.pushManifest(
      buildAttestationManifest({ type: 'slsa-provenance', subject: image, document: { mediaType: AttestationMediaType.IN_TOTO, digest: layer.digest, size: forgedStatement.byteLength }, created: new Date() }),
      MediaType.OCI_MANIFEST,
    )).descriptor;
    const signature = JSON.parse(Buffer.from((await repository.fetchManifest(genuine.signature.signatureDigest)).bytes).toString());
    signature.subject = { mediaType: forged.mediaType, digest: forged.digest, size: forged.size };
    await repository.pushManifest(bytes(signature), MediaType.OCI_MANIFEST);

    const run = await runSignedImage(verifyArgs(`${ref}@${image.digest}`, '--require-attestation', 'slsa-provenance', '--provenance-builder', BUILDER));

    expect(run.code).toBe(1);
    expect(run.stderr).toContain('slsa-provenance attestation verification failed (tampered)');
    expect(run.stderr).toContain(`${forged.digest}: its signature does not match it (integrity)`);
    expect(run.stderr).toContain(`the signature is for ${genuine.attestation.digest}`);
  });

  test('fails as untrusted for an attestation signed by a signer the trust policy does not trust', async () => {
    const { image, ref } = await signed('cli/require-untrusted');
    expect((await runSignedImage(['attest', '--plain-http', ...otherKey, '--type', 'slsa-provenance', '--predicate', predicateFile, `${ref}@${image.digest}`])).code).toBe(0);

    const run = await runSignedImage(verifyArgs(`${ref}@${image.digest}`, '--require-attestation', 'slsa-provenance'));

    expect(run.code).toBe(1);
    expect(run.stderr).toContain('slsa-provenance attestation verification failed (untrusted)');
    expect(run.stderr).toContain('it is not signed by a trusted signer (authenticity)');
  });

  test('fails naming the builder for a signed provenance by another builder', async () => {
    const { image, ref } = await signed('cli/require-builder');
    await runSignedImage(['attest', '--plain-http', ...key, '--type', 'slsa-provenance', '--predicate', otherBuilderFile, `${ref}@${image.digest}`]);

    const run = await runSignedImage(verifyArgs(`${ref}@${image.digest}`, '--require-attestation', 'slsa-provenance', '--provenance-builder', BUILDER));
    const anyBuilder = await runSignedImage(verifyArgs(`${ref}@${image.digest}`, '--require-attestation', 'slsa-provenance'));

    expect(run.code).toBe(1);
    expect(run.stderr).toContain('slsa-provenance attestation verification failed (requirement)');
    expect(run.stderr).toContain(`runDetails.builder.id is "https://evil.example/builder", not the required builder "${BUILDER}"`);
    expect(anyBuilder.code).toBe(0);
  });

  test('--recursive: the index and every manifest it lists verify, and the attestation is required of the index', async () => {
    const host = plainRegistry();
    const name = `cli/require-index-${randomBytes(4).toString('hex')}`;
    const repository = new RegistryRepository({ registry: host, repository: name, plainHttp: true });
    const { index } = await pushIndex(repository, 'v1');
    const ref = `${host}/${name}@${index.digest}`;
    expect((await runSignedImage(['sign', '--plain-http', '--recursive', ...key, ref])).code).toBe(0);

    const unattested = await runSignedImage(verifyArgs(ref, '--recursive', '--require-attestation', 'slsa-provenance'));
    expect(unattested.code).toBe(1);
    expect(unattested.stderr).toContain(`no slsa-provenance attestation (artifactType application/vnd.in-toto+json) is attached to ${host}/${name}@${index.digest}`);

    expect((await runSignedImage(['attest', '--plain-http', ...key, '--type', 'slsa-provenance', '--predicate', predicateFile, ref])).code).toBe(0);
    const attested = await runSignedImage(verifyArgs(ref, '--recursive', '--require-attestation', 'slsa-provenance', '-o', 'json'));
    expect(attested.code).toBe(0);
    const verdict = JSON.parse(attested.stdout);
    expect(verdict.verified).toBe(true);
    expect(verdict.attestations).toEqual([expect.objectContaining({ type: 'slsa-provenance', verified: true, digest: index.digest })]);
  });

  test('fails naming the branch for a provenance built from another branch', async () => {
    const { image, ref } = await signed('cli/require-branch');
    await runSignedImage(['attest', '--plain-http', ...key, '--type', 'slsa-provenance', '--predicate', predicateFile, `${ref}@${image.digest}`]);
    const run = await runSignedImage(verifyArgs(`${ref}@${image.digest}`, '--require-attestation', 'slsa-provenance', '--provenance-source-branch', 'release'));
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('not the required "refs/heads/release"');
  });

  test('an image whose own signature fails is reported as before, and no attestation passes for it', async () => {
    const { image, ref } = await pushedImage('cli/require-image-unsigned');
    await runSignedImage(['attest', '--plain-http', ...key, '--type', 'slsa-provenance', '--predicate', predicateFile, `${ref}@${image.digest}`]);
    const run = await runSignedImage(verifyArgs(`${ref}@${image.digest}`, '--require-attestation', 'slsa-provenance'));
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/no signature is associated with/);
  });

  test.each([
    [['--provenance-builder', BUILDER], '--provenance-builder is a requirement of a SLSA provenance: add --require-attestation slsa-provenance'],
    [['--require-attestation', 'spdx', '--provenance-source-repository', REPO, '--provenance-source-branch', 'main'],
      '--provenance-source-repository, --provenance-source-branch are requirements of a SLSA provenance: add --require-attestation slsa-provenance'],
    [['--require-attestation', 'sbom'], "argument 'sbom' is invalid. Allowed choices are slsa-provenance, spdx, cyclonedx."],
  ])('%j is a usage error', async (args, message) => {
    const run = await runSignedImage(verifyArgs('localhost:5000/app@sha256:' + '0'.repeat(64), ...args));
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(message);
  });
});

describe('list and inspect show attestations as referrers of the image, with their own signatures', () => {
  async function attested(prefix: string) {
    const pushed = await signed(prefix);
    const { repository, image, ref } = pushed;
    expect((await runSignedImage(['attest', '--plain-http', ...key, '--type', 'slsa-provenance', '--predicate', predicateFile, `${ref}@${image.digest}`])).code).toBe(0);
    const [signature] = await listSignatures(repository, image);
    const [attestation] = await listAttestations(repository, image);
    const [attestationSignature] = await listSignatures(repository, attestation.descriptor);
    return { ...pushed, signature, attestation: attestation.descriptor, attestationSignature };
  }

  test('list: the image\'s signatures, then each attestation by artifactType with its signatures under it', async () => {
    const { image, ref, signature, attestation, attestationSignature } = await attested('cli/list-attested');

    const run = await runSignedImage(['list', '--plain-http', `${ref}@${image.digest}`]);

    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toBe([
      `${ref}@${image.digest}`,
      '├── application/vnd.cncf.notary.signature',
      `│   └── ${signature.digest}`,
      '└── application/vnd.in-toto+json',
      `    └── ${attestation.digest}`,
      '        └── application/vnd.cncf.notary.signature',
      `            └── ${attestationSignature.digest}`,
      '',
    ].join('\n'));
  });

  test('list: an unsigned attestation of an unsigned image is shown as such', async () => {
    const { repository, image, ref } = await pushedImage('cli/list-unsigned');
    const document = bytes(SPDX);
    const layer = await repository.pushBlob(document, AttestationMediaType.SPDX);
    await repository.pushBlob(new TextEncoder().encode('{}'), MediaType.OCI_EMPTY);
    const manifest = buildAttestationManifest({ type: 'spdx', subject: image, document: { mediaType: AttestationMediaType.SPDX, digest: layer.digest, size: document.byteLength }, created: new Date() });
    const attestation = (await repository.pushManifest(manifest, MediaType.OCI_MANIFEST)).descriptor;

    const run = await runSignedImage(['list', '--plain-http', `${ref}@${image.digest}`]);

    expect(run.code).toBe(0);
    expect(run.stdout).toBe(`${ref}@${image.digest}\n└── application/spdx+json\n    └── ${attestation.digest}\n        └── (unsigned)\n`);
  });

  test('inspect -o json: notation\'s keys, then "Attestations" with each attestation\'s signatures in the shape of "Signatures"', async () => {
    const { image, ref, signature, attestation, attestationSignature } = await attested('cli/inspect-attested');

    const run = await runSignedImage(['inspect', '--plain-http', '-o', 'json', `${ref}@${image.digest}`]);

    expect(run.code).toBe(0);
    const described = JSON.parse(run.stdout);
    expect(Object.keys(described)).toEqual(['mediaType', 'Signatures', 'Attestations']);
    expect(described.Signatures.map((s: { digest: string }) => s.digest)).toEqual([signature.digest]);
    expect(described.Attestations).toEqual([
      {
        type: 'slsa-provenance',
        artifactType: 'application/vnd.in-toto+json',
        mediaType: MediaType.OCI_MANIFEST,
        digest: attestation.digest,
        size: attestation.size,
        Signatures: [expect.objectContaining({
          mediaType: 'application/jose+json',
          digest: attestationSignature.digest,
          signatureAlgorithm: expect.any(String),
          certificates: expect.arrayContaining([expect.objectContaining({ issuedTo: chain.root.subject })]),
          signedArtifact: { mediaType: MediaType.OCI_MANIFEST, digest: attestation.digest, size: attestation.size },
        })],
      },
    ]);
    expect(Object.keys(described.Attestations[0].Signatures[0])).toEqual(Object.keys(described.Signatures[0]));
  });

  test('inspect (tree): the attestation and its signature\'s details under the image', async () => {
    const { image, ref, signature, attestation, attestationSignature } = await attested('cli/inspect-tree');

    const run = await runSignedImage(['inspect', '--plain-http', `${ref}@${image.digest}`]);

    expect(run.code).toBe(0);
    const lines = run.stdout.split('\n');
    expect(lines.slice(0, 4)).toEqual(['Inspecting all signatures for signed artifact', `${ref}@${image.digest}`, '├── application/vnd.cncf.notary.signature', `│   └── ${signature.digest}`]);
    const at = lines.indexOf('└── application/vnd.in-toto+json');
    expect(lines.slice(at, at + 5)).toEqual([
      '└── application/vnd.in-toto+json',
      `    └── ${attestation.digest}`,
      '        └── application/vnd.cncf.notary.signature',
      `            └── ${attestationSignature.digest}`,
      '                ├── media type: application/jose+json',
    ]);
    expect(run.stdout).toContain(`                └── signed artifact\n                    ├── media type: ${MediaType.OCI_MANIFEST}\n                    ├── digest: ${attestation.digest}\n`);
  });
});
