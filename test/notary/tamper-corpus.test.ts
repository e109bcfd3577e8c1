/**
 * A tamper corpus: hundreds of mutations of one valid Notary signature, each stored as real content (an OCI
 * image layout holding the image and only the tampered signature, or a distribution registry) and verified
 * by verifyImage under a strict trust policy. No mutation verifies; each fails with a reason from the check
 * that caught it. The unmodified signature, stored the same way, verifies (the control).
 */
import 'reflect-metadata';
import { createHash, KeyObject, randomBytes, sign as cryptoSign } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';
import { algorithmForKey, signWith } from '../../lambda/notary/algorithms';
import { canonicalJson, encodeBase64, encodeBase64Url, utf8 } from '../../lambda/notary/encoding';
import { buildJwsEnvelope, Header } from '../../lambda/notary/jws';
import { buildPayload } from '../../lambda/notary/payload';
import { buildSignatureManifest } from '../../lambda/notary/signature-manifest';
import { ResultType, VerificationOutcome } from '../../lambda/notary/types';
import { verifyImage } from '../../lambda/notary/verify-image';
import { sha256Digest } from '../../lambda/oci/digest';
import { OciLayoutRepository } from '../../lambda/oci/layout-repository';
import { MediaType } from '../../lambda/oci/media-types';
import { RegistryRepository } from '../../lambda/oci/registry-repository';
import { OciRepository } from '../../lambda/oci/repository';
import { Descriptor } from '../../lambda/oci/types';
import { LocalKeySigner } from '../../lambda/signers/local-key';
import { parseTrustPolicy, TrustPolicyDocument } from '../../src/shared/trust-policy';
import { plainRegistry } from '../harness/env';
import { createRandomImage, pushImage, TestImage } from '../util/images';
import { createIntermediate, createLeaf, createRoot, TestCertificate } from '../util/pki';

const DAY = 86400_000;
const SUBJECT = 'CN=builder,O=Acme,L=Seattle,ST=WA,C=US';
const EMPTY_CONFIG = utf8('{}');

/** Where a tampered signature is expected to fail: a verification check, or no signature listed at all. */
type Category = ResultType | 'no-signature';

/** The content stored for one mutation: the envelope blob, and changes to the signature manifest. */
interface Tampered {
  readonly envelope: Uint8Array;
  /** The layer media type. @default application/jose+json */
  readonly layerMediaType?: string;
  /** Edits the signature manifest (a JSON object) before it is stored. */
  readonly manifest?: (manifest: Record<string, any>) => void;
}

interface Mutation {
  readonly group: string;
  readonly name: string;
  readonly expected: Category;
  /** The reason the verifier gives, when the case pins it down. */
  readonly reason?: RegExp;
  build(): Tampered;
}

interface Chain {
  readonly leaf: TestCertificate;
  readonly chain: Uint8Array[];
}

// ---------------------------------------------------------------------------------------------------
// Fixtures: keys and certificates are generated once; the original signature is made by LocalKeySigner.

const image: TestImage = createRandomImage();
const target: Descriptor = image.manifestDescriptor;
const originalPayload = buildPayload(target);

let root: TestCertificate;
let intermediate: TestCertificate;
let good: Chain;
let other: { root: TestCertificate; intermediate: TestCertificate; leaf: TestCertificate; chain: Uint8Array[] };
let oldRoot: TestCertificate;
let selfSigned: TestCertificate;
const leaves: Record<string, Chain> = {};
const signed: Record<string, Uint8Array> = {};

let original: Uint8Array;
let originalJson: Record<string, any>;
let originalHeaders: Record<string, unknown>;
let signingTime: Date;
let policy: TrustPolicyDocument;
let stores: Map<string, Uint8Array[]>;
let workDir: string;

beforeAll(async () => {
  const now = Date.now();
  const past = new Date(now - 30 * DAY);
  root = await createRoot({ notBefore: past });
  intermediate = await createIntermediate(root, { notBefore: past });
  const leafUnder = async (options: Parameters<typeof createLeaf>[1] = {}, issuer = intermediate, parents = [intermediate, root]): Promise<Chain> => {
    const leaf = await createLeaf(issuer, { subject: SUBJECT, notBefore: past, ...options });
    return { leaf, chain: [leaf.der, ...parents.map((certificate) => certificate.der)] };
  };
  good = await leafUnder();

  const otherRoot = await createRoot({ notBefore: past });
  const otherIntermediate = await createIntermediate(otherRoot, { notBefore: past });
  const otherLeaf = await createLeaf(otherIntermediate, { subject: SUBJECT, notBefore: past });
  other = { root: otherRoot, intermediate: otherIntermediate, leaf: otherLeaf, chain: [otherLeaf.der, otherIntermediate.der, otherRoot.der] };
  selfSigned = await createLeaf(undefined, { subject: SUBJECT, notBefore: past });

  const expiredIntermediate = await createIntermediate(root, { notBefore: past, notAfter: new Date(now - DAY) });
  const futureIntermediate = await createIntermediate(root, { notBefore: new Date(now + DAY), notAfter: new Date(now + 30 * DAY) });
  oldRoot = await createRoot({ notBefore: past, notAfter: new Date(now - DAY) });
  const oldIntermediate = await createIntermediate(oldRoot, { notBefore: past });
  const names = [
    'expired', 'future', 'underExpired', 'underFuture', 'underOldRoot', 'evil', 'ca',
    'noDigitalSignature', 'extraUsage', 'noKeyUsage', 'nonCritical', 'serverAuth', 'timeStamping', 'sha1',
  ];
  const created = await Promise.all([
    leafUnder({ notBefore: new Date(now - 10 * DAY), notAfter: new Date(now - DAY) }),
    leafUnder({ notBefore: new Date(now + DAY), notAfter: new Date(now + 10 * DAY) }),
    leafUnder({}, expiredIntermediate, [expiredIntermediate, root]),
    leafUnder({}, futureIntermediate, [futureIntermediate, root]),
    leafUnder({}, oldIntermediate, [oldIntermediate, oldRoot]),
    leafUnder({ subject: 'CN=builder,O=Evil,L=Seattle,ST=WA,C=US' }),
    leafUnder({ basicConstraints: { ca: true } }),
    leafUnder({ keyUsage: x509.KeyUsageFlags.nonRepudiation }),
    // eslint-disable-next-line no-bitwise
    leafUnder({ keyUsage: x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment }),
    leafUnder({ keyUsage: null }),
    leafUnder({ keyUsageCritical: false }),
    leafUnder({ extendedKeyUsage: [x509.ExtendedKeyUsage.serverAuth] }),
    leafUnder({ extendedKeyUsage: [x509.ExtendedKeyUsage.timeStamping] }),
    leafUnder({ signingHash: 'SHA-1' }),
  ]);
  names.forEach((name, index) => { leaves[name] = created[index]; });

  const signer = new LocalKeySigner({ key: good.leaf.key, certificateChain: good.chain, expirySeconds: 30 * 86400 });
  original = (await signer.sign(originalPayload)).envelope;
  originalJson = JSON.parse(Buffer.from(original).toString('utf8'));
  originalHeaders = JSON.parse(Buffer.from(originalJson.protected, 'base64url').toString('utf8'));
  signingTime = new Date(originalHeaders[Header.signingTime] as string);

  // Certificates outside their validity now were valid when these were signed (the signer checks that).
  const signAt = async (chain: Chain, at: Date) => {
    const chainSigner = new LocalKeySigner({ key: chain.leaf.key, certificateChain: chain.chain, clock: () => at });
    return (await chainSigner.sign(originalPayload)).envelope;
  };
  signed.expired = await signAt(leaves.expired, new Date(now - 5 * DAY));
  signed.future = await signAt(leaves.future, new Date(now + 2 * DAY));
  signed.underExpired = await signAt(leaves.underExpired, new Date(now - 5 * DAY));
  signed.underFuture = await signAt(leaves.underFuture, new Date(now + 2 * DAY));
  signed.underOldRoot = await signAt(leaves.underOldRoot, new Date(now - 5 * DAY));
  signed.evil = await signAt(leaves.evil, new Date(now));
  signed.other = await signAt(other, new Date(now));
  signed.selfSigned = await signAt({ leaf: selfSigned, chain: [selfSigned.der] }, new Date(now));

  policy = parseTrustPolicy({
    version: '1.0',
    trustPolicies: [{
      name: 'strict',
      registryScopes: ['*'],
      signatureVerification: { level: 'strict' },
      trustStores: ['ca:acme'],
      trustedIdentities: ['x509.subject: C=US, ST=WA, O=Acme'],
    }],
  });
  stores = new Map([['ca:acme', [root.der, oldRoot.der]]]);
  workDir = mkdtempSync(join(tmpdir(), 'tamper-corpus-'));
});

