/**
 * The set-up the registry tests of image indexes share (copy-image, sign-index, verify-index): a test chain, the
 * referrers-API test server in front of the real registry, repositories of unique names, a signer with the chain's
 * key and a strict verification trusting the chain.
 */
import { randomUUID } from 'node:crypto';
import { verifyImageRecursively } from '../../lambda/notary/verify-index';
import { RegistryRepository } from '../../lambda/oci/registry-repository';
import { OciRepository } from '../../lambda/oci/repository';
import { LocalKeySigner } from '../../lambda/signers/local-key';
import { plainRegistry } from '../harness/env';
import { ReferrersServer, startReferrersServer } from '../harness/referrers-server';
import { createChain, TestChain } from '../util/pki';

const STRICT_POLICY = {
  version: '1.0',
  trustPolicies: [{ name: 'strict', registryScopes: ['*'], signatureVerification: { level: 'strict' }, trustStores: ['ca:test'], trustedIdentities: ['*'] }],
};

export interface IndexFixture {
  /** The referrers-API test server in front of the registry. */
  readonly referrers: ReferrersServer;
  /** A signer with the test chain's leaf key. */
  signer(): LocalKeySigner;
  /** `verifyImageRecursively` of `tagOrDigest` in `repository`, strict, trusting the test chain. */
  verify(repository: OciRepository, tagOrDigest: string): ReturnType<typeof verifyImageRecursively>;
}

/** Creates the chain and starts the referrers server before the file's tests, and closes the server after them. */
export function useIndexFixture(): IndexFixture {
  let chain: TestChain;
  let referrers: ReferrersServer;
  beforeAll(async () => {
    chain = await createChain();
    referrers = await startReferrersServer({ upstream: plainRegistry() });
  });
  afterAll(() => referrers.close());
  return {
    get referrers() {
      return referrers;
    },
    signer: () => new LocalKeySigner({ key: chain.leaf.key, certificateChain: chain.chain }),
    verify: (repository, tagOrDigest) =>
      verifyImageRecursively({
        repository,
        tagOrDigest,
        displayReference: `${repository.name}${tagOrDigest.startsWith('sha256:') ? '@' : ':'}${tagOrDigest}`,
        scope: repository.name,
        policy: STRICT_POLICY as never,
        stores: new Map([['ca:test', [chain.root.der]]]),
      }),
  };
}

/** A repository of a unique name beginning with `prefix` on `registry` (plain HTTP). */
export function repositoryOn(registry: string, prefix: string): RegistryRepository {
  return new RegistryRepository({ registry, repository: `${prefix}-${randomUUID().slice(0, 8)}`, plainHttp: true });
}
