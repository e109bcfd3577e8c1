/**
 * Verification of a multi-arch image: given an image index, the index and every manifest it lists must verify
 * (each under its own signature, as `signImageRecursively` signs them); given a platform manifest, only that
 * manifest. A runtime may pull either digest, so an index whose children are unsigned, or children whose index
 * is unsigned, is refused. Each digest goes through `verifyImage` unchanged.
 */
import { indexChildren, MAX_INDEX_NESTING } from './sign-index';
import { VerificationOutcome } from './types';
import { pinnedReference, VerifyImageRequest, verifyImageResolving } from './verify-image';
import { isIndexMediaType } from '../oci/content';
import { Descriptor } from '../oci/types';

export interface RecursiveVerificationOutcome {
  /** True when every outcome verified. */
  readonly verified: boolean;
  /** The digest `tagOrDigest` resolved to ('' when it did not resolve). */
  readonly digest: string;
  /** The given manifest's outcome first, then each listed manifest's (depth first, in index order). */
  readonly outcomes: readonly VerificationOutcome[];
}

/**
 * Verifies `tagOrDigest` and, when it is an image index that verified, every manifest it lists (nested indexes
 * too, at most `MAX_INDEX_NESTING` levels). Never throws for a verification failure: a listed manifest that
 * cannot be read is an outcome with a `registry` error.
 */
export async function verifyImageRecursively(request: VerifyImageRequest): Promise<RecursiveVerificationOutcome> {
  const top = await verifyImageResolving(request);
  const outcomes: VerificationOutcome[] = [top.outcome];
  if (top.outcome.verified) {
    const seen = new Set([top.outcome.digest]);
    const walk = async (digest: string, mediaType: string, depth: number): Promise<void> => {
      // An image manifest lists nothing: only an index is read again, for the manifests it lists.
      if (!isIndexMediaType(mediaType)) return;
      const children = await listedManifests(request, digest, depth, outcomes);
      for (const child of children) {
        if (seen.has(child.digest)) continue;
        seen.add(child.digest);
        const verified = await verifyImageResolving({
          ...request,
          tagOrDigest: child.digest,
          displayReference: pinnedReference(request.displayReference, request.tagOrDigest, child.digest),
        });
        outcomes.push(verified.outcome);
        if (verified.outcome.verified) await walk(child.digest, verified.mediaType, depth + 1);
      }
    };
    await walk(top.outcome.digest, top.mediaType, 0);
  }
  return { verified: outcomes.every((outcome) => outcome.verified), digest: top.outcome.digest, outcomes };
}

/** The manifests the index `digest` lists; a read failure becomes an outcome. */
async function listedManifests(request: VerifyImageRequest, digest: string, depth: number, outcomes: VerificationOutcome[]): Promise<Descriptor[]> {
  const reference = pinnedReference(request.displayReference, request.tagOrDigest, digest);
  try {
    const children = await indexChildren(request.repository, digest);
    if (children && depth >= MAX_INDEX_NESTING) throw new Error(`image indexes nest deeper than ${MAX_INDEX_NESTING} levels`);
    return children ?? [];
  } catch (error) {
    const message = `${reference}: the manifests this index lists cannot be read: ${(error as Error)?.message ?? String(error)}`;
    outcomes.push({ reference, digest, verified: false, level: outcomes[0].level, results: [], error: { code: 'registry', message } });
    return [];
  }
}
