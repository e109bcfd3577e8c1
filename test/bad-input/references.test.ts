/**
 * Malformed image references given to the CLI (sign, verify) and to the sign and verify handlers: each is
 * refused with a message quoting it, a usage exit code or a failed job, and nothing is written.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { snapshot } from './registry-state';
import { createSignHandler } from '../../lambda/handlers/sign';
import { createVerifyHandler } from '../../lambda/handlers/verify';
import { RegistryRepository } from '../../lambda/oci/registry-repository';
import { captureConsole, FakeAwsSigner, jobEvent, mockAws, registryEnv, reportedFailure, testProfile, trustPolicy as handlerPolicy } from '../handlers/support';
import { plainRegistry } from '../harness/env';
import { runSignedImage } from '../util/cli';
import { createRandomImage, pushImage } from '../util/images';
import { trustPolicy, writeNotationConfig } from '../util/notation-config';
import { createChain } from '../util/pki';

const TOKEN = randomBytes(4).toString('hex');
const PREFIX = `bad-input/ref-${TOKEN}`;
const HEX = 'a'.repeat(64);
const PROFILE = testProfile('release');
const aws = mockAws();

let host: string;
let repo: string;
let keyFile: string;
let certFile: string;
let configDir: string;
let fake: FakeAwsSigner;

/** [what is wrong, the reference]: built around the real repository, so a lax parser would reach it. */
function malformedReferences(): Array<[string, string]> {
  const base = `${host}/${repo}`;
  return [
    ['empty', ''],
    ['only a space', ' '],
    ['no tag or digest', base],
    ['empty tag', `${base}:`],
    ['empty digest', `${base}@`],
    ['trailing space', `${base}:v1 `],
    ['leading space', ` ${base}:v1`],
    ['newline in the tag', `${base}:v\n1`],
    ['tab in the tag', `${base}:v\t1`],
    ['NUL at the end', `${base}:v1\u0000`],
    ['tag starting with "."', `${base}:.v1`],
    ['tag starting with "-"', `${base}:-v1`],
    ['tag of 129 characters', `${base}:${'t'.repeat(129)}`],
    ['tag with "+"', `${base}:v1+build`],
    ['two tags', `${base}:v1:v2`],
    ['digest too short', `${base}@sha256:abc`],
    ['digest with non-hex characters', `${base}@sha256:${'g'.repeat(64)}`],
    ['uppercase digest', `${base}@sha256:${HEX.toUpperCase()}`],
    ['unsupported digest algorithm', `${base}@md5:${'a'.repeat(32)}`],
    ['sha512 digest of sha256 length', `${base}@sha512:${HEX}`],
    ['digest without algorithm', `${base}@${HEX}`],
    ['two digests', `${base}@sha256:${HEX}@sha256:${HEX}`],
    ['tag and a bad digest', `${base}:v1@sha256:${HEX.slice(1)}`],
    ['uppercase repository', `${host}/${repo.toUpperCase()}:v1`],
    ['empty path component', `${host}//${repo}:v1`],
    ['trailing slash', `${base}/:v1`],
    ['component starting with a separator', `${host}/${repo}/_x:v1`],
    ['double dot in a component', `${host}/${repo}..x:v1`],
    ['three underscores', `${host}/${repo}___x:v1`],
    ['space in the repository', `${host}/bad input:v1`],
    ['repository name over 255 characters', `${host}/${'r'.repeat(300)}:v1`],
    ['reference over the maximum length', `${host}/${'r'.repeat(700)}:v1`],
    ['bare image ID', HEX],
    ['port out of range', `127.0.0.1:99999/${repo}:v1`],
    ['port that is not a number', `127.0.0.1:http/${repo}:v1`],
    ['URL scheme', `http://${base}:v1`],
    ['host component ending with "-"', `bad-.example.com/${repo}:v1`],
    ['underscore in the host', `bad_host.example.com/${repo}:v1`],
    ['unclosed IPv6 bracket', `[::1/${repo}:v1`],
    ['malformed IPv6 address', `[zz::1]:5000/${repo}:v1`],
    ['text after an IPv6 address', `[::1]x/${repo}:v1`],
    ['empty repository name', ':v1'],
    ['empty host', `:5000/${repo}:v1`],
  ];
}

