/**
 * Image-level verification (notaryproject/specifications specs/trust-store-trust-policy.md and
 * specs/signing-and-verification-workflow.md): the loop notation's `Verify` runs
 * around the verification of one signature envelope.
 */
import { InvalidEnvelopeError } from './jws';
import { InvalidSignatureManifestError } from './signature-manifest';
import { namesTrustedCertificate, orderByLikelyTrust, thumbprints } from './signature-order';
import { FetchedSignature, ResolvedDigestMismatchError, SignatureStore } from './signature-store';
import { effectiveVerification, NoApplicableTrustPolicyError, selectStatement, trustAnchorsFor, TrustStoreError } from './trust-policy';
import {
  CheckResult,
  CheckType,
  NamedTrustStores,
  CertificateRevocationValidator,
  RevocationChecker,
  SignatureVerification,
  VerificationErrorCode,
  VerificationOutcome,
} from './types';
import { verifySignature } from './verify-signature';
import { parseTrustPolicy, TrustPolicyDocument } from '../../src/shared/trust-policy';
import { isValidDigest } from '../oci/digest';
import {
  ContentTooLargeError,
  DigestMismatchError,
  InvalidContentError,
  InvalidDigestError,
  InvalidReferenceError,
  RegistryError,
} from '../oci/errors';
import { RequestFailedError, ResponseBodyError } from '../oci/http';
import { OciRepository } from '../oci/repository';
import { Descriptor } from '../oci/types';

/** notation's `--max-signatures` default. */
export const DEFAULT_MAX_SIGNATURES = 100;

export interface VerifyImageRequest {
  readonly repository: OciRepository;
  /** The tag or digest to verify. A digest must equal the digest the store resolves. */
  readonly tagOrDigest: string;
  /** The reference as the user wrote it, for messages, e.g. `registry.example.com/app:v1`. */
  readonly displayReference: string;
  /** The trust policy scope: `registry/repository`, or `local/<name>` for an OCI layout. */
  readonly scope: string;
  readonly policy: TrustPolicyDocument;
  /** Named trust stores, keyed `<type>:<name>`. */
  readonly stores: NamedTrustStores;
  /** Required `key=value` pairs in the signed payload's annotations. */
  readonly userMetadata?: Readonly<Record<string, string>>;
  readonly revocation?: RevocationChecker;
  /** OCSP and CRL checking of X.509 signing and timestamping chains. */
  readonly certificateRevocation?: CertificateRevocationValidator;
  /** Signatures tried at most. @default 100 */
  readonly maxSignatures?: number;
  /** @default DEFAULT_LIMITS.envelopeBytes (64 KiB) */
  readonly maxEnvelopeBytes?: number;
  /** Verification time. @default now */
  readonly now?: Date;
}

const CHECK_TYPES: readonly CheckType[] = ['integrity', 'authenticity', 'authenticTimestamp', 'expiry', 'revocation'];

/** A failure that ends verification before any signature verified, with its error code. */
class VerificationStop extends Error {
  constructor(readonly code: VerificationErrorCode, message: string) {
    super(message);
  }
}

/**
 * Verifies an image under a trust policy. Never throws for a verification failure: the outcome carries
 * the verdict, every check's result and, when not verified, an error code and notation's message.
 */
export async function verifyImage(request: VerifyImageRequest): Promise<VerificationOutcome> {
  return (await verifyImageResolving(request)).outcome;
}

/**
 * `verifyImage`, also returning the media type the target resolved to ('' when it did not resolve), so that
 * verify-index reads the manifests an index lists only when the target is an index, without fetching it again.
 */
export async function verifyImageResolving(request: VerifyImageRequest): Promise<{ outcome: VerificationOutcome; mediaType: string }> {
  const state: VerifyState = { digest: '', level: '', mediaType: '' };
  try {
    return { outcome: await verify(request, state), mediaType: state.mediaType };
  } catch (error) {
    const { code, message } = classify(error);
    const { digest, level, mediaType } = state;
    return { outcome: { reference: request.displayReference, digest, verified: false, level, results: [], error: { code, message } }, mediaType };
  }
}

/** What a verification learned before it ended, for the outcome of one that failed. */
interface VerifyState {
  digest: string;
  level: string;
  mediaType: string;
}

