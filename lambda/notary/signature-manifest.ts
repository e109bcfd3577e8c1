/** Notary signature manifests, OCI 1.1 and legacy forms (notaryproject/specifications specs/signature-specification.md, "Storage"). */
import { createHash } from 'node:crypto';
import { decodeBase64, isPlainObject, parseJsonBytes, utf8 } from './encoding';
import { sameContent } from './payload';
import { isValidDigest } from '../oci/digest';
import { EMPTY_JSON_DIGEST, MediaType } from '../oci/media-types';
import { Descriptor } from '../oci/types';

/** `oci-1.1`: artifactType and the empty config (notation 2). `legacy`: config media type (notation 1.x). */
export type SignatureManifestFormat = 'oci-1.1' | 'legacy';

export const THUMBPRINT_ANNOTATION = 'io.cncf.notary.x509chain.thumbprint#S256';
export const CREATED_ANNOTATION = 'org.opencontainers.image.created';

const ENVELOPE_MEDIA_TYPES: readonly string[] = [MediaType.JWS, MediaType.COSE];

export interface SignatureManifestInput {
  /** The signed image manifest. */
  readonly subject: Descriptor;
  /** The envelope blob's descriptor. */
  readonly envelope: Descriptor;
  readonly format: SignatureManifestFormat;
  /** The JWS envelope bytes: its `x5c` chain gives the thumbprint annotation. */
  readonly envelopeBytes: Uint8Array;
  /** Extra annotations (AWS Signer's job metadata). */
  readonly annotations?: Readonly<Record<string, string>>;
  /** The envelope's signing time, written as `org.opencontainers.image.created` (notation-go notation.go `generateAnnotations`). */
  readonly signingTime: Date;
}

/** A signature manifest that passed the structural checks, with its envelope's descriptor. */
export interface ParsedSignatureManifest {
  readonly format: SignatureManifestFormat;
  readonly envelope: Descriptor;
  readonly annotations: Readonly<Record<string, string>>;
}

export class InvalidSignatureManifestError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidSignatureManifestError';
  }
}

/** The manifest bytes to push (after the envelope and config blobs). */
export function buildSignatureManifest(input: SignatureManifestInput): Uint8Array {
  const { subject, envelope, format, signingTime } = input;
  const annotations: Record<string, string> = {
    ...(input.annotations ?? {}),
    [THUMBPRINT_ANNOTATION]: JSON.stringify(chainThumbprints(input.envelopeBytes)),
    [CREATED_ANNOTATION]: signingTime.toISOString().replace(/\.\d{3}Z$/, 'Z'),
  };
  const config = format === 'legacy'
    ? { mediaType: MediaType.NOTARY_SIGNATURE, digest: EMPTY_JSON_DIGEST, size: 2 }
    : { mediaType: MediaType.OCI_EMPTY, digest: EMPTY_JSON_DIGEST, size: 2, data: 'e30=' };
  const manifest = {
    schemaVersion: 2,
    mediaType: MediaType.OCI_MANIFEST,
    ...(format === 'legacy' ? {} : { artifactType: MediaType.NOTARY_SIGNATURE }),
    config,
    layers: [{ mediaType: envelope.mediaType, digest: envelope.digest, size: envelope.size }],
    subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
    annotations,
  };
  return utf8(JSON.stringify(manifest));
}

/** Lowercase hex SHA-256 of each `x5c` certificate, leaf first. */
function chainThumbprints(envelopeBytes: Uint8Array): string[] {
  const envelope = parseJsonBytes(envelopeBytes, 'signature envelope');
  const chain = isPlainObject(envelope) && isPlainObject(envelope.header) ? envelope.header.x5c : undefined;
  if (!Array.isArray(chain) || chain.length === 0) throw new Error('signature envelope has no x5c certificate chain');
  return chain.map((certificate, index) => createHash('sha256').update(decodeBase64(certificate, `x5c[${index}]`)).digest('hex'));
}

/**
 * Checks a signature manifest as notation-go classifies referrers: media type, artifactType with the empty
 * config or the legacy config media type, exactly one envelope layer, and a subject equal to `target`.
 */
export function parseSignatureManifest(bytes: Uint8Array, target: Descriptor): ParsedSignatureManifest {
  const fail = (reason: string): never => {
    throw new InvalidSignatureManifestError(`signature manifest is not valid: ${reason}`);
  };
  let manifest: unknown;
  try {
    manifest = parseJsonBytes(bytes, 'signature manifest');
  } catch (error) {
    return fail((error as Error).message);
  }
  if (!isPlainObject(manifest)) return fail('not a JSON object');
  if (manifest.mediaType !== MediaType.OCI_MANIFEST) return fail(`mediaType is ${JSON.stringify(manifest.mediaType)}, want "${MediaType.OCI_MANIFEST}"`);
  const config = descriptorField(manifest.config, 'config', fail);
  let format: SignatureManifestFormat;
  if (manifest.artifactType !== undefined) {
    if (manifest.artifactType !== MediaType.NOTARY_SIGNATURE) return fail(`artifactType is ${JSON.stringify(manifest.artifactType)}, want "${MediaType.NOTARY_SIGNATURE}"`);
    if (config.mediaType !== MediaType.OCI_EMPTY) return fail(`config.mediaType is "${config.mediaType}", want "${MediaType.OCI_EMPTY}" with artifactType "${MediaType.NOTARY_SIGNATURE}"`);
    format = 'oci-1.1';
  } else {
    if (config.mediaType !== MediaType.NOTARY_SIGNATURE) return fail(`config.mediaType is "${config.mediaType}", want "${MediaType.NOTARY_SIGNATURE}"`);
    format = 'legacy';
  }
  if (!Array.isArray(manifest.layers) || manifest.layers.length !== 1) {
    return fail(`it must have exactly one layer (the signature envelope), found ${Array.isArray(manifest.layers) ? manifest.layers.length : 'none'}`);
  }
  const envelope = descriptorField(manifest.layers[0], 'layers[0]', fail);
  if (!ENVELOPE_MEDIA_TYPES.includes(envelope.mediaType)) {
    return fail(`signature envelope format with media type "${envelope.mediaType}" is not supported`);
  }
  const subject = descriptorField(manifest.subject, 'subject', fail);
  if (!sameContent(subject, target)) {
    return fail(`its subject ${subject.digest} (${subject.mediaType}, ${subject.size} bytes) is not the artifact ${target.digest}`);
  }
  const annotations = isPlainObject(manifest.annotations) ? stringEntries(manifest.annotations) : {};
  return { format, envelope, annotations };
}

/** A manifest's descriptor field (`config`, `layers[0]`, `subject`), checked; `fail` reports what is wrong with it. */
export function descriptorField(value: unknown, field: string, fail: (reason: string) => never): Descriptor {
  if (!isPlainObject(value)) return fail(`${field} is missing`);
  const { mediaType, digest, size } = value;
  if (typeof mediaType !== 'string' || mediaType === '') return fail(`${field}.mediaType is missing`);
  if (typeof digest !== 'string' || !isValidDigest(digest)) return fail(`${field}.digest is not a valid digest`);
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) return fail(`${field}.size is not a non-negative integer`);
  return { mediaType, digest, size };
}

/** The string-valued entries of an annotations object (other values are ignored, as the image spec's annotations are strings). */
export function stringEntries(value: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(Object.entries(value).filter((entry): entry is [string, string] => typeof entry[1] === 'string'));
}
