/** A signer holding its own PEM key and certificate chain (notation's `--key`/`--cert`). */
import { createPrivateKey, KeyObject, X509Certificate } from 'node:crypto';
import { checkTimestampUrl, TimestampAuthority, timestampSignature } from './tsa-client';
import { algorithmForKey } from '../notary/algorithms';
import { signingProfileVersionArn } from '../notary/aws-signer-identity';
import { validateCertificateChain } from '../notary/certificate-chain';
import { encodeBase64 } from '../notary/encoding';
import { AwsSigner, buildJwsEnvelope, Header, parseJwsEnvelope, withUnprotectedHeader } from '../notary/jws';
import { SignedEnvelope, Signer, SignerTrust } from '../notary/signer';
import { parseCertificateFile } from '../notary/trust-store';
import { ParsedEnvelope } from '../notary/types';
import { MediaType } from '../oci/media-types';

/** The signing agent written into envelopes. */
export const SIGNING_AGENT = `signed-image/${typeof __VERSION__ === 'string' ? __VERSION__ : 'dev'}`;
declare const __VERSION__: string | undefined;

/**
 * Produce envelopes in AWS Signer's shape (scheme `notary.x509.signingAuthority`, the AWS plugin's critical
 * attributes), so the AWS Signer verification path runs on real cryptography with a test CA.
 */
export interface SigningAuthorityShape {
  /** e.g. `arn:aws:signer:us-east-1:111122223333:/signing-profiles/release/AbCdEf1234` */
  readonly signingProfileVersionArn: string;
  /** e.g. `arn:aws:signer:us-east-1:111122223333:/signing-jobs/<uuid>`. @default a new job ARN per signature */
  readonly signingJobArn?: string;
}

export interface LocalKeySignerOptions {
  /** PEM private key (PKCS#8, SEC1 or PKCS#1), or a KeyObject. */
  readonly key: string | Uint8Array | KeyObject;
  /** PEM or DER certificates, leaf first, ending at the root (or one self-signed certificate). */
  readonly certificateChain: string | Uint8Array | readonly Uint8Array[];
  /** Signature validity. @default none (the signature does not expire) */
  readonly expirySeconds?: number;
  readonly signingAuthority?: SigningAuthorityShape;
  /**
   * Timestamp each signature at this RFC 3161 authority and put the token in the envelope's unprotected header
   * (notation sign --timestamp-url/--timestamp-root-cert). Only for the notary.x509 scheme, as notation does.
   * @default no timestamp
   */
  readonly timestampAuthority?: TimestampAuthority;
  /** Clock for signing times (tests). @default the current time */
  readonly clock?: () => Date;
}

/** Signs with a local key: the library builds the JWS itself. */
export class LocalKeySigner implements Signer {
  readonly description: string;
  readonly trust: SignerTrust;
  readonly signatureValiditySeconds?: number;
  private readonly key: KeyObject;
  private readonly chain: Uint8Array[];

  constructor(private readonly options: LocalKeySignerOptions) {
    this.key = toPrivateKey(options.key);
    this.chain = toChain(options.certificateChain);
    const certificates = validateCertificateChain(this.chain);
    const leaf = new X509Certificate(this.chain[0]);
    if (!leaf.checkPrivateKey(this.key)) throw new Error(`the private key does not match the signing certificate "${certificates[0].subject}"`);
    algorithmForKey(leaf.publicKey);
    if (options.expirySeconds !== undefined && (!Number.isSafeInteger(options.expirySeconds) || options.expirySeconds <= 0)) {
      throw new Error(`expiry must be a positive number of seconds, got ${options.expirySeconds}`);
    }
    this.description = options.signingAuthority
      ? `signing profile ${options.signingAuthority.signingProfileVersionArn}`
      : `key "${certificates[0].subject}"`;
    this.signatureValiditySeconds = options.expirySeconds;
    if (options.timestampAuthority) {
      if (options.signingAuthority) throw new Error('timestamping applies to the notary.x509 signing scheme only, as in notation');
      checkTimestampUrl(options.timestampAuthority.url);
      if (options.timestampAuthority.rootCertificates.length === 0) throw new Error('timestamping needs at least one TSA root certificate');
    }
    // The chain's own root: its signatures are this key's when they chain there with this very leaf.
    const root = this.chain[this.chain.length - 1];
    const profileVersion = options.signingAuthority?.signingProfileVersionArn;
    this.trust = {
      storeType: options.signingAuthority ? 'signingAuthority' : 'ca',
      trustAnchors: [root],
      trustedIdentities: profileVersion ? [profileVersion] : ['*'],
    };
  }