// ---------------------------------------------------------------------------------------------------
// Building tampered envelopes.

const seconds = (date: Date): string => date.toISOString().replace(/\.\d{3}Z$/, 'Z');
const json = (value: unknown): Uint8Array => utf8(JSON.stringify(value));

/** A JWS envelope over `headers` and `payload`, really signed with `key` (the good leaf by default). */
function signJws(
  headers: unknown,
  payload: Uint8Array = originalPayload,
  options: { key?: KeyObject; x5c?: readonly Uint8Array[] } = {},
): Uint8Array {
  const key = options.key ?? good.leaf.key;
  const protectedPart = encodeBase64Url(utf8(JSON.stringify(headers)));
  const payloadPart = encodeBase64Url(payload);
  const signature = signWith(algorithmForKey(key), key, utf8(`${protectedPart}.${payloadPart}`));
  return json({
    payload: payloadPart,
    protected: protectedPart,
    header: { x5c: (options.x5c ?? good.chain).map(encodeBase64), [Header.signingAgent]: 'tamper-corpus' },
    signature: encodeBase64Url(signature),
  });
}

/** The original protected header changed by `change`, signed again with the good key. */
function resignHeaders(change: (headers: Record<string, unknown>) => void): Uint8Array {
  const headers = structuredClone(originalHeaders);
  change(headers);
  return signJws(headers);
}

/** The original payload's targetArtifact changed by `change`, signed again with the good key. */
function resignTarget(change: (targetArtifact: Record<string, unknown>) => void): Uint8Array {
  const targetArtifact: Record<string, unknown> = { ...target };
  change(targetArtifact);
  return signJws(originalHeaders, utf8(canonicalJson({ targetArtifact })));
}

/** The original envelope JSON changed by `change`; the signature is kept as it was. */
function editEnvelope(change: (envelope: Record<string, any>) => void): Uint8Array {
  const envelope = structuredClone(originalJson);
  change(envelope);
  return json(envelope);
}

/** The original envelope with its protected header replaced by `headers` but the original signature kept. */
function swapProtected(change: (headers: Record<string, unknown>) => void): Uint8Array {
  const headers = structuredClone(originalHeaders);
  change(headers);
  return editEnvelope((envelope) => { envelope.protected = encodeBase64Url(json(headers)); });
}

function withSignature(change: (signature: Buffer) => Buffer): Uint8Array {
  return editEnvelope((envelope) => {
    envelope.signature = change(Buffer.from(envelope.signature, 'base64url')).toString('base64url');
  });
}

function withChain(chain: readonly Uint8Array[]): Uint8Array {
  return editEnvelope((envelope) => { envelope.header.x5c = chain.map(encodeBase64); });
}

/** Replaces one character of a base64url field with another character of the alphabet. */
function replaceChar(field: 'payload' | 'protected', at: number): Uint8Array {
  return editEnvelope((envelope) => {
    const text: string = envelope[field];
    const index = Math.floor(text.length * at);
    const replacement = text[index] === 'A' ? 'B' : 'A';
    envelope[field] = text.slice(0, index) + replacement + text.slice(index + 1);
  });
}

const otherDigest = (): string => sha256Digest(new Uint8Array(randomBytes(32)));
const envelope = (build: () => Uint8Array) => (): Tampered => ({ envelope: build() });
const manifestEdit = (change: (manifest: Record<string, any>) => void, layerMediaType?: string) => (): Tampered => ({
  envelope: original,
  manifest: change,
  layerMediaType,
});

// ---------------------------------------------------------------------------------------------------
// The corpus.

const integrity = (group: string, name: string, build: () => Tampered, reason?: RegExp): Mutation => ({ group, name, expected: 'integrity', build, reason });
const DESCRIPTOR_MISMATCH = /^content descriptor mismatch: the signature is for /;
const BAD_SIGNATURE = /signature is invalid\. Error: the signature does not match the signed content and the signing certificate$/;
const NOT_VALID = /^signature envelope is not valid: /;

