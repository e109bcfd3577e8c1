/** signed-image sign --recursive and verify --recursive on a multi-arch image (an index of two platforms). */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { listSignatures } from '../../lambda/notary/list-signatures';
import { OciLayoutRepository } from '../../lambda/oci/layout-repository';
import { MediaType } from '../../lambda/oci/media-types';
import { RegistryRepository } from '../../lambda/oci/registry-repository';
import { OciRepository } from '../../lambda/oci/repository';
import { Descriptor } from '../../lambda/oci/types';
import { plainRegistry } from '../harness/env';
import { runSignedImage } from '../util/cli';
import { pushIndex } from '../util/images';
import { trustPolicy, writeNotationConfig } from '../util/notation-config';
import { createChain, TestChain } from '../util/pki';

let chain: TestChain;
let keyFile: string;
let certFile: string;
let configDir: string;

beforeAll(async () => {
  chain = await createChain({ leaf: { subject: 'CN=builder,O=Acme,C=US' } });
  const dir = mkdtempSync(join(tmpdir(), 'multi-arch-'));
  keyFile = join(dir, 'key.pem');
  certFile = join(dir, 'chain.pem');
  writeFileSync(keyFile, chain.leaf.keyPem);
  writeFileSync(certFile, chain.chainPem);
  configDir = writeNotationConfig(trustPolicy({ trustStores: ['ca:acme'], trustedIdentities: ['*'] }), { 'ca:acme': chain.root.pem });
});

function registryRepository(prefix: string): { repository: RegistryRepository; ref: string } {
  const name = `${prefix}-${randomBytes(4).toString('hex')}`;
  return { repository: new RegistryRepository({ registry: plainRegistry(), repository: name, plainHttp: true }), ref: `${plainRegistry()}/${name}` };
}

async function signatureCount(repository: OciRepository, manifest: Descriptor): Promise<number> {
  return (await listSignatures(repository, manifest)).length;
}

describe('signed-image sign --recursive', () => {
  test('signs the index and both platform manifests, reports each and a summary; a rerun keeps all three', async () => {
    const { repository, ref } = registryRepository('cli/recursive');
    const { index, children } = await pushIndex(repository);

    const sign = await runSignedImage(['sign', '--plain-http', '-k', keyFile, '-c', certFile, '--recursive', `${ref}@${index.digest}`]);
    const again = await runSignedImage(['sign', '--plain-http', '-k', keyFile, '-c', certFile, '--recursive', `${ref}@${index.digest}`]);

    expect(sign.code).toBe(0);
    expect(sign.stderr).toBe('');
    const lines = sign.stdout.split('\n');
    expect(lines.filter((line) => line.startsWith('Successfully signed '))).toEqual([
      `Successfully signed ${ref}@${children[0].digest}`,
      `Successfully signed ${ref}@${children[1].digest}`,
      `Successfully signed ${ref}@${index.digest}`,
    ]);
    expect(lines).toContain(`Signed ${ref}@${index.digest} and the manifests it lists: 3 signed (3 new signature(s), 0 kept)`);
    for (const manifest of [index, ...children]) expect(await signatureCount(repository, manifest)).toBe(1);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('3 signed (0 new signature(s), 3 kept)');
  });

  test('without --recursive only the index is signed', async () => {
    const { repository, ref } = registryRepository('cli/flat');
    const { index, children } = await pushIndex(repository);

    const sign = await runSignedImage(['sign', '--plain-http', '-k', keyFile, '-c', certFile, `${ref}@${index.digest}`]);

    expect(sign.code).toBe(0);
    expect(await signatureCount(repository, index)).toBe(1);
    expect(await signatureCount(repository, children[0])).toBe(0);
  });

  test('a partial failure exits 1 naming the unsigned digests, after reporting the signed ones', async () => {
    const layout = mkdtempSync(join(tmpdir(), 'multi-arch-layout-'));
    const repository = new OciLayoutRepository(layout);
    const { children } = await pushIndex(repository);
    const missing = `sha256:${'0'.repeat(64)}`;
    const bytes = new TextEncoder().encode(JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.OCI_INDEX,
      manifests: [children[0], { mediaType: MediaType.OCI_MANIFEST, digest: missing, size: 10 }],
    }));
    await repository.pushManifest(bytes, MediaType.OCI_INDEX, 'v1');

    const sign = await runSignedImage(['sign', '--oci-layout', '-k', keyFile, '-c', certFile, '--recursive', `${layout}:v1`]);

    expect(sign.code).toBe(1);
    const name = `local/${basename(layout)}`;
    expect(sign.stdout).toBe(`Successfully signed ${name}@${children[0].digest}\nPushed the signature to ${name}@${(await listSignatures(repository, children[0]))[0].digest}\n`);
    expect(sign.stderr).toContain('signed 1 of 3 manifests of index');
    expect(sign.stderr).toContain(`  ${missing}: `);
    expect(sign.stderr).toContain('not signed because a manifest it lists is not signed');
    expect(sign.stderr).toContain('run the same command again to sign the rest');
  });
});

