/**
 * Verification at its boundaries: expiry at exactly the verification time, an authentic signing time after the
 * leaf's validity, the skip level's verdict, the user metadata as a result entry, and faults that are not
 * verdicts. The comparisons follow notation-go verifier/verifier.go (`verifyExpiry`, `verifyAuthenticTimestamp`).
 */
import { randomUUID } from 'node:crypto';
import { policyStatement, randomTarget, signTarget } from './helpers';
import { AwsSigner, buildJwsEnvelope, Header } from '../../lambda/notary/jws';
import { buildPayload } from '../../lambda/notary/payload';
import { effectiveVerification, trustAnchorsFor } from '../../lambda/notary/trust-policy';
import { SignatureVerification } from '../../lambda/notary/types';
import { verifyImage } from '../../lambda/notary/verify-image';
import { verifySignature } from '../../lambda/notary/verify-signature';
import { RegistryError } from '../../lambda/oci/errors';
import { MediaType } from '../../lambda/oci/media-types';
import { RegistryRepository } from '../../lambda/oci/registry-repository';
import { OciRepository } from '../../lambda/oci/repository';
import { Descriptor } from '../../lambda/oci/types';
import { plainRegistry } from '../harness/env';
import { createRandomImage, pushImage } from '../util/images';
import { createChain, TestChain } from '../util/pki';

const PROFILE_ARN = 'arn:aws:signer:us-east-1:111122223333:/signing-profiles/release';
let chain: TestChain;
const target = randomTarget();

beforeAll(async () => {
  // The leaf ends a day before its CAs: created a moment after them with the same default validity, it could
  // outlive them by the second certificates round to, and the "exactly at the leaf's notAfter" case would flake.
  chain = await createChain({ leaf: { notAfter: new Date(Date.now() + 364 * 24 * 3600_000) } });
});

function verify(envelope: Uint8Array, options: { now?: Date; store?: 'ca' | 'signingAuthority'; identities?: string[]; userMetadata?: Record<string, string> } = {}) {
  const store = `${options.store ?? 'ca'}:test`;
  const statement = policyStatement({ level: 'strict' }, [store], options.identities ?? ['*']);
  return verifySignature({
    envelope,
    envelopeMediaType: MediaType.JWS,
    target,
    verification: effectiveVerification(statement),
    trustAnchors: trustAnchorsFor(statement, new Map([[store, [chain.root.der]]])),
    trustedIdentities: statement.trustedIdentities ?? [],
    userMetadata: options.userMetadata,
    revocation: { check: async () => ({ revoked: false, message: 'Signature is not revoked.' }) },
    now: options.now,
  });
}

const typeOf = (result: SignatureVerification, type: string) => result.results.find((entry) => entry.type === type);

describe('expiry', () => {
  test('a signature is expired at exactly its expiry time, and valid a millisecond before', async () => {
    const signedAt = new Date(Math.floor((Date.now() - 60_000) / 1000) * 1000);
    const envelope = await signTarget({ key: chain.leaf.key, certificateChain: chain.chain, expirySeconds: 30, clock: () => signedAt }, target);
    const expiry = new Date(signedAt.getTime() + 30_000);

    const atExpiry = await verify(envelope, { now: expiry });
    const before = await verify(envelope, { now: new Date(expiry.getTime() - 1) });

    expect(atExpiry.verified).toBe(false);
    expect(atExpiry.failure).toBe(`digital signature has expired on "${expiry.toISOString()}"`);
    expect(before.verified).toBe(true);
  });
});

