import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { declaredMediaType, jsonBytes, parseImageIndex, parseJsonObject, parseReferrerFields } from './content';
import { parseDigest, sha256Digest, verifyDigest } from './digest';
import { ContentTooLargeError, InvalidContentError, InvalidReferenceError, NotFoundError } from './errors';
import { MANIFEST_MEDIA_TYPES, MediaType } from './media-types';
import { isValidTag } from './reference';
import { filterByArtifactType, referrerDescriptor } from './referrers';
import { DEFAULT_LIMITS, FetchOptions, OciRepository, PushManifestResult } from './repository';
import { Descriptor, FetchedContent, ImageIndex } from './types';

/** The annotation that names a tag in an OCI layout's index.json. */
export const REF_NAME_ANNOTATION = 'org.opencontainers.image.ref.name';
const LAYOUT_FILE = 'oci-layout';
const INDEX_FILE = 'index.json';
const LAYOUT_VERSION = '1.0.0';
/** index.json is read whole: bound it like an index from a registry. */
const MAX_INDEX_BYTES = DEFAULT_LIMITS.manifestBytes;

/**
 * An OCI image layout directory (`oci-layout`, `index.json`, `blobs/<alg>/<hex>`) as a repository.
 * Tags are `org.opencontainers.image.ref.name` annotations in index.json; every pushed manifest is listed
 * there, so referrers are found by scanning it for manifests whose `subject` matches.
 * Writes are atomic (temp file + rename) and serialised within this instance.
 */
export class OciLayoutRepository implements OciRepository {
  readonly name: string;
  private indexUpdates: Promise<unknown> = Promise.resolve();

  constructor(readonly directory: string) {
    this.name = directory;
  }

  async resolve(tagOrDigest: string): Promise<Descriptor> {
    return (await this.fetchManifest(tagOrDigest)).descriptor;
  }

  async fetchManifest(tagOrDigest: string, options: FetchOptions = {}): Promise<FetchedContent> {
    const maxBytes = options.maxBytes ?? DEFAULT_LIMITS.manifestBytes;
    const what = `manifest ${this.display(tagOrDigest)}`;
    let listed: Descriptor | undefined;
    let digest: string;
    if (isValidTag(tagOrDigest)) {
      const index = await this.readIndex();
      listed = [...index.manifests].reverse().find((entry) => entry.annotations?.[REF_NAME_ANNOTATION] === tagOrDigest);
      if (!listed) throw new NotFoundError(`${what} was not found: no tag "${tagOrDigest}" in ${join(this.directory, INDEX_FILE)}`, this.directory);
      digest = listed.digest;
      if (listed.size > maxBytes) throw new ContentTooLargeError(what, maxBytes, listed.size);
    } else {
      digest = this.checkDigest(tagOrDigest);
    }
    const bytes = await this.readBlobFile(digest, maxBytes, what);
    verifyDigest(bytes, digest, what);
    // By digest, the content is its own proof; index.json is read only for a manifest that does not declare its type.
    const declared = declaredMediaType(bytes);
    if (!listed && !declared) listed = (await this.readIndex()).manifests.find((entry) => entry.digest === digest);
    if (listed && listed.size !== bytes.byteLength) {
      throw new InvalidContentError(what, `index.json says ${listed.size} bytes, the blob has ${bytes.byteLength}`);
    }
    const mediaType = listed?.mediaType ?? declared;
    if (!mediaType) throw new InvalidContentError(what, 'it has no mediaType field and index.json does not list it');
    return { descriptor: { mediaType, digest, size: bytes.byteLength }, bytes };
  }

  async fetchBlob(descriptor: Descriptor, options: FetchOptions = {}): Promise<Uint8Array> {
    const what = `blob ${this.directory}@${descriptor.digest}`;
    this.checkDigest(descriptor.digest);
    const limit = Math.min(descriptor.size, options.maxBytes ?? Number.POSITIVE_INFINITY);
    if (descriptor.size > limit) throw new ContentTooLargeError(what, limit, descriptor.size);
    const bytes = await this.readBlobFile(descriptor.digest, limit, what);
    if (bytes.byteLength !== descriptor.size) {
      throw new InvalidContentError(what, `expected ${descriptor.size} bytes, the file has ${bytes.byteLength}`);
    }
    verifyDigest(bytes, descriptor.digest, what);
    return bytes;
  }

