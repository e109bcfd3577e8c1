import { isValidDigest } from './digest';
import { InvalidContentError } from './errors';
import { MANIFEST_MEDIA_TYPES, MediaType } from './media-types';
import { ReferrerManifestFields } from './referrers';
import { Descriptor, ImageIndex, ImageManifest } from './types';

/** Validation of untrusted manifest, index and descriptor JSON before use. */

const MAX_ENTRIES = 10_000;

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** One decoder for every call: constructing a TextDecoder costs more than decoding a small manifest. */
const UTF8 = new TextDecoder('utf-8', { fatal: true });

export function parseJsonObject(bytes: Uint8Array, what: string): Json {
  let value: unknown;
  try {
    value = JSON.parse(UTF8.decode(bytes));
  } catch (error) {
    throw new InvalidContentError(what, `not UTF-8 JSON (${(error as Error).message})`);
  }
  if (!isObject(value)) throw new InvalidContentError(what, 'expected a JSON object');
  return value;
}

function checkStringMap(value: unknown, what: string, field: string): void {
  if (value === undefined) return;
  if (!isObject(value) || !Object.values(value).every((v) => typeof v === 'string')) {
    throw new InvalidContentError(what, `${field} must be an object of strings`);
  }
}

function checkOptionalString(value: unknown, what: string, field: string): void {
  if (value !== undefined && typeof value !== 'string') throw new InvalidContentError(what, `${field} must be a string`);
}

/** Validates one descriptor (mediaType, digest, size; optional artifactType and annotations). */
export function validateDescriptor(value: unknown, what: string, field = 'descriptor'): Descriptor {
  if (!isObject(value)) throw new InvalidContentError(what, `${field} must be an object`);
  if (typeof value.mediaType !== 'string' || !value.mediaType) {
    throw new InvalidContentError(what, `${field}.mediaType must be a non-empty string`);
  }
  if (typeof value.digest !== 'string' || !isValidDigest(value.digest)) {
    throw new InvalidContentError(what, `${field}.digest ${JSON.stringify(value.digest)} is not a valid digest`);
  }
  if (typeof value.size !== 'number' || !Number.isSafeInteger(value.size) || value.size < 0) {
    throw new InvalidContentError(what, `${field}.size must be a non-negative integer`);
  }
  checkOptionalString(value.artifactType, what, `${field}.artifactType`);
  checkStringMap(value.annotations, what, `${field}.annotations`);
  return value as unknown as Descriptor;
}

function checkCommon(json: Json, what: string): void {
  if (json.schemaVersion !== 2) throw new InvalidContentError(what, 'schemaVersion must be 2');
  checkOptionalString(json.mediaType, what, 'mediaType');
  checkOptionalString(json.artifactType, what, 'artifactType');
  checkStringMap(json.annotations, what, 'annotations');
  if (json.subject !== undefined) validateDescriptor(json.subject, what, 'subject');
}

/** Parses and validates an image manifest (OCI or Docker v2 schema 2). */
export function parseImageManifest(bytes: Uint8Array, what = 'manifest'): ImageManifest {
  const json = parseJsonObject(bytes, what);
  checkCommon(json, what);
  validateDescriptor(json.config, what, 'config');
  if (!Array.isArray(json.layers) || json.layers.length > MAX_ENTRIES) {
    throw new InvalidContentError(what, `layers must be an array of at most ${MAX_ENTRIES} descriptors`);
  }
  json.layers.forEach((layer, i) => validateDescriptor(layer, what, `layers[${i}]`));
  return json as unknown as ImageManifest;
}

/** Parses and validates an image index (also referrers responses and tag schema indexes). */
export function parseImageIndex(bytes: Uint8Array, what = 'index'): ImageIndex {
  const json = parseJsonObject(bytes, what);
  checkCommon(json, what);
  if (!Array.isArray(json.manifests) || json.manifests.length > MAX_ENTRIES) {
    throw new InvalidContentError(what, `manifests must be an array of at most ${MAX_ENTRIES} descriptors`);
  }
  json.manifests.forEach((entry, i) => validateDescriptor(entry, what, `manifests[${i}]`));
  return json as unknown as ImageIndex;
}

/** The `mediaType` field of manifest JSON, if the bytes are a JSON object that has one. */
export function declaredMediaType(bytes: Uint8Array): string | undefined {
  try {
    const json = JSON.parse(new TextDecoder().decode(bytes));
    return isObject(json) && typeof json.mediaType === 'string' ? json.mediaType : undefined;
  } catch {
    return undefined;
  }
}

/** Whether a media type is an index (whose children are manifests) rather than an image manifest. */
export function isIndexMediaType(mediaType: string): boolean {
  return mediaType === MediaType.OCI_INDEX || mediaType === MediaType.DOCKER_MANIFEST_LIST;
}

/** Serialises JSON to the bytes that are pushed and hashed. */
export function jsonBytes(value: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(value));
}

/** The fields of a pushed manifest that its referrer descriptor needs, validated. */
export function parseReferrerFields(bytes: Uint8Array, mediaType: string, what: string): ReferrerFields {
  if (isIndexMediaType(mediaType)) return parseImageIndex(bytes, what);
  if (MANIFEST_MEDIA_TYPES.includes(mediaType)) return parseImageManifest(bytes, what);
  const json = parseJsonObject(bytes, what);
  checkOptionalString(json.artifactType, what, 'artifactType');
  checkStringMap(json.annotations, what, 'annotations');
  if (json.subject !== undefined) validateDescriptor(json.subject, what, 'subject');
  return json as ReferrerFields;
}

export interface ReferrerFields extends ReferrerManifestFields {
  readonly subject?: Descriptor;
}
