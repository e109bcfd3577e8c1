import type { ParsedCertificate } from './certificate';
import { CheckAction, CheckType, VerificationLevelName } from '../../src/shared/trust-policy';
import { Descriptor } from '../oci/types';

/** Notary signing schemes. */
export type SigningScheme = 'notary.x509' | 'notary.x509.signingAuthority';

// The trust policy's vocabulary is shared with the constructs (src/shared/trust-policy.ts).
export type { CheckAction, CheckType, VerificationLevelName };

/** What a result entry reports: a check a level governs, or the required user metadata (always enforced). */
export type ResultType = CheckType | 'userMetadata';

/** The signed content of a Notary payload. */
export interface NotaryPayload {
  readonly targetArtifact: Descriptor;
}

/** A parsed, structurally valid JWS (or COSE) signature envelope. The signature is not yet verified. */
export interface ParsedEnvelope {
  readonly mediaType: string;
  /** JWS `alg`, e.g. ES384. */
  readonly algorithm: string;
  readonly signingScheme: SigningScheme;
  readonly contentType: string;
  readonly payload: NotaryPayload;
  /** The raw payload bytes that were signed. */
  readonly payloadBytes: Uint8Array;
  /** The JWS signing input `BASE64URL(protected).BASE64URL(payload)`. */
  readonly signingInput: Uint8Array;
  /** `io.cncf.notary.signingTime` (x509 scheme) */
  readonly signingTime?: Date;
  /** `io.cncf.notary.authenticSigningTime` (signingAuthority scheme) */
  readonly authenticSigningTime?: Date;
  readonly expiry?: Date;
  readonly signingAgent?: string;
  /** DER certificates, leaf first. */
  readonly certificateChain: Uint8Array[];
  /** Every protected header, including extended attributes. */
  readonly protectedHeaders: Record<string, unknown>;
  /** The names listed in `crit`. */
  readonly critical: string[];
  /** The raw primitive signature bytes (for timestamp verification). */
  readonly signature: Uint8Array;
  /** DER RFC 3161 TimeStampToken from the unprotected header, when present. */
  readonly timestampToken?: Uint8Array;
}

/** The result of one verification check. */
export interface CheckResult {
  readonly type: ResultType;
  readonly action: CheckAction;
  readonly ok: boolean;
  readonly message: string;
}

/** Machine-readable error codes (CLI `--output json`; scripts read them, so they stay stable). */
export type VerificationErrorCode =
  | 'invalid-reference'
  | 'invalid-trust-policy'
  | 'no-applicable-policy'
  | 'trust-store'
  | 'registry'
  | 'no-signature'
  | 'verification-failed'
  /** A fault of this software or its environment, not a verdict on the image. */
  | 'internal';

/** The verdict for an image. */
export interface VerificationOutcome {
  readonly reference: string;
  readonly digest: string;
  readonly verified: boolean;
  /** The signature manifest that verified, or the last one tried. */
  readonly signatureDigest?: string;
  readonly level: string;
  readonly results: CheckResult[];
  readonly error?: { readonly code: VerificationErrorCode; readonly message: string };
}

/** What each check does under a trust policy statement (a level with its overrides applied). */
export interface EffectiveVerification {
  /** `strict`, `permissive`, `audit`, `skip`, or `custom` when overrides changed the level. */
  readonly level: VerificationLevelName | 'custom';
  readonly actions: Readonly<Record<CheckType, CheckAction>>;
  /** `verifyTimestamp` of the statement: `always` (default) or `afterCertExpiry`. */
  readonly verifyTimestamp: 'always' | 'afterCertExpiry';
}

/** Trusted certificates (DER) of the named trust stores a statement references, by store type. */
export interface TrustAnchors {
  readonly ca: Uint8Array[];
  readonly signingAuthority: Uint8Array[];
  readonly tsa: Uint8Array[];
}

/** Named trust stores, keyed `<type>:<name>` as trust policies reference them (e.g. `ca:acme`). */
export type NamedTrustStores = ReadonlyMap<string, Uint8Array[]>;

/**
 * Revocation check for an envelope. The AWS Signer implementation calls `GetRevocationStatus`;
 * it throws when the call fails (the level decides whether that is fatal).
 */
export interface RevocationChecker {
  check(envelope: ParsedEnvelope): Promise<{ readonly revoked: boolean; readonly message: string }>;
}

/** A certificate's revocation status (notation-core-go revocation/result). */
export type RevocationStatus = 'ok' | 'revoked' | 'unknown' | 'nonRevokable';

/** What OCSP or CRL checking found for one certificate of a chain. */
export interface CertificateRevocation {
  readonly status: RevocationStatus;
  readonly method: 'OCSP' | 'CRL' | 'OCSPFallbackCRL' | 'none';
  /** What each responder or CRL distribution point answered, for logs and messages. */
  readonly details: readonly string[];
}

/**
 * OCSP and CRL checking of an X.509 chain, leaf first, as notation-core-go's revocation.Validator does it: one
 * result per certificate; the root is never revocable. No signing time is given: notation-go passes one only for
 * AWS Signer signatures (verifier.go verifyRevocation), which AWS Signer's own revocation check covers here.
 */
export interface CertificateRevocationValidator {
  validate(chain: readonly ParsedCertificate[]): Promise<CertificateRevocation[]>;
}

/** Everything needed to verify one signature envelope against one image descriptor. */
export interface SignatureVerificationInput {
  readonly envelope: Uint8Array;
  /** The signature manifest layer's media type: `application/jose+json` or `application/cose`. */
  readonly envelopeMediaType: string;
  /** The resolved image manifest descriptor (mediaType, digest, size) the signature must cover. */
  readonly target: Descriptor;
  readonly verification: EffectiveVerification;
  readonly trustAnchors: TrustAnchors;
  /** `trustedIdentities` of the statement: `*`, `x509.subject: ...`, or AWS Signer profile (version) ARNs. */
  readonly trustedIdentities: readonly string[];
  /** Required `key=value` pairs in the payload's annotations. */
  readonly userMetadata?: Readonly<Record<string, string>>;
  /** Used for AWS Signer (signingAuthority) envelopes unless `revocation` is skipped. */
  readonly revocation?: RevocationChecker;
  /**
   * OCSP and CRL checking of `notary.x509` signing chains (unless `revocation` is skipped) and of every
   * timestamping chain. Without it, a chain that names OCSP or CRL endpoints has an unknown status.
   */
  readonly certificateRevocation?: CertificateRevocationValidator;
  /** Verification time; defaults to now. */
  readonly now?: Date;
}

/** The result of verifying one signature envelope. */
export interface SignatureVerification {
  /** True when no enforced check failed. */
  readonly verified: boolean;
  readonly results: CheckResult[];
  /** The first enforced failure, in notation's wording. */
  readonly failure?: string;
  /** The parsed envelope, when it could be parsed. */
  readonly envelope?: ParsedEnvelope;
}