  async pushBlob(bytes: Uint8Array, mediaType: string): Promise<Descriptor> {
    const digest = sha256Digest(bytes);
    await this.ensureLayout();
    await this.writeBlobFile(digest, bytes);
    return { mediaType, digest, size: bytes.byteLength };
  }

  async pushManifest(bytes: Uint8Array, mediaType: string, tag?: string): Promise<PushManifestResult> {
    const digest = sha256Digest(bytes);
    if (tag !== undefined && !isValidTag(tag)) {
      throw new InvalidReferenceError(`${this.directory}:${tag}`, `invalid tag "${tag}"`);
    }
    const fields = parseReferrerFields(bytes, mediaType, `manifest ${this.display(tag ?? digest)}`);
    await this.ensureLayout();
    await this.writeBlobFile(digest, bytes);
    const entry: Descriptor = {
      mediaType,
      digest,
      size: bytes.byteLength,
      ...(fields.artifactType ? { artifactType: fields.artifactType } : {}),
      ...(tag ? { annotations: { [REF_NAME_ANNOTATION]: tag } } : {}),
    };
    await this.updateIndex((index) => {
      const kept = index.manifests.filter((existing) => {
        const existingTag = existing.annotations?.[REF_NAME_ANNOTATION];
        // A tag moves to the new manifest; an untagged entry of the same digest is replaced by this one.
        if (tag) return existingTag !== tag && !(existing.digest === digest && !existingTag);
        return existing.digest !== digest;
      });
      const alreadyListed = !tag && index.manifests.some((existing) => existing.digest === digest);
      return { ...index, manifests: alreadyListed ? index.manifests : [...kept, entry] };
    });
    return { descriptor: { mediaType, digest, size: bytes.byteLength }, referrersIndexedByStore: true };
  }

  async referrers(subject: Pick<Descriptor, 'digest'>, artifactType?: string): Promise<Descriptor[]> {
    this.checkDigest(subject.digest);
    const index = await this.readIndex();
    const seen = new Set<string>();
    const found: Descriptor[] = [];
    for (const entry of index.manifests) {
      if (seen.has(entry.digest) || !MANIFEST_MEDIA_TYPES.includes(entry.mediaType)) continue;
      seen.add(entry.digest);
      const what = `manifest ${this.directory}@${entry.digest}`;
      let bytes: Uint8Array;
      try {
        bytes = await this.readBlobFile(entry.digest, DEFAULT_LIMITS.manifestBytes, what);
      } catch (error) {
        // A layout may list manifests whose blobs were not copied (e.g. another platform): skip them.
        if (error instanceof NotFoundError) continue;
        throw error;
      }
      verifyDigest(bytes, entry.digest, what);
      const fields = parseReferrerFields(bytes, entry.mediaType, what);
      if (fields.subject?.digest === subject.digest) {
        found.push(referrerDescriptor({ mediaType: entry.mediaType, digest: entry.digest, size: bytes.byteLength }, fields));
      }
    }
    return filterByArtifactType(found, artifactType);
  }

  async hasBlob(digest: string): Promise<boolean> {
    try {
      await fs.stat(this.blobPath(digest));
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw error;
    }
  }

  /** Listed in index.json (where referrers are found) and its blob present. */
  async hasManifest(digest: string): Promise<boolean> {
    this.checkDigest(digest);
    const listed = (await this.readIndex()).manifests.some((entry) => entry.digest === digest);
    return listed && (await this.hasBlob(digest));
  }

  /** The tags in index.json, in order. */
  async tags(): Promise<string[]> {
    const index = await this.readIndex();
    return index.manifests.flatMap((entry) => entry.annotations?.[REF_NAME_ANNOTATION] ?? []);
  }

