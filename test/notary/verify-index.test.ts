/**
 * verifyImageRecursively against the real registry and the referrers-API test server: an index verifies only
 * when it and every manifest it lists carry a valid signature; a platform manifest verifies on its own.
 */
import { randomUUID } from 'node:crypto';
import { signImage } from '../../lambda/notary/sign-image';
import { signImageRecursively } from '../../lambda/notary/sign-index';
import { verifyImageRecursively } from '../../lambda/notary/verify-index';
import { RegistryRepository } from '../../lambda/oci/registry-repository';
import { LocalKeySigner } from '../../lambda/signers/local-key';
import { plainRegistry } from '../harness/env';
import { ReferrersServer, startReferrersServer } from '../harness/referrers-server';
import { pushIndex } from '../util/images';
import { createChain, TestChain } from '../util/pki';

let chain: TestChain;
let referrers: ReferrersServer;

beforeAll(async () => {
  chain = await createChain();
  referrers = await startReferrersServer({ upstream: plainRegistry() });
});
afterAll(() => referrers.close());

const policy = {
  version: '1.0',
  trustPolicies: [{ name: 'strict', registryScopes: ['*'], signatureVerification: { level: 'strict' }, trustStores: ['ca:test'], trustedIdentities: ['*'] }],
};

function repositoryOn(registry: string, prefix: string): RegistryRepository {
  return new RegistryRepository({ registry, repository: `${prefix}-${randomUUID().slice(0, 8)}`, plainHttp: true });
}

function signer(): LocalKeySigner {
  return new LocalKeySigner({ key: chain.leaf.key, certificateChain: chain.chain });
}

function verify(repository: RegistryRepository, tagOrDigest: string) {
  const separator = tagOrDigest.startsWith('sha256:') ? '@' : ':';
  return verifyImageRecursively({
    repository,
    tagOrDigest,
    displayReference: `${repository.name}${separator}${tagOrDigest}`,
    scope: repository.name,
    policy: policy as never,
    stores: new Map([['ca:test', [chain.root.der]]]),
  });
}

describe.each([
  ['the distribution registry', () => plainRegistry()],
  ['the referrers-API test server', () => referrers.host],
])('on %s', (_name, registry) => {
  test('an index signed recursively verifies at the index, by tag, and at every platform manifest', async () => {
    const repository = repositoryOn(registry(), 'verify-index/all');
    const { index, children } = await pushIndex(repository, 'v1');
    await signImageRecursively({ repository, tagOrDigest: index.digest, signer: signer() });

    const byTag = await verify(repository, 'v1');

    expect(byTag.verified).toBe(true);
    expect(byTag.digest).toBe(index.digest);
    expect(byTag.outcomes.map((o) => [o.digest, o.verified])).toEqual([[index.digest, true], [children[0].digest, true], [children[1].digest, true]]);
    expect(byTag.outcomes[1].reference).toBe(`${repository.name}@${children[0].digest}`);
    for (const child of children) {
      const outcome = await verify(repository, child.digest);
      expect(outcome.outcomes.map((o) => [o.digest, o.verified])).toEqual([[child.digest, true]]);
    }
  });

  test('children-only signatures: every child verifies, the index does not', async () => {
    const repository = repositoryOn(registry(), 'verify-index/children');
    const { index, children } = await pushIndex(repository);
    for (const child of children) await signImage({ repository, tagOrDigest: child.digest, signer: signer() });

    const outcome = await verify(repository, index.digest);

    expect(outcome.verified).toBe(false);
    expect(outcome.outcomes.map((o) => [o.digest, o.verified, o.error?.code])).toEqual([[index.digest, false, 'no-signature']]);
    expect((await verify(repository, children[0].digest)).verified).toBe(true);
  });

  test('an index-only signature: the index alone verifies, so the index with its children does not, nor a child', async () => {
    const repository = repositoryOn(registry(), 'verify-index/index-only');
    const { index, children } = await pushIndex(repository);
    await signImage({ repository, tagOrDigest: index.digest, signer: signer() });

    const outcome = await verify(repository, index.digest);

    expect(outcome.verified).toBe(false);
    expect(outcome.outcomes.map((o) => [o.digest, o.verified, o.error?.code])).toEqual([
      [index.digest, true, undefined],
      [children[0].digest, false, 'no-signature'],
      [children[1].digest, false, 'no-signature'],
    ]);
    expect((await verify(repository, children[1].digest)).verified).toBe(false);
  });
});

test('one unsigned child fails the index, and the other child still verifies', async () => {
  const repository = repositoryOn(plainRegistry(), 'verify-index/one-child');
  const { index, children } = await pushIndex(repository);
  await signImage({ repository, tagOrDigest: index.digest, signer: signer() });
  await signImage({ repository, tagOrDigest: children[0].digest, signer: signer() });

  const outcome = await verify(repository, index.digest);

  expect(outcome.verified).toBe(false);
  expect(outcome.outcomes.map((o) => o.verified)).toEqual([true, true, false]);
  expect(outcome.outcomes[2].error?.message).toContain(`no signature is associated with "${repository.name}@${children[1].digest}"`);
});
