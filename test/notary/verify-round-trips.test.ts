/**
 * Verification in the fewest round trips: for a digest the manifest and the referrers are asked for together,
 * and signatures that name a trusted certificate are tried first, so untrusted ones can neither delay the trusted
 * one nor push it past the attempt limit. Requests are observed through a loopback proxy that holds each one for
 * a moment, which shows which were in flight together without timing anything.
 */
import { createHash, randomBytes } from 'node:crypto';
import { buildPayload } from '../../lambda/notary/payload';
import { buildSignatureManifest, THUMBPRINT_ANNOTATION } from '../../lambda/notary/signature-manifest';
import { verifyImage } from '../../lambda/notary/verify-image';
import { verifyImageRecursively } from '../../lambda/notary/verify-index';
import { MediaType } from '../../lambda/oci/media-types';
import { RegistryRepository } from '../../lambda/oci/registry-repository';
import { Descriptor } from '../../lambda/oci/types';
import { LocalKeySigner } from '../../lambda/signers/local-key';
import { plainRegistry } from '../harness/env';
import { ForwardingProxy, startForwardingProxy } from '../harness/forwarding-proxy';
import { ReferrersServer, startReferrersServer } from '../harness/referrers-server';
import { createRandomImage, pushImage } from '../util/images';
import { createChain, TestChain } from '../util/pki';

const HOLD_MS = 60;
/** How long a barrier waits for the rest of its group: a client that sends them one by one never completes it. */
const BARRIER_PATIENCE_MS = 3000;

interface Observed {
  readonly request: string;
  /** The other requests in flight while this one was. */
  readonly overlapping: Set<string>;
}

/** The first `count` requests that match are held until all of them have arrived, then released together. */
interface Barrier {
  readonly count: number;
  readonly matching?: (request: string) => boolean;
}

/**
 * A proxy that holds every request HOLD_MS before forwarding it, recording which requests were in flight together.
 * With a barrier, the requests the client sends together are sure to be seen together however slow the machine:
 * they wait for each other instead of for a fixed time.
 */
async function holdingProxy(upstream: string, barrier?: Barrier): Promise<ForwardingProxy & { observed: Observed[] }> {
  const inFlight = new Set<Observed>();
  const observed: Observed[] = [];
  const waiting: Array<() => void> = [];
  let barrierOpen = !barrier;
  let patience: NodeJS.Timeout | undefined;
  const release = () => {
    barrierOpen = true;
    clearTimeout(patience);
    for (const go of waiting.splice(0)) go();
  };
  const proxy = await startForwardingProxy(upstream, {
    hold: (request, go) => {
      const line = `${request.method} ${request.url}`;
      if (barrierOpen || !(barrier!.matching?.(line) ?? true)) return void setTimeout(go, HOLD_MS);
      waiting.push(go);
      if (waiting.length >= barrier!.count) release();
      else patience ??= setTimeout(release, BARRIER_PATIENCE_MS);
    },
    onRequest: (request) => {
      const entry: Observed = { request: `${request.method} ${request.url}`, overlapping: new Set() };
      for (const other of inFlight) {
        other.overlapping.add(entry.request);
        entry.overlapping.add(other.request);
      }
      inFlight.add(entry);
      observed.push(entry);
      return () => inFlight.delete(entry);
    },
  });
  return { ...proxy, observed };
}

let trusted: TestChain;
let untrusted: TestChain;
let referrers: ReferrersServer;

beforeAll(async () => {
  [trusted, untrusted] = await Promise.all([createChain(), createChain()]);
  referrers = await startReferrersServer({ upstream: plainRegistry() });
});
afterAll(() => referrers.close());

const policy = {
  version: '1.0',
  trustPolicies: [{ name: 'strict', registryScopes: ['*'], signatureVerification: { level: 'strict' }, trustStores: ['ca:test'], trustedIdentities: ['*'] }],
};

