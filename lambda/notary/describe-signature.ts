/** What `inspect` shows of a signature: its envelope's claims and chain, not a verdict. */
import { signingJobArn, signingProfileVersionArn } from './aws-signer-identity';
import { parseCertificate } from './certificate';
import { parseJwsEnvelope } from './jws';
import { describeTimestampToken, TimestampDescription } from './timestamp-description';
import { MediaType } from '../oci/media-types';
import { Descriptor } from '../oci/types';

export interface CertificateDescription {
  readonly subject: string;
  readonly issuer: string;
  readonly sha256Fingerprint: string;
  readonly notBefore: string;
  readonly notAfter: string;
}

export interface SignatureDescription {
  readonly signatureDigest: string;
  readonly mediaType: string;
  readonly signatureAlgorithm: string;
  readonly signingScheme: string;
  readonly signingTime?: string;
  readonly authenticSigningTime?: string;
  readonly expiry?: string;
  readonly signingAgent?: string;
  readonly signingProfileVersionArn?: string;
  readonly signingJobArn?: string;
  /** Signed extended attributes other than the Notary ones. */
  readonly signedAttributes: Readonly<Record<string, unknown>>;
  /** The signed artifact descriptor, with the user metadata in its annotations. */
  readonly signedArtifact: Descriptor;
  readonly certificateChain: readonly CertificateDescription[];
  readonly timestamped: boolean;
  /** The RFC 3161 countersignature's time and certificates (unverified), or why it cannot be read. */
  readonly timestamp?: TimestampDescription;
}

const STANDARD_HEADERS = new Set(['alg', 'cty', 'crit']);

/**
 * Describes a JWS envelope (structure checked, signature not verified). Throws when it cannot be parsed, or when the
 * signature manifest says it is another format (COSE).
 */
export function describeSignature(
  signatureDigest: string,
  envelopeBytes: Uint8Array,
  envelopeMediaType: string = MediaType.JWS,
): SignatureDescription {
  if (envelopeMediaType !== MediaType.JWS) {
    throw new Error(`signature envelope format with media type "${envelopeMediaType}" is not supported`);
  }
  const envelope = parseJwsEnvelope(envelopeBytes);
  const signedAttributes = Object.fromEntries(
    Object.entries(envelope.protectedHeaders).filter(([key]) => !STANDARD_HEADERS.has(key) && !key.startsWith('io.cncf.notary.')),
  );
  const describeChain = (chain: readonly Uint8Array[]) =>
    chain.map((der, index) => {
      const certificate = parseCertificate(der, `certificate ${index + 1} of the chain`);
      return {
        subject: certificate.subject,
        issuer: certificate.issuer,
        sha256Fingerprint: certificate.sha256,
        notBefore: certificate.notBefore.toISOString(),
        notAfter: certificate.notAfter.toISOString(),
      };
    });
  return {
    signatureDigest,
    mediaType: envelope.mediaType,
    signatureAlgorithm: envelope.algorithm,
    signingScheme: envelope.signingScheme,
    signingTime: envelope.signingTime?.toISOString(),
    authenticSigningTime: envelope.authenticSigningTime?.toISOString(),
    expiry: envelope.expiry?.toISOString(),
    signingAgent: envelope.signingAgent,
    signingProfileVersionArn: signingProfileVersionArn(envelope),
    signingJobArn: signingJobArn(envelope),
    signedAttributes,
    signedArtifact: envelope.payload.targetArtifact,
    certificateChain: describeChain(envelope.certificateChain),
    timestamped: envelope.timestampToken !== undefined,
    timestamp: envelope.timestampToken && describeTimestampToken(envelope.timestampToken, describeChain),
  };
}
