/**
 * Copies an image with its Notary signatures to another repository, digests unchanged: the image index and
 * every manifest it lists, their config and layer blobs, and each manifest's signature manifests with their
 * envelope blobs (pushed with their `subject`, so the destination's referrers API, or the referrers tag schema
 * the destination client maintains, lists them). `verify` at the destination then sees what it saw at the source.
 *
 * Bounded: one blob is held in memory at a time, at most `maxBlobBytes` (default 512 MiB; this copies by
 * download and upload, not by streaming, which suits images of Lambda-sized and CLI-sized hosts), manifests at
 * most 4 MiB, indexes nested at most MAX_INDEX_NESTING levels, signatures per manifest at most `maxSignatures`.
 * Resumable: what the destination holds is not copied again, so a second run copies nothing.
 */
import { listSignatures } from './list-signatures';
import { MAX_INDEX_NESTING } from './sign-index';
import { SignatureStore } from './signature-store';
import { isIndexMediaType, parseImageIndex, parseImageManifest } from '../oci/content';
import { isValidDigest } from '../oci/digest';
import { DEFAULT_LIMITS, OciRepository } from '../oci/repository';
import { Descriptor } from '../oci/types';

/** Largest blob copied by default: the copy holds one blob in memory at a time. */
export const DEFAULT_MAX_COPY_BLOB_BYTES = 512 * 1024 * 1024;
/** Signatures copied per manifest at most by default (notation's `--max-signatures` default). */
const DEFAULT_MAX_SIGNATURES = 100;

export interface CopyImageRequest {
  readonly source: OciRepository;
  /** The tag or digest to copy. */
  readonly tagOrDigest: string;
  readonly destination: OciRepository;
  /** Tag the copy with this tag (moved there if it named another manifest). @default no tag */
  readonly tag?: string;
  /** The digest the destination reference names: the copy is refused unless the source resolves to it. */
  readonly expectedDigest?: string;
  /** @default DEFAULT_MAX_COPY_BLOB_BYTES */
  readonly maxBlobBytes?: number;
  /** @default 100 */
  readonly maxSignatures?: number;
  /** Called for every blob and manifest as it is copied, mounted or skipped. */
  readonly onProgress?: (event: CopyEvent) => void;
}

export interface CopyEvent {
  readonly kind: 'blob' | 'manifest' | 'signature' | 'tag';
  /** The digest copied, or the tag. */
  readonly digest: string;
  readonly size: number;
  /** `mounted`: by cross-repository mount; `skipped`: the destination had it already. */
  readonly action: 'copied' | 'mounted' | 'skipped';
}

export interface CopyImageResult {
  /** The copied manifest (index or image manifest), identical at the source and the destination. */
  readonly target: Descriptor;
  readonly copied: number;
  readonly mounted: number;
  readonly skipped: number;
  /** Bytes uploaded (mounted and skipped blobs are not counted). */
  readonly bytesUploaded: number;
}

export class CopyImageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CopyImageError';
  }
}

/**
 * Copies `tagOrDigest` of `source` with its signatures to `destination`: blobs before the manifest that refers to
 * them, platform manifests before their index, the signed manifest before its signatures, the tag last, so that
 * whatever the destination shows (even after an interrupted copy) is complete. Throws on the first failure;
 * running again resumes.
 */
