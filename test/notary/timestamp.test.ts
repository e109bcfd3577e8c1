/**
 * RFC 3161 timestamp countersignatures (specs/signature-specification.md and
 * specs/signing-and-verification-workflow.md): tokens are made by a test TSA
 * with pkijs over the primitive signature of real envelopes, then checked by verifyTimestamp and, through a
 * trust policy with a `tsa:` store, by the authentic timestamp step of the verifier.
 */
import 'reflect-metadata';
import { createHash, webcrypto } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as asn1js from 'asn1js';
import {
  Accuracy,
  AlgorithmIdentifier,
  Attribute,
  Certificate,
  ContentInfo,
  CryptoEngine,
  EncapsulatedContentInfo,
  IssuerAndSerialNumber,
  MessageImprint,
  setEngine,
  SignedAndUnsignedAttributes,
  SignedData,
  SignerInfo,
  TSTInfo,
} from 'pkijs';
import { policyStatement, randomTarget, resultOf, signTarget } from './helpers';
import { parseCertificate, toArrayBuffer } from '../../lambda/notary/certificate';
import { Header } from '../../lambda/notary/jws';
import { buildPayload } from '../../lambda/notary/payload';
import { buildSignatureManifest } from '../../lambda/notary/signature-manifest';
import { verifyTimestamp } from '../../lambda/notary/timestamp';
import { effectiveVerification, trustAnchorsFor } from '../../lambda/notary/trust-policy';
import { SignatureVerification } from '../../lambda/notary/types';
import { verifyImage } from '../../lambda/notary/verify-image';
import { verifySignature } from '../../lambda/notary/verify-signature';
import { sha256Digest } from '../../lambda/oci/digest';
import { OciLayoutRepository } from '../../lambda/oci/layout-repository';
import { MediaType } from '../../lambda/oci/media-types';
import { Descriptor } from '../../lambda/oci/types';
import { LocalKeySigner } from '../../lambda/signers/local-key';
import { parseTrustPolicy, SignatureVerificationSettings } from '../../src/shared/trust-policy';
import { createRandomImage, pushImage } from '../util/images';
import { createIntermediate, createLeaf, createRoot, createTsaLeaf, TestCertificate } from '../util/pki';

setEngine('node', new CryptoEngine({ name: 'node', crypto: webcrypto as unknown as ConstructorParameters<typeof CryptoEngine>[0]['crypto'] }));

const DAY = 86400_000;
const SECOND = 1000;
const OIDS = {
  sha1: '1.3.14.3.2.26',
  sha256: '2.16.840.1.101.3.4.2.1',
  sha384: '2.16.840.1.101.3.4.2.2',
  sha512: '2.16.840.1.101.3.4.2.3',
  signedData: '1.2.840.113549.1.7.2',
  data: '1.2.840.113549.1.7.1',
  tstInfo: '1.2.840.113549.1.9.16.1.4',
  contentType: '1.2.840.113549.1.9.3',
  messageDigest: '1.2.840.113549.1.9.4',
  signingCertificateV2: '1.2.840.113549.1.9.16.2.47',
} as const;
type Hash = 'sha1' | 'sha256' | 'sha384' | 'sha512';
const WEB_HASH: Record<Exclude<Hash, 'sha1'>, string> = { sha256: 'SHA-256', sha384: 'SHA-384', sha512: 'SHA-512' };

interface TokenOptions {
  /** The TSA certificate that signs; its key signs the token. */
  readonly tsa: TestCertificate;
  /** Certificates carried in the token. @default [tsa] */
  readonly certificates?: readonly TestCertificate[];
  readonly genTime: Date;
  /** The message imprint's hash algorithm. @default sha256 */
  readonly imprintHash?: Hash;
  readonly accuracy?: { readonly seconds?: number; readonly millis?: number };
  /** The encapsulated content type. @default id-ct-TSTInfo */
  readonly contentType?: string;
  /** The certificate the ESS SigningCertificateV2 attribute names; null leaves the attribute out. @default tsa */
  readonly essCertificate?: TestCertificate | null;
  /** The hash of that attribute's ESSCertIDv2. @default sha256 */
  readonly essHash?: 'sha256' | 'sha384';
}

