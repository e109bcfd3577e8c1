/** RFC 3161 requests and the checks on a TSA's answer (tspclient-go Response.Validate), against `openssl ts -reply`. */
import * as asn1js from 'asn1js';
import { AlgorithmIdentifier, MessageImprint, TimeStampReq } from 'pkijs';
import { buildTimestampRequest, parseTimestampResponse } from '../../lambda/notary/timestamp-request';
import { LoopbackTsa, startOpensslTsa } from '../util/openssl-tsa';

let tsa: LoopbackTsa;
beforeAll(async () => {
  tsa = await startOpensslTsa();
});
afterAll(() => tsa.close());

async function ask(der: Uint8Array): Promise<Uint8Array> {
  const response = await fetch(tsa.url, { method: 'POST', headers: { 'content-type': 'application/timestamp-query' }, body: Buffer.from(der) });
  expect(response.headers.get('content-type')).toBe('application/timestamp-reply');
  return new Uint8Array(await response.arrayBuffer());
}

describe('buildTimestampRequest', () => {
  test('a version 1 request with the hash of the content, a positive nonce below 2^159 and certReq', () => {
    const request = buildTimestampRequest(new Uint8Array([1, 2, 3]), 'sha256');
    const parsed = new TimeStampReq({ schema: asn1js.fromBER(request.der.slice().buffer).result });
    expect(parsed.version).toBe(1);
    expect(parsed.messageImprint.hashAlgorithm.algorithmId).toBe('2.16.840.1.101.3.4.2.1');
    expect(Buffer.from(parsed.messageImprint.hashedMessage.valueBlock.valueHexView).toString('hex')).toBe('039058c6f2c0cb492c533b0a4d14ef77cc0f78abccced5287d84a1a2011cfb81');
    expect(parsed.certReq).toBe(true);
    expect(request.nonce).toHaveLength(20);
    expect(request.nonce[0]).toBeLessThan(0x80);
    expect(buildTimestampRequest(new Uint8Array([1, 2, 3]), 'sha256').nonce).not.toEqual(request.nonce);
  });
});

describe('the nonce is a DER INTEGER in its minimal encoding, which the TSA accepts', () => {
  test.each([
    ['a leading zero byte', [0x00, 0x3f, ...new Array(18).fill(0x11)], '3f'],
    ['two leading zero bytes before a high bit', [0x00, 0x00, 0x9a, ...new Array(17).fill(0x22)], '009a'],
    ['no leading zero', [0x7f, ...new Array(19).fill(0x33)], '7f'],
  ])('%s', async (_name, bytes, encodedStart) => {
    const nonce = new Uint8Array(bytes);
    const request = buildTimestampRequest(new Uint8Array([9]), 'sha256', nonce);
    const parsed = new TimeStampReq({ schema: asn1js.fromBER(request.der.slice().buffer).result });
    expect(Buffer.from(parsed.nonce!.valueBlock.valueHexView).toString('hex').startsWith(encodedStart)).toBe(true);
    // openssl ts -reply refuses a non-minimal INTEGER ("Bad request format"); the answer is granted and its nonce matches.
    expect(parseTimestampResponse(await ask(request.der), request).length).toBeGreaterThan(100);
  });
});

describe('parseTimestampResponse', () => {
  test('returns the token of a granted answer byte for byte as the TSA sent it', async () => {
    const request = buildTimestampRequest(new Uint8Array([4, 5, 6]), 'sha384');
    const answer = await ask(request.der);
    const token = parseTimestampResponse(answer, request);
    expect(token.length).toBeGreaterThan(100);
    expect(Buffer.from(answer).subarray(answer.length - token.length)).toEqual(Buffer.from(token));
  });

  test.each([
    ['no bytes', new Uint8Array(0)],
    ['a TimeStampReq', buildTimestampRequest(new Uint8Array([1]), 'sha256').der],
  ])('refuses %s', (_, bytes) => {
    expect(() => parseTimestampResponse(bytes, buildTimestampRequest(new Uint8Array([1]), 'sha256'))).toThrow(/^invalid timestamp response: /);
  });

  test('refuses an answer to another request with the same imprint: the nonce differs', async () => {
    const asked = buildTimestampRequest(new Uint8Array([7]), 'sha256');
    const other = buildTimestampRequest(new Uint8Array([7]), 'sha256');
    const answer = await ask(asked.der);
    expect(() => parseTimestampResponse(answer, other)).toThrow('invalid timestamp response: the nonce in the response does not match the nonce in the request');
  });

  test('refuses an answer over other content: the message imprint differs', async () => {
    const asked = buildTimestampRequest(new Uint8Array([8]), 'sha256');
    const expected = { ...buildTimestampRequest(new Uint8Array([9]), 'sha256'), nonce: asked.nonce };
    const answer = await ask(asked.der);
    expect(() => parseTimestampResponse(answer, expected)).toThrow('invalid timestamp response: the message imprint in the response does not match the request');
  });

  test('a rejection names the TSA\'s status and text', async () => {
    // SHA-1 is not among the loopback TSA's accepted digests, so openssl answers with a rejection.
    const sha1 = new TimeStampReq({
      version: 1,
      messageImprint: new MessageImprint({
        hashAlgorithm: new AlgorithmIdentifier({ algorithmId: '1.3.14.3.2.26', algorithmParams: new asn1js.Null() }),
        hashedMessage: new asn1js.OctetString({ valueHex: new Uint8Array(20).buffer }),
      }),
      certReq: true,
    });
    const answer = await ask(new Uint8Array(sha1.toSchema().toBER()));
    const request = buildTimestampRequest(new Uint8Array([10]), 'sha256');
    expect(() => parseTimestampResponse(answer, request)).toThrow(/^invalid timestamp response: the TSA answered rejection/);
  });
});
