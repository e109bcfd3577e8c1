/**
 * UserParameters that are not JSON, not an object, of the wrong types or too large, given to the sign and
 * verify handlers next to a valid image: each job fails with a message naming UserParameters and the field,
 * nothing is signed (no SignPayload call) and nothing is written to the registry.
 */
import { randomBytes } from 'node:crypto';
import { SignPayloadCommand } from '@aws-sdk/client-signer';
import { snapshot } from './registry-state';
import { createSignHandler } from '../../lambda/handlers/sign';
import { createVerifyHandler } from '../../lambda/handlers/verify';
import { RegistryRepository } from '../../lambda/oci/registry-repository';
import { captureConsole, expectCleanLogs, FakeAwsSigner, jobEvent, mockAws, registryEnv, reportedFailure, testProfile, trustPolicy } from '../handlers/support';
import { plainRegistry } from '../harness/env';
import { createRandomImage, pushImage } from '../util/images';

const PREFIX = `bad-input/params-${randomBytes(4).toString('hex')}`;
const PROFILE = testProfile('release');
const aws = mockAws();
let fake: FakeAwsSigner;
let imageUri: string;

beforeAll(async () => {
  fake = await FakeAwsSigner.create([PROFILE]);
  const repository = new RegistryRepository({ registry: plainRegistry(), repository: PREFIX, plainHttp: true });
  const image = await pushImage(repository, createRandomImage(), 'v1');
  imageUri = `${plainRegistry()}/${PREFIX}@${image.digest}`;
});
afterAll(() => aws.restore());

const signHandler = () => createSignHandler({
  env: {
    SIGNING_PROFILES: JSON.stringify([{ profileName: PROFILE.profileName, profileArn: PROFILE.profileArn }]),
    ALLOWED_REPOSITORIES: JSON.stringify([`${plainRegistry()}/${PREFIX}`]),
    ...registryEnv(),
  },
  clients: aws.clients,
});
const verifyHandler = () => createVerifyHandler({
  env: { TRUST_POLICY: trustPolicy([PROFILE.profileArn]), TRUST_STORES: fake.trustStores(), ...registryEnv() },
  clients: aws.clients,
});

/** [what is wrong, UserParameters text (undefined: the field is absent), the message expected]. */
type Case = [string, () => string | undefined, RegExp];

const big = (length: number) => 'x'.repeat(length);
const withImage = (fields: Record<string, unknown>) => () => JSON.stringify({ imageUri, ...fields });

/** The cases, built when called: they hold the URI of the image pushed before the tests. */
const common = (): Case[] => [
  ['absent', () => undefined, /^UserParameters is missing: the Lambda invoke action must pass a JSON object/],
  ['empty', () => '', /^UserParameters is missing/],
  ['plain text', () => 'sign it please', /^UserParameters is not valid JSON/],
  ['truncated JSON', () => `{"imageUri": "${imageUri}"`, /^UserParameters is not valid JSON/],
  ['trailing comma', () => `{"imageUri": "${imageUri}",}`, /^UserParameters is not valid JSON/],
  ['single quotes', () => `{'imageUri': '${imageUri}'}`, /^UserParameters is not valid JSON/],
  ['an unresolved variable outside a string', () => '{"imageUri": #{Build.IMAGE_URI}}', /^UserParameters is not valid JSON/],
  ['a JSON array', () => JSON.stringify([imageUri]), /^UserParameters must be a JSON object .*, got an array/],
  ['a JSON string', () => JSON.stringify(imageUri), /^UserParameters must be a JSON object .*, got a string/],
  ['a JSON number', () => '42', /^UserParameters must be a JSON object .*, got a number/],
  ['JSON null', () => 'null', /^UserParameters must be a JSON object .*, got null/],
  ['JSON true', () => 'true', /^UserParameters must be a JSON object .*, got a boolean/],
  ['no imageUri', () => '{}', /^UserParameters: imageUri is required/],
  ['imageUri null', () => '{"imageUri": null}', /^UserParameters: imageUri is required/],
  ['imageUri a number', withImage({ imageUri: 42 }), /^UserParameters: imageUri must be a string, got a number/],
  ['imageUri a boolean', withImage({ imageUri: true }), /^UserParameters: imageUri must be a string, got a boolean/],
  ['imageUri an array', withImage({ imageUri: [imageUri] }), /^UserParameters: imageUri must be a string, got an array/],
  ['imageUri an object', withImage({ imageUri: { uri: imageUri } }), /^UserParameters: imageUri must be a string, got an object/],
  ['imageUri over 1024 characters', withImage({ imageUri: `${imageUri}${big(1100)}` }), /^UserParameters: imageUri is \d+ characters long; at most 1024/],
  ['imageUri an unresolved variable', withImage({ imageUri: '#{Build.IMAGE_URI}' }), /^UserParameters: imageUri holds an unresolved CodePipeline variable/],
  ['an unknown field', withImage({ imageURI: imageUri }), /^UserParameters: unknown field "imageURI"; the fields are imageUri, /],
  ['userMetadata a string', withImage({ userMetadata: 'team=payments' }), /^UserParameters: userMetadata must be an object of string values .*, got a string/],
  ['userMetadata an array', withImage({ userMetadata: ['team'] }), /^UserParameters: userMetadata must be an object of string values .*, got an array/],
  ['userMetadata a number value', withImage({ userMetadata: { build: 42 } }), /^UserParameters: userMetadata\.build must be a string, got a number/],
  ['userMetadata a null value', withImage({ userMetadata: { build: null } }), /^UserParameters: userMetadata\.build must be a string, got null/],
  ['userMetadata an empty key', withImage({ userMetadata: { '': 'x' } }), /^UserParameters: userMetadata has an empty key/],
  [
    'userMetadata with 33 entries',
    withImage({ userMetadata: Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, 'v'])) }),
    /^UserParameters: userMetadata has 33 entries; at most 32 are accepted/,
  ],
  ['userMetadata a key of 129 characters', withImage({ userMetadata: { [big(129)]: 'v' } }), /^UserParameters: userMetadata\.x{100}… is a key of 129 characters; at most 128/],
  ['userMetadata a value of 1025 characters', withImage({ userMetadata: { team: big(1025) } }), /^UserParameters: userMetadata\.team is 1025 characters long; at most 1024/],
  ['UserParameters over 16 KiB', withImage({ userMetadata: { a: big(9000), b: big(9000) } }), /^UserParameters is \d{5} bytes; at most 16384 bytes are accepted/],
  ['UserParameters of 1 MiB', withImage({ userMetadata: { a: big(1024 * 1024) } }), /^UserParameters is \d{7} bytes; at most 16384 bytes are accepted/],
  ['deeply nested JSON', () => `${'['.repeat(5000)}${']'.repeat(5000)}`, /^UserParameters must be a JSON object .*, got an array/],
];

