// lambda/ is bundled by esbuild, so its AWS SDK clients are devDependencies.
// eslint-disable-next-line import/no-extraneous-dependencies
import { ECRClient } from '@aws-sdk/client-ecr';
import { AccessScope, RegistryAuth } from './auth';
import { declaredMediaType, isIndexMediaType, jsonBytes, parseImageIndex, parseImageManifest, parseReferrerFields } from './content';
import { BasicCredentials, CredentialSource } from './credentials';
import { isValidDigest, parseDigest, sha256Digest, verifyDigest } from './digest';
import { EcrCredentialProvider, parseEcrHost } from './ecr';
import { ContentTooLargeError, DigestMismatchError, InvalidContentError, InvalidReferenceError, RegistryError } from './errors';
import { backoffDelay, discardBody, HttpOptions, readBodyLimited, RequestFailedError, ResponseBodyError } from './http';
import { nextLink } from './link-header';
import { MANIFEST_MEDIA_TYPES, MediaType } from './media-types';
import { isValidTag } from './reference';
import {
  containsReferrer,
  emptyReferrersIndex,
  filterByArtifactType,
  referrerDescriptor,
  referrersTag,
  withReferrer,
} from './referrers';
import { unexpectedResponse } from './registry-errors';
import { DEFAULT_LIMITS, FetchOptions, OciRepository, PushBlobOptions, PushManifestResult } from './repository';
import { Descriptor, FetchedContent, ImageIndex } from './types';

/** Whether the registry serves the OCI referrers API; `auto` learns it on first use (as oras-go's `Repository.Referrers`). */
export type ReferrersApiSupport = 'auto' | 'supported' | 'unsupported';

export interface ReferrersIndexOptions {
  /** Read-modify-write attempts of the tag schema index before giving up. @default 30 */
  readonly attempts?: number;
  /**
   * Minimum wait after writing the index before checking that the entry survived concurrent writers
   * (the wait is also at least twice the time the read-modify-write took). @default 50
   */
  readonly settleMs?: number;
  /** Backoff between attempts (doubles, with jitter). @default 20 */
  readonly baseDelayMs?: number;
}

export interface RegistryRepositoryOptions {
  /** The registry as written in references: `host[:port]`, e.g. `127.0.0.1:5000`, `docker.io`. */
  readonly registry: string;
  /** The repository path, e.g. `library/alpine`. */
  readonly repository: string;
  /** Use plain HTTP instead of HTTPS (a registry on loopback). @default false */
  readonly plainHttp?: boolean;
  /**
   * The base URL requests go to, when it differs from the registry name (tests, proxies),
   * e.g. `http://127.0.0.1:5000`. Authentication still follows the registry name (ECR).
   */
  readonly endpoint?: string;
  readonly username?: string;
  readonly password?: string;
  /** Another source of credentials, asked each time the registry wants them. */
  readonly credentials?: CredentialSource;
  /** The ECR client for `*.dkr.ecr.*` hosts. @default a client for the host's region and the SDK default credential chain */
  readonly ecrClient?: ECRClient;
  readonly http?: HttpOptions;
  /** @default 'auto' */
  readonly referrersApi?: ReferrersApiSupport;
  readonly referrersIndex?: ReferrersIndexOptions;
  /** Referrers API pages followed at most. @default 100 */
  readonly maxReferrerPages?: number;
}

const MANIFEST_ACCEPT = MANIFEST_MEDIA_TYPES.join(', ');
const PULL: AccessScope['actions'] = ['pull'];
const PULL_PUSH: AccessScope['actions'] = ['pull', 'push'];
/** Manifest refusals that a blob still being committed by a concurrent push can cause. */
const BLOB_RACE_CODES = new Set(['DIGEST_INVALID', 'MANIFEST_BLOB_UNKNOWN', 'BLOB_UNKNOWN']);
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The host that serves a registry's API (Docker Hub's API is not at `docker.io`). */
export function registryApiHost(registry: string): string {
  return registry === 'docker.io' ? 'registry-1.docker.io' : registry;
}

/** A repository on an OCI distribution registry (ECR, Docker Hub, the CNCF distribution registry, ...). */
export class RegistryRepository implements OciRepository {
  readonly name: string;
  private readonly baseUrl: string;
  private readonly auth: RegistryAuth;
  private referrersApi: ReferrersApiSupport;

