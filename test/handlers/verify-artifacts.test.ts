/**
 * The verify handler as the pipeline's gate: it reads imagedefinitions.json from its input artifact with the job's
 * artifact credentials, refuses a file that does not deploy exactly the verified image (before any registry call),
 * and writes the checked file as its output artifact. The artifact store is mocked in the shapes of the S3 API.
 */
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { GetRevocationStatusCommand } from '@aws-sdk/client-signer';
import {
  FakeAwsSigner,
  handlerTestLifecycle,
  jobArtifact,
  jobEvent,
  lambdaContext,
  mockAws,
  pushTestImage,
  registryEnv,
  reportedFailure,
  reportedSuccess,
  testProfile,
  trustPolicy,
} from './support';
import { createVerifyHandler } from '../../lambda/handlers/verify';
import { readZipEntry, writeZip } from '../../lambda/handlers/zip';
import { signImage } from '../../lambda/notary/sign-image';

const RELEASE = testProfile('release');
const aws = mockAws();
let fake: FakeAwsSigner;

beforeAll(async () => {
  fake = await FakeAwsSigner.create([RELEASE]);
});
handlerTestLifecycle(aws, () => fake);

const verify = () => createVerifyHandler({
  env: { TRUST_POLICY: trustPolicy([RELEASE.profileArn]), TRUST_STORES: fake.trustStores(), ...registryEnv() },
  clients: aws.clients,
});

const BUILD = jobArtifact('BuildOutput', 'pipe/BuildOutpu/abc1234');
const VERIFIED = jobArtifact('VerifiedImageDefinitions', 'pipe/VerifiedIma/def5678');

async function signedImage() {
  const pushed = await pushTestImage('handlers/verify-artifacts');
  await signImage({ repository: pushed.repository, tagOrDigest: pushed.image.digest, signer: fake.signers.get('release')! });
  return { ...pushed, imageUri: `${pushed.uri}@${pushed.image.digest}` };
}

function serveBuildArtifact(files: Array<[string, string]>) {
  const archive = writeZip(files.map(([name, content]) => [name, Buffer.from(content)]));
  aws.s3.on(GetObjectCommand, { Bucket: 'pipeline-artifacts', Key: 'pipe/BuildOutpu/abc1234' })
    .resolves({ ContentLength: archive.length, Body: { transformToByteArray: async () => new Uint8Array(archive) } as any });
}