function targetArtifactMutations(): Mutation[] {
  const group = 'payload targetArtifact, signed again';
  const resigned = (name: string, change: (targetArtifact: Record<string, unknown>) => void, reason: RegExp = DESCRIPTOR_MISMATCH) =>
    integrity(group, name, envelope(() => resignTarget(change)), reason);
  const payload = (name: string, bytes: () => Uint8Array) => integrity(group, name, envelope(() => signJws(originalHeaders, bytes())), NOT_VALID);
  return [
    resigned('digest of another manifest', (t) => { t.digest = otherDigest(); }),
    resigned('digest with its last hex digit changed', (t) => { t.digest = (t.digest as string).replace(/.$/, (c) => (c === '0' ? '1' : '0')); }),
    resigned('sha512 digest of the same manifest', (t) => { t.digest = `sha512:${createHash('sha512').update(image.manifest).digest('hex')}`; }),
    resigned('digest in upper-case hex', (t) => { t.digest = `sha256:${(t.digest as string).slice(7).toUpperCase()}`; }, NOT_VALID),
    resigned('digest without its algorithm', (t) => { t.digest = (t.digest as string).slice(7); }, NOT_VALID),
    resigned('digest missing', (t) => { delete t.digest; }, NOT_VALID),
    resigned('size plus one', (t) => { t.size = (t.size as number) + 1; }),
    resigned('size minus one', (t) => { t.size = (t.size as number) - 1; }),
    resigned('size zero', (t) => { t.size = 0; }),
    resigned('size as a string', (t) => { t.size = String(t.size); }, NOT_VALID),
    resigned('size negative', (t) => { t.size = -(t.size as number); }, NOT_VALID),
    resigned('size fractional', (t) => { t.size = (t.size as number) + 0.5; }, NOT_VALID),
    resigned('size missing', (t) => { delete t.size; }, NOT_VALID),
    resigned('mediaType of a Docker manifest', (t) => { t.mediaType = MediaType.DOCKER_MANIFEST; }),
    resigned('mediaType of an image index', (t) => { t.mediaType = MediaType.OCI_INDEX; }),
    resigned('mediaType with a parameter', (t) => { t.mediaType = `${MediaType.OCI_MANIFEST}; charset=utf-8`; }),
    resigned('mediaType in upper case', (t) => { t.mediaType = MediaType.OCI_MANIFEST.toUpperCase(); }),
    resigned('mediaType empty', (t) => { t.mediaType = ''; }, NOT_VALID),
    resigned('mediaType missing', (t) => { delete t.mediaType; }, NOT_VALID),
    resigned('annotations that are not strings', (t) => { t.annotations = { build: 42 }; }, NOT_VALID),
    payload('payload without targetArtifact', () => json({ artifact: target })),
    payload('targetArtifact as an array', () => json({ targetArtifact: [target] })),
    payload('payload that is a JSON array', () => json([{ targetArtifact: target }])),
    payload('payload that is not JSON', () => utf8('targetArtifact')),
    payload('payload that is empty JSON', () => json({})),
  ];
}

function payloadEditMutations(): Mutation[] {
  const group = 'payload, edited after signing';
  const edited = (name: string, bytes: () => Uint8Array) =>
    integrity(group, name, envelope(() => editEnvelope((e) => { e.payload = encodeBase64Url(bytes()); })), BAD_SIGNATURE);
  return [
    edited('digest of another manifest', () => buildPayload({ ...target, digest: otherDigest() })),
    edited('size plus one', () => buildPayload({ ...target, size: target.size + 1 })),
    edited('mediaType of a Docker manifest', () => buildPayload({ ...target, mediaType: MediaType.DOCKER_MANIFEST })),
    edited('annotations added', () => buildPayload(target, { 'io.example.approved': 'true' })),
    edited('whitespace added', () => utf8(JSON.stringify(JSON.parse(Buffer.from(originalPayload).toString()), undefined, 1))),
    edited('keys reordered', () => json({ targetArtifact: { size: target.size, mediaType: target.mediaType, digest: target.digest } })),
  ];
}