function classify(error: unknown): { code: VerificationErrorCode; message: string } {
  if (error instanceof VerificationStop) return { code: error.code, message: error.message };
  const message = (error as Error)?.message ?? String(error);
  if (error instanceof InvalidReferenceError || error instanceof InvalidDigestError) return { code: 'invalid-reference', message };
  if (error instanceof NoApplicableTrustPolicyError) return { code: 'no-applicable-policy', message };
  if (error instanceof TrustStoreError) return { code: 'trust-store', message };
  if (isStoreError(error) || error instanceof ResolvedDigestMismatchError) return { code: 'registry', message };
  if ((error as Error)?.name === 'TrustPolicyError') return { code: 'invalid-trust-policy', message };
  // Anything else is a fault of this software or its environment: say so rather than blame the registry.
  return { code: 'internal', message: `unexpected error: ${(error as Error)?.name ?? 'Error'}: ${message}` };
}

/** What the store answered is not what it should be: bad content, over a limit, or not matching its digest. */
function isBadContentError(error: unknown): boolean {
  return error instanceof ContentTooLargeError || error instanceof InvalidContentError || error instanceof DigestMismatchError;
}

/** Errors about reaching the store or what it answered (I/O, bad content, limits). */
function isStoreError(error: unknown): boolean {
  return error instanceof RegistryError || error instanceof RequestFailedError || error instanceof ResponseBodyError || isBadContentError(error);
}

/** Errors that make one signature unusable, the next one may still verify. */
function isSignatureContentError(error: unknown): boolean {
  return (error instanceof RegistryError && !isTransportError(error))
    || error instanceof InvalidSignatureManifestError
    || error instanceof InvalidEnvelopeError
    || isBadContentError(error);
}

async function verify(request: VerifyImageRequest, state: VerifyState): Promise<VerificationOutcome> {
  const { tagOrDigest, displayReference } = request;
  const store = new SignatureStore(request.repository);
  // A policy handed over as a value may not have been validated: validate it before trusting its shape.
  const policy = parseTrustPolicy(request.policy);

  // For a digest the referrers can be listed while the manifest is resolved (one round trip for both), unless
  // the statement for it is level skip, which fetches nothing; a tag must be resolved first.
  const listing = isValidDigest(tagOrDigest) ? listEarly(store, policy, request.scope, displayReference, tagOrDigest) : undefined;
  const target = await store.resolve(tagOrDigest, displayReference);
  state.digest = target.digest;
  state.mediaType = target.mediaType;
  const artifactReference = pinnedReference(displayReference, tagOrDigest, target.digest);

  const statement = selectStatement(policy, request.scope, artifactReference);
  const verification = effectiveVerification(statement);
  state.level = verification.level;
  const outcome = (fields: Partial<VerificationOutcome>): VerificationOutcome => ({
    reference: displayReference,
    digest: target.digest,
    verified: false,
    level: verification.level,
    results: [],
    ...fields,
  });

  if (verification.level === 'skip') {
    // Level skip: no signature is fetched at all (notation returns success right away).
    const skipped = CHECK_TYPES.map<CheckResult>((type) => ({
      type,
      action: 'skip',
      ok: true,
      message: `skipped: trust policy statement "${statement.name}" has signature verification level "skip"`,
    }));
    return outcome({ verified: true, results: skipped });
  }

  const trustAnchors = trustAnchorsFor(statement, request.stores);
  const listed = await (listing ?? store.listSignatures(target));
  // Likely-trusted signatures first; the limit counts attempts in that order, so a flood of untrusted signatures
  // can neither delay the trusted one nor push it past the limit.
  const trusted = thumbprints([...trustAnchors.ca, ...trustAnchors.signingAuthority]);
  const signatures = orderByLikelyTrust(listed, trusted).slice(0, Math.max(0, request.maxSignatures ?? DEFAULT_MAX_SIGNATURES));
  if (signatures.length === 0) {
    return outcome({
      error: {
        code: 'no-signature',
        message: `signature verification failed: no signature is associated with "${artifactReference}", make sure the artifact was signed successfully`,
      },
    });
  }

  const reasons: string[] = [];
  let last: { digest: string; results: CheckResult[] } | undefined;
  const prefetch = new SignaturePrefetch(store, signatures, target, request.maxEnvelopeBytes, trusted);
  for (const [index, signature] of signatures.entries()) {
    let result: SignatureVerification;
    try {
      const { envelope, envelopeMediaType } = await prefetch.fetch(index);
      result = await verifySignature({
        envelope,
        envelopeMediaType,
        target,
        verification,
        trustAnchors,
        trustedIdentities: statement.trustedIdentities ?? [],
        userMetadata: request.userMetadata,
        revocation: request.revocation,
        certificateRevocation: request.certificateRevocation,
        now: request.now,
      });
    } catch (error) {
      if (!isSignatureContentError(error)) throw error;
      // A malformed or missing signature fails on its own; the next one may still verify.
      result = {
        verified: false,
        results: [{ type: 'integrity', action: 'enforce', ok: false, message: (error as Error).message }],
        failure: (error as Error).message,
      };
    }
    if (result.verified) return outcome({ verified: true, signatureDigest: signature.digest, results: result.results });
    last = { digest: signature.digest, results: result.results };
    reasons.push(`${signature.digest}: ${result.failure ?? firstEnforcedFailure(result.results)}`);
  }

  return outcome({
    signatureDigest: last?.digest,
    results: last?.results ?? [],
    error: {
      code: 'verification-failed',
      message: `signature verification failed for all the signatures associated with ${artifactReference}:\n${reasons.map((reason) => `  ${reason}`).join('\n')}`,
    },
  });
}

