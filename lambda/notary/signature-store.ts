/**
 * Signatures in a repository: the signature-level operations sign, verify, list and inspect share, on top of
 * `OciRepository` (as notation-go's `registry.Repository` sits on oras). Every read is bounded and checked.
 */
import { listSignatures, ListSignaturesOptions } from './list-signatures';
import { buildSignatureManifest, parseSignatureManifest, ParsedSignatureManifest, SignatureManifestFormat } from './signature-manifest';
import { SignedEnvelope } from './signer';
import { isValidDigest } from '../oci/digest';
import { EMPTY_JSON_DIGEST, MediaType } from '../oci/media-types';
import { DEFAULT_LIMITS, OciRepository } from '../oci/repository';
import { Descriptor } from '../oci/types';

/** A digest given by the user that is not the digest of the bytes the store holds under it. */
export class ResolvedDigestMismatchError extends Error {
  constructor(readonly requested: string, readonly resolved: string, reference: string) {
    super(`user input digest ${requested} does not match the resolved digest ${resolved} of "${reference}"`);
    this.name = 'ResolvedDigestMismatchError';
  }
}

/** A signature manifest that passed its checks, with its envelope's bytes. */
export interface FetchedSignature {
  readonly manifest: ParsedSignatureManifest;
  readonly envelope: Uint8Array;
  /** The envelope layer's media type (`application/jose+json`). */
  readonly envelopeMediaType: string;
}

export interface PushSignatureRequest {
  readonly subject: Descriptor;
  readonly signed: SignedEnvelope;
  readonly format: SignatureManifestFormat;
  /** The envelope's signing time, written as `org.opencontainers.image.created` (as notation does). */
  readonly signingTime: Date;
}

export interface PushedSignature {
  readonly digest: string;
  /** False when the referrers tag schema index was updated by this client. */
  readonly referrersIndexedByStore: boolean;
}

export class SignatureStore {
  constructor(readonly repository: OciRepository) {}

  get name(): string {
    return this.repository.name;
  }

  /**
   * The descriptor of the manifest `tagOrDigest` names, from its bytes (fetched and hashed, never from a header
   * alone); a digest given must be the digest resolved.
   */
  async resolve(tagOrDigest: string, displayReference = `${this.repository.name}@${tagOrDigest}`): Promise<Descriptor> {
    const { descriptor } = await this.repository.fetchManifest(tagOrDigest, { maxBytes: DEFAULT_LIMITS.manifestBytes });
    if (isValidDigest(tagOrDigest) && descriptor.digest !== tagOrDigest) {
      throw new ResolvedDigestMismatchError(tagOrDigest, descriptor.digest, displayReference);
    }
    return { mediaType: descriptor.mediaType, digest: descriptor.digest, size: descriptor.size };
  }

  listSignatures(subject: Pick<Descriptor, 'digest'>, options?: ListSignaturesOptions): Promise<Descriptor[]> {
    return listSignatures(this.repository, subject, options);
  }

  /** Fetches a signature manifest (≤ 4 MiB), checks it is a Notary signature of `subject`, and fetches its envelope. */
  async fetchSignature(
    signature: Pick<Descriptor, 'digest'>,
    subject: Descriptor,
    maxEnvelopeBytes: number = DEFAULT_LIMITS.envelopeBytes,
  ): Promise<FetchedSignature> {
    const fetched = await this.repository.fetchManifest(signature.digest, { maxBytes: DEFAULT_LIMITS.manifestBytes });
    const manifest = parseSignatureManifest(fetched.bytes, subject);
    const envelope = await this.repository.fetchBlob(manifest.envelope, { maxBytes: maxEnvelopeBytes });
    return { manifest, envelope, envelopeMediaType: manifest.envelope.mediaType };
  }

  /**
   * Pushes the envelope blob, the config blob, then the signature manifest last, so a half-written signature is
   * never visible to verifiers.
   */
  async pushSignature(request: PushSignatureRequest): Promise<PushedSignature> {
    const { subject, signed, format } = request;
    const configMediaType = format === 'legacy' ? MediaType.NOTARY_SIGNATURE : MediaType.OCI_EMPTY;
    // The two blobs do not depend on each other; the manifest that names them goes last.
    const [envelope, config] = await Promise.all([
      // A new envelope cannot be in the store yet (signatures differ every time): no existence check.
      this.repository.pushBlob(signed.envelope, signed.mediaType, { fresh: true }),
      this.repository.pushBlob(new TextEncoder().encode('{}'), configMediaType),
    ]);
    if (config.digest !== EMPTY_JSON_DIGEST) throw new Error(`the store answered digest ${config.digest} for the empty config blob`);
    const manifest = buildSignatureManifest({
      subject,
      envelope: { mediaType: signed.mediaType, digest: envelope.digest, size: signed.envelope.byteLength },
      format,
      annotations: signed.annotations,
      envelopeBytes: signed.envelope,
      signingTime: request.signingTime,
    });
    const pushed = await this.repository.pushManifest(manifest, MediaType.OCI_MANIFEST);
    return { digest: pushed.descriptor.digest, referrersIndexedByStore: pushed.referrersIndexedByStore };
  }
}
