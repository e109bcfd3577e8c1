/**
 * Certificate chain and certificate requirements (specs/signature-specification.md, "Certificate Requirements"): each rule has a failing case built
 * from a generated certificate that breaks exactly that rule, next to the valid shapes that must pass.
 */
import 'reflect-metadata';
import { generateKeyPairSync, KeyObject, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { parseCertificate } from '../../lambda/notary/certificate';
import { validateCertificateChain } from '../../lambda/notary/certificate-chain';
import { LocalKeySigner } from '../../lambda/signers/local-key';
import {
  CertificateOptions,
  createIntermediate,
  createLeaf,
  createRoot,
  createTsaLeaf,
  TestCertificate,
} from '../util/pki';

const Usage = x509.KeyUsageFlags;
const EKU = {
  codeSigning: '1.3.6.1.5.5.7.3.3',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
  emailProtection: '1.3.6.1.5.5.7.3.4',
  timeStamping: '1.3.6.1.5.5.7.3.8',
  ocspSigning: '1.3.6.1.5.5.7.3.9',
  anyExtendedKeyUsage: '2.5.29.37.0',
  /** A private EKU (Microsoft lifetime signing): not forbidden. */
  other: '1.3.6.1.4.1.311.10.3.13',
};
const DAY = 86400_000;

let root: TestCertificate;
let intermediate: TestCertificate;

beforeAll(async () => {
  root = await createRoot();
  intermediate = await createIntermediate(root);
});

/** A leaf with `options` under the shared root → intermediate, as a DER chain. */
async function chainWithLeaf(options: CertificateOptions): Promise<Uint8Array[]> {
  const leaf = await createLeaf(intermediate, options);
  return [leaf.der, intermediate.der, root.der];
}

/** A certificate for an arbitrary SubjectPublicKeyInfo, issued by `issuer` with the code signing leaf profile. */
async function leafForKey(issuer: TestCertificate, publicKey: KeyObject, subject = 'CN=odd key,O=Notary Test,ST=WA,C=US'): Promise<Uint8Array> {
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: '7f01',
    subject: derOrder(subject),
    issuer: derOrder(issuer.subject),
    notBefore: new Date(Date.now() - DAY),
    notAfter: new Date(Date.now() + DAY),
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
    publicKey: new Uint8Array(spki),
    signingKey: issuer.keys.privateKey,
    extensions: [
      new x509.KeyUsagesExtension(Usage.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([EKU.codeSigning], false),
    ],
  });
  return new Uint8Array(certificate.rawData);
}

/** @peculiar/x509 encodes a name string in the order written; RFC 4514 strings list the last RDN first. */
function derOrder(name: string): string {
  return name.split(',').reverse().join(',');
}

