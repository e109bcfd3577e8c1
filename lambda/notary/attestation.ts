/**
 * Attestations of an image, pure format code: in-toto Statement v1 documents for SLSA Provenance v1, SPDX and
 * CycloneDX JSON documents, and the OCI 1.1 artifact manifest that attaches one to an image.
 *
 * The manifest is the one the OCI image spec 1.1 "Guidelines for Artifact Usage" (opencontainers/image-spec
 * manifest.md, "artifactType", example "artifact with a config of type application/vnd.oci.empty.v1+json") and
 * `oras attach --artifact-type <type> <ref> <file>:<type>` write: `artifactType` the document's media type, the
 * empty config, one layer holding the document, `subject` the image and `org.opencontainers.image.created`.
 * The in-toto Statement layout is in-toto/attestation spec/v1/statement.md; the predicate is
 * slsa-framework/slsa docs/spec/v1.0/provenance.md (buildDefinition, runDetails.builder.id).
 */
import { isPlainObject, parseJsonBytes, utf8 } from './encoding';
import { sameContent } from './payload';
import { CREATED_ANNOTATION, descriptorField, stringEntries } from './signature-manifest';
import { parseDigest } from '../oci/digest';
import { EMPTY_JSON_DIGEST, MediaType } from '../oci/media-types';
import { Descriptor } from '../oci/types';

/** The attestation kinds: `--type` of `signed-image attest`. */
export type AttestationType = 'slsa-provenance' | 'spdx' | 'cyclonedx';

export const ATTESTATION_TYPES: readonly AttestationType[] = ['slsa-provenance', 'spdx', 'cyclonedx'];

export const AttestationMediaType = {
  /** An in-toto Statement (in-toto/attestation spec/v1/envelope.md names this type for an unwrapped Statement). */
  IN_TOTO: 'application/vnd.in-toto+json',
  SPDX: 'application/spdx+json',
  CYCLONEDX: 'application/vnd.cyclonedx+json',
} as const;

export const IN_TOTO_STATEMENT_V1 = 'https://in-toto.io/Statement/v1';
export const SLSA_PROVENANCE_V1 = 'https://slsa.dev/provenance/v1';

/** The title annotation oras writes for a pushed file; the layer's name here. */
export const TITLE_ANNOTATION = 'org.opencontainers.image.title';

/** Attestation documents read at most (SBOMs of large images run to megabytes). */
export const MAX_ATTESTATION_BYTES = 16 * 1024 * 1024;

/** The artifactType (and layer media type) of each attestation type. */
export function attestationMediaType(type: AttestationType): string {
  switch (type) {
    case 'slsa-provenance':
      return AttestationMediaType.IN_TOTO;
    case 'spdx':
      return AttestationMediaType.SPDX;
    case 'cyclonedx':
      return AttestationMediaType.CYCLONEDX;
  }
}

/** The attestation type of an artifactType; undefined when it is none of them. */
export function attestationTypeOf(artifactType: string | undefined): AttestationType | undefined {
  return ATTESTATION_TYPES.find((type) => attestationMediaType(type) === artifactType);
}

/** A document that is not the attestation it should be: a bad predicate, SBOM or statement, or a bad manifest. */
export class InvalidAttestationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidAttestationError';
  }
}

/** An in-toto Statement v1. */
export interface InTotoStatement {
  readonly _type: typeof IN_TOTO_STATEMENT_V1;
  readonly subject: ReadonlyArray<{ readonly name: string; readonly digest: Readonly<Record<string, string>> }>;
  readonly predicateType: string;
  readonly predicate: Record<string, unknown>;
}

/**
 * The in-toto Statement v1 of a SLSA Provenance v1 `predicate` about `image` (named `name`, e.g. the repository).
 * The predicate must have the fields SLSA v1 requires: `buildDefinition.buildType` and `runDetails.builder.id`.
 */
export function buildProvenanceStatement(image: Descriptor, name: string, predicate: unknown): InTotoStatement {
  if (isPlainObject(predicate) && ('_type' in predicate || 'predicateType' in predicate)) {
    throw new InvalidAttestationError('the SLSA provenance is an in-toto Statement; pass its predicate only (the statement is built for the image, with the image as its subject)');
  }
  checkProvenancePredicate(predicate, 'the SLSA provenance predicate');
  const { algorithm, hex } = parseDigest(image.digest);
  if (algorithm !== 'sha256') throw new InvalidAttestationError(`the image digest ${image.digest} is not sha256; in-toto subjects name the sha256 digest`);
  return { _type: IN_TOTO_STATEMENT_V1, subject: [{ name, digest: { sha256: hex } }], predicateType: SLSA_PROVENANCE_V1, predicate };
}

