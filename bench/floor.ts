/**
 * The floors: what a verification or a signature costs at least, written with nothing but `fetch`,
 * `node:fs` and `node:crypto`. They make the same requests (or file reads) as the library, hash what they
 * read, validate the same certificate chain with X509Certificate.verify and check the one signature with
 * crypto.verify (or sign with crypto.sign), and skip everything else the library does: input validation,
 * error classification, retries and timeouts, limits, the trust policy engine and the result records.
 */
import { createHash, KeyObject, sign as cryptoSign, verify as cryptoVerify, X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EMPTY_JSON_DIGEST, MANIFEST_MEDIA_TYPES, MediaType } from '../lambda/oci/media-types';

const MANIFEST_ACCEPT = MANIFEST_MEDIA_TYPES.join(', ');
const HASHES: Readonly<Record<string, string>> = { ES256: 'sha256', ES384: 'sha384', ES512: 'sha512' };

interface Target {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
}

interface IndexEntry {
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
  readonly artifactType?: string;
}

const sha256 = (bytes: Uint8Array): string => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

function checkDigest(bytes: Uint8Array, digest: string): void {
  if (sha256(bytes) !== digest) throw new Error(`floor: content does not match ${digest}`);
}

async function body(response: Response): Promise<Buffer> {
  return Buffer.from(await response.arrayBuffer());
}

async function get(url: string, accept?: string): Promise<Response> {
  const response = await fetch(url, accept ? { headers: { accept } } : undefined);
  if (!response.ok) throw new Error(`floor: GET ${url} answered ${response.status}`);
  return response;
}

/** Parsed certificates, by their base64 (the library caches parsed certificates by content too). */
const certificates = new Map<string, X509Certificate>();

function certificate(base64: string): X509Certificate {
  let parsed = certificates.get(base64);
  if (!parsed) {
    parsed = new X509Certificate(Buffer.from(base64, 'base64'));
    certificates.set(base64, parsed);
  }
  return parsed;
}

/**
 * One signature check of a JWS envelope: the chain (each certificate signed by the next, the root by
 * itself), a trusted certificate in it, the signature over `protected.payload`, and the signed target.
 */
export function checkEnvelope(envelope: Uint8Array, target: Target, anchors: readonly Buffer[]): boolean {
  const jws = JSON.parse(Buffer.from(envelope).toString('utf8')) as { payload: string; protected: string; signature: string; header: { x5c: string[] } };
  const chain = jws.header.x5c.map(certificate);
  for (let i = 0; i < chain.length - 1; i++) {
    if (!chain[i].verify(chain[i + 1].publicKey)) return false;
  }
  const root = chain[chain.length - 1];
  if (!root.verify(root.publicKey)) return false;
  if (!chain.some((c) => anchors.some((anchor) => anchor.equals(c.raw)))) return false;
  const header = JSON.parse(Buffer.from(jws.protected, 'base64url').toString('utf8')) as { alg: string };
  const signed = cryptoVerify(
    HASHES[header.alg],
    Buffer.from(`${jws.protected}.${jws.payload}`),
    { key: chain[0].publicKey, dsaEncoding: 'ieee-p1363' },
    Buffer.from(jws.signature, 'base64url'),
  );
  if (!signed) return false;
  const payload = JSON.parse(Buffer.from(jws.payload, 'base64url').toString('utf8')) as { targetArtifact: Target };
  const signedTarget = payload.targetArtifact;
  return signedTarget.digest === target.digest && signedTarget.size === target.size && signedTarget.mediaType === target.mediaType;
}

function notarySignatures(manifests: readonly IndexEntry[]): IndexEntry[] {
  return manifests.filter((entry) => entry.artifactType === MediaType.NOTARY_SIGNATURE);
}

/** The manifest of `digest` with its descriptor, read and hashed. */
async function readTarget(repositoryUrl: string, digest: string): Promise<Target> {
  const manifestResponse = await get(`${repositoryUrl}/manifests/${digest}`, MANIFEST_ACCEPT);
  const manifest = await body(manifestResponse);
  checkDigest(manifest, digest);
  return { mediaType: (manifestResponse.headers.get('content-type') ?? '').split(';')[0], digest, size: manifest.byteLength };
}

/**
 * The referrers of `digest`: the referrers API and the tag schema index asked at once (a client that has not
 * learnt whether the registry has the API), the API's answer when it lists something.
 */
async function listReferrers(repositoryUrl: string, digest: string): Promise<IndexEntry[]> {
  const [listing, tagIndex] = await Promise.all([
    fetch(`${repositoryUrl}/referrers/${digest}?artifactType=${encodeURIComponent(MediaType.NOTARY_SIGNATURE)}`, { headers: { accept: MediaType.OCI_INDEX } }),
    readTagIndex(`${repositoryUrl}/manifests/${digest.replace(':', '-')}`),
  ]);
  const listed = await body(listing);
  const fromApi = listing.status === 404 ? [] : (JSON.parse(listed.toString('utf8')) as { manifests: IndexEntry[] }).manifests;
  return fromApi.length > 0 ? fromApi : tagIndex.manifests;
}