  constructor(private readonly options: RegistryRepositoryOptions) {
    this.name = `${options.registry}/${options.repository}`;
    const base = options.endpoint ?? `${options.plainHttp ? 'http' : 'https'}://${registryApiHost(options.registry)}`;
    this.baseUrl = base.replace(/\/+$/, '');
    this.referrersApi = options.referrersApi ?? 'auto';
    const ecrHost = parseEcrHost(options.registry);
    let credentials = options.credentials;
    if (!credentials && options.username !== undefined && options.password !== undefined) {
      const fixed: BasicCredentials = { username: options.username, password: options.password };
      credentials = async () => fixed;
    }
    if (!credentials && ecrHost) {
      const provider = new EcrCredentialProvider(ecrHost, options.ecrClient);
      credentials = () => provider.credentials();
    }
    this.auth = new RegistryAuth({
      registry: options.registry,
      origin: new URL(this.baseUrl).origin,
      credentials,
      preemptiveBasic: ecrHost !== undefined,
      http: options.http,
    });
  }

  async hasBlob(digest: string): Promise<boolean> {
    parseDigest(digest);
    const response = await this.send('HEAD', this.blobUrl(digest), {}, PULL);
    await discardBody(response);
    // A blob store behind a redirect may refuse a HEAD on a URL signed for GET (S3 answers 403): say no, and
    // the caller uploads the blob again, which is harmless (as pushBlob does).
    if (response.ok || response.status === 404 || (response.redirected && response.status === 403)) return response.ok;
    throw await this.unexpected(response, `blob ${this.name}@${digest} (exists?)`);
  }

  async hasManifest(digest: string): Promise<boolean> {
    parseDigest(digest);
    const response = await this.send('HEAD', this.manifestUrl(digest), { accept: MANIFEST_ACCEPT }, PULL);
    await discardBody(response);
    if (response.ok || response.status === 404) return response.ok;
    throw await this.unexpected(response, `manifest ${this.name}@${digest} (exists?)`);
  }

  /**
   * Cross-repository blob mount (distribution spec, "Mounting a blob from another repository"):
   * `POST /v2/<name>/blobs/uploads/?mount=<digest>&from=<other name>`, 201 when mounted. Only for a repository of
   * the same registry endpoint. A registry that does not mount (mounting off, no pull access to the source under
   * this client's token, whose scope names this repository only) answers 202 with an upload session: that session
   * is cancelled and false returned, so the caller uploads.
   */
  async mountBlob(blob: Descriptor, from: OciRepository): Promise<boolean> {
    if (!(from instanceof RegistryRepository) || from.baseUrl !== this.baseUrl || from.options.repository === this.options.repository) return false;
    parseDigest(blob.digest);
    const what = `mount of blob ${blob.digest} from ${from.name} into ${this.name}`;
    const startUrl = `${this.repositoryUrl()}/blobs/uploads/`;
    const query = `?mount=${encodeURIComponent(blob.digest)}&from=${encodeURIComponent(from.options.repository)}`;
    const response = await this.send('POST', `${startUrl}${query}`, { 'content-length': '0' }, PULL_PUSH);
    await discardBody(response);
    if (response.status === 201) return true;
    if (response.status !== 202) throw await this.unexpected(response, what);
    const location = response.headers.get('location');
    if (location) {
      // Best effort: an abandoned session expires on the registry anyway.
      await this.send('DELETE', new URL(location, startUrl).toString(), {}, PULL_PUSH).then(discardBody, () => undefined);
    }
    return false;
  }

  /** Whether the referrers API is known to be supported, unsupported, or not yet probed. */
  get referrersApiSupport(): ReferrersApiSupport {
    return this.referrersApi;
  }

