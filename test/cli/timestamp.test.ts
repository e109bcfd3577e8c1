/**
 * sign --timestamp-url/--timestamp-root-cert (RFC 3161) as notation 1.2+ does it, against a loopback TSA built on
 * `openssl ts -reply`; verify checks the token with a `tsa` trust store.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as asn1js from 'asn1js';
import { TimeStampReq } from 'pkijs';
import { listSignatures } from '../../lambda/notary/list-signatures';
import { RegistryRepository } from '../../lambda/oci/registry-repository';
import { plainRegistry } from '../harness/env';
import { runSignedImage } from '../util/cli';
import { createRandomImage, pushImage } from '../util/images';
import { trustPolicy, writeNotationConfig } from '../util/notation-config';
import { LoopbackTsa, startOpensslTsa } from '../util/openssl-tsa';
import { createChain, createRoot, TestChain } from '../util/pki';
import { startRevocationResponder } from '../util/revocation-responder';

const SHA384 = '2.16.840.1.101.3.4.2.2';

let tsa: LoopbackTsa;
let chain: TestChain;
let keyFile: string;
let certFile: string;
let dir: string;

beforeAll(async () => {
  tsa = await startOpensslTsa();
  chain = await createChain({ keySpec: 'EC-384' });
  dir = mkdtempSync(join(tmpdir(), 'timestamp-'));
  keyFile = join(dir, 'key.pem');
  certFile = join(dir, 'chain.pem');
  writeFileSync(keyFile, chain.leaf.keyPem);
  writeFileSync(certFile, chain.chainPem);
});
afterAll(() => tsa.close());

async function newImage(): Promise<{ ref: string; repository: RegistryRepository; image: Awaited<ReturnType<typeof pushImage>> }> {
  const name = `cli/timestamp-${randomBytes(4).toString('hex')}`;
  const repository = new RegistryRepository({ registry: plainRegistry(), repository: name, plainHttp: true });
  const image = await pushImage(repository, createRandomImage());
  return { ref: `${plainRegistry()}/${name}@${image.digest}`, repository, image };
}

describe('sign --timestamp-url', () => {
  test.each([
    ['revoked', true, 1],
    ['good', false, 0],
  ])("checks the TSA chain's CRL status before it uses the timestamp, as notation sign does: %s", async (_label, revoked, code) => {
    const responder = await startRevocationResponder();
    const revocableTsa = await startOpensslTsa({ crlUrl: `${responder.url}/crl/tsa` });
    try {
      const entries = revoked ? [{ serialNumber: revocableTsa.certificate.certificate.serialNumber }] : [];
      await responder.publishCrl('tsa', revocableTsa.root, { entries });
      const { ref, repository, image } = await newImage();
      const sign = await runSignedImage([
        'sign', '--insecure-registry', '-k', keyFile, '-c', certFile, '--timestamp-url', revocableTsa.url, '--timestamp-root-cert', revocableTsa.rootFile, ref,
      ]);
      expect(sign.code).toBe(code);
      expect(responder.requests).toEqual(['/crl/tsa']);
      if (revoked) expect(sign.stderr).toMatch(/timestamping certificate with subject "CN=Test TSA,O=Acme,C=US" is revoked/);
      expect(await listSignatures(repository, image)).toHaveLength(revoked ? 0 : 1);
    } finally {
      await Promise.all([revocableTsa.close(), responder.close()]);
    }
  });

  test('asks the TSA for a SHA-384 imprint with a nonce and certReq, and verify with a tsa store reports the timestamp', async () => {
    const { ref } = await newImage();
    const sign = await runSignedImage(['sign', '--insecure-registry', '-k', keyFile, '-c', certFile, '--timestamp-url', tsa.url, '--timestamp-root-cert', tsa.rootFile, ref]);
    expect(sign.stderr).toBe('');
    expect(sign.code).toBe(0);

    // notation-core-go timestampJWS: the signature algorithm's hash (ES384 here) over the primitive signature.
    const request = new TimeStampReq({ schema: asn1js.fromBER(tsa.requests[tsa.requests.length - 1].slice().buffer).result });
    expect(request.messageImprint.hashAlgorithm.algorithmId).toBe(SHA384);
    expect(request.messageImprint.hashedMessage.valueBlock.valueHexView).toHaveLength(48);
    expect(request.certReq).toBe(true);
    expect(request.nonce?.valueBlock.valueHexView.length).toBeGreaterThan(0);

    const policy = trustPolicy({ trustStores: ['ca:acme', 'tsa:acme-tsa'] });
    const configDir = writeNotationConfig(policy, { 'ca:acme': chain.root.pem, 'tsa:acme-tsa': tsa.root.pem });
    const verify = await runSignedImage(['verify', '--insecure-registry', '--config-dir', configDir, '-o', 'json', ref]);
    expect(verify.code).toBe(0);
    const timestamp = JSON.parse(verify.stdout).results.find((result: { type: string }) => result.type === 'authenticTimestamp');
    expect(timestamp).toMatchObject({ ok: true });
    expect(timestamp.message).toMatch(/^timestamped at "\d{4}-\d\d-\d\dT[\d:.]+Z" by "CN=Test TSA,O=Acme,C=US"$/);

    const inspect = await runSignedImage(['inspect', '--insecure-registry', '-o', 'json', ref]);
    const [signature] = JSON.parse(inspect.stdout).Signatures;
    expect(signature.unsignedAttributes.timestampSignature.certificates[0].issuedTo).toContain('CN=Test TSA');
    // tspclient-go Timestamp.Format: [genTime - accuracy, genTime + accuracy], RFC 3339 in JSON
    expect(signature.unsignedAttributes.timestampSignature.timestamp).toMatch(/^\[\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ, \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\]$/);
    const [earliest, latest] = signature.unsignedAttributes.timestampSignature.timestamp.slice(1, -1).split(', ').map(Date.parse);
    expect(latest - earliest).toBe(2000); // the test TSA states an accuracy of 1 s
    const tree = await runSignedImage(['inspect', '--insecure-registry', ref]);
    expect(tree.stdout).toMatch(/│ {3}└── timestamp signature\n.*├── timestamp: \[\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}, \w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}\]\n/);
  });

  test('an existing signature without a timestamp is not reused when a timestamp is asked for', async () => {
    const { ref, repository, image } = await newImage();
    await runSignedImage(['sign', '--insecure-registry', '-k', keyFile, '-c', certFile, ref]);
    const timestamped = await runSignedImage(['sign', '--insecure-registry', '-k', keyFile, '-c', certFile, '--timestamp-url', tsa.url, '--timestamp-root-cert', tsa.rootFile, ref]);
    const again = await runSignedImage(['sign', '--insecure-registry', '-k', keyFile, '-c', certFile, '--timestamp-url', tsa.url, '--timestamp-root-cert', tsa.rootFile, ref]);

    expect(timestamped.stdout).toContain('Successfully signed');
    expect(again.stdout).toContain('already has a valid signature');
    expect(await listSignatures(repository, image)).toHaveLength(2);
  });

  test('the same signature without the tsa store\'s root fails the authentic timestamp check', async () => {
    const { ref } = await newImage();
    await runSignedImage(['sign', '--insecure-registry', '-k', keyFile, '-c', certFile, '--timestamp-url', tsa.url, '--timestamp-root-cert', tsa.rootFile, ref]);
    const otherRoot = await createRoot({ subject: 'CN=Other TSA Root' });
    const configDir = writeNotationConfig(trustPolicy({ trustStores: ['ca:acme', 'tsa:other'] }), { 'ca:acme': chain.root.pem, 'tsa:other': otherRoot.pem });

    const verify = await runSignedImage(['verify', '--insecure-registry', '--config-dir', configDir, ref]);

    expect(verify.code).toBe(1);
    expect(verify.stderr).toContain('failed to verify the timestamp countersignature');
  });

  test('a token from a TSA that does not chain to --timestamp-root-cert is refused at sign time, and nothing is pushed', async () => {
    const { ref, repository, image } = await newImage();
    const otherRoot = await createRoot({ subject: 'CN=Other TSA Root' });
    const otherRootFile = join(dir, 'other-tsa-root.pem');
    writeFileSync(otherRootFile, otherRoot.pem);

    const sign = await runSignedImage(['sign', '--insecure-registry', '-k', keyFile, '-c', certFile, '--timestamp-url', tsa.url, '--timestamp-root-cert', otherRootFile, ref]);

    expect(sign.code).toBe(1);
    expect(sign.stderr).toContain(`timestamp: POST "${tsa.url}": failed to verify the timestamp countersignature`);
    expect(await listSignatures(repository, image)).toEqual([]);
  });

  test.each([
    [['--timestamp-url', 'http://127.0.0.1:1/'], 'timestamping: tsa root certificate path cannot be empty (--timestamp-root-cert)'],
    [['--timestamp-root-cert', 'root.pem'], 'timestamping: tsa url cannot be empty (--timestamp-url)'],
    [['--timestamp-url', 'ftp://tsa.example', '--timestamp-root-cert', 'root.pem'], '--timestamp-url: timestamp URL "ftp://tsa.example": scheme must be http or https, but got "ftp"'],
  ])('%j is a usage error', async (flags, message) => {
    const { ref, repository, image } = await newImage();
    const run = await runSignedImage(['sign', '--insecure-registry', '-k', keyFile, '-c', certFile, ...flags, ref]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(message);
    expect(await listSignatures(repository, image)).toEqual([]);
  });

  test('--timestamp-root-cert must hold one root certificate', async () => {
    const { ref } = await newImage();
    const run = await runSignedImage(['sign', '--insecure-registry', '-k', keyFile, '-c', certFile, '--timestamp-url', tsa.url, '--timestamp-root-cert', certFile, ref]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`--timestamp-root-cert ${certFile}: found 3 certificates; expecting a single x509 root certificate`);
  });
});
