import { ContentInfo, SignedData, TSTInfo } from 'pkijs';
import { toArrayBuffer } from '../notary/certificate';
import { describeSignature, SignatureDescription } from '../notary/describe-signature';
import { parseJwsEnvelope } from '../notary/jws';
import { SignatureStore } from '../notary/signature-store';
import { OpenedRepository } from '../oci/open-repository';
import { Descriptor } from '../oci/types';

export interface SignatureDetails extends SignatureDescription {
  /** The accuracy of the envelope's RFC 3161 timestamp in milliseconds (0 when it states none or there is none). */
  readonly timestampAccuracyMs: number;
}

/** Fetches one signature manifest and its envelope and describes it (no verification). */
export async function describeSignatureAt(
  target: Pick<OpenedRepository, 'repository'>,
  signatureDigest: string,
  subject: Descriptor | string,
): Promise<SignatureDetails> {
  const store = new SignatureStore(target.repository);
  const subjectDescriptor = typeof subject === 'string' ? await store.resolve(subject) : subject;
  const { envelope, envelopeMediaType } = await store.fetchSignature({ digest: signatureDigest }, subjectDescriptor);
  return { ...describeSignature(signatureDigest, envelope, envelopeMediaType), timestampAccuracyMs: timestampAccuracy(envelope) };
}

/** TSTInfo's accuracy, which notation shows as the range `[genTime - accuracy, genTime + accuracy]` (tspclient-go Timestamp.Format). */
function timestampAccuracy(envelope: Uint8Array): number {
  try {
    const token = parseJwsEnvelope(envelope).timestampToken;
    if (!token) return 0;
    const content = new SignedData({ schema: ContentInfo.fromBER(toArrayBuffer(token)).content }).encapContentInfo.eContent;
    const accuracy = content && TSTInfo.fromBER(content.getValue()).accuracy;
    return accuracy ? (accuracy.seconds ?? 0) * 1000 + (accuracy.millis ?? 0) + (accuracy.micros ?? 0) / 1000 : 0;
  } catch {
    // An unreadable token is already described by its error.
    return 0;
  }
}
