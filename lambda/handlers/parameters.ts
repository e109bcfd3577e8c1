/**
 * The parameters of an invocation: a CodePipeline job's `UserParameters` (a JSON object in a string) or a direct
 * invocation's event, read as typed fields with errors that name the source and the field.
 */
import { ImageReference, InvalidReferenceError, parseReference } from '../oci/reference';

/** `UserParameters` (and a direct invocation's event) larger than this is refused. */
export const MAX_PARAMETERS_BYTES = 16 * 1024;

/** Where parameters came from, as error messages name it. */
export type ParameterSource = 'UserParameters' | 'the event';

/** A bad event or parameter. Raised before any registry or AWS call; the message names the field. */
export class ParameterError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ParameterError';
  }
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `null`, `an array`, `a string`, ... for messages about wrong types. */
export function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  const type = typeof value;
  return `${type === 'object' || type === 'undefined' ? 'an' : 'a'} ${type}`;
}

/**
 * Parses a job's `UserParameters`: a JSON object of at most 16 KiB. The text is never quoted back (it is
 * not logged either), only its size and the position of a syntax error.
 */
export function parseUserParameters(raw: unknown): Record<string, unknown> {
  const example = '{"imageUri": "<registry>/<repository>@sha256:<digest>"}';
  if (raw === undefined || raw === null || raw === '') {
    throw new ParameterError(`UserParameters is missing: the Lambda invoke action must pass a JSON object such as ${example}`);
  }
  if (typeof raw !== 'string') throw new ParameterError(`UserParameters must be a string of JSON, got ${describeType(raw)}`);
  const size = Buffer.byteLength(raw, 'utf8');
  if (size > MAX_PARAMETERS_BYTES) {
    throw new ParameterError(`UserParameters is ${size} bytes; at most ${MAX_PARAMETERS_BYTES} bytes are accepted`);
  }
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (error) {
    const position = /at position (\d+)/.exec((error as Error).message)?.[1];
    throw new ParameterError(
      `UserParameters is not valid JSON${position !== undefined ? ` (syntax error at position ${position})` : ''}: ` +
        `write a JSON object such as ${example}, with CodePipeline variables inside JSON strings`,
    );
  }
  if (!isPlainObject(value)) throw new ParameterError(`UserParameters must be a JSON object such as ${example}, got ${describeType(value)}`);
  return value;
}

export interface StringOptions {
  readonly maxLength: number;
  readonly pattern?: RegExp;
  /** What the value must look like, for the message when `pattern` does not match. */
  readonly expected?: string;
}

export interface StringMapOptions {
  readonly maxEntries: number;
  readonly maxKeyLength: number;
  readonly maxValueLength: number;
  /** Key prefixes that are refused, with the reason. */
  readonly reservedPrefixes?: ReadonlyArray<{ readonly prefix: string; readonly reason: string }>;
}

const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;

/** Reads typed parameters, naming the source and the field in every error. Unknown fields are refused. */
export class Parameters {
  constructor(
    private readonly values: Readonly<Record<string, unknown>>,
    readonly source: ParameterSource,
    readonly fields: readonly string[],
  ) {
    const unknown = Object.keys(values).filter((key) => !fields.includes(key));
    if (unknown.length > 0) {
      const name = unknown[0].length > 100 ? `${unknown[0].slice(0, 100)}…` : unknown[0];
      throw new ParameterError(`${source}: unknown field ${JSON.stringify(name)}; the fields are ${fields.join(', ')}`);
    }
  }

  fail(field: string, problem: string): never {
    throw new ParameterError(`${this.source}: ${field} ${problem}`);
  }

  has(field: string): boolean {
    return this.values[field] !== undefined && this.values[field] !== null;
  }

  requiredString(field: string, options: StringOptions): string {
    if (!this.has(field)) this.fail(field, 'is required');
    return this.optionalString(field, options)!;
  }

