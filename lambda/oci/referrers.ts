import { parseDigest } from './digest';
import { MediaType } from './media-types';
import { Descriptor, ImageIndex } from './types';

/** Pure helpers of referrer listing and the referrers tag schema (OCI distribution-spec v1.1, "Referrers Tag Schema"). */

/** The tag of the referrers tag schema index of `digest`: `<alg>-<hex>`, e.g. `sha256-b847…`. */
export function referrersTag(digest: string): string {
  const { algorithm, hex } = parseDigest(digest);
  return `${algorithm.slice(0, 32)}-${hex.slice(0, 64)}`.replace(/[^\w.-]/g, '-');
}

/** The manifest fields that make up a referrer's descriptor. */
export interface ReferrerManifestFields {
  readonly artifactType?: string;
  readonly config?: { readonly mediaType?: string };
  readonly annotations?: Record<string, string>;
}

/**
 * The descriptor listed for a referrer: artifactType is the manifest's artifactType, or its config
 * mediaType when absent (so both Notary signature formats list as the signature type), plus annotations.
 */
export function referrerDescriptor(manifest: Descriptor, fields: ReferrerManifestFields): Descriptor {
  const artifactType = fields.artifactType ?? fields.config?.mediaType;
  return {
    mediaType: manifest.mediaType,
    digest: manifest.digest,
    size: manifest.size,
    ...(fields.annotations && Object.keys(fields.annotations).length > 0 ? { annotations: fields.annotations } : {}),
    ...(artifactType ? { artifactType } : {}),
  };
}

/** An empty referrers index. */
export function emptyReferrersIndex(): ImageIndex {
  return { schemaVersion: 2, mediaType: MediaType.OCI_INDEX, manifests: [] };
}

export function containsReferrer(index: ImageIndex, digest: string): boolean {
  return index.manifests.some((entry) => entry.digest === digest);
}

/** The index with `referrer` appended, in the byte layout oras writes (7c). */
export function withReferrer(index: ImageIndex, referrer: Descriptor): ImageIndex {
  return {
    schemaVersion: 2,
    mediaType: MediaType.OCI_INDEX,
    manifests: [...index.manifests.filter((entry) => entry.digest !== referrer.digest), referrer],
  };
}

/** Keeps the entries of `artifactType` (all when undefined). */
export function filterByArtifactType(entries: readonly Descriptor[], artifactType?: string): Descriptor[] {
  return artifactType ? entries.filter((entry) => entry.artifactType === artifactType) : [...entries];
}
