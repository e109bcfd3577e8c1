import { randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { sha256Digest } from '../../lambda/oci/digest';
import { ContentTooLargeError, DigestMismatchError, NotFoundError } from '../../lambda/oci/errors';
import { MediaType } from '../../lambda/oci/media-types';
import { RegistryRepository } from '../../lambda/oci/registry-repository';
import { plainRegistry } from '../harness/env';
import { createRandomImage, pushImage } from '../util/images';
import { ScriptedServer, startScriptedServer, streamBytes } from './support/scripted-server';

const HTTP = { retries: 0, timeoutMs: 5000 };
const repoName = () => `oci-test/rt-${randomBytes(4).toString('hex')}`;

function plainRepository(repository = repoName()) {
  return new RegistryRepository({ registry: plainRegistry(), repository, plainHttp: true, http: HTTP });
}

describe('RegistryRepository round trips on the distribution registry', () => {
  test('pushes blobs and a manifest by tag, then resolves and fetches them by tag and digest', async () => {
    const repo = plainRepository();
    const image = createRandomImage();
    const pushed = await pushImage(repo, image, 'v1');
    expect(pushed).toEqual(image.manifestDescriptor);

    expect(await repo.resolve('v1')).toEqual(image.manifestDescriptor);
    expect(await repo.resolve(pushed.digest)).toEqual(image.manifestDescriptor);
    const byTag = await repo.fetchManifest('v1');
    expect(byTag.descriptor).toEqual(image.manifestDescriptor);
    expect(Buffer.from(byTag.bytes)).toEqual(Buffer.from(image.manifest));
    const byDigest = await repo.fetchManifest(pushed.digest);
    expect(byDigest.descriptor.digest).toBe(pushed.digest);
    expect(Buffer.from(await repo.fetchBlob(image.layerDescriptor))).toEqual(Buffer.from(image.layer));
    expect(Buffer.from(await repo.fetchBlob(image.configDescriptor))).toEqual(Buffer.from(image.config));
  });

  test('pushes a manifest by digest (untagged)', async () => {
    const repo = plainRepository();
    const image = createRandomImage();
    const pushed = await pushImage(repo, image);
    expect((await repo.fetchManifest(pushed.digest)).descriptor).toEqual(image.manifestDescriptor);
  });

  test('pushBlob checks for the blob first and skips the upload when present', async () => {
    const repository = repoName();
    const proxy = await recordingProxy(plainRegistry());
    try {
      const repo = new RegistryRepository({ registry: proxy.host, repository, plainHttp: true, http: HTTP });
      const bytes = new Uint8Array(randomBytes(100));
      await repo.pushBlob(bytes, MediaType.OCI_LAYER_TAR_GZIP);
      const firstRequests = proxy.requests.length;
      const again = await repo.pushBlob(bytes, MediaType.OCI_LAYER_TAR_GZIP);
      expect(again).toEqual({ mediaType: MediaType.OCI_LAYER_TAR_GZIP, digest: sha256Digest(bytes), size: 100 });
      expect(proxy.requests.slice(firstRequests)).toEqual([`HEAD /v2/${repository}/blobs/${sha256Digest(bytes)}`]);
      expect(proxy.requests.slice(0, firstRequests).map((r) => r.split(' ')[0])).toEqual(['HEAD', 'POST', 'PUT']);
    } finally {
      await proxy.close();
    }
  });

  test('a missing manifest or blob is a NotFoundError naming the reference', async () => {
    const repo = plainRepository();
    await pushImage(repo, createRandomImage(), 'present');
    await expect(repo.resolve('absent')).rejects.toThrow(NotFoundError);
    const error = await repo.fetchManifest('absent').catch((e) => e);
    expect(error).toBeInstanceOf(NotFoundError);
    expect(error.message).toContain(`manifest ${repo.name}:absent was not found`);
    expect(error.message).toContain('MANIFEST_UNKNOWN');
    const missingBlob = { mediaType: 'x', digest: sha256Digest(new Uint8Array([1])), size: 1 };
    await expect(repo.fetchBlob(missingBlob)).rejects.toThrow(`blob ${repo.name}@${missingBlob.digest} was not found`);
  });

  test('fetchManifest refuses a manifest over maxBytes', async () => {
    const repo = plainRepository();
    const image = createRandomImage();
    await pushImage(repo, image, 'v1');
    const error = await repo.fetchManifest('v1', { maxBytes: 100 }).catch((e) => e);
    expect(error).toBeInstanceOf(ContentTooLargeError);
    expect(error.message).toBe(`manifest ${repo.name}:v1 is ${image.manifest.byteLength} bytes, more than the limit of 100 bytes`);
  });

  test('fetchBlob refuses a descriptor larger than maxBytes', async () => {
    const repo = plainRepository();
    const image = createRandomImage({ layerBytes: 2048 });
    await pushImage(repo, image);
    await expect(repo.fetchBlob(image.layerDescriptor, { maxBytes: 1024 })).rejects.toThrow(ContentTooLargeError);
  });
});

describe('RegistryRepository against a misbehaving server', () => {
  let server: ScriptedServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });
  const image = createRandomImage();
  const other = createRandomImage();

  function repoOn(host: string) {
    return new RegistryRepository({ registry: host, repository: 'app', plainHttp: true, http: { ...HTTP, retries: 1, baseDelayMs: 1, maxDelayMs: 2 } });
  }

  test('resolve falls back to GET when HEAD has no Docker-Content-Digest, and hashes the bytes', async () => {
    server = await startScriptedServer((req, res) => {
      res.writeHead(200, { 'content-type': MediaType.OCI_MANIFEST, 'content-length': String(image.manifest.byteLength) });
      res.end(req.method === 'HEAD' ? undefined : Buffer.from(image.manifest));
    });
    expect(await repoOn(server.host).resolve('v1')).toEqual(image.manifestDescriptor);
    expect(server.requests).toEqual(['HEAD /v2/app/manifests/v1', 'GET /v2/app/manifests/v1']);
  });

  test('a manifest fetched by digest whose bytes differ is refused, naming both digests', async () => {
    server = await startScriptedServer((_req, res) => {
      res.writeHead(200, { 'content-type': MediaType.OCI_MANIFEST }).end(Buffer.from(other.manifest));
    });
    const error = await repoOn(server.host).fetchManifest(image.manifestDescriptor.digest).catch((e) => e);
    expect(error).toBeInstanceOf(DigestMismatchError);
    expect(error.message).toBe(
      `digest mismatch for manifest ${server.host}/app@${image.manifestDescriptor.digest}: expected ${image.manifestDescriptor.digest}, got ${other.manifestDescriptor.digest}`,
    );
  });

  test('a tag whose bytes do not match the announced Docker-Content-Digest is refused', async () => {
    server = await startScriptedServer((_req, res) => {
      res.writeHead(200, { 'content-type': MediaType.OCI_MANIFEST, 'docker-content-digest': image.manifestDescriptor.digest });
      res.end(Buffer.from(other.manifest));
    });
    await expect(repoOn(server.host).fetchManifest('v1')).rejects.toThrow(DigestMismatchError);
  });

  test('resolve by digest re-reads and checks the bytes when HEAD announces another digest', async () => {
    server = await startScriptedServer((_req, res) => {
      res.writeHead(200, {
        'content-type': MediaType.OCI_MANIFEST,
        'docker-content-digest': other.manifestDescriptor.digest,
        'content-length': String(other.manifest.byteLength),
      });
      res.end(_req.method === 'HEAD' ? undefined : Buffer.from(other.manifest));
    });
    await expect(repoOn(server.host).resolve(image.manifestDescriptor.digest)).rejects.toThrow(DigestMismatchError);
  });

  test('a blob with other bytes of the same size is refused', async () => {
    server = await startScriptedServer((_req, res) => res.writeHead(200).end(Buffer.alloc(image.layer.byteLength, 1)));
    await expect(repoOn(server.host).fetchBlob(image.layerDescriptor)).rejects.toThrow(
      `digest mismatch for blob ${server.host}/app@${image.layerDescriptor.digest}`,
    );
  });

  test('a blob longer than its descriptor is refused without reading it all', async () => {
    server = await startScriptedServer((_req, res) => {
      res.writeHead(200);
      streamBytes(server!, res, 64 * 1024 * 1024);
    });
    await expect(repoOn(server.host).fetchBlob(image.layerDescriptor)).rejects.toThrow(ContentTooLargeError);
    expect(server.bytesWritten).toBeLessThan(32 * 1024 * 1024);
  });

  test('an oversized manifest stream is refused without buffering all of it', async () => {
    server = await startScriptedServer((_req, res) => {
      res.writeHead(200, { 'content-type': MediaType.OCI_MANIFEST });
      streamBytes(server!, res, 256 * 1024 * 1024);
    });
    const error = await repoOn(server.host).fetchManifest('v1').catch((e) => e);
    expect(error).toBeInstanceOf(ContentTooLargeError);
    expect(error.message).toBe(`manifest ${server.host}/app:v1 is larger than the limit of 4194304 bytes`);
    await new Promise((r) => setTimeout(r, 50));
    expect(server.bytesWritten).toBeLessThan(32 * 1024 * 1024);
  });

  test('a 503 with Retry-After is retried, then the manifest is served', async () => {
    server = await startScriptedServer((_req, res, i) => {
      if (i === 0) res.writeHead(503, { 'retry-after': '1' }).end();
      else res.writeHead(200, { 'content-type': MediaType.OCI_MANIFEST }).end(Buffer.from(image.manifest));
    });
    const repo = new RegistryRepository({
      registry: server.host, repository: 'app', plainHttp: true, http: { retries: 2, maxRetryAfterMs: 5 },
    });
    expect((await repo.fetchManifest('v1')).descriptor).toEqual(image.manifestDescriptor);
    expect(server.requests).toHaveLength(2);
  });

  test('a registry that keeps answering 503 fails after the bounded attempts with the status', async () => {
    server = await startScriptedServer((_req, res) => res.writeHead(503).end());
    const error = await repoOn(server.host).fetchManifest('v1').catch((e) => e);
    expect(error.message).toBe(`registry ${server.host} answered 503 Service Unavailable for manifest ${server.host}/app:v1`);
    expect(server.requests).toHaveLength(2);
  });
});

/** A pass-through proxy that records requests, to observe what the client sends. */
async function recordingProxy(upstream: string) {
  const [host, port] = upstream.split(':');
  return startScriptedServer((req, res) => {
    const forward = httpRequest({ host, port: Number(port), method: req.method, path: req.url, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    forward.on('error', () => res.writeHead(502).end());
    req.pipe(forward);
  });
}