/**
 * Verifies `repository@digest` on a registry: the manifest, the referrers API and the tag schema index at once,
 * then each signature manifest and envelope until one verifies.
 */
export async function floorVerifyRegistry(baseUrl: string, repository: string, digest: string, anchors: readonly Buffer[]): Promise<boolean> {
  const repositoryUrl = `${baseUrl}/v2/${repository}`;
  const [target, referrers] = await Promise.all([readTarget(repositoryUrl, digest), listReferrers(repositoryUrl, digest)]);
  for (const signature of notarySignatures(referrers)) {
    const signatureManifest = await body(await get(`${repositoryUrl}/manifests/${signature.digest}`, MANIFEST_ACCEPT));
    checkDigest(signatureManifest, signature.digest);
    const layer = (JSON.parse(signatureManifest.toString('utf8')) as { layers: IndexEntry[] }).layers[0];
    const envelope = await body(await get(`${repositoryUrl}/blobs/${layer.digest}`));
    checkDigest(envelope, layer.digest);
    if (checkEnvelope(envelope, target, anchors)) return true;
  }
  return false;
}

/**
 * Verifies `digest` in an OCI layout with the same file reads as the library: index.json and the
 * manifest, index.json again and every listed manifest (the referrers scan), then the signature
 * manifest and its envelope.
 */
export async function floorVerifyLayout(directory: string, digest: string, anchors: readonly Buffer[]): Promise<boolean> {
  const blob = (d: string) => join(directory, 'blobs', 'sha256', d.slice('sha256:'.length));
  const indexPath = join(directory, 'index.json');
  const readIndex = async () => JSON.parse((await readFile(indexPath)).toString('utf8')) as { manifests: IndexEntry[] };

  const listed = (await readIndex()).manifests.find((entry) => entry.digest === digest);
  const manifest = await readFile(blob(digest));
  checkDigest(manifest, digest);
  const target: Target = { mediaType: listed?.mediaType ?? MediaType.OCI_MANIFEST, digest, size: manifest.byteLength };

  const signatures: IndexEntry[] = [];
  for (const entry of (await readIndex()).manifests) {
    const bytes = await readFile(blob(entry.digest));
    checkDigest(bytes, entry.digest);
    const parsed = JSON.parse(bytes.toString('utf8')) as { subject?: { digest: string }; artifactType?: string };
    if (parsed.subject?.digest === digest && parsed.artifactType === MediaType.NOTARY_SIGNATURE) signatures.push(entry);
  }
  for (const signature of signatures) {
    const signatureManifest = await readFile(blob(signature.digest));
    checkDigest(signatureManifest, signature.digest);
    const layer = (JSON.parse(signatureManifest.toString('utf8')) as { layers: IndexEntry[] }).layers[0];
    const envelope = await readFile(blob(layer.digest));
    checkDigest(envelope, layer.digest);
    if (checkEnvelope(envelope, target, anchors)) return true;
  }
  return false;
}

export interface FloorSigner {
  readonly key: KeyObject;
  /** DER certificates, leaf first. */
  readonly chain: readonly Uint8Array[];
}

/** A JWS envelope over the Notary payload of `target` (EC P-256 key, notary.x509 scheme). */
function buildEnvelope(target: Target, signer: FloorSigner): Buffer {
  const payload = Buffer.from(JSON.stringify({ targetArtifact: { digest: target.digest, mediaType: target.mediaType, size: target.size } })).toString('base64url');
  const headers = {
    'alg': 'ES256',
    'crit': ['io.cncf.notary.signingScheme'],
    'cty': MediaType.NOTARY_PAYLOAD,
    'io.cncf.notary.signingScheme': 'notary.x509',
    'io.cncf.notary.signingTime': new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
  };
  const protectedHeader = Buffer.from(JSON.stringify(headers)).toString('base64url');
  const signature = cryptoSign('sha256', Buffer.from(`${protectedHeader}.${payload}`), { key: signer.key, dsaEncoding: 'ieee-p1363' });
  return Buffer.from(
    JSON.stringify({
      payload,
      protected: protectedHeader,
      header: { 'x5c': signer.chain.map((der) => Buffer.from(der).toString('base64')), 'io.cncf.notary.signingAgent': 'floor' },
      signature: signature.toString('base64url'),
    }),
  );
}

