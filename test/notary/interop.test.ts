/**
 * Interoperability with notation: the verifier reaches notation-go's published outcomes on its own test
 * vectors (test/fixtures/notation-go, see SOURCE.md), and what this library signs has exactly the structure
 * notation writes and `notation verify` reads (specs/signature-specification.md, specs/signature-envelope-jws.md).
 */
import { createHash, constants, verify as cryptoVerify, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  decodeJson,
  envelopeJson,
  createValidChain,
  LEVELS,
  manifestDescriptor,
  policyStatement,
  randomTarget,
  resultOf,
} from './helpers';
import { parseJwsEnvelope } from '../../lambda/notary/jws';
import { buildPayload } from '../../lambda/notary/payload';
import {
  buildSignatureManifest,
  CREATED_ANNOTATION,
  parseSignatureManifest,
  SignatureManifestFormat,
  THUMBPRINT_ANNOTATION,
} from '../../lambda/notary/signature-manifest';
import { effectiveVerification, trustAnchorsFor } from '../../lambda/notary/trust-policy';
import { parseCertificateFile } from '../../lambda/notary/trust-store';
import { SignatureVerification } from '../../lambda/notary/types';
import { verifySignature } from '../../lambda/notary/verify-signature';
import { EMPTY_JSON_DIGEST, MediaType } from '../../lambda/oci/media-types';
import { Descriptor } from '../../lambda/oci/types';
import { LocalKeySigner } from '../../lambda/signers/local-key';
import { TrustPolicyStatement } from '../../src/shared/trust-policy';
import { TestChain } from '../util/pki';

const FIXTURES = join(__dirname, '..', 'fixtures', 'notation-go');
const MOCK = join(FIXTURES, 'internal', 'mock', 'testdata');
const CA_STORES = join(FIXTURES, 'verifier', 'testdata', 'truststore', 'x509', 'ca');

function fixture(...path: string[]): Uint8Array {
  return new Uint8Array(readFileSync(join(...path)));
}
const envelope = (name: string) => fixture(MOCK, name);

/** Upstream's named stores: `valid-trust-store` (NotationTestRoot) and `valid-trust-store-2` (GlobalSign). */
const NOTATION_TEST_ROOT = parseCertificateFile(fixture(CA_STORES, 'valid-trust-store', 'NotationTestRoot.pem'), 'NotationTestRoot.pem');
const GLOBALSIGN = parseCertificateFile(fixture(CA_STORES, 'valid-trust-store-2', 'GlobalSignRootCA.crt'), 'GlobalSignRootCA.crt');
const STORES = new Map<string, Uint8Array[]>([
  ['ca:valid-trust-store', NOTATION_TEST_ROOT],
  ['signingAuthority:valid-trust-store', NOTATION_TEST_ROOT],
  ['ca:valid-trust-store-2', GLOBALSIGN],
  ['signingAuthority:valid-trust-store-2', GLOBALSIGN],
]);

/** The artifact the `ca_*`/`sa_*` envelopes sign (upstream's mock descriptor). */
const NET_MONITOR: Descriptor = {
  mediaType: MediaType.DOCKER_MANIFEST,
  digest: 'sha256:60043cf45eaebc4c0867fea485a039b598f52fd09fd5b07b0b2d2f88fad9d74e',
  size: 528,
};
const SCOPE = 'registry.acme-rockets.io/software/net-monitor';
const TEST_ROOT_IDENTITY = 'x509.subject:CN=Notation Test Root,O=Notary,L=Seattle,ST=WA,C=US';

/** Upstream's `dummyOCIPolicyDocument` statement at `level`, with its stores or identity replaced. */
function dummyStatement(
  level: 'strict' | 'permissive' | 'audit',
  options: { stores?: string; identity?: string } = {},
): TrustPolicyStatement {
  const store = options.stores ?? 'valid-trust-store';
  return policyStatement({ level }, [`ca:${store}`, `signingAuthority:${store}`], [options.identity ?? TEST_ROOT_IDENTITY], [SCOPE]);
}

