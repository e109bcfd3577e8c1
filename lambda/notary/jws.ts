/** The JWS signature envelope `application/jose+json` (notaryproject/specifications specs/signature-envelope-jws.md). */
import { KeyObject } from 'node:crypto';
import { algorithmForKey, JWS_ALGORITHMS, JwsAlgorithm, signWith } from './algorithms';
import { decodeBase64, decodeBase64Url, encodeBase64, encodeBase64Url, isPlainObject, parseJsonBytes, utf8 } from './encoding';
import { parsePayload } from './payload';
import { ParsedEnvelope, SigningScheme } from './types';
import { MediaType } from '../oci/media-types';

export const Header = {
  signingScheme: 'io.cncf.notary.signingScheme',
  signingTime: 'io.cncf.notary.signingTime',
  authenticSigningTime: 'io.cncf.notary.authenticSigningTime',
  expiry: 'io.cncf.notary.expiry',
  verificationPlugin: 'io.cncf.notary.verificationPlugin',
  verificationPluginMinVersion: 'io.cncf.notary.verificationPluginMinVersion',
  signingAgent: 'io.cncf.notary.signingAgent',
  timestampSignature: 'io.cncf.notary.timestampSignature',
} as const;

/** The AWS Signer plugin name and its signed attributes, which this library verifies natively. */
export const AwsSigner = {
  plugin: 'com.amazonaws.signer.notation.plugin',
  signingProfileVersion: 'com.amazonaws.signer.signingProfileVersion',
  signingJob: 'com.amazonaws.signer.signingJob',
} as const;

const SIGNING_SCHEMES: readonly SigningScheme[] = ['notary.x509', 'notary.x509.signingAuthority'];
/** Critical attributes this verifier understands; any other critical attribute fails integrity. */
const UNDERSTOOD_CRITICAL = new Set<string>([
  Header.signingScheme,
  Header.expiry,
  Header.authenticSigningTime,
  Header.verificationPlugin,
  Header.verificationPluginMinVersion,
  AwsSigner.signingProfileVersion,
  AwsSigner.signingJob,
]);
/** Registered JWS headers may not be listed in `crit` (RFC 7515 section 4.1.11). */
const REGISTERED_JWS_HEADERS = new Set(['alg', 'jku', 'jwk', 'kid', 'x5u', 'x5c', 'x5t', 'x5t#S256', 'typ', 'cty', 'crit']);
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

export class InvalidEnvelopeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidEnvelopeError';
  }
}

/**
 * Parses a JWS envelope and checks its structure and headers (everything but the signature and the
 * certificates). Throws InvalidEnvelopeError in notation's wording.
 */
