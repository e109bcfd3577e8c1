/** Strict base64 variants used by JWS envelopes (RFC 7515 base64url, and std base64 for `x5c`). */

const BASE64URL = /^[A-Za-z0-9_-]*$/;
const BASE64_STD = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Decodes unpadded base64url, rejecting padding, other alphabets and impossible lengths. */
export function decodeBase64Url(text: string, what: string): Uint8Array {
  if (typeof text !== 'string' || !BASE64URL.test(text) || text.length % 4 === 1) {
    throw new Error(`${what} is not valid unpadded base64url`);
  }
  const bytes = Buffer.from(text, 'base64url');
  // Node ignores non-zero trailing bits; re-encoding catches them so each value has one encoding.
  if (bytes.toString('base64url') !== text) throw new Error(`${what} is not canonical base64url`);
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export function encodeBase64Url(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');
}

/** Decodes padded standard base64 (the encoding Go uses for `[]byte` JSON fields). */
export function decodeBase64(text: string, what: string): Uint8Array {
  if (typeof text !== 'string' || !BASE64_STD.test(text)) throw new Error(`${what} is not valid base64`);
  const bytes = Buffer.from(text, 'base64');
  if (bytes.toString('base64') !== text) throw new Error(`${what} is not canonical base64`);
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export function encodeBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64');
}

export function utf8(text: string): Uint8Array {
  return new TextEncoder().encode(text);
}

const decoder = new TextDecoder('utf-8', { fatal: true });

/** Parses UTF-8 JSON, naming `what` in the error. */
export function parseJsonBytes(bytes: Uint8Array, what: string): unknown {
  let text: string;
  try {
    text = decoder.decode(bytes);
  } catch {
    throw new Error(`${what} is not valid UTF-8`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new Error(`${what} is not valid JSON: ${(error as Error).message}`);
  }
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** JSON with object keys sorted at every level, as Go's encoding of maps produces. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (!isPlainObject(value)) return value;
  const sorted: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) {
    if (value[key] !== undefined) sorted[key] = sortKeys(value[key]);
  }
  return sorted;
}
