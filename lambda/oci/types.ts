/** An OCI content descriptor. */
export interface Descriptor {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
  readonly artifactType?: string;
  readonly annotations?: Record<string, string>;
  readonly data?: string;
  readonly urls?: string[];
  readonly platform?: Record<string, unknown>;
}

/** An OCI image manifest (also the shape of a Docker v2 schema 2 manifest). */
export interface ImageManifest {
  readonly schemaVersion: 2;
  readonly mediaType?: string;
  readonly artifactType?: string;
  readonly config: Descriptor;
  readonly layers: Descriptor[];
  readonly subject?: Descriptor;
  readonly annotations?: Record<string, string>;
}

/** An OCI image index (also the referrers API response and the referrers tag schema index). */
export interface ImageIndex {
  readonly schemaVersion: 2;
  readonly mediaType?: string;
  readonly artifactType?: string;
  readonly manifests: Descriptor[];
  readonly subject?: Descriptor;
  readonly annotations?: Record<string, string>;
}

/** Bytes read from a store, with the descriptor they were checked against. */
export interface FetchedContent {
  readonly descriptor: Descriptor;
  readonly bytes: Uint8Array;
}