export function parseJwsEnvelope(bytes: Uint8Array): ParsedEnvelope {
  const fail = (reason: string): never => {
    throw new InvalidEnvelopeError(`signature envelope is not valid: ${reason}`);
  };
  let json: unknown;
  try {
    json = parseJsonBytes(bytes, 'JWS envelope');
  } catch (error) {
    return fail((error as Error).message);
  }
  if (!isPlainObject(json)) return fail('not a JSON object');
  for (const field of ['payload', 'protected', 'signature'] as const) {
    if (typeof json[field] !== 'string' || json[field] === '') return fail(`"${field}" is missing`);
  }
  if (!isPlainObject(json.header)) return fail('unprotected "header" is missing');
  const decoded = (field: 'payload' | 'protected' | 'signature'): Uint8Array => {
    try {
      return decodeBase64Url(json[field] as string, `"${field}"`);
    } catch (error) {
      return fail((error as Error).message);
    }
  };
  const payloadBytes = decoded('payload');
  const protectedBytes = decoded('protected');
  const signature = decoded('signature');

  let headers: unknown;
  try {
    headers = parseJsonBytes(protectedBytes, 'protected header');
  } catch (error) {
    return fail((error as Error).message);
  }
  if (!isPlainObject(headers)) return fail('protected header is not a JSON object');

  const algorithm = headers.alg;
  if (typeof algorithm !== 'string' || !JWS_ALGORITHMS.includes(algorithm as JwsAlgorithm)) {
    return fail(`signature algorithm ${JSON.stringify(algorithm)} is not supported`);
  }
  if (headers.cty !== MediaType.NOTARY_PAYLOAD) return fail(`payload content type ${JSON.stringify(headers.cty)} not supported`);

  const critical = headers.crit;
  if (!Array.isArray(critical) || critical.length === 0 || critical.some((name) => typeof name !== 'string')) {
    return fail('"crit" header must be a non-empty list of header names');
  }
  const scheme = headers[Header.signingScheme];
  if (!SIGNING_SCHEMES.includes(scheme as SigningScheme)) return fail(`signing scheme ${JSON.stringify(scheme)} is not supported`);
  const signingScheme = scheme as SigningScheme;
  checkCritical(critical as string[], headers, signingScheme, fail);

  const time = (name: string): Date | undefined => {
    const value = headers[name];
    if (value === undefined) return undefined;
    if (typeof value !== 'string' || !RFC3339.test(value) || Number.isNaN(Date.parse(value))) return fail(`"${name}" is not an RFC 3339 time`);
    return new Date(value);
  };
  const signingTime = time(Header.signingTime);
  const authenticSigningTime = time(Header.authenticSigningTime);
  const expiry = time(Header.expiry);
  if (signingScheme === 'notary.x509') {
    if (!signingTime) return fail(`"${Header.signingTime}" header is required for signing scheme notary.x509`);
    if (authenticSigningTime) return fail(`"${Header.authenticSigningTime}" header is not allowed for signing scheme notary.x509`);
  } else {
    if (!authenticSigningTime) return fail(`"${Header.authenticSigningTime}" header is required for signing scheme notary.x509.signingAuthority`);
    if (signingTime) return fail(`"${Header.signingTime}" header is not allowed for signing scheme notary.x509.signingAuthority`);
  }
  const signedAt = (signingTime ?? authenticSigningTime) as Date;
  if (expiry && expiry.getTime() <= signedAt.getTime()) return fail('expiry time must be after the signing time');

  const header = json.header;
  if (!Array.isArray(header.x5c) || header.x5c.length === 0) return fail('"x5c" certificate chain is missing');
  const certificateChain = header.x5c.map((entry, index) => {
    try {
      return decodeBase64(entry as string, `x5c[${index}]`);
    } catch (error) {
      return fail((error as Error).message);
    }
  });
  let timestampToken: Uint8Array | undefined;
  if (header[Header.timestampSignature] !== undefined) {
    try {
      timestampToken = decodeBase64(header[Header.timestampSignature] as string, `"${Header.timestampSignature}"`);
    } catch (error) {
      return fail((error as Error).message);
    }
  }
  const agent = header[Header.signingAgent];

  let payload;
  try {
    payload = parsePayload(payloadBytes);
  } catch (error) {
    return fail((error as Error).message);
  }

  return {
    mediaType: MediaType.JWS,
    algorithm,
    signingScheme,
    contentType: headers.cty,
    payload,
    payloadBytes,
    signingInput: utf8(`${json.protected}.${json.payload}`),
    signingTime,
    authenticSigningTime,
    expiry,
    signingAgent: typeof agent === 'string' ? agent : undefined,
    certificateChain,
    protectedHeaders: headers,
    critical: critical as string[],
    signature,
    timestampToken,
  };
}

function checkCritical(critical: readonly string[], headers: Record<string, unknown>, scheme: SigningScheme, fail: (reason: string) => never): void {
  if (new Set(critical).size !== critical.length) fail('"crit" header lists a name twice');
  for (const name of critical) {
    if (REGISTERED_JWS_HEADERS.has(name)) fail(`"crit" header must not list the registered header "${name}"`);
    if (!(name in headers)) fail(`"${name}" header is marked critical but not present`);
  }
  const required: string[] = [Header.signingScheme, ...(headers[Header.expiry] !== undefined ? [Header.expiry] : [])];
  if (scheme === 'notary.x509.signingAuthority') required.push(Header.authenticSigningTime);
  for (const name of required) {
    if (!critical.includes(name)) fail(`"${name}" header must be marked critical`);
  }
  const plugin = headers[Header.verificationPlugin];
  if (plugin !== undefined) {
    if (!critical.includes(Header.verificationPlugin)) fail(`"${Header.verificationPlugin}" header must be marked critical`);
    if (plugin !== AwsSigner.plugin) {
      fail(`the signature requires the verification plugin ${JSON.stringify(plugin)}, which this verifier does not implement`);
    }
  }
  for (const name of critical) {
    if (!UNDERSTOOD_CRITICAL.has(name)) {
      // Under the AWS Signer plugin this is notation's answer: the plugin processes only its two attributes (e.g.
      // not com.amazonaws.signer.signingProfileAlias), and notation-go fails every attribute left unprocessed
      // (notation-go verifier/verifier.go processPluginResponse; aws/aws-signer-notation-plugin internal/verifier).
      if (plugin === AwsSigner.plugin && !name.startsWith('io.cncf.notary.')) {
        fail(`extended critical attribute "${name}" was not processed by the verification plugin "${AwsSigner.plugin}" (all extended critical attributes must be processed by the verification plugin)`);
      }
      fail(`critical header "${name}" is not understood by this verifier`);
    }
    if ((name === AwsSigner.signingProfileVersion || name === AwsSigner.signingJob) && plugin !== AwsSigner.plugin) {
      fail(`critical header "${name}" requires the verification plugin "${AwsSigner.plugin}"`);
    }
  }
}

