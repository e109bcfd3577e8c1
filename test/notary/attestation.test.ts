/**
 * Signed attestations against the real registry: an SLSA provenance or SBOM attached as an OCI 1.1 artifact and
 * signed with a Notary signature passes a requirement only when it is there, signed by a trusted signer over
 * exactly its content, about this image, and says what is required.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AttestationMediaType,
  attestationTypeOf,
  buildAttestationManifest,
  buildProvenanceStatement,
  InvalidAttestationError,
  parseAttestationManifest,
} from '../../lambda/notary/attestation';
import { attachAttestation } from '../../lambda/notary/attestation-attach';
import { listAttestations } from '../../lambda/notary/attestation-list';
import { verifyAttestation, VerifyAttestationRequest } from '../../lambda/notary/attestation-verify';
import { listSignatures } from '../../lambda/notary/list-signatures';
import { signImage } from '../../lambda/notary/sign-image';
import { sha256Digest } from '../../lambda/oci/digest';
import { OciLayoutRepository } from '../../lambda/oci/layout-repository';
import { EMPTY_JSON_DIGEST, MediaType } from '../../lambda/oci/media-types';
import { RegistryRepository } from '../../lambda/oci/registry-repository';
import { OciRepository } from '../../lambda/oci/repository';
import { Descriptor } from '../../lambda/oci/types';
import { LocalKeySigner } from '../../lambda/signers/local-key';
import { plainRegistry } from '../harness/env';
import { ReferrersServer, startReferrersServer } from '../harness/referrers-server';
import { createRandomImage, pushImage } from '../util/images';
import { createChain, TestChain } from '../util/pki';

const BUILDER = 'https://codebuild.us-east-1.amazonaws.com/projects/app-build';
const REPO = 'https://github.com/acme/app';
const COMMIT = 'a'.repeat(40);

/** A SLSA Provenance v1 predicate, as a build would write it. */
function provenance(overrides: { builderId?: string; uri?: string; commit?: string } = {}): Record<string, unknown> {
  return {
    buildDefinition: {
      buildType: 'https://github.com/cdk-signed-image-pipeline/codebuild/v1',
      externalParameters: { source: REPO },
      internalParameters: {},
      resolvedDependencies: [{ uri: overrides.uri ?? `git+${REPO}@refs/heads/main`, digest: { gitCommit: overrides.commit ?? COMMIT } }],
    },
    runDetails: { builder: { id: overrides.builderId ?? BUILDER }, metadata: { invocationId: 'build-1' } },
  };
}

const SPDX = { spdxVersion: 'SPDX-2.3', dataLicense: 'CC0-1.0', SPDXID: 'SPDXRef-DOCUMENT', name: 'app', packages: [] };
const CYCLONEDX = { bomFormat: 'CycloneDX', specVersion: '1.5', version: 1, components: [] };

const bytes = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

let trusted: TestChain;
let untrusted: TestChain;
let signer: LocalKeySigner;
let otherSigner: LocalKeySigner;
let referrersServer: ReferrersServer;

beforeAll(async () => {
  [trusted, untrusted] = await Promise.all([createChain(), createChain()]);
  signer = new LocalKeySigner({ key: trusted.leaf.key, certificateChain: trusted.chain });
  otherSigner = new LocalKeySigner({ key: untrusted.leaf.key, certificateChain: untrusted.chain });
  referrersServer = await startReferrersServer({ upstream: plainRegistry() });
});
afterAll(() => referrersServer.close());

function policy(level: string = 'strict') {
  return {
    version: '1.0',
    trustPolicies: [{ name: 'attestations', registryScopes: ['*'], signatureVerification: { level }, trustStores: ['ca:acme'], trustedIdentities: ['*'] }],
  } as never;
}

async function pushedImage(prefix: string, host = plainRegistry()): Promise<{ repository: RegistryRepository; image: Descriptor }> {
  const repository = new RegistryRepository({ registry: host, repository: `${prefix}-${randomUUID().slice(0, 8)}`, plainHttp: true });
  return { repository, image: await pushImage(repository, createRandomImage(), 'v1') };
}

function verify(repository: OciRepository, image: Descriptor, fields: Partial<VerifyAttestationRequest> = {}) {
  return verifyAttestation({
    repository,
    tagOrDigest: image.digest,
    displayReference: `${repository.name}@${image.digest}`,
    scope: repository.name,
    policy: policy(),
    stores: new Map([['ca:acme', [trusted.root.der]]]),
    type: 'slsa-provenance',
    ...fields,
  });
}

