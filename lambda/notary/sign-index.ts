/**
 * Signs a multi-arch image: the image index and every manifest it lists, each with its own Notary signature
 * (notation signs only the manifest it is given, notaryproject/notation#1229; cosign's `sign --recursive` signs
 * every entry of the index, sigstore/cosign cmd/cosign/cli/sign/sign.go, and so does this).
 */
import { signImage, SignImageRequest, SignImageResult } from './sign-image';
import { SignatureStore } from './signature-store';
import { isIndexMediaType, parseImageIndex } from '../oci/content';
import { DEFAULT_LIMITS, OciRepository } from '../oci/repository';
import { Descriptor } from '../oci/types';

export interface SignImageRecursivelyRequest extends SignImageRequest {
  /** False signs only the manifest `tagOrDigest` names, index or not (as notation does). @default true */
  readonly recursive?: boolean;
  /** Called after each manifest is signed (or its signature reused), in signing order. */
  readonly onSigned?: (result: SignImageResult) => void;
}

export interface SignImageRecursivelyResult {
  /** The manifest `tagOrDigest` resolved to (the index, or a single manifest when it is not an index). */
  readonly target: Descriptor;
  /** One result per signed manifest: the index's children in index order, then the index last. */
  readonly results: readonly SignImageResult[];
}

/** Some manifests of an index were signed and others were not; rerunning signs the rest. */
export class PartialSigningError extends Error {
  constructor(
    readonly target: Descriptor,
    /** The manifests that carry a signature by the signer now (new or reused). */
    readonly signed: readonly SignImageResult[],
    /** The manifests left unsigned, with why. The index is among them whenever a child failed. */
    readonly failed: readonly { readonly digest: string; readonly error: unknown }[],
  ) {
    super(
      `signed ${signed.length} of ${signed.length + failed.length} manifests of index ${target.digest}; not signed:\n`
      + failed.map(({ digest, error }) => `  ${digest}: ${(error as Error)?.message ?? String(error)}`).join('\n'),
    );
    this.name = 'PartialSigningError';
  }
}

/** Index levels followed at most (an index listing indexes); deeper nesting is refused, not followed. */
export const MAX_INDEX_NESTING = 4;

/**
 * Signs `tagOrDigest` and, when it is an image index, every manifest it lists (nested indexes too), with the
 * same signer, user metadata and options. Each manifest goes through `signImage`, so its reuse rule applies to
 * each one and a rerun signs only what is missing. Children are signed first and the index last, and the index
 * only when every child is signed: a signed index then always means signed platform manifests, whichever digest
 * a runtime pulls. Throws `PartialSigningError` naming the signed and unsigned digests when any signing failed.
 */
export async function signImageRecursively(request: SignImageRecursivelyRequest): Promise<SignImageRecursivelyResult> {
  const store = new SignatureStore(request.repository);
  // Resolve once and sign by digest from here on, so a tag moved meanwhile cannot mix two images.
  const target = await store.resolve(request.tagOrDigest);
  // A single manifest is signed as signImage signs it, its errors unchanged.
  if (request.recursive === false || !isIndexMediaType(target.mediaType)) {
    const result = await signImage({ ...request, tagOrDigest: target.digest });
    request.onSigned?.(result);
    return { target, results: [result] };
  }
  const signed: SignImageResult[] = [];
  const failed: { digest: string; error: unknown }[] = [];
  const sign = async (digest: string): Promise<boolean> => {
    try {
      const result = await signImage({ ...request, tagOrDigest: digest });
      signed.push(result);
      request.onSigned?.(result);
      return true;
    } catch (error) {
      failed.push({ digest, error });
      return false;
    }
  };

  const walk = async (digest: string, depth: number, seen: Set<string>): Promise<boolean> => {
    let children: Descriptor[] | undefined;
    try {
      children = await indexChildren(request.repository, digest);
      if (children && depth >= MAX_INDEX_NESTING) throw new Error(`image indexes nest deeper than ${MAX_INDEX_NESTING} levels`);
    } catch (error) {
      if (depth === 0) throw error;
      failed.push({ digest, error });
      return false;
    }
    let allSigned = true;
    for (const child of children ?? []) {
      if (seen.has(child.digest)) continue;
      seen.add(child.digest);
      if (!(await walk(child.digest, depth + 1, seen))) allSigned = false;
    }
    if (!allSigned) {
      failed.push({ digest, error: new Error('not signed because a manifest it lists is not signed') });
      return false;
    }
    return sign(digest);
  };

  await walk(target.digest, 0, new Set([target.digest]));
  if (failed.length > 0) throw new PartialSigningError(target, signed, failed);
  return { target, results: signed };
}

/**
 * The manifests the index `digest` lists, read (≤ 4 MiB, its bytes checked against the digest) and validated;
 * undefined when the manifest is not an index. The stored media type decides, not the one a parent listed.
 */
export async function indexChildren(repository: OciRepository, digest: string): Promise<Descriptor[] | undefined> {
  const { descriptor, bytes } = await repository.fetchManifest(digest, { maxBytes: DEFAULT_LIMITS.manifestBytes });
  if (!isIndexMediaType(descriptor.mediaType)) return undefined;
  return parseImageIndex(bytes, `index ${repository.name}@${digest}`).manifests;
}
