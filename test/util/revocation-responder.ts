/**
 * A loopback OCSP responder and CRL distribution point for tests: a node HTTP server that answers OCSP
 * requests (RFC 6960, signed with pkijs) and serves CRLs (RFC 5280, signed with @peculiar/x509), each as the
 * test sets it.
 */
import { webcrypto } from 'node:crypto';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import * as asn1js from 'asn1js';
import { BasicOCSPResponse, Certificate, CryptoEngine, OCSPRequest, OCSPResponse, ResponseBytes, setEngine, SingleResponse } from 'pkijs';
import { TestCertificate } from './pki';

setEngine('node', new CryptoEngine({ name: 'node', crypto: webcrypto as unknown as ConstructorParameters<typeof CryptoEngine>[0]['crypto'] }));

const DAY = 24 * 3600_000;

export interface OcspAnswerOptions {
  readonly status: 'good' | 'revoked' | 'unknown';
  /** Signs the response (its key) and is named as the responder. @default the issuer the responder was given */
  readonly signer?: TestCertificate;
  /** Carried in the response's certs. @default the signer when it is not the issuer */
  readonly certificates?: readonly TestCertificate[];
  /** @default now plus one day; null leaves it out */
  readonly nextUpdate?: Date | null;
  /** @default now minus one minute */
  readonly thisUpdate?: Date;
  /** Answer for this serial number (hex) instead of the requested one. */
  readonly serialNumber?: string;
  /** Answer with this HTTP status and no OCSP body. */
  readonly httpStatus?: number;
}

export interface CrlEntryOptions {
  readonly serialNumber: string;
  /** @default an hour ago */
  readonly revocationDate?: Date;
  readonly reason?: x509.X509CrlReason;
}

export interface CrlOptions {
  readonly entries?: readonly CrlEntryOptions[];
  /** @default the issuer the distribution point was given */
  readonly signer?: TestCertificate;
  /** @default now plus one day; null leaves it out */
  readonly nextUpdate?: Date | null;
  readonly extensions?: readonly x509.Extension[];
}

export interface RevocationResponder {
  /** Base URL, e.g. `http://127.0.0.1:1234`. */
  readonly url: string;
  /** Paths requested so far, in order. */
  readonly requests: string[];
  /** How the OCSP responder at `${url}/ocsp/${name}` answers for certificates issued by `issuer`. */
  answerOcsp(name: string, issuer: TestCertificate, answer: OcspAnswerOptions): void;
  /** Serves a CRL of `issuer` at `${url}/crl/${name}`. */
  publishCrl(name: string, issuer: TestCertificate, options?: CrlOptions): Promise<void>;
  close(): Promise<void>;
}