beforeAll(async () => {
  host = plainRegistry();
  repo = PREFIX;
  await pushImage(new RegistryRepository({ registry: host, repository: repo, plainHttp: true }), createRandomImage(), 'v1');
  const chain = await createChain();
  fake = await FakeAwsSigner.create([PROFILE]);
  const dir = mkdtempSync(join(tmpdir(), 'bad-references-'));
  keyFile = join(dir, 'key.pem');
  certFile = join(dir, 'chain.pem');
  writeFileSync(keyFile, chain.leaf.keyPem);
  writeFileSync(certFile, chain.chainPem);
  configDir = writeNotationConfig(trustPolicy({ trustStores: ['ca:test'] }), { 'ca:test': chain.root.pem });
});
afterAll(() => aws.restore());

/** How the reference appears in the message: quoted, cut after 600 characters. */
const quoted = (reference: string) => JSON.stringify(reference.length > 600 ? `${reference.slice(0, 600)}…` : reference);

describe('malformed references', () => {
  test('there are at least 30, all distinct', () => {
    const references = malformedReferences().map(([, reference]) => reference);
    expect(references.length).toBeGreaterThanOrEqual(30);
    expect(new Set(references).size).toBe(references.length);
  });

  test('the CLI refuses each with exit code 2, quoting it, and writes nothing', async () => {
    const before = await snapshot(PREFIX);
    expect(before).toEqual({ [repo]: ['v1'] });
    for (const [problem, reference] of malformedReferences()) {
      const sign = await runSignedImage(['sign', '--plain-http', '-k', keyFile, '-c', certFile, '--', reference]);
      const verify = await runSignedImage(['verify', '--plain-http', '--config-dir', configDir, '--', reference]);
      for (const run of [sign, verify]) {
        expect({ problem, code: run.code, stdout: run.stdout }).toEqual({ problem, code: 2, stdout: '' });
        expect(run.stderr.startsWith(`Error: invalid reference ${quoted(reference)}: `)).toBe(true);
        expect(run.stderr.split('\n')).toHaveLength(2);
      }
    }
    expect(await snapshot(PREFIX)).toEqual(before);
  });

  test('the sign and verify handlers fail the job for each, naming the field and quoting the input, and write nothing', async () => {
    const logs = captureConsole();
    try {
      const sign = createSignHandler({
        env: {
          SIGNING_PROFILES: JSON.stringify([{ profileName: PROFILE.profileName, profileArn: PROFILE.profileArn }]),
          ALLOWED_REPOSITORIES: JSON.stringify([`${host}/${repo}`]),
          ...registryEnv(),
        },
        clients: aws.clients,
      });
      const verify = createVerifyHandler({
        env: { TRUST_POLICY: handlerPolicy([PROFILE.profileArn]), TRUST_STORES: fake.trustStores(), ...registryEnv() },
        clients: aws.clients,
      });
      const before = await snapshot(PREFIX);
      for (const [problem, reference] of malformedReferences()) {
        for (const handler of [sign, verify]) {
          aws.reset(fake);
          const event = jobEvent(JSON.stringify({ imageUri: reference }));
          const jobId = (event['CodePipeline.job'] as { id: string }).id;
          const result = (await handler(event)) as { status: string };
          const message = reportedFailure(aws.codePipeline, jobId);
          expect({ problem, status: result.status }).toEqual({ problem, status: 'failed' });
          expect(message).toMatch(/^UserParameters: imageUri /);
          if (reference.trim() !== '' && !/[\u0000-\u001f]/.test(reference)) expect(message).toContain(quoted(reference).slice(0, 300));
        }
      }
      expect(await snapshot(PREFIX)).toEqual(before);
    } finally {
      logs.restore();
    }
  });
});