/** Pushes an attestation manifest of `document` with subject `subject`, unsigned. */
async function pushUnsigned(repository: OciRepository, subject: Descriptor, document: Uint8Array, mediaType: string = AttestationMediaType.IN_TOTO) {
  const layer = await repository.pushBlob(document, mediaType);
  await repository.pushBlob(new TextEncoder().encode('{}'), MediaType.OCI_EMPTY);
  const type = attestationTypeOf(mediaType)!;
  const described = { mediaType, digest: layer.digest, size: document.byteLength };
  const manifest = buildAttestationManifest({ type, subject, document: described, created: new Date() });
  return (await repository.pushManifest(manifest, MediaType.OCI_MANIFEST)).descriptor;
}

describe('attaching', () => {
  test('pushes the in-toto statement as an OCI 1.1 artifact (empty config, one layer, subject the image) and signs that manifest', async () => {
    const { repository, image } = await pushedImage('attest/attach');
    const result = await attachAttestation({ repository, tagOrDigest: 'v1', type: 'slsa-provenance', document: bytes(provenance()), signer });

    expect(result.image).toEqual(image);
    const { bytes: manifestBytes } = await repository.fetchManifest(result.attestation.digest);
    const manifest = JSON.parse(Buffer.from(manifestBytes).toString());
    expect(manifest).toMatchObject({
      schemaVersion: 2,
      mediaType: MediaType.OCI_MANIFEST,
      artifactType: 'application/vnd.in-toto+json',
      config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: EMPTY_JSON_DIGEST, size: 2, data: 'e30=' },
      layers: [{ mediaType: 'application/vnd.in-toto+json' }],
      subject: { mediaType: image.mediaType, digest: image.digest, size: image.size },
    });
    expect(manifest.annotations['org.opencontainers.image.created']).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    const statement = JSON.parse(Buffer.from(await repository.fetchBlob(manifest.layers[0])).toString());
    expect(statement).toEqual({
      _type: 'https://in-toto.io/Statement/v1',
      subject: [{ name: repository.name, digest: { sha256: image.digest.slice('sha256:'.length) } }],
      predicateType: 'https://slsa.dev/provenance/v1',
      predicate: provenance(),
    });
    expect((await listAttestations(repository, image)).map((listed) => listed.descriptor.digest)).toEqual([result.attestation.digest]);
    // The Notary signature is a referrer of the attestation, not of the image.
    expect((await listSignatures(repository, result.attestation)).map((s) => s.digest)).toEqual([result.signature.signatureDigest]);
    expect(await listSignatures(repository, image)).toEqual([]);
  });

  test('an SBOM is attached byte for byte with its own artifactType', async () => {
    const { repository, image } = await pushedImage('attest/sbom');
    const document = new TextEncoder().encode(`${JSON.stringify(SPDX, undefined, 2)}\n`);
    const result = await attachAttestation({ repository, tagOrDigest: image.digest, type: 'spdx', document, signer });
    const listed = await listAttestations(repository, image, 'spdx');

    expect(listed).toEqual([{ type: 'spdx', descriptor: expect.objectContaining({ digest: result.attestation.digest, artifactType: 'application/spdx+json' }) }]);
    const manifest = JSON.parse(Buffer.from((await repository.fetchManifest(result.attestation.digest)).bytes).toString());
    expect(manifest.layers[0]).toMatchObject({ mediaType: 'application/spdx+json', digest: sha256Digest(document), size: document.byteLength });
  });

  test.each([
    ['a predicate without runDetails.builder.id', 'slsa-provenance', { buildDefinition: { buildType: 'x' }, runDetails: { builder: {} } }, /runDetails\.builder\.id/],
    ['a predicate without buildDefinition', 'slsa-provenance', { runDetails: { builder: { id: BUILDER } } }, /buildDefinition/],
    ['a whole statement instead of its predicate', 'slsa-provenance', { _type: 'https://in-toto.io/Statement/v1', predicate: provenance() }, /pass its predicate only/],
    ['a CycloneDX document as SPDX', 'spdx', CYCLONEDX, /spdxVersion/],
    ['an SPDX document as CycloneDX', 'cyclonedx', SPDX, /bomFormat/],
  ] as const)('%s is refused before anything is pushed', async (_name, type, document, message) => {
    const { repository, image } = await pushedImage('attest/refused');
    await expect(attachAttestation({ repository, tagOrDigest: image.digest, type, document: bytes(document), signer })).rejects.toThrow(message);
    expect(await listAttestations(repository, image)).toEqual([]);
  });
});