describe('signed-image verify --recursive', () => {
  test('passes for an index signed recursively and prints each digest; fails for an index-only signature', async () => {
    const { repository, ref } = registryRepository('cli/verify-recursive');
    const { index, children } = await pushIndex(repository, 'v1');
    const partial = await pushIndex(repository, 'v2');
    await runSignedImage(['sign', '--plain-http', '-k', keyFile, '-c', certFile, '--recursive', `${ref}@${index.digest}`]);
    await runSignedImage(['sign', '--plain-http', '-k', keyFile, '-c', certFile, `${ref}@${partial.index.digest}`]);

    const verified = await runSignedImage(['verify', '--plain-http', '--config-dir', configDir, '--recursive', `${ref}@${index.digest}`]);
    const refused = await runSignedImage(['verify', '--plain-http', '--config-dir', configDir, '--recursive', '-o', 'json', `${ref}@${partial.index.digest}`]);
    const flat = await runSignedImage(['verify', '--plain-http', '--config-dir', configDir, `${ref}@${partial.index.digest}`]);

    expect(verified.code).toBe(0);
    expect(verified.stdout).toBe([index, ...children].map((m) => `Successfully verified signature for ${ref}@${m.digest}\n`).join(''));
    expect(refused.code).toBe(1);
    const json = JSON.parse(refused.stdout);
    expect(json.verified).toBe(false);
    expect(json.outcomes.map((o: { verified: boolean }) => o.verified)).toEqual([true, false, false]);
    expect(flat.code).toBe(0);
  });
});

describe('signed-image copy', () => {
  test('copies an index signed recursively with its signatures; verify --recursive passes at the destination; a rerun copies nothing', async () => {
    const { repository, ref } = registryRepository('cli/copy-src');
    const { index } = await pushIndex(repository, 'v1');
    await runSignedImage(['sign', '--plain-http', '-k', keyFile, '-c', certFile, '--recursive', `${ref}@${index.digest}`]);
    const destination = `${ref}-copy`;

    const copy = await runSignedImage(['copy', '--plain-http', `${ref}:v1`, destination]);
    const verify = await runSignedImage(['verify', '--plain-http', '--config-dir', configDir, '--recursive', `${destination}:v1`]);
    const again = await runSignedImage(['copy', '--plain-http', `${ref}:v1`, destination]);

    expect(copy.code).toBe(0);
    // Same registry: every blob is mounted; manifests, signatures and the tag are pushed.
    expect(copy.stderr.split('\n').filter((line) => line.startsWith('Mounted blob '))).toHaveLength(8);
    expect(copy.stderr.split('\n').filter((line) => line.startsWith('Copied  signature '))).toHaveLength(3);
    expect(copy.stdout).toBe(`Copied ${ref}@${index.digest} to ${destination}@${index.digest} (tag v1): 7 copied, 8 mounted, 0 already there, 0 bytes uploaded\n`);
    expect(verify.code).toBe(0);
    expect(verify.stdout.split('\n').filter(Boolean)).toHaveLength(3);
    expect(again.code).toBe(0);
    expect(again.stderr).toBe('');
    expect(again.stdout).toMatch(new RegExp(`^Nothing to copy: ${ref}@${index.digest} is at ${destination}@${index.digest} \\(tag v1\\): 0 copied, 0 mounted, \\d+ already there, 0 bytes uploaded\\n$`));
  });

  test('a destination digest other than the source digest is refused', async () => {
    const { repository, ref } = registryRepository('cli/copy-digest');
    const { index, children } = await pushIndex(repository);

    const copy = await runSignedImage(['copy', '--plain-http', `${ref}@${index.digest}`, `${ref}-copy@${children[0].digest}`]);

    expect(copy.code).toBe(1);
    expect(copy.stderr).toContain(`the destination names digest ${children[0].digest}`);
  });
});