/** DER of an ESS SigningCertificateV2 attribute value naming `certificate` (SHA-256, the default, is left implicit). */
function signingCertificateV2(certificate: TestCertificate, hash: 'sha256' | 'sha384' = 'sha256'): asn1js.Sequence {
  const certHash = new asn1js.OctetString({ valueHex: createHash(hash).update(certificate.der).digest() });
  const algorithm = new AlgorithmIdentifier({ algorithmId: OIDS[hash] }).toSchema();
  const essCertIdV2 = new asn1js.Sequence({ value: hash === 'sha256' ? [certHash] : [algorithm, certHash] });
  return new asn1js.Sequence({ value: [new asn1js.Sequence({ value: [essCertIdV2] })] });
}

/** The ESS SigningCertificateV2 signed attribute naming `certificate`. */
function essAttribute(certificate: TestCertificate, hash?: 'sha256' | 'sha384'): Attribute {
  return new Attribute({ type: OIDS.signingCertificateV2, values: [signingCertificateV2(certificate, hash)] });
}

/**
 * The encapsulated content as a TSA writes it: DER, a primitive OCTET STRING (pkijs' constructor would
 * split it into a constructed BER string, which no TSA sends).
 */
function encapsulated(eContentType: string, content: ArrayBuffer): EncapsulatedContentInfo {
  const info = new EncapsulatedContentInfo({ eContentType });
  info.eContent = new asn1js.OctetString({ valueHex: content });
  return info;
}

/** An RFC 3161 TimeStampToken over `message`, signed by the test TSA as a real TSA signs it. */
async function timestampToken(message: Uint8Array, options: TokenOptions): Promise<Uint8Array> {
  const imprintHash = options.imprintHash ?? 'sha256';
  const tstInfo = new TSTInfo({
    version: 1,
    policy: '1.3.6.1.4.1.4146.2.3',
    messageImprint: new MessageImprint({
      hashAlgorithm: new AlgorithmIdentifier({ algorithmId: OIDS[imprintHash] }),
      hashedMessage: new asn1js.OctetString({ valueHex: createHash(imprintHash).update(message).digest() }),
    }),
    serialNumber: new asn1js.Integer({ value: Math.floor(Math.random() * 1_000_000) }),
    genTime: options.genTime,
    ...(options.accuracy ? { accuracy: new Accuracy(options.accuracy) } : {}),
  });
  const tstInfoDer = tstInfo.toSchema().toBER(false);
  const contentType = options.contentType ?? OIDS.tstInfo;
  const tsaCertificate = Certificate.fromBER(toArrayBuffer(options.tsa.der));
  const signedData = new SignedData({
    version: 3,
    encapContentInfo: encapsulated(contentType, tstInfoDer),
    signerInfos: [
      new SignerInfo({
        version: 1,
        sid: new IssuerAndSerialNumber({ issuer: tsaCertificate.issuer, serialNumber: tsaCertificate.serialNumber }),
        signedAttrs: new SignedAndUnsignedAttributes({
          type: 0,
          attributes: [
            new Attribute({ type: OIDS.contentType, values: [new asn1js.ObjectIdentifier({ value: contentType })] }),
            new Attribute({ type: OIDS.messageDigest, values: [new asn1js.OctetString({ valueHex: createHash('sha256').update(Buffer.from(tstInfoDer)).digest() })] }),
            ...(options.essCertificate === null ? [] : [essAttribute(options.essCertificate ?? options.tsa, options.essHash)]),
          ],
        }),
      }),
    ],
    certificates: (options.certificates ?? [options.tsa]).map((certificate) => Certificate.fromBER(toArrayBuffer(certificate.der))),
  });
  await signedData.sign(options.tsa.keys.privateKey, 0, WEB_HASH.sha256);
  const contentInfo = new ContentInfo({ contentType: OIDS.signedData, content: signedData.toSchema(true) });
  return new Uint8Array(contentInfo.toSchema().toBER(false));
}

/** The token with its CMS SignerInfo signature's last byte changed. */
function withTamperedSignature(token: Uint8Array): Uint8Array {
  const contentInfo = ContentInfo.fromBER(toArrayBuffer(token));
  const signedData = new SignedData({ schema: contentInfo.content });
  const signature = new Uint8Array(signedData.signerInfos[0].signature.valueBlock.valueHexView);
  signature[signature.length - 1] = signature[signature.length - 1] === 0 ? 1 : signature[signature.length - 1] - 1;
  signedData.signerInfos[0].signature = new asn1js.OctetString({ valueHex: signature });
  return new Uint8Array(new ContentInfo({ contentType: OIDS.signedData, content: signedData.toSchema(true) }).toSchema().toBER(false));
}