describe('a provenance requirement', () => {
  test('passes for a signed provenance by the required builder from the required source, and names it', async () => {
    const { repository, image } = await pushedImage('attest/passes');
    const attached = await attachAttestation({ repository, tagOrDigest: image.digest, type: 'slsa-provenance', document: bytes(provenance()), signer });

    const result = await verify(repository, image, {
      requirements: { builderId: BUILDER, sourceRepository: `${REPO}.git`, sourceRevision: COMMIT, sourceBranch: 'main' },
    });

    expect(result.failure).toBeUndefined();
    expect(result).toMatchObject({
      verified: true,
      digest: image.digest,
      attestationDigest: attached.attestation.digest,
      signatureDigest: attached.signature.signatureDigest,
      provenance: { builderId: BUILDER, sources: [{ repository: REPO, ref: 'refs/heads/main', revision: COMMIT }] },
    });
  });

  test('passes through the referrers API as through the tag schema', async () => {
    const { repository, image } = await pushedImage('attest/api', referrersServer.host);
    await attachAttestation({ repository, tagOrDigest: image.digest, type: 'slsa-provenance', document: bytes(provenance()), signer });

    expect((await verify(repository, image, { requirements: { builderId: BUILDER } })).verified).toBe(true);
    expect(repository.referrersApiSupport).toBe('supported');
  });

  test('fails as missing when no provenance is attached, even with a signed SBOM', async () => {
    const { repository, image } = await pushedImage('attest/missing');
    await attachAttestation({ repository, tagOrDigest: image.digest, type: 'spdx', document: bytes(SPDX), signer });
    await signImage({ repository, tagOrDigest: image.digest, signer });

    const result = await verify(repository, image);

    expect(result.verified).toBe(false);
    expect(result.failure?.reason).toBe('missing');
    expect(result.failure?.message).toBe(`slsa-provenance attestation required: no slsa-provenance attestation (artifactType application/vnd.in-toto+json) is attached to ${repository.name}@${image.digest}`);
  });

  test('fails as unsigned for a provenance without a Notary signature', async () => {
    const { repository, image } = await pushedImage('attest/unsigned');
    const attestation = await pushUnsigned(repository, image, bytes(buildProvenanceStatement(image, repository.name, provenance())));

    const result = await verify(repository, image, { requirements: { builderId: BUILDER } });

    expect(result.verified).toBe(false);
    expect(result.failure?.reason).toBe('unsigned');
    expect(result.failure?.message).toContain(`${attestation.digest}: it is not signed: signature verification failed: no signature is associated with`);
  });

  test('fails as tampered when a signature of one provenance is attached to another (the signed digest differs)', async () => {
    const { repository, image } = await pushedImage('attest/tampered');
    const genuine = await attachAttestation({ repository, tagOrDigest: image.digest, type: 'slsa-provenance', document: bytes(provenance({ builderId: 'https://other.example/builder' })), signer });
    // The attacker's provenance claims the required builder, and borrows the genuine signature's envelope.
    const forged = await pushUnsigned(repository, image, bytes(buildProvenanceStatement(image, repository.name, provenance())));
    const signature = JSON.parse(Buffer.from((await repository.fetchManifest(genuine.signature.signatureDigest)).bytes).toString());
    signature.subject = { mediaType: forged.mediaType, digest: forged.digest, size: forged.size };
    await repository.pushManifest(bytes(signature), MediaType.OCI_MANIFEST);

    const result = await verify(repository, image, { requirements: { builderId: BUILDER } });

    expect(result.verified).toBe(false);
    const attempt = result.attempts.find((a) => a.digest === forged.digest);
    expect(attempt?.reason).toBe('tampered');
    expect(attempt?.message).toMatch(/^its signature does not match it \(integrity\): /);
    expect(result.attempts.find((a) => a.digest === genuine.attestation.digest)?.reason).toBe('requirement');
  });

  test('fails as tampered when the store hands out another document than the signed manifest names', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'attest-layout-')), 'app');
    const repository = new OciLayoutRepository(dir);
    const image = await pushImage(repository, createRandomImage(), 'v1');
    const attached = await attachAttestation({ repository, tagOrDigest: image.digest, type: 'slsa-provenance', document: bytes(provenance()), signer });
    const manifest = JSON.parse(Buffer.from((await repository.fetchManifest(attached.attestation.digest)).bytes).toString());
    const blobPath = join(dir, 'blobs', 'sha256', manifest.layers[0].digest.slice('sha256:'.length));
    const statement = JSON.parse(readFileSync(blobPath, 'utf8'));
    statement.predicate.runDetails.builder.id = 'https://evil.example/builder';
    writeFileSync(blobPath, JSON.stringify(statement));

    const result = await verify(repository, image, { scope: 'local/app', requirements: { builderId: BUILDER } });

    expect(result.verified).toBe(false);
    expect(result.failure?.reason).toBe('tampered');
    expect(result.failure?.message).toContain('the document is not the one the signed attestation manifest names: ');
  });

  test('fails as tampered when the store hands out a document of the same size but other bytes', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'attest-layout-')), 'app');
    const repository = new OciLayoutRepository(dir);
    const image = await pushImage(repository, createRandomImage(), 'v1');
    const attached = await attachAttestation({ repository, tagOrDigest: image.digest, type: 'slsa-provenance', document: bytes(provenance({ builderId: 'https://evil.example/builderX' })), signer });
    const manifest = JSON.parse(Buffer.from((await repository.fetchManifest(attached.attestation.digest)).bytes).toString());
    const blobPath = join(dir, 'blobs', 'sha256', manifest.layers[0].digest.slice('sha256:'.length));
    writeFileSync(blobPath, readFileSync(blobPath, 'utf8').replace('https://evil.example/builderX', BUILDER.slice(0, 'https://evil.example/builderX'.length)));

    const result = await verify(repository, image, { scope: 'local/app' });

    expect(result.failure?.reason).toBe('tampered');
    expect(result.failure?.message).toContain('the document is not the one the signed attestation manifest names: digest mismatch');
  });

  test('fails as untrusted for a provenance signed by a signer the trust policy does not trust', async () => {
    const { repository, image } = await pushedImage('attest/untrusted');
    await attachAttestation({ repository, tagOrDigest: image.digest, type: 'slsa-provenance', document: bytes(provenance()), signer: otherSigner });

    const result = await verify(repository, image, { requirements: { builderId: BUILDER } });

    expect(result.verified).toBe(false);
    expect(result.failure?.reason).toBe('untrusted');
    expect(result.failure?.message).toContain('it is not signed by a trusted signer (authenticity): ');
    expect(result.failure?.message).toContain('signature is not produced by a trusted signer');
  });

  test('fails as unsigned under a trust policy of level skip, which verifies no signature', async () => {
    const { repository, image } = await pushedImage('attest/skip');
    await attachAttestation({ repository, tagOrDigest: image.digest, type: 'slsa-provenance', document: bytes(provenance()), signer: otherSigner });

    const result = await verify(repository, image, { policy: { version: '1.0', trustPolicies: [{ name: 'skip', registryScopes: ['*'], signatureVerification: { level: 'skip' } }] } as never });

    expect(result.verified).toBe(false);
    expect(result.failure?.reason).toBe('unsigned');
    expect(result.failure?.message).toContain('level "skip", which verifies no signature');
  });

  test.each([
    ['another builder', { builderId: 'https://evil.example/builder' }, { builderId: BUILDER },
      `runDetails.builder.id is "https://evil.example/builder", not the required builder "${BUILDER}"`],
    ['another source repository', { uri: 'git+https://github.com/evil/app@refs/heads/main' }, { sourceRepository: REPO },
      `source repository: no buildDefinition.resolvedDependencies entry is from "${REPO}" (found "https://github.com/evil/app")`],
    ['another revision', { commit: 'b'.repeat(40) }, { sourceRepository: REPO, sourceRevision: COMMIT },
      `source revision: the source was built at "${'b'.repeat(40)}", not the required "${COMMIT}"`],
    ['another branch', { uri: `git+${REPO}@refs/heads/feature` }, { sourceRepository: REPO, sourceBranch: 'main' },
      'source branch: the source ref is "refs/heads/feature", not the required "refs/heads/main"'],
  ])('fails for a signed provenance from %s, naming the field', async (_name, made, required, message) => {
    const { repository, image } = await pushedImage('attest/mismatch');
    await attachAttestation({ repository, tagOrDigest: image.digest, type: 'slsa-provenance', document: bytes(provenance(made)), signer });

    const result = await verify(repository, image, { requirements: required });

    expect(result.verified).toBe(false);
    expect(result.failure?.reason).toBe('requirement');
    expect(result.failure?.message).toContain(`signed provenance does not meet the requirement: ${message}`);
  });

  test('fails as invalid for a signed statement about another image', async () => {
    const { repository, image } = await pushedImage('attest/other-subject');
    const other = await pushImage(repository, createRandomImage());
    const attestation = await pushUnsigned(repository, image, bytes(buildProvenanceStatement(other, repository.name, provenance())));
    await signImage({ repository, tagOrDigest: attestation.digest, signer });

    const result = await verify(repository, image, { requirements: { builderId: BUILDER } });

    expect(result.verified).toBe(false);
    expect(result.failure?.reason).toBe('invalid');
    expect(result.failure?.message).toContain(`the in-toto statement's subject does not name the image ${image.digest}`);
  });

  test('one passing provenance among failing ones is enough', async () => {
    const { repository, image } = await pushedImage('attest/one-of');
    await attachAttestation({ repository, tagOrDigest: image.digest, type: 'slsa-provenance', document: bytes(provenance()), signer: otherSigner });
    const good = await attachAttestation({ repository, tagOrDigest: image.digest, type: 'slsa-provenance', document: bytes(provenance()), signer });

    const result = await verify(repository, image, { requirements: { builderId: BUILDER } });

    expect(result.verified).toBe(true);
    expect(result.attestationDigest).toBe(good.attestation.digest);
  });
});

