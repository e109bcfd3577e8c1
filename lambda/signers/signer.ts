import { ParsedEnvelope } from '../notary/types';

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
 * Produces Notary signature envelopes. Implementations: AWS Signer (`SignPayload`, which returns the
 * whole JWS envelope) and a local PEM key (the library builds the JWS itself).
 */
export interface Signer {
  /** Names the identity in messages, e.g. `AWS Signer profile "release"` or `key CN=builder,...`. */
  readonly description: string;
  /** Signs the Notary payload bytes (`application/vnd.cncf.notary.payload.v1+json`). */
  sign(payload: Uint8Array): Promise<SignedEnvelope>;
  /**
   * Whether an existing, already verified envelope was made by this signer's identity, so that
   * signing again can be skipped (idempotent signing).
   */
  isSameIdentity(envelope: ParsedEnvelope): boolean;
}
