/**
 * The registry client against registries and hosts that misbehave: credentials never cross origins, redirected
 * uploads replay their body, a store that does not index a push still gets a findable signature, and a registry
 * that cannot keep the referrers tag schema is named at once. Every server here is a loopback server the test
 * starts; the "other origin" is another port.
 */
import { createHash, randomBytes } from 'node:crypto';
import { IncomingMessage, ServerResponse } from 'node:http';
import { fetchWithRetry, RequestFailedError } from '../../lambda/oci/http';
import { MediaType } from '../../lambda/oci/media-types';
import { referrersTag } from '../../lambda/oci/referrers';
import { RegistryRepository } from '../../lambda/oci/registry-repository';
import { Descriptor } from '../../lambda/oci/types';
import { plainRegistry } from '../harness/env';
import { ReferrersServer, startReferrersServer } from '../harness/referrers-server';
import { createRandomImage, pushImage, pushReferrer } from '../util/images';
import { ScriptedServer, startScriptedServer } from './support/scripted-server';

const HTTP = { retries: 0, timeoutMs: 5000 };
const FAST_INDEX = { settleMs: 5, baseDelayMs: 2 };
const USER = { username: 'ci', password: 'pa55-w0rd-secret' };
const basic = `Basic ${Buffer.from(`${USER.username}:${USER.password}`).toString('base64')}`;
const servers: ScriptedServer[] = [];
const seenAuthorization: Array<[string, string | undefined]> = [];

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
  seenAuthorization.length = 0;
});

async function scripted(handler: (request: IncomingMessage, response: ServerResponse, body: Buffer) => void): Promise<ScriptedServer> {
  const started = await startScriptedServer((request, response) => {
    seenAuthorization.push([`${request.headers.host} ${request.method} ${request.url}`, request.headers.authorization]);
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => handler(request, response, Buffer.concat(chunks)));
  });
  servers.push(started);
  return started;
}

/** A registry that wants Basic credentials, and a handler for what it answers once they are given. */
const basicRegistry = (authorized: (request: IncomingMessage, response: ServerResponse, body: Buffer) => void) =>
  scripted((request, response, body) => {
    if (request.headers.authorization !== basic) {
      response.writeHead(401, { 'www-authenticate': 'Basic realm="registry"' }).end();
      return;
    }
    authorized(request, response, body);
  });

const repository = (host: string, options: Partial<ConstructorParameters<typeof RegistryRepository>[0]> = {}) =>
  new RegistryRepository({ registry: host, repository: 'app', plainHttp: true, http: HTTP, ...USER, ...options });

const BLOB: Descriptor = { mediaType: 'application/octet-stream', digest: `sha256:${createHash('sha256').update('layer').digest('hex')}`, size: 5 };

describe('credentials go only to the registry\'s own origin and the realm it announces', () => {
  test('a 401 from a host a redirect led to fetches no token with the user\'s credentials and leaves the registry\'s auth as it was', async () => {
    const other = await scripted((request, response) => {
      if (request.url?.startsWith('/token')) {
        response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token: 'stolen' }));
        return;
      }
      response.writeHead(401, { 'www-authenticate': `Bearer realm="http://${request.headers.host}/token",service="evil"` }).end();
    });
    const registry = await basicRegistry((request, response) => {
      if (request.url?.includes('/blobs/')) {
        response.writeHead(307, { location: `http://${other.host}/storage/layer` }).end();
        return;
      }
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
    const repo = repository(registry.host);

    await expect(repo.fetchBlob(BLOB)).rejects.toThrow(
      `registry ${registry.host} redirected a request for repository app to http://${other.host}, which answered 401 Unauthorized`,
    );

    expect(other.requests.filter((request) => request.includes('/token'))).toEqual([]);
    expect(seenAuthorization.filter(([request, authorization]) => request.startsWith(other.host) && authorization !== undefined)).toEqual([]);
    // The registry's own scheme is still Basic: the next request sends the credentials at once, no new challenge.
    const before = registry.requests.length;
    await expect(repo.fetchBlob(BLOB)).rejects.toThrow(/redirected a request/);
    expect(registry.requests.length - before).toBe(1);
    expect(seenAuthorization.filter(([request]) => request.startsWith(registry.host)).pop()?.[1]).toBe(basic);
  });

  test('a referrers page linked to another origin is refused without a request to it', async () => {
    const other = await scripted((_request, response) => response.writeHead(200).end());
    const subject: Descriptor = { mediaType: MediaType.OCI_MANIFEST, digest: `sha256:${'1'.repeat(64)}`, size: 2 };
    const registry = await basicRegistry((_request, response) => {
      response.writeHead(200, { 'content-type': MediaType.OCI_INDEX, 'link': `<http://${other.host}/v2/app/referrers/${subject.digest}?n=2>; rel="next"` })
        .end(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OCI_INDEX, manifests: [] }));
    });

    await expect(repository(registry.host, { referrersApi: 'supported' }).referrers(subject)).rejects.toThrow(/linked the next page of referrers .* to another host/);
    expect(other.requests).toEqual([]);
  });

  test('registry error text that echoes the password or the Basic value is stripped of them', async () => {
    const registry = await basicRegistry((request, response) => {
      response.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({
        errors: [{ code: 'DENIED', message: `bad request from ${request.headers.authorization} (password ${USER.password})` }],
      }));
    });

    const failure = repository(registry.host).fetchManifest('v1');

    await expect(failure).rejects.toThrow('bad request from Basic *** (password ***)');
    await expect(failure).rejects.not.toThrow(USER.password);
  });
});