describe('verify handler: the gate\'s artifacts', () => {
  test('hands on the checked imagedefinitions.json, without the store\'s key when it has none', async () => {
    const image = await signedImage();
    serveBuildArtifact([['imagedefinitions.json', JSON.stringify([{ name: 'web', imageUri: image.imageUri }])], ['other.txt', 'x']]);
    await verify()(jobEvent(JSON.stringify({ imageUri: image.imageUri, containerName: 'web' }), 'job-ok', { inputArtifacts: [BUILD], outputArtifacts: [VERIFIED] }), lambdaContext());
    reportedSuccess(aws.codePipeline, 'job-ok');
    const [put] = aws.s3.commandCalls(PutObjectCommand).map((call) => call.args[0].input);
    expect(put).toMatchObject({ Bucket: 'pipeline-artifacts', Key: 'pipe/VerifiedIma/def5678', ContentType: 'application/zip' });
    expect(put.ServerSideEncryption).toBeUndefined();
    expect(JSON.parse(Buffer.from(readZipEntry(put.Body as Uint8Array, 'imagedefinitions.json', 1024)!).toString())).toEqual([{ name: 'web', imageUri: image.imageUri }]);
    expect(readZipEntry(put.Body as Uint8Array, 'other.txt', 1024)).toBeUndefined();
  });

  test('an unsigned image whose imagedefinitions.json is right writes nothing', async () => {
    const pushed = await pushTestImage('handlers/verify-artifacts-unsigned');
    const imageUri = `${pushed.uri}@${pushed.image.digest}`;
    serveBuildArtifact([['imagedefinitions.json', JSON.stringify([{ name: 'web', imageUri }])]]);
    await verify()(jobEvent(JSON.stringify({ imageUri, containerName: 'web' }), 'job-unsigned', { inputArtifacts: [BUILD], outputArtifacts: [VERIFIED] }), lambdaContext());
    expect(reportedFailure(aws.codePipeline, 'job-unsigned')).toContain('no signature is associated');
    expect(aws.s3.commandCalls(PutObjectCommand)).toHaveLength(0);
  });

  const NOT_A_ZIP: Array<[string, string]> = [];
  test.each<[string, Record<string, unknown>, Record<string, unknown[]>, string, Array<[string, string]> | undefined]>([
    ['an output artifact without an input', { containerName: 'web' }, { outputArtifacts: [VERIFIED] }, 'has an output artifact but no input artifact', undefined],
    ['two input artifacts', { containerName: 'web' }, { inputArtifacts: [BUILD, BUILD], outputArtifacts: [VERIFIED] }, 'at most one input artifact', undefined],
    ['an input artifact without containerName', {}, { inputArtifacts: [BUILD], outputArtifacts: [VERIFIED] }, 'UserParameters: containerName is required with an input artifact', undefined],
    ['containerName without an input artifact', { containerName: 'web' }, {}, 'UserParameters: containerName is given, but the action has no input artifact', undefined],
    ['a containerName that is no container name', { containerName: 'web app' }, { inputArtifacts: [BUILD] }, 'UserParameters: containerName must be an ECS container name', undefined],
    ['an artifact location that is not S3', { containerName: 'web' }, { inputArtifacts: [{ name: 'BuildOutput', location: { type: 'CodeCommit' } }] }, 'data.inputArtifacts[0] must be', undefined],
    ['an artifact that is not a zip', { containerName: 'web' }, { inputArtifacts: [BUILD] }, 'input artifact "BuildOutput": not a ZIP archive', NOT_A_ZIP],
    ['imagedefinitions.json that is not JSON', { containerName: 'web' }, { inputArtifacts: [BUILD] }, 'input artifact "BuildOutput": imagedefinitions.json is not valid JSON', [['imagedefinitions.json', '[{']]],
    ['an empty imagedefinitions.json', { containerName: 'web' }, { inputArtifacts: [BUILD] }, 'imagedefinitions.json must be a JSON array with one entry', [['imagedefinitions.json', '[]']]],
  ])('%s fails the job before any registry call, naming the problem', async (_name, extra, artifacts, expected, files) => {
    const image = await signedImage();
    const text = (content: string) => ({ transformToByteArray: async () => new TextEncoder().encode(content) }) as any;
    if (files === NOT_A_ZIP) aws.s3.on(GetObjectCommand).resolves({ Body: text('not a zip archive at all, just text') });
    else serveBuildArtifact(files ?? [['imagedefinitions.json', JSON.stringify([{ name: 'web', imageUri: image.imageUri }])]]);
    await verify()(jobEvent(JSON.stringify({ imageUri: image.imageUri, ...extra }), 'job-bad', artifacts), lambdaContext());
    expect(reportedFailure(aws.codePipeline, 'job-bad')).toContain(expected);
    expect(aws.signer.commandCalls(GetRevocationStatusCommand)).toHaveLength(0);
    expect(aws.s3.commandCalls(PutObjectCommand)).toHaveLength(0);
  });

  test('a job without artifact credentials cannot read the artifact and says so', async () => {
    const image = await signedImage();
    const event = jobEvent(JSON.stringify({ imageUri: image.imageUri, containerName: 'web' }), 'job-nocreds', { inputArtifacts: [BUILD] }) as any;
    delete event['CodePipeline.job'].data.artifactCredentials;
    await verify()(event, lambdaContext());
    expect(reportedFailure(aws.codePipeline, 'job-nocreds')).toContain('carries no artifact credentials to read or write artifact "BuildOutput"');
  });
});
