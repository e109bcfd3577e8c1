import { MediaType } from '../oci/media-types';
import { OciRepository } from '../oci/repository';
import { Descriptor } from '../oci/types';

export interface ListSignaturesOptions {
  /** Keep at most this many (the first ones, in listing order). @default all */
  readonly maxSignatures?: number;
}

/**
 * The Notary signature manifests of an image, in listing order: its referrers of artifactType
 * `application/vnd.cncf.notary.signature`. Both signature manifest forms list with that type (the OCI 1.1
 * form's artifactType, the legacy form's config media type), so one filter covers both.
 */
export async function listSignatures(
  repository: OciRepository,
  subject: Pick<Descriptor, 'digest'>,
  options: ListSignaturesOptions = {},
): Promise<Descriptor[]> {
  const referrers = await repository.referrers({ digest: subject.digest }, MediaType.NOTARY_SIGNATURE);
  // Stores filter on the artifactType already; filtering again keeps a lax store from feeding us other artifacts.
  const signatures = referrers.filter((referrer) => referrer.artifactType === MediaType.NOTARY_SIGNATURE);
  return options.maxSignatures === undefined ? signatures : signatures.slice(0, Math.max(0, options.maxSignatures));
}
