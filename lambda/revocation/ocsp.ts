/**
 * OCSP (RFC 6960) as notation checks a certificate (notaryproject/notation-core-go revocation/internal/ocsp/ocsp.go
 * and golang.org/x/crypto/ocsp ParseResponseForCert): the request, and what a response says about one
 * certificate. Pure: the caller sends the request.
 */
import { createHash } from 'node:crypto';
import * as asn1js from 'asn1js';
import { AlgorithmIdentifier, BasicOCSPResponse, Certificate, CertID, OCSPRequest, OCSPResponse, RelativeDistinguishedNames, Request, TBSRequest } from 'pkijs';
import { verifySignedData } from './signed-data';
import { OID, ParsedCertificate, parseCertificate, sameBytes, toArrayBuffer } from '../notary/certificate';

/** notation-core-go ocspMaxResponseSize. */
export const OCSP_MAX_RESPONSE_BYTES = 20480;

const ID_PKIX_OCSP_BASIC = '1.3.6.1.5.5.7.48.1.1';
const HASHES: Readonly<Record<string, string>> = {
  '1.3.14.3.2.26': 'sha1',
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
};
const SHA1 = '1.3.14.3.2.26';
const RESPONSE_STATUS = ['successful', 'malformedRequest', 'internalError', 'tryLater', '(unused)', 'sigRequired', 'unauthorized'];

/** What one OCSP response says: `unknown` carries the reason (a failed fetch, a bad response, or the responder's own "unknown"). */
export type OcspAnswer =
  | { readonly status: 'good' | 'revoked'; readonly message: string; readonly nextUpdate: Date }
  | { readonly status: 'unknown'; readonly message: string; readonly responderUnknown: boolean };

/** The DER OCSP request for `certificate`, with a SHA-1 CertID as notation sends it. */
export function ocspRequest(certificate: ParsedCertificate, issuer: ParsedCertificate): Uint8Array {
  const request = new OCSPRequest({
    tbsRequest: new TBSRequest({ requestList: [new Request({ reqCert: certId(certificate, issuer, SHA1) })] }),
  });
  return new Uint8Array(request.toSchema(true).toBER());
}

/** RFC 6960 section 4.1.1: hashes of the issuer's name and public key, and the serial number. */
function certId(certificate: ParsedCertificate, issuer: ParsedCertificate, hashOid: string): CertID {
  const hash = HASHES[hashOid];
  return new CertID({
    hashAlgorithm: new AlgorithmIdentifier({ algorithmId: hashOid, algorithmParams: new asn1js.Null() }),
    issuerNameHash: new asn1js.OctetString({ valueHex: digest(hash, issuer.rawSubject) }),
    issuerKeyHash: new asn1js.OctetString({ valueHex: digest(hash, publicKeyBits(issuer)) }),
    serialNumber: new asn1js.Integer({ valueHex: toArrayBuffer(certificate.serialNumber) }),
  });
}

function digest(hash: string, bytes: Uint8Array): ArrayBuffer {
  return toArrayBuffer(createHash(hash).update(bytes).digest());
}

/** The subjectPublicKey BIT STRING's bytes, what CertID and a byKey ResponderID hash. */
function publicKeyBits(certificate: ParsedCertificate): Uint8Array {
  return new Uint8Array(Certificate.fromBER(toArrayBuffer(certificate.der)).subjectPublicKeyInfo.subjectPublicKey.valueBlock.valueHexView);
}

/**
 * What `body` says about `certificate`. The response must be signed by the issuer or by a responder the issuer
 * delegated to (issued by it, with the id-kp-OCSPSigning extended key usage: RFC 6960 section 4.2.2.2), must
 * answer for exactly this certificate and must not be past its nextUpdate (notation-core-go checkStatusFromServer).
 */