/** SLSA Provenance v1's required fields (slsa docs/spec/v1.0/provenance.md, "Schema"): throws naming the missing one. */
function checkProvenancePredicate(predicate: unknown, what: string): asserts predicate is Record<string, unknown> {
  if (!isPlainObject(predicate)) throw new InvalidAttestationError(`${what} is not a JSON object`);
  const definition = predicate.buildDefinition;
  if (!isPlainObject(definition)) throw new InvalidAttestationError(`${what} has no buildDefinition`);
  if (typeof definition.buildType !== 'string' || definition.buildType === '') throw new InvalidAttestationError(`${what} has no buildDefinition.buildType`);
  if (definition.externalParameters !== undefined && !isPlainObject(definition.externalParameters)) {
    throw new InvalidAttestationError(`${what}: buildDefinition.externalParameters is not an object`);
  }
  if (definition.resolvedDependencies !== undefined && !Array.isArray(definition.resolvedDependencies)) {
    throw new InvalidAttestationError(`${what}: buildDefinition.resolvedDependencies is not an array`);
  }
  const run = predicate.runDetails;
  if (!isPlainObject(run) || !isPlainObject(run.builder)) throw new InvalidAttestationError(`${what} has no runDetails.builder`);
  if (typeof run.builder.id !== 'string' || run.builder.id === '') throw new InvalidAttestationError(`${what} has no runDetails.builder.id`);
}

/** Checks an SPDX 2.x JSON or CycloneDX JSON document's identifying fields, so a wrong file is refused before it is pushed. */
export function checkSbom(type: 'spdx' | 'cyclonedx', document: unknown): void {
  if (!isPlainObject(document)) throw new InvalidAttestationError(`the ${type} document is not a JSON object`);
  if (type === 'spdx') {
    if (typeof document.spdxVersion !== 'string' || !document.spdxVersion.startsWith('SPDX-')) {
      throw new InvalidAttestationError('the spdx document has no spdxVersion "SPDX-…"; is it an SPDX JSON document?');
    }
  } else if (document.bomFormat !== 'CycloneDX' || typeof document.specVersion !== 'string') {
    throw new InvalidAttestationError('the cyclonedx document has no bomFormat "CycloneDX" with a specVersion; is it a CycloneDX JSON document?');
  }
}

/** The bytes of the attestation document of `type` made from `input` (a predicate for provenance, the SBOM otherwise). */
export function attestationDocument(type: AttestationType, image: Descriptor, name: string, input: Uint8Array): Uint8Array {
  let parsed: unknown;
  try {
    parsed = parseJsonBytes(input, `the ${type} document`);
  } catch (error) {
    throw new InvalidAttestationError((error as Error).message);
  }
  if (type === 'slsa-provenance') return utf8(JSON.stringify(buildProvenanceStatement(image, name, parsed)));
  checkSbom(type, parsed);
  // An SBOM is attached as it is, byte for byte, as oras attach does.
  return input;
}

export interface AttestationManifestInput {
  readonly type: AttestationType;
  readonly subject: Descriptor;
  /** The document layer's descriptor. */
  readonly document: Descriptor;
  readonly created: Date;
  /** Layer title (the file name oras writes). @default `<type>.json` */
  readonly title?: string;
}

/** The attestation manifest bytes (pushed after the document and the empty config). */
export function buildAttestationManifest(input: AttestationManifestInput): Uint8Array {
  const mediaType = attestationMediaType(input.type);
  const manifest = {
    schemaVersion: 2,
    mediaType: MediaType.OCI_MANIFEST,
    artifactType: mediaType,
    config: { mediaType: MediaType.OCI_EMPTY, digest: EMPTY_JSON_DIGEST, size: 2, data: 'e30=' },
    layers: [{
      mediaType,
      digest: input.document.digest,
      size: input.document.size,
      annotations: { [TITLE_ANNOTATION]: input.title ?? `${input.type}.json` },
    }],
    subject: { mediaType: input.subject.mediaType, digest: input.subject.digest, size: input.subject.size },
    annotations: { [CREATED_ANNOTATION]: input.created.toISOString().replace(/\.\d{3}Z$/, 'Z') },
  };
  return utf8(JSON.stringify(manifest));
}

