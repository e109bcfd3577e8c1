import { attestationMediaType, attestationTypeOf, AttestationType } from './attestation';
import { OciRepository } from '../oci/repository';
import { Descriptor } from '../oci/types';

/** An attestation referrer of an image, as listed (nothing of it is verified yet). */
export interface ListedAttestation {
  readonly type: AttestationType;
  readonly descriptor: Descriptor;
}

/**
 * The attestation referrers of an image (referrers API, or the referrers tag schema index where the registry has
 * none), of `type` or of every attestation type, in listing order. The artifactType is filtered again here, so a
 * lax store cannot feed other artifacts through.
 */
export async function listAttestations(
  repository: OciRepository,
  subject: Pick<Descriptor, 'digest'>,
  type?: AttestationType,
): Promise<ListedAttestation[]> {
  const referrers = await repository.referrers({ digest: subject.digest }, type ? attestationMediaType(type) : undefined);
  return referrers.flatMap((descriptor) => {
    const listed = attestationTypeOf(descriptor.artifactType);
    return listed && (type === undefined || listed === type) ? [{ type: listed, descriptor }] : [];
  });
}