  optionalString(field: string, options: StringOptions): string | undefined {
    if (!this.has(field)) return undefined;
    const value = this.values[field];
    if (typeof value !== 'string') this.fail(field, `must be a string, got ${describeType(value)}`);
    if (value.length === 0) this.fail(field, 'is empty');
    if (value.length > options.maxLength) this.fail(field, `is ${value.length} characters long; at most ${options.maxLength} are accepted`);
    if (CONTROL_CHARACTERS.test(value)) this.fail(field, 'contains control characters');
    if (options.pattern && !options.pattern.test(value)) this.fail(field, `must be ${options.expected ?? `a value matching ${options.pattern}`}`);
    return value;
  }

  optionalBoolean(field: string): boolean | undefined {
    if (!this.has(field)) return undefined;
    const value = this.values[field];
    if (typeof value !== 'boolean') this.fail(field, `must be true or false, got ${describeType(value)}`);
    return value;
  }

  /** An object of string values, e.g. `{"team": "payments"}`. */
  optionalStringMap(field: string, options: StringMapOptions): Record<string, string> | undefined {
    if (!this.has(field)) return undefined;
    const value = this.values[field];
    if (!isPlainObject(value)) this.fail(field, `must be an object of string values such as {"team": "payments"}, got ${describeType(value)}`);
    const entries = Object.entries(value);
    if (entries.length > options.maxEntries) this.fail(field, `has ${entries.length} entries; at most ${options.maxEntries} are accepted`);
    const map: Record<string, string> = {};
    for (const [key, entry] of entries) {
      const shownKey = key.length > 100 ? `${key.slice(0, 100)}…` : key;
      if (key.length === 0) this.fail(field, 'has an empty key');
      if (key.length > options.maxKeyLength) this.fail(`${field}.${shownKey}`, `is a key of ${key.length} characters; at most ${options.maxKeyLength} are accepted`);
      if (CONTROL_CHARACTERS.test(key)) this.fail(field, 'has a key with control characters');
      for (const reserved of options.reservedPrefixes ?? []) {
        if (key.startsWith(reserved.prefix)) this.fail(`${field}.${shownKey}`, `uses the reserved prefix "${reserved.prefix}" (${reserved.reason}); choose another key`);
      }
      if (typeof entry !== 'string') this.fail(`${field}.${shownKey}`, `must be a string, got ${describeType(entry)}`);
      if (entry.length > options.maxValueLength) this.fail(`${field}.${shownKey}`, `is ${entry.length} characters long; at most ${options.maxValueLength} are accepted`);
      map[key] = entry;
    }
    return map;
  }

  /**
   * An image reference pinned by digest: `<registry>/<repository>@sha256:<hex>` or
   * `<registry>/<repository>:<tag>@sha256:<hex>`. A tag alone is refused: what is signed or verified must
   * be exactly the content the pipeline built, not whatever the tag points to by then.
   */
  imageUri(field = 'imageUri'): ImageReference {
    const value = this.requiredString(field, { maxLength: 1024 });
    const shown = JSON.stringify(value.length > 300 ? `${value.slice(0, 300)}…` : value);
    if (value.includes('#{')) {
      this.fail(field, `holds an unresolved CodePipeline variable: ${shown}; check the variable namespace and name (e.g. #{Build.IMAGE_DIGEST})`);
    }
    let reference: ImageReference;
    try {
      reference = parseReference(value);
    } catch (error) {
      if (error instanceof InvalidReferenceError) this.fail(field, `is not a valid image reference: ${error.message}`);
      throw error;
    }
    if (!reference.digest) {
      this.fail(
        field,
        `must pin the image by digest, e.g. ${reference.repositoryName}@sha256:<64 hex digits> or ` +
          `${reference.repositoryName}:<tag>@sha256:<64 hex digits>; got ${shown}, which has no digest`,
      );
    }
    return reference;
  }
}