/** HEAD (unless the bytes are `fresh`), then (when absent) POST + PUT of a monolithic upload. */
async function uploadBlob(repositoryUrl: string, bytes: Buffer, fresh = false): Promise<string> {
  const digest = sha256(bytes);
  if (!fresh && (await fetch(`${repositoryUrl}/blobs/${digest}`, { method: 'HEAD' })).ok) return digest;
  const started = await fetch(`${repositoryUrl}/blobs/uploads/`, { method: 'POST', headers: { 'content-length': '0' } });
  await body(started);
  const location = new URL(started.headers.get('location') ?? '', `${repositoryUrl}/blobs/uploads/`);
  location.searchParams.set('digest', digest);
  const finished = await fetch(location, { method: 'PUT', headers: { 'content-type': 'application/octet-stream' }, body: bytes as unknown as BodyInit });
  await body(finished);
  if (finished.status !== 201) throw new Error(`floor: blob upload answered ${finished.status}`);
  return digest;
}

async function readTagIndex(url: string): Promise<{ manifests: IndexEntry[] }> {
  const response = await fetch(url, { headers: { accept: `${MediaType.OCI_INDEX}, ${MANIFEST_ACCEPT}` } });
  const bytes = await body(response);
  return response.status === 404 ? { manifests: [] } : JSON.parse(bytes.toString('utf8'));
}

/**
 * Signs `repository@digest` with the library's requests: the manifest and the signature listing (referrers
 * API and tag schema index) at once, the envelope and config uploads at once, the signature manifest, and on a
 * registry without the referrers API the tag schema index update (read, read again, write, read back;
 * without the library's settle wait between the write and the read back).
 */
export async function floorSignRegistry(baseUrl: string, repository: string, digest: string, signer: FloorSigner): Promise<string> {
  const repositoryUrl = `${baseUrl}/v2/${repository}`;
  const [target] = await Promise.all([readTarget(repositoryUrl, digest), listReferrers(repositoryUrl, digest)]);
  const tagIndexUrl = `${repositoryUrl}/manifests/${digest.replace(':', '-')}`;

  const envelope = buildEnvelope(target, signer);
  const [envelopeDigest] = await Promise.all([uploadBlob(repositoryUrl, envelope, true), uploadBlob(repositoryUrl, Buffer.from('{}'))]);
  const signatureManifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.OCI_MANIFEST,
      artifactType: MediaType.NOTARY_SIGNATURE,
      config: { mediaType: MediaType.OCI_EMPTY, digest: EMPTY_JSON_DIGEST, size: 2, data: 'e30=' },
      layers: [{ mediaType: MediaType.JWS, digest: envelopeDigest, size: envelope.byteLength }],
      subject: target,
      annotations: {
        'io.cncf.notary.x509chain.thumbprint#S256': JSON.stringify(signer.chain.map((der) => createHash('sha256').update(der).digest('hex'))),
        'org.opencontainers.image.created': new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
      },
    }),
  );
  const signatureDigest = sha256(signatureManifest);
  const pushed = await fetch(`${repositoryUrl}/manifests/${signatureDigest}`, {
    method: 'PUT',
    headers: { 'content-type': MediaType.OCI_MANIFEST },
    body: signatureManifest as unknown as BodyInit,
  });
  await body(pushed);
  if (pushed.status !== 201) throw new Error(`floor: signature manifest push answered ${pushed.status}`);

  if (!pushed.headers.get('oci-subject')) {
    const index = await readTagIndex(tagIndexUrl);
    await readTagIndex(tagIndexUrl);
    const entry = {
      mediaType: MediaType.OCI_MANIFEST,
      digest: signatureDigest,
      size: signatureManifest.byteLength,
      artifactType: MediaType.NOTARY_SIGNATURE,
    };
    const updated = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.OCI_INDEX, manifests: [...index.manifests, entry] }));
    const written = await fetch(tagIndexUrl, { method: 'PUT', headers: { 'content-type': MediaType.OCI_INDEX }, body: updated as unknown as BodyInit });
    await body(written);
    await readTagIndex(tagIndexUrl);
  }
  return signatureDigest;
}

/** `METHOD /path` of every request `run` sends through the global fetch (digests and upload session ids elided). */
export async function recordRequests(run: () => Promise<unknown>): Promise<string[]> {
  const original = globalThis.fetch;
  const seen: string[] = [];
  globalThis.fetch = ((input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    const method = init?.method ?? (input instanceof Request ? input.method : 'GET');
    const path = url.pathname
      .replace(/\/uploads\/[^/]+$/, '/uploads/<id>')
      .replace(/sha256:[a-f0-9]{64}/g, '<digest>')
      .replace(/sha256-[a-f0-9]{64}/g, '<tag schema index>');
    seen.push(`${method} ${path}`);
    return original(input, init);
  }) as typeof fetch;
  try {
    await run();
  } finally {
    globalThis.fetch = original;
  }
  return seen;
}
