/**
 * Timestamps a primitive signature at an RFC 3161 Timestamping Authority over HTTP (RFC 3161 section 3.4), as
 * notation sign --timestamp-url does (tspclient-go http.go), then checks the token against the TSA roots given
 * with --timestamp-root-cert before the signature is pushed (notation-core-go internal/timestamp Timestamp).
 */
import { ParsedCertificate, toArrayBuffer } from '../notary/certificate';
import { chainRevocation } from '../notary/chain-revocation';
import { verifyTimestamp } from '../notary/timestamp';
import { buildTimestampRequest, parseTimestampResponse, TimestampHash } from '../notary/timestamp-request';
import { CertificateRevocationValidator } from '../notary/types';

/** notation's timestampingTimeout (cmd/notation/sign.go). */
const TIMEOUT_MS = 15_000;
/** tspclient-go maxBodyLength. */
const MAX_RESPONSE_BYTES = 1024 * 1024;

export interface TimestampAuthority {
  /** The TSA's http(s) URL (notation's `--timestamp-url`). */
  readonly url: string;
  /** DER root certificates the TSA's chain must lead to (notation's `--timestamp-root-cert`). */
  readonly rootCertificates: readonly Uint8Array[];
  /**
   * OCSP and CRL checking of the TSA's chain before the token is used, as notation sign does
   * (notation-core-go internal/timestamp/timestamp.go, TSARevocationValidator).
   * @default not checked
   */
  readonly revocation?: CertificateRevocationValidator;
}

/** Checks a TSA URL as tspclient-go NewHTTPTimestamper does; throws naming it. */
export function checkTimestampUrl(url: string): void {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new Error(`timestamp URL "${url}" is not a URL`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new Error(`timestamp URL "${url}": scheme must be http or https, but got "${parsed.protocol.replace(/:$/, '')}"`);
  }
}

/**
 * Returns the TimeStampToken over `signature`, verified against the authority's roots, with a timestamping
 * chain and a time within the signing chain's validity; throws saying why not.
 */
export async function timestampSignature(
  authority: TimestampAuthority,
  signature: Uint8Array,
  hash: TimestampHash,
  signingChain: readonly ParsedCertificate[],
): Promise<Uint8Array> {
  const request = buildTimestampRequest(signature, hash);
  const fail = (reason: string): never => {
    throw new Error(`timestamp: POST "${authority.url}": ${reason}`);
  };
  let response: Response;
  try {
    response = await fetch(authority.url, {
      method: 'POST',
      headers: { 'content-type': 'application/timestamp-query' },
      body: toArrayBuffer(request.der),
      redirect: 'error',
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch (error) {
    const cause = (error as { cause?: { message?: string } }).cause?.message;
    return fail(`${(error as Error).message}${cause ? `: ${cause}` : ''}`);
  }
  if (response.status !== 200) fail(`response bad status: ${response.status} ${response.statusText}`.trim());
  const contentType = response.headers.get('content-type');
  if (contentType !== 'application/timestamp-reply') fail(`unexpected response content type: ${contentType}`);
  if (Number(response.headers.get('content-length') ?? 0) > MAX_RESPONSE_BYTES) fail('the response is larger than 1 MiB');
  const body = new Uint8Array(await response.arrayBuffer());
  if (body.length > MAX_RESPONSE_BYTES) fail('the response is larger than 1 MiB');

  let token: Uint8Array;
  try {
    token = parseTimestampResponse(body, request);
    const { tsaChain } = await verifyTimestamp(token, signature, authority.rootCertificates, signingChain);
    if (authority.revocation) {
      const revocation = await chainRevocation(tsaChain, authority.revocation, 'timestamping certificate');
      if (!revocation.ok) throw new Error(revocation.message);
    }
  } catch (error) {
    return fail((error as Error).message);
  }
  return token;
}
