import { describeSignature, SignatureDescription } from '../notary/describe-signature';
import { SignatureStore } from '../notary/signature-store';
import { OpenedRepository } from '../oci/open-repository';
import { Descriptor } from '../oci/types';

/** Fetches one signature manifest and its envelope and describes it (no verification). */
export async function describeSignatureAt(
  target: Pick<OpenedRepository, 'repository'>,
  signatureDigest: string,
  subject: Descriptor | string,
): Promise<SignatureDescription> {
  const store = new SignatureStore(target.repository);
  const subjectDescriptor = typeof subject === 'string' ? await store.resolve(subject) : subject;
  const { envelope, envelopeMediaType } = await store.fetchSignature({ digest: signatureDigest }, subjectDescriptor);
  return describeSignature(signatureDigest, envelope, envelopeMediaType);
}
