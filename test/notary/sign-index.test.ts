/**
 * signImageRecursively against the real registry and the referrers-API test server: an index and every
 * platform manifest it lists get their own signature; a partial failure says what is signed, a rerun finishes.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repositoryOn, useIndexFixture } from './index-fixture';
import { listSignatures } from '../../lambda/notary/list-signatures';
import { signImage } from '../../lambda/notary/sign-image';
import { PartialSigningError, signImageRecursively } from '../../lambda/notary/sign-index';
import { SignatureStore } from '../../lambda/notary/signature-store';
import { Signer } from '../../lambda/notary/signer';
import { OciLayoutRepository } from '../../lambda/oci/layout-repository';
import { OciRepository } from '../../lambda/oci/repository';
import { plainRegistry } from '../harness/env';
import { pushIndex } from '../util/images';

const fixture = useIndexFixture();

/** The signer, except that signing the payload of any of `failing` throws (a signer outage mid-way). */
function failingFor(signer: Signer, failing: readonly string[]): Signer {
  return {
    description: signer.description,
    trust: signer.trust,
    isSameIdentity: (envelope) => signer.isSameIdentity(envelope),
    sign: async (payload) => {
      const digest = JSON.parse(Buffer.from(payload).toString('utf8')).targetArtifact.digest as string;
      if (failing.includes(digest)) throw new Error(`signer unavailable for ${digest}`);
      return signer.sign(payload);
    },
  };
}

async function signatureSubjects(repository: OciRepository, digests: readonly string[]): Promise<Record<string, number>> {
  const store = new SignatureStore(repository);
  const counts: Record<string, number> = {};
  for (const digest of digests) counts[digest] = (await listSignatures(repository, await store.resolve(digest))).length;
  return counts;
}

describe.each([
  ['the distribution registry (referrers tag schema)', () => plainRegistry(), false],
  ['the referrers-API test server', () => fixture.referrers.host, true],
])('signImageRecursively on %s', (_name, registry, indexedByStore) => {
  test('signs the index and each platform manifest with its own signature, children first and the index last', async () => {
    const repository = repositoryOn(registry(), 'recursive/sign');
    const { index, children } = await pushIndex(repository, 'v1');

    const signed: string[] = [];
    const result = await signImageRecursively({ repository, tagOrDigest: 'v1', signer: fixture.signer(), onSigned: (r) => signed.push(r.target.digest) });

    expect(result.target.digest).toBe(index.digest);
    expect(signed).toEqual([children[0].digest, children[1].digest, index.digest]);
    expect(result.results.map((r) => [r.reused, r.referrersIndexedByStore])).toEqual(Array(3).fill([false, indexedByStore]));
    expect(await signatureSubjects(repository, [index.digest, ...children.map((c) => c.digest)])).toEqual({
      [index.digest]: 1,
      [children[0].digest]: 1,
      [children[1].digest]: 1,
    });
  });

  test('a second run reuses every signature and pushes nothing', async () => {
    const repository = repositoryOn(registry(), 'recursive/again');
    const { index, children } = await pushIndex(repository);
    const first = await signImageRecursively({ repository, tagOrDigest: index.digest, signer: fixture.signer() });

    const second = await signImageRecursively({ repository, tagOrDigest: index.digest, signer: fixture.signer() });

    expect(second.results.map((r) => r.reused)).toEqual([true, true, true]);
    expect(second.results.map((r) => r.signatureDigest)).toEqual(first.results.map((r) => r.signatureDigest));
    expect(Object.values(await signatureSubjects(repository, [index.digest, ...children.map((c) => c.digest)]))).toEqual([1, 1, 1]);
  });
});

describe('partial failure', () => {
  test('names the signed and unsigned digests, leaves the index unsigned, and a rerun signs only the rest', async () => {
    const repository = repositoryOn(plainRegistry(), 'recursive/partial');
    const { index, children } = await pushIndex(repository);

    const error = await signImageRecursively({ repository, tagOrDigest: index.digest, signer: failingFor(fixture.signer(), [children[1].digest]) })
      .then(() => undefined, (e: unknown) => e);

    expect(error).toBeInstanceOf(PartialSigningError);
    const partial = error as PartialSigningError;
    expect(partial.signed.map((r) => r.target.digest)).toEqual([children[0].digest]);
    expect(partial.failed.map((f) => f.digest)).toEqual([children[1].digest, index.digest]);
    expect(partial.message).toContain(`signed 1 of 3 manifests of index ${index.digest}`);
    expect(partial.message).toContain(`${children[1].digest}: signer unavailable for ${children[1].digest}`);
    expect(await signatureSubjects(repository, [index.digest, children[0].digest, children[1].digest])).toEqual({
      [index.digest]: 0,
      [children[0].digest]: 1,
      [children[1].digest]: 0,
    });

    const rerun = await signImageRecursively({ repository, tagOrDigest: index.digest, signer: fixture.signer() });

    expect(rerun.results.map((r) => [r.target.digest, r.reused])).toEqual([
      [children[0].digest, true],
      [children[1].digest, false],
      [index.digest, false],
    ]);
  });

  test('a child missing from an OCI layout (which does not refuse such an index) is reported and the rest is still signed', async () => {
    const repository = new OciLayoutRepository(mkdtempSync(join(tmpdir(), 'recursive-missing-')));
    const { children } = await pushIndex(repository);
    const missing = { mediaType: children[0].mediaType, digest: `sha256:${'0'.repeat(64)}`, size: 10 };
    const bytes = new TextEncoder().encode(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [missing, children[1]] }));
    const { descriptor: index } = await repository.pushManifest(bytes, 'application/vnd.oci.image.index.v1+json');

    const signing = signImageRecursively({ repository, tagOrDigest: index.digest, signer: fixture.signer() });
    const error = (await signing.catch((e: unknown) => e)) as PartialSigningError;

    expect(error).toBeInstanceOf(PartialSigningError);
    expect(error.signed.map((r) => r.target.digest)).toEqual([children[1].digest]);
    expect(error.failed.map((f) => f.digest)).toEqual([missing.digest, index.digest]);
  });
});

test('without recursion signImage signs the index alone, as notation sign does', async () => {
  const repository = repositoryOn(plainRegistry(), 'recursive/flat');
  const { index, children } = await pushIndex(repository);

  await signImage({ repository, tagOrDigest: index.digest, signer: fixture.signer() });

  expect(await signatureSubjects(repository, [index.digest, children[0].digest, children[1].digest])).toEqual({
    [index.digest]: 1,
    [children[0].digest]: 0,
    [children[1].digest]: 0,
  });
});

test('a single manifest is signed alone', async () => {
  const repository = repositoryOn(plainRegistry(), 'recursive/single');
  const { children } = await pushIndex(repository);

  const result = await signImageRecursively({ repository, tagOrDigest: children[0].digest, signer: fixture.signer() });

  expect(result.results.map((r) => r.target.digest)).toEqual([children[0].digest]);
});