/** The token with its TSTInfo replaced by `tstInfo` (the CMS signature is left as it was). */
function withReplacedTstInfo(token: Uint8Array, change: (tstInfo: TSTInfo) => void): Uint8Array {
  const contentInfo = ContentInfo.fromBER(toArrayBuffer(token));
  const signedData = new SignedData({ schema: contentInfo.content });
  const tstInfo = TSTInfo.fromBER((signedData.encapContentInfo.eContent as asn1js.OctetString).getValue());
  change(tstInfo);
  signedData.encapContentInfo = encapsulated(OIDS.tstInfo, tstInfo.toSchema().toBER(false));
  return new Uint8Array(new ContentInfo({ contentType: OIDS.signedData, content: signedData.toSchema(true) }).toSchema().toBER(false));
}

// ---------------------------------------------------------------------------------------------------
// Fixtures.

interface SigningChain {
  readonly root: TestCertificate;
  readonly intermediate: TestCertificate;
  readonly leaf: TestCertificate;
  readonly chain: Uint8Array[];
}

const target: Descriptor = randomTarget();
let now: number;
let tsaRoot: TestCertificate;
let tsa: TestCertificate;
let otherTsaRoot: TestCertificate;
let otherTsa: TestCertificate;
let noEkuTsa: TestCertificate;
let codeSigningTsa: TestCertificate;
let nonCriticalEkuTsa: TestCertificate;
let expiredTsa: TestCertificate;
let tsaIntermediate: TestCertificate;
let tsaUnderIntermediate: TestCertificate;
/** Valid from 30 days ago for a year. */
let current: SigningChain;
/** The leaf was valid from 20 to 10 days ago. */
let expired: SigningChain;

async function signingChain(leafValidity: { notBefore: Date; notAfter: Date } | undefined): Promise<SigningChain> {
  const notBefore = new Date(now - 30 * DAY);
  const root = await createRoot({ notBefore });
  const intermediate = await createIntermediate(root, { notBefore });
  const leaf = await createLeaf(intermediate, { subject: 'CN=builder,O=Acme,L=Seattle,ST=WA,C=US', notBefore, ...leafValidity });
  return { root, intermediate, leaf, chain: [leaf.der, intermediate.der, root.der] };
}

beforeAll(async () => {
  now = Date.now();
  const notBefore = new Date(now - 60 * DAY);
  tsaRoot = await createRoot({ notBefore, subject: 'CN=Test TSA Root,O=Timestamps,ST=WA,C=US' });
  otherTsaRoot = await createRoot({ notBefore });
  tsaIntermediate = await createIntermediate(tsaRoot, { notBefore });
  [tsa, otherTsa, noEkuTsa, codeSigningTsa, nonCriticalEkuTsa, expiredTsa, tsaUnderIntermediate] = await Promise.all([
    createTsaLeaf(tsaRoot, { notBefore, subject: 'CN=Test TSA,O=Timestamps,ST=WA,C=US' }),
    createTsaLeaf(otherTsaRoot, { notBefore }),
    createTsaLeaf(tsaRoot, { notBefore, extendedKeyUsage: [] }),
    createTsaLeaf(tsaRoot, { notBefore, extendedKeyUsage: ['1.3.6.1.5.5.7.3.3'] }),
    createTsaLeaf(tsaRoot, { notBefore, extendedKeyUsage: ['1.3.6.1.5.5.7.3.8'], extendedKeyUsageCritical: false }),
    createTsaLeaf(tsaRoot, { notBefore, notAfter: new Date(now - 20 * DAY) }),
    createTsaLeaf(tsaIntermediate, { notBefore }),
  ]);
  [current, expired] = await Promise.all([
    signingChain(undefined),
    signingChain({ notBefore: new Date(now - 20 * DAY), notAfter: new Date(now - 10 * DAY) }),
  ]);
});