function failure(chain: Uint8Array[], purpose?: 'codeSigning' | 'timestamping'): string {
  try {
    validateCertificateChain(chain, purpose);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected the chain to be rejected');
}

describe('valid chains', () => {
  test('root → intermediate → leaf', async () => {
    const chain = await chainWithLeaf({});
    expect(validateCertificateChain(chain).map((certificate) => certificate.der)).toEqual(chain);
  });

  test('a single self-signed, self-issued leaf', async () => {
    const leaf = await createLeaf(undefined, { subject: 'CN=self,O=Notary Test,ST=WA,C=US' });
    const [parsed] = validateCertificateChain([leaf.der]);
    expect(parsed.subject).toBe('CN=self,O=Notary Test,ST=WA,C=US');
    expect(parsed.issuer).toBe(parsed.subject);
  });

  test('root → leaf without intermediates', async () => {
    const leaf = await createLeaf(root);
    expect(validateCertificateChain([leaf.der, root.der])).toHaveLength(2);
  });

  test('two intermediates within the path length constraints', async () => {
    const upper = await createIntermediate(root, { basicConstraints: { ca: true, pathLength: 1 } });
    const lower = await createIntermediate(upper, { basicConstraints: { ca: true, pathLength: 0 } });
    const leaf = await createLeaf(lower);
    expect(validateCertificateChain([leaf.der, lower.der, upper.der, root.der])).toHaveLength(4);
  });

  test.each([
    ['basic constraints cA=false', { basicConstraints: { ca: false } }],
    ['nonRepudiation with digitalSignature', { keyUsage: Usage.digitalSignature + Usage.nonRepudiation }],
    ['no extended key usage', { extendedKeyUsage: [] as string[] }],
    ['a private extended key usage', { extendedKeyUsage: [EKU.codeSigning, EKU.other] }],
    ['a critical code signing EKU', { extendedKeyUsage: [EKU.codeSigning], extendedKeyUsageCritical: true }],
    ['an EC P-384 key', { keySpec: 'EC-384' as const }],
    ['an EC P-521 key', { keySpec: 'EC-521' as const }],
    ['an expired leaf (validity is not checked here)', { notBefore: new Date(Date.now() - 10 * DAY), notAfter: new Date(Date.now() - DAY) }],
  ] as Array<[string, CertificateOptions]>)('a leaf with %s', async (_name, options) => {
    expect(validateCertificateChain(await chainWithLeaf(options))).toHaveLength(3);
  });

  test('a leaf without the EKU extension at all', async () => {
    // extendedKeyUsage [] still writes an empty extension; check that an absent extension is accepted too.
    const leaf = await x509.X509CertificateGenerator.create({
      serialNumber: '7f02',
      subject: derOrder('CN=no eku,O=Notary Test,ST=WA,C=US'),
      issuer: derOrder(intermediate.subject),
      notBefore: new Date(Date.now() - DAY),
      notAfter: new Date(Date.now() + DAY),
      signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
      publicKey: intermediate.keys.publicKey,
      signingKey: intermediate.keys.privateKey,
      extensions: [new x509.KeyUsagesExtension(Usage.digitalSignature, true)],
    });
    expect(parseCertificate(new Uint8Array(leaf.rawData)).extendedKeyUsage).toBeUndefined();
    expect(validateCertificateChain([new Uint8Array(leaf.rawData), intermediate.der, root.der])).toHaveLength(3);
  });
});

describe('leaf (signing certificate) rules', () => {
  test('a leaf with basic constraints cA=true', async () => {
    const message = failure(await chainWithLeaf({ basicConstraints: { ca: true } }));
    expect(message).toMatch(/^the signing certificate of the certificate chain with subject ".*" is invalid: it is a ca certificate/);
  });

  test('a leaf without key usage', async () => {
    expect(failure(await chainWithLeaf({ keyUsage: null }))).toMatch(/is invalid: key usage extension must be present and critical$/);
  });

  test('a leaf whose key usage is not critical', async () => {
    expect(failure(await chainWithLeaf({ keyUsageCritical: false }))).toMatch(/is invalid: key usage extension must be present and critical$/);
  });

  test('a leaf whose key usage lacks digitalSignature', async () => {
    expect(failure(await chainWithLeaf({ keyUsage: Usage.nonRepudiation }))).toMatch(
      /is invalid: key usage must have the bit positions for digital signature set$/,
    );
  });

  test.each([
    ['keyEncipherment', Usage.keyEncipherment],
    ['dataEncipherment', Usage.dataEncipherment],
    ['keyAgreement', Usage.keyAgreement],
    ['keyCertSign', Usage.keyCertSign],
    ['cRLSign', Usage.cRLSign],
    ['encipherOnly', Usage.keyAgreement + Usage.encipherOnly],
    ['decipherOnly', Usage.keyAgreement + Usage.decipherOnly],
  ])('a leaf with key usage %s', async (name, usage) => {
    const chain = await chainWithLeaf({ keyUsage: Usage.digitalSignature + usage });
    const message = failure(chain);
    expect(message).toMatch(/^the signing certificate with subject ".*" is invalid: key usage must not have the bit position for \w+ set$/);
    // encipherOnly/decipherOnly come with keyAgreement, which is reported first.
    expect(message).toContain(name.endsWith('Only') ? 'keyAgreement' : name);
    expect(parseCertificate(chain[0]).keyUsage?.usages.has(name as never)).toBe(true);
  });

  test.each([
    ['serverAuth', EKU.serverAuth, 'ServerAuth'],
    ['clientAuth', EKU.clientAuth, 'ClientAuth'],
    ['emailProtection', EKU.emailProtection, 'EmailProtection'],
    ['timeStamping', EKU.timeStamping, 'TimeStamping'],
    ['OCSPSigning', EKU.ocspSigning, 'OCSPSigning'],
    ['anyExtendedKeyUsage', EKU.anyExtendedKeyUsage, 'Any'],
  ])('a leaf with extended key usage %s (next to code signing)', async (_name, oid, wording) => {
    const message = failure(await chainWithLeaf({ extendedKeyUsage: [EKU.codeSigning, oid] }));
    expect(message).toMatch(new RegExp(`is invalid: extended key usage must not contain ${wording} eku$`));
  });

  test.each([
    ['an RSA-1024 key', () => generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey, /rsa key size 1024 bits is not supported/],
    ['an RSA-1536 key', () => generateKeyPairSync('rsa', { modulusLength: 1536 }).publicKey, /rsa key size 1536 bits is not supported/],
    ['a secp256k1 key', () => generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).publicKey, /ecdsa key of curve "secp256k1" is not supported/],
    ['an Ed25519 key', () => generateKeyPairSync('ed25519').publicKey, /key type "ed25519" is not supported/],
  ])('a leaf with %s', async (_name, key, reason) => {
    const leaf = await leafForKey(intermediate, key());
    const message = failure([leaf, intermediate.der, root.der]);
    expect(message).toMatch(/^the signing certificate with subject "CN=odd key,O=Notary Test,ST=WA,C=US" is invalid: /);
    expect(message).toMatch(reason);
  });

  test('a single self-signed certificate must meet the leaf rules (a CA root alone fails)', () => {
    expect(failure([root.der])).toMatch(/it is a ca certificate/);
  });

  test('a single certificate that is not self-signed', async () => {
    const leaf = await createLeaf(intermediate);
    expect(failure([leaf.der])).toMatch(/^invalid self-signed certificate\. subject: ".*"\. Error: the certificate is not self-signed$/);
  });

  test('a single self-issued certificate signed by another key (issuer = subject, not self-signed)', async () => {
    // Same DN as its issuer: self-issued but not self-signed.
    const leaf = await createLeaf(root, { subject: root.subject });
    expect(failure([leaf.der])).toMatch(/^invalid self-signed certificate/);
  });
});

