/**
 * RFC 3161 requests and responses for timestamping a signature at sign time, as notation 1.2+ does it
 * (notaryproject/tspclient-go request.go and response.go; notation-core-go signature/jws/envelope.go
 * timestampJWS): the message imprint is the hash of the primitive signature under the signature algorithm's
 * hash, with a random nonce below 2^159 and certReq true. Pure format code: the HTTP exchange is in
 * lambda/signers/tsa-client.ts.
 */
import { createHash, randomBytes } from 'node:crypto';
import * as asn1js from 'asn1js';
import { AlgorithmIdentifier, ContentInfo, MessageImprint, SignedData, TimeStampReq, TimeStampResp, TSTInfo } from 'pkijs';
import { toArrayBuffer } from './certificate';

const HASH_OIDS = {
  sha256: '2.16.840.1.101.3.4.2.1',
  sha384: '2.16.840.1.101.3.4.2.2',
  sha512: '2.16.840.1.101.3.4.2.3',
} as const;
const ID_SIGNED_DATA = '1.2.840.113549.1.7.2';
const ID_CT_TST_INFO = '1.2.840.113549.1.9.16.1.4';
/** PKIStatus granted (0) and grantedWithMods (1) carry a token (RFC 3161 section 2.4.2). */
const GRANTED = [0, 1];
const STATUS_NAMES = ['granted', 'grantedWithMods', 'rejection', 'waiting', 'revocationWarning', 'revocationNotification'];

export type TimestampHash = keyof typeof HASH_OIDS;

export interface TimestampRequest {
  /** The DER TimeStampReq, sent as `application/timestamp-query`. */
  readonly der: Uint8Array;
  readonly hash: TimestampHash;
  readonly hashedMessage: Uint8Array;
  /** The nonce as unsigned big-endian bytes. */
  readonly nonce: Uint8Array;
}

/** 20 random bytes with the top bit clear: 0 <= nonce < 2^159, a positive INTEGER (tspclient-go generateNonce). */
function randomNonce(): Uint8Array {
  const nonce = new Uint8Array(randomBytes(20));
  nonce[0] = nonce[0] % 0x80;
  return nonce;
}

/** A TimeStampReq over `content` (the primitive signature); `nonce` (unsigned big-endian) is for tests. */
export function buildTimestampRequest(content: Uint8Array, hash: TimestampHash, nonce: Uint8Array = randomNonce()): TimestampRequest {
  const hashedMessage = new Uint8Array(createHash(hash).update(content).digest());
  const request = new TimeStampReq({
    version: 1,
    messageImprint: new MessageImprint({
      hashAlgorithm: new AlgorithmIdentifier({ algorithmId: HASH_OIDS[hash], algorithmParams: new asn1js.Null() }),
      hashedMessage: new asn1js.OctetString({ valueHex: toArrayBuffer(hashedMessage) }),
    }),
    // DER's minimal encoding, as big.Int gives it: a nonce whose first byte is 0 must not be sent with that byte
    // (1 request in 256), which strict TSAs refuse as a bad request.
    nonce: asn1js.Integer.fromBigInt(BigInt(`0x${Buffer.from(nonce).toString('hex')}`)),
    certReq: true,
  });
  return { der: new Uint8Array(request.toSchema().toBER()), hash, hashedMessage, nonce };
}

/**
 * Reads a TimeStampResp and checks it answers `request` (tspclient-go Response.Validate): status granted, a
 * TSTInfo of version 1 with the request's message imprint and nonce, and a signing certificate in the token
 * since certReq was true. Returns the TimeStampToken's bytes exactly as the TSA sent them, for the envelope's
 * `io.cncf.notary.timestampSignature`. Does not verify the token's signature (verifyTimestamp does).
 */
export function parseTimestampResponse(der: Uint8Array, request: TimestampRequest): Uint8Array {
  const fail = (reason: string): never => {
    throw new Error(`invalid timestamp response: ${reason}`);
  };
  const asn1 = asn1js.fromBER(toArrayBuffer(der));
  if (asn1.offset === -1 || asn1.offset !== der.length) return fail('it is not one DER TimeStampResp');
  let response: TimeStampResp;
  try {
    response = new TimeStampResp({ schema: asn1.result });
  } catch (error) {
    return fail((error as Error).message);
  }
  const status = response.status.status;
  if (!GRANTED.includes(status)) {
    const text = response.status.statusStrings?.map((s) => s.valueBlock.value).join('; ');
    return fail(`the TSA answered ${STATUS_NAMES[status] ?? `status ${status}`}${text ? `: ${text}` : ''}`);
  }
  const tokenBlock = (asn1.result as asn1js.Sequence).valueBlock.value[1];
  if (!response.timeStampToken || !tokenBlock) return fail('the TSA granted the request but sent no timestamp token');

  let tstInfo: TSTInfo;
  let signedData: SignedData;
  try {
    const contentInfo: ContentInfo = response.timeStampToken;
    if (contentInfo.contentType !== ID_SIGNED_DATA) throw new Error('the token is not CMS SignedData');
    signedData = new SignedData({ schema: contentInfo.content });
    if (signedData.encapContentInfo.eContentType !== ID_CT_TST_INFO) throw new Error('the token\'s content type is not id-ct-TSTInfo');
    const content = signedData.encapContentInfo.eContent;
    if (!content) throw new Error('the token has no TSTInfo');
    tstInfo = TSTInfo.fromBER(content.getValue());
  } catch (error) {
    return fail((error as Error).message);
  }
  if (tstInfo.version !== 1) fail(`timestamp token info version must be 1, but got ${tstInfo.version}`);
  const imprint = tstInfo.messageImprint;
  if (
    imprint.hashAlgorithm.algorithmId !== HASH_OIDS[request.hash] ||
    !Buffer.from(imprint.hashedMessage.valueBlock.valueHexView).equals(Buffer.from(request.hashedMessage))
  ) {
    fail('the message imprint in the response does not match the request');
  }
  const nonce = tstInfo.nonce ? unsigned(tstInfo.nonce.valueBlock.valueHexView) : undefined;
  if (!nonce || !nonce.equals(unsigned(request.nonce))) fail('the nonce in the response does not match the nonce in the request');
  if (!signedData.certificates?.length) fail('certReq is true in the request, but the response has no TSA signing certificate');
  return new Uint8Array(tokenBlock.valueBeforeDecodeView);
}

/** An INTEGER's magnitude without leading zero bytes, for comparing nonces. */
function unsigned(bytes: Uint8Array): Buffer {
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start++;
  return Buffer.from(bytes.subarray(start));
}