async function verifyVector(
  bytes: Uint8Array,
  statement: TrustPolicyStatement,
  target: Descriptor = NET_MONITOR,
  userMetadata?: Record<string, string>,
): Promise<SignatureVerification> {
  return verifySignature({
    envelope: bytes,
    envelopeMediaType: MediaType.JWS,
    target,
    verification: effectiveVerification(statement),
    trustAnchors: trustAnchorsFor(statement, STORES),
    trustedIdentities: statement.trustedIdentities ?? [],
    userMetadata,
  });
}

describe('notation-go test vectors', () => {
  describe.each(['ca', 'sa'])('%s envelopes', (scheme) => {
    test.each(LEVELS)(`${scheme}_valid_sig_env.json verifies at level %s`, async (level) => {
      const result = await verifyVector(envelope(`${scheme}_valid_sig_env.json`), dummyStatement(level));
      expect(result.failure).toBeUndefined();
      expect(result.verified).toBe(true);
      expect(result.envelope?.signingScheme).toBe(scheme === 'ca' ? 'notary.x509' : 'notary.x509.signingAuthority');
      for (const type of ['integrity', 'authenticity', 'authenticTimestamp', 'expiry', 'revocation'] as const) {
        expect(resultOf(result, type).ok).toBe(true);
      }
    });

    test(`${scheme}_valid_sig_env.json with store valid-trust-store-2 fails authenticity`, async () => {
      const result = await verifyVector(envelope(`${scheme}_valid_sig_env.json`), dummyStatement('strict', { stores: 'valid-trust-store-2' }));
      expect(result.verified).toBe(false);
      expect(resultOf(result, 'authenticity')).toMatchObject({ action: 'enforce', ok: false });
      expect(result.failure).toMatch(/^signature is not produced by a trusted signer/);
    });

    test(`${scheme}_valid_sig_env.json with identity CN=LOL fails the trusted identity`, async () => {
      const statement = dummyStatement('strict', { identity: 'x509.subject:CN=LOL,O=DummyOrg,L=Hyderabad,ST=TG,C=IN' });
      const result = await verifyVector(envelope(`${scheme}_valid_sig_env.json`), statement);
      expect(result.verified).toBe(false);
      expect(resultOf(result, 'authenticity')).toMatchObject({ action: 'enforce', ok: false });
      expect(result.failure).toMatch(/^signing certificate from the digital signature does not match the X\.509 trusted identities/);
    });

    test.each(LEVELS)(`${scheme}_invalid_sig_env.json fails integrity at level %s`, async (level) => {
      const result = await verifyVector(envelope(`${scheme}_invalid_sig_env.json`), dummyStatement(level));
      expect(result.verified).toBe(false);
      expect(result.results).toEqual([expect.objectContaining({ type: 'integrity', action: 'enforce', ok: false })]);
      // The vectors corrupt the payload encoding: notation fails integrity, and so does this verifier.
      expect(result.failure).toMatch(/^signature (envelope is not valid|is invalid)/);
    });

    test(`${scheme}_expired_sig_env.json fails expiry at level strict`, async () => {
      const result = await verifyVector(envelope(`${scheme}_expired_sig_env.json`), dummyStatement('strict'));
      expect(result.verified).toBe(false);
      expect(resultOf(result, 'expiry')).toMatchObject({ action: 'enforce', ok: false });
      expect(result.failure).toBe('digital signature has expired on "2022-07-29T23:59:00.000Z"');
    });

    test.each(['permissive', 'audit'] as const)(`${scheme}_expired_sig_env.json logs the expiry failure at level %s`, async (level) => {
      const result = await verifyVector(envelope(`${scheme}_expired_sig_env.json`), dummyStatement(level));
      expect(result.verified).toBe(true);
      expect(result.failure).toBeUndefined();
      expect(resultOf(result, 'expiry')).toMatchObject({ action: 'log', ok: false });
      expect(resultOf(result, 'expiry').message).toMatch(/^digital signature has expired on/);
    });

    test.each(LEVELS)(`${scheme}_plugin_sig_env.json (plugin "plugin-name" is not available) fails at level %s`, async (level) => {
      const result = await verifyVector(envelope(`${scheme}_plugin_sig_env.json`), dummyStatement(level));
      expect(result.verified).toBe(false);
      expect(resultOf(result, 'integrity')).toMatchObject({ action: 'enforce', ok: false });
      expect(result.failure).toContain('"plugin-name"');
    });
  });

  test.each(['ca_compatible_pluginver_sig_env_1.0.0.json', 'ca_incompatible_pluginver_sig_env_1.0.1.json'])(
    '%s (plugin io.cncf.notary.plugin.unittest.mock is not available) fails',
    async (name) => {
      const bytes = envelope(name);
      const signed = decodeJson(envelopeJson(bytes).payload).targetArtifact as Descriptor;
      const leaf = new Uint8Array(Buffer.from(envelopeJson(bytes).header.x5c[0], 'base64'));
      const statement = policyStatement({ level: 'audit' }, ['ca:self'], ['*'], [SCOPE]);
      const result = await verifySignature({
        envelope: bytes,
        envelopeMediaType: MediaType.JWS,
        target: signed,
        verification: effectiveVerification(statement),
        trustAnchors: trustAnchorsFor(statement, new Map([['ca:self', [leaf]]])),
        trustedIdentities: ['*'],
      });
      expect(result.verified).toBe(false);
      expect(result.failure).toContain('"io.cncf.notary.plugin.unittest.mock"');
    },
  );

  describe('sig_env_with_metadata.json at level audit', () => {
    const bytes = envelope('sig_env_with_metadata.json');
    // The descriptor it signs is in its payload.
    const target = (decodeJson(envelopeJson(bytes).payload).targetArtifact as Descriptor & { annotations: Record<string, string> });
    const { annotations, ...descriptor } = target;
    const statement = policyStatement({ level: 'audit' }, ['ca:valid-trust-store'], [TEST_ROOT_IDENTITY], [SCOPE]);

    test('the payload carries the upstream annotations', () => {
      expect(annotations).toEqual({ 'io.wabbit-networks.buildId': '123', 'io.wabbit-networks.buildTime': '1672944615' });
    });

    test('user metadata io.wabbit-networks.buildId=123 passes', async () => {
      const result = await verifyVector(bytes, statement, descriptor, { 'io.wabbit-networks.buildId': '123' });
      expect(result.failure).toBeUndefined();
      expect(result.verified).toBe(true);
      expect(resultOf(result, 'integrity').ok).toBe(true);
      // Its certificate expired on 2023-01-12: logged at audit level.
      expect(resultOf(result, 'authenticTimestamp')).toMatchObject({ action: 'log', ok: false });
    });

    test('user metadata io.wabbit-networks.buildId=321 fails', async () => {
      const result = await verifyVector(bytes, statement, descriptor, { 'io.wabbit-networks.buildId': '321' });
      expect(result.verified).toBe(false);
      expect(result.failure).toBe('unable to find specified metadata in the signature: io.wabbit-networks.buildId=321');
    });
  });

  describe('jws_signature.sig (notation sign over the alpine manifest)', () => {
    const TESTDATA = join(FIXTURES, 'internal', 'testdata');
    const bytes = fixture(TESTDATA, 'jws_signature.sig');
    const manifest = fixture(TESTDATA, 'oci-layout', 'blobs', 'sha256', '19dbd2e48e921426ee8ace4dc892edfb2ecdc1d1a72d5416c83670c30acecef0');
    const alpine = manifestDescriptor(manifest, JSON.parse(Buffer.from(manifest).toString()).mediaType);
    const selfSigned = new Uint8Array(Buffer.from(envelopeJson(bytes).header.x5c[0], 'base64'));

    test('the alpine manifest is the 481-byte OCI manifest sha256:19dbd2e4…', () => {
      expect(alpine).toEqual({
        mediaType: MediaType.OCI_MANIFEST,
        digest: 'sha256:19dbd2e48e921426ee8ace4dc892edfb2ecdc1d1a72d5416c83670c30acecef0',
        size: 481,
      });
    });

    test.each(LEVELS)('verifies at level %s with its own certificate as trust anchor', async (level) => {
      const statement = policyStatement({ level }, ['ca:alpine'], ['x509.subject:CN=alpine,O=Notary,ST=WA,C=US']);
      const result = await verifySignature({
        envelope: bytes,
        envelopeMediaType: MediaType.JWS,
        target: alpine,
        verification: effectiveVerification(statement),
        trustAnchors: trustAnchorsFor(statement, new Map([['ca:alpine', [selfSigned]]])),
        trustedIdentities: statement.trustedIdentities ?? [],
      });
      expect(result.failure).toBeUndefined();
      expect(result.verified).toBe(true);
      expect(result.results.every((check) => check.ok)).toBe(true);
      expect(result.envelope?.algorithm).toBe('PS256');
    });
  });
});