function headerMutations(): Mutation[] {
  const resigned = (group: string, name: string, change: (headers: Record<string, any>) => void, expected: Category = 'integrity', reason?: RegExp): Mutation => ({
    group,
    name,
    expected,
    reason: reason ?? (expected === 'integrity' ? NOT_VALID : undefined),
    build: envelope(() => resignHeaders(change)),
  });
  const crit = (headers: Record<string, any>): string[] => headers.crit as string[];
  const later = (ms: number) => seconds(new Date(signingTime.getTime() + ms));
  const ALG = 'protected header alg, signed again';
  const CTY = 'protected header cty, signed again';
  const CRIT = 'protected header crit, signed again';
  const SCHEME = 'protected header signingScheme, signed again';
  const TIME = 'protected header signingTime, signed again';
  const EXPIRY = 'protected header expiry, signed again';
  const UNKNOWN = 'unknown critical attributes, signed again';
  const MISMATCH = /^mismatch between signature algorithm derived from signing certificate \(ES256\) and signing algorithm specified/;
  return [
    ...['ES384', 'ES512', 'PS256', 'PS384', 'PS512'].map((alg) => resigned(ALG, `alg ${alg} for a P-256 key`, (h) => { h.alg = alg; }, 'integrity', MISMATCH)),
    ...['none', 'HS256', 'RS256', 'EdDSA', 'es256', 'ES256 ', ''].map((alg) => resigned(ALG, `alg ${JSON.stringify(alg)}`, (h) => { h.alg = alg; })),
    resigned(ALG, 'alg missing', (h) => { delete h.alg; }),
    resigned(ALG, 'alg as a number', (h) => { h.alg = -7; }),
    resigned(ALG, 'alg as a list', (h) => { h.alg = ['ES256']; }),

    resigned(CTY, 'cty missing', (h) => { delete h.cty; }),
    resigned(CTY, 'cty application/json', (h) => { h.cty = 'application/json'; }),
    resigned(CTY, 'cty of a future payload version', (h) => { h.cty = 'application/vnd.cncf.notary.payload.v2+json'; }),
    resigned(CTY, 'cty in upper case', (h) => { h.cty = MediaType.NOTARY_PAYLOAD.toUpperCase(); }),
    resigned(CTY, 'cty empty', (h) => { h.cty = ''; }),
    resigned(CTY, 'cty as a list', (h) => { h.cty = [MediaType.NOTARY_PAYLOAD]; }),

    resigned(CRIT, 'crit missing', (h) => { delete h.crit; }),
    resigned(CRIT, 'crit empty', (h) => { h.crit = []; }),
    resigned(CRIT, 'crit as a string', (h) => { h.crit = Header.signingScheme; }),
    resigned(CRIT, 'crit without signingScheme', (h) => { h.crit = crit(h).filter((name) => name !== Header.signingScheme); }),
    resigned(CRIT, 'crit without expiry while expiry is set', (h) => { h.crit = crit(h).filter((name) => name !== Header.expiry); }),
    resigned(CRIT, 'crit naming an absent header', (h) => { h.crit = [...crit(h), 'io.cncf.notary.absent']; }),
    resigned(CRIT, 'crit naming the registered header alg', (h) => { h.crit = [...crit(h), 'alg']; }),
    resigned(CRIT, 'crit naming the registered header cty', (h) => { h.crit = [...crit(h), 'cty']; }),
    resigned(CRIT, 'crit naming signingScheme twice', (h) => { h.crit = [...crit(h), Header.signingScheme]; }),
    resigned(CRIT, 'crit with a number', (h) => { h.crit = [...crit(h), 42]; }),
    resigned(CRIT, 'crit with null', (h) => { h.crit = [...crit(h), null]; }),
    resigned(CRIT, 'crit naming signingTime and an absent authenticSigningTime', (h) => { h.crit = [...crit(h), Header.authenticSigningTime]; }),

    resigned(SCHEME, 'signingScheme missing', (h) => { delete h[Header.signingScheme]; }),
    resigned(SCHEME, 'signingScheme notary.x509.v2', (h) => { h[Header.signingScheme] = 'notary.x509.v2'; }),
    resigned(SCHEME, 'signingScheme in upper case', (h) => { h[Header.signingScheme] = 'NOTARY.X509'; }),
    resigned(SCHEME, 'signingScheme notary.default.x509', (h) => { h[Header.signingScheme] = 'notary.default.x509'; }),
    resigned(SCHEME, 'signingScheme as a number', (h) => { h[Header.signingScheme] = 1; }),
    resigned(SCHEME, 'signingScheme signingAuthority with a signingTime', (h) => { h[Header.signingScheme] = 'notary.x509.signingAuthority'; }),
    resigned(SCHEME, 'signingScheme signingAuthority with a critical authenticSigningTime (needs a signingAuthority store)', (h) => {
      h[Header.signingScheme] = 'notary.x509.signingAuthority';
      h[Header.authenticSigningTime] = h[Header.signingTime];
      delete h[Header.signingTime];
      h.crit = [...crit(h), Header.authenticSigningTime];
    }, 'authenticity', /^no trusted certificates are found to verify authenticity: the trust policy names no "signingAuthority" trust store/),

    resigned(TIME, 'signingTime missing', (h) => { delete h[Header.signingTime]; }),
    resigned(TIME, 'signingTime as a date only', (h) => { h[Header.signingTime] = seconds(signingTime).slice(0, 10); }),
    resigned(TIME, 'signingTime as epoch seconds', (h) => { h[Header.signingTime] = Math.floor(signingTime.getTime() / 1000); }),
    resigned(TIME, 'signingTime as words', (h) => { h[Header.signingTime] = 'yesterday'; }),
    resigned(TIME, 'signingTime with month 13', (h) => { h[Header.signingTime] = '2024-13-01T00:00:00Z'; }),
    resigned(TIME, 'signingTime without a zone', (h) => { h[Header.signingTime] = seconds(signingTime).replace('Z', ''); }),
    resigned(TIME, 'signingTime after the expiry', (h) => { h[Header.signingTime] = later(31 * DAY); }),
    resigned(TIME, 'authenticSigningTime added to the notary.x509 scheme', (h) => {
      h[Header.authenticSigningTime] = h[Header.signingTime];
      h.crit = [...crit(h), Header.authenticSigningTime];
    }),

    resigned(EXPIRY, 'expiry in the past', (h) => {
      h[Header.signingTime] = later(-2 * DAY);
      h[Header.expiry] = later(-DAY);
    }, 'expiry', /^digital signature has expired on /),
    resigned(EXPIRY, 'expiry one second ago', (h) => {
      h[Header.signingTime] = later(-60_000);
      h[Header.expiry] = seconds(new Date(Date.now() - 1000));
    }, 'expiry', /^digital signature has expired on /),
    resigned(EXPIRY, 'expiry equal to the signingTime', (h) => { h[Header.expiry] = h[Header.signingTime]; }),
    resigned(EXPIRY, 'expiry before the signingTime', (h) => { h[Header.expiry] = later(-DAY); }),
    resigned(EXPIRY, 'expiry not an RFC 3339 time', (h) => { h[Header.expiry] = 'never'; }),
    resigned(EXPIRY, 'expiry as epoch seconds', (h) => { h[Header.expiry] = Math.floor(signingTime.getTime() / 1000) + 86400; }),
    resigned(EXPIRY, 'expiry removed but still critical', (h) => { delete h[Header.expiry]; }),

    resigned(UNKNOWN, 'an unknown io.cncf.notary attribute marked critical', (h) => {
      h['io.cncf.notary.unknownAttribute'] = 'value';
      h.crit = [...crit(h), 'io.cncf.notary.unknownAttribute'];
    }, 'integrity', /critical header "io\.cncf\.notary\.unknownAttribute" is not understood by this verifier$/),
    resigned(UNKNOWN, 'a vendor attribute marked critical', (h) => {
      h['com.example.policy'] = 'release-only';
      h.crit = [...crit(h), 'com.example.policy'];
    }, 'integrity', /critical header "com\.example\.policy" is not understood by this verifier$/),
    resigned(UNKNOWN, 'a critical attribute with an object value', (h) => {
      h['com.example.constraints'] = { maxAge: 3 };
      h.crit = [...crit(h), 'com.example.constraints'];
    }),
    resigned(UNKNOWN, 'a verification plugin this verifier does not implement', (h) => {
      h[Header.verificationPlugin] = 'com.example.notation.plugin';
      h.crit = [...crit(h), Header.verificationPlugin];
    }, 'integrity', /requires the verification plugin "com\.example\.notation\.plugin", which this verifier does not implement$/),
    resigned(UNKNOWN, 'an AWS Signer attribute without the AWS plugin', (h) => {
      h['com.amazonaws.signer.signingJob'] = 'arn:aws:signer:us-east-1:111122223333:/signing-jobs/1';
      h.crit = [...crit(h), 'com.amazonaws.signer.signingJob'];
    }, 'integrity', /requires the verification plugin "com\.amazonaws\.signer\.notation\.plugin"$/),
    resigned(UNKNOWN, 'a verification plugin that is not marked critical', (h) => { h[Header.verificationPlugin] = 'com.example.notation.plugin'; }),
  ];
}

function headerEditMutations(): Mutation[] {
  const group = 'protected header, edited after signing';
  const edited = (name: string, change: (headers: Record<string, any>) => void) =>
    integrity(group, name, envelope(() => swapProtected(change)), BAD_SIGNATURE);
  return [
    edited('signingTime moved one second', (h) => { h[Header.signingTime] = seconds(new Date(signingTime.getTime() + 1000)); }),
    edited('expiry extended by a year', (h) => { h[Header.expiry] = seconds(new Date(signingTime.getTime() + 365 * DAY)); }),
    edited('expiry removed from the header and crit', (h) => {
      delete h[Header.expiry];
      h.crit = (h.crit as string[]).filter((name) => name !== Header.expiry);
    }),
    edited('crit reordered', (h) => { h.crit = [...(h.crit as string[])].reverse(); }),
    edited('a non-critical attribute added', (h) => { h['io.example.note'] = 'added later'; }),
    edited('keys in another order', (h) => {
      const entries = Object.entries(h).reverse();
      for (const key of Object.keys(h)) delete h[key];
      Object.assign(h, Object.fromEntries(entries));
    }),
  ];
}

