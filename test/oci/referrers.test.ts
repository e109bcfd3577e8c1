import { randomBytes } from 'node:crypto';
import { MediaType } from '../../lambda/oci/media-types';
import { referrersTag } from '../../lambda/oci/referrers';
import { RegistryRepository } from '../../lambda/oci/registry-repository';
import { plainRegistry } from '../harness/env';
import { ReferrersServer, startReferrersServer } from '../harness/referrers-server';
import { createRandomImage, pushImage, pushReferrer, referrerManifest } from '../util/images';

const HTTP = { retries: 0, timeoutMs: 5000 };
/** Concurrent writes make the distribution registry answer 500 now and then: retried, with tiny delays. */
const RETRYING_HTTP = { retries: 4, baseDelayMs: 2, maxDelayMs: 20, timeoutMs: 5000 };
const FAST_INDEX = { settleMs: 5, baseDelayMs: 2 };
const repoName = () => `oci-test/ref-${randomBytes(4).toString('hex')}`;
const SBOM = 'application/vnd.example.sbom';

describe('referrers tag schema on the distribution registry (no referrers API)', () => {
  test('a pushed referrer is added to the sha256-<hex> index and listed, filtered by artifactType', async () => {
    const repo = new RegistryRepository({
      registry: plainRegistry(), repository: repoName(), plainHttp: true, http: HTTP, referrersIndex: FAST_INDEX,
    });
    const subject = await pushImage(repo, createRandomImage(), 'v1');
    const signature = await pushReferrer(repo, subject, { annotations: { 'io.cncf.notary.x509chain.thumbprint#S256': '["abc"]' } });
    expect(signature.referrersIndexedByStore).toBe(false);
    const sbom = await pushReferrer(repo, subject, { artifactType: SBOM });

    const all = await repo.referrers(subject);
    expect(all.map((d) => d.digest)).toEqual([signature.descriptor.digest, sbom.descriptor.digest]);
    expect(repo.referrersApiSupport).toBe('unsupported');
    const signatures = await repo.referrers(subject, MediaType.NOTARY_SIGNATURE);
    expect(signatures).toEqual([{
      ...signature.descriptor,
      artifactType: MediaType.NOTARY_SIGNATURE,
      annotations: { 'io.cncf.notary.x509chain.thumbprint#S256': '["abc"]' },
    }]);

    const index = await repo.fetchManifest(referrersTag(subject.digest));
    expect(index.descriptor.mediaType).toBe(MediaType.OCI_INDEX);
    expect(JSON.parse(Buffer.from(index.bytes).toString()).manifests).toHaveLength(2);
  });

  test('pushing the same referrer twice adds no duplicate', async () => {
    const repo = new RegistryRepository({
      registry: plainRegistry(), repository: repoName(), plainHttp: true, http: HTTP, referrersIndex: FAST_INDEX,
    });
    const subject = await pushImage(repo, createRandomImage(), 'v1');
    const layer = await repo.pushBlob(new Uint8Array([1, 2, 3]), MediaType.JWS);
    await repo.pushBlob(new TextEncoder().encode('{}'), MediaType.OCI_EMPTY);
    const bytes = referrerManifest(subject, layer);
    await repo.pushManifest(bytes, MediaType.OCI_MANIFEST);
    await repo.pushManifest(bytes, MediaType.OCI_MANIFEST);
    expect(await repo.referrers(subject)).toHaveLength(1);
  });

  test('no referrers is an empty list', async () => {
    const repo = new RegistryRepository({ registry: plainRegistry(), repository: repoName(), plainHttp: true, http: HTTP });
    const subject = await pushImage(repo, createRandomImage(), 'v1');
    expect(await repo.referrers(subject, MediaType.NOTARY_SIGNATURE)).toEqual([]);
  });

  test('20 concurrent referrer pushes for one subject lose no entry', async () => {
    const repository = repoName();
    const setup = new RegistryRepository({ registry: plainRegistry(), repository, plainHttp: true, http: HTTP });
    const subject = await pushImage(setup, createRandomImage(), 'v1');
    // Separate instances, as separate signers would be.
    const pushes = Array.from({ length: 20 }, () =>
      pushReferrer(
        new RegistryRepository({ registry: plainRegistry(), repository, plainHttp: true, http: RETRYING_HTTP, referrersIndex: FAST_INDEX }),
        subject,
      ));
    const pushed = await Promise.all(pushes);
    const listed = await setup.referrers(subject, MediaType.NOTARY_SIGNATURE);
    expect(new Set(listed.map((d) => d.digest))).toEqual(new Set(pushed.map((p) => p.descriptor.digest)));
    expect(listed).toHaveLength(20);
  });
});

describe('referrers API (loopback server in front of the distribution registry)', () => {
  let server: ReferrersServer;
  beforeAll(async () => {
    server = await startReferrersServer({ upstream: plainRegistry(), pageSize: 2 });
  });
  afterAll(async () => server?.close());

  test('the registry indexes pushed referrers (OCI-Subject), and listing follows Link pages with server filtering', async () => {
    const repository = repoName();
    const repo = new RegistryRepository({ registry: server.host, repository, plainHttp: true, http: HTTP });
    const subject = await pushImage(repo, createRandomImage(), 'v1');
    const signatures = [];
    for (let i = 0; i < 5; i++) signatures.push(await pushReferrer(repo, subject));
    await pushReferrer(repo, subject, { artifactType: SBOM });
    expect(signatures.every((s) => s.referrersIndexedByStore)).toBe(true);

    const requestsBefore = server.requests.length;
    const listed = await repo.referrers(subject, MediaType.NOTARY_SIGNATURE);
    expect(listed.map((d) => d.digest)).toEqual(signatures.map((s) => s.descriptor.digest));
    const pages = server.requests.slice(requestsBefore);
    expect(pages).toHaveLength(3);
    expect(pages[0]).toBe(`GET /v2/${repository}/referrers/${subject.digest}?artifactType=application%2Fvnd.cncf.notary.signature`);
    expect(repo.referrersApiSupport).toBe('supported');
    // No tag schema index was written.
    await expect(repo.fetchManifest(referrersTag(subject.digest))).rejects.toThrow(/was not found/);
  });

  test('filters on the client side when the server does not say it filtered', async () => {
    const unfiltered = await startReferrersServer({ upstream: plainRegistry(), applyFilters: false });
    try {
      const repo = new RegistryRepository({ registry: unfiltered.host, repository: repoName(), plainHttp: true, http: HTTP });
      const subject = await pushImage(repo, createRandomImage(), 'v1');
      const signature = await pushReferrer(repo, subject);
      await pushReferrer(repo, subject, { artifactType: SBOM });
      expect((await repo.referrers(subject, MediaType.NOTARY_SIGNATURE)).map((d) => d.digest)).toEqual([signature.descriptor.digest]);
      expect(await repo.referrers(subject)).toHaveLength(2);
    } finally {
      await unfiltered.close();
    }
  });
});