describe('what LocalKeySigner and buildSignatureManifest produce has notation\'s structure', () => {
  let ec: TestChain;
  let rsa: TestChain;
  const target = randomTarget();
  const signingTime = new Date('2025-01-21T09:17:46.789Z');
  const VALIDITY = { notBefore: new Date('2024-01-01T00:00:00Z'), notAfter: new Date('2026-01-01T00:00:00Z') };

  beforeAll(async () => {
    [ec, rsa] = await Promise.all([createValidChain(VALIDITY), createValidChain({ ...VALIDITY, keySpec: 'RSA-2048' })]);
  });

  async function sign(chain: TestChain, annotations?: Record<string, string>) {
    const signer = new LocalKeySigner({ key: chain.leaf.keyPem, certificateChain: chain.chainPem, expirySeconds: 86400, clock: () => signingTime });
    return signer.sign(buildPayload(target, annotations));
  }

  test('the envelope is flattened JWS JSON with notation\'s keys and encodings', async () => {
    const { envelope: bytes, mediaType } = await sign(ec);
    expect(mediaType).toBe('application/jose+json');
    const json = envelopeJson(bytes);
    expect(Object.keys(json).sort()).toEqual(['header', 'payload', 'protected', 'signature']);
    expect(Object.keys(json.header).sort()).toEqual(['io.cncf.notary.signingAgent', 'x5c']);
    // Unpadded base64url for the JWS parts.
    for (const part of ['payload', 'protected', 'signature']) {
      expect(json[part]).toMatch(/^[A-Za-z0-9_-]+$/);
      expect(Buffer.from(json[part], 'base64url').toString('base64url')).toBe(json[part]);
    }
    // Padded standard base64 for x5c (Go []byte), the chain in order, leaf first.
    expect(json.header.x5c).toEqual(ec.chain.map((der) => Buffer.from(der).toString('base64')));
    for (const entry of json.header.x5c) expect(entry).toMatch(/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/);
  });

  test('the protected header has sorted keys, cty, crit and whole-second times', async () => {
    const { envelope: bytes } = await sign(ec);
    const text = Buffer.from(envelopeJson(bytes).protected, 'base64url').toString('utf8');
    const header = JSON.parse(text);
    expect(Object.keys(header)).toEqual([...Object.keys(header)].sort());
    expect(text).toBe(JSON.stringify(header)); // no whitespace
    expect(header).toEqual({
      'alg': 'ES256',
      'crit': ['io.cncf.notary.signingScheme', 'io.cncf.notary.expiry'],
      'cty': 'application/vnd.cncf.notary.payload.v1+json',
      'io.cncf.notary.expiry': '2025-01-22T09:17:46Z',
      'io.cncf.notary.signingScheme': 'notary.x509',
      'io.cncf.notary.signingTime': '2025-01-21T09:17:46Z',
    });
  });

  test('its header keys are those of notation\'s own envelope for the same scheme', async () => {
    const notation = envelopeJson(fixture(FIXTURES, 'internal', 'testdata', 'jws_signature.sig'));
    const notationHeader = decodeJson(notation.protected);
    const ours = envelopeJson((await sign(ec)).envelope);
    const header = decodeJson(ours.protected);
    // Notation's envelope has no expiry; everything else is the same set of keys, in the same order.
    const withoutExpiry = Object.keys(header).filter((key) => key !== 'io.cncf.notary.expiry');
    expect(withoutExpiry).toEqual(Object.keys(notationHeader));
    expect(Object.keys(ours.header).sort()).toEqual(Object.keys(notation.header).sort());
    expect(header.cty).toBe(notationHeader.cty);
    expect(header['io.cncf.notary.signingScheme']).toBe(notationHeader['io.cncf.notary.signingScheme']);
  });

  test('the payload has sorted keys and only mediaType, digest, size and annotations', async () => {
    const ours = envelopeJson((await sign(ec, { 'com.example.z': '1', 'com.example.a': '2' })).envelope);
    const text = Buffer.from(ours.payload, 'base64url').toString('utf8');
    expect(text).toBe(
      `{"targetArtifact":{"annotations":{"com.example.a":"2","com.example.z":"1"},"digest":"${target.digest}","mediaType":"${target.mediaType}","size":${target.size}}}`,
    );
    const plain = envelopeJson((await sign(ec)).envelope);
    expect(Buffer.from(plain.payload, 'base64url').toString('utf8')).toBe(
      `{"targetArtifact":{"digest":"${target.digest}","mediaType":"${target.mediaType}","size":${target.size}}}`,
    );
  });

  test('ECDSA signatures are raw r||s and RSASSA-PSS signatures use a salt as long as the hash', async () => {
    const ecEnvelope = envelopeJson((await sign(ec)).envelope);
    const ecSignature = Buffer.from(ecEnvelope.signature, 'base64url');
    expect(ecSignature.byteLength).toBe(64);
    const ecLeaf = new X509Certificate(ec.chain[0]).publicKey;
    const ecInput = Buffer.from(`${ecEnvelope.protected}.${ecEnvelope.payload}`);
    expect(cryptoVerify('sha256', ecInput, { key: ecLeaf, dsaEncoding: 'ieee-p1363' }, ecSignature)).toBe(true);

    const rsaEnvelope = envelopeJson((await sign(rsa)).envelope);
    expect(decodeJson(rsaEnvelope.protected).alg).toBe('PS256');
    const rsaLeaf = new X509Certificate(rsa.chain[0]).publicKey;
    const rsaInput = Buffer.from(`${rsaEnvelope.protected}.${rsaEnvelope.payload}`);
    const rsaSignature = Buffer.from(rsaEnvelope.signature, 'base64url');
    const pss = (saltLength: number) => cryptoVerify('sha256', rsaInput, { key: rsaLeaf, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength }, rsaSignature);
    expect(pss(32)).toBe(true);
    expect(pss(20)).toBe(false);
  });

  test('the empty config blob {} has digest sha256:44136fa…', () => {
    expect(`sha256:${createHash('sha256').update('{}').digest('hex')}`).toBe(EMPTY_JSON_DIGEST);
    expect(EMPTY_JSON_DIGEST).toBe('sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a');
    expect(Buffer.from('e30=', 'base64').toString()).toBe('{}');
  });

  const expectedManifest = (format: SignatureManifestFormat, bytes: Uint8Array, chain: TestChain) => {
    const thumbprints = chain.chain.map((der) => createHash('sha256').update(der).digest('hex'));
    return {
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      ...(format === 'oci-1.1' ? { artifactType: 'application/vnd.cncf.notary.signature' } : {}),
      config: format === 'oci-1.1'
        ? { mediaType: 'application/vnd.oci.empty.v1+json', digest: EMPTY_JSON_DIGEST, size: 2, data: 'e30=' }
        : { mediaType: 'application/vnd.cncf.notary.signature', digest: EMPTY_JSON_DIGEST, size: 2 },
      layers: [{ mediaType: 'application/jose+json', digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}`, size: bytes.byteLength }],
      subject: { mediaType: target.mediaType, digest: target.digest, size: target.size },
      annotations: {
        'io.cncf.notary.x509chain.thumbprint#S256': JSON.stringify(thumbprints),
        'org.opencontainers.image.created': '2025-01-21T09:17:46Z',
      },
    };
  };

  test.each(['oci-1.1', 'legacy'] as const)('the %s signature manifest has exactly notation\'s fields', async (format) => {
    const { envelope: bytes } = await sign(ec);
    const manifest = buildSignatureManifest({
      subject: target,
      envelope: manifestDescriptor(bytes, MediaType.JWS),
      format,
      envelopeBytes: bytes,
      signingTime,
    });
    const json = JSON.parse(Buffer.from(manifest).toString('utf8'));
    expect(json).toEqual(expectedManifest(format, bytes, ec));
    // The thumbprint annotation is a JSON array of lowercase hex, one per x5c certificate.
    const thumbprints = JSON.parse(json.annotations[THUMBPRINT_ANNOTATION]);
    expect(thumbprints).toHaveLength(3);
    for (const thumbprint of thumbprints) expect(thumbprint).toMatch(/^[0-9a-f]{64}$/);
    expect(json.annotations[CREATED_ANNOTATION]).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
    // And the library reads what it writes.
    expect(parseSignatureManifest(manifest, target)).toMatchObject({ format, envelope: manifestDescriptor(bytes, MediaType.JWS) });
  });

  test('AWS Signer metadata annotations are merged into the manifest', async () => {
    const { envelope: bytes } = await sign(ec);
    const manifest = buildSignatureManifest({
      subject: target,
      envelope: manifestDescriptor(bytes, MediaType.JWS),
      format: 'oci-1.1',
      envelopeBytes: bytes,
      annotations: { 'com.amazonaws.signer.signingJob': 'job' },
      signingTime,
    });
    const { annotations } = JSON.parse(Buffer.from(manifest).toString('utf8'));
    expect(Object.keys(annotations).sort()).toEqual(['com.amazonaws.signer.signingJob', CREATED_ANNOTATION, THUMBPRINT_ANNOTATION].sort());
  });

  test('the envelope parses as notation parses it and verifies at strict', async () => {
    const { envelope: bytes } = await sign(ec);
    const parsed = parseJwsEnvelope(bytes);
    expect(parsed).toMatchObject({ algorithm: 'ES256', signingScheme: 'notary.x509', expiry: new Date('2025-01-22T09:17:46Z') });
    expect(parsed.signingTime?.getTime()).toBe(new Date('2025-01-21T09:17:46Z').getTime());
    const statement = policyStatement({ level: 'strict' }, ['ca:test'], ['*']);
    const result = await verifySignature({
      envelope: bytes,
      envelopeMediaType: MediaType.JWS,
      target,
      verification: effectiveVerification(statement),
      trustAnchors: trustAnchorsFor(statement, new Map([['ca:test', [ec.root.der]]])),
      trustedIdentities: ['*'],
      now: new Date('2025-01-21T12:00:00Z'),
    });
    expect(result.failure).toBeUndefined();
    expect(result.verified).toBe(true);
  });
});
