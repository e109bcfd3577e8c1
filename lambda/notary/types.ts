import { Descriptor } from '../oci/types';

/** Notary signing schemes. */
export type SigningScheme = 'notary.x509' | 'notary.x509.signingAuthority';

/** The verification checks that a trust policy level enforces, logs or skips. */
export type CheckType = 'integrity' | 'authenticity' | 'authenticTimestamp' | 'expiry' | 'revocation';
export type CheckAction = 'enforce' | 'log' | 'skip';
export type VerificationLevelName = 'strict' | 'permissive' | 'audit' | 'skip';

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
  readonly type: CheckType;
  readonly action: CheckAction;
  readonly ok: boolean;
  readonly message: string;
}

/** Machine-readable error codes (DESIGN section 4, CLI `--output json`). */
export type VerificationErrorCode =
  | 'invalid-reference'
  | 'invalid-trust-policy'
  | 'no-applicable-policy'
  | 'trust-store'
  | 'registry'
  | 'no-signature'
  | 'verification-failed';

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