/** Pushes a signature by `chain` over `target`; `claimedThumbprints` replaces the chain's annotation (a liar). */
async function pushSignature(
  repository: RegistryRepository,
  target: Descriptor,
  chain: TestChain,
  nonce: number,
  claimedThumbprints?: string,
): Promise<string> {
  const signer = new LocalKeySigner({ key: chain.leaf.key, certificateChain: chain.chain });
  const { envelope } = await signer.sign(buildPayload(target, { nonce: String(nonce) }));
  const layer = await repository.pushBlob(envelope, MediaType.JWS);
  await repository.pushBlob(new TextEncoder().encode('{}'), MediaType.OCI_EMPTY);
  const manifest = buildSignatureManifest({
    subject: target,
    envelope: layer,
    format: 'oci-1.1',
    envelopeBytes: envelope,
    signingTime: new Date(),
    annotations: claimedThumbprints ? { [THUMBPRINT_ANNOTATION]: claimedThumbprints } : undefined,
  });
  const bytes = claimedThumbprints
    ? new TextEncoder().encode(JSON.stringify({ ...JSON.parse(Buffer.from(manifest).toString('utf8')), annotations: { [THUMBPRINT_ANNOTATION]: claimedThumbprints } }))
    : manifest;
  return (await repository.pushManifest(bytes, MediaType.OCI_MANIFEST)).descriptor.digest;
}

async function verifyThrough(host: string, name: string, digest: string, maxSignatures?: number, referrersApi?: 'auto' | 'supported') {
  const repository = new RegistryRepository({ registry: host, repository: name, plainHttp: true, referrersApi });
  return verifyImage({
    repository,
    tagOrDigest: digest,
    displayReference: `${host}/${name}@${digest}`,
    scope: `${host}/${name}`,
    policy: policy as never,
    stores: new Map([['ca:test', [trusted.root.der]]]),
    maxSignatures,
  });
}

test.each([
  ['a client that has yet to learn whether the registry has the referrers API also reads the tag index in the first round trip', 'auto', 3],
  ['a client that knows the registry has the referrers API', 'supported', 2],
] as const)('for a digest the manifest and the referrers are requested together, 3 round trips: %s', async (_name, referrersApi, together) => {
  const name = `round-trips/${randomBytes(4).toString('hex')}`;
  const setup = new RegistryRepository({ registry: referrers.host, repository: name, plainHttp: true });
  const image = await pushImage(setup, createRandomImage());
  await pushSignature(setup, image, trusted, 0);
  const proxy = await holdingProxy(referrers.host, { count: together });
  try {
    const outcome = await verifyThrough(proxy.host, name, image.digest, undefined, referrersApi);

    expect(outcome.verified).toBe(true);
    const first = proxy.observed.slice(0, together);
    const rest = proxy.observed.slice(together).map((entry) => entry.request);
    expect(first.map((entry) => entry.request).sort()).toEqual([
      `GET /v2/${name}/manifests/${image.digest}`,
      ...(together === 3 ? [`GET /v2/${name}/manifests/${image.digest.replace(':', '-')}`] : []),
      `GET /v2/${name}/referrers/${image.digest}?artifactType=${encodeURIComponent(MediaType.NOTARY_SIGNATURE)}`,
    ].sort());
    for (const entry of first) expect(entry.overlapping.size).toBe(together - 1);
    // Then the signature manifest, and its envelope: each waits for what names it.
    expect(rest).toHaveLength(2);
    expect(rest[0]).toMatch(new RegExp(`^GET /v2/${name}/manifests/sha256:`));
    expect(rest[1]).toMatch(new RegExp(`^GET /v2/${name}/blobs/sha256:`));
    expect(proxy.observed[together].overlapping.size).toBe(0);
  } finally {
    proxy.server.closeAllConnections();
    proxy.server.close();
  }
});

