/**
 * Signatures over DER structures that OCSP responses and CRLs carry (RFC 5280 section 4.1.1.2, RFC 6960
 * section 4.2.1): the signature algorithm identifier names the hash and the scheme.
 */
import { KeyObject, verify } from 'node:crypto';

/** Signature algorithm OIDs accepted on OCSP responses and CRLs; SHA-1 is refused as Go's crypto/x509 refuses it. */
const ALGORITHMS: Readonly<Record<string, { readonly hash: string; readonly ecdsa: boolean }>> = {
  '1.2.840.10045.4.3.2': { hash: 'sha256', ecdsa: true },
  '1.2.840.10045.4.3.3': { hash: 'sha384', ecdsa: true },
  '1.2.840.10045.4.3.4': { hash: 'sha512', ecdsa: true },
  '1.2.840.113549.1.1.11': { hash: 'sha256', ecdsa: false },
  '1.2.840.113549.1.1.12': { hash: 'sha384', ecdsa: false },
  '1.2.840.113549.1.1.13': { hash: 'sha512', ecdsa: false },
};

/**
 * Whether `signature` over `data` verifies with `key` under the algorithm `algorithmOid`. Throws when the
 * algorithm is not supported or does not fit the key, so the caller can say why.
 */
export function verifySignedData(algorithmOid: string, key: KeyObject, data: Uint8Array, signature: Uint8Array): boolean {
  const algorithm = ALGORITHMS[algorithmOid];
  if (!algorithm) throw new Error(`signature algorithm ${algorithmOid} is not supported`);
  if ((key.asymmetricKeyType === 'ec') !== algorithm.ecdsa) {
    throw new Error(`signature algorithm ${algorithmOid} does not fit the ${key.asymmetricKeyType} key of the signer`);
  }
  // X.509 ECDSA signatures are DER-encoded (r, s); RSA ones are PKCS #1 v1.5 (the default padding).
  return verify(algorithm.hash, data, algorithm.ecdsa ? { key, dsaEncoding: 'der' } : key, signature);
}
