/**
 * OCSP and CRL checking of X.509 chains against a loopback responder, with the rules of notation-core-go
 * revocation (revocation.go ValidateContext, internal/ocsp/ocsp.go, internal/crl/crl.go), and what
 * verifySignature makes of the result for signing chains (notation-go verifier.go verifyRevocation).
 */
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { parseCertificate } from '../../lambda/notary/certificate';
import { CertificateRevocation } from '../../lambda/notary/types';
import { verifySignature } from '../../lambda/notary/verify-signature';
import { MediaType } from '../../lambda/oci/media-types';
import { OcspCrlRevocationValidator, RevocationFetcher } from '../../lambda/revocation/certificate-revocation';
import { httpRevocationFetcher } from '../../lambda/revocation/http-fetcher';
import { LEVELS, randomTarget, resultOf, signTarget, verificationFor } from '../notary/helpers';
import { startOpensslTsa } from '../util/openssl-tsa';
import { createIntermediate, createLeaf, createRoot, TestCertificate } from '../util/pki';
import { RevocationResponder, startRevocationResponder } from '../util/revocation-responder';

const DAY = 24 * 3600_000;
let responder: RevocationResponder;
let root: TestCertificate;
let ca: TestCertificate;
let otherCa: TestCertificate;
let unique = 0;

beforeAll(async () => {
  responder = await startRevocationResponder();
  root = await createRoot();
  ca = await createIntermediate(root, { subject: 'CN=Issuing CA,O=Acme,ST=WA,C=US' });
  otherCa = await createIntermediate(root, { subject: 'CN=Other CA,O=Acme,ST=WA,C=US' });
});
afterAll(() => responder.close());

/** A leaf under `ca` whose OCSP responder and CRL distribution point are named after it. */
async function leafWith(endpoints: { ocsp?: boolean; crl?: boolean; freshestCrl?: boolean }, issuer = ca) {
  const name = `leaf-${++unique}`;
  const leaf = await createLeaf(issuer, {
    subject: `CN=${name},O=Acme,ST=WA,C=US`,
    ocspUrl: endpoints.ocsp ? `${responder.url}/ocsp/${name}` : undefined,
    crlUrl: endpoints.crl ? `${responder.url}/crl/${name}` : undefined,
    freshestCrlUrl: endpoints.freshestCrl ? `${responder.url}/crl/${name}-delta` : undefined,
  });
  return { name, leaf, chain: [leaf, issuer, root].map((certificate) => parseCertificate(certificate.der)) };
}

function validator(fetcher: RevocationFetcher = httpRevocationFetcher()): OcspCrlRevocationValidator {
  return new OcspCrlRevocationValidator(fetcher);
}

async function leafResult(chain: ReturnType<typeof parseCertificate>[]): Promise<CertificateRevocation> {
  const results = await validator().validate(chain);
  expect(results).toHaveLength(3);
  expect(results.slice(1).map((result) => result.status)).toEqual(['nonRevokable', 'nonRevokable']);
  return results[0];
}

