/**
 * Signs an image (DESIGN section 3): the one function the sign handler, the CLI and the pipeline share.
 */
import { listSignatures } from './list-signatures';
import { buildPayload } from './payload';
import { buildSignatureManifest, parseSignatureManifest, SignatureManifestFormat } from './signature-manifest';
import { EffectiveVerification, ParsedEnvelope } from './types';
import { verifySignature } from './verify-signature';
import { isValidDigest } from '../oci/digest';
import { RegistryError } from '../oci/errors';
import { EMPTY_JSON_DIGEST, MediaType } from '../oci/media-types';
import { DEFAULT_LIMITS, OciRepository } from '../oci/repository';
import { Descriptor } from '../oci/types';
import { Signer } from '../signers/signer';

/** The annotation prefix notation reserves; user metadata may not use it. */
export const RESERVED_METADATA_PREFIX = 'io.cncf.notary';
/** Existing signatures examined for reuse at most (notation's verify default). */
const MAX_REUSE_CANDIDATES = 100;

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
 * Signs the image `tagOrDigest` of `repository` unless a valid signature by the same identity over the same
 * user metadata exists (or `force`). Pushes the envelope blob, the config blob, then the signature manifest
 * last, so a half-written signature is never visible; throws if any push fails.
 */
export async function signImage(request: SignImageRequest): Promise<SignImageResult> {
  const { repository, tagOrDigest, signer } = request;
  const userMetadata = checkUserMetadata(request.userMetadata ?? {});
  const now = request.now ?? new Date();

  const target = await resolveTarget(repository, tagOrDigest);

  if (!request.force) {
    const existing = await findReusableSignature(repository, target, signer, userMetadata, now);
    if (existing) return { target, signatureDigest: existing, reused: true, referrersIndexedByStore: false };
  }

  const payload = buildPayload(target, Object.keys(userMetadata).length > 0 ? userMetadata : undefined);
  const signed = await signer.sign(payload);
  if (signed.mediaType !== MediaType.JWS) {
    throw new Error(`${signer.description} returned a signature envelope of media type "${signed.mediaType}"; only ${MediaType.JWS} is supported`);
  }

  const envelopeDescriptor = await repository.pushBlob(signed.envelope, MediaType.JWS);
  const format = request.manifestFormat ?? 'oci-1.1';
  const configMediaType = format === 'legacy' ? MediaType.NOTARY_SIGNATURE : MediaType.OCI_EMPTY;
  const config = await repository.pushBlob(new TextEncoder().encode('{}'), configMediaType);
  if (config.digest !== EMPTY_JSON_DIGEST) throw new Error(`the store answered digest ${config.digest} for the empty config blob`);

  const manifest = buildSignatureManifest({
    subject: target,
    envelope: { mediaType: MediaType.JWS, digest: envelopeDescriptor.digest, size: signed.envelope.byteLength },
    format,
    annotations: signed.annotations,
    envelopeBytes: signed.envelope,
    now,
  });
  const pushed = await repository.pushManifest(manifest, MediaType.OCI_MANIFEST);
  return {
    target,
    signatureDigest: pushed.descriptor.digest,
    reused: false,
    signingJobArn: signed.signingJobArn,
    referrersIndexedByStore: pushed.referrersIndexedByStore,
  };
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

/** Resolves the manifest, checking its bytes against the digest; a digest given must be the one resolved. */
async function resolveTarget(repository: OciRepository, tagOrDigest: string): Promise<Descriptor> {
  const { descriptor } = await repository.fetchManifest(tagOrDigest, { maxBytes: DEFAULT_LIMITS.manifestBytes });
  if (isValidDigest(tagOrDigest) && descriptor.digest !== tagOrDigest) {
    throw new Error(`${repository.name}@${tagOrDigest} resolved to a different digest, ${descriptor.digest}`);
  }
  return { mediaType: descriptor.mediaType, digest: descriptor.digest, size: descriptor.size };
}

/** Integrity and expiry only: whether the signature is sound, not whether someone trusts it. */
const SOUNDNESS: EffectiveVerification = {
  level: 'custom',
  actions: { integrity: 'enforce', authenticity: 'skip', authenticTimestamp: 'skip', expiry: 'enforce', revocation: 'skip' },
  verifyTimestamp: 'always',
};

/**
 * The digest of an existing signature over `target` by the signer's identity that is intact, not expired,
 * and signs exactly `userMetadata`; undefined when there is none.
 */
async function findReusableSignature(
  repository: OciRepository,
  target: Descriptor,
  signer: Signer,
  userMetadata: Record<string, string>,
  now: Date,
): Promise<string | undefined> {
  const signatures = await listSignatures(repository, target, { maxSignatures: MAX_REUSE_CANDIDATES });
  for (const signature of signatures) {
    let envelope: ParsedEnvelope | undefined;
    try {
      const manifest = await repository.fetchManifest(signature.digest, { maxBytes: DEFAULT_LIMITS.manifestBytes });
      const parsed = parseSignatureManifest(manifest.bytes, target);
      const bytes = await repository.fetchBlob(parsed.envelope, { maxBytes: DEFAULT_LIMITS.envelopeBytes });
      const result = await verifySignature({
        envelope: bytes,
        envelopeMediaType: parsed.envelope.mediaType,
        target,
        verification: SOUNDNESS,
        trustAnchors: { ca: [], signingAuthority: [], tsa: [] },
        trustedIdentities: ['*'],
        now,
      });
      if (result.verified) envelope = result.envelope;
    } catch (error) {
      // An unreadable or malformed signature is simply not reusable; a store that cannot be reached is an error.
      if (error instanceof RegistryError && error.status !== 404) throw error;
    }
    if (envelope && signer.isSameIdentity(envelope) && sameMetadata(envelope.payload.targetArtifact.annotations ?? {}, userMetadata)) {
      return signature.digest;
    }
  }
  return undefined;
}

function sameMetadata(signed: Readonly<Record<string, string>>, wanted: Readonly<Record<string, string>>): boolean {
  const keys = Object.keys(signed);
  return keys.length === Object.keys(wanted).length && keys.every((key) => wanted[key] === signed[key]);
}