/** An attestation manifest that passed its checks. */
export interface ParsedAttestationManifest {
  readonly type: AttestationType;
  readonly document: Descriptor;
  readonly annotations: Readonly<Record<string, string>>;
}

/**
 * Checks an attestation manifest: an OCI image manifest with the artifactType of `type`, the empty config, exactly
 * one layer of that media type, and a subject equal to `subject` (what a referrers listing says is not trusted).
 */
export function parseAttestationManifest(bytes: Uint8Array, type: AttestationType, subject: Descriptor): ParsedAttestationManifest {
  const fail = (reason: string): never => {
    throw new InvalidAttestationError(`the attestation manifest is not valid: ${reason}`);
  };
  let manifest: unknown;
  try {
    manifest = parseJsonBytes(bytes, 'attestation manifest');
  } catch (error) {
    return fail((error as Error).message);
  }
  if (!isPlainObject(manifest)) return fail('not a JSON object');
  const mediaType = attestationMediaType(type);
  if (manifest.mediaType !== MediaType.OCI_MANIFEST) return fail(`mediaType is ${JSON.stringify(manifest.mediaType)}, want "${MediaType.OCI_MANIFEST}"`);
  if (manifest.artifactType !== mediaType) return fail(`artifactType is ${JSON.stringify(manifest.artifactType)}, want "${mediaType}"`);
  const config = descriptorField(manifest.config, 'config', fail);
  if (config.mediaType !== MediaType.OCI_EMPTY) return fail(`config.mediaType is "${config.mediaType}", want "${MediaType.OCI_EMPTY}"`);
  if (!Array.isArray(manifest.layers) || manifest.layers.length !== 1) {
    return fail(`it must have exactly one layer (the document), found ${Array.isArray(manifest.layers) ? manifest.layers.length : 'none'}`);
  }
  const document = descriptorField(manifest.layers[0], 'layers[0]', fail);
  if (document.mediaType !== mediaType) return fail(`layers[0].mediaType is "${document.mediaType}", want "${mediaType}"`);
  const declared = descriptorField(manifest.subject, 'subject', fail);
  if (!sameContent(declared, subject)) {
    return fail(`its subject ${declared.digest} (${declared.mediaType}, ${declared.size} bytes) is not the image ${subject.digest}`);
  }
  const annotations = isPlainObject(manifest.annotations) ? stringEntries(manifest.annotations) : {};
  return { type, document, annotations };
}

/**
 * Parses an attached in-toto Statement and checks that it is a SLSA Provenance v1 statement about `image`: the
 * statement's own subject must name the image's digest, not only the manifest that carries it.
 */
export function parseProvenanceStatement(bytes: Uint8Array, image: Descriptor): InTotoStatement {
  let statement: unknown;
  try {
    statement = parseJsonBytes(bytes, 'the in-toto statement');
  } catch (error) {
    throw new InvalidAttestationError((error as Error).message);
  }
  if (!isPlainObject(statement)) throw new InvalidAttestationError('the in-toto statement is not a JSON object');
  if (statement._type !== IN_TOTO_STATEMENT_V1) throw new InvalidAttestationError(`the in-toto statement's _type is ${JSON.stringify(statement._type)}, want "${IN_TOTO_STATEMENT_V1}"`);
  if (statement.predicateType !== SLSA_PROVENANCE_V1) {
    throw new InvalidAttestationError(`the in-toto statement's predicateType is ${JSON.stringify(statement.predicateType)}, want "${SLSA_PROVENANCE_V1}"`);
  }
  const { algorithm, hex } = parseDigest(image.digest);
  const subjects = Array.isArray(statement.subject) ? statement.subject : [];
  const names = subjects.some((entry) => isPlainObject(entry) && isPlainObject(entry.digest) && entry.digest[algorithm] === hex);
  if (!names) throw new InvalidAttestationError(`the in-toto statement's subject does not name the image ${image.digest}`);
  checkProvenancePredicate(statement.predicate, 'its predicate');
  return statement as unknown as InTotoStatement;
}

/** Parses an attached SBOM document of `type`. */
export function parseSbom(bytes: Uint8Array, type: 'spdx' | 'cyclonedx'): Record<string, unknown> {
  let document: unknown;
  try {
    document = parseJsonBytes(bytes, `the ${type} document`);
  } catch (error) {
    throw new InvalidAttestationError((error as Error).message);
  }
  checkSbom(type, document);
  return document as Record<string, unknown>;
}
