/**
 * Signs an image (docs/ARCHITECTURE.md, "The data flow of a digest"): the one function the sign handler, the CLI and the pipeline share.
 */
import { signingJobArn } from './aws-signer-identity';
import { parseCertificate } from './certificate';
import { buildPayload } from './payload';
import { SignatureManifestFormat } from './signature-manifest';
import { orderByLikelyTrust, thumbprints } from './signature-order';
import { SignatureStore } from './signature-store';
import { Signer } from './signer';
import { EffectiveVerification, ParsedEnvelope, TrustAnchors } from './types';
import { verifySignature } from './verify-signature';
import { isValidDigest } from '../oci/digest';
import { RegistryError } from '../oci/errors';
import { MediaType } from '../oci/media-types';
import { OciRepository } from '../oci/repository';
import { Descriptor } from '../oci/types';

/** The annotation prefix notation reserves; user metadata may not use it. */
export const RESERVED_METADATA_PREFIX = 'io.cncf.notary';
/** Existing signatures examined for reuse at most (notation's verify default). */
const MAX_REUSE_CANDIDATES = 100;
/** A signature is reused only while it stays valid this long, or half the signer's validity when shorter. */
const REUSE_MARGIN_MS = 30 * 24 * 3600 * 1000;

export interface SignImageRequest {
  readonly repository: OciRepository;
  readonly tagOrDigest: string;
  readonly signer: Signer;
  /** Signed payload annotations (`--user-metadata k=v`); keys may not start with `io.cncf.notary`. */
  readonly userMetadata?: Readonly<Record<string, string>>;
  /** Sign again even when a valid signature by the same identity exists. @default false */
  readonly force?: boolean;
  /** `oci-1.1` (artifactType, empty config) or `legacy` (notation 1.x). @default 'oci-1.1' */
  readonly manifestFormat?: SignatureManifestFormat;
  /** Signing time (and the time existing signatures are checked against). @default now */
  readonly now?: Date;
}

export interface SignImageResult {
  /** The signed image manifest's descriptor. */
  readonly target: Descriptor;
  /** The signature manifest's digest (a reused one when `reused`). */
  readonly signatureDigest: string;
  /** True when an existing valid signature by the same identity was kept and nothing was pushed. */
  readonly reused: boolean;
  readonly signingJobArn?: string;
  /**
   * True when the store indexed the new signature by itself (referrers API, OCI layout); false when the
   * referrers tag schema index was updated, or nothing was pushed.
   */
  readonly referrersIndexedByStore: boolean;
}

/** A bad signing request, rejected before anything is read or written. */
export class SignRequestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SignRequestError';
  }
}

/**
 * Signs the image `tagOrDigest` of `repository` unless a signature by the same identity over the same user
 * metadata verifies under the signer's own trust (or `force`). The envelope the signer returns is checked the
 * same way before anything is pushed; then the envelope blob, the config blob and the signature manifest
 * last, so a half-written signature is never visible; throws if any check or push fails.
 */
export async function signImage(request: SignImageRequest): Promise<SignImageResult> {
  const { tagOrDigest, signer } = request;
  const store = new SignatureStore(request.repository);
  const userMetadata = checkUserMetadata(request.userMetadata ?? {});
  const now = request.now ?? new Date();

  // For a digest, the existing signatures are listed while the manifest is resolved.
  const listing = !request.force && isValidDigest(tagOrDigest) ? store.listSignatures({ digest: tagOrDigest }) : undefined;
  listing?.catch(() => undefined);
  const target = await store.resolve(tagOrDigest);

  if (!request.force) {
    const existing = await findReusableSignature(store, target, listing ?? store.listSignatures(target), signer, userMetadata, now);
    if (existing) return { target, signatureDigest: existing, reused: true, referrersIndexedByStore: false };
  }

  const payload = buildPayload(target, Object.keys(userMetadata).length > 0 ? userMetadata : undefined);
  const signed = await signer.sign(payload);
  if (signed.mediaType !== MediaType.JWS) {
    throw new Error(`${signer.description} returned a signature envelope of media type "${signed.mediaType}"; only ${MediaType.JWS} is supported`);
  }
  // As notation-go checks a plugin's envelope (signer/plugin.go generateSignatureEnvelope), and more: it must
  // also verify under the signer's own trust, or a compromised or misconfigured signer would go unnoticed.
  const checked = await checkOwnSignature(signed.envelope, target, signer, userMetadata, now);
  if ('failure' in checked) {
    throw new SignerEnvelopeError(`${signer.description} returned a signature envelope for ${target.digest} that does not check out, so nothing was pushed: ${checked.failure}`);
  }
  const envelope = checked.envelope;

  const pushed = await store.pushSignature({
    subject: target,
    signed,
    format: request.manifestFormat ?? 'oci-1.1',
    signingTime: (envelope.signingTime ?? envelope.authenticSigningTime) as Date,
  });
  return {
    target,
    signatureDigest: pushed.digest,
    reused: false,
    signingJobArn: signingJobArn(envelope) ?? signed.signingJobArn,
    referrersIndexedByStore: pushed.referrersIndexedByStore,
  };
}