  async resolve(tagOrDigest: string): Promise<Descriptor> {
    const ref = this.checkTagOrDigest(tagOrDigest);
    const what = `manifest ${this.display(ref)}`;
    const response = await this.send('HEAD', this.manifestUrl(ref), { accept: MANIFEST_ACCEPT }, PULL);
    if (response.status === 405) {
      await discardBody(response);
      return (await this.fetchManifest(ref)).descriptor;
    }
    if (!response.ok) throw await this.unexpected(response, what);
    await discardBody(response);
    const headerDigest = response.headers.get('docker-content-digest') ?? '';
    const mediaType = baseMediaType(response.headers.get('content-type'));
    const length = response.headers.get('content-length');
    const size = length !== null && /^\d+$/.test(length) ? Number(length) : undefined;
    const digestUsable = isValidDigest(headerDigest) && (!isDigest(ref) || headerDigest === ref);
    if (!digestUsable || size === undefined || !MANIFEST_MEDIA_TYPES.includes(mediaType)) {
      // The HEAD answer is not enough to describe the manifest: read it and hash the bytes.
      return (await this.fetchManifest(ref)).descriptor;
    }
    if (size > DEFAULT_LIMITS.manifestBytes) throw new ContentTooLargeError(what, DEFAULT_LIMITS.manifestBytes, size);
    return { mediaType, digest: isDigest(ref) ? ref : headerDigest, size };
  }

  async fetchManifest(tagOrDigest: string, options: FetchOptions = {}): Promise<FetchedContent> {
    const ref = this.checkTagOrDigest(tagOrDigest);
    const what = `manifest ${this.display(ref)}`;
    return this.readWithRetry(async () => {
      const response = await this.send('GET', this.manifestUrl(ref), { accept: MANIFEST_ACCEPT }, PULL);
      if (!response.ok) throw await this.unexpected(response, what);
      return this.readManifestResponse(response, ref, what, options.maxBytes ?? DEFAULT_LIMITS.manifestBytes);
    });
  }

  async fetchBlob(descriptor: Descriptor, options: FetchOptions = {}): Promise<Uint8Array> {
    parseDigest(descriptor.digest);
    const what = `blob ${this.name}@${descriptor.digest}`;
    if (options.maxBytes !== undefined && descriptor.size > options.maxBytes) {
      throw new ContentTooLargeError(what, options.maxBytes, descriptor.size);
    }
    // Other bytes than the descriptor says (more, fewer, different) were damaged on the way: fetch again.
    return this.readWithRetry(async () => {
      const response = await this.send('GET', this.blobUrl(descriptor.digest), {}, PULL);
      if (!response.ok) throw await this.unexpected(response, what);
      // More bytes than the descriptor says is already wrong: never read past it.
      const bytes = await readBodyLimited(response, descriptor.size, what);
      if (bytes.byteLength !== descriptor.size) {
        throw new InvalidContentError(what, `expected ${descriptor.size} bytes, got ${bytes.byteLength}`);
      }
      verifyDigest(bytes, descriptor.digest, what);
      return bytes;
    }, (error) => error instanceof ContentTooLargeError || error instanceof InvalidContentError);
  }

  async pushBlob(bytes: Uint8Array, mediaType: string, options: PushBlobOptions = {}): Promise<Descriptor> {
    const digest = sha256Digest(bytes);
    const descriptor: Descriptor = { mediaType, digest, size: bytes.byteLength };
    const what = `blob ${this.name}@${digest}`;
    if (options.fresh) return this.upload(bytes, descriptor, what);
    const existing = await this.send('HEAD', this.blobUrl(digest), {}, PULL_PUSH);
    await discardBody(existing);
    if (existing.ok) return descriptor;
    // A blob store behind a redirect may refuse a HEAD on a URL signed for GET (S3 answers 403): the registry
    // still holds the blob or not, and uploading it again is harmless, so that answer does not stop the push.
    const refusedAfterRedirect = existing.redirected && existing.status === 403;
    if (existing.status !== 404 && !refusedAfterRedirect) throw await this.unexpected(existing, `${what} (exists?)`);
    return this.upload(bytes, descriptor, what);
  }

  private async upload(bytes: Uint8Array, descriptor: Descriptor, what: string): Promise<Descriptor> {
    // An upload whose session the registry no longer knows (a lost answer made the client send the last
    // request again) is started over once: the blob is content-addressed, uploading it again is harmless.
    for (let round = 1; ; round++) {
      try {
        return await this.uploadBlob(bytes, descriptor, what);
      } catch (error) {
        if (round >= 2 || !(error instanceof RegistryError && error.code === 'BLOB_UPLOAD_UNKNOWN')) throw error;
      }
    }
  }

