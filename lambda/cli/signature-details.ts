import { describeSignature, SignatureDescription } from '../notary/describe-signature';
import { parseSignatureManifest } from '../notary/signature-manifest';
import { OpenedRepository } from '../oci/open-repository';
import { DEFAULT_LIMITS } from '../oci/repository';
import { Descriptor } from '../oci/types';

/** Fetches one signature manifest and its envelope and describes it (no verification). */
export async function describeSignatureAt(
  target: Pick<OpenedRepository, 'repository'>,
  signatureDigest: string,
  subject: Descriptor | string,
): Promise<SignatureDescription> {
  const manifest = await target.repository.fetchManifest(signatureDigest, { maxBytes: DEFAULT_LIMITS.manifestBytes });
  const subjectDescriptor = typeof subject === 'string' ? await target.repository.resolve(subject) : subject;
  const parsed = parseSignatureManifest(manifest.bytes, subjectDescriptor);
  const envelope = await target.repository.fetchBlob(parsed.envelope, { maxBytes: DEFAULT_LIMITS.envelopeBytes });
  return describeSignature(signatureDigest, envelope, parsed.envelope.mediaType);
}