describe('CA (intermediate and root) rules', () => {
  test('an intermediate with basic constraints cA=false', async () => {
    const ca = await createIntermediate(root, { basicConstraints: { ca: false } });
    const leaf = await createLeaf(ca);
    expect(failure([leaf.der, ca.der, root.der])).toMatch(/: ca field in basic constraints must be present, critical, and set to true$/);
  });

  test('an intermediate without basic constraints', async () => {
    const ca = await createIntermediate(root, { basicConstraints: null });
    const leaf = await createLeaf(ca);
    expect(failure([leaf.der, ca.der, root.der])).toMatch(/: ca field in basic constraints must be present, critical, and set to true$/);
  });

  test('a root with basic constraints cA=false', async () => {
    const notCa = await createRoot({ basicConstraints: { ca: false } });
    const ca = await createIntermediate(notCa);
    const leaf = await createLeaf(ca);
    const message = failure([leaf.der, ca.der, notCa.der]);
    expect(message).toContain(notCa.subject.split(',')[0]);
    expect(message).toMatch(/ca field in basic constraints must be present/);
  });

  test('an intermediate without keyCertSign', async () => {
    const ca = await createIntermediate(root, { keyUsage: Usage.cRLSign + Usage.digitalSignature });
    const leaf = await createLeaf(ca);
    expect(failure([leaf.der, ca.der, root.der])).toMatch(/: key usage must have the bit positions for key cert sign set$/);
  });

  test('an intermediate without key usage', async () => {
    const ca = await createIntermediate(root, { keyUsage: null });
    const leaf = await createLeaf(ca);
    expect(failure([leaf.der, ca.der, root.der])).toMatch(/: key usage extension must be present and critical$/);
  });

  test('an intermediate whose key usage is not critical', async () => {
    const ca = await createIntermediate(root, { keyUsageCritical: false });
    const leaf = await createLeaf(ca);
    expect(failure([leaf.der, ca.der, root.der])).toMatch(/: key usage extension must be present and critical$/);
  });

  test('an intermediate with path length 0 above another intermediate', async () => {
    const upper = await createIntermediate(root, { basicConstraints: { ca: true, pathLength: 0 } });
    const lower = await createIntermediate(upper);
    const leaf = await createLeaf(lower);
    expect(failure([leaf.der, lower.der, upper.der, root.der])).toMatch(
      new RegExp(`^certificate with subject "${upper.subject}" is a ca certificate with max path length 0 but the chain has 1 certificates below it$`),
    );
  });

  test('a root with path length 0 above an intermediate', async () => {
    const strictRoot = await createRoot({ basicConstraints: { ca: true, pathLength: 0 } });
    const ca = await createIntermediate(strictRoot);
    const leaf = await createLeaf(ca);
    expect(failure([leaf.der, ca.der, strictRoot.der])).toMatch(/is a ca certificate with max path length 0 but the chain has 1 certificates below it$/);
  });

  test('a root with path length 1 above two intermediates', async () => {
    const strictRoot = await createRoot({ basicConstraints: { ca: true, pathLength: 1 } });
    const upper = await createIntermediate(strictRoot);
    const lower = await createIntermediate(upper);
    const leaf = await createLeaf(lower);
    expect(failure([leaf.der, lower.der, upper.der, strictRoot.der])).toMatch(/max path length 1 but the chain has 2 certificates below it$/);
  });
});