  private async uploadBlob(bytes: Uint8Array, descriptor: Descriptor, what: string): Promise<Descriptor> {
    const digest = descriptor.digest;
    const startUrl = `${this.repositoryUrl()}/blobs/uploads/`;
    const started = await this.send('POST', startUrl, { 'content-length': '0' }, PULL_PUSH);
    if (started.status !== 202) throw await this.unexpected(started, `upload of ${what}`);
    await discardBody(started);
    const location = started.headers.get('location');
    if (!location) {
      throw new RegistryError(`registry ${this.options.registry} started the upload of ${what} without a Location`, this.options.registry);
    }
    const uploadUrl = new URL(location, startUrl).toString();
    const separator = new URL(uploadUrl).search ? '&' : '?';
    let finished: Response;
    try {
      finished = await this.send(
        'PUT',
        `${uploadUrl}${separator}digest=${encodeURIComponent(digest)}`,
        { 'content-type': 'application/octet-stream' },
        PULL_PUSH,
        bytes,
      );
    } catch (error) {
      if (await this.blobExists(digest)) return descriptor;
      throw error;
    }
    if (finished.status !== 201) {
      const error = await this.unexpected(finished, `upload of ${what}`);
      // A retried PUT whose lost first attempt completed the upload finds the session gone: the blob is there.
      if (await this.blobExists(digest)) return descriptor;
      throw error;
    }
    await discardBody(finished);
    return descriptor;
  }

  /** Whether the registry holds the blob; false when it cannot tell. */
  private async blobExists(digest: string): Promise<boolean> {
    try {
      const response = await this.send('HEAD', this.blobUrl(digest), {}, PULL_PUSH);
      await discardBody(response);
      return response.ok;
    } catch {
      return false;
    }
  }

  async pushManifest(bytes: Uint8Array, mediaType: string, tag?: string): Promise<PushManifestResult> {
    const digest = sha256Digest(bytes);
    const descriptor: Descriptor = { mediaType, digest, size: bytes.byteLength };
    if (tag !== undefined) this.checkTagOrDigest(tag);
    const ref = tag ?? digest;
    const what = `manifest ${this.display(ref)}`;
    if (bytes.byteLength > DEFAULT_LIMITS.manifestBytes) {
      throw new ContentTooLargeError(what, DEFAULT_LIMITS.manifestBytes, bytes.byteLength);
    }
    const fields = parseReferrerFields(bytes, mediaType, what);
    const response = await this.putManifest(ref, bytes, mediaType, what);
    const answeredDigest = response.headers.get('docker-content-digest');
    if (answeredDigest && answeredDigest.startsWith('sha256:') && answeredDigest !== digest) {
      throw new DigestMismatchError(`pushed ${what}`, digest, answeredDigest);
    }
    if (!fields.subject) return { descriptor, referrersIndexedByStore: false };
    if (response.headers.get('oci-subject')) {
      this.referrersApi = 'supported';
      return { descriptor, referrersIndexedByStore: true };
    }
    // Without OCI-Subject the distribution spec makes the client maintain the referrers tag schema; a registry
    // whose referrers API already lists the new manifest has indexed it anyway, and one that answers with an
    // empty list (it has the API but did not index this push) needs the tag index, or verifiers never see it.
    if (await this.listedByReferrersApi(fields.subject, descriptor.digest)) return { descriptor, referrersIndexedByStore: true };
    await this.addToReferrersTagIndex(fields.subject, referrerDescriptor(descriptor, fields));
    return { descriptor, referrersIndexedByStore: false };
  }

  /**
   * PUTs a manifest. A blob it references that another client is still committing (concurrent pushes of
   * the same config blob) can make the registry refuse it for a moment: such refusals are retried briefly, and so is
   * a 400 whose error body did not arrive intact (it may have been one of them; a PUT by digest is idempotent).
   */
  private async putManifest(ref: string, bytes: Uint8Array, mediaType: string, what: string): Promise<Response> {
    const attempts = 4;
    for (let attempt = 1; ; attempt++) {
      const response = await this.send('PUT', this.manifestUrl(ref), { 'content-type': mediaType }, PULL_PUSH, bytes);
      if (response.status === 201 || response.status === 200) {
        await discardBody(response);
        return response;
      }
      const error = await this.unexpected(response, `push of ${what}`);
      const race = BLOB_RACE_CODES.has(error.code ?? '') || (error.status === 400 && error.code === undefined);
      if (attempt >= attempts || !race) throw error;
      await sleep(backoffDelay(attempt, this.options.referrersIndex?.baseDelayMs ?? 20, 500));
    }
  }