const signOnly = (): Case[] => [
  ['force a string', withImage({ force: 'yes' }), /^UserParameters: force must be true or false, got a string/],
  ['force a number', withImage({ force: 1 }), /^UserParameters: force must be true or false, got a number/],
  ['signingProfileArn a number', withImage({ signingProfileArn: 7 }), /^UserParameters: signingProfileArn must be a string, got a number/],
  ['buildId an object', withImage({ buildId: { id: 'b' } }), /^UserParameters: buildId must be a string, got an object/],
  ['sourceRevision over 1024 characters', withImage({ sourceRevision: big(1025) }), /^UserParameters: sourceRevision is 1025 characters long; at most 1024/],
  ['userMetadata in the reserved namespace', withImage({ userMetadata: { 'io.cncf.notary.x': 'v' } }), /^UserParameters: userMetadata\.io\.cncf\.notary\.x uses the reserved prefix/],
];

describe.each([
  ['sign', signHandler, () => [...common(), ...signOnly()]],
  ['verify', verifyHandler, common],
] as Array<[string, () => (event: unknown) => Promise<unknown>, () => Case[]]>)('the %s handler', (_name, create, cases) => {
  test(`fails the job for each of ${cases().length} bad UserParameters and writes nothing`, async () => {
    const handler = create();
    const before = await snapshot(PREFIX);
    expect(Object.keys(before)).toEqual([PREFIX]);
    const logs = captureConsole();
    try {
      for (const [problem, text, expected] of cases()) {
        aws.reset(fake);
        const event = jobEvent(text());
        const jobId = (event['CodePipeline.job'] as { id: string }).id;
        const result = (await handler(event)) as { status: string; message: string };
        expect({ problem, status: result.status, message: result.message }).toEqual({ problem, status: 'failed', message: expect.stringMatching(expected) });
        const message = reportedFailure(aws.codePipeline, jobId);
        expect(result.message).toBe(message);
        expect(message.length).toBeLessThan(5000);
        expect(aws.signer.commandCalls(SignPayloadCommand)).toHaveLength(0);
      }
      // The parameters are never echoed into the logs, however large.
      expectCleanLogs(logs.text());
      expect(logs.text()).not.toContain(big(1000));
    } finally {
      logs.restore();
    }
    expect(await snapshot(PREFIX)).toEqual(before);
  });
});

test('a direct invocation event over 16 KiB is refused before any work', async () => {
  aws.reset(fake);
  const logs = captureConsole();
  try {
    for (const handler of [signHandler(), verifyHandler()]) {
      const error = await handler({ imageUri, userMetadata: { a: big(20_000) } }).catch((e: Error) => e);
      expect((error as Error).message).toMatch(/^the event is \d+ bytes of JSON; at most 16384 bytes are accepted$/);
    }
  } finally {
    logs.restore();
  }
  expect(aws.signer.commandCalls(SignPayloadCommand)).toHaveLength(0);
  expect(aws.codePipeline.calls()).toHaveLength(0);
});
