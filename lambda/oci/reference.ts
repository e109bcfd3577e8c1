import { parseDigest } from './digest';
import { InvalidDigestError, InvalidReferenceError } from './errors';

export { InvalidReferenceError } from './errors';

/** Docker Hub's canonical registry name, and the namespace of its official images. */
export const DOCKER_HUB = 'docker.io';
const DOCKER_HUB_LEGACY = new Set(['index.docker.io', 'registry-1.docker.io']);
const OFFICIAL_NAMESPACE = 'library';

/** Upper bounds from the distribution reference grammar. */
const MAX_NAME_LENGTH = 255;
const MAX_REFERENCE_LENGTH = 255 + 1 + 128 + 1 + 7 + 128;

const DOMAIN_COMPONENT = /^(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])$/;
const IPV6_HOST = /^\[[a-fA-F0-9:]+\]$/;
const PORT = /^[0-9]{1,5}$/;
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const BARE_HEX_IDENTIFIER = /^[a-f0-9]{64}$/;

/** A parsed, normalised image reference: `registry/repository[:tag][@digest]`. */
export class ImageReference {
  constructor(
    /** Host with optional port, e.g. `docker.io`, `127.0.0.1:5000`, `[::1]:5000`. */
    readonly registry: string,
    /** The repository path inside the registry, e.g. `library/alpine`. */
    readonly repository: string,
    readonly tag?: string,
    readonly digest?: string,
  ) {}

  /** `registry/repository`: the trust policy scope of this image. */
  get repositoryName(): string {
    return `${this.registry}/${this.repository}`;
  }

  /** The digest when present (it identifies the content), else the tag. */
  get tagOrDigest(): string | undefined {
    return this.digest ?? this.tag;
  }

  /** The same repository, pinned to `digest` (the tag is dropped). */
  withDigest(digest: string): ImageReference {
    try {
      parseDigest(digest);
    } catch (error) {
      throw new InvalidReferenceError(`${this.repositoryName}@${digest}`, (error as InvalidDigestError).message);
    }
    return new ImageReference(this.registry, this.repository, undefined, digest);
  }

  /** The same repository with `tag` (and no digest). */
  withTag(tag: string): ImageReference {
    if (!TAG.test(tag)) throw new InvalidReferenceError(`${this.repositoryName}:${tag}`, `invalid tag "${tag}"`);
    return new ImageReference(this.registry, this.repository, tag, undefined);
  }

  toString(): string {
    return formatReference(this);
  }
}

/** `registry/repository[:tag][@digest]` */
export function formatReference(reference: {
  registry: string;
  repository: string;
  tag?: string;
  digest?: string;
}): string {
  let text = `${reference.registry}/${reference.repository}`;
  if (reference.tag) text += `:${reference.tag}`;
  if (reference.digest) text += `@${reference.digest}`;
  return text;
}

/**
 * Parses a reference with the distribution grammar and Docker Hub normalisation
 * (`alpine` → `docker.io/library/alpine`). Throws InvalidReferenceError quoting the input.
 */
export function parseReference(input: string): ImageReference {
  if (typeof input !== 'string' || input.length === 0) {
    throw new InvalidReferenceError(String(input ?? ''), 'reference is empty');
  }
  const fail = (reason: string): never => {
    throw new InvalidReferenceError(input.length > 600 ? `${input.slice(0, 600)}…` : input, reason);
  };
  if (input.length > MAX_REFERENCE_LENGTH) fail(`reference is longer than ${MAX_REFERENCE_LENGTH} characters`);
  if (/[\s\u0000-\u001f\u007f]/.test(input)) fail('reference contains whitespace or control characters');
  if (BARE_HEX_IDENTIFIER.test(input)) fail('a 64-character hexadecimal string is an image ID, not a reference');

  let rest = input;
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!digest) fail('digest after "@" is empty');
    if (digest.includes('@')) fail('more than one "@"');
    try {
      parseDigest(digest);
    } catch (error) {
      fail(`invalid digest: ${(error as InvalidDigestError).message.replace(/^invalid digest "[^"]*": /, '')}`);
    }
  }

  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!tag) fail('tag after ":" is empty');
    if (!TAG.test(tag)) {
      fail(`invalid tag "${tag}": a tag is 1-128 of [A-Za-z0-9_.-] and does not start with "." or "-"`);
    }
  }
  if (!rest) fail('repository name is empty');

  const { registry, path } = splitRegistry(rest);
  if (registry !== undefined) checkRegistry(registry, fail);
  const normalisedRegistry = registry === undefined || DOCKER_HUB_LEGACY.has(registry) ? DOCKER_HUB : registry;
  const repository = normalisedRegistry === DOCKER_HUB && !path.includes('/') ? `${OFFICIAL_NAMESPACE}/${path}` : path;

  checkRepositoryPath(path, fail);
  const name = `${normalisedRegistry}/${repository}`;
  if (name.length > MAX_NAME_LENGTH) fail(`repository name is longer than ${MAX_NAME_LENGTH} characters`);
  return new ImageReference(normalisedRegistry, repository, tag, digest);
}

/** The first path component is a registry host only if it has `.` or `:`, is `localhost`, or has uppercase. */
function splitRegistry(name: string): { registry?: string; path: string } {
  const slash = name.indexOf('/');
  if (slash < 0) return { path: name };
  const first = name.slice(0, slash);
  const isHost = first.includes('.') || first.includes(':') || first === 'localhost' || first !== first.toLowerCase();
  return isHost ? { registry: first, path: name.slice(slash + 1) } : { path: name };
}

function checkRegistry(registry: string, fail: (reason: string) => never): void {
  let host = registry;
  let port: string | undefined;
  if (registry.startsWith('[')) {
    const close = registry.indexOf(']');
    if (close < 0) fail(`invalid registry host "${registry}": unclosed "[" of an IPv6 address`);
    host = registry.slice(0, close + 1);
    const after = registry.slice(close + 1);
    if (after) {
      if (!after.startsWith(':')) fail(`invalid registry host "${registry}": unexpected text after the IPv6 address`);
      port = after.slice(1);
    }
    if (!IPV6_HOST.test(host)) fail(`invalid registry host "${registry}": malformed IPv6 address`);
  } else {
    const colon = registry.indexOf(':');
    if (colon >= 0) {
      host = registry.slice(0, colon);
      port = registry.slice(colon + 1);
    }
    if (!host) fail(`invalid registry host "${registry}": the host name is empty`);
    if (!host.split('.').every((component) => DOMAIN_COMPONENT.test(component))) {
      fail(`invalid registry host "${registry}": host name components are letters, digits and inner "-"`);
    }
  }
  if (port !== undefined && (!PORT.test(port) || Number(port) > 65535)) {
    fail(`invalid registry port "${port}": expected a number from 0 to 65535`);
  }
}

function checkRepositoryPath(path: string, fail: (reason: string) => never): void {
  if (!path) fail('repository path is empty');
  if (path !== path.toLowerCase()) fail('repository name must be lowercase');
  for (const component of path.split('/')) {
    if (!component) fail('repository path has an empty component');
    if (!PATH_COMPONENT.test(component)) {
      fail(
        `invalid repository path component "${component}": use lowercase letters and digits separated by ".", "_", "__" or "-"`,
      );
    }
  }
}

/** Whether `tag` is a valid tag. */
export function isValidTag(tag: string): boolean {
  return TAG.test(tag);
}