describe('redirects of requests with a body', () => {
  test('a manifest PUT answered 307 is replayed with its method and body at the new location', async () => {
    const received: Array<[string, number]> = [];
    const registry = await basicRegistry((request, response, body) => {
      received.push([`${request.method} ${request.url}`, body.length]);
      if (request.method === 'PUT' && request.url === '/v2/app/manifests/v1') {
        response.writeHead(307, { location: '/v2/app/manifests/v1?moved=1' }).end();
        return;
      }
      response.writeHead(201, { 'docker-content-digest': `sha256:${createHash('sha256').update(body).digest('hex')}` }).end();
    });
    const bytes = new TextEncoder().encode(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OCI_INDEX, manifests: [] }));

    await repository(registry.host).pushManifest(bytes, MediaType.OCI_INDEX, 'v1');

    expect(received).toEqual([['PUT /v2/app/manifests/v1', bytes.length], ['PUT /v2/app/manifests/v1?moved=1', bytes.length]]);
  });

  test('a failure of the fetch layer itself is reported as such, once, not retried as a broken connection', async () => {
    let calls = 0;
    const refusing = async () => {
      calls++;
      throw new TypeError('fetch failed', { cause: new TypeError('Cannot perform ArrayBuffer.prototype.slice on a detached ArrayBuffer') });
    };
    const failing = fetchWithRetry('http://127.0.0.1:9/v2/', { method: 'PUT' }, { fetch: refusing as typeof fetch, retries: 3, baseDelayMs: 1 });
    await expect(failing).rejects.toThrow(RequestFailedError);
    await expect(failing).rejects.toThrow('PUT http://127.0.0.1:9/v2/ failed after 1 attempt(s): fetch failed: Cannot perform ArrayBuffer.prototype.slice on a detached ArrayBuffer');
    expect(calls).toBe(1);
  });
});