describe('OCSP', () => {
  test('a good answer signed by the issuer is ok', async () => {
    const { name, chain } = await leafWith({ ocsp: true });
    responder.answerOcsp(name, ca, { status: 'good' });
    expect(await leafResult(chain)).toMatchObject({ status: 'ok', method: 'OCSP' });
  });

  test('a revoked answer is revoked', async () => {
    const { name, chain } = await leafWith({ ocsp: true });
    responder.answerOcsp(name, ca, { status: 'revoked' });
    expect(await leafResult(chain)).toMatchObject({ status: 'revoked', method: 'OCSP' });
  });

  test("the responder's own unknown status is unknown", async () => {
    const { name, chain } = await leafWith({ ocsp: true });
    responder.answerOcsp(name, ca, { status: 'unknown' });
    expect(await leafResult(chain)).toMatchObject({ status: 'unknown', details: [expect.stringMatching(/does not know the certificate/)] });
  });

  test('a good answer for another certificate of the same CA does not count', async () => {
    const { name, chain, leaf } = await leafWith({ ocsp: true });
    responder.answerOcsp(name, ca, { status: 'good', serialNumber: `7f${leaf.certificate.serialNumber}` });
    expect(await leafResult(chain)).toMatchObject({ status: 'unknown', details: [expect.stringMatching(/does not answer for this certificate/)] });
  });

  test('a good answer signed by another CA of the same root is not trusted', async () => {
    const { name, chain } = await leafWith({ ocsp: true });
    responder.answerOcsp(name, ca, { status: 'good', signer: otherCa, certificates: [otherCa] });
    expect(await leafResult(chain)).toMatchObject({ status: 'unknown', details: [expect.stringMatching(/not issued by/)] });
  });

  test('a good answer signed with a key the named responder does not hold fails its signature check', async () => {
    const { name, chain } = await leafWith({ ocsp: true });
    // Named as the issuer (byName) but signed by another key: the signature must not verify with the issuer's key.
    const impostor = { ...otherCa, certificate: ca.certificate, der: ca.der };
    responder.answerOcsp(name, ca, { status: 'good', signer: impostor, certificates: [] });
    expect(await leafResult(chain)).toMatchObject({ status: 'unknown', details: [expect.stringMatching(/signature does not verify/)] });
  });

  test('a delegated responder issued by the CA with id-kp-OCSPSigning is trusted (RFC 6960 section 4.2.2.2)', async () => {
    const { name, chain } = await leafWith({ ocsp: true });
    const delegate = await createLeaf(ca, { subject: 'CN=OCSP responder,O=Acme,ST=WA,C=US', extendedKeyUsage: [x509.ExtendedKeyUsage.ocspSigning] });
    responder.answerOcsp(name, ca, { status: 'revoked', signer: delegate });
    expect(await leafResult(chain)).toMatchObject({ status: 'revoked' });
  });

  test('a certificate of the CA without id-kp-OCSPSigning may not answer for it', async () => {
    const { name, chain } = await leafWith({ ocsp: true });
    const sibling = await createLeaf(ca, { subject: 'CN=code signer,O=Acme,ST=WA,C=US' });
    responder.answerOcsp(name, ca, { status: 'good', signer: sibling });
    expect(await leafResult(chain)).toMatchObject({ status: 'unknown', details: [expect.stringMatching(/not authorized to sign OCSP responses/)] });
  });

  test('an answer past its nextUpdate, or without one, is unknown', async () => {
    const expired = await leafWith({ ocsp: true });
    responder.answerOcsp(expired.name, ca, { status: 'good', thisUpdate: new Date(Date.now() - 2 * DAY), nextUpdate: new Date(Date.now() - DAY) });
    expect(await leafResult(expired.chain)).toMatchObject({ status: 'unknown', details: [expect.stringMatching(/expired OCSP response/)] });
    const open = await leafWith({ ocsp: true });
    responder.answerOcsp(open.name, ca, { status: 'good', nextUpdate: null });
    expect(await leafResult(open.chain)).toMatchObject({ status: 'unknown', details: [expect.stringMatching(/expired OCSP response/)] });
  });

  test('an HTTP error is unknown', async () => {
    const { name, chain } = await leafWith({ ocsp: true });
    responder.answerOcsp(name, ca, { status: 'good', httpStatus: 503 });
    expect(await leafResult(chain)).toMatchObject({ status: 'unknown', details: [expect.stringMatching(/status code 503/)] });
  });

  test('a good answer is reused until its nextUpdate, so a second check sends no request', async () => {
    const { name, chain } = await leafWith({ ocsp: true });
    responder.answerOcsp(name, ca, { status: 'good' });
    const shared = validator();
    await shared.validate(chain);
    const asked = responder.requests.filter((path) => path === `/ocsp/${name}`).length;
    expect((await shared.validate(chain))[0].status).toBe('ok');
    expect(responder.requests.filter((path) => path === `/ocsp/${name}`).length).toBe(asked);
  });
});