function signatureMutations(): Mutation[] {
  const group = 'signature bytes';
  const bad = (name: string, change: (signature: Buffer) => Buffer, reason: RegExp = BAD_SIGNATURE) =>
    integrity(group, name, envelope(() => withSignature(change)), reason);
  const flips = Array.from({ length: 64 }, (_, index) =>
    bad(`bit ${index % 8} of byte ${index} flipped`, (signature) => {
      const copy = Buffer.from(signature);
      // eslint-disable-next-line no-bitwise
      copy[index] ^= 1 << index % 8;
      return copy;
    }),
  );
  return [
    ...flips,
    ...[63, 48, 32, 16, 1].map((length) => bad(`truncated to ${length} bytes`, (signature) => signature.subarray(0, length))),
    bad('truncated to nothing', () => Buffer.alloc(0), NOT_VALID),
    bad('one zero byte appended', (signature) => Buffer.concat([signature, Buffer.alloc(1)])),
    bad('one byte prepended', (signature) => Buffer.concat([Buffer.from([1]), signature])),
    bad('doubled', (signature) => Buffer.concat([signature, signature])),
    bad('all zeros', (signature) => Buffer.alloc(signature.length)),
    bad('r and s swapped', (signature) => Buffer.concat([signature.subarray(32), signature.subarray(0, 32)])),
    bad('r repeated in place of s', (signature) => Buffer.concat([signature.subarray(0, 32), signature.subarray(0, 32)])),
    integrity(group, 'a DER-encoded ECDSA signature of the same input', envelope(() => editEnvelope((e) => {
      const der = cryptoSign('sha256', utf8(`${e.protected}.${e.payload}`), { key: good.leaf.key, dsaEncoding: 'der' });
      e.signature = der.toString('base64url');
    })), BAD_SIGNATURE),
    integrity(group, 'a signature by another key over the same input', envelope(() => editEnvelope((e) => {
      e.signature = encodeBase64Url(signWith(algorithmForKey(other.leaf.key), other.leaf.key, utf8(`${e.protected}.${e.payload}`)));
    })), BAD_SIGNATURE),
    integrity(group, 'a signature over the protected header only', envelope(() => editEnvelope((e) => {
      e.signature = encodeBase64Url(signWith(algorithmForKey(good.leaf.key), good.leaf.key, utf8(e.protected)));
    })), BAD_SIGNATURE),
    integrity(group, 'a signature over the payload only', envelope(() => editEnvelope((e) => {
      e.signature = encodeBase64Url(signWith(algorithmForKey(good.leaf.key), good.leaf.key, utf8(e.payload)));
    })), BAD_SIGNATURE),
    integrity(group, 'the signature of another signing of the same payload', envelope(() => editEnvelope((e) => {
      const again = resignHeaders((h) => { h[Header.signingTime] = seconds(new Date(signingTime.getTime() - 1000)); });
      e.signature = JSON.parse(Buffer.from(again).toString()).signature;
    })), BAD_SIGNATURE),
  ];
}

function chainMutations(): Mutation[] {
  const group = 'x5c order and contents';
  const chained = (name: string, chain: () => readonly Uint8Array[], reason?: RegExp) =>
    integrity(group, name, envelope(() => withChain(chain())), reason);
  const entries = (name: string, x5c: () => unknown) =>
    integrity(group, name, envelope(() => editEnvelope((e) => { e.header.x5c = x5c(); })), NOT_VALID);
  const [leaf, ca, top] = [() => good.chain[0], () => good.chain[1], () => good.chain[2]];
  return [
    chained('leaf dropped', () => [ca(), top()]),
    chained('intermediate dropped', () => [leaf(), top()], /is not issued by/),
    chained('root dropped', () => [leaf(), ca()], /is not self-signed/),
    chained('only the leaf', () => [leaf()], /is not self-signed/),
    chained('only the root', () => [top()]),
    chained('only the intermediate', () => [ca()]),
    chained('leaf and intermediate swapped', () => [ca(), leaf(), top()]),
    chained('intermediate and root swapped', () => [leaf(), top(), ca()]),
    chained('reversed', () => [top(), ca(), leaf()]),
    chained('replaced by another chain', () => other.chain, BAD_SIGNATURE),
    chained('leaf replaced by another leaf', () => [other.leaf.der, ca(), top()]),
    chained('intermediate replaced by another intermediate', () => [leaf(), other.intermediate.der, top()], /is not issued by/),
    chained('root replaced by another root', () => [leaf(), ca(), other.root.der], /is not issued by/),
    chained('another root appended', () => [...good.chain, other.root.der]),
    chained('another leaf prepended', () => [other.leaf.der, ...good.chain]),
    chained('another intermediate inserted', () => [leaf(), other.intermediate.der, ca(), top()], /is not issued by/),
    chained('leaf duplicated', () => [leaf(), ...good.chain], /is not issued by/),
    chained('root duplicated', () => [...good.chain, top()]),
    chained('a self-signed certificate instead of the chain', () => [selfSigned.der], BAD_SIGNATURE),
    entries('x5c empty', () => []),
    entries('x5c missing', () => undefined),
    entries('x5c as a string', () => encodeBase64(good.chain[0])),
    entries('an entry that is not base64', () => ['not base64!', ...good.chain.slice(1).map(encodeBase64)]),
    entries('an entry in base64url', () => good.chain.map((der) => Buffer.from(der).toString('base64url'))),
    entries('an entry with a space in it', () => good.chain.map((der, index) => (index === 0 ? `${encodeBase64(der).slice(0, 40)} ${encodeBase64(der).slice(40)}` : encodeBase64(der)))),
    integrity(group, 'an entry in PEM', envelope(() => editEnvelope((e) => { e.header.x5c = [good.leaf.pem, ...good.chain.slice(1).map(encodeBase64)]; }))),
    chained('a truncated leaf', () => [leaf().subarray(0, leaf().length - 10), ca(), top()]),
    chained('a leaf with one flipped byte in its signature', () => {
      const copy = Uint8Array.from(leaf());
      copy[copy.length - 5] = copy[copy.length - 5] === 0 ? 1 : 0;
      return [copy, ca(), top()];
    }),
    chained('bytes that are not a certificate', () => [new Uint8Array(randomBytes(64)), ca(), top()]),
  ];
}

