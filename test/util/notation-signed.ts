import { createHash } from 'node:crypto';
import { cpSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EMPTY_JSON_DIGEST, MediaType } from '../../lambda/oci/media-types';
import { OciRepository } from '../../lambda/oci/repository';
import { Descriptor } from '../../lambda/oci/types';

/**
 * The alpine image and the JWS envelope `notation sign` made for it, from notation-go's published test data
 * (test/fixtures/notation-go, see SOURCE.md there).
 */
const TESTDATA = join(__dirname, '..', 'fixtures', 'notation-go', 'internal', 'testdata');
export const ALPINE_LAYOUT = join(TESTDATA, 'oci-layout');
export const ALPINE_TAG = 'v2';
export const ALPINE_DIGEST = 'sha256:19dbd2e48e921426ee8ace4dc892edfb2ecdc1d1a72d5416c83670c30acecef0';
const ALPINE_CONFIG = 'sha256:572996c3caeacea40b947911a9dda21516c082b5a64af30048a02a6f5eb956d4';
const ALPINE_LAYER = 'sha256:63b65145d645c1250c391b2d16ebe53b3747c295ca8ba2fcb6b0cf064a4dc21c';

export function alpineBlob(digest: string): Uint8Array {
  return new Uint8Array(readFileSync(join(ALPINE_LAYOUT, 'blobs', 'sha256', digest.slice('sha256:'.length))));
}

/** notation's JWS envelope over the alpine manifest (PS256, self-signed `CN=alpine` certificate). */
export function notationEnvelope(): Uint8Array {
  return new Uint8Array(readFileSync(join(TESTDATA, 'jws_signature.sig')));
}

/** The envelope's signing certificate (DER), the trust anchor for verifying it. */
export function notationSigningCertificate(): Uint8Array {
  const envelope = JSON.parse(Buffer.from(notationEnvelope()).toString('utf8'));
  return new Uint8Array(Buffer.from(envelope.header.x5c[0], 'base64'));
}

/**
 * The signature manifest exactly as notation 1.x writes it (the legacy form: config media type
 * `application/vnd.cncf.notary.signature`, no artifactType), for the given envelope.
 */
export function legacySignatureManifest(subject: Descriptor, envelope: Uint8Array, certificateDer: Uint8Array): Uint8Array {
  const thumbprint = createHash('sha256').update(certificateDer).digest('hex');
  return new TextEncoder().encode(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.OCI_MANIFEST,
      config: { mediaType: MediaType.NOTARY_SIGNATURE, digest: EMPTY_JSON_DIGEST, size: 2 },
      layers: [{ mediaType: MediaType.JWS, digest: `sha256:${createHash('sha256').update(envelope).digest('hex')}`, size: envelope.byteLength }],
      subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
      annotations: {
        'io.cncf.notary.x509chain.thumbprint#S256': JSON.stringify([thumbprint]),
        'org.opencontainers.image.created': '2023-03-14T08:10:02Z',
      },
    }),
  );
}

/** Pushes the notation-signed alpine image and its legacy-form signature as notation 1.x does. */
export async function pushNotationSignedAlpine(
  repository: OciRepository,
  tag: string = ALPINE_TAG,
): Promise<{ image: Descriptor; signature: Descriptor }> {
  await repository.pushBlob(alpineBlob(ALPINE_CONFIG), MediaType.OCI_CONFIG);
  await repository.pushBlob(alpineBlob(ALPINE_LAYER), MediaType.OCI_LAYER_TAR_GZIP);
  const { descriptor: image } = await repository.pushManifest(alpineBlob(ALPINE_DIGEST), MediaType.OCI_MANIFEST, tag);
  const signature = await pushLegacySignature(repository, image);
  return { image, signature };
}

/** Adds notation's legacy-form signature for `image` to a repository (the envelope and config blobs first). */
export async function pushLegacySignature(repository: OciRepository, image: Descriptor): Promise<Descriptor> {
  const envelope = notationEnvelope();
  await repository.pushBlob(envelope, MediaType.JWS);
  await repository.pushBlob(new TextEncoder().encode('{}'), MediaType.NOTARY_SIGNATURE);
  const manifest = legacySignatureManifest(image, envelope, notationSigningCertificate());
  const { descriptor } = await repository.pushManifest(manifest, MediaType.OCI_MANIFEST);
  return descriptor;
}

/** A private copy of the alpine OCI layout, safe to write to. */
export function copyAlpineLayout(): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'signed-image-layout-')), 'alpine');
  cpSync(ALPINE_LAYOUT, dir, { recursive: true });
  return dir;
}
