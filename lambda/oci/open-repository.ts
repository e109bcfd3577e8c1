import { basename, resolve as resolvePath } from 'node:path';
// lambda/ is bundled by esbuild, so its AWS SDK clients are devDependencies.
// eslint-disable-next-line import/no-extraneous-dependencies
import { ECRClient } from '@aws-sdk/client-ecr';
import { CredentialSource } from './credentials';
import { parseDigest } from './digest';
import { InvalidReferenceError } from './errors';
import { OciLayoutRepository } from './layout-repository';
import { ImageReference, isValidTag, parseReference } from './reference';
import { RegistryRepository } from './registry-repository';
import { OciRepository } from './repository';

/** Options shared by every command that reads or writes a registry. */
export interface OpenRepositoryOptions {
  /** HTTP instead of HTTPS. @default false */
  readonly plainHttp?: boolean;
  /** Treat the reference as `<dir>:<tag>` or `<dir>@<digest>` of an OCI image layout. @default false */
  readonly ociLayout?: boolean;
  readonly username?: string;
  readonly password?: string;
  /** Another source of credentials, asked each time the registry wants them (e.g. ECR credentials kept across calls). */
  readonly credentials?: CredentialSource;
  /** For `*.dkr.ecr.*` hosts. @default a client for the host's region with the SDK default credential chain */
  readonly ecrClient?: ECRClient;
  /** Per-request timeout. @default 30000 */
  readonly timeoutMs?: number;
  /** Retries on 429, 5xx and connection errors. @default 3 */
  readonly retries?: number;
  /** Base URL to send requests to instead of the registry host (tests, proxies). */
  readonly endpoint?: string;
}

/** A reference into an OCI image layout directory. */
export interface LayoutReference {
  readonly directory: string;
  readonly tag?: string;
  readonly digest?: string;
  /** The trust policy scope of a layout: `local/<basename of dir>` (notation's convention). */
  readonly repositoryName: string;
}

export interface OpenedRepository {
  readonly repository: OciRepository;
  readonly reference: ImageReference | LayoutReference;
  /** The digest when the reference has one, else its tag. */
  readonly tagOrDigest: string;
  /** The reference as it should appear in messages, e.g. `127.0.0.1:5000/app:v1`. */
  readonly displayReference: string;
  /** `registry/repository` (or `local/<dir name>`): the trust policy scope. */
  readonly repositoryName: string;
}

/**
 * Opens the repository a CLI or handler reference points to. The reference must name a tag or a digest.
 * Throws InvalidReferenceError quoting the input.
 */
export function openRepository(input: string, options: OpenRepositoryOptions = {}): OpenedRepository {
  if (options.ociLayout) {
    const reference = parseLayoutReference(input);
    return {
      repository: new OciLayoutRepository(reference.directory),
      reference,
      tagOrDigest: (reference.digest ?? reference.tag)!,
      displayReference: formatLayoutReference(reference),
      repositoryName: reference.repositoryName,
    };
  }
  const reference = parseReference(input);
  const tagOrDigest = reference.tagOrDigest;
  if (!tagOrDigest) throw new InvalidReferenceError(input, 'a tag or a digest is required, e.g. app:v1 or app@sha256:…');
  const repository = new RegistryRepository({
    registry: reference.registry,
    repository: reference.repository,
    plainHttp: options.plainHttp,
    endpoint: options.endpoint,
    username: options.username,
    password: options.password,
    credentials: options.credentials,
    ecrClient: options.ecrClient,
    http: { timeoutMs: options.timeoutMs, retries: options.retries },
  });
  return { repository, reference, tagOrDigest, displayReference: reference.toString(), repositoryName: reference.repositoryName };
}

/**
 * Parses `<dir>:<tag>` or `<dir>@<digest>`: the tag follows the last `:` after the last `/`, the digest
 * the last `@` after the last `/`.
 */
export function parseLayoutReference(input: string): LayoutReference {
  if (!input) throw new InvalidReferenceError(input, 'reference is empty');
  const lastSlash = input.lastIndexOf('/');
  const at = input.lastIndexOf('@');
  let directory: string;
  let tag: string | undefined;
  let digest: string | undefined;
  if (at > lastSlash) {
    directory = input.slice(0, at);
    digest = input.slice(at + 1);
    try {
      parseDigest(digest);
    } catch (error) {
      throw new InvalidReferenceError(input, (error as Error).message);
    }
  } else {
    const colon = input.lastIndexOf(':');
    if (colon <= lastSlash) {
      throw new InvalidReferenceError(input, 'an OCI layout reference needs a tag or a digest: <dir>:<tag> or <dir>@<digest>');
    }
    directory = input.slice(0, colon);
    tag = input.slice(colon + 1);
    if (!isValidTag(tag)) throw new InvalidReferenceError(input, `invalid tag "${tag}"`);
  }
  if (!directory) throw new InvalidReferenceError(input, 'the OCI layout directory is empty');
  return { directory, tag, digest, repositoryName: `local/${basename(resolvePath(directory))}` };
}

export function formatLayoutReference(reference: LayoutReference): string {
  return reference.digest ? `${reference.directory}@${reference.digest}` : `${reference.directory}:${reference.tag}`;
}
