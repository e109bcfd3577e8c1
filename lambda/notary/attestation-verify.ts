/**
 * Verifying that an image has a signed attestation of a type that meets requirements. Each attestation referrer
 * is checked as a whole: its manifest (subject: the image), its Notary signature under the same trust policy as
 * the image (`verifyImage` on the attestation manifest's digest, whose signature covers the document's digest
 * through the manifest), the document (bytes checked against that digest) and what it says.
 */
import { AttestationType, attestationMediaType, InvalidAttestationError, MAX_ATTESTATION_BYTES, parseAttestationManifest, parseProvenanceStatement, parseSbom } from './attestation';
import { listAttestations } from './attestation-list';
import { ProvenanceRequirements, ProvenanceSummary, summarizeProvenance, unmetProvenanceRequirement } from './attestation-requirements';
import { SignatureStore } from './signature-store';
import { VerificationOutcome } from './types';
import { pinnedReference, verifyImage, VerifyImageRequest } from './verify-image';
import { ContentTooLargeError, DigestMismatchError, InvalidContentError } from '../oci/errors';
import { DEFAULT_LIMITS } from '../oci/repository';
import { Descriptor } from '../oci/types';

/** Attestations of the type examined at most. */
export const DEFAULT_MAX_ATTESTATIONS = 20;

/**
 * Why an attestation requirement failed, from the least to the furthest an attestation got: none attached, none
 * signed, a signature over other content, a signer the trust policy does not trust (or another signature
 * failure), an attestation that is not a valid document of its type, or a document that does not meet the
 * requirements (e.g. another builder). `error` is a trust policy, trust store or registry error.
 */
export type AttestationFailureReason = 'missing' | 'unsigned' | 'tampered' | 'untrusted' | 'signature' | 'invalid' | 'requirement' | 'error';

const PROGRESS: readonly AttestationFailureReason[] = ['missing', 'unsigned', 'tampered', 'untrusted', 'signature', 'invalid', 'requirement'];

export interface VerifyAttestationRequest extends Omit<VerifyImageRequest, 'userMetadata'> {
  readonly type: AttestationType;
  /** For `slsa-provenance`; an SBOM only needs to be present, signed and valid. @default none */
  readonly requirements?: ProvenanceRequirements;
  /** @default 20 */
  readonly maxAttestations?: number;
}

/** One attestation examined, and why it did not pass (when it did not). */
export interface AttestationAttempt {
  readonly digest: string;
  readonly verified: boolean;
  readonly reason?: AttestationFailureReason;
  readonly message?: string;
  readonly signatureDigest?: string;
}

export interface AttestationVerification {
  readonly type: AttestationType;
  readonly artifactType: string;
  /** The image reference as given. */
  readonly reference: string;
  /** The image digest ('' when it could not be resolved). */
  readonly digest: string;
  readonly verified: boolean;
  /** The attestation manifest that passed. */
  readonly attestationDigest?: string;
  /** The Notary signature of that attestation that verified. */
  readonly signatureDigest?: string;
  /** For a provenance attestation that passed: its builder and sources. */
  readonly provenance?: ProvenanceSummary;
  readonly attempts: readonly AttestationAttempt[];
  readonly failure?: { readonly reason: AttestationFailureReason; readonly message: string };
}

/**
 * Verifies that the image has an attestation of `request.type` that is signed under the trust policy and meets
 * `request.requirements`; the first that does is the verdict. Never throws for a verification failure: the
 * failure message names what is missing or wrong (the type, the signature check, the field).
 */
export async function verifyAttestation(request: VerifyAttestationRequest): Promise<AttestationVerification> {
  const { type } = request;
  const artifactType = attestationMediaType(type);
  const base = { type, artifactType, reference: request.displayReference };
  let image: Descriptor;
  let listed;
  try {
    image = await new SignatureStore(request.repository).resolve(request.tagOrDigest, request.displayReference);
    listed = (await listAttestations(request.repository, image, type)).slice(0, Math.max(0, request.maxAttestations ?? DEFAULT_MAX_ATTESTATIONS));
  } catch (error) {
    return { ...base, digest: '', verified: false, attempts: [], failure: { reason: 'error', message: (error as Error).message } };
  }
  const pinned = pinnedReference(request.displayReference, request.tagOrDigest, image.digest);
  const repositoryReference = pinned.slice(0, -`@${image.digest}`.length);
  if (listed.length === 0) {
    return {
      ...base,
      digest: image.digest,
      verified: false,
      attempts: [],
      failure: { reason: 'missing', message: `${type} attestation required: no ${type} attestation (artifactType ${artifactType}) is attached to ${pinned}` },
    };
  }

  const attempts: AttestationAttempt[] = [];
  for (const { descriptor } of listed) {
    const attempt = await examine(request, image, descriptor, `${repositoryReference}@${descriptor.digest}`);
    if ('stop' in attempt) {
      return { ...base, digest: image.digest, verified: false, attempts, failure: { reason: 'error', message: attempt.stop } };
    }
    attempts.push(attempt.attempt);
    if (attempt.attempt.verified) {
      return {
        ...base,
        digest: image.digest,
        verified: true,
        attestationDigest: descriptor.digest,
        signatureDigest: attempt.attempt.signatureDigest,
        ...(attempt.provenance ? { provenance: attempt.provenance } : {}),
        attempts,
      };
    }
  }
  // The attestation that got furthest names the reason; every one is listed.
  const furthest = attempts.reduce((best, next) => (PROGRESS.indexOf(next.reason!) > PROGRESS.indexOf(best.reason!) ? next : best));
  const message = `${type} attestation required: no attestation attached to ${pinned} passes:\n${attempts.map((a) => `  ${a.digest}: ${a.message}`).join('\n')}`;
  return { ...base, digest: image.digest, verified: false, attempts, failure: { reason: furthest.reason!, message } };
}

