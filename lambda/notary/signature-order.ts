/**
 * The order signatures are tried in (pure). Each signature manifest carries the SHA-256 thumbprints of its
 * certificate chain (`io.cncf.notary.x509chain.thumbprint#S256`, which notation writes and registries copy
 * into referrer descriptors): signatures whose chain names a trusted certificate go first. The annotation is
 * unauthenticated, so it only orders the attempts; the verdict comes from the signature itself.
 */
import { createHash } from 'node:crypto';
import { THUMBPRINT_ANNOTATION } from './signature-manifest';
import { Descriptor } from '../oci/types';

/** Longer annotations are not read: a real chain has a handful of 64-character thumbprints. */
const MAX_ANNOTATION_LENGTH = 4096;

/** Lowercase hex SHA-256 of each DER certificate. */
export function thumbprints(certificates: readonly Uint8Array[]): Set<string> {
  return new Set(certificates.map((der) => createHash('sha256').update(der).digest('hex')));
}

/** Whether the descriptor's thumbprint annotation names one of `trusted`. */
export function namesTrustedCertificate(descriptor: Descriptor, trusted: ReadonlySet<string>): boolean {
  const annotation = descriptor.annotations?.[THUMBPRINT_ANNOTATION];
  if (typeof annotation !== 'string' || annotation.length > MAX_ANNOTATION_LENGTH) return false;
  try {
    const parsed: unknown = JSON.parse(annotation);
    return Array.isArray(parsed) && parsed.some((entry) => typeof entry === 'string' && trusted.has(entry.toLowerCase()));
  } catch {
    return false;
  }
}

/** `signatures` with those that name a trusted certificate first, each group in listing order. */
export function orderByLikelyTrust(signatures: readonly Descriptor[], trusted: ReadonlySet<string>): Descriptor[] {
  const likely = signatures.filter((signature) => namesTrustedCertificate(signature, trusted));
  if (likely.length === 0 || likely.length === signatures.length) return [...signatures];
  return [...likely, ...signatures.filter((signature) => !likely.includes(signature))];
}