/** A real envelope signed at `signedAt`, with its primitive signature bytes. */
async function envelopeOf(chain: SigningChain, signedAt: Date): Promise<{ envelope: Record<string, any>; signature: Uint8Array }> {
  const bytes = await signTarget({ key: chain.leaf.key, certificateChain: chain.chain, clock: () => signedAt }, target);
  const envelope = JSON.parse(Buffer.from(bytes).toString('utf8'));
  return { envelope, signature: new Uint8Array(Buffer.from(envelope.signature, 'base64url')) };
}

const parsedChain = (chain: SigningChain) => chain.chain.map((der) => parseCertificate(der));
const timestamped = (envelope: Record<string, any>, token: Uint8Array): Uint8Array =>
  new TextEncoder().encode(JSON.stringify({ ...envelope, header: { ...envelope.header, [Header.timestampSignature]: Buffer.from(token).toString('base64') } }));

// ---------------------------------------------------------------------------------------------------

describe('verifyTimestamp', () => {
  let signature: Uint8Array;
  let genTime: Date;
  let token: Uint8Array;

  beforeAll(async () => {
    const signed = await envelopeOf(current, new Date(now - 2 * DAY));
    signature = signed.signature;
    genTime = new Date(now - 2 * DAY + 5 * SECOND);
    token = await timestampToken(signature, { tsa, genTime });
  });

  test('a valid token over the signature gives the authentic signing time and the TSA', async () => {
    const verified = await verifyTimestamp(token, signature, [tsaRoot.der], parsedChain(current));

    expect(verified.genTime.toISOString()).toBe(genTime.toISOString());
    expect(verified.accuracyMs).toBe(0);
    expect(verified.tsaSubject).toBe('CN=Test TSA,O=Timestamps,ST=WA,C=US');
  });

  test('a token without the ESS signing certificate attribute fails', async () => {
    const bare = await timestampToken(signature, { tsa, genTime, essCertificate: null });
    await expect(verifyTimestamp(bare, signature, [tsaRoot.der], parsedChain(current))).rejects.toThrow(
      'timestamp countersignature has no signing certificate attribute (ESS SigningCertificate)',
    );
  });

  test('an ESS signing certificate attribute with an explicit SHA-384 hash verifies', async () => {
    const explicit = await timestampToken(signature, { tsa, genTime, essHash: 'sha384' });
    expect((await verifyTimestamp(explicit, signature, [tsaRoot.der], parsedChain(current))).genTime.toISOString()).toBe(genTime.toISOString());
  });

  test('a token whose ESS signing certificate attribute names another certificate fails', async () => {
    const misnamed = await timestampToken(signature, { tsa, genTime, essCertificate: otherTsa });
    await expect(verifyTimestamp(misnamed, signature, [tsaRoot.der], parsedChain(current))).rejects.toThrow(
      'timestamp countersignature\'s signing certificate attribute does not name its signer "CN=Test TSA,O=Timestamps,ST=WA,C=US"',
    );
  });

  test('the stated accuracy is returned', async () => {
    const withAccuracy = await timestampToken(signature, { tsa, genTime, accuracy: { seconds: 1, millis: 500 } });
    const verified = await verifyTimestamp(withAccuracy, signature, [tsaRoot.der], parsedChain(current));
    expect(verified.accuracyMs).toBe(1500);
  });

  test.each(['sha384', 'sha512'] as const)('a message imprint made with %s verifies', async (imprintHash) => {
    const other = await timestampToken(signature, { tsa, genTime, imprintHash });
    const verified = await verifyTimestamp(other, signature, [tsaRoot.der], parsedChain(current));
    expect(verified.genTime.toISOString()).toBe(genTime.toISOString());
  });

  test('a TSA certificate under an intermediate CA verifies when the token carries the intermediate', async () => {
    const chained = await timestampToken(signature, { tsa: tsaUnderIntermediate, certificates: [tsaUnderIntermediate, tsaIntermediate], genTime });
    const verified = await verifyTimestamp(chained, signature, [tsaRoot.der], parsedChain(current));
    expect(verified.genTime.toISOString()).toBe(genTime.toISOString());
  });

  test('a token over other bytes (a wrong message imprint) fails', async () => {
    const otherSignature = Uint8Array.from(signature, (byte, index) => (index === 0 ? byte ^ 1 : byte)); // eslint-disable-line no-bitwise
    const wrong = await timestampToken(otherSignature, { tsa, genTime });
    await expect(verifyTimestamp(wrong, signature, [tsaRoot.der], parsedChain(current))).rejects.toThrow(
      'timestamp countersignature does not cover the signature: its message imprint differs',
    );
  });

  test('a SHA-1 message imprint fails', async () => {
    const sha1 = await timestampToken(signature, { tsa, genTime, imprintHash: 'sha1' });
    await expect(verifyTimestamp(sha1, signature, [tsaRoot.der], parsedChain(current))).rejects.toThrow(
      `timestamp countersignature uses an unsupported hash algorithm ${OIDS.sha1}`,
    );
  });

  test('a token from a TSA that does not chain to the tsa store fails', async () => {
    const untrusted = await timestampToken(signature, { tsa: otherTsa, genTime });
    await expect(verifyTimestamp(untrusted, signature, [tsaRoot.der], parsedChain(current))).rejects.toThrow(
      "failed to verify the timestamp countersignature: Validation of signer's certificate failed: No valid certificate paths found",
    );
  });

  test('a token carrying its own untrusted root is still untrusted', async () => {
    const untrusted = await timestampToken(signature, { tsa: otherTsa, certificates: [otherTsa, otherTsaRoot], genTime });
    await expect(verifyTimestamp(untrusted, signature, [tsaRoot.der], parsedChain(current))).rejects.toThrow(
      "failed to verify the timestamp countersignature: Validation of signer's certificate failed: No valid certificate paths found",
    );
  });

  test('no trusted TSA certificates fails', async () => {
    await expect(verifyTimestamp(token, signature, [], parsedChain(current))).rejects.toThrow(
      'no trusted TSA certificates are found to verify the timestamp countersignature',
    );
  });

  test('a TSA certificate without the timestamping EKU fails', async () => {
    const codeSigning = await timestampToken(signature, { tsa: codeSigningTsa, genTime });
    await expect(verifyTimestamp(codeSigning, signature, [tsaRoot.der], parsedChain(current))).rejects.toThrow(
      /^timestamp certificate with subject ".*" is not a timestamping certificate$/,
    );
  });

  test('a TSA certificate without any EKU fails', async () => {
    const noEku = await timestampToken(signature, { tsa: noEkuTsa, genTime });
    await expect(verifyTimestamp(noEku, signature, [tsaRoot.der], parsedChain(current))).rejects.toThrow(
      /^timestamp certificate with subject ".*" is not a timestamping certificate$/,
    );
  });

  test('a TSA certificate whose timestamping EKU is not critical fails', async () => {
    const nonCritical = await timestampToken(signature, { tsa: nonCriticalEkuTsa, genTime });
    await expect(verifyTimestamp(nonCritical, signature, [tsaRoot.der], parsedChain(current))).rejects.toThrow(
      /must have a critical extended key usage extension with only the timestamping usage$/,
    );
  });

  test('a TSA certificate expired at the timestamp time fails', async () => {
    const late = await timestampToken(signature, { tsa: expiredTsa, genTime });
    await expect(verifyTimestamp(late, signature, [tsaRoot.der], parsedChain(current))).rejects.toThrow(
      "failed to verify the timestamp countersignature: Validation of signer's certificate failed: The certificate is either not yet valid or expired",
    );
  });

  test('a token whose CMS signature was tampered with fails', async () => {
    await expect(verifyTimestamp(withTamperedSignature(token), signature, [tsaRoot.der], parsedChain(current))).rejects.toThrow(
      'failed to verify the timestamp countersignature: its signature is invalid',
    );
  });

  test('a token whose TSTInfo was changed after signing (a later genTime) fails', async () => {
    const moved = withReplacedTstInfo(token, (info) => { info.genTime = new Date(genTime.getTime() + DAY); });
    await expect(verifyTimestamp(moved, signature, [tsaRoot.der], parsedChain(current))).rejects.toThrow(
      /^failed to verify the timestamp countersignature: .*Message digest doesn't match/,
    );
  });

  test('a token that is not CMS fails to parse', async () => {
    await expect(verifyTimestamp(new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x01]), signature, [tsaRoot.der], parsedChain(current))).rejects.toThrow(
      /^failed to parse timestamp countersignature: /,
    );
  });

  test('a CMS token whose content is not a TSTInfo fails', async () => {
    const data = await timestampToken(signature, { tsa, genTime, contentType: OIDS.data });
    await expect(verifyTimestamp(data, signature, [tsaRoot.der], parsedChain(current))).rejects.toThrow(
      'failed to parse timestamp countersignature: its content type is not id-ct-TSTInfo',
    );
  });

  test('a signing certificate expired at the timestamp time fails', async () => {
    const signed = await envelopeOf(expired, new Date(now - 15 * DAY));
    const afterExpiry = await timestampToken(signed.signature, { tsa, genTime: new Date(now - 5 * DAY) });
    await expect(verifyTimestamp(afterExpiry, signed.signature, [tsaRoot.der], parsedChain(expired))).rejects.toThrow(
      /^timestamp can be after certificate "CN=builder,O=Acme,L=Seattle,ST=WA,C=US" validity period, it was expired at /,
    );
  });

  test('a signing certificate not yet valid at the timestamp time fails', async () => {
    const signed = await envelopeOf(expired, new Date(now - 15 * DAY));
    const beforeValidity = await timestampToken(signed.signature, { tsa, genTime: new Date(now - 25 * DAY) });
    await expect(verifyTimestamp(beforeValidity, signed.signature, [tsaRoot.der], parsedChain(expired))).rejects.toThrow(
      /^timestamp can be before certificate "CN=builder,O=Acme,L=Seattle,ST=WA,C=US" validity period, it will be valid from /,
    );
  });

  test('the accuracy counts: a genTime inside the validity whose accuracy reaches past it fails', async () => {
    const signed = await envelopeOf(expired, new Date(now - 15 * DAY));
    const notAfter = expired.leaf.certificate.notAfter.getTime();
    const inside = new Date(notAfter - 2 * SECOND);
    const exact = await timestampToken(signed.signature, { tsa, genTime: inside, accuracy: { seconds: 1 } });
    const loose = await timestampToken(signed.signature, { tsa, genTime: inside, accuracy: { seconds: 3 } });

    expect((await verifyTimestamp(exact, signed.signature, [tsaRoot.der], parsedChain(expired))).genTime.toISOString()).toBe(inside.toISOString());
    await expect(verifyTimestamp(loose, signed.signature, [tsaRoot.der], parsedChain(expired))).rejects.toThrow(/^timestamp can be after certificate /);
  });
});

