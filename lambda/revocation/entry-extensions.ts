/** Extensions that OCSP single responses and CRL entries share (RFC 5280 section 5.3.2). */
import * as asn1js from 'asn1js';

export const INVALIDITY_DATE = '2.5.29.24';

/** The invalidity date extension's time, when `extensions` has one. */
export function invalidityDate(extensions: readonly { extnID: string; extnValue: asn1js.OctetString }[] | undefined): Date | undefined {
  const extension = extensions?.find((candidate) => candidate.extnID === INVALIDITY_DATE);
  if (!extension) return undefined;
  const parsed = asn1js.fromBER(extension.extnValue.valueBlock.valueHexView);
  return parsed.result instanceof asn1js.GeneralizedTime ? parsed.result.toDate() : undefined;
}
