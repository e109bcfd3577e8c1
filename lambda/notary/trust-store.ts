/**
 * Trust store certificates (pure): a trust store file's bytes as PEM (several certificates) or DER
 * (possibly concatenated), the acceptance rules notation-go applies to them, and the built-in AWS Signer
 * stores.
 */
import { X509Certificate } from 'node:crypto';
import { TrustStoreError } from './trust-policy';
import { NamedTrustStores } from './types';
import { AWS_SIGNER_TRUST_STORES, awsSignerTrustStore } from '../../src/shared/aws-signer';
import { TrustStoreType } from '../../src/shared/trust-policy';

export { TrustStoreError } from './trust-policy';

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;

/**
 * The DER certificates in a file: PEM (every CERTIFICATE block) or DER (one or several concatenated).
 * `source` names the file in errors.
 */
export function parseCertificateFile(bytes: Uint8Array, source: string): Uint8Array[] {
  const text = Buffer.from(bytes).toString('latin1');
  const certificates = text.includes('-----BEGIN ') ? parsePem(text, source) : splitDer(bytes, source);
  for (const [i, der] of certificates.entries()) {
    try {
      new X509Certificate(der);
    } catch (error) {
      throw new TrustStoreError(`certificate #${i + 1} in "${source}" is not a valid X.509 certificate: ${(error as Error).message}`, undefined, {
        cause: error,
      });
    }
  }
  if (certificates.length === 0) throw noCertificate(source);
  return certificates;
}

function noCertificate(source: string): TrustStoreError {
  return new TrustStoreError(
    `could not parse a certificate from "${source}", every file in a trust store must have a PEM or DER certificate in it`,
  );
}

function parsePem(text: string, source: string): Uint8Array[] {
  const certificates: Uint8Array[] = [];
  for (const [, label, body] of text.matchAll(PEM_BLOCK)) {
    // A key in a trust store is a mistake worth stopping for, not something to skip silently.
    if (label !== 'CERTIFICATE') {
      throw new TrustStoreError(`"${source}" holds a PEM "${label}" block; a trust store file may hold only CERTIFICATE blocks`);
    }
    const base64 = body.replace(/\s+/g, '');
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(base64)) {
      throw new TrustStoreError(`"${source}" has a PEM CERTIFICATE block that is not valid base64`);
    }
    certificates.push(new Uint8Array(Buffer.from(base64, 'base64')));
  }
  return certificates;
}

/** Splits concatenated DER SEQUENCEs by their length headers. */
function splitDer(bytes: Uint8Array, source: string): Uint8Array[] {
  const certificates: Uint8Array[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    const length = derElementLength(bytes, offset);
    if (length === undefined || offset + length > bytes.length) throw noCertificate(source);
    certificates.push(bytes.slice(offset, offset + length));
    offset += length;
  }
  return certificates;
}

/** The total length (header + content) of the DER SEQUENCE at `offset`, or undefined if there is none. */
function derElementLength(bytes: Uint8Array, offset: number): number | undefined {
  if (bytes[offset] !== 0x30 || offset + 2 > bytes.length) return undefined;
  const first = bytes[offset + 1];
  if (first < 0x80) return 2 + first;
  const count = first - 0x80;
  if (count === 0 || count > 4 || offset + 2 + count > bytes.length) return undefined;
  let length = 0;
  for (let i = 0; i < count; i++) length = length * 256 + bytes[offset + 2 + i];
  return 2 + count + length;
}

function isSelfSigned(certificate: X509Certificate): boolean {
  // Not checkIssued: OpenSSL requires keyCertSign of an issuer, which a self-signed signing certificate lacks.
  return certificate.subject === certificate.issuer && certificate.verify(certificate.publicKey);
}

/**
 * notation-go's acceptance rules: every certificate is a CA or a self-signed signing certificate; a `tsa`
 * store holds self-signed root certificates only. Throws TrustStoreError naming the store and the file.
 */
export function validateTrustStoreCertificates(certificates: readonly Uint8Array[], store: string, source: string): void {
  const type = store.slice(0, store.indexOf(':')) as TrustStoreType;
  for (const der of certificates) {
    const certificate = new X509Certificate(der);
    const subject = certificate.subject.replace(/\n/g, ', ');
    if (type === 'tsa') {
      if (!certificate.ca || !isSelfSigned(certificate)) {
        throw new TrustStoreError(
          `trust store "${store}": certificate with subject "${subject}" from file "${source}" is not a root certificate. Only root certificates are allowed in a tsa trust store`,
          store,
        );
      }
    } else if (!certificate.ca && !isSelfSigned(certificate)) {
      throw new TrustStoreError(
        `trust store "${store}": certificate with subject "${subject}" from file "${source}" is not a CA certificate or self-signed signing certificate`,
        store,
      );
    }
  }
}

/** Parses and validates one file of the named store `store` (`<type>:<name>`). */
export function readTrustStoreFile(bytes: Uint8Array, store: string, source: string): Uint8Array[] {
  let certificates: Uint8Array[];
  try {
    certificates = parseCertificateFile(bytes, source);
  } catch (error) {
    throw new TrustStoreError(`trust store "${store}": ${(error as Error).message}`, store, { cause: error });
  }
  validateTrustStoreCertificates(certificates, store, source);
  return certificates;
}

/** DER certificates of PEM text (built-in roots). */
function pemToDer(pem: string, source: string): Uint8Array[] {
  return parseCertificateFile(new TextEncoder().encode(pem), source);
}

/**
 * `stores` plus the built-in AWS Signer stores (`signingAuthority:aws-signer-ts`,
 * `signingAuthority:aws-us-gov-signer-ts`) where `stores` does not define them: the Lambda verifier has no
 * config directory, and notation's AWS installer creates exactly these named stores.
 */
export function withBuiltInTrustStores(stores: NamedTrustStores, builtIns: NamedTrustStores = awsSignerTrustStores()): NamedTrustStores {
  const merged = new Map(builtIns);
  for (const [key, certificates] of stores) merged.set(key, certificates);
  return merged;
}

/** The AWS Signer root certificates as the named stores the AWS Signer installer creates. */
export function awsSignerTrustStores(): NamedTrustStores {
  return new Map(
    Object.entries(AWS_SIGNER_TRUST_STORES).map(([partition, store]) => [`signingAuthority:${store.name}`, awsSignerRoots(partition) as Uint8Array[]]),
  );
}

/**
 * The AWS Signer Notation root certificates of an AWS partition, the chains AWS Signer's envelopes lead to;
 * undefined for a partition whose root AWS does not publish.
 */
export function awsSignerRoots(partition: string): Uint8Array[] | undefined {
  const store = awsSignerTrustStore(partition);
  return store && pemToDer(store.pem, `built-in AWS Signer root of partition ${partition}`);
}