  private async readIndex(): Promise<ImageIndex> {
    const path = join(this.directory, INDEX_FILE);
    let bytes: Uint8Array;
    try {
      bytes = await this.readFileLimited(path, MAX_INDEX_BYTES, `OCI layout index ${path}`);
    } catch (error) {
      if (error instanceof NotFoundError) return { schemaVersion: 2, manifests: [] };
      throw error;
    }
    return parseImageIndex(bytes, `OCI layout index ${path}`);
  }

  private updateIndex(change: (index: ImageIndex) => ImageIndex): Promise<void> {
    const update = this.indexUpdates.then(async () => {
      const next = change(await this.readIndex());
      const index = { ...next, schemaVersion: 2, mediaType: next.mediaType ?? MediaType.OCI_INDEX };
      await writeAtomically(join(this.directory, INDEX_FILE), jsonBytes(index));
    });
    this.indexUpdates = update.catch(() => undefined);
    return update;
  }

  private async ensureLayout(): Promise<void> {
    const path = join(this.directory, LAYOUT_FILE);
    try {
      const layout = parseJsonObject(await this.readFileLimited(path, 4096, `OCI layout marker ${path}`), path);
      if (layout.imageLayoutVersion !== LAYOUT_VERSION) {
        throw new InvalidContentError(path, `imageLayoutVersion ${JSON.stringify(layout.imageLayoutVersion)} is not ${LAYOUT_VERSION}`);
      }
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error;
      await fs.mkdir(this.directory, { recursive: true });
      await writeAtomically(path, jsonBytes({ imageLayoutVersion: LAYOUT_VERSION }));
    }
  }

  private blobPath(digest: string): string {
    const { algorithm, hex } = parseDigest(digest);
    return join(this.directory, 'blobs', algorithm, hex);
  }

  private async readBlobFile(digest: string, maxBytes: number, what: string): Promise<Uint8Array> {
    return this.readFileLimited(this.blobPath(digest), maxBytes, what);
  }

  private async writeBlobFile(digest: string, bytes: Uint8Array): Promise<void> {
    const path = this.blobPath(digest);
    try {
      const stat = await fs.stat(path);
      if (stat.size === bytes.byteLength) return;
    } catch {
      // absent: write it
    }
    await fs.mkdir(join(path, '..'), { recursive: true });
    await writeAtomically(path, bytes);
  }

  /** Reads a file, refusing it by its size before reading when it is over the limit. */
  private async readFileLimited(path: string, maxBytes: number, what: string): Promise<Uint8Array> {
    let handle: fs.FileHandle;
    try {
      handle = await fs.open(path, 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new NotFoundError(`${what} was not found: ${path} does not exist`, this.directory);
      }
      throw error;
    }
    try {
      const { size } = await handle.stat();
      if (size > maxBytes) throw new ContentTooLargeError(what, maxBytes, size);
      const bytes = new Uint8Array(size);
      let offset = 0;
      while (offset < size) {
        const { bytesRead } = await handle.read(bytes, offset, size - offset, offset);
        if (bytesRead === 0) break;
        offset += bytesRead;
      }
      return bytes.subarray(0, offset);
    } finally {
      await handle.close();
    }
  }

  private checkDigest(digest: string): string {
    try {
      parseDigest(digest);
      return digest;
    } catch (error) {
      throw new InvalidReferenceError(`${this.directory}@${digest}`, (error as Error).message);
    }
  }

  private display(tagOrDigest: string): string {
    return isValidTag(tagOrDigest) ? `${this.directory}:${tagOrDigest}` : `${this.directory}@${tagOrDigest}`;
  }
}

/** Writes to a temp file beside `path` and renames it over `path`, so readers never see a partial file. */
async function writeAtomically(path: string, bytes: Uint8Array): Promise<void> {
  const temp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    await fs.writeFile(temp, bytes, { flag: 'wx' });
    await fs.rename(temp, path);
  } catch (error) {
    await fs.rm(temp, { force: true });
    throw error;
  }
}