describe('registries that do not keep referrers as the client expects', () => {
  let referrers: ReferrersServer;
  afterEach(() => referrers?.close());

  test('a push with a subject answered without OCI-Subject, where the referrers API lists nothing, falls back to the tag schema', async () => {
    referrers = await startReferrersServer({ upstream: plainRegistry(), indexReferrers: false });
    const repo = new RegistryRepository({ registry: referrers.host, repository: `hostile/${randomBytes(4).toString('hex')}`, plainHttp: true, http: HTTP, referrersIndex: FAST_INDEX });
    const subject = await pushImage(repo, createRandomImage(), 'v1');

    const pushed = await pushReferrer(repo, subject, {});

    expect(pushed.referrersIndexedByStore).toBe(false);
    const index = JSON.parse(Buffer.from((await repo.fetchManifest(referrersTag(subject.digest))).bytes).toString('utf8'));
    expect(index.manifests.map((entry: Descriptor) => entry.digest)).toEqual([pushed.descriptor.digest]);
    // A fresh client finds it although the API answers an empty list.
    const reader = new RegistryRepository({ registry: referrers.host, repository: repo.name.split('/').slice(1).join('/'), plainHttp: true, http: HTTP });
    expect((await reader.referrers(subject)).map((entry) => entry.digest)).toEqual([pushed.descriptor.digest]);
  });

  test('a registry that answers sha256-<hex> with the subject manifest itself is named at the first read, without rewriting the tag', async () => {
    const subjectBytes = new TextEncoder().encode(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OCI_MANIFEST, config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: `sha256:${'2'.repeat(64)}`, size: 2 }, layers: [] }));
    const subjectDigest = `sha256:${createHash('sha256').update(subjectBytes).digest('hex')}`;
    const registry = await basicRegistry((request, response, body) => {
      if (request.method === 'GET' && request.url === `/v2/app/manifests/${referrersTag(subjectDigest)}`) {
        response.writeHead(200, { 'content-type': MediaType.OCI_MANIFEST, 'docker-content-digest': subjectDigest }).end(Buffer.from(subjectBytes));
        return;
      }
      if (request.url?.includes('/referrers/')) {
        response.writeHead(404).end();
        return;
      }
      response.writeHead(201, { 'docker-content-digest': `sha256:${createHash('sha256').update(body).digest('hex')}` }).end();
    });
    const repo = repository(registry.host, { referrersIndex: FAST_INDEX });
    const subject: Descriptor = { mediaType: MediaType.OCI_MANIFEST, digest: subjectDigest, size: subjectBytes.byteLength };
    const signature = new TextEncoder().encode(JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.OCI_MANIFEST,
      artifactType: MediaType.NOTARY_SIGNATURE,
      config: { mediaType: MediaType.OCI_EMPTY, digest: 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a', size: 2 },
      layers: [{ mediaType: MediaType.JWS, digest: `sha256:${'3'.repeat(64)}`, size: 1 }],
      subject,
    }));

    await expect(repo.pushManifest(signature, MediaType.OCI_MANIFEST)).rejects.toThrow(
      `answers the referrers tag ${registry.host}/app:${referrersTag(subjectDigest)} with the manifest ${subjectDigest} itself`,
    );
    expect(registry.requests.filter((request) => request.startsWith(`PUT /v2/app/manifests/${referrersTag(subjectDigest)}`))).toEqual([]);
  });

  test('a blob HEAD answered by a redirect the store refuses (403) uploads the blob instead of failing', async () => {
    const storage = await scripted((request, response) => response.writeHead(request.method === 'HEAD' ? 403 : 200).end());
    const uploaded: string[] = [];
    const registry = await basicRegistry((request, response) => {
      if (request.method === 'HEAD') {
        response.writeHead(307, { location: `http://${storage.host}/bucket/blob?X-Amz-Signature=abc` }).end();
      } else if (request.method === 'POST') {
        response.writeHead(202, { location: '/v2/app/blobs/uploads/session-1' }).end();
      } else {
        uploaded.push(`${request.method} ${request.url}`);
        response.writeHead(201).end();
      }
    });

    const pushed = await repository(registry.host).pushBlob(new TextEncoder().encode('layer'), 'application/octet-stream');

    expect(pushed.digest).toBe(BLOB.digest);
    expect(uploaded).toEqual([`PUT /v2/app/blobs/uploads/session-1?digest=${encodeURIComponent(BLOB.digest)}`]);
  });

  test('a referrers request redirected to a host that keeps answering 429 gives up after the bounded retries and names that host', async () => {
    const limiter = await scripted((_request, response) => response.writeHead(429, { 'retry-after': '0' }).end());
    const registry = await basicRegistry((_request, response) => {
      response.writeHead(307, { location: `http://${limiter.host}/referrers-cache` }).end();
    });
    const subject: Descriptor = { mediaType: MediaType.OCI_MANIFEST, digest: `sha256:${'4'.repeat(64)}`, size: 2 };
    const repo = repository(registry.host, { referrersApi: 'supported', http: { retries: 2, baseDelayMs: 1, timeoutMs: 5000 } });

    await expect(repo.referrers(subject)).rejects.toThrow(`answered 429 Too Many Requests after a redirect to http://${limiter.host}`);
    expect(limiter.requests).toHaveLength(3);
  });
});
