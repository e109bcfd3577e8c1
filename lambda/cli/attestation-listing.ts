import { CliIo } from './io';
import { listAtMost } from './listing-options';
import { TreeNode } from './tree';
import { AttestationType } from '../notary/attestation';
import { listAttestations } from '../notary/attestation-list';
import { MediaType } from '../oci/media-types';
import { OciRepository } from '../oci/repository';
import { Descriptor } from '../oci/types';

/** An attestation referrer of an image with the Notary signatures that are its own referrers (nothing verified). */
export interface AttestationWithSignatures {
  readonly type: AttestationType;
  readonly descriptor: Descriptor;
  readonly signatures: readonly Descriptor[];
}

/**
 * The image's attestations (at most `max`, a warning on stderr past it) with the signatures of each (at most `max`
 * each), for list and inspect: the referrer tree under the image that `oras discover` shows.
 */
export async function listAttestationsWithSignatures(
  repository: OciRepository,
  image: Descriptor,
  max: number,
  io: CliIo,
): Promise<AttestationWithSignatures[]> {
  const listed = await listAttestations(repository, image);
  if (listed.length > max) io.stderr(`Warning: more than ${max} attestations (--max-signatures): showing the first ${max}\n`);
  const result: AttestationWithSignatures[] = [];
  for (const { type, descriptor } of listed.slice(0, max)) {
    result.push({ type, descriptor, signatures: await listAtMost(repository, descriptor, max, io) });
  }
  return result;
}

/**
 * The tree branches of attestations, grouped by artifactType as notation groups signatures under their
 * artifactType: each attestation digest, then its signatures under `application/vnd.cncf.notary.signature`
 * (`signatureNode` renders one signature: its digest, or its details for inspect).
 */
export function attestationBranches<T>(
  attestations: ReadonlyArray<{ readonly descriptor: Pick<Descriptor, 'digest' | 'artifactType'>; readonly signatures: readonly T[] }>,
  signatureNode: (signature: T) => TreeNode,
): TreeNode[] {
  const byArtifactType = new Map<string, TreeNode[]>();
  for (const attestation of attestations) {
    const artifactType = attestation.descriptor.artifactType ?? '';
    const children: TreeNode[] = attestation.signatures.length === 0
      ? [{ label: '(unsigned)' }]
      : [{ label: MediaType.NOTARY_SIGNATURE, children: attestation.signatures.map(signatureNode) }];
    byArtifactType.set(artifactType, [...(byArtifactType.get(artifactType) ?? []), { label: attestation.descriptor.digest, children }]);
  }
  return [...byArtifactType].map(([label, children]) => ({ label, children }));
}
