import { randomBytes } from 'node:crypto';
import { sha256Digest } from '../../lambda/oci/digest';
import { MediaType } from '../../lambda/oci/media-types';
import { OciRepository } from '../../lambda/oci/repository';
import { Descriptor } from '../../lambda/oci/types';

/** A small image with random content: its config, one layer and the manifest bytes. */
export interface TestImage {
  readonly config: Uint8Array;
  readonly configDescriptor: Descriptor;
  readonly layer: Uint8Array;
  readonly layerDescriptor: Descriptor;
  readonly manifest: Uint8Array;
  readonly manifestDescriptor: Descriptor;
}

function describe(bytes: Uint8Array, mediaType: string): Descriptor {
  return { mediaType, digest: sha256Digest(bytes), size: bytes.byteLength };
}

/** An OCI image with random content of fixed sizes (a 64-byte layer), so every call gives a new digest. */
export function createRandomImage(options: { layerBytes?: number } = {}): TestImage {
  const config = new TextEncoder().encode(
    JSON.stringify({ architecture: 'amd64', os: 'linux', config: { Labels: { nonce: randomBytes(8).toString('hex') } } }),
  );
  const layer = new Uint8Array(randomBytes(options.layerBytes ?? 64));
  const configDescriptor = describe(config, MediaType.OCI_CONFIG);
  const layerDescriptor = describe(layer, MediaType.OCI_LAYER_TAR_GZIP);
  const manifest = new TextEncoder().encode(
    JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OCI_MANIFEST, config: configDescriptor, layers: [layerDescriptor] }),
  );
  return { config, configDescriptor, layer, layerDescriptor, manifest, manifestDescriptor: describe(manifest, MediaType.OCI_MANIFEST) };
}

/** Pushes the blobs, then the manifest (by digest, or under `tag`); returns the manifest descriptor. */
export async function pushImage(repository: OciRepository, image: TestImage, tag?: string): Promise<Descriptor> {
  await repository.pushBlob(image.config, MediaType.OCI_CONFIG);
  await repository.pushBlob(image.layer, MediaType.OCI_LAYER_TAR_GZIP);
  const { descriptor } = await repository.pushManifest(image.manifest, MediaType.OCI_MANIFEST, tag);
  return descriptor;
}

/**
 * The bytes of a signature-like OCI 1.1 artifact manifest whose subject is `subject` (empty config, one
 * layer): what a Notary signature manifest looks like to the registry. Its blobs must be pushed first.
 */
export function referrerManifest(
  subject: Descriptor,
  layer: Descriptor,
  options: { artifactType?: string; annotations?: Record<string, string> } = {},
): Uint8Array {
  return new TextEncoder().encode(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.OCI_MANIFEST,
      artifactType: options.artifactType ?? MediaType.NOTARY_SIGNATURE,
      config: { mediaType: MediaType.OCI_EMPTY, digest: sha256Digest(new TextEncoder().encode('{}')), size: 2 },
      layers: [layer],
      subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
      annotations: options.annotations ?? { 'io.cncf.notary.x509chain.thumbprint#S256': '["test"]' },
    }),
  );
}

/** Pushes a referrer (its layer and the empty config first) and returns its manifest descriptor. */
export async function pushReferrer(
  repository: OciRepository,
  subject: Descriptor,
  options: { artifactType?: string; annotations?: Record<string, string> } = {},
): Promise<{ descriptor: Descriptor; referrersIndexedByStore: boolean }> {
  await repository.pushBlob(new TextEncoder().encode('{}'), MediaType.OCI_EMPTY);
  const layer = await repository.pushBlob(new Uint8Array(randomBytes(32)), MediaType.JWS);
  return repository.pushManifest(referrerManifest(subject, layer, options), MediaType.OCI_MANIFEST);
}

/** A multi-arch image: an OCI image index of one random image per platform. */
export interface TestIndex {
  readonly index: Descriptor;
  /** The platform manifests, in the index's order. */
  readonly children: readonly Descriptor[];
}

/**
 * Pushes one random image per platform (default linux/amd64 and linux/arm64), then an OCI image index listing
 * them with their platforms (by digest, or under `tag`).
 */
export async function pushIndex(
  repository: OciRepository,
  tag?: string,
  platforms: readonly string[] = ['linux/amd64', 'linux/arm64'],
): Promise<TestIndex> {
  const children: Descriptor[] = [];
  for (const platform of platforms) {
    const [os, architecture] = platform.split('/');
    const manifest = await pushImage(repository, createRandomImage());
    children.push({ mediaType: manifest.mediaType, digest: manifest.digest, size: manifest.size, platform: { os, architecture } });
  }
  const bytes = new TextEncoder().encode(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OCI_INDEX, manifests: children }));
  const { descriptor } = await repository.pushManifest(bytes, MediaType.OCI_INDEX, tag);
  return { index: descriptor, children };
}