/** The envelope a signer returned is not a signature by that signer over the requested payload. */
export class SignerEnvelopeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SignerEnvelopeError';
  }
}

function checkUserMetadata(metadata: Readonly<Record<string, string>>): Record<string, string> {
  for (const [key, value] of Object.entries(metadata)) {
    if (key === '') throw new SignRequestError('user metadata key is empty');
    if (key.startsWith(RESERVED_METADATA_PREFIX)) {
      throw new SignRequestError(`user metadata key "${key}" uses the reserved prefix "${RESERVED_METADATA_PREFIX}"; choose another key`);
    }
    if (typeof value !== 'string') throw new SignRequestError(`user metadata "${key}" must be a string`);
  }
  return { ...metadata };
}

/** Every check but revocation, enforced: a signature the signer's own trust accepts. */
const OWN_TRUST: EffectiveVerification = {
  level: 'strict',
  actions: { integrity: 'enforce', authenticity: 'enforce', authenticTimestamp: 'enforce', expiry: 'enforce', revocation: 'skip' },
  verifyTimestamp: 'afterCertExpiry',
};

/**
 * Verifies an envelope under the signer's own trust: intact, over `target` with `userMetadata`, in the signer's
 * signing scheme, chained to the signer's roots, by exactly the signer's identity, not expired.
 */
async function checkOwnSignature(
  envelopeBytes: Uint8Array,
  target: Descriptor,
  signer: Signer,
  userMetadata: Readonly<Record<string, string>>,
  now: Date,
): Promise<{ envelope: ParsedEnvelope } | { failure: string }> {
  const { storeType, trustAnchors, trustedIdentities } = signer.trust;
  const anchors: TrustAnchors = { ca: [], signingAuthority: [], tsa: [], [storeType]: [...trustAnchors] };
  const result = await verifySignature({
    envelope: envelopeBytes,
    envelopeMediaType: MediaType.JWS,
    target,
    verification: OWN_TRUST,
    trustAnchors: anchors,
    trustedIdentities,
    userMetadata,
    now,
  });
  const envelope = result.envelope;
  if (!envelope) return { failure: result.failure ?? 'the envelope cannot be parsed' };
  const scheme = storeType === 'ca' ? 'notary.x509' : 'notary.x509.signingAuthority';
  if (envelope.signingScheme !== scheme) return { failure: `its signing scheme is ${envelope.signingScheme}, not ${scheme}` };
  if (!result.verified) return { failure: result.failure ?? 'it does not verify' };
  if (!signer.isSameIdentity(envelope)) return { failure: `it was not made by ${signer.description}` };
  return { envelope };
}

/**
 * The digest of an existing signature over `target` that verifies fully under the signer's own trust, by exactly
 * its identity, over exactly `userMetadata`, and stays valid long enough; undefined when there is none. Anything
 * less would let whoever can push a referrer pass off a signature as the signer's.
 */
async function findReusableSignature(
  store: SignatureStore,
  target: Descriptor,
  listing: Promise<Descriptor[]>,
  signer: Signer,
  userMetadata: Record<string, string>,
  now: Date,
): Promise<string | undefined> {
  const margin = Math.min(REUSE_MARGIN_MS, ((signer.signatureValiditySeconds ?? Infinity) * 1000) / 2);
  // The signer's own chain first; the annotation only orders the candidates, each is verified in full.
  const signatures = orderByLikelyTrust(await listing, thumbprints(signer.trust.trustAnchors)).slice(0, MAX_REUSE_CANDIDATES);
  for (const signature of signatures) {
    let envelope: ParsedEnvelope | undefined;
    try {
      const fetched = await store.fetchSignature(signature, target);
      const checked = await checkOwnSignature(fetched.envelope, target, signer, userMetadata, now);
      if ('envelope' in checked) envelope = checked.envelope;
    } catch (error) {
      // An unreadable or malformed signature is simply not reusable; a store that cannot be reached is an error.
      if (error instanceof RegistryError && error.status !== 404) throw error;
    }
    if (envelope && sameMetadata(envelope.payload.targetArtifact.annotations ?? {}, userMetadata) && validUntil(envelope) - now.getTime() >= margin) {
      return signature.digest;
    }
  }
  return undefined;
}

/** When the signature stops verifying: its expiry, and for notary.x509 (no authentic time) its chain's end. */
function validUntil(envelope: ParsedEnvelope): number {
  let until = envelope.expiry?.getTime() ?? Infinity;
  if (envelope.signingScheme === 'notary.x509') {
    for (const der of envelope.certificateChain) until = Math.min(until, parseCertificate(der).notAfter.getTime());
  }
  return until;
}

function sameMetadata(signed: Readonly<Record<string, string>>, wanted: Readonly<Record<string, string>>): boolean {
  const keys = Object.keys(signed);
  return keys.length === Object.keys(wanted).length && keys.every((key) => Object.hasOwn(wanted, key) && wanted[key] === signed[key]);
}
