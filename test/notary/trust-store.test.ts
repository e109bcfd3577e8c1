import 'reflect-metadata';
import { createHash, webcrypto } from 'node:crypto';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';
import { loadConfigDir } from '../../lambda/notary/config-dir';
import {
  awsSignerTrustStores,
  parseCertificateFile,
  readTrustStoreFile,
  TrustStoreError,
  withBuiltInTrustStores,
} from '../../lambda/notary/trust-store';
import { TrustPolicyError } from '../../src/shared/trust-policy';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

const ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };

interface TestCert {
  readonly der: Uint8Array;
  readonly pem: string;
  readonly keys: CryptoKeyPair;
  readonly name: string;
}

async function certificate(name: string, options: { ca: boolean; issuer?: TestCert }): Promise<TestCert> {
  const keys = (await webcrypto.subtle.generateKey(ALGORITHM, true, ['sign', 'verify'])) as CryptoKeyPair;
  const extensions = [
    new x509.BasicConstraintsExtension(options.ca, undefined, true),
    new x509.KeyUsagesExtension(options.ca ? x509.KeyUsageFlags.keyCertSign + x509.KeyUsageFlags.cRLSign : x509.KeyUsageFlags.digitalSignature, true),
  ];
  const validity = { notBefore: new Date(Date.now() - 3600_000), notAfter: new Date(Date.now() + 86400_000) };
  const cert = options.issuer
    ? await x509.X509CertificateGenerator.create({
      serialNumber: '02',
      subject: name,
      issuer: options.issuer.name,
      publicKey: keys.publicKey,
      signingKey: options.issuer.keys.privateKey,
      signingAlgorithm: ALGORITHM,
      extensions,
      ...validity,
    })
    : await x509.X509CertificateGenerator.createSelfSigned({ serialNumber: '01', name, keys, signingAlgorithm: ALGORITHM, extensions, ...validity });
  return { der: new Uint8Array(cert.rawData), pem: cert.toString('pem'), keys, name };
}

let root: TestCert;
let intermediate: TestCert;
let leaf: TestCert;
let selfSignedLeaf: TestCert;

beforeAll(async () => {
  root = await certificate('CN=Test Root,O=acme,ST=WA,C=US', { ca: true });
  intermediate = await certificate('CN=Test Intermediate,O=acme,ST=WA,C=US', { ca: true, issuer: root });
  leaf = await certificate('CN=builder,O=acme,ST=WA,C=US', { ca: false, issuer: intermediate });
  selfSignedLeaf = await certificate('CN=self,O=acme,ST=WA,C=US', { ca: false });
});

const text = (value: string) => new TextEncoder().encode(value);
const concat = (...parts: Uint8Array[]) => new Uint8Array(Buffer.concat(parts));

describe('parseCertificateFile', () => {
  test('reads every certificate of a PEM file, in order', () => {
    expect(parseCertificateFile(text(`${root.pem}\n${intermediate.pem}\n`), 'chain.pem')).toEqual([root.der, intermediate.der]);
  });

  test('reads one DER certificate', () => {
    expect(parseCertificateFile(root.der, 'root.cer')).toEqual([root.der]);
  });

  test('reads concatenated DER certificates', () => {
    expect(parseCertificateFile(concat(root.der, intermediate.der), 'both.crt')).toEqual([root.der, intermediate.der]);
  });

  test.each([
    ['garbage', text('this is not a certificate')],
    ['an empty file', new Uint8Array()],
    ['truncated DER', undefined],
  ])('%s is an error naming the file', (_, bytes) => {
    const input = bytes ?? root.der.slice(0, root.der.length - 10);
    expect(() => parseCertificateFile(input, 'bad.pem')).toThrow(
      'could not parse a certificate from "bad.pem", every file in a trust store must have a PEM or DER certificate in it',
    );
  });

  test('a DER SEQUENCE that is not a certificate is an error naming the file', () => {
    expect(() => parseCertificateFile(new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x01]), 'seq.cer')).toThrow(
      'certificate #1 in "seq.cer" is not a valid X.509 certificate',
    );
  });

  test('a private key in a PEM file is refused', () => {
    const pem = `${root.pem}\n-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n`;
    expect(() => parseCertificateFile(text(pem), 'key.pem')).toThrow('"key.pem" holds a PEM "PRIVATE KEY" block');
  });
});

