/**
 * CRLs (RFC 5280 section 5) as notation checks a certificate against one (notaryproject/notation-core-go
 * revocation/internal/crl/crl.go: validate, validateCRL, checkRevocation). Pure: the caller downloads the CRL.
 */
import * as asn1js from 'asn1js';
import { CertificateRevocationList, Extension } from 'pkijs';
import { verifySignedData } from './signed-data';
import { ParsedCertificate, sameBytes, toArrayBuffer } from '../notary/certificate';

/** notation-core-go crl/fetcher.go maxCRLSize. */
export const CRL_MAX_BYTES = 32 * 1024 * 1024;

const ISSUING_DISTRIBUTION_POINT = '2.5.29.28';
const DELTA_CRL_INDICATOR = '2.5.29.27';
const FRESHEST_CRL = '2.5.29.46';
const REASON_CODE = '2.5.29.21';
/** Understood (not used: notation applies it only with an AWS Signer authentic signing time), so not refused when critical. */
const INVALIDITY_DATE = '2.5.29.24';
const CERTIFICATE_HOLD = 6;
const REMOVE_FROM_CRL = 8;

export type CrlAnswer =
  | { readonly status: 'good' | 'revoked'; readonly message: string; readonly nextUpdate: Date }
  | { readonly status: 'unknown'; readonly message: string };

/**
 * What the DER CRL `body` says about `certificate`: the CRL must be signed by the certificate's issuer (a CA
 * allowed to sign CRLs), have a nextUpdate that has not passed and no critical extension notation does not
 * know. Delta CRLs are not supported, so a certificate or CRL that points to one has an unknown status.
 */
export function evaluateCrl(
  body: Uint8Array,
  certificate: ParsedCertificate,
  issuer: ParsedCertificate,
  now: Date,
): CrlAnswer {
  const unknown = (message: string): CrlAnswer => ({ status: 'unknown', message });
  let crl: CertificateRevocationList;
  try {
    crl = CertificateRevocationList.fromBER(toArrayBuffer(body));
  } catch (error) {
    return unknown(`the CRL is not a valid DER CRL: ${(error as Error).message}`);
  }
  if (certificate.hasFreshestCrl) return unknown('freshest CRL from certificate extension is not supported');

  if (issuer.basicConstraints?.ca !== true) return unknown(`the CRL's issuer "${issuer.subject}" is not a CA`);
  if (issuer.keyUsage && !issuer.keyUsage.usages.has('cRLSign')) return unknown(`the CRL's issuer "${issuer.subject}" may not sign CRLs (key usage)`);
  if (!sameBytes(new Uint8Array(crl.issuer.valueBeforeDecode), issuer.rawSubject)) {
    return unknown(`the CRL is issued by another name than "${issuer.subject}"`);
  }
  try {
    const signature = new Uint8Array(crl.signatureValue.valueBlock.valueHexView);
    if (!verifySignedData(crl.signatureAlgorithm.algorithmId, issuer.publicKey, crl.tbsView, signature)) {
      return unknown(`CRL is not signed by CA ${issuer.subject}`);
    }
  } catch (error) {
    return unknown(`the CRL's signature cannot be checked: ${(error as Error).message}`);
  }
  const nextUpdate = crl.nextUpdate?.value;
  if (!nextUpdate) return unknown('CRL NextUpdate is not set');
  if (now > nextUpdate) return unknown(`expired CRL. Current time ${now.toISOString()} is after CRL NextUpdate ${nextUpdate.toISOString()}`);
  for (const extension of crl.crlExtensions?.extensions ?? []) {
    if (extension.extnID === DELTA_CRL_INDICATOR) return unknown('the CRL is a delta CRL, which is not supported');
    if (extension.extnID === FRESHEST_CRL) return unknown('freshest CRL from CRL extension is not supported');
    if (extension.critical && extension.extnID !== ISSUING_DISTRIBUTION_POINT) return unknown(`unsupported critical extension found in CRL: ${extension.extnID}`);
  }

  // An entry on hold can be released by a later removeFromCRL entry (RFC 5280 section 5.3.1); any other
  // reason revokes at once.
  let latestTemporary: { reason: number; date: Date } | undefined;
  for (const entry of crl.revokedCertificates ?? []) {
    if (!sameSerial(new Uint8Array(entry.userCertificate.valueBlock.valueHexView), certificate.serialNumber)) continue;
    const extensions = entry.crlEntryExtensions?.extensions ?? [];
    const critical = extensions.find((extension) => extension.critical && extension.extnID !== INVALIDITY_DATE && extension.extnID !== REASON_CODE);
    if (critical) return unknown(`unsupported critical extension found in CRL entry: ${critical.extnID}`);
    const reason = reasonCode(extensions);
    const date = entry.revocationDate.value;
    if (reason === CERTIFICATE_HOLD || reason === REMOVE_FROM_CRL) {
      if (!latestTemporary || latestTemporary.date < date) latestTemporary = { reason, date };
      continue;
    }
    return { status: 'revoked', message: `revoked on ${date.toISOString()}`, nextUpdate };
  }
  if (latestTemporary?.reason === CERTIFICATE_HOLD) return { status: 'revoked', message: `on hold since ${latestTemporary.date.toISOString()}`, nextUpdate };
  return { status: 'good', message: 'not listed', nextUpdate };
}

/** Serial numbers compare as integers: a leading zero byte (for a positive sign) is not significant. */
function sameSerial(a: Uint8Array, b: Uint8Array): boolean {
  const strip = (bytes: Uint8Array) => {
    let start = 0;
    while (start < bytes.length - 1 && bytes[start] === 0) start++;
    return bytes.subarray(start);
  };
  return sameBytes(strip(a), strip(b));
}

function reasonCode(extensions: readonly Extension[]): number | undefined {
  const extension = extensions.find((candidate) => candidate.extnID === REASON_CODE);
  if (!extension) return undefined;
  const parsed = asn1js.fromBER(extension.extnValue.valueBlock.valueHexView);
  return parsed.result instanceof asn1js.Enumerated ? parsed.result.valueBlock.valueDec : undefined;
}
