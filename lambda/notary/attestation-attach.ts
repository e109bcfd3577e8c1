/**
 * Attaching a signed attestation to an image: the document, the empty config and the attestation manifest (subject:
 * the image) are pushed as `oras attach` pushes them, then the attestation manifest is signed with `signImage`, so
 * its Notary signature is a referrer of the attestation, as `notation sign` of an attached artifact makes it.
 */
import { attestationDocument, attestationMediaType, AttestationType, buildAttestationManifest } from './attestation';
import { signImage, SignImageResult } from './sign-image';
import { SignatureManifestFormat } from './signature-manifest';
import { SignatureStore } from './signature-store';
import { Signer } from './signer';
import { EMPTY_JSON_DIGEST, MediaType } from '../oci/media-types';
import { OciRepository } from '../oci/repository';
import { Descriptor } from '../oci/types';

export interface AttachAttestationRequest {
  readonly repository: OciRepository;
  readonly tagOrDigest: string;
  readonly type: AttestationType;
  /** For `slsa-provenance` the SLSA Provenance v1 predicate (the statement is built); for an SBOM the document. */
  readonly document: Uint8Array;
  /** The in-toto subject name of the image. @default the repository name */
  readonly subjectName?: string;
  readonly signer: Signer;
  /** The attestation's signature manifest form. @default 'oci-1.1' */
  readonly manifestFormat?: SignatureManifestFormat;
  /** Signing time (and the time an existing signature of the attestation is checked against). @default now */
  readonly now?: Date;
  /**
   * The attestation manifest's `org.opencontainers.image.created`. A time fixed by what the attestation describes
   * (a build's end) makes the manifest reproducible: attaching the same document again pushes the same manifest, and
   * `signImage` keeps its valid signature instead of adding another. @default now
   */
  readonly created?: Date;
}

export interface AttachAttestationResult {
  /** The image the attestation is about. */
  readonly image: Descriptor;
  /** The attestation manifest (artifactType the document's media type). */
  readonly attestation: Descriptor;
  /** The Notary signature of the attestation manifest. */
  readonly signature: SignImageResult;
}

/**
 * Builds the document of `type` for the image (refusing a predicate or SBOM that is not one before anything is
 * pushed), pushes the document and the empty config, then the attestation manifest, then signs that manifest.
 * A failed signing leaves an unsigned attestation, which verification never accepts; attaching again (with the same
 * `created`) signs that same manifest.
 */
export async function attachAttestation(request: AttachAttestationRequest): Promise<AttachAttestationResult> {
  const { repository, type } = request;
  const image = await new SignatureStore(repository).resolve(request.tagOrDigest);
  const bytes = attestationDocument(type, image, request.subjectName ?? repository.name, request.document);
  const mediaType = attestationMediaType(type);
  const [document, config] = await Promise.all([
    repository.pushBlob(bytes, mediaType),
    repository.pushBlob(new TextEncoder().encode('{}'), MediaType.OCI_EMPTY),
  ]);
  if (config.digest !== EMPTY_JSON_DIGEST) throw new Error(`the store answered digest ${config.digest} for the empty config blob`);
  const manifest = buildAttestationManifest({
    type,
    subject: image,
    document: { mediaType, digest: document.digest, size: bytes.byteLength },
    created: request.created ?? request.now ?? new Date(),
  });
  const pushed = await repository.pushManifest(manifest, MediaType.OCI_MANIFEST);
  const attestation: Descriptor = { ...pushed.descriptor, artifactType: mediaType };
  const signature = await signImage({
    repository,
    tagOrDigest: attestation.digest,
    signer: request.signer,
    manifestFormat: request.manifestFormat,
    now: request.now,
  });
  return { image, attestation, signature };
}
