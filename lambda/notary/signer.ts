/**
 * The signing seam of the engine, as notation-go keeps `notation.Signer` at its root: the engine builds the
 * payload and the signature manifest; a Signer turns payload bytes into an envelope. Implementations live in
 * lambda/signers (AWS Signer's `SignPayload`, a local PEM key).
 */
import { ParsedEnvelope } from './types';

/** A signature envelope produced for a Notary payload. */
export interface SignedEnvelope {
  /** The envelope bytes, pushed as the signature manifest's single layer. */
  readonly envelope: Uint8Array;
  /** `application/jose+json` */
  readonly mediaType: string;
  /** Extra signature manifest annotations (AWS Signer returns its job metadata here). */
  readonly annotations?: Readonly<Record<string, string>>;
  /** The AWS Signer signing job ARN, when signed by AWS Signer. */
  readonly signingJobArn?: string;
}

/**
 * What the signer's own signatures verify under: the engine checks every envelope the signer returns against
 * it before pushing, and reuses an existing signature only when it verifies under it.
 */
export interface SignerTrust {
  /** The trust store type the signer's chains lead to: `ca` (notary.x509) or `signingAuthority`. */
  readonly storeType: 'ca' | 'signingAuthority';
  /** The DER root certificates the signer's chains must lead to. */
  readonly trustAnchors: readonly Uint8Array[];
  /** The trust policy identities that name exactly this signer (e.g. its signing profile ARN), or `*`. */
  readonly trustedIdentities: readonly string[];
}

/**
 * Produces Notary signature envelopes. Implementations: AWS Signer (`SignPayload`, which returns the
 * whole JWS envelope) and a local PEM key (the library builds the JWS itself).
 */
export interface Signer {
  /** Names the identity in messages, e.g. `AWS Signer profile "release"` or `key CN=builder,...`. */
  readonly description: string;
  readonly trust: SignerTrust;
  /** How long new signatures are valid, when the signer knows it (a local key's `--expiry`). */
  readonly signatureValiditySeconds?: number;
  /** Signs the Notary payload bytes (`application/vnd.cncf.notary.payload.v1+json`). */
  sign(payload: Uint8Array): Promise<SignedEnvelope>;
  /**
   * Whether an envelope that verified under `trust` was made by exactly this signer's identity (AWS Signer:
   * the same profile, by partition, region, account and name; a local key: the same leaf certificate).
   */
  isSameIdentity(envelope: ParsedEnvelope): boolean;
}