test('recursive verification (the verify gate\'s) of an image manifest reads it once: only an index is read again for what it lists', async () => {
  const name = `round-trips/recursive-${randomBytes(4).toString('hex')}`;
  const setup = new RegistryRepository({ registry: referrers.host, repository: name, plainHttp: true });
  const image = await pushImage(setup, createRandomImage());
  await pushSignature(setup, image, trusted, 0);
  const proxy = await holdingProxy(referrers.host);
  try {
    const repository = new RegistryRepository({ registry: proxy.host, repository: name, plainHttp: true, referrersApi: 'supported' });
    const outcome = await verifyImageRecursively({
      repository,
      tagOrDigest: image.digest,
      displayReference: `${proxy.host}/${name}@${image.digest}`,
      scope: `${proxy.host}/${name}`,
      policy: policy as never,
      stores: new Map([['ca:test', [trusted.root.der]]]),
    });

    expect(outcome.verified).toBe(true);
    expect(proxy.observed.filter((entry) => entry.request === `GET /v2/${name}/manifests/${image.digest}`)).toHaveLength(1);
    expect(proxy.observed).toHaveLength(4);
  } finally {
    proxy.server.closeAllConnections();
    proxy.server.close();
  }
});

describe('a registry holding many untrusted signatures', () => {
  let name: string;
  let image: Descriptor;
  let trustedSignature: string;

  beforeAll(async () => {
    name = `round-trips/flood-${randomBytes(4).toString('hex')}`;
    const setup = new RegistryRepository({ registry: referrers.host, repository: name, plainHttp: true });
    image = await pushImage(setup, createRandomImage());
    for (let i = 0; i < 30; i++) await pushSignature(setup, image, untrusted, i);
    trustedSignature = await pushSignature(setup, image, trusted, 30);
  });

  test('the trusted signature, listed last, is tried first: it verifies within an attempt limit of 5, fetching only itself', async () => {
    const proxy = await holdingProxy(referrers.host);
    try {
      const outcome = await verifyThrough(proxy.host, name, image.digest, 5);
      expect(outcome).toMatchObject({ verified: true, signatureDigest: trustedSignature });
      expect(proxy.observed.filter((entry) => entry.request.includes('/blobs/'))).toHaveLength(1);
    } finally {
      proxy.server.closeAllConnections();
      proxy.server.close();
    }
  });

  test('the annotation only orders the attempts: an untrusted signature claiming the trusted thumbprint is tried and fails, the verdict still comes from the signatures', async () => {
    const liarName = `round-trips/liar-${randomBytes(4).toString('hex')}`;
    const setup = new RegistryRepository({ registry: referrers.host, repository: liarName, plainHttp: true });
    const target = await pushImage(setup, createRandomImage());
    const claimed = JSON.stringify([createHash('sha256').update(trusted.root.der).digest('hex')]);
    const liar = await pushSignature(setup, target, untrusted, 0, claimed);

    const alone = await verifyThrough(referrers.host, liarName, target.digest);
    expect(alone.verified).toBe(false);
    expect(alone.error?.message).toContain(`${liar}: signature is not produced by a trusted signer`);

    const genuine = await pushSignature(setup, target, trusted, 1);
    const both = await verifyThrough(referrers.host, liarName, target.digest, 2);
    expect(both).toMatchObject({ verified: true, signatureDigest: genuine });
  });

  test('untrusted signatures are fetched several at a time, and every one is tried and reported', async () => {
    const untrustedName = `round-trips/untrusted-${randomBytes(4).toString('hex')}`;
    const setup = new RegistryRepository({ registry: referrers.host, repository: untrustedName, plainHttp: true });
    const target = await pushImage(setup, createRandomImage());
    const digests: string[] = [];
    for (let i = 0; i < 6; i++) digests.push(await pushSignature(setup, target, untrusted, i));
    const isSignatureRead = (request: string) => /\/manifests\/sha256:/.test(request) && !request.endsWith(target.digest);
    const proxy = await holdingProxy(referrers.host, { count: 2, matching: isSignatureRead });
    try {
      const outcome = await verifyThrough(proxy.host, untrustedName, target.digest);

      expect(outcome.verified).toBe(false);
      for (const digest of digests) expect(outcome.error?.message).toContain(`${digest}: signature is not produced by a trusted signer`);
      const signatureReads = proxy.observed.filter((entry) => isSignatureRead(entry.request));
      expect(signatureReads).toHaveLength(6);
      expect(signatureReads.some((entry) => [...entry.overlapping].some(isSignatureRead))).toBe(true);
    } finally {
      proxy.server.closeAllConnections();
      proxy.server.close();
    }
  });
});