  /** Whether the referrers API lists `digest` among the referrers of `subject` (false without the API). */
  private async listedByReferrersApi(subject: Descriptor, digest: string): Promise<boolean> {
    if (this.referrersApi === 'unsupported') return false;
    const listed = await this.referrersFromApi(subject.digest);
    if (!listed) {
      this.referrersApi = 'unsupported';
      return false;
    }
    this.referrersApi = 'supported';
    return listed.some((referrer) => referrer.digest === digest);
  }

  async referrers(subject: Pick<Descriptor, 'digest'>, artifactType?: string): Promise<Descriptor[]> {
    parseDigest(subject.digest);
    const fromTagIndex = async () => {
      const { index } = await this.readReferrersTagIndex(referrersTag(subject.digest), PULL);
      return filterByArtifactType(index.manifests, artifactType);
    };
    if (this.referrersApi === 'unsupported') return fromTagIndex();
    // While it is not known whether the registry has the referrers API, the tag index is read at the same time as
    // the API is probed: one round trip either way, for one request that may go unused.
    const tagIndex = this.referrersApi === 'auto' ? fromTagIndex() : undefined;
    tagIndex?.catch(() => undefined);
    const listed = await this.referrersFromApi(subject.digest, artifactType);
    // An empty list may come from a registry that has the API but did not index a push (no OCI-Subject), whose
    // clients then kept the tag schema index: read it too, which costs a request only when nothing was listed.
    if (listed && listed.length > 0) {
      this.referrersApi = 'supported';
      return listed;
    }
    this.referrersApi = listed ? 'supported' : 'unsupported';
    return tagIndex ?? fromTagIndex();
  }

  /** Lists referrers with the referrers API; undefined when the registry does not have it. */
  private async referrersFromApi(digest: string, artifactType?: string): Promise<Descriptor[] | undefined> {
    const what = `referrers of ${this.name}@${digest}`;
    const maxPages = this.options.maxReferrerPages ?? 100;
    let url: string | undefined = `${this.repositoryUrl()}/referrers/${digest}`;
    if (artifactType) url += `?artifactType=${encodeURIComponent(artifactType)}`;
    const listed: Descriptor[] = [];
    for (let page = 0; url; page++) {
      if (page >= maxPages) {
        throw new RegistryError(`registry ${this.options.registry} returned more than ${maxPages} pages of ${what}`, this.options.registry);
      }
      const response: Response = await this.send('GET', url, { accept: MediaType.OCI_INDEX }, PULL);
      if (response.status === 404 && page === 0) {
        const error = await this.unexpected(response, `repository ${this.name}`);
        if (error.code === 'NAME_UNKNOWN') throw error;
        return undefined;
      }
      if (!response.ok) throw await this.unexpected(response, what);
      if (baseMediaType(response.headers.get('content-type')) !== MediaType.OCI_INDEX) {
        await discardBody(response);
        if (page === 0) return undefined;
        throw new RegistryError(`registry ${this.options.registry} answered page ${page + 1} of ${what} with another content type`, this.options.registry);
      }
      const bytes = await readBodyLimited(response, DEFAULT_LIMITS.manifestBytes, what);
      const index = parseImageIndex(bytes, what);
      const filtersApplied = [
        response.headers.get('oci-filters-applied') ?? '',
        index.annotations?.['org.opencontainers.referrers.filtersApplied'] ?? '',
      ].some((value) => value.split(',').map((s) => s.trim()).includes('artifactType'));
      listed.push(...(filtersApplied ? index.manifests : filterByArtifactType(index.manifests, artifactType)));
      url = nextLink(response.headers.get('link'), url);
      if (url && new URL(url).origin !== new URL(this.baseUrl).origin) {
        throw new RegistryError(`registry ${this.options.registry} linked the next page of ${what} to another host`, this.options.registry);
      }
    }
    return listed;
  }