describe('readTrustStoreFile acceptance rules', () => {
  test('CA certificates and self-signed signing certificates are accepted', () => {
    expect(readTrustStoreFile(text(root.pem + intermediate.pem), 'ca:acme', 'ca.pem')).toHaveLength(2);
    expect(readTrustStoreFile(selfSignedLeaf.der, 'ca:acme', 'self.cer')).toEqual([selfSignedLeaf.der]);
  });

  test('a leaf that is not self-signed is refused, naming the store, subject and file', () => {
    expect(() => readTrustStoreFile(text(leaf.pem), 'ca:acme', '/cfg/leaf.pem')).toThrow(
      'trust store "ca:acme": certificate with subject "CN=builder, O=acme, ST=WA, C=US" from file "/cfg/leaf.pem" is not a CA certificate or self-signed signing certificate',
    );
  });

  test('a tsa store accepts self-signed roots only', () => {
    expect(readTrustStoreFile(root.der, 'tsa:tsa', 'root.cer')).toEqual([root.der]);
    expect(() => readTrustStoreFile(intermediate.der, 'tsa:tsa', 'int.cer')).toThrow(
      'is not a root certificate. Only root certificates are allowed in a tsa trust store',
    );
    expect(() => readTrustStoreFile(selfSignedLeaf.der, 'tsa:tsa', 'self.cer')).toThrow(TrustStoreError);
  });

  test('garbage is a trust store error naming the store and the file', () => {
    expect(() => readTrustStoreFile(text('nope'), 'signingAuthority:corp', 'x.pem')).toThrow(
      'trust store "signingAuthority:corp": could not parse a certificate from "x.pem"',
    );
  });
});

describe('built-in AWS Signer stores', () => {
  const fingerprint = (der: Uint8Array) => createHash('sha256').update(der).digest('hex');

  test('hold the published AWS Signer roots under the names the AWS installer uses', () => {
    const stores = awsSignerTrustStores();
    expect(stores.get('signingAuthority:aws-signer-ts')!.map(fingerprint)).toEqual(['90a87d0543c3f094dbff9589b6649affe2f3d6e0f308799be2258461c686473f']);
    expect(stores.get('signingAuthority:aws-us-gov-signer-ts')!.map(fingerprint)).toEqual(['673653ab76f41a10546cdeb4107ecd6df2c15c2c9a0d32ed97d271b4436fc3e8']);
  });

  test('a store of the same name in the config dir wins over the built-in one', () => {
    const merged = withBuiltInTrustStores(new Map([['signingAuthority:aws-signer-ts', [root.der]], ['ca:acme', [root.der]]]));
    expect(merged.get('signingAuthority:aws-signer-ts')).toEqual([root.der]);
    expect(merged.get('signingAuthority:aws-us-gov-signer-ts')).toHaveLength(1);
    expect(merged.get('ca:acme')).toEqual([root.der]);
  });
});

