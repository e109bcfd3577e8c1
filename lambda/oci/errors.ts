/** Errors raised by the OCI distribution layer. Messages name the input and the cause, never a credential. */

/** A reference string that does not follow the distribution reference grammar. */
export class InvalidReferenceError extends Error {
  constructor(readonly reference: string, readonly reason: string) {
    super(`invalid reference ${JSON.stringify(reference)}: ${reason}`);
    this.name = 'InvalidReferenceError';
  }
}

/** A digest string that is not `sha256:<64 hex>` or `sha512:<128 hex>`. */
export class InvalidDigestError extends Error {
  constructor(readonly digest: string, reason: string) {
    super(`invalid digest ${JSON.stringify(digest)}: ${reason}`);
    this.name = 'InvalidDigestError';
  }
}

/** Content whose bytes do not hash to the digest it was requested by (or announced with). */
export class DigestMismatchError extends Error {
  constructor(readonly what: string, readonly expected: string, readonly actual: string) {
    super(`digest mismatch for ${what}: expected ${expected}, got ${actual}`);
    this.name = 'DigestMismatchError';
  }
}

/** Content larger than the limit the caller set; raised before it is all read. */
export class ContentTooLargeError extends Error {
  constructor(readonly what: string, readonly limit: number, readonly size?: number) {
    super(
      size !== undefined
        ? `${what} is ${size} bytes, more than the limit of ${limit} bytes`
        : `${what} is larger than the limit of ${limit} bytes`,
    );
    this.name = 'ContentTooLargeError';
  }
}

/** An error answer (or unusable answer) from a registry. */
export class RegistryError extends Error {
  constructor(
    message: string,
    readonly registry: string,
    readonly status?: number,
    /** The distribution error code, e.g. `MANIFEST_UNKNOWN`, when the registry sent one. */
    readonly code?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'RegistryError';
  }
}

/** The registry refused the request for lack of (valid) credentials. */
export class RegistryAuthError extends RegistryError {
  constructor(message: string, registry: string, status: number) {
    super(message, registry, status);
    this.name = 'RegistryAuthError';
  }
}

/** The requested manifest, blob or repository does not exist. */
export class NotFoundError extends RegistryError {
  constructor(message: string, registry: string, code?: string) {
    super(message, registry, 404, code);
    this.name = 'NotFoundError';
  }
}

/** Content read from a store that is not what its format requires (bad JSON, bad descriptor, ...). */
export class InvalidContentError extends Error {
  constructor(readonly what: string, reason: string) {
    super(`invalid ${what}: ${reason}`);
    this.name = 'InvalidContentError';
  }
}
