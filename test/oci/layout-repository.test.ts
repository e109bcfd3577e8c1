import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DigestMismatchError, NotFoundError } from '../../lambda/oci/errors';
import { OciLayoutRepository, REF_NAME_ANNOTATION } from '../../lambda/oci/layout-repository';
import { MediaType } from '../../lambda/oci/media-types';
import { createRandomImage, pushImage, pushReferrer } from '../util/images';

const VECTOR = join(__dirname, '..', 'fixtures', 'notation-go', 'internal', 'testdata', 'oci-layout');
const ALPINE = 'sha256:19dbd2e48e921426ee8ace4dc892edfb2ecdc1d1a72d5416c83670c30acecef0';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'oci-layout-test-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('OciLayoutRepository', () => {
  test('a new layout gets oci-layout and index.json; blobs and a tagged manifest round trip', async () => {
    const repo = new OciLayoutRepository(join(dir, 'layout'));
    const image = createRandomImage();
    const pushed = await pushImage(repo, image, 'v1');
    expect(JSON.parse(readFileSync(join(dir, 'layout', 'oci-layout'), 'utf8'))).toEqual({ imageLayoutVersion: '1.0.0' });
    const index = JSON.parse(readFileSync(join(dir, 'layout', 'index.json'), 'utf8'));
    expect(index.manifests).toEqual([{ ...image.manifestDescriptor, annotations: { [REF_NAME_ANNOTATION]: 'v1' } }]);
    expect(await repo.resolve('v1')).toEqual(pushed);
    expect(await repo.resolve(pushed.digest)).toEqual(pushed);
    expect(Buffer.from((await repo.fetchManifest('v1')).bytes)).toEqual(Buffer.from(image.manifest));
    expect(Buffer.from(await repo.fetchBlob(image.layerDescriptor))).toEqual(Buffer.from(image.layer));
    // Writes leave no temp files behind.
    expect(readdirSync(join(dir, 'layout')).sort()).toEqual(['blobs', 'index.json', 'oci-layout']);
  });

  test('re-tagging moves the tag; untagged manifests are listed once', async () => {
    const repo = new OciLayoutRepository(dir);
    const first = await pushImage(repo, createRandomImage(), 'v1');
    const second = await pushImage(repo, createRandomImage(), 'v1');
    const untagged = await pushImage(repo, createRandomImage());
    await pushImage(repo, createRandomImage(), 'v2');
    expect((await repo.resolve('v1')).digest).toBe(second.digest);
    expect(await repo.tags()).toEqual(['v1', 'v2']);
    const index = JSON.parse(readFileSync(join(dir, 'index.json'), 'utf8'));
    expect(index.manifests.filter((m: { digest: string }) => m.digest === untagged.digest)).toHaveLength(1);
    expect(index.manifests.some((m: { digest: string }) => m.digest === first.digest)).toBe(false);
  });

  test('referrers are found by scanning manifests for the subject, filtered by artifactType', async () => {
    const repo = new OciLayoutRepository(dir);
    const subject = await pushImage(repo, createRandomImage(), 'v1');
    const other = await pushImage(repo, createRandomImage(), 'v2');
    const signatures = await Promise.all([pushReferrer(repo, subject), pushReferrer(repo, subject)]);
    await pushReferrer(repo, subject, { artifactType: 'application/vnd.example.sbom' });
    await pushReferrer(repo, other);
    expect(signatures.every((s) => s.referrersIndexedByStore)).toBe(true);
    const listed = await repo.referrers(subject, MediaType.NOTARY_SIGNATURE);
    expect(new Set(listed.map((d) => d.digest))).toEqual(new Set(signatures.map((s) => s.descriptor.digest)));
    expect(listed[0].artifactType).toBe(MediaType.NOTARY_SIGNATURE);
    expect(await repo.referrers(subject)).toHaveLength(3);
  });

  test('a tampered blob is refused by its digest', async () => {
    const repo = new OciLayoutRepository(dir);
    const image = createRandomImage();
    await pushImage(repo, image, 'v1');
    const hex = image.manifestDescriptor.digest.split(':')[1];
    writeFileSync(join(dir, 'blobs', 'sha256', hex), Buffer.from(image.manifest).toString().replace('amd64', 'arm64').replace('"layers"', '"layers" '));
    await expect(repo.fetchManifest('v1')).rejects.toThrow(/index.json says|digest mismatch/);
    writeFileSync(join(dir, 'blobs', 'sha256', hex), Buffer.from(image.manifest).toString().replace('sha256', 'sha257'));
    await expect(repo.fetchManifest(image.manifestDescriptor.digest)).rejects.toThrow(DigestMismatchError);
  });

  test('an unknown tag is a NotFoundError naming the layout', async () => {
    const repo = new OciLayoutRepository(dir);
    await pushImage(repo, createRandomImage(), 'v1');
    await expect(repo.resolve('nope')).rejects.toThrow(NotFoundError);
    await expect(repo.resolve('nope')).rejects.toThrow(`manifest ${dir}:nope was not found`);
  });

  test('reads the notation-go vector layout', async () => {
    cpSync(VECTOR, join(dir, 'vector'), { recursive: true });
    const repo = new OciLayoutRepository(join(dir, 'vector'));
    const descriptor = await repo.resolve('v2');
    expect(descriptor).toEqual({ mediaType: MediaType.OCI_MANIFEST, digest: ALPINE, size: 481 });
    const manifest = JSON.parse(Buffer.from((await repo.fetchManifest(ALPINE)).bytes).toString());
    const config = await repo.fetchBlob(manifest.config);
    expect(JSON.parse(Buffer.from(config).toString()).architecture).toBe('amd64');
    expect(await repo.referrers(descriptor)).toEqual([]);
    // A signature pushed next to it is listed as its referrer.
    const signature = await pushReferrer(repo, descriptor);
    expect(await repo.referrers(descriptor, MediaType.NOTARY_SIGNATURE)).toEqual([
      expect.objectContaining({ digest: signature.descriptor.digest, artifactType: MediaType.NOTARY_SIGNATURE }),
    ]);
    expect((await repo.resolve('v2')).digest).toBe(ALPINE);
  });
});