export function evaluateOcspResponse(
  body: Uint8Array,
  certificate: ParsedCertificate,
  issuer: ParsedCertificate,
  now: Date,
): OcspAnswer {
  const unknown = (message: string): OcspAnswer => ({ status: 'unknown', message, responderUnknown: false });
  let basic: BasicOCSPResponse;
  try {
    const response = OCSPResponse.fromBER(toArrayBuffer(body));
    const status = response.responseStatus.valueBlock.valueDec;
    if (status !== 0) return unknown(`the responder answered ${RESPONSE_STATUS[status] ?? `status ${status}`}`);
    if (response.responseBytes?.responseType !== ID_PKIX_OCSP_BASIC) return unknown('the response is not a basic OCSP response');
    basic = BasicOCSPResponse.fromBER(toArrayBuffer(new Uint8Array(response.responseBytes.response.valueBlock.valueHexView)));
  } catch (error) {
    return unknown(`the response is not a valid OCSP response: ${(error as Error).message}`);
  }

  const single = basic.tbsResponseData.responses.find((candidate) => {
    const hash = HASHES[candidate.certID.hashAlgorithm.algorithmId];
    return hash !== undefined && candidate.certID.isEqual(certId(certificate, issuer, candidate.certID.hashAlgorithm.algorithmId));
  });
  if (!single) return unknown('the response does not answer for this certificate');

  const signer = responder(basic, issuer, now);
  if ('error' in signer) return unknown(signer.error);
  try {
    // The signed bytes as received (pkijs keeps them when it parses).
    const data = basic.tbsResponseData.tbsView;
    const signature = new Uint8Array(basic.signature.valueBlock.valueHexView);
    if (!verifySignedData(basic.signatureAlgorithm.algorithmId, signer.certificate.publicKey, data, signature)) {
      return unknown(`the response's signature does not verify with the key of "${signer.certificate.subject}"`);
    }
  } catch (error) {
    return unknown(`the response's signature cannot be checked: ${(error as Error).message}`);
  }

  if (!single.nextUpdate || now > single.nextUpdate) return unknown('expired OCSP response');
  if (single.thisUpdate > now) return unknown(`the response is dated in the future (${single.thisUpdate.toISOString()})`);

  const certStatus = single.certStatus as asn1js.BaseBlock;
  const tag = certStatus.idBlock.tagNumber;
  if (certStatus.idBlock.tagClass === 3 && tag === 0) return { status: 'good', message: 'good', nextUpdate: single.nextUpdate };
  if (certStatus.idBlock.tagClass === 3 && tag === 1) return { status: 'revoked', message: 'revoked', nextUpdate: single.nextUpdate };
  return { status: 'unknown', message: 'the responder does not know the certificate', responderUnknown: true };
}

/** The certificate whose key must have signed the response. */
function responder(basic: BasicOCSPResponse, issuer: ParsedCertificate, now: Date): { certificate: ParsedCertificate } | { error: string } {
  // ResponderID ::= CHOICE { byName [1] Name, byKey [2] KeyHash }: pkijs gives the Name or the key hash.
  const id = basic.tbsResponseData.responderID as RelativeDistinguishedNames | asn1js.OctetString;
  const matches = (candidate: ParsedCertificate): boolean => {
    if (id instanceof asn1js.OctetString) {
      return sameBytes(new Uint8Array(createHash('sha1').update(publicKeyBits(candidate)).digest()), new Uint8Array(id.valueBlock.valueHexView));
    }
    return sameBytes(new Uint8Array(id.valueBeforeDecode), candidate.rawSubject);
  };
  if (matches(issuer)) return { certificate: issuer };
  for (const [index, raw] of (basic.certs ?? []).entries()) {
    let candidate: ParsedCertificate;
    try {
      candidate = parseCertificate(new Uint8Array(raw.toSchema().toBER()), `OCSP responder certificate ${index + 1}`);
    } catch (error) {
      return { error: (error as Error).message };
    }
    if (!matches(candidate)) continue;
    if (!sameBytes(candidate.rawIssuer, issuer.rawSubject) || !candidate.isSignedBy(issuer)) {
      return { error: `the responder certificate "${candidate.subject}" is not issued by "${issuer.subject}"` };
    }
    if (!candidate.extendedKeyUsage?.oids.includes(OID.ocspSigning)) {
      return { error: `the responder certificate "${candidate.subject}" is not authorized to sign OCSP responses (no id-kp-OCSPSigning)` };
    }
    if (now < candidate.notBefore || now > candidate.notAfter) {
      return { error: `the responder certificate "${candidate.subject}" is not valid at ${now.toISOString()}` };
    }
    return { certificate: candidate };
  }
  return { error: 'the response is signed neither by the issuer nor by a responder certificate it carries' };
}
