import { describeSignature } from '../../lambda/notary/describe-signature';
import { buildPayload } from '../../lambda/notary/payload';
import { MediaType } from '../../lambda/oci/media-types';
import { LocalKeySigner } from '../../lambda/signers/local-key';
import { createChain } from '../util/pki';

const TARGET = { mediaType: MediaType.OCI_MANIFEST, digest: `sha256:${'a'.repeat(64)}`, size: 512 };

describe('describeSignature (inspect)', () => {
  test('describes a JWS envelope: scheme, signed artifact with its metadata, chain', async () => {
    const chain = await createChain();
    const signed = await new LocalKeySigner({ key: chain.leaf.key, certificateChain: chain.chain }).sign(buildPayload(TARGET, { build: '42' }));
    const description = describeSignature(`sha256:${'b'.repeat(64)}`, signed.envelope);
    expect(description).toMatchObject({ mediaType: MediaType.JWS, signingScheme: 'notary.x509', signedArtifact: { ...TARGET, annotations: { build: '42' } } });
    expect(description.certificateChain).toHaveLength(chain.chain.length);
  });

  test('a COSE envelope is reported as a format that is not supported, not as broken JSON', () => {
    expect(() => describeSignature(`sha256:${'c'.repeat(64)}`, new Uint8Array([0xd2, 0x84]), MediaType.COSE))
      .toThrow('signature envelope format with media type "application/cose" is not supported');
  });
});
