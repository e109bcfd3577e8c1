/**
 * Keys and certificates that are not what they claim, given to `signed-image sign` (and trust stores that
 * are not certificates, given to `verify`): each is refused naming the file, with a non-zero exit code,
 * before anything is pushed.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { snapshot } from './registry-state';
import { listSignatures } from '../../lambda/notary/list-signatures';
import { RegistryRepository } from '../../lambda/oci/registry-repository';
import { Descriptor } from '../../lambda/oci/types';
import { plainRegistry } from '../harness/env';
import { runSignedImage } from '../util/cli';
import { createRandomImage, pushImage } from '../util/images';
import { trustPolicy, writeNotationConfig } from '../util/notation-config';
import { createChain, createLeaf, createRoot, TestChain } from '../util/pki';

const PREFIX = `bad-input/certs-${randomBytes(4).toString('hex')}`;
const dir = mkdtempSync(join(tmpdir(), 'bad-certificates-'));

let chain: TestChain;
let other: TestChain;
let repository: RegistryRepository;
let image: Descriptor;
let reference: string;

function file(name: string, content: string | Uint8Array): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

beforeAll(async () => {
  [chain, other] = await Promise.all([createChain(), createChain()]);
  repository = new RegistryRepository({ registry: plainRegistry(), repository: PREFIX, plainHttp: true });
  image = await pushImage(repository, createRandomImage(), 'v1');
  reference = `${plainRegistry()}/${PREFIX}:v1`;
});

/** [what is wrong, key file, certificate file, what the message must say]. */
type Case = [string, string, string, RegExp];

/** Caught when the signer is created from the files: a usage error naming both files. */
async function loadCases(): Promise<Case[]> {
  const key = file('key.pem', chain.leaf.keyPem);
  const cert = file('chain.pem', chain.chainPem);
  const garbagePem = '-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n';
  const serverLeaf = await createLeaf(chain.intermediate, { extendedKeyUsage: ['1.3.6.1.5.5.7.3.1'] });
  const strangerRoot = await createRoot();
  return [
    ['a key that does not match the certificate', file('other-key.pem', other.leaf.keyPem), cert, /private key does not match the signing certificate/],
    ['a CA certificate as the leaf', file('ca-key.pem', chain.intermediate.keyPem), file('ca-chain.pem', [chain.intermediate.pem, chain.root.pem].join('\n')), /certificate/],
    ['garbage PEM as the certificate', key, file('garbage.pem', garbagePem), /certificate/i],
    ['garbage PEM as the key', file('garbage-key.pem', garbagePem.replace(/CERTIFICATE/g, 'PRIVATE KEY')), cert, /key/i],
    ['an empty certificate file', key, file('empty.pem', ''), /certificate/i],
    ['an empty key file', file('empty-key.pem', ''), cert, /key/i],
    ['a key where the certificate belongs', key, file('key-as-cert.pem', chain.leaf.keyPem), /certificate/i],
    ['a certificate where the key belongs', file('cert-as-key.pem', chain.leaf.pem), cert, /key/i],
    ['random bytes as the certificate', key, file('random.der', new Uint8Array(randomBytes(512))), /certificate/i],
    ['the chain in reverse order', key, file('reversed.pem', [chain.root.pem, chain.intermediate.pem, chain.leaf.pem].join('\n')), /certificate|chain/i],
    ['a chain without its intermediate', key, file('gap.pem', [chain.leaf.pem, chain.root.pem].join('\n')), /certificate|chain/i],
    ['a chain ending at a stranger root', key, file('stranger.pem', [chain.leaf.pem, chain.intermediate.pem, strangerRoot.pem].join('\n')), /certificate|chain/i],
    [
      'a leaf for TLS servers, not code signing',
      file('server-key.pem', serverLeaf.keyPem),
      file('server.pem', [serverLeaf.pem, chain.intermediate.pem, chain.root.pem].join('\n')),
      /extended key usage|codeSigning|code signing/i,
    ],
    ['a key file that does not exist', join(dir, 'missing-key.pem'), cert, /no such file/],
  ];
}

describe('signed-image sign with keys and certificates that are not what they claim', () => {
  test('each is refused naming the files, with exit code 2, and nothing is pushed', async () => {
    const before = await snapshot(PREFIX);
    expect(before).toEqual({ [PREFIX]: ['v1'] });
    const all = await loadCases();
    expect(all.length).toBeGreaterThanOrEqual(14);
    for (const [problem, key, cert, expected] of all) {
      const run = await runSignedImage(['sign', '--plain-http', '--key', key, '--cert', cert, reference]);
      expect({ problem, code: run.code, stdout: run.stdout }).toEqual({ problem, code: 2, stdout: '' });
      expect({ problem, stderr: run.stderr }).toEqual({ problem, stderr: expect.stringMatching(/^Error: --key .+\n$/) });
      expect(run.stderr).toContain(`--key ${key}`);
      if (!problem.includes('does not exist')) expect(run.stderr).toContain(`--cert ${cert}`);
      expect({ problem, stderr: run.stderr }).toEqual({ problem, stderr: expect.stringMatching(expected) });
    }
    expect(await snapshot(PREFIX)).toEqual(before);
    expect(await listSignatures(repository, image)).toEqual([]);
  });

  test('a leaf that has expired is refused at signing time, naming the certificate and the image, and nothing is pushed', async () => {
    const expired = await createLeaf(chain.intermediate, {
      notBefore: new Date(Date.now() - 48 * 3600_000),
      notAfter: new Date(Date.now() - 24 * 3600_000),
    });
    const key = file('expired-key.pem', expired.keyPem);
    const cert = file('expired.pem', [expired.pem, chain.intermediate.pem, chain.root.pem].join('\n'));
    const before = await snapshot(PREFIX);

    const run = await runSignedImage(['sign', '--plain-http', '--key', key, '--cert', cert, reference]);

    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(new RegExp(`^Error: ${reference.replace(/[.]/g, '\\.')}: certificate "${expired.subject}" is not valid at the signing time `));
    expect(await snapshot(PREFIX)).toEqual(before);
    expect(await listSignatures(repository, image)).toEqual([]);
  });
});

describe('signed-image verify with trust stores that are not certificates', () => {
  test.each([
    ['garbage PEM', '-----BEGIN CERTIFICATE-----\nZ2FyYmFnZQ==\n-----END CERTIFICATE-----\n'],
    ['a private key', 'KEY'],
    ['random text', 'these are not the certificates you are looking for\n'],
    ['a leaf certificate instead of a CA', 'LEAF'],
  ])('a trust store holding %s fails verification naming the store', async (_problem, content) => {
    const pem = content === 'KEY' ? chain.leaf.keyPem : content === 'LEAF' ? chain.leaf.pem : content;
    const configDir = writeNotationConfig(trustPolicy({ trustStores: ['ca:broken'] }), { 'ca:broken': pem });
    const before = await snapshot(PREFIX);
    const run = await runSignedImage(['verify', '--plain-http', '--config-dir', configDir, reference]);
    expect(run.code).not.toBe(0);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^Error: /);
    expect(run.stderr).toContain('broken');
    expect(await snapshot(PREFIX)).toEqual(before);
  });
});
