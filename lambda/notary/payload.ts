/** The Notary payload `application/vnd.cncf.notary.payload.v1+json` (notaryproject/specifications specs/signature-specification.md, "Payload"). */
import { canonicalJson, isPlainObject, parseJsonBytes, utf8 } from './encoding';
import { NotaryPayload } from './types';
import { isValidDigest } from '../oci/digest';
import { Descriptor } from '../oci/types';

/**
 * The payload bytes signing `target`: only mediaType, digest, size and the user metadata, as notation's
 * `SanitizeTargetArtifact` keeps them, with sorted keys.
 */
export function buildPayload(target: Descriptor, annotations?: Readonly<Record<string, string>>): Uint8Array {
  const targetArtifact: Record<string, unknown> = { mediaType: target.mediaType, digest: target.digest, size: target.size };
  if (annotations && Object.keys(annotations).length > 0) targetArtifact.annotations = { ...annotations };
  return utf8(canonicalJson({ targetArtifact }));
}

/** Parses and validates payload bytes; throws an Error naming the bad field. */
export function parsePayload(bytes: Uint8Array): NotaryPayload {
  const json = parseJsonBytes(bytes, 'signature payload');
  if (!isPlainObject(json) || !isPlainObject(json.targetArtifact)) {
    throw new Error('signature payload has no "targetArtifact" object');
  }
  const target = json.targetArtifact;
  if (typeof target.mediaType !== 'string' || target.mediaType === '') throw new Error('signature payload targetArtifact.mediaType is missing');
  if (typeof target.digest !== 'string' || !isValidDigest(target.digest)) throw new Error('signature payload targetArtifact.digest is not a valid digest');
  if (typeof target.size !== 'number' || !Number.isSafeInteger(target.size) || target.size < 0) {
    throw new Error('signature payload targetArtifact.size is not a non-negative integer');
  }
  let annotations: Record<string, string> | undefined;
  if (target.annotations !== undefined) {
    if (!isPlainObject(target.annotations) || Object.values(target.annotations).some((value) => typeof value !== 'string')) {
      throw new Error('signature payload targetArtifact.annotations must map strings to strings');
    }
    annotations = target.annotations as Record<string, string>;
  }
  return {
    targetArtifact: {
      mediaType: target.mediaType,
      digest: target.digest,
      size: target.size,
      ...(annotations ? { annotations } : {}),
    },
  };
}

/** notation's `content.Equal`: the signed descriptor names exactly the resolved manifest. */
export function sameContent(a: Descriptor, b: Descriptor): boolean {
  return a.mediaType === b.mediaType && a.digest === b.digest && a.size === b.size;
}
