/** What `inspect` shows of an RFC 3161 countersignature: its time and certificates, not a verdict. */
import { Certificate, ContentInfo, SignedData, TSTInfo } from 'pkijs';
import { toArrayBuffer } from './certificate';
import type { CertificateDescription } from './describe-signature';

export type TimestampDescription =
  | { readonly genTime: string; readonly certificates: readonly CertificateDescription[] }
  | { readonly error: string };

/** Parses (does not verify) a TimeStampToken; a token that cannot be read is described by its error, as notation does. */
export function describeTimestampToken(
  token: Uint8Array,
  describeChain: (chain: readonly Uint8Array[]) => CertificateDescription[],
): TimestampDescription {
  try {
    const signedData = new SignedData({ schema: ContentInfo.fromBER(toArrayBuffer(token)).content });
    const content = signedData.encapContentInfo.eContent;
    if (!content) throw new Error('it has no TSTInfo');
    const tstInfo = TSTInfo.fromBER(content.getValue());
    const certificates = (signedData.certificates ?? []).filter((entry): entry is Certificate => entry instanceof Certificate);
    const ders = certificates.map((certificate) => new Uint8Array(certificate.toSchema().toBER()));
    return { genTime: tstInfo.genTime.toISOString(), certificates: describeChain(ders) };
  } catch (error) {
    return { error: `failed to parse timestamp countersignature: ${(error as Error).message}` };
  }
}
