/**
 * verifyImageRecursively against the real registry and the referrers-API test server: an index verifies only
 * when it and every manifest it lists carry a valid signature; a platform manifest verifies on its own.
 */
import { repositoryOn, useIndexFixture } from './index-fixture';
import { signImage } from '../../lambda/notary/sign-image';
import { signImageRecursively } from '../../lambda/notary/sign-index';
import { plainRegistry } from '../harness/env';
import { pushIndex } from '../util/images';

const fixture = useIndexFixture();

describe.each([
  ['the distribution registry', () => plainRegistry()],
  ['the referrers-API test server', () => fixture.referrers.host],
])('on %s', (_name, registry) => {
  test('an index signed recursively verifies at the index, by tag, and at every platform manifest', async () => {
    const repository = repositoryOn(registry(), 'verify-index/all');
    const { index, children } = await pushIndex(repository, 'v1');
    await signImageRecursively({ repository, tagOrDigest: index.digest, signer: fixture.signer() });

    const byTag = await fixture.verify(repository, 'v1');

    expect(byTag.verified).toBe(true);
    expect(byTag.digest).toBe(index.digest);
    expect(byTag.outcomes.map((o) => [o.digest, o.verified])).toEqual([[index.digest, true], [children[0].digest, true], [children[1].digest, true]]);
    expect(byTag.outcomes[1].reference).toBe(`${repository.name}@${children[0].digest}`);
    for (const child of children) {
      const outcome = await fixture.verify(repository, child.digest);
      expect(outcome.outcomes.map((o) => [o.digest, o.verified])).toEqual([[child.digest, true]]);
    }
  });

  test('children-only signatures: every child verifies, the index does not', async () => {
    const repository = repositoryOn(registry(), 'verify-index/children');
    const { index, children } = await pushIndex(repository);
    for (const child of children) await signImage({ repository, tagOrDigest: child.digest, signer: fixture.signer() });

    const outcome = await fixture.verify(repository, index.digest);

    expect(outcome.verified).toBe(false);
    expect(outcome.outcomes.map((o) => [o.digest, o.verified, o.error?.code])).toEqual([[index.digest, false, 'no-signature']]);
    expect((await fixture.verify(repository, children[0].digest)).verified).toBe(true);
  });

  test('an index-only signature: the index alone verifies, so the index with its children does not, nor a child', async () => {
    const repository = repositoryOn(registry(), 'verify-index/index-only');
    const { index, children } = await pushIndex(repository);
    await signImage({ repository, tagOrDigest: index.digest, signer: fixture.signer() });

    const outcome = await fixture.verify(repository, index.digest);

    expect(outcome.verified).toBe(false);
    expect(outcome.outcomes.map((o) => [o.digest, o.verified, o.error?.code])).toEqual([
      [index.digest, true, undefined],
      [children[0].digest, false, 'no-signature'],
      [children[1].digest, false, 'no-signature'],
    ]);
    expect((await fixture.verify(repository, children[1].digest)).verified).toBe(false);
  });
});

test('one unsigned child fails the index, and the other child still verifies', async () => {
  const repository = repositoryOn(plainRegistry(), 'verify-index/one-child');
  const { index, children } = await pushIndex(repository);
  await signImage({ repository, tagOrDigest: index.digest, signer: fixture.signer() });
  await signImage({ repository, tagOrDigest: children[0].digest, signer: fixture.signer() });

  const outcome = await fixture.verify(repository, index.digest);

  expect(outcome.verified).toBe(false);
  expect(outcome.outcomes.map((o) => o.verified)).toEqual([true, true, false]);
  expect(outcome.outcomes[2].error?.message).toContain(`no signature is associated with "${repository.name}@${children[1].digest}"`);
});