/** What the local key signer puts in a JWS envelope. */
export interface JwsSigningRequest {
  readonly payload: Uint8Array;
  readonly key: KeyObject;
  /** DER certificates, leaf first. */
  readonly certificateChain: readonly Uint8Array[];
  readonly signingScheme: SigningScheme;
  readonly signingTime: Date;
  readonly expiry?: Date;
  /** Extra protected headers, each critical or not. */
  readonly extendedAttributes?: Readonly<Record<string, { readonly value: string; readonly critical: boolean }>>;
  readonly signingAgent?: string;
}

/** Builds and signs a JWS envelope with sorted protected header keys, as notation writes them. */
export function buildJwsEnvelope(request: JwsSigningRequest): Uint8Array {
  const algorithm = algorithmForKey(request.key);
  const seconds = (date: Date) => date.toISOString().replace(/\.\d{3}Z$/, 'Z');
  const headers: Record<string, unknown> = {
    alg: algorithm.jws,
    cty: MediaType.NOTARY_PAYLOAD,
    [Header.signingScheme]: request.signingScheme,
  };
  const critical: string[] = [Header.signingScheme];
  if (request.signingScheme === 'notary.x509') {
    headers[Header.signingTime] = seconds(request.signingTime);
  } else {
    headers[Header.authenticSigningTime] = seconds(request.signingTime);
    critical.push(Header.authenticSigningTime);
  }
  if (request.expiry) {
    headers[Header.expiry] = seconds(request.expiry);
    critical.push(Header.expiry);
  }
  for (const [name, { value, critical: isCritical }] of Object.entries(request.extendedAttributes ?? {})) {
    headers[name] = value;
    if (isCritical) critical.push(name);
  }
  headers.crit = critical;
  const sorted = Object.fromEntries(Object.keys(headers).sort().map((key) => [key, headers[key]]));
  const protectedPart = encodeBase64Url(utf8(JSON.stringify(sorted)));
  const payloadPart = encodeBase64Url(request.payload);
  const signature = signWith(algorithm, request.key, utf8(`${protectedPart}.${payloadPart}`));
  const envelope = {
    payload: payloadPart,
    protected: protectedPart,
    header: {
      x5c: request.certificateChain.map(encodeBase64),
      ...(request.signingAgent ? { [Header.signingAgent]: request.signingAgent } : {}),
    },
    signature: encodeBase64Url(signature),
  };
  return utf8(JSON.stringify(envelope));
}

/**
 * Adds an unprotected header to a JWS envelope, e.g. the timestamp countersignature, which covers the signature
 * and so can only be obtained after it (notation-core-go signature/jws/envelope.go timestampJWS). The protected
 * header, payload and signature are left byte for byte.
 */
export function withUnprotectedHeader(envelope: Uint8Array, name: string, value: string): Uint8Array {
  const json = parseJsonBytes(envelope, 'JWS envelope') as { header: Record<string, unknown> };
  if (!isPlainObject(json) || !isPlainObject(json.header)) throw new InvalidEnvelopeError('signature envelope is not valid: unprotected "header" is missing');
  json.header = { ...json.header, [name]: value };
  return utf8(JSON.stringify(json));
}
