/**
 * copyImage against the real registry and the referrers-API test server: an index signed recursively, copied
 * with its signatures, verifies at every digest at the destination; a second run copies nothing.
 */
import { repositoryOn, useIndexFixture } from './index-fixture';
import { copyImage, CopyEvent, CopyImageError } from '../../lambda/notary/copy-image';
import { listSignatures } from '../../lambda/notary/list-signatures';
import { signImage } from '../../lambda/notary/sign-image';
import { signImageRecursively } from '../../lambda/notary/sign-index';
import { OciRepository } from '../../lambda/oci/repository';
import { LocalKeySigner } from '../../lambda/signers/local-key';
import { plainRegistry } from '../harness/env';
import { pushIndex, TestIndex } from '../util/images';
import { createChain } from '../util/pki';

const fixture = useIndexFixture();

async function signedIndex(repository: OciRepository): Promise<TestIndex> {
  const image = await pushIndex(repository, 'v1');
  await signImageRecursively({ repository, tagOrDigest: image.index.digest, signer: fixture.signer() });
  return image;
}

function actions(events: readonly CopyEvent[], kind: CopyEvent['kind']): string[] {
  return events.filter((event) => event.kind === kind).map((event) => event.action);
}

describe.each([
  ['distribution registry → referrers-API server (destination indexes by the referrers API)', () => plainRegistry(), () => fixture.referrers.host],
  ['referrers-API server → distribution registry (destination indexed by the tag schema)', () => fixture.referrers.host, () => plainRegistry()],
])('between registries: %s', (_name, from, to) => {
  test('every blob is downloaded and uploaded, every signature is copied, the copy verifies at every digest; a second run copies nothing', async () => {
    const source = repositoryOn(from(), 'copy/src');
    const destination = repositoryOn(to(), 'copy/dst');
    const { index, children } = await signedIndex(source);

    const events: CopyEvent[] = [];
    const result = await copyImage({ source, tagOrDigest: 'v1', destination, tag: 'v1', onProgress: (event) => events.push(event) });

    expect(result.target.digest).toBe(index.digest);
    // Two images' config and layer, the empty config and three envelopes.
    expect(actions(events, 'blob')).toEqual(Array(8).fill('copied'));
    expect(actions(events, 'manifest')).toEqual(['copied', 'copied', 'copied']);
    expect(actions(events, 'signature')).toEqual(['copied', 'copied', 'copied']);
    expect(actions(events, 'tag')).toEqual(['copied']);
    expect(result.mounted).toBe(0);
    for (const manifest of [index, ...children]) {
      const atSource = (await listSignatures(source, manifest)).map((s) => s.digest);
      expect((await listSignatures(destination, manifest)).map((s) => s.digest)).toEqual(atSource);
    }
    const verified = await fixture.verify(destination, 'v1');
    expect(verified.verified).toBe(true);
    expect(verified.outcomes.map((o) => o.digest)).toEqual([index.digest, children[0].digest, children[1].digest]);

    const again: CopyEvent[] = [];
    const second = await copyImage({ source, tagOrDigest: 'v1', destination, tag: 'v1', onProgress: (event) => again.push(event) });

    expect([second.copied, second.mounted, second.bytesUploaded]).toEqual([0, 0, 0]);
    expect(again.every((event) => event.action === 'skipped')).toBe(true);
  });
});

test('on the same registry, blobs are mounted from the source repository (POST ?mount=&from=), not uploaded', async () => {
  const source = repositoryOn(fixture.referrers.host, 'copy/mount-src');
  const destination = repositoryOn(fixture.referrers.host, 'copy/mount-dst');
  const { index } = await signedIndex(source);
  const before = fixture.referrers.requests.length;

  const result = await copyImage({ source, tagOrDigest: index.digest, destination });

  const requests = fixture.referrers.requests.slice(before);
  const destinationPath = destination.name.slice(fixture.referrers.host.length + 1);
  const sourcePath = source.name.slice(fixture.referrers.host.length + 1);
  expect(result.mounted).toBe(8);
  expect(result.bytesUploaded).toBe(0);
  expect(requests.filter((r) => r.startsWith(`POST /v2/${destinationPath}/blobs/uploads/?mount=sha256%3A`) && r.endsWith(`&from=${encodeURIComponent(sourcePath)}`))).toHaveLength(8);
  expect(requests.filter((r) => r.startsWith(`PUT /v2/${destinationPath}/blobs/`))).toEqual([]);
  expect((await fixture.verify(destination, index.digest)).verified).toBe(true);
});

test('an interrupted copy resumes: what the destination holds is skipped, the rest copied, and the copy verifies', async () => {
  const source = repositoryOn(plainRegistry(), 'copy/resume-src');
  const destination = repositoryOn(fixture.referrers.host, 'copy/resume-dst');
  const { index } = await signedIndex(source);
  let pushes = 0;
  const failing: OciRepository = Object.assign(Object.create(destination), {
    pushManifest: (...args: Parameters<OciRepository['pushManifest']>) => {
      if (++pushes === 4) throw new Error('connection reset');
      return destination.pushManifest(...args);
    },
  });

  await expect(copyImage({ source, tagOrDigest: index.digest, destination: failing })).rejects.toThrow('connection reset');
  expect((await fixture.verify(destination, index.digest)).verified).toBe(false);
  const resumed = await copyImage({ source, tagOrDigest: index.digest, destination });

  expect(resumed.skipped).toBeGreaterThan(0);
  expect((await fixture.verify(destination, index.digest)).verified).toBe(true);
});

test('a destination digest other than the source digest is refused before anything is copied', async () => {
  const source = repositoryOn(plainRegistry(), 'copy/digest-src');
  const destination = repositoryOn(plainRegistry(), 'copy/digest-dst');
  const { index, children } = await signedIndex(source);

  await expect(copyImage({ source, tagOrDigest: index.digest, destination, expectedDigest: children[0].digest })).rejects.toThrow(CopyImageError);
  expect(await destination.hasManifest(index.digest)).toBe(false);
  expect(await destination.hasBlob(children[0].digest)).toBe(false);
});

test('a signature added to a platform manifest after the copy is copied by the next run', async () => {
  const source = repositoryOn(plainRegistry(), 'copy/later-src');
  const destination = repositoryOn(plainRegistry(), 'copy/later-dst');
  const { index, children } = await signedIndex(source);
  await copyImage({ source, tagOrDigest: index.digest, destination });
  const other = await createChain();
  const otherSigner = new LocalKeySigner({ key: other.leaf.key, certificateChain: other.chain });
  const added = await signImage({ repository: source, tagOrDigest: children[1].digest, signer: otherSigner });

  const events: CopyEvent[] = [];
  await copyImage({ source, tagOrDigest: index.digest, destination, onProgress: (event) => events.push(event) });

  expect(events.filter((event) => event.action !== 'skipped').map((event) => [event.kind, event.digest])).toEqual([
    ['blob', expect.stringMatching(/^sha256:/)], // the new envelope; the empty config is there already
    ['signature', added.signatureDigest],
  ]);
  expect((await listSignatures(destination, children[1])).map((s) => s.digest)).toContain(added.signatureDigest);
});
