import { createHash } from 'node:crypto';
import { DigestMismatchError, InvalidDigestError } from './errors';

/** The digest algorithms this library computes and checks, with their hex lengths. */
const HEX_LENGTHS = { sha256: 64, sha512: 128 } as const;
export type DigestAlgorithm = keyof typeof HEX_LENGTHS;

export interface ParsedDigest {
  readonly algorithm: DigestAlgorithm;
  readonly hex: string;
}

const DIGEST_SHAPE = /^([a-z0-9]+(?:[.+_-][a-z0-9]+)*):([a-zA-Z0-9=_-]+)$/;

/** Parses `sha256:<64 lowercase hex>` or `sha512:<128 lowercase hex>`; anything else throws. */
export function parseDigest(digest: string): ParsedDigest {
  if (typeof digest !== 'string' || digest.length > 7 + 128) {
    throw new InvalidDigestError(String(digest).slice(0, 200), 'it is too long');
  }
  const match = DIGEST_SHAPE.exec(digest);
  if (!match) throw new InvalidDigestError(digest, 'expected <algorithm>:<hex>');
  const [, algorithm, hex] = match;
  if (!(algorithm in HEX_LENGTHS)) {
    throw new InvalidDigestError(digest, `unsupported algorithm "${algorithm}" (expected sha256 or sha512)`);
  }
  const length = HEX_LENGTHS[algorithm as DigestAlgorithm];
  if (hex.length !== length || !/^[a-f0-9]+$/.test(hex)) {
    throw new InvalidDigestError(digest, `${algorithm} needs exactly ${length} lowercase hex characters`);
  }
  return { algorithm: algorithm as DigestAlgorithm, hex };
}

export function isValidDigest(digest: string): boolean {
  try {
    parseDigest(digest);
    return true;
  } catch {
    return false;
  }
}

/** `<algorithm>:<hex>` of the bytes. */
export function computeDigest(bytes: Uint8Array, algorithm: DigestAlgorithm = 'sha256'): string {
  return `${algorithm}:${createHash(algorithm).update(bytes).digest('hex')}`;
}

export function sha256Digest(bytes: Uint8Array): string {
  return computeDigest(bytes, 'sha256');
}

/**
 * Checks that `bytes` hash to `expected` (using its algorithm).
 * @param what names the content in the error, e.g. `manifest 127.0.0.1:5000/app:v1`.
 */
export function verifyDigest(bytes: Uint8Array, expected: string, what: string): void {
  const { algorithm } = parseDigest(expected);
  const actual = computeDigest(bytes, algorithm);
  if (actual !== expected) throw new DigestMismatchError(what, expected, actual);
}