  async sign(payload: Uint8Array): Promise<SignedEnvelope> {
    const now = this.options.clock?.() ?? new Date();
    const signingTime = new Date(Math.floor(now.getTime() / 1000) * 1000);
    const certificates = validateCertificateChain(this.chain);
    for (const certificate of certificates) {
      if (signingTime < certificate.notBefore || signingTime > certificate.notAfter) {
        throw new Error(`certificate "${certificate.subject}" is not valid at the signing time ${signingTime.toISOString()}`);
      }
    }
    const expiry = this.options.expirySeconds ? new Date(signingTime.getTime() + this.options.expirySeconds * 1000) : undefined;
    const authority = this.options.signingAuthority;
    const jobArn = authority ? authority.signingJobArn ?? newJobArn(authority.signingProfileVersionArn) : undefined;
    const envelope = buildJwsEnvelope({
      payload,
      key: this.key,
      certificateChain: this.chain,
      signingScheme: authority ? 'notary.x509.signingAuthority' : 'notary.x509',
      signingTime,
      expiry,
      extendedAttributes: authority
        ? {
          [Header.verificationPlugin]: { value: AwsSigner.plugin, critical: true },
          [AwsSigner.signingProfileVersion]: { value: authority.signingProfileVersionArn, critical: true },
          [AwsSigner.signingJob]: { value: jobArn as string, critical: true },
        }
        : undefined,
      signingAgent: authority ? undefined : SIGNING_AGENT,
    });
    const tsa = this.options.timestampAuthority;
    if (!tsa) return { envelope, mediaType: MediaType.JWS, signingJobArn: jobArn };
    // The token covers the primitive signature under the signature algorithm's hash (notation-core-go timestampJWS).
    const { signature } = parseJwsEnvelope(envelope);
    const token = await timestampSignature(tsa, signature, algorithmForKey(this.key).hash, certificates);
    return { envelope: withUnprotectedHeader(envelope, Header.timestampSignature, encodeBase64(token)), mediaType: MediaType.JWS };
  }

  /** The same leaf certificate, and in AWS Signer's shape the same profile version. */
  isSameIdentity(envelope: ParsedEnvelope): boolean {
    // Asked to timestamp, a signature without a timestamp is not the one wanted.
    if (this.options.timestampAuthority && !envelope.timestampToken) return false;
    const leaf = envelope.certificateChain[0];
    if (leaf === undefined || !Buffer.from(leaf).equals(Buffer.from(this.chain[0]))) return false;
    const authority = this.options.signingAuthority;
    if (authority) return envelope.signingScheme === 'notary.x509.signingAuthority' && signingProfileVersionArn(envelope) === authority.signingProfileVersionArn;
    return envelope.signingScheme === 'notary.x509';
  }
}

function toPrivateKey(key: LocalKeySignerOptions['key']): KeyObject {
  if (key instanceof KeyObject) {
    if (key.type !== 'private') throw new Error('the signing key must be a private key');
    return key;
  }
  try {
    return createPrivateKey(typeof key === 'string' ? key : Buffer.from(key));
  } catch (error) {
    throw new Error(`the signing key is not a PEM private key: ${(error as Error).message}`);
  }
}

function toChain(chain: LocalKeySignerOptions['certificateChain']): Uint8Array[] {
  if (Array.isArray(chain)) return [...chain];
  const bytes = typeof chain === 'string' ? new TextEncoder().encode(chain) : (chain as Uint8Array);
  return parseCertificateFile(bytes, 'the certificate chain');
}

function newJobArn(profileVersionArn: string): string {
  const prefix = profileVersionArn.split(':').slice(0, 5).join(':');
  return `${prefix}:/signing-jobs/${crypto.randomUUID()}`;
}
