import { Descriptor, FetchedContent } from './types';

/** Default upper bounds on what is read from a store. */
export const DEFAULT_LIMITS = {
  /** Image and signature manifests, indexes. */
  manifestBytes: 4 * 1024 * 1024,
  /** Notary signature envelopes. */
  envelopeBytes: 64 * 1024,
} as const;

export interface FetchOptions {
  /** Refuse content larger than this many bytes, without buffering it all. */
  readonly maxBytes?: number;
}

export interface PushBlobOptions {
  /**
   * The bytes were just made (a new signature envelope) and the store cannot hold them yet: upload without
   * asking first, which saves a round trip. Uploading a blob the store holds is harmless. @default false
   */
  readonly fresh?: boolean;
}

export interface PushManifestResult {
  readonly descriptor: Descriptor;
  /**
   * True when the store indexes referrers by itself (a registry answered with `OCI-Subject`, or an
   * OCI layout, which is scanned). When false, the caller's referrer was added to the tag schema index.
   */
  readonly referrersIndexedByStore: boolean;
}

/**
 * One repository of content-addressed OCI content: a repository on a distribution registry, or an
 * OCI image layout directory. Every command works on either through this interface.
 */
export interface OciRepository {
  /** A display name used in messages, e.g. `127.0.0.1:5000/app` or `/tmp/layout`. */
  readonly name: string;
  /**
   * Resolves a tag or a digest to the manifest's descriptor (mediaType, digest, size).
   * A digest reference is checked against the bytes the store holds.
   */
  resolve(tagOrDigest: string): Promise<Descriptor>;
  /** Fetches a manifest or index by tag or digest; the bytes are checked against the digest. */
  fetchManifest(tagOrDigest: string, options?: FetchOptions): Promise<FetchedContent>;
  /** Fetches a blob; the bytes are checked against the descriptor's digest and size. */
  fetchBlob(descriptor: Descriptor, options?: FetchOptions): Promise<Uint8Array>;
  /** Pushes a blob unless the store already holds it. */
  pushBlob(bytes: Uint8Array, mediaType: string, options?: PushBlobOptions): Promise<Descriptor>;
  /**
   * Pushes a manifest by digest (or under `tag`). When the manifest has a `subject` and the store
   * does not index referrers itself, the referrers tag schema index is updated (read-modify-write,
   * retried so that concurrent pushes lose no entry).
   */
  pushManifest(bytes: Uint8Array, mediaType: string, tag?: string): Promise<PushManifestResult>;
  /** Lists the manifests whose `subject` is `subject` (by digest), filtered by artifactType when given. */
  referrers(subject: Pick<Descriptor, 'digest'>, artifactType?: string): Promise<Descriptor[]>;
  /** Whether the store holds the blob `digest`; false when it does not (or cannot say, so pushing is harmless). */
  hasBlob(digest: string): Promise<boolean>;
  /** Whether the store holds the manifest `digest` (for an OCI layout: listed in its index.json). */
  hasManifest(digest: string): Promise<boolean>;
  /**
   * Makes the blob of `from` (another repository of the same store) part of this repository without moving its
   * bytes; false when this store cannot, and the caller uploads it instead. Stores that never can omit it.
   */
  mountBlob?(blob: Descriptor, from: OciRepository): Promise<boolean>;
}