describe('chain shape', () => {
  test('an empty chain', () => {
    expect(failure([])).toBe('certificate chain must contain at least one certificate');
  });

  test('a chain that does not end in a self-signed root', async () => {
    const leaf = await createLeaf(intermediate);
    expect(failure([leaf.der, intermediate.der])).toMatch(
      /^root certificate with subject ".*" is not self-signed\. Certificate chain must end with a valid self-signed root certificate$/,
    );
  });

  test('a self-signed intermediate', async () => {
    const otherRoot = await createRoot();
    const leaf = await createLeaf(root);
    expect(failure([leaf.der, root.der, otherRoot.der])).toMatch(
      /^invalid certificates or certificate with subject ".*" is self-signed\. Certificate chain must not contain self-signed intermediate certificates$/,
    );
  });

  test.each([
    ['leaf, root, intermediate', (leaf: Uint8Array) => [leaf, root.der, intermediate.der]],
    ['intermediate, leaf, root', (leaf: Uint8Array) => [intermediate.der, leaf, root.der]],
    ['root, intermediate, leaf', (leaf: Uint8Array) => [root.der, intermediate.der, leaf]],
  ])('a chain in the wrong order (%s)', async (_order, order) => {
    const leaf = await createLeaf(intermediate);
    expect(failure(order(leaf.der))).toMatch(/is not issued by|is self-signed|is not self-signed/);
  });

  test('a leaf whose issuer name matches the intermediate but whose signature is by another key', async () => {
    const impostor = await createIntermediate(root, { subject: intermediate.subject });
    const leaf = await createLeaf(impostor);
    expect(failure([leaf.der, intermediate.der, root.der])).toMatch(/^invalid certificate chain: certificate with subject ".*" is not issued by ".*"$/);
  });

  test('an intermediate issued by another root of the same name', async () => {
    const twin = await createRoot({ subject: root.subject });
    const leaf = await createLeaf(intermediate);
    expect(failure([leaf.der, intermediate.der, twin.der])).toMatch(/is not issued by/);
  });

  test('the same certificate twice', async () => {
    const leaf = await createLeaf(intermediate);
    expect(failure([leaf.der, leaf.der, intermediate.der, root.der])).toMatch(/is not issued by/);
  });

  test('bytes that are not a certificate', () => {
    expect(failure([new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x01])])).toMatch(/^certificate 1 of the chain is not a valid X\.509 certificate/);
  });
});