  /**
   * Adds `entry` to the referrers tag schema index of `subject` (read-modify-write). The distribution API
   * has no compare-and-swap, so after writing it waits for writers that read the old index to finish,
   * re-reads the tag, and starts over if the entry was overwritten: concurrent pushes lose no entry.
   */
  private async addToReferrersTagIndex(subject: Descriptor, entry: Descriptor): Promise<void> {
    const settings = { attempts: 30, settleMs: 50, baseDelayMs: 20, ...this.options.referrersIndex };
    const tag = referrersTag(subject.digest);
    let lastError: unknown;
    // After a write whose answer was lost, the entry found in the index may be that write: it must settle too.
    let wroteBlind = false;
    for (let attempt = 0; attempt < settings.attempts; attempt++) {
      try {
        if (await this.tryAddToReferrersTagIndex(tag, entry, settings.settleMs, wroteBlind)) return;
      } catch (error) {
        // Concurrent tag writes can make a registry answer 5xx, and a write may be refused (429) or its answer
        // lost: start over from a fresh read rather than replaying a write based on an old one.
        const transient = error instanceof RequestFailedError
          || (error instanceof RegistryError && ((error.status ?? 0) >= 500 || error.status === 429));
        if (!transient) throw error;
        wroteBlind = true;
        lastError = error;
      }
      await sleep(backoffDelay(attempt, settings.baseDelayMs, 1000));
    }
    throw new RegistryError(
      `could not add referrer ${entry.digest} to the referrers tag index ${this.name}:${tag} in ${settings.attempts} attempts: concurrent writers kept replacing it`,
      this.options.registry,
      undefined,
      undefined,
      { cause: lastError },
    );
  }

  /**
   * One read-modify-write of the tag index; true when the entry is (still) there afterwards. An entry found
   * at once is kept without waiting, unless `settleFound` (it may come from this client's own earlier write).
   */
  private async tryAddToReferrersTagIndex(tag: string, entry: Descriptor, settleMs: number, settleFound: boolean): Promise<boolean> {
    const started = Date.now();
    const { index, digest } = await this.readReferrersTagIndex(tag, PULL_PUSH);
    if (containsReferrer(index, entry.digest)) {
      if (!settleFound) return true;
      return this.settledContains(tag, entry, settleMs, started);
    }
    const bytes = jsonBytes(withReferrer(index, entry));
    // No compare-and-swap in the distribution API: re-read just before writing to narrow the race window.
    if ((await this.readReferrersTagIndex(tag, PULL_PUSH)).digest !== digest) return false;
    // Never retried as is: a replay could land after another writer's update and drop its entry.
    const response = await this.send('PUT', this.manifestUrl(tag), { 'content-type': MediaType.OCI_INDEX }, PULL_PUSH, bytes, { retries: 0 });
    if (response.status !== 201 && response.status !== 200) {
      throw await this.unexpected(response, `referrers tag index ${this.name}:${tag}`);
    }
    await discardBody(response);
    return this.settledContains(tag, entry, settleMs, started);
  }

  /** Writers that read the index before our write may still overwrite it: waits for them, then checks. */
  private async settledContains(tag: string, entry: Descriptor, settleMs: number, started: number): Promise<boolean> {
    const settle = Math.max(settleMs, 3 * (Date.now() - started));
    await sleep(settle * (1 + Math.random()));
    const { index: after } = await this.readReferrersTagIndex(tag, PULL_PUSH);
    return containsReferrer(after, entry.digest);
  }

  private async readReferrersTagIndex(tag: string, actions: AccessScope['actions']): Promise<{ index: ImageIndex; digest?: string }> {
    const what = `referrers tag index ${this.name}:${tag}`;
    return this.readWithRetry(async () => {
      const response = await this.send('GET', this.manifestUrl(tag), { accept: `${MediaType.OCI_INDEX}, ${MANIFEST_ACCEPT}` }, actions);
      if (response.status === 404) {
        await discardBody(response);
        return { index: emptyReferrersIndex() };
      }
      if (!response.ok) throw await this.unexpected(response, what);
      const { bytes, descriptor } = await this.readManifestResponse(response, tag, what, DEFAULT_LIMITS.manifestBytes);
      // Some registries (GitLab) read `sha256-<hex>` as the digest it spells and answer with the subject itself:
      // such a registry cannot keep a referrers tag index, and writing one again and again would not help.
      if (descriptor.digest === tag.replace('-', ':')) {
        throw new RegistryError(
          `registry ${this.options.registry} answers the referrers tag ${this.name}:${tag} with the manifest ${descriptor.digest} itself, ` +
            'so it can keep neither a referrers tag index nor, without a referrers API, signatures',
          this.options.registry,
        );
      }
      return { index: parseImageIndex(bytes, what), digest: descriptor.digest };
    });
  }