describe('CRL', () => {
  test('a certificate not listed is ok', async () => {
    const { name, chain, leaf } = await leafWith({ crl: true });
    await responder.publishCrl(name, ca, { entries: [{ serialNumber: `7f${leaf.certificate.serialNumber}` }] });
    expect(await leafResult(chain)).toMatchObject({ status: 'ok', method: 'CRL', details: [expect.stringMatching(/: not listed$/)] });
  });

  test('a listed certificate is revoked', async () => {
    const { name, chain, leaf } = await leafWith({ crl: true });
    await responder.publishCrl(name, ca, { entries: [{ serialNumber: leaf.certificate.serialNumber, reason: x509.X509CrlReason.keyCompromise }] });
    expect(await leafResult(chain)).toMatchObject({ status: 'revoked', method: 'CRL' });
  });

  test('a certificate on hold is revoked; one listed only as removeFromCRL is ok (RFC 5280 section 5.3.1)', async () => {
    const held = await leafWith({ crl: true });
    const hold = x509.X509CrlReason.certificateHold;
    await responder.publishCrl(held.name, ca, { entries: [{ serialNumber: held.leaf.certificate.serialNumber, reason: hold }] });
    expect(await leafResult(held.chain)).toMatchObject({ status: 'revoked' });

    const released = await leafWith({ crl: true });
    const remove = x509.X509CrlReason.removeFromCRL;
    await responder.publishCrl(released.name, ca, { entries: [{ serialNumber: released.leaf.certificate.serialNumber, reason: remove }] });
    expect(await leafResult(released.chain)).toMatchObject({ status: 'ok' });
  });

  test('a CRL signed by another CA is unknown', async () => {
    const { name, chain, leaf } = await leafWith({ crl: true });
    await responder.publishCrl(name, otherCa, { entries: [{ serialNumber: leaf.certificate.serialNumber }] });
    expect(await leafResult(chain)).toMatchObject({ status: 'unknown' });
  });

  test('a CRL with the issuer name but another key is unknown', async () => {
    const { name, chain } = await leafWith({ crl: true });
    await responder.publishCrl(name, ca, { signer: otherCa });
    expect(await leafResult(chain)).toMatchObject({ status: 'unknown', details: [expect.stringMatching(/CRL is not signed by CA/)] });
  });

  test('an expired CRL, or one without nextUpdate, is unknown', async () => {
    const expired = await leafWith({ crl: true });
    await responder.publishCrl(expired.name, ca, { nextUpdate: new Date(Date.now() - 1000) });
    expect(await leafResult(expired.chain)).toMatchObject({ status: 'unknown', details: [expect.stringMatching(/expired CRL/)] });
    const open = await leafWith({ crl: true });
    await responder.publishCrl(open.name, ca, { nextUpdate: null });
    expect(await leafResult(open.chain)).toMatchObject({ status: 'unknown', details: [expect.stringMatching(/NextUpdate is not set/)] });
  });

  test('a CRL with an unknown critical extension is unknown', async () => {
    const { name, chain } = await leafWith({ crl: true });
    await responder.publishCrl(name, ca, { extensions: [new x509.Extension('1.2.3.4.5', true, new Uint8Array([5, 0]))] });
    expect(await leafResult(chain)).toMatchObject({ status: 'unknown', details: [expect.stringMatching(/unsupported critical extension found in CRL: 1.2.3.4.5/)] });
  });

  test('a certificate that names a delta CRL is unknown (delta CRLs are not supported)', async () => {
    const { name, chain } = await leafWith({ crl: true, freshestCrl: true });
    await responder.publishCrl(name, ca);
    expect(await leafResult(chain)).toMatchObject({ status: 'unknown', details: [expect.stringMatching(/freshest CRL/)] });
  });

  test('a missing CRL is unknown', async () => {
    const { chain } = await leafWith({ crl: true });
    expect(await leafResult(chain)).toMatchObject({ status: 'unknown', details: [expect.stringMatching(/failed to download CRL: response had status code 404/)] });
  });
});

describe('OCSP, then CRL', () => {
  test('when OCSP leaves the status unknown, the CRL decides (OCSPFallbackCRL)', async () => {
    const { name, chain, leaf } = await leafWith({ ocsp: true, crl: true });
    responder.answerOcsp(name, ca, { status: 'good', httpStatus: 500 });
    await responder.publishCrl(name, ca, { entries: [{ serialNumber: leaf.certificate.serialNumber }] });
    expect(await leafResult(chain)).toMatchObject({ status: 'revoked', method: 'OCSPFallbackCRL' });
  });

  test('when OCSP answers, the CRL is not fetched', async () => {
    const { name, chain } = await leafWith({ ocsp: true, crl: true });
    responder.answerOcsp(name, ca, { status: 'good' });
    expect(await leafResult(chain)).toMatchObject({ status: 'ok', method: 'OCSP' });
    expect(responder.requests).not.toContain(`/crl/${name}`);
  });

  test('only http URLs are fetched: an https or ldap endpoint is unknown and is not contacted', async () => {
    const fetched: string[] = [];
    const recording: RevocationFetcher = { fetch: async (url) => (fetched.push(url), new Uint8Array()) };
    const leaf = await createLeaf(ca, { ocspUrl: 'https://ocsp.example.com', crlUrl: 'ldap://crl.example.com/ca' });
    const chain = [leaf, ca, root].map((certificate) => parseCertificate(certificate.der));
    const [result] = await validator(recording).validate(chain);
    expect(result.status).toBe('unknown');
    expect(fetched).toEqual([]);
  });

  test('an unreachable responder is unknown within the timeout', async () => {
    const leaf = await createLeaf(ca, { ocspUrl: 'http://127.0.0.1:1/ocsp' });
    const [result] = await validator().validate([leaf, ca, root].map((certificate) => parseCertificate(certificate.der)));
    expect(result).toMatchObject({ status: 'unknown', details: [expect.stringMatching(/ECONNREFUSED/)] });
  });

  test('an intermediate CA is checked with the root as its issuer', async () => {
    const name = `ca-${++unique}`;
    const revocableCa = await createIntermediate(root, { crlUrl: `${responder.url}/crl/${name}` });
    const leaf = await createLeaf(revocableCa);
    await responder.publishCrl(name, root, { entries: [{ serialNumber: revocableCa.certificate.serialNumber }] });
    const results = await validator().validate([leaf, revocableCa, root].map((certificate) => parseCertificate(certificate.der)));
    expect(results.map((result) => result.status)).toEqual(['nonRevokable', 'revoked', 'nonRevokable']);
  });
});