describe('an SBOM requirement', () => {
  test.each(['spdx', 'cyclonedx'] as const)('%s: passes when a signed one is attached, and is missing otherwise', async (type) => {
    const { repository, image } = await pushedImage(`attest/${type}`);
    await attachAttestation({ repository, tagOrDigest: image.digest, type: 'slsa-provenance', document: bytes(provenance()), signer });
    const before = await verify(repository, image, { type });
    await attachAttestation({ repository, tagOrDigest: image.digest, type, document: bytes(type === 'spdx' ? SPDX : CYCLONEDX), signer });
    const after = await verify(repository, image, { type });

    expect(before.failure?.reason).toBe('missing');
    expect(after).toMatchObject({ verified: true, type });
  });

  test('an unsigned SBOM does not pass', async () => {
    const { repository, image } = await pushedImage('attest/sbom-unsigned');
    await pushUnsigned(repository, image, bytes(CYCLONEDX), AttestationMediaType.CYCLONEDX);

    expect((await verify(repository, image, { type: 'cyclonedx' })).failure?.reason).toBe('unsigned');
  });
});

describe('the attestation manifest check', () => {
  const image: Descriptor = { mediaType: MediaType.OCI_MANIFEST, digest: `sha256:${'1'.repeat(64)}`, size: 10 };
  const document: Descriptor = { mediaType: AttestationMediaType.IN_TOTO, digest: `sha256:${'2'.repeat(64)}`, size: 20 };
  const manifest = (changes: Record<string, unknown> = {}) => {
    const parsed = JSON.parse(Buffer.from(buildAttestationManifest({ type: 'slsa-provenance', subject: image, document, created: new Date() })).toString());
    return bytes({ ...parsed, ...changes });
  };

  test('accepts the manifest attach writes', () => {
    expect(parseAttestationManifest(manifest(), 'slsa-provenance', image).document).toEqual(document);
  });

  test.each([
    ['another subject', { subject: { ...image, digest: `sha256:${'3'.repeat(64)}` } }, /subject sha256:3+ .* is not the image/],
    ['no subject', { subject: undefined }, /subject is missing/],
    ['another artifactType', { artifactType: AttestationMediaType.SPDX }, /artifactType is "application\/spdx\+json"/],
    ['a config that is not empty', { config: { mediaType: MediaType.OCI_CONFIG, digest: EMPTY_JSON_DIGEST, size: 2 } }, /config\.mediaType/],
    ['two layers', { layers: [document, document] }, /exactly one layer/],
    ['a layer of another media type', { layers: [{ ...document, mediaType: MediaType.JWS }] }, /layers\[0\]\.mediaType/],
  ])('refuses %s', (_name, changes, message) => {
    expect(() => parseAttestationManifest(manifest(changes), 'slsa-provenance', image)).toThrow(InvalidAttestationError);
    expect(() => parseAttestationManifest(manifest(changes), 'slsa-provenance', image)).toThrow(message);
  });
});