describe('the authentic timestamp step with a tsa trust store', () => {
  const IDENTITY = 'x509.subject: C=US, ST=WA, O=Acme';

  async function verify(
    chain: SigningChain,
    envelope: Uint8Array,
    settings: SignatureVerificationSettings = { level: 'strict' },
    tsaStore: Uint8Array[] | null = [tsaRoot.der],
  ): Promise<SignatureVerification> {
    const stores: Record<string, Uint8Array[]> = { 'ca:acme': [chain.root.der], ...(tsaStore ? { 'tsa:timestamps': tsaStore } : {}) };
    const statement = policyStatement(settings, Object.keys(stores), [IDENTITY]);
    return verifySignature({
      envelope,
      envelopeMediaType: MediaType.JWS,
      target,
      verification: effectiveVerification(statement),
      trustAnchors: trustAnchorsFor(statement, new Map(Object.entries(stores))),
      trustedIdentities: statement.trustedIdentities ?? [],
    });
  }

  test('a signature whose leaf has expired verifies with a trusted timestamp from its validity period', async () => {
    const signedAt = new Date(now - 15 * DAY);
    const { envelope, signature } = await envelopeOf(expired, signedAt);
    const token = await timestampToken(signature, { tsa, genTime: new Date(signedAt.getTime() + SECOND) });

    const result = await verify(expired, timestamped(envelope, token));

    expect(result.failure).toBeUndefined();
    expect(result.verified).toBe(true);
    expect(resultOf(result, 'authenticTimestamp')).toEqual({
      type: 'authenticTimestamp',
      action: 'enforce',
      ok: true,
      message: `timestamped at "${new Date(signedAt.getTime() + SECOND).toISOString()}" by "CN=Test TSA,O=Timestamps,ST=WA,C=US"`,
    });
  });

  test('the same expired signature without a tsa store fails on the verification time', async () => {
    const { envelope, signature } = await envelopeOf(expired, new Date(now - 15 * DAY));
    const token = await timestampToken(signature, { tsa, genTime: new Date(now - 15 * DAY) });

    const result = await verify(expired, timestamped(envelope, token), { level: 'strict' }, null);

    expect(result.verified).toBe(false);
    expect(result.failure).toMatch(/^verification time is after certificate "CN=builder,O=Acme,L=Seattle,ST=WA,C=US" validity period, it was expired at /);
    expect(resultOf(result, 'authenticTimestamp').ok).toBe(false);
  });

  test('verifyTimestamp always: a current signature with a valid token passes through the timestamp', async () => {
    const { envelope, signature } = await envelopeOf(current, new Date(now - DAY));
    const token = await timestampToken(signature, { tsa, genTime: new Date(now - DAY) });

    const result = await verify(current, timestamped(envelope, token), { level: 'strict', verifyTimestamp: 'always' });

    expect(result.verified).toBe(true);
    expect(resultOf(result, 'authenticTimestamp').message).toMatch(/^timestamped at ".*" by "CN=Test TSA,O=Timestamps,ST=WA,C=US"$/);
  });

  test('verifyTimestamp always: a signature without a token fails', async () => {
    const { envelope } = await envelopeOf(current, new Date(now - DAY));

    const result = await verify(current, new TextEncoder().encode(JSON.stringify(envelope)));

    expect(result.verified).toBe(false);
    expect(result.failure).toBe('no timestamp countersignature was found in the signature envelope');
  });

  test.each([
    ['from an untrusted TSA', () => ({ tsa: otherTsa }), /^failed to verify the timestamp countersignature: /],
    ['from a TSA certificate without the timestamping EKU', () => ({ tsa: codeSigningTsa }), /is not a timestamping certificate$/],
    ['over another signature', () => ({ message: new Uint8Array(64) }), /does not cover the signature: its message imprint differs$/],
    ['with a tampered CMS signature', () => ({ tamper: true }), /^failed to verify the timestamp countersignature: its signature is invalid$/],
    ['after the signing certificate expired', () => ({ genTime: new Date(now - 5 * DAY) }), /^timestamp can be after certificate "CN=builder/],
  ] as const)('an expired signature with a token %s fails under strict', async (_name, options, message) => {
    const signedAt = new Date(now - 15 * DAY);
    const { envelope, signature } = await envelopeOf(expired, signedAt);
    const made = options() as { tsa?: TestCertificate; message?: Uint8Array; tamper?: boolean; genTime?: Date };
    let token = await timestampToken(made.message ?? signature, { tsa: made.tsa ?? tsa, genTime: made.genTime ?? signedAt });
    if (made.tamper) token = withTamperedSignature(token);

    const result = await verify(expired, timestamped(envelope, token));

    expect(result.verified).toBe(false);
    expect(result.failure).toMatch(message);
    expect(resultOf(result, 'authenticTimestamp')).toMatchObject({ action: 'enforce', ok: false });
  });

  test('verifyTimestamp afterCertExpiry: a current signature needs no token', async () => {
    const { envelope } = await envelopeOf(current, new Date(now - DAY));

    const result = await verify(current, new TextEncoder().encode(JSON.stringify(envelope)), { level: 'strict', verifyTimestamp: 'afterCertExpiry' });

    expect(result.verified).toBe(true);
    expect(resultOf(result, 'authenticTimestamp').message).toBe('every certificate is valid at the verification time (no trusted timestamp required)');
  });

  test('verifyTimestamp afterCertExpiry: an expired signature needs a valid token', async () => {
    const signedAt = new Date(now - 15 * DAY);
    const { envelope, signature } = await envelopeOf(expired, signedAt);
    const token = await timestampToken(signature, { tsa, genTime: signedAt });
    const settings: SignatureVerificationSettings = { level: 'strict', verifyTimestamp: 'afterCertExpiry' };

    const withToken = await verify(expired, timestamped(envelope, token), settings);
    const withoutToken = await verify(expired, new TextEncoder().encode(JSON.stringify(envelope)), settings);

    expect(withToken.verified).toBe(true);
    expect(withoutToken.verified).toBe(false);
    expect(withoutToken.failure).toBe('no timestamp countersignature was found in the signature envelope');
  });

  test('permissive logs a failed timestamp and verifies', async () => {
    const signedAt = new Date(now - 15 * DAY);
    const { envelope, signature } = await envelopeOf(expired, signedAt);
    const token = await timestampToken(signature, { tsa: otherTsa, genTime: signedAt });

    const result = await verify(expired, timestamped(envelope, token), { level: 'permissive' });

    expect(result.verified).toBe(true);
    expect(resultOf(result, 'authenticTimestamp')).toMatchObject({ action: 'log', ok: false });
  });

  test('a token that is not base64 makes the envelope invalid', async () => {
    const { envelope } = await envelopeOf(current, new Date(now - DAY));
    const bytes = new TextEncoder().encode(JSON.stringify({ ...envelope, header: { ...envelope.header, [Header.timestampSignature]: 'not base64!' } }));

    const result = await verify(current, bytes);

    expect(result.verified).toBe(false);
    expect(resultOf(result, 'integrity').ok).toBe(false);
    expect(result.failure).toMatch(/^signature envelope is not valid: .*io\.cncf\.notary\.timestampSignature/);
  });
});

describe('verifyImage with a trust policy naming a tsa store', () => {
  /** An OCI layout with a new image and one signature by the expired leaf, timestamped by `tsaCertificate` when given. */
  async function layoutWithSignature(tsaCertificate: TestCertificate | undefined): Promise<OciLayoutRepository> {
    const repository = new OciLayoutRepository(join(mkdtempSync(join(tmpdir(), 'timestamp-')), 'app'));
    const image = createRandomImage();
    const subject = await pushImage(repository, image, 'v1');
    const signedAt = new Date(now - 15 * DAY);
    const signer = new LocalKeySigner({ key: expired.leaf.key, certificateChain: expired.chain, clock: () => signedAt });
    let envelope = (await signer.sign(buildPayload(subject))).envelope;
    if (tsaCertificate) {
      const json = JSON.parse(Buffer.from(envelope).toString('utf8'));
      const token = await timestampToken(Buffer.from(json.signature, 'base64url'), { tsa: tsaCertificate, genTime: signedAt });
      envelope = timestamped(json, token);
    }
    await repository.pushBlob(new TextEncoder().encode('{}'), MediaType.OCI_EMPTY);
    await repository.pushBlob(envelope, MediaType.JWS);
    const layer = { mediaType: MediaType.JWS, digest: sha256Digest(envelope), size: envelope.byteLength };
    const manifest = buildSignatureManifest({ subject, envelope: layer, format: 'oci-1.1', envelopeBytes: envelope, signingTime: signedAt });
    await repository.pushManifest(manifest, MediaType.OCI_MANIFEST);
    return repository;
  }

  function verifyLayout(repository: OciLayoutRepository) {
    const policy = parseTrustPolicy({
      version: '1.0',
      trustPolicies: [{
        name: 'timestamped',
        registryScopes: ['local/app'],
        signatureVerification: { level: 'strict' },
        trustStores: ['ca:acme', 'tsa:timestamps'],
        trustedIdentities: ['x509.subject: C=US, ST=WA, O=Acme'],
      }],
    });
    const stores = new Map([['ca:acme', [expired.root.der]], ['tsa:timestamps', [tsaRoot.der]]]);
    return verifyImage({ repository, tagOrDigest: 'v1', displayReference: `${repository.name}:v1`, scope: 'local/app', policy, stores });
  }

  test('an image signed by a now expired certificate verifies with a trusted timestamp', async () => {
    const outcome = await verifyLayout(await layoutWithSignature(tsa));

    expect(outcome.error).toBeUndefined();
    expect(outcome.verified).toBe(true);
    expect(outcome.results.find((result) => result.type === 'authenticTimestamp')).toMatchObject({ action: 'enforce', ok: true });
  });

  test('the same image without a timestamp, or with one from an untrusted TSA, does not verify', async () => {
    const [missing, untrusted] = await Promise.all([
      layoutWithSignature(undefined).then(verifyLayout),
      layoutWithSignature(otherTsa).then(verifyLayout),
    ]);

    expect(missing.verified).toBe(false);
    expect(missing.error?.code).toBe('verification-failed');
    expect(missing.error?.message).toContain('no timestamp countersignature was found in the signature envelope');
    expect(untrusted.verified).toBe(false);
    expect(untrusted.error?.message).toContain('failed to verify the timestamp countersignature: ');
    expect(untrusted.results.find((result) => result.type === 'authenticTimestamp')).toMatchObject({ action: 'enforce', ok: false });
  });
});