describe('verifySignature with a revocation validator (notation-go verifier.go verifyRevocation)', () => {
  const target = randomTarget();
  const identity = 'x509.subject: C=US, ST=WA, O=Acme';

  async function verifyAt(level: (typeof LEVELS)[number], leaf: TestCertificate) {
    const envelope = await signTarget({ key: leaf.key, certificateChain: [leaf.der, ca.der, root.der] }, target);
    return verifySignature({
      envelope,
      envelopeMediaType: MediaType.JWS,
      target,
      verification: verificationFor({ level }, ['ca:test'], [identity]),
      trustAnchors: { ca: [root.der], signingAuthority: [], tsa: [] },
      trustedIdentities: [identity],
      certificateRevocation: validator(),
    });
  }

  test.each(LEVELS)('at level %s a revoked signing certificate is enforced at strict and logged otherwise', async (level) => {
    const { name, leaf } = await leafWith({ ocsp: true });
    responder.answerOcsp(name, ca, { status: 'revoked' });
    const verification = await verifyAt(level, leaf);
    expect(resultOf(verification, 'revocation')).toMatchObject({
      ok: false,
      message: expect.stringMatching(new RegExp(`^signing certificate with subject "CN=${name},O=Acme,ST=WA,C=US" is revoked`)),
    });
    expect(verification.verified).toBe(level !== 'strict');
  });

  test('a good status passes the revocation check', async () => {
    const { name, leaf } = await leafWith({ ocsp: true });
    responder.answerOcsp(name, ca, { status: 'good' });
    const verification = await verifyAt('strict', leaf);
    expect(verification.verified).toBe(true);
    expect(resultOf(verification, 'revocation')).toMatchObject({ ok: true });
  });

  test('an unknown status fails the revocation check at strict, naming the certificate', async () => {
    const { leaf } = await leafWith({ crl: true });
    const verification = await verifyAt('strict', leaf);
    expect(verification.verified).toBe(false);
    expect(verification.failure).toMatch(/^signing certificate with subject "CN=leaf-\d+,O=Acme,ST=WA,C=US" revocation status is unknown/);
  });
});

describe('the timestamping chain (notation-go verifier.go verifyTimestamp, step 5)', () => {
  const target = randomTarget();
  const identity = 'x509.subject: C=US, ST=WA, O=Acme';

  test.each([
    ['not listed', false, true],
    ['revoked', true, false],
  ])('a TSA certificate %s on its CRL: the authentic timestamp check %s', async (_label, revoked, verified) => {
    const name = `tsa-${++unique}`;
    const tsa = await startOpensslTsa({ crlUrl: `${responder.url}/crl/${name}` });
    try {
      await responder.publishCrl(name, tsa.root, { entries: revoked ? [{ serialNumber: tsa.certificate.certificate.serialNumber }] : [] });
      const leaf = await createLeaf(ca, { subject: 'CN=builder,O=Acme,ST=WA,C=US' });
      const envelope = await signTarget(
        { key: leaf.key, certificateChain: [leaf.der, ca.der, root.der], timestampAuthority: { url: tsa.url, rootCertificates: [tsa.root.der] } },
        target,
      );
      const verification = await verifySignature({
        envelope,
        envelopeMediaType: MediaType.JWS,
        target,
        verification: verificationFor({ level: 'strict', verifyTimestamp: 'always' }, ['ca:test', 'tsa:test'], [identity]),
        trustAnchors: { ca: [root.der], signingAuthority: [], tsa: [tsa.root.der] },
        trustedIdentities: [identity],
        certificateRevocation: validator(),
      });
      expect(verification.verified).toBe(verified);
      expect(resultOf(verification, 'authenticTimestamp')).toMatchObject(
        revoked
          ? { ok: false, message: expect.stringMatching(/^timestamping certificate with subject "CN=Test TSA,O=Acme,C=US" is revoked/) }
          : { ok: true, message: expect.stringMatching(/^timestamped at/) },
      );
    } finally {
      await tsa.close();
    }
  });
});
