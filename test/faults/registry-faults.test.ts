/**
 * Signing and verification through a fault-injecting proxy in front of the distribution registry: a share
 * of requests faulted (every operation succeeds with the verdict it has without faults, and no half-written
 * signature becomes visible), every request faulted (each operation fails in time, naming the registry and
 * the cause) and concurrent signers of one image (no signature is lost from the referrers tag index).
 */
import { randomBytes } from 'node:crypto';
import { FAULT_KINDS, FaultKind, FaultProxy, FaultRequest, startFaultProxy } from './fault-proxy';
import { loadConfigDir } from '../../lambda/notary/config-dir';
import { listSignatures } from '../../lambda/notary/list-signatures';
import { signImage } from '../../lambda/notary/sign-image';
import { parseSignatureManifest } from '../../lambda/notary/signature-manifest';
import { NamedTrustStores, VerificationOutcome } from '../../lambda/notary/types';
import { verifyImage } from '../../lambda/notary/verify-image';
import { HttpOptions } from '../../lambda/oci/http';
import { MediaType } from '../../lambda/oci/media-types';
import { referrersTag } from '../../lambda/oci/referrers';
import { ReferrersIndexOptions, RegistryRepository } from '../../lambda/oci/registry-repository';
import { Descriptor } from '../../lambda/oci/types';
import { LocalKeySigner } from '../../lambda/signers/local-key';
import { plainRegistry } from '../harness/env';
import { createRandomImage, pushImage } from '../util/images';
import { trustPolicy, writeNotationConfig } from '../util/notation-config';
import { createChain, TestChain } from '../util/pki';

/** The PRNG seed of the fault schedule (set FAULT_SEED to replay another schedule). */
const SEED = Number(process.env.FAULT_SEED ?? 1_234_567);
const FAULT_RATE = 0.3;
/** Retries and backoff small enough for the suite to run in seconds, large enough to outlast a 30% fault rate. */
const RETRYING: HttpOptions = { timeoutMs: 600, retries: 8, baseDelayMs: 2, maxDelayMs: 20, maxRetryAfterMs: 10 };
/** Slow faults delay an answer by 200 to 800 ms: some answers come late, some after the client gave up. */
const SLOW_MS = 800;
const INDEX = { settleMs: 20, baseDelayMs: 5 };
const SIGNS = 100;
const UNTRUSTED_SIGNS = 20;
const UNSIGNED = 10;
const CONCURRENCY = 20;

let proxy: FaultProxy;
let trusted: TestChain;
let untrusted: TestChain;
let policy: ReturnType<typeof loadConfigDir>['policy'];
let stores: NamedTrustStores;

beforeAll(async () => {
  proxy = await startFaultProxy(plainRegistry(), SEED);
  [trusted, untrusted] = await Promise.all([createChain(), createChain()]);
  const config = loadConfigDir(writeNotationConfig(trustPolicy({ trustStores: ['ca:faults'] }), { 'ca:faults': trusted.root.pem }));
  policy = config.policy;
  stores = config.stores;
});

afterAll(async () => {
  await proxy?.close();
});

const repoName = (prefix: string) => `faults/${prefix}-${randomBytes(4).toString('hex')}`;

/** The repository seen through the proxy: the proxy is the registry as far as the client knows. */
function viaProxy(repository: string, http: HttpOptions = RETRYING, index: ReferrersIndexOptions = {}): RegistryRepository {
  return new RegistryRepository({ registry: proxy.host, repository, plainHttp: true, http, referrersIndex: { ...INDEX, ...index } });
}

/** The same repository on the registry itself, for setting up and for checking what was really written. */
function direct(repository: string): RegistryRepository {
  return new RegistryRepository({ registry: plainRegistry(), repository, plainHttp: true, http: { retries: 0, timeoutMs: 5000 } });
}

function signer(chain: TestChain): LocalKeySigner {
  return new LocalKeySigner({ key: chain.leaf.key, certificateChain: chain.chain });
}

function verify(repository: RegistryRepository, digest: string): Promise<VerificationOutcome> {
  return verifyImage({ repository, tagOrDigest: digest, displayReference: `${repository.name}@${digest}`, scope: repository.name, policy, stores });
}