export async function startRevocationResponder(): Promise<RevocationResponder> {
  const ocsp = new Map<string, { issuer: TestCertificate; answer: OcspAnswerOptions }>();
  const crls = new Map<string, Uint8Array>();
  const requests: string[] = [];

  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const path = request.url ?? '/';
      requests.push(path);
      const reply = (status: number, body: Uint8Array, type: string) => {
        response.writeHead(status, { 'content-type': type });
        response.end(body);
      };
      const [, kind, name] = path.split('/');
      if (kind === 'crl' && crls.has(name)) return reply(200, crls.get(name) as Uint8Array, 'application/pkix-crl');
      const responder = kind === 'ocsp' ? ocsp.get(name) : undefined;
      if (!responder || request.method !== 'POST') return reply(404, new Uint8Array(), 'text/plain');
      if (responder.answer.httpStatus) return reply(responder.answer.httpStatus, new Uint8Array(), 'text/plain');
      ocspResponse(Buffer.concat(chunks), responder.issuer, responder.answer).then(
        (body) => reply(200, body, 'application/ocsp-response'),
        (error: Error) => reply(500, new TextEncoder().encode(error.message), 'text/plain'),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    answerOcsp: (name, issuer, answer) => {
      ocsp.set(name, { issuer, answer });
    },
    publishCrl: async (name, issuer, options = {}) => {
      crls.set(name, await crl(issuer, options));
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

/** A basic OCSP response to `requestDer`, echoing its CertID. */
async function ocspResponse(requestDer: Uint8Array, issuer: TestCertificate, answer: OcspAnswerOptions): Promise<Uint8Array> {
  // A copy: a Buffer's .buffer is node's shared pool.
  const request = OCSPRequest.fromBER(new Uint8Array(requestDer).buffer);
  const signer = answer.signer ?? issuer;
  const signerCertificate = Certificate.fromBER(signer.der.slice().buffer as ArrayBuffer);
  const basic = new BasicOCSPResponse();
  basic.tbsResponseData.responderID = signerCertificate.subject;
  basic.tbsResponseData.producedAt = new Date();
  for (const item of request.tbsRequest.requestList) {
    if (answer.serialNumber) item.reqCert.serialNumber = new asn1js.Integer({ valueHex: Buffer.from(answer.serialNumber, 'hex') });
    const single = new SingleResponse({
      certID: item.reqCert,
      certStatus: certStatus(answer),
      thisUpdate: answer.thisUpdate ?? new Date(Date.now() - 60_000),
    });
    if (answer.nextUpdate !== null) single.nextUpdate = answer.nextUpdate ?? new Date(Date.now() + DAY);
    basic.tbsResponseData.responses.push(single);
  }
  const carried = answer.certificates ?? (signer === issuer ? [] : [signer]);
  if (carried.length > 0) basic.certs = carried.map((certificate) => Certificate.fromBER(certificate.der.slice().buffer as ArrayBuffer));
  await basic.sign(signer.keys.privateKey, 'SHA-256');
  const response = new OCSPResponse({
    responseStatus: new asn1js.Enumerated({ value: 0 }),
    responseBytes: new ResponseBytes({
      responseType: '1.3.6.1.5.5.7.48.1.1',
      response: new asn1js.OctetString({ valueHex: basic.toSchema().toBER() }),
    }),
  });
  return new Uint8Array(response.toSchema().toBER());
}

/** CertStatus ::= CHOICE { good [0] IMPLICIT NULL, revoked [1] IMPLICIT RevokedInfo, unknown [2] IMPLICIT NULL }. */
function certStatus(answer: OcspAnswerOptions): asn1js.BaseBlock {
  if (answer.status === 'revoked') {
    return new asn1js.Constructed({
      idBlock: { tagClass: 3, tagNumber: 1 },
      value: [new asn1js.GeneralizedTime({ valueDate: new Date(Date.now() - 3600_000) })],
    });
  }
  return new asn1js.Primitive({ idBlock: { tagClass: 3, tagNumber: answer.status === 'good' ? 0 : 2 } });
}

async function crl(issuer: TestCertificate, options: CrlOptions): Promise<Uint8Array> {
  const signer = options.signer ?? issuer;
  const generated = await x509.X509CrlGenerator.create({
    issuer: issuer.certificate.subjectName,
    thisUpdate: new Date(Date.now() - 60_000),
    ...(options.nextUpdate === null ? {} : { nextUpdate: options.nextUpdate ?? new Date(Date.now() + DAY) }),
    entries: (options.entries ?? []).map((entry) => ({
      serialNumber: entry.serialNumber,
      revocationDate: entry.revocationDate ?? new Date(Date.now() - 3600_000),
      // Without a reason or date @peculiar/x509 writes an empty (invalid) entry extensions SEQUENCE.
      reason: entry.reason ?? x509.X509CrlReason.keyCompromise,
    })),
    extensions: [...(options.extensions ?? [])],
    signingAlgorithm: signer.keySpec.startsWith('EC') ? { name: 'ECDSA', hash: 'SHA-256' } : { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
    signingKey: signer.keys.privateKey,
  });
  return new Uint8Array(generated.rawData);
}