describe('authentic signing time (signingAuthority)', () => {
  const authorityEnvelope = (signingTime: Date) => buildJwsEnvelope({
    payload: buildPayload(target),
    key: chain.leaf.key,
    certificateChain: chain.chain,
    signingScheme: 'notary.x509.signingAuthority',
    signingTime,
    extendedAttributes: {
      [Header.verificationPlugin]: { value: AwsSigner.plugin, critical: true },
      [AwsSigner.signingProfileVersion]: { value: `${PROFILE_ARN}/AbCdEf1234`, critical: true },
      [AwsSigner.signingJob]: { value: 'arn:aws:signer:us-east-1:111122223333:/signing-jobs/1', critical: true },
    },
  });

  test('a signing time after the leaf\'s notAfter fails authenticTimestamp, even when verified while the leaf was valid', async () => {
    const afterLeaf = new Date(Math.floor(chain.leaf.certificate.notAfter.getTime() / 1000) * 1000 + 1000);
    const result = await verify(authorityEnvelope(afterLeaf), { store: 'signingAuthority', identities: [PROFILE_ARN], now: new Date() });
    expect(result.verified).toBe(false);
    expect(typeOf(result, 'authenticTimestamp')).toMatchObject({ ok: false, action: 'enforce' });
    expect(result.failure).toMatch(/^certificate ".*" was not valid when the digital signature was produced at "/);
  });

  test('a signing time at exactly the chain\'s first notAfter is within its validity', async () => {
    // Every certificate is checked; the chain's certificates may end a second apart.
    const firstEnd = Math.min(...[chain.leaf, chain.intermediate, chain.root].map((certificate) => certificate.certificate.notAfter.getTime()));
    const atEnd = new Date(Math.floor(firstEnd / 1000) * 1000);
    const result = await verify(authorityEnvelope(atEnd), { store: 'signingAuthority', identities: [PROFILE_ARN] });
    expect(typeOf(result, 'authenticTimestamp')).toMatchObject({ ok: true });
  });
});

describe('user metadata', () => {
  test('a mismatch is a result entry of its own, enforced, with notation\'s message', async () => {
    const envelope = await signTarget({ key: chain.leaf.key, certificateChain: chain.chain }, target, { buildId: '42' });
    const result = await verify(envelope, { userMetadata: { buildId: '43' } });
    expect(result.verified).toBe(false);
    expect(result.results[result.results.length - 1]).toEqual({
      type: 'userMetadata',
      action: 'enforce',
      ok: false,
      message: 'unable to find specified metadata in the signature: buildId=43',
    });
  });

  test('a match is recorded as passed; without required metadata there is no entry', async () => {
    const envelope = await signTarget({ key: chain.leaf.key, certificateChain: chain.chain }, target, { buildId: '42' });
    expect(typeOf(await verify(envelope, { userMetadata: { buildId: '42' } }), 'userMetadata')).toMatchObject({ ok: true });
    expect(typeOf(await verify(envelope), 'userMetadata')).toBeUndefined();
  });
});

describe('verifyImage verdicts that are not about a signature', () => {
  const skipPolicy = { version: '1.0', trustPolicies: [{ name: 'skip', registryScopes: ['*'], signatureVerification: { level: 'skip' }, trustStores: [], trustedIdentities: [] }] };

  async function unsignedImage(): Promise<{ repository: RegistryRepository; image: Descriptor }> {
    const repository = new RegistryRepository({ registry: plainRegistry(), repository: `boundaries/${randomUUID().slice(0, 8)}`, plainHttp: true });
    return { repository, image: await pushImage(repository, createRandomImage(), 'v1') };
  }

  test('level skip verifies an unsigned image without listing signatures, every check reported as skipped', async () => {
    const { repository, image } = await unsignedImage();
    let listed = 0;
    const counting: OciRepository = Object.assign(Object.create(repository), {
      referrers: (...args: Parameters<OciRepository['referrers']>) => (listed++, repository.referrers(...args)),
    });

    const outcome = await verifyImage({ repository: counting, tagOrDigest: 'v1', displayReference: `${repository.name}:v1`, scope: repository.name, policy: skipPolicy as never, stores: new Map() });

    expect(outcome).toMatchObject({ verified: true, digest: image.digest, level: 'skip' });
    expect(outcome.error).toBeUndefined();
    expect(outcome.results).toHaveLength(5);
    for (const result of outcome.results) expect(result).toMatchObject({ action: 'skip', ok: true });
    expect(listed).toBe(0);
  });

  const strictPolicy = {
    version: '1.0',
    trustPolicies: [{ name: 'strict', registryScopes: ['*'], signatureVerification: { level: 'strict' }, trustStores: ['ca:test'], trustedIdentities: ['*'] }],
  };

  test.each([
    ['an unexpected exception is reported as internal, not as a registry error', new TypeError('Cannot read properties of undefined'), 'internal', /^unexpected error: TypeError: Cannot read properties of undefined$/],
    ['a registry error is a registry error', new RegistryError('registry r answered 503 Service Unavailable for referrers', 'r', 503), 'registry', /^registry r answered 503/],
  ])('%s', async (_name, thrown, code, message) => {
    const { repository } = await unsignedImage();
    const failing: OciRepository = Object.assign(Object.create(repository), { referrers: async () => { throw thrown; } });

    const outcome = await verifyImage({
      repository: failing,
      tagOrDigest: 'v1',
      displayReference: `${repository.name}:v1`,
      scope: repository.name,
      policy: strictPolicy as never,
      stores: new Map([['ca:test', [chain.root.der]]]),
    });

    expect(outcome.verified).toBe(false);
    expect(outcome.error?.code).toBe(code);
    expect(outcome.error?.message).toMatch(message);
  });
});
