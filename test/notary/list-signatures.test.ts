import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listSignatures } from '../../lambda/notary/list-signatures';
import { OciLayoutRepository } from '../../lambda/oci/layout-repository';
import { RegistryRepository } from '../../lambda/oci/registry-repository';
import { OciRepository } from '../../lambda/oci/repository';
import { plainRegistry } from '../harness/env';
import { createRandomImage, pushImage, pushReferrer } from '../util/images';
import { pushLegacySignature } from '../util/notation-signed';

const stores: [string, () => OciRepository][] = [
  ['a registry (tag schema)', () => new RegistryRepository({ registry: plainRegistry(), repository: `list/sigs-${randomBytes(4).toString('hex')}`, plainHttp: true })],
  ['an OCI layout', () => new OciLayoutRepository(join(mkdtempSync(join(tmpdir(), 'list-signatures-')), 'layout'))],
];

describe.each(stores)('listSignatures on %s', (_, open) => {
  test('lists OCI 1.1 and legacy signature manifests, and no other artifact or image signature', async () => {
    const repository = open();
    const image = await pushImage(repository, createRandomImage(), 'v1');
    const first = await pushReferrer(repository, image);
    const sbom = await pushReferrer(repository, image, { artifactType: 'application/spdx+json' });
    const legacy = await pushLegacySignature(repository, image);
    const other = await pushImage(repository, createRandomImage(), 'v2');
    await pushReferrer(repository, other);

    const signatures = await listSignatures(repository, image);

    expect(signatures.map((s) => s.digest).sort()).toEqual([first.descriptor.digest, legacy.digest].sort());
    expect(signatures.map((s) => s.digest)).not.toContain(sbom.descriptor.digest);
    expect(signatures.every((s) => s.artifactType === 'application/vnd.cncf.notary.signature')).toBe(true);
  });

  test('an unsigned image has no signatures', async () => {
    const repository = open();
    const image = await pushImage(repository, createRandomImage(), 'v1');
    await expect(listSignatures(repository, image)).resolves.toEqual([]);
  });

  test('maxSignatures keeps the first ones in listing order', async () => {
    const repository = open();
    const image = await pushImage(repository, createRandomImage(), 'v1');
    for (let i = 0; i < 3; i++) await pushReferrer(repository, image);
    const all = await listSignatures(repository, image);

    const firstTwo = await listSignatures(repository, image, { maxSignatures: 2 });

    expect(all).toHaveLength(3);
    expect(firstTwo).toEqual(all.slice(0, 2));
  });
});