type Examined = { attempt: AttestationAttempt; provenance?: ProvenanceSummary } | { stop: string };

async function examine(request: VerifyAttestationRequest, image: Descriptor, listed: Descriptor, displayReference: string): Promise<Examined> {
  const { repository, type } = request;
  const fail = (reason: AttestationFailureReason, message: string, signatureDigest?: string): Examined => ({
    attempt: { digest: listed.digest, verified: false, reason, message, ...(signatureDigest ? { signatureDigest } : {}) },
  });
  // The manifest first: what the listing says about it is not trusted.
  let manifest;
  let attestation: Descriptor;
  try {
    const fetched = await repository.fetchManifest(listed.digest, { maxBytes: DEFAULT_LIMITS.manifestBytes });
    attestation = { mediaType: fetched.descriptor.mediaType, digest: fetched.descriptor.digest, size: fetched.descriptor.size };
    manifest = parseAttestationManifest(fetched.bytes, type, image);
  } catch (error) {
    if (error instanceof InvalidAttestationError) return fail('invalid', error.message);
    if (error instanceof DigestMismatchError) return fail('tampered', error.message);
    return { stop: (error as Error).message };
  }

  const outcome = await verifyImage({ ...request, tagOrDigest: attestation.digest, displayReference });
  if (!outcome.verified || outcome.level === 'skip') return signatureFailure(outcome, fail);

  let document: Uint8Array;
  try {
    document = await repository.fetchBlob(manifest.document, { maxBytes: MAX_ATTESTATION_BYTES });
  } catch (error) {
    // A document of another digest or size than the signed manifest names was changed after signing.
    if (error instanceof DigestMismatchError || error instanceof InvalidContentError) {
      return fail('tampered', `the document is not the one the signed attestation manifest names: ${error.message}`, outcome.signatureDigest);
    }
    if (error instanceof ContentTooLargeError) return fail('invalid', error.message, outcome.signatureDigest);
    return { stop: (error as Error).message };
  }
  try {
    if (type === 'slsa-provenance') {
      const statement = parseProvenanceStatement(document, image);
      const provenance = summarizeProvenance(statement.predicate);
      const unmet = unmetProvenanceRequirement(provenance, request.requirements ?? {});
      if (unmet) return fail('requirement', `signed provenance does not meet the requirement: ${unmet}`, outcome.signatureDigest);
      return { attempt: { digest: listed.digest, verified: true, signatureDigest: outcome.signatureDigest }, provenance };
    }
    parseSbom(document, type);
  } catch (error) {
    if (error instanceof InvalidAttestationError) return fail('invalid', error.message, outcome.signatureDigest);
    throw error;
  }
  return { attempt: { digest: listed.digest, verified: true, signatureDigest: outcome.signatureDigest } };
}

/** The failure of an attestation's signature verification, by the check that failed. */
function signatureFailure(
  outcome: VerificationOutcome,
  fail: (reason: AttestationFailureReason, message: string, signatureDigest?: string) => Examined,
): Examined {
  if (outcome.level === 'skip') {
    // Level skip fetches no signature: an attestation requirement needs one that verified.
    return fail('unsigned', 'the trust policy statement for it has level "skip", which verifies no signature; a signed attestation is required');
  }
  const code = outcome.error?.code;
  const message = outcome.error?.message ?? 'its signature did not verify';
  if (code === 'no-signature') return fail('unsigned', `it is not signed: ${message}`);
  if (code !== 'verification-failed') return { stop: message };
  const failed = outcome.results.find((result) => !result.ok && result.action === 'enforce');
  if (failed?.type === 'integrity') return fail('tampered', `its signature does not match it (integrity): ${message}`, outcome.signatureDigest);
  if (failed?.type === 'authenticity') return fail('untrusted', `it is not signed by a trusted signer (authenticity): ${message}`, outcome.signatureDigest);
  return fail('signature', `its signature does not verify${failed ? ` (${failed.type})` : ''}: ${message}`, outcome.signatureDigest);
}