/**
 * Starts listing the signatures of `digest` before it is resolved; undefined when the statement for it says level
 * skip or cannot be chosen yet (that error is then reported after the resolution, as before).
 */
function listEarly(
  store: SignatureStore,
  policy: TrustPolicyDocument,
  scope: string,
  displayReference: string,
  digest: string,
): Promise<Descriptor[]> | undefined {
  try {
    if (effectiveVerification(selectStatement(policy, scope, pinnedReference(displayReference, digest, digest))).level === 'skip') return undefined;
  } catch {
    return undefined;
  }
  const listing = store.listSignatures({ digest });
  listing.catch(() => undefined);
  return listing;
}

/** Signature manifests and envelopes fetched ahead of their verification, at most this many at a time. */
const PREFETCH_WINDOW = 4;

/**
 * Fetches signatures ahead of the one being verified, so that untrusted ones cost one round trip together rather
 * than two each. A signature that names a trusted certificate is expected to verify: nothing is fetched ahead of
 * it, so a verification that succeeds sends no request it does not need.
 */
class SignaturePrefetch {
  private readonly started = new Map<number, Promise<FetchedSignature>>();

  constructor(
    private readonly store: SignatureStore,
    private readonly signatures: readonly Descriptor[],
    private readonly target: Descriptor,
    private readonly maxEnvelopeBytes: number | undefined,
    private readonly trusted: ReadonlySet<string>,
  ) {}

  fetch(index: number): Promise<FetchedSignature> {
    const ahead = namesTrustedCertificate(this.signatures[index], this.trusted) ? 1 : PREFETCH_WINDOW;
    for (let next = index; next < Math.min(index + ahead, this.signatures.length); next++) void this.start(next);
    return this.start(index);
  }

  private start(index: number): Promise<FetchedSignature> {
    let fetching = this.started.get(index);
    if (!fetching) {
      fetching = this.store.fetchSignature(this.signatures[index], this.target, this.maxEnvelopeBytes);
      fetching.catch(() => undefined);
      this.started.set(index, fetching);
    }
    return fetching;
  }
}

/** Errors that say nothing about the signature but about reaching the store: they end verification. */
function isTransportError(error: unknown): boolean {
  return error instanceof RegistryError && error.status !== 404 && error.name !== 'NotFoundError';
}

function firstEnforcedFailure(results: readonly CheckResult[]): string {
  return results.find((result) => !result.ok && result.action === 'enforce')?.message ?? 'the signature did not verify';
}

/** `displayReference` pinned to `digest`: `host/repo:tag` → `host/repo@sha256:…`, as notation names artifacts. */
export function pinnedReference(displayReference: string, tagOrDigest: string, digest: string): string {
  for (const separator of ['@', ':']) {
    const suffix = `${separator}${tagOrDigest}`;
    if (displayReference.endsWith(suffix)) return `${displayReference.slice(0, -suffix.length)}@${digest}`;
  }
  return `${displayReference}@${digest}`;
}