function certificateMutations(): Mutation[] {
  const group = 'wrong chains and certificate validity';
  const stored = (name: string, key: string, expected: Category, reason?: RegExp): Mutation =>
    ({ group, name, expected, reason, build: () => ({ envelope: signed[key] }) });
  /** Leaves the signer refuses are signed directly, with their own key. */
  const direct = (name: string, key: string, reason: RegExp): Mutation => integrity(group, name, envelope(() => buildJwsEnvelope({
    payload: originalPayload,
    key: leaves[key].leaf.key,
    certificateChain: leaves[key].chain,
    signingScheme: 'notary.x509',
    signingTime,
  })), reason);
  const UNTRUSTED = /^signature is not produced by a trusted signer: the signature's certificate chain does not contain any trusted certificate$/;
  return [
    stored('signed by a chain to an untrusted root', 'other', 'authenticity', UNTRUSTED),
    stored('signed by an untrusted self-signed certificate', 'selfSigned', 'authenticity', UNTRUSTED),
    stored('signed by a trusted chain whose leaf is outside the trusted identity', 'evil', 'authenticity', /does not match the X\.509 trusted identities/),
    stored('signed by an expired leaf', 'expired', 'authenticTimestamp', /^verification time is after certificate "CN=builder.*validity period, it was expired at/),
    stored('signed by a leaf that is not yet valid', 'future', 'authenticTimestamp', /^verification time is before certificate "CN=builder.*validity period, it will be valid from/),
    stored('signed under an expired intermediate', 'underExpired', 'authenticTimestamp', /^verification time is after certificate "CN=Test ca/),
    stored('signed under an intermediate that is not yet valid', 'underFuture', 'authenticTimestamp', /^verification time is before certificate "CN=Test ca/),
    stored('signed under an expired trusted root', 'underOldRoot', 'authenticTimestamp', /^verification time is after certificate "CN=Test root/),
    direct('a leaf that is a CA', 'ca', /it is a ca certificate, which is not allowed as a signing certificate$/),
    direct('a leaf without the digitalSignature key usage', 'noDigitalSignature', /key usage must have the bit positions for digital signature set$/),
    direct('a leaf with the keyEncipherment key usage', 'extraUsage', /key usage must not have the bit position for keyEncipherment set$/),
    direct('a leaf without key usage', 'noKeyUsage', /key usage extension must be present and critical$/),
    direct('a leaf with non-critical key usage', 'nonCritical', /key usage extension must be present and critical$/),
    direct('a leaf for server authentication', 'serverAuth', /ServerAuth/),
    direct('a leaf for timestamping', 'timeStamping', /TimeStamping/),
    direct('a leaf signed with SHA-1', 'sha1', /is signed with SHA-1, which is not allowed$/),
  ];
}

function manifestMutations(): Mutation[] {
  const group = 'signature manifest';
  const SUBJECT_MISMATCH = /^signature manifest is not valid: its subject /;
  const UNSUPPORTED = /^signature manifest is not valid: signature envelope format with media type ".*" is not supported$/;
  const noSignature = (name: string, change: (m: Record<string, any>) => void): Mutation =>
    ({ group, name, expected: 'no-signature', reason: /^signature verification failed: no signature is associated with /, build: manifestEdit(change) });
  const bad = (name: string, change: (m: Record<string, any>) => void, reason?: RegExp, layerMediaType?: string) =>
    integrity(group, name, manifestEdit(change, layerMediaType), reason);
  const layerType = (mediaType: string) => (m: Record<string, any>) => { m.layers[0].mediaType = mediaType; };
  return [
    noSignature('subject digest of another manifest', (m) => { m.subject.digest = otherDigest(); }),
    noSignature('subject missing', (m) => { delete m.subject; }),
    bad('subject size plus one', (m) => { m.subject.size += 1; }, SUBJECT_MISMATCH),
    bad('subject size minus one', (m) => { m.subject.size -= 1; }, SUBJECT_MISMATCH),
    bad('subject mediaType of a Docker manifest', (m) => { m.subject.mediaType = MediaType.DOCKER_MANIFEST; }, SUBJECT_MISMATCH),
    bad('no layers', (m) => { m.layers = []; }, /it must have exactly one layer \(the signature envelope\), found 0$/),
    bad('two envelope layers', (m) => { m.layers = [m.layers[0], m.layers[0]]; }, /found 2$/),
    bad('subject mediaType of an image index', (m) => { m.subject.mediaType = MediaType.OCI_INDEX; }, SUBJECT_MISMATCH),
    bad('layer mediaType application/json', layerType('application/json'), UNSUPPORTED, 'application/json'),
    bad('layer mediaType application/jose', layerType('application/jose'), UNSUPPORTED, 'application/jose'),
    bad('layer mediaType of the signature artifact', layerType(MediaType.NOTARY_SIGNATURE), UNSUPPORTED, MediaType.NOTARY_SIGNATURE),
    bad('layer mediaType application/cose over a JWS envelope', layerType(MediaType.COSE),
      /^signature envelope format with media type "application\/cose" is not supported$/, MediaType.COSE),
    bad('layer pointing at the image config', (m) => { m.layers[0] = { ...image.configDescriptor, mediaType: MediaType.JWS }; }, NOT_VALID),
    bad('layer pointing at a missing blob', (m) => { m.layers[0].digest = otherDigest(); }, /was not found/),
    bad('layer size plus one', (m) => { m.layers[0].size += 1; }),
    bad('layer size minus one', (m) => { m.layers[0].size -= 1; }),
    bad('layer mediaType of an image layer', layerType(MediaType.OCI_LAYER_TAR_GZIP), UNSUPPORTED, MediaType.OCI_LAYER_TAR_GZIP),
    noSignature('artifactType of another artifact', (m) => { m.artifactType = 'application/vnd.example.sbom'; }),
    noSignature('no artifactType with the empty config', (m) => { delete m.artifactType; }),
    bad('artifactType with the legacy config media type', (m) => { m.config.mediaType = MediaType.NOTARY_SIGNATURE; }, /config\.mediaType is "application\/vnd\.cncf\.notary\.signature", want/),
    bad('artifactType with an image config', (m) => { m.config = { ...image.configDescriptor }; }, /config\.mediaType is "application\/vnd\.oci\.image\.config\.v1\+json", want/),
    bad('artifactType with a JSON config', (m) => { m.config = { mediaType: 'application/json', digest: m.config.digest, size: 2 }; }, /config\.mediaType is "application\/json", want/),
    bad('mediaType of a Docker manifest', (m) => { m.mediaType = MediaType.DOCKER_MANIFEST; }, /^signature manifest is not valid: mediaType is/),
    bad('mediaType missing', (m) => { delete m.mediaType; }, /^signature manifest is not valid: mediaType is undefined/),
  ];
}

function envelopeJsonMutations(): Mutation[] {
  const group = 'envelope JSON';
  const bytes = (name: string, build: () => Uint8Array, reason: RegExp = NOT_VALID) => integrity(group, name, envelope(build), reason);
  // A changed character of the signed parts either breaks their JSON or leaves JSON that the signature does not cover.
  const EITHER = new RegExp(`${NOT_VALID.source}|${BAD_SIGNATURE.source}`);
  const truncations = Array.from({ length: 20 }, (_, index) =>
    bytes(`truncated to ${index * 5}% of its bytes`, () => original.subarray(0, Math.floor((original.length * index) / 20))));
  // (Characters of "signature" are covered by the bit flips of the signature bytes.)
  const replaced = (['payload', 'protected'] as const).flatMap((field) =>
    [0.1, 0.3, 0.5, 0.7, 0.9].map((at) => bytes(`a character of "${field}" replaced at ${at * 100}%`, () => replaceChar(field, at), EITHER)));
  const field = (name: string, change: (e: Record<string, any>) => void) => bytes(name, () => editEnvelope(change));
  return [
    ...truncations,
    ...replaced,
    ...(['payload', 'protected', 'signature'] as const).map((name) => field(`an asterisk in "${name}"`, (e) => { e[name] = `${e[name].slice(0, 10)}*${e[name].slice(11)}`; })),
    field('"protected" padded with =', (e) => { e.protected = `${e.protected}${'='.repeat((4 - (e.protected.length % 4)) % 4 || 4)}`; }),
    field('"signature" in standard base64', (e) => { e.signature = Buffer.from(e.signature, 'base64url').toString('base64'); }),
    field('"signature" with non-canonical trailing bits', (e) => {
      const text: string = e.signature;
      const last = text[text.length - 1];
      const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
      e.signature = text.slice(0, -1) + alphabet[alphabet.indexOf(last) + 1];
    }),
    field('"payload" missing', (e) => { delete e.payload; }),
    field('"protected" missing', (e) => { delete e.protected; }),
    field('"signature" missing', (e) => { delete e.signature; }),
    field('"header" missing', (e) => { delete e.header; }),
    field('"header" as a list', (e) => { e.header = [e.header]; }),
    field('"payload" as a number', (e) => { e.payload = 42; }),
    field('"protected" as an object', (e) => { e.protected = originalHeaders; }),
    field('"payload" and "protected" swapped', (e) => { [e.payload, e.protected] = [e.protected, e.payload]; }),
    field('general JWS JSON serialization', (e) => {
      const { protected: protectedPart, signature, header, payload } = e;
      for (const key of Object.keys(e)) delete e[key];
      Object.assign(e, { payload, signatures: [{ protected: protectedPart, header, signature }] });
    }),
    bytes('compact serialization', () => utf8(`${originalJson.protected}.${originalJson.payload}.${originalJson.signature}`)),
    bytes('JSON null', () => utf8('null')),
    bytes('a JSON list', () => utf8('[]')),
    bytes('a JSON string', () => utf8('"envelope"')),
    bytes('an empty JSON object', () => utf8('{}')),
    bytes('invalid UTF-8 before the JSON', () => Uint8Array.from([0xff, ...original])),
    bytes('a NUL byte inside the JSON', () => Uint8Array.from([...original.subarray(0, 20), 0, ...original.subarray(20)])),
    bytes('gzip-compressed envelope bytes', () => Uint8Array.from([0x1f, 0x8b, 0x08, 0, ...original.subarray(0, 40)])),
  ];
}

const MUTATIONS: readonly Mutation[] = [
  ...targetArtifactMutations(),
  ...payloadEditMutations(),
  ...headerMutations(),
  ...headerEditMutations(),
  ...signatureMutations(),
  ...chainMutations(),
  ...certificateMutations(),
  ...manifestMutations(),
  ...envelopeJsonMutations(),
];

// ---------------------------------------------------------------------------------------------------
// Storing and verifying.

interface StoredContent {
  readonly envelope: Uint8Array;
  readonly layer: Descriptor;
  readonly manifest: Uint8Array;
}

/** The envelope blob's descriptor and the signature manifest bytes for `tampered`. */
function storedContent(tampered: Tampered): StoredContent {
  const layer: Descriptor = {
    mediaType: tampered.layerMediaType ?? MediaType.JWS,
    digest: sha256Digest(tampered.envelope),
    size: tampered.envelope.byteLength,
  };
  // The thumbprint annotation is unsigned; it names the original chain throughout.
  const manifest = buildSignatureManifest({ subject: target, envelope: layer, format: 'oci-1.1', envelopeBytes: original, signingTime });
  if (!tampered.manifest) return { envelope: tampered.envelope, layer, manifest };
  const edited = JSON.parse(Buffer.from(manifest).toString('utf8'));
  tampered.manifest(edited);
  return { envelope: tampered.envelope, layer, manifest: json(edited) };
}

/** Stores the image and the one signature in `repository`. */
async function store(repository: OciRepository, content: StoredContent): Promise<void> {
  await pushImage(repository, image, 'v1');
  await repository.pushBlob(EMPTY_CONFIG, MediaType.OCI_EMPTY);
  await repository.pushBlob(content.envelope, content.layer.mediaType);
  await repository.pushManifest(content.manifest, MediaType.OCI_MANIFEST);
}

let layouts = 0;
async function inLayout(content: StoredContent): Promise<OciLayoutRepository> {
  const repository = new OciLayoutRepository(join(workDir, `case-${layouts++}`));
  await store(repository, content);
  return repository;
}

async function inRegistry(content: StoredContent): Promise<RegistryRepository> {
  const repository = new RegistryRepository({ registry: plainRegistry(), repository: `tamper/case-${randomBytes(4).toString('hex')}`, plainHttp: true });
  await store(repository, content);
  return repository;
}

function verify(repository: OciRepository): Promise<VerificationOutcome> {
  return verifyImage({ repository, tagOrDigest: 'v1', displayReference: `${repository.name}:v1`, scope: 'local/app', policy, stores });
}

/** The verifier's category and reason for a failed outcome. */
function failureOf(outcome: VerificationOutcome): { category: Category; reason: string } {
  if (outcome.error?.code === 'no-signature') return { category: 'no-signature', reason: outcome.error.message };
  expect(outcome.error?.code).toBe('verification-failed');
  const failed = outcome.results.find((result) => !result.ok && result.action === 'enforce');
  if (!failed) throw new Error(`no enforced check failed: ${JSON.stringify(outcome)}`);
  expect(outcome.error?.message).toContain(failed.message);
  return { category: failed.type, reason: failed.message };
}

function contentKey(content: StoredContent): string {
  return createHash('sha256').update(content.envelope).update(content.manifest).update(content.layer.mediaType).digest('hex');
}

describe('the valid signature (control)', () => {
  test('verifies from an OCI layout under the strict policy, every check passing', async () => {
    const outcome = await verify(await inLayout(storedContent({ envelope: original })));

    expect(outcome.error).toBeUndefined();
    expect(outcome.verified).toBe(true);
    expect(outcome.level).toBe('strict');
    expect(outcome.results.map((result) => [result.type, result.action, result.ok])).toEqual([
      ['integrity', 'enforce', true],
      ['authenticity', 'enforce', true],
      ['expiry', 'enforce', true],
      ['authenticTimestamp', 'enforce', true],
      ['revocation', 'enforce', true],
    ]);
  });

  test('verifies from the registry', async () => {
    const outcome = await verify(await inRegistry(storedContent({ envelope: original })));
    expect(outcome.error).toBeUndefined();
    expect(outcome.verified).toBe(true);
  });

  test('signed again with the test signer unchanged, it still verifies (the re-signed mutations change one field only)', async () => {
    const outcomes = await Promise.all([
      signJws(originalHeaders),
      resignHeaders(() => undefined),
      resignTarget(() => undefined),
    ].map(async (bytes) => verify(await inLayout(storedContent({ envelope: bytes })))));
    expect(outcomes.map((outcome) => outcome.verified)).toEqual([true, true, true]);
  });

  test('in the legacy manifest form (config media type, no artifactType) it verifies', async () => {
    const legacy = storedContent({
      envelope: original,
      manifest: (m) => {
        delete m.artifactType;
        m.config = { mediaType: MediaType.NOTARY_SIGNATURE, digest: m.config.digest, size: 2 };
      },
    });
    expect((await verify(await inLayout(legacy))).verified).toBe(true);
  });
});

// ---------------------------------------------------------------------------------------------------
// COSE envelopes (specs/signature-envelope-cose.md): a real COSE_Sign1 over the same payload, which this verifier does not support.

type Cbor = number | string | Uint8Array | readonly Cbor[] | Map<number | string, Cbor> | { readonly tag: number; readonly value: Cbor };

/** Deterministic CBOR (RFC 8949) for the few types a COSE_Sign1 needs. */
function cbor(value: Cbor): Buffer {
  const head = (major: number, argument: number): Buffer => {
    if (argument < 24) return Buffer.from([major * 32 + argument]);
    if (argument < 256) return Buffer.from([major * 32 + 24, argument]);
    if (argument < 65536) return Buffer.from([major * 32 + 25, Math.floor(argument / 256), argument % 256]);
    const bytes = Buffer.alloc(5);
    bytes[0] = major * 32 + 26;
    bytes.writeUInt32BE(argument, 1);
    return bytes;
  };
  if (typeof value === 'number') return value >= 0 ? head(0, value) : head(1, -1 - value);
  if (typeof value === 'string') return Buffer.concat([head(3, Buffer.byteLength(value)), Buffer.from(value, 'utf8')]);
  if (value instanceof Uint8Array) return Buffer.concat([head(2, value.byteLength), value]);
  if (Array.isArray(value)) return Buffer.concat([head(4, value.length), ...value.map(cbor)]);
  if (value instanceof Map) return Buffer.concat([head(5, value.size), ...[...value].flatMap(([key, entry]) => [cbor(key), cbor(entry)])]);
  const tagged = value as { tag: number; value: Cbor };
  return Buffer.concat([head(6, tagged.tag), cbor(tagged.value)]);
}

/** A COSE_Sign1_Tagged Notary envelope over the original payload, signed by the good leaf (ES256). */
function coseEnvelope(): Uint8Array {
  const protectedHeader = cbor(new Map<number | string, Cbor>([
    [1, -7],
    [2, [Header.signingScheme]],
    [3, MediaType.NOTARY_PAYLOAD],
    [Header.signingScheme, 'notary.x509'],
    [Header.signingTime, { tag: 1, value: Math.floor(signingTime.getTime() / 1000) }],
  ]));
  const toBeSigned = cbor(['Signature1', protectedHeader, new Uint8Array(0), originalPayload]);
  const signature = signWith(algorithmForKey(good.leaf.key), good.leaf.key, toBeSigned);
  const unprotected = new Map<number | string, Cbor>([[33, good.chain], [Header.signingAgent, 'tamper-corpus']]);
  return new Uint8Array(cbor({ tag: 18, value: [protectedHeader, unprotected, originalPayload, signature] }));
}

describe('COSE envelopes', () => {
  const NOT_SUPPORTED = 'signature envelope format with media type "application/cose" is not supported';

  test('a COSE signature is reported as an integrity failure: its format is not supported', async () => {
    const envelopeBytes = coseEnvelope();
    const outcome = await verify(await inLayout(storedContent({ envelope: envelopeBytes, layerMediaType: MediaType.COSE })));

    expect(Buffer.from(envelopeBytes.subarray(0, 2)).toString('hex')).toBe('d284');
    expect(outcome.verified).toBe(false);
    expect(outcome.error?.code).toBe('verification-failed');
    expect(outcome.results).toEqual([{ type: 'integrity', action: 'enforce', ok: false, message: NOT_SUPPORTED }]);
    expect(outcome.error?.message).toContain(`: ${NOT_SUPPORTED}`);
  });

  test('an image with a COSE and a JWS signature verifies through the JWS one', async () => {
    const repository = await inLayout(storedContent({ envelope: coseEnvelope(), layerMediaType: MediaType.COSE }));
    const jws = storedContent({ envelope: original });
    await repository.pushBlob(jws.envelope, MediaType.JWS);
    const pushed = await repository.pushManifest(jws.manifest, MediaType.OCI_MANIFEST);

    const outcome = await verify(repository);

    expect(outcome.verified).toBe(true);
    expect(outcome.signatureDigest).toBe(pushed.descriptor.digest);
  });

  test('a COSE envelope labelled as JWS fails as an invalid JWS envelope', async () => {
    const outcome = await verify(await inLayout(storedContent({ envelope: coseEnvelope() })));

    expect(outcome.verified).toBe(false);
    expect(failureOf(outcome)).toEqual({ category: 'integrity', reason: expect.stringMatching(/^signature envelope is not valid: JWS envelope is not valid/) });
  });
});

describe(`the tamper corpus: ${MUTATIONS.length} mutations of the valid signature`, () => {
  test('holds at least 200 distinct mutations, each different from the original content', () => {
    const originalKey = contentKey(storedContent({ envelope: original }));
    const keys = new Map<string, string>();
    for (const mutation of MUTATIONS) {
      const key = contentKey(storedContent(mutation.build()));
      const name = `${mutation.group}: ${mutation.name}`;
      expect([name, key]).not.toEqual([name, originalKey]);
      expect([name, keys.get(key)]).toEqual([name, undefined]);
      keys.set(key, name);
    }
    expect(keys.size).toBe(MUTATIONS.length);
    expect(keys.size).toBeGreaterThanOrEqual(200);
    expect(new Set(MUTATIONS.map((mutation) => `${mutation.group}: ${mutation.name}`)).size).toBe(MUTATIONS.length);
  });

  test.each(MUTATIONS.map((mutation) => [`${mutation.group}: ${mutation.name}`, mutation] as const))(
    '%s does not verify from an OCI layout',
    async (_name, mutation) => {
      const outcome = await verify(await inLayout(storedContent(mutation.build())));

      expect(outcome.verified).toBe(false);
      const { category, reason } = failureOf(outcome);
      expect(reason.trim()).not.toBe('');
      expect(category).toBe(mutation.expected);
      if (mutation.reason) expect(reason).toMatch(mutation.reason);
    },
  );

  test('the same verdicts come from the registry for an envelope mutation of several groups', async () => {
    const groups = new Map<string, Mutation>();
    for (const mutation of MUTATIONS) {
      const tampered = mutation.build();
      const envelopeOnly = !tampered.manifest && !tampered.layerMediaType && tampered.envelope.byteLength > 0;
      if (envelopeOnly && !groups.has(mutation.group)) groups.set(mutation.group, mutation);
    }
    const sample = [...groups.values()].filter((_, index) => index % 2 === 0);
    expect(sample.length).toBeGreaterThanOrEqual(4);
    await Promise.all(sample.map(async (mutation) => {
      const content = storedContent(mutation.build());
      const [fromRegistry, fromLayout] = await Promise.all([inRegistry(content).then(verify), inLayout(content).then(verify)]);
      expect([mutation.name, fromRegistry.verified]).toEqual([mutation.name, false]);
      expect([mutation.name, failureOf(fromRegistry)]).toEqual([mutation.name, failureOf(fromLayout)]);
    }));
  });
});