  /**
   * Runs a GET and the reading of its body again when the body broke off or was not the bytes its digest
   * says (damaged on the way), up to the configured number of retries; other errors are thrown at once.
   */
  private async readWithRetry<T>(read: () => Promise<T>, alsoRetry: (error: unknown) => boolean = () => false): Promise<T> {
    const http = this.options.http ?? {};
    const retries = Math.min(Math.max(0, http.retries ?? 3), 10);
    for (let attempt = 0; ; attempt++) {
      try {
        return await read();
      } catch (error) {
        const damaged = error instanceof ResponseBodyError || error instanceof DigestMismatchError || alsoRetry(error);
        if (!damaged || attempt >= retries) throw error;
      }
      await sleep(backoffDelay(attempt, http.baseDelayMs ?? 200, http.maxDelayMs ?? 5000));
    }
  }

  /**
   * Reads a manifest answer: at most `maxBytes`, checked against its digest, and refused unless it is a
   * manifest or an index of a known media type whose JSON has the required shape (not an HTML page, not
   * arbitrary JSON).
   */
  private async readManifestResponse(response: Response, ref: string, what: string, maxBytes: number): Promise<FetchedContent> {
    const bytes = await readBodyLimited(response, maxBytes, what);
    let digest: string;
    if (isDigest(ref)) {
      verifyDigest(bytes, ref, what);
      digest = ref;
    } else {
      const announced = response.headers.get('docker-content-digest');
      if (announced && isValidDigest(announced)) {
        verifyDigest(bytes, announced, what);
        digest = announced;
      } else {
        digest = sha256Digest(bytes);
      }
    }
    const contentType = baseMediaType(response.headers.get('content-type'));
    const mediaType = MANIFEST_MEDIA_TYPES.includes(contentType) ? contentType : declaredMediaType(bytes) ?? contentType;
    if (!mediaType) throw new InvalidContentError(what, 'neither a Content-Type nor a mediaType field says what it is');
    if (!MANIFEST_MEDIA_TYPES.includes(mediaType)) {
      throw new InvalidContentError(what, `registry ${this.options.registry} answered with ${JSON.stringify(mediaType.slice(0, 100))}, not a manifest`);
    }
    if (isIndexMediaType(mediaType)) parseImageIndex(bytes, what);
    else parseImageManifest(bytes, what);
    return { descriptor: { mediaType, digest, size: bytes.byteLength }, bytes };
  }

  private send(
    method: string,
    url: string,
    headers: Record<string, string>,
    actions: AccessScope['actions'],
    body?: Uint8Array,
    http?: HttpOptions,
  ): Promise<Response> {
    const init: RequestInit = { method, headers, body: body as unknown as RequestInit['body'] };
    return this.auth.send(url, init, { repository: this.options.repository, actions }, http);
  }

  /** The error for an unexpected answer, with the client's own secrets stripped from the registry's text. */
  private unexpected(response: Response, what: string): Promise<RegistryError> {
    return unexpectedResponse(response, this.options.registry, what, (text) => this.auth.redact(text));
  }

  private checkTagOrDigest(tagOrDigest: string): string {
    if (isValidTag(tagOrDigest)) return tagOrDigest;
    try {
      parseDigest(tagOrDigest);
      return tagOrDigest;
    } catch (error) {
      throw new InvalidReferenceError(`${this.name}:${tagOrDigest}`, `"${tagOrDigest}" is neither a tag nor a digest (${(error as Error).message})`);
    }
  }

  private display(ref: string): string {
    return isDigest(ref) ? `${this.name}@${ref}` : `${this.name}:${ref}`;
  }

  private repositoryUrl(): string {
    return `${this.baseUrl}/v2/${this.options.repository}`;
  }

  private manifestUrl(ref: string): string {
    return `${this.repositoryUrl()}/manifests/${ref}`;
  }

  private blobUrl(digest: string): string {
    return `${this.repositoryUrl()}/blobs/${digest}`;
  }
}

function isDigest(ref: string): boolean {
  return ref.includes(':');
}

/** `application/json; charset=utf-8` → `application/json` */
function baseMediaType(contentType: string | null): string {
  return (contentType ?? '').split(';')[0].trim().toLowerCase();
}