describe('SHA-1 signatures', () => {
  test('a leaf signed with ECDSA SHA-1', async () => {
    const chain = await chainWithLeaf({ signingHash: 'SHA-1' });
    expect(parseCertificate(chain[0]).signatureAlgorithm).toBe('1.2.840.10045.4.1');
    expect(failure(chain)).toMatch(/^certificate with subject ".*" is signed with SHA-1, which is not allowed$/);
  });

  test('an intermediate signed with ECDSA SHA-1', async () => {
    const ca = await createIntermediate(root, { signingHash: 'SHA-1' });
    const leaf = await createLeaf(ca);
    expect(failure([leaf.der, ca.der, root.der])).toMatch(/is signed with SHA-1/);
  });

  test('a self-signed RSA-2048 leaf signed with RSASSA-PKCS1-v1_5 SHA-1', async () => {
    // WebCrypto binds the hash to an RSA key, so this key is generated for SHA-1.
    const algorithm = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-1', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]) };
    const keys = await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify']);
    const name = derOrder('CN=sha1,O=Notary Test,ST=WA,C=US');
    const certificate = await x509.X509CertificateGenerator.create({
      serialNumber: '7f03',
      subject: name,
      issuer: name,
      notBefore: new Date(Date.now() - DAY),
      notAfter: new Date(Date.now() + DAY),
      signingAlgorithm: algorithm,
      publicKey: keys.publicKey,
      signingKey: keys.privateKey,
      extensions: [new x509.KeyUsagesExtension(Usage.digitalSignature, true)],
    });
    const der = new Uint8Array(certificate.rawData);
    expect(parseCertificate(der).signatureAlgorithm).toBe('1.2.840.113549.1.1.5');
    expect(failure([der])).toBe('certificate with subject "CN=sha1,O=Notary Test,ST=WA,C=US" is signed with SHA-1, which is not allowed');
  });
});

describe('timestamping certificates', () => {
  test('a TSA leaf with a critical timeStamping EKU passes', async () => {
    const tsa = await createTsaLeaf(root);
    expect(validateCertificateChain([tsa.der, root.der], 'timestamping')).toHaveLength(2);
  });

  test.each([
    ['a non-critical timeStamping EKU', { extendedKeyUsageCritical: false }],
    ['a timeStamping EKU next to code signing', { extendedKeyUsage: [EKU.timeStamping, EKU.codeSigning] }],
    ['a code signing EKU only', { extendedKeyUsage: [EKU.codeSigning] }],
  ] as Array<[string, CertificateOptions]>)('a TSA leaf with %s fails', async (_name, options) => {
    const tsa = await createTsaLeaf(root, options);
    expect(failure([tsa.der, root.der], 'timestamping')).toMatch(/must have a critical extended key usage extension with only the timestamping usage$/);
  });

  test('a TSA leaf without key usage fails', async () => {
    const tsa = await createTsaLeaf(root, { keyUsage: null });
    expect(failure([tsa.der, root.der], 'timestamping')).toMatch(/must have the key usage extension$/);
  });
});

describe('the local key signer applies the same rules', () => {
  test('it refuses a chain with a CA leaf', async () => {
    const leaf = await createLeaf(intermediate, { basicConstraints: { ca: true } });
    expect(() => new LocalKeySigner({ key: leaf.key, certificateChain: [leaf.der, intermediate.der, root.der] })).toThrow(/it is a ca certificate/);
  });

  test('it refuses a key that does not match the leaf', async () => {
    const leaf = await createLeaf(intermediate);
    expect(() => new LocalKeySigner({ key: intermediate.key, certificateChain: [leaf.der, intermediate.der, root.der] })).toThrow(
      /the private key does not match the signing certificate/,
    );
  });
});