export async function copyImage(request: CopyImageRequest): Promise<CopyImageResult> {
  const { source, destination } = request;
  if (request.tag !== undefined && isValidDigest(request.tag)) throw new CopyImageError(`destination tag "${request.tag}" is a digest; give a tag or none`);
  const maxBlobBytes = request.maxBlobBytes ?? DEFAULT_MAX_COPY_BLOB_BYTES;
  const counts = { copied: 0, mounted: 0, skipped: 0, bytesUploaded: 0 };
  const report = (event: CopyEvent) => {
    if (event.action === 'copied') counts.copied++;
    else if (event.action === 'mounted') counts.mounted++;
    else counts.skipped++;
    request.onProgress?.(event);
  };

  const target = await new SignatureStore(source).resolve(request.tagOrDigest);
  if (request.expectedDigest !== undefined && request.expectedDigest !== target.digest) {
    throw new CopyImageError(`the destination names digest ${request.expectedDigest}, but ${source.name}@${request.tagOrDigest} is ${target.digest}; a copy keeps the digest`);
  }
  const done = new Set<string>();

  const copyBlob = async (blob: Descriptor): Promise<void> => {
    if (done.has(blob.digest)) return;
    done.add(blob.digest);
    if (await destination.hasBlob(blob.digest)) return report({ kind: 'blob', digest: blob.digest, size: blob.size, action: 'skipped' });
    if (destination.mountBlob && await destination.mountBlob(blob, source)) {
      return report({ kind: 'blob', digest: blob.digest, size: blob.size, action: 'mounted' });
    }
    const bytes = await source.fetchBlob(blob, { maxBytes: maxBlobBytes });
    await destination.pushBlob(bytes, blob.mediaType);
    counts.bytesUploaded += bytes.byteLength;
    report({ kind: 'blob', digest: blob.digest, size: blob.size, action: 'copied' });
  };

  /** Copies one image manifest or index and what it refers to, unless the destination holds it. */
  const copyManifest = async (digest: string, depth: number): Promise<Descriptor> => {
    const { descriptor, bytes } = await source.fetchManifest(digest, { maxBytes: DEFAULT_LIMITS.manifestBytes });
    if (done.has(digest)) return descriptor;
    done.add(digest);
    const present = await destination.hasManifest(digest);
    if (isIndexMediaType(descriptor.mediaType)) {
      if (depth >= MAX_INDEX_NESTING) throw new CopyImageError(`${source.name}@${digest}: image indexes nest deeper than ${MAX_INDEX_NESTING} levels`);
      // Walked even when the destination holds the index: its manifests may have gained signatures since.
      for (const child of parseImageIndex(bytes, `index ${source.name}@${digest}`).manifests) await copyWithSignatures(child.digest, depth + 1);
    } else if (!present) {
      const manifest = parseImageManifest(bytes, `manifest ${source.name}@${digest}`);
      for (const blob of [manifest.config, ...manifest.layers]) {
        if (blob.urls?.length) continue; // a foreign layer (Windows base images) is not in the registry to copy
        await copyBlob(blob);
      }
    }
    if (present) {
      report({ kind: 'manifest', digest, size: descriptor.size, action: 'skipped' });
    } else {
      await destination.pushManifest(bytes, descriptor.mediaType);
      report({ kind: 'manifest', digest, size: descriptor.size, action: 'copied' });
    }
    return descriptor;
  };

  const copyWithSignatures = async (digest: string, depth: number): Promise<void> => {
    const subject = await copyManifest(digest, depth);
    const signatures = await listSignatures(source, subject, { maxSignatures: request.maxSignatures ?? DEFAULT_MAX_SIGNATURES });
    if (signatures.length === 0) return;
    // A signature manifest the destination holds but does not list (an interrupted tag schema update) is
    // pushed again, so that the destination indexes it.
    const listed = new Set((await listSignatures(destination, subject)).map((signature) => signature.digest));
    for (const signature of signatures) {
      if (listed.has(signature.digest)) {
        if (!done.has(signature.digest)) report({ kind: 'signature', digest: signature.digest, size: signature.size, action: 'skipped' });
        done.add(signature.digest);
        continue;
      }
      await copySignature(signature.digest);
    }
  };

  const copySignature = async (digest: string): Promise<void> => {
    const { descriptor, bytes } = await source.fetchManifest(digest, { maxBytes: DEFAULT_LIMITS.manifestBytes });
    const manifest = parseImageManifest(bytes, `signature manifest ${source.name}@${digest}`);
    for (const blob of [manifest.config, ...manifest.layers]) await copyBlob(blob);
    await destination.pushManifest(bytes, descriptor.mediaType);
    done.add(digest);
    report({ kind: 'signature', digest, size: descriptor.size, action: 'copied' });
  };

  await copyWithSignatures(target.digest, 0);

  const tag = request.tag;
  if (tag !== undefined) {
    const current = await destination.resolve(tag).catch(() => undefined);
    if (current?.digest === target.digest) {
      report({ kind: 'tag', digest: tag, size: target.size, action: 'skipped' });
    } else {
      const { bytes } = await source.fetchManifest(target.digest, { maxBytes: DEFAULT_LIMITS.manifestBytes });
      await destination.pushManifest(bytes, target.mediaType, tag);
      report({ kind: 'tag', digest: tag, size: target.size, action: 'copied' });
    }
  }
  return { target, ...counts };
}