/** Runs `work` on every item, `limit` at a time. */
async function inBatches<T, R>(items: readonly T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** Every listed signature of `image` must be whole: its manifest parses as a signature of the image, its envelope is there. */
async function wholeSignatures(repository: RegistryRepository, image: Descriptor): Promise<string[]> {
  const signatures = await listSignatures(repository, image);
  for (const signature of signatures) {
    const manifest = await repository.fetchManifest(signature.digest);
    const parsed = parseSignatureManifest(manifest.bytes, image);
    const envelope = await repository.fetchBlob(parsed.envelope);
    expect(JSON.parse(Buffer.from(envelope).toString('utf8'))).toHaveProperty('signature');
  }
  return signatures.map((signature) => signature.digest);
}

interface Case {
  readonly repository: string;
  readonly image: Descriptor;
  readonly signedBy?: 'trusted' | 'untrusted';
}

describe(`with ${FAULT_RATE * 100}% of requests faulted (seed ${SEED})`, () => {
  test(`${SIGNS} signs and ${SIGNS + UNSIGNED} verifies all succeed with the verdicts they have without faults`, async () => {
    const cases: Case[] = await inBatches(Array.from({ length: SIGNS + UNSIGNED }, (_, i) => i), CONCURRENCY, async (i) => {
      const repository = repoName('mixed');
      const image = await pushImage(direct(repository), createRandomImage(), 'v1');
      const signedBy = i < SIGNS - UNTRUSTED_SIGNS ? 'trusted' : i < SIGNS ? 'untrusted' : undefined;
      return { repository, image, signedBy };
    });
    proxy.resetStats();
    proxy.configure({ rate: FAULT_RATE, slowMs: SLOW_MS, retryAfterSeconds: 1 });

    const signed = await inBatches(cases.filter((c) => c.signedBy), CONCURRENCY, async (c) => {
      const result = await signImage({ repository: viaProxy(c.repository), tagOrDigest: 'v1', signer: signer(c.signedBy === 'trusted' ? trusted : untrusted) });
      return { ...c, result };
    });
    const faulted = await inBatches(cases, CONCURRENCY, (c) => verify(viaProxy(c.repository), c.image.digest));
    const stats = { ...proxy.stats, byKind: { ...proxy.stats.byKind } };
    proxy.configure({ rate: 0 });

    // Signing: each sign pushed one new signature of the image, which is listed whole on the registry itself.
    expect(signed).toHaveLength(SIGNS);
    const listed = await inBatches(signed, CONCURRENCY, ({ repository, image }) => wholeSignatures(direct(repository), image));
    signed.forEach(({ image, result }, i) => {
      expect(result.reused).toBe(false);
      expect(result.target).toEqual(image);
      expect(listed[i]).toEqual([result.signatureDigest]);
    });
    // Verification: the verdict through the faults is the verdict without them, and the one the signer calls for.
    const clean = await inBatches(cases, CONCURRENCY, (c) => verify(direct(c.repository), c.image.digest));
    const verdict = (outcome: VerificationOutcome) => ({ verified: outcome.verified, code: outcome.error?.code, signature: outcome.signatureDigest });
    expect(faulted.map(verdict)).toEqual(clean.map(verdict));
    const expected = cases.map((c) => (c.signedBy === 'trusted' ? true : false));
    expect(faulted.map((outcome) => outcome.verified)).toEqual(expected);
    cases.forEach((c, i) => {
      if (c.signedBy === 'untrusted') expect(faulted[i].error?.code).toBe('verification-failed');
      if (!c.signedBy) expect(faulted[i].error?.code).toBe('no-signature');
    });
    expect(faulted.filter((outcome) => outcome.error?.code === 'registry')).toEqual([]);

    // The proxy faulted about the share asked for, with every kind of fault.
    const share = stats.faulted / stats.requests;
    expect(stats.requests).toBeGreaterThan(20 * (SIGNS + UNSIGNED));
    expect(share).toBeGreaterThan(FAULT_RATE - 0.05);
    expect(share).toBeLessThan(FAULT_RATE + 0.05);
    for (const kind of FAULT_KINDS) expect(stats.byKind[kind]).toBeGreaterThan(20);
  }, 90_000);
});

describe('with every request faulted', () => {
  /** Fails fast: two attempts per request with short timeouts. */
  const FAILING: HttpOptions = { timeoutMs: 500, retries: 1, baseDelayMs: 5, maxDelayMs: 20, maxRetryAfterMs: 20 };
  /** What the configuration allows at most: every attempt of the body retries times out, with the longest backoffs. */
  const attempts = (FAILING.retries! + 1) ** 2;
  const BUDGET_MS = attempts * (FAILING.timeoutMs! + FAILING.maxDelayMs! + FAILING.maxRetryAfterMs!) + 1000;
  // Which read meets a body fault first depends on the operation (a HEAD has no body to damage): the image manifest
  // or the referrers tag index.
  const READ = '(manifest|referrers tag index) \\S+';
  /** The cause each fault must be reported with. */
  const CAUSES: Record<FaultKind, RegExp> = {
    'status-503': /answered 503 Service Unavailable/,
    'status-429': /answered 429 Too Many Requests/,
    'reset-before': /failed after 2 attempt\(s\): fetch failed \((ECONNRESET|UND_ERR_SOCKET)\)/,
    'reset-after': /failed after 2 attempt\(s\): fetch failed \((ECONNRESET|UND_ERR_SOCKET)\)/,
    'slow-headers': /failed after 2 attempt\(s\): the request timed out/,
    'slow-body': new RegExp(`reading ${READ} failed after \\d+ bytes: the request timed out`),
    'truncated-body': new RegExp(`reading ${READ} failed after \\d+ bytes: terminated`),
    'long-content-length': new RegExp(`reading ${READ} failed after \\d+ bytes: terminated`),
    'short-content-length': new RegExp(`digest mismatch for ${READ}: expected sha256:[0-9a-f]{64}, got sha256:[0-9a-f]{64}`),
    'corrupt-body': new RegExp(`digest mismatch for ${READ}: expected sha256:[0-9a-f]{64}, got sha256:[0-9a-f]{64}`),
  };

  afterEach(() => proxy.configure({ rate: 0 }));

  test.each(FAULT_KINDS.map((kind) => [kind]))('%s: sign, verify and list fail in time, naming the registry and the cause', async (kind) => {
    const name = repoName(`all-${kind}`);
    const image = await pushImage(direct(name), createRandomImage(), 'v1');
    // Signed before the faults, so that listing has an index to read: a damaged one must not read as "no signatures".
    const before = await signImage({ repository: direct(name), tagOrDigest: 'v1', signer: signer(trusted) });
    // A slow body arrives in 4 pieces, each after delay / 4 with delay >= slowMs / 4: with slowMs = 16 x the timeout
    // even the first 3 pieces take longer than the timeout, so every read times out.
    proxy.configure({ rate: 1, kinds: [kind], slowMs: 16 * FAILING.timeoutMs!, retryAfterSeconds: 1 });
    const repository = viaProxy(name, FAILING);

    const timed = async <T>(operation: () => Promise<T>): Promise<{ value?: T; error?: Error; ms: number }> => {
      const started = Date.now();
      try {
        return { value: await operation(), ms: Date.now() - started };
      } catch (error) {
        return { error: error as Error, ms: Date.now() - started };
      }
    };
    const sign = await timed(() => signImage({ repository, tagOrDigest: 'v1', signer: signer(trusted) }));
    const verified = await timed(() => verify(viaProxy(name, FAILING), image.digest));
    const listed = await timed(() => listSignatures(viaProxy(name, FAILING), image));
    proxy.configure({ rate: 0 });

    expect(sign.value).toBeUndefined();
    expect(listed.value).toBeUndefined();
    expect(verified.value?.verified).toBe(false);
    expect(verified.value?.error?.code).toBe('registry');
    for (const message of [sign.error?.message, verified.value?.error?.message, listed.error?.message]) {
      expect(message).toContain(proxy.host);
    }
    expect(sign.error?.message).toMatch(CAUSES[kind]);
    expect(verified.value?.error?.message).toMatch(CAUSES[kind]);
    for (const run of [sign, verified, listed]) expect(run.ms).toBeLessThan(BUDGET_MS);
    // Nothing was signed.
    expect((await listSignatures(direct(name), image)).map((signature) => signature.digest)).toEqual([before.signatureDigest]);
  }, 30_000);

  const isSignatureManifestPut = (request: FaultRequest) =>
    request.method === 'PUT' && request.path.includes('/manifests/') && request.body.includes(MediaType.NOTARY_SIGNATURE);
  const isIndexPut = (request: FaultRequest) => request.method === 'PUT' && /\/manifests\/sha256-[0-9a-f]{64}$/.test(request.path);

  test.each([['status-503'], ['status-429'], ['reset-before'], ['reset-after'], ['slow-headers']] as Array<[FaultKind]>)(
    '%s on every signature manifest push: the sign fails and no signature is listed',
    async (kind) => {
      const name = repoName(`manifest-${kind}`);
      const image = await pushImage(direct(name), createRandomImage(), 'v1');
      proxy.configure({ rate: 1, kinds: [kind], applies: isSignatureManifestPut, slowMs: 4 * FAILING.timeoutMs! + 200 });

      const error = await signImage({ repository: viaProxy(name, FAILING), tagOrDigest: 'v1', signer: signer(trusted) }).catch((e: Error) => e);

      expect(error).toBeInstanceOf(Error);
      expect((error as Error).message).toMatch(new RegExp(`${proxy.host}(/v2)?/${name}(/manifests/|@)sha256:[0-9a-f]{64}`));
      expect(await listSignatures(direct(name), image)).toEqual([]);
      expect(await direct(name).fetchManifest(referrersTag(image.digest)).catch((e: Error) => e.name)).toBe('NotFoundError');
    },
  );

  test.each([['status-503'], ['reset-before'], ['reset-after'], ['slow-headers']] as Array<[FaultKind]>)(
    '%s on every referrers index push: the sign is reported pushed only when the signature is listed',
    async (kind) => {
      const name = repoName(`index-${kind}`);
      const image = await pushImage(direct(name), createRandomImage(), 'v1');
      proxy.configure({ rate: 1, kinds: [kind], applies: isIndexPut, slowMs: 4 * FAILING.timeoutMs! + 200 });

      const outcome = await signImage({ repository: viaProxy(name, FAILING, { attempts: 3 }), tagOrDigest: 'v1', signer: signer(trusted) })
        .then((result) => ({ result }), (error: Error) => ({ error }));
      const listed = await wholeSignatures(direct(name), image);

      if ('result' in outcome) {
        // The registry applied the index write and only its answer was lost: the entry was seen to stay.
        expect(['reset-after', 'slow-headers']).toContain(kind);
        expect(listed).toEqual([outcome.result.signatureDigest]);
      } else {
        expect(outcome.error.message).toContain(`referrers tag index ${proxy.host}/${name}:${referrersTag(image.digest)}`);
        expect(listed).toEqual([]);
      }
      if (kind === 'status-503' || kind === 'reset-before') expect('error' in outcome).toBe(true);
    },
  );
});

describe('concurrent signers through the faults', () => {
  test('20 concurrent signs of one image with different keys all succeed and all are listed through the tag schema', async () => {
    const name = repoName('concurrent');
    const image = await pushImage(direct(name), createRandomImage(), 'v1');
    const chains = await Promise.all(Array.from({ length: 20 }, () => createChain()));
    proxy.configure({ rate: FAULT_RATE, slowMs: SLOW_MS, retryAfterSeconds: 1 });
    // Without compare-and-swap, an index write is only safe from writers acting on an older read if it waits
    // them out: a read may arrive up to one timeout late, and the write built on it take up to another.
    const index: ReferrersIndexOptions = { settleMs: 3 * RETRYING.timeoutMs! };

    const results = await Promise.all(
      chains.map((chain) => signImage({ repository: viaProxy(name, RETRYING, index), tagOrDigest: image.digest, signer: signer(chain) })),
    );
    proxy.configure({ rate: 0 });

    const checker = direct(name);
    const listed = await wholeSignatures(checker, image);
    expect(checker.referrersApiSupport).toBe('unsupported');
    expect(results.every((result) => !result.reused && !result.referrersIndexedByStore)).toBe(true);
    expect(new Set(results.map((result) => result.signatureDigest)).size).toBe(20);
    expect([...listed].sort()).toEqual(results.map((result) => result.signatureDigest).sort());
  }, 60_000);
});