describe('loadConfigDir', () => {
  const policy = (name: string) =>
    JSON.stringify({
      version: '1.0',
      trustPolicies: [{ name, registryScopes: ['*'], signatureVerification: { level: 'strict' }, trustStores: ['ca:acme'], trustedIdentities: ['*'] }],
    });

  function configDir(files: Record<string, string | Uint8Array>): string {
    const dir = mkdtempSync(join(tmpdir(), 'notation-config-'));
    for (const [path, content] of Object.entries(files)) {
      mkdirSync(join(dir, path, '..'), { recursive: true });
      writeFileSync(join(dir, path), content);
    }
    return dir;
  }

  test('reads the policy and every named store (PEM, DER, several files)', () => {
    const dir = configDir({
      'trustpolicy.json': policy('legacy-file'),
      'truststore/x509/ca/acme/root.pem': root.pem,
      'truststore/x509/ca/acme/intermediate.cer': intermediate.der,
      'truststore/x509/signingAuthority/corp/self.crt': selfSignedLeaf.pem,
      'truststore/x509/tsa/tsa-roots/root.crt': root.der,
    });

    const config = loadConfigDir(dir);

    expect(config.policy.trustPolicies[0].name).toBe('legacy-file');
    expect(config.policyFile).toBe(join(dir, 'trustpolicy.json'));
    expect([...config.stores.keys()].sort()).toEqual(['ca:acme', 'signingAuthority:corp', 'tsa:tsa-roots']);
    expect(config.stores.get('ca:acme')).toHaveLength(2);
  });

  test('trustpolicy.oci.json takes precedence over trustpolicy.json', () => {
    const dir = configDir({
      'trustpolicy.json': policy('legacy-file'),
      'trustpolicy.oci.json': policy('oci-file'),
      'truststore/x509/ca/acme/root.pem': root.pem,
    });
    expect(loadConfigDir(dir).policy.trustPolicies[0].name).toBe('oci-file');
  });

  test('a missing trust policy is an error naming both files', () => {
    const dir = configDir({ 'truststore/x509/ca/acme/root.pem': root.pem });
    expect(() => loadConfigDir(dir)).toThrow(TrustPolicyError);
    expect(() => loadConfigDir(dir)).toThrow(`trust policy is not present: neither ${join(dir, 'trustpolicy.oci.json')} nor ${join(dir, 'trustpolicy.json')} exists`);
  });

  test('an invalid trust policy is an error naming the file and the statement', () => {
    const dir = configDir({ 'trustpolicy.json': policy('').replace('"name":""', '"name":"p","extra":1') });
    expect(() => loadConfigDir(dir)).toThrow(`${join(dir, 'trustpolicy.json')}: trust policy statement "p": unknown field "extra"`);
  });

  test('a symlink in a named store is refused', () => {
    const dir = configDir({ 'trustpolicy.json': policy('p'), 'elsewhere/root.pem': root.pem, 'truststore/x509/ca/acme/.keep.pem': root.pem });
    symlinkSync(join(dir, 'elsewhere', 'root.pem'), join(dir, 'truststore/x509/ca/acme/link.pem'));
    expect(() => loadConfigDir(dir)).toThrow(
      `trust store "ca:acme": "${join(dir, 'truststore/x509/ca/acme/link.pem')}" is not a regular file (directories or symlinks are not supported)`,
    );
  });

  test('a symlinked named store is refused', () => {
    const dir = configDir({ 'trustpolicy.json': policy('p'), 'elsewhere/root.pem': root.pem });
    mkdirSync(join(dir, 'truststore/x509/ca'), { recursive: true });
    symlinkSync(join(dir, 'elsewhere'), join(dir, 'truststore/x509/ca/acme'));
    expect(() => loadConfigDir(dir)).toThrow('is not a regular directory (symlinks are not supported)');
  });

  test('a sub-directory in a named store is refused', () => {
    const dir = configDir({ 'trustpolicy.json': policy('p'), 'truststore/x509/ca/acme/nested/root.pem': root.pem });
    expect(() => loadConfigDir(dir)).toThrow(TrustStoreError);
    expect(() => loadConfigDir(dir)).toThrow(`"${join(dir, 'truststore/x509/ca/acme/nested')}" is not a regular file (directories or symlinks are not supported)`);
  });

  test('an empty named store is refused', () => {
    const dir = configDir({ 'trustpolicy.json': policy('p') });
    mkdirSync(join(dir, 'truststore/x509/ca/acme'), { recursive: true });
    expect(() => loadConfigDir(dir)).toThrow('no x509 certificates were found in trust store "ca:acme"');
  });

  test('a non-self-signed leaf in a store is refused, naming the file', () => {
    const dir = configDir({ 'trustpolicy.json': policy('p'), 'truststore/x509/ca/acme/leaf.pem': leaf.pem });
    expect(() => loadConfigDir(dir)).toThrow(`from file "${join(dir, 'truststore/x509/ca/acme/leaf.pem')}" is not a CA certificate or self-signed signing certificate`);
  });
});
