/** Signature algorithms chosen from the signing key (notaryproject/specifications specs/signature-specification.md, "Algorithm Selection"). */
import { constants, KeyObject, sign as cryptoSign, verify as cryptoVerify } from 'node:crypto';

export type JwsAlgorithm = 'ES256' | 'ES384' | 'ES512' | 'PS256' | 'PS384' | 'PS512';
export const JWS_ALGORITHMS: readonly JwsAlgorithm[] = ['ES256', 'ES384', 'ES512', 'PS256', 'PS384', 'PS512'];

export interface SignatureAlgorithm {
  readonly jws: JwsAlgorithm;
  readonly hash: 'sha256' | 'sha384' | 'sha512';
  /** The key spec in notation's plugin wording, e.g. `EC-384`. */
  readonly keySpec: string;
}

const EC_CURVES: Readonly<Record<string, SignatureAlgorithm>> = {
  prime256v1: { jws: 'ES256', hash: 'sha256', keySpec: 'EC-256' },
  secp384r1: { jws: 'ES384', hash: 'sha384', keySpec: 'EC-384' },
  secp521r1: { jws: 'ES512', hash: 'sha512', keySpec: 'EC-521' },
};
const RSA_SIZES: Readonly<Record<number, SignatureAlgorithm>> = {
  2048: { jws: 'PS256', hash: 'sha256', keySpec: 'RSA-2048' },
  3072: { jws: 'PS384', hash: 'sha384', keySpec: 'RSA-3072' },
  4096: { jws: 'PS512', hash: 'sha512', keySpec: 'RSA-4096' },
};
const HASH_BYTES = { sha256: 32, sha384: 48, sha512: 64 } as const;

/** The only algorithm a key may sign with; throws in notation's wording for other keys. */
export function algorithmForKey(key: KeyObject): SignatureAlgorithm {
  const details = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === 'ec') {
    const algorithm = EC_CURVES[details.namedCurve ?? ''];
    if (!algorithm) throw new Error(`ecdsa key of curve "${details.namedCurve}" is not supported`);
    return algorithm;
  }
  if (key.asymmetricKeyType === 'rsa') {
    const algorithm = RSA_SIZES[details.modulusLength ?? 0];
    if (!algorithm) throw new Error(`rsa key size ${details.modulusLength} bits is not supported`);
    return algorithm;
  }
  throw new Error(`key type "${key.asymmetricKeyType}" is not supported`);
}

/** Signs `data`: ECDSA as raw r‖s, RSASSA-PSS with a salt as long as the hash. */
export function signWith(algorithm: SignatureAlgorithm, key: KeyObject, data: Uint8Array): Uint8Array {
  return new Uint8Array(cryptoSign(algorithm.hash, data, keyOptions(algorithm, key, HASH_BYTES[algorithm.hash])));
}

/** Verifies a JWS signature; PSS salts are read from the signature as golang-jwt does. */
export function verifyWith(algorithm: SignatureAlgorithm, key: KeyObject, data: Uint8Array, signature: Uint8Array): boolean {
  try {
    return cryptoVerify(algorithm.hash, data, keyOptions(algorithm, key, constants.RSA_PSS_SALTLEN_AUTO), signature);
  } catch {
    return false;
  }
}

function keyOptions(algorithm: SignatureAlgorithm, key: KeyObject, saltLength: number) {
  return algorithm.jws.startsWith('ES')
    ? { key, dsaEncoding: 'ieee-p1363' as const }
    : { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength };
}
