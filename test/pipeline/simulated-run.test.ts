/**
 * A SignedImagePipeline run, simulated end to end against the local registry: the handlers run with the
 * configuration the synthesized template gives them (environment and UserParameters), with only the registry
 * host (ECR → the local registry) and the AWS Signer root (→ a test CA whose signatures have AWS Signer's shape)
 * swapped in. AWS APIs are mocked: SignPayload signs with the test CA, ECS reports the running tasks, the artifact
 * store (S3) serves the Build's artifact (a zip made by the `zip` tool, as CodeBuild uploads it) and keeps what the gate
 * writes, which is read back with `unzip`. CodeBuild and CodePipeline answer BatchGetBuilds and GetJobDetails for the provenance.
 */
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BatchGetBuildsCommand } from '@aws-sdk/client-codebuild';
import { GetJobDetailsCommand, PutJobSuccessResultCommand } from '@aws-sdk/client-codepipeline';
import { DescribeTasksCommand, ListTasksCommand } from '@aws-sdk/client-ecs';
import { GetObjectCommand, PutObjectCommand, PutObjectCommandInput } from '@aws-sdk/client-s3';
import { Template } from 'aws-cdk-lib/assertions';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import { ecsService, newStack, s3Source } from './support';
import { withEcsClient } from '../../lambda/handlers/clients';
import { createDeployCheckHandler } from '../../lambda/handlers/deploy-check';
import { createSignHandler } from '../../lambda/handlers/sign';
import { createVerifyHandler } from '../../lambda/handlers/verify';
import { listAttestations } from '../../lambda/notary/attestation-list';
import { listSignatures } from '../../lambda/notary/list-signatures';
import { RegistryRepository } from '../../lambda/oci/registry-repository';
import { DeployTarget, NotationSigningProfile, PipelineSource, SbomFormat, SignedImagePipeline } from '../../src';
import {
  ACCOUNT,
  captureConsole,
  expectCleanLogs,
  FakeAwsSigner,
  jobArtifact,
  jobEvent,
  lambdaContext,
  mockAws,
  registryEnv,
  reportedFailure,
  reportedSuccess,
  signedAnnotations,
  testProfile,
} from '../handlers/support';
import { plainRegistry } from '../harness/env';
import { createRandomImage, pushImage } from '../util/images';

const TEAM = testProfile('team_signer');
const ECR_HOST = `${ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com`;
const REPOSITORY_NAME = 'shop/web';
const CONNECTION_ARN = `arn:aws:codeconnections:us-east-1:${ACCOUNT}:connection/0b5e6f8a-1111-2222-3333-444455556666`;
const COMMIT = '3f786850e387550fdab836ed7e6dc881de23001b';
const PIPELINE_NAME = 'PipelineStack-Pipeline';

interface LambdaAction {
  readonly name: string;
  readonly functionLogicalId: string;
  readonly userParameters: string;
  readonly inputs: string[];
  readonly outputs: string[];
}

interface ActionWiring {
  readonly name: string;
  readonly provider: string;
  readonly inputs: string[];
  readonly outputs: string[];
  readonly configuration: string;
}

/**
 * The pipeline as synthesized: each Lambda action's function environment and UserParameters, per stage. `attested`:
 * from a repository connection, with signed provenance and an SPDX SBOM required at the gates.
 */
function synthesizePipeline(attested = false) {
  const stack = newStack();
  const profile = (p: typeof TEAM, id: string) =>
    NotationSigningProfile.fromSigningProfileAttributes(stack, id, {
      signingProfileArn: p.profileArn,
      signingProfileVersionArn: p.profileVersionArn,
    });
  new SignedImagePipeline(stack, 'Pipeline', {
    source: attested ? PipelineSource.connection({ connectionArn: CONNECTION_ARN, owner: 'shop', repo: 'web', branch: 'main' }) : s3Source(stack),
    repository: ecr.Repository.fromRepositoryName(stack, 'Repository', REPOSITORY_NAME),
    signingProfiles: [profile(TEAM, 'Team')],
    deploy: DeployTarget.ecs({ service: ecsService(stack), containerName: 'web' }),
    // The syft pin is never fetched here: the Build stage is simulated.
    ...(attested ? { provenance: {}, sbom: { format: SbomFormat.SPDX, syftVersion: '1.16.0', syftSha256: 'a'.repeat(64) } } : {}),
  });
  const template = Template.fromStack(stack).toJSON();
  const resources = template.Resources as Record<string, any>;
  const pipeline = Object.values(resources).find((r) => r.Type === 'AWS::CodePipeline::Pipeline');
  const stages: Record<string, LambdaAction[]> = {};
  const wiring: Record<string, ActionWiring[]> = {};
  const names = (artifacts?: Array<{ Name: string }>) => (artifacts ?? []).map((artifact) => artifact.Name);
  for (const stage of pipeline.Properties.Stages) {
    stages[stage.Name] = stage.Actions.filter((a: any) => a.ActionTypeId.Provider === 'Lambda').map((a: any) => ({
      name: a.Name,
      functionLogicalId: a.Configuration.FunctionName.Ref,
      userParameters: flatten(a.Configuration.UserParameters),
      inputs: names(a.InputArtifacts),
      outputs: names(a.OutputArtifacts),
    }));
    wiring[stage.Name] = stage.Actions.map((a: any) => ({
      name: a.Name,
      provider: a.ActionTypeId.Provider,
      inputs: names(a.InputArtifacts),
      outputs: names(a.OutputArtifacts),
      configuration: JSON.stringify(a.Configuration ?? {}),
    }));
  }
  const environment = (logicalId: string): Record<string, string> =>
    Object.fromEntries(Object.entries(resources[logicalId].Properties.Environment?.Variables ?? {}).map(([k, v]) => [k, flatten(v)]));
  // The Build project's buildspec and environment, to write the Build artifact with the buildspec's own command.
  const buildProject = Object.values(resources).find((r) => r.Type === 'AWS::CodeBuild::Project' && r.Properties.Source.BuildSpec.includes('imagedefinitions.json'));
  const buildEnvironment = Object.fromEntries(buildProject.Properties.Environment.EnvironmentVariables.map((v: any) => [v.Name, v.Value]));
  const buildSpec = JSON.parse(buildProject.Properties.Source.BuildSpec);
  return { stages, wiring, environment, buildEnvironment, buildSpec };
}

/** A template value as the deployed stack would see it in us-east-1 (the only pseudo parameters left are literal). */
function flatten(value: unknown): string {
  if (typeof value === 'string') return value;
  const node = value as Record<string, any>;
  if (node['Fn::Join']) return (node['Fn::Join'][1] as unknown[]).map(flatten).join(node['Fn::Join'][0]);
  if (node.Ref === 'AWS::URLSuffix') return 'amazonaws.com';
  if (node.Ref === 'AWS::Partition') return 'aws';
  throw new Error(`unexpected intrinsic in a handler's configuration: ${JSON.stringify(value)}`);
}

/** A zip archive of `files` made by the `zip` tool, as CodeBuild uploads a build's artifact. */
function zipArchive(files: Record<string, string>): Buffer {
  const dir = mkdtempSync(join(tmpdir(), 'artifact-'));
  try {
    for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
    execFileSync('zip', ['-q', '-X', 'artifact.zip', ...Object.keys(files)], { cwd: dir });
    return execFileSync('cat', [join(dir, 'artifact.zip')]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** imagedefinitions.json as the Build's buildspec writes it: its own command, run by bash in a temp dir. */
function buildImageDefinitions(pipeline: SynthesizedPipeline, imageUri: string, imageDigest: string): string {
  const command = (pipeline.buildSpec.phases.build.commands as string[]).find((c) => c.includes('> imagedefinitions.json'))!;
  const dir = mkdtempSync(join(tmpdir(), 'build-'));
  try {
    execFileSync('bash', ['-c', `set -euo pipefail\n${command}`], {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        PATH: process.env.PATH,
        HOME: dir,
        CONTAINER_NAME: pipeline.buildEnvironment.CONTAINER_NAME,
        IMAGE_URI: imageUri,
        IMAGE_DIGEST: imageDigest,
      },
    });
    return execFileSync('cat', [join(dir, 'imagedefinitions.json')], { encoding: 'utf8' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** One file of a zip archive, read with the `unzip` tool. */
function unzipFile(archive: Uint8Array, name: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'artifact-'));
  try {
    writeFileSync(join(dir, 'artifact.zip'), archive);
    return execFileSync('unzip', ['-p', join(dir, 'artifact.zip'), name], { encoding: 'utf8' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const ARTIFACT_BUCKET = 'pipelinestack-artifacts-1a2b3c';
const ARTIFACT_KEY_ID = `arn:aws:kms:us-east-1:${ACCOUNT}:key/0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0`;

/** Replaces the pipeline's ECR host by the local registry's. */
const toLocal = (text: string, host: string) => text.split(ECR_HOST).join(host);

const aws = mockAws();
let fake: FakeAwsSigner;
type SynthesizedPipeline = ReturnType<typeof synthesizePipeline>;
const synthesized = synthesizePipeline();
const attestedPipeline = synthesizePipeline(true);

beforeAll(async () => {
  fake = await FakeAwsSigner.create([TEAM]);
});
beforeEach(() => {
  aws.reset(fake);
});
afterAll(() => aws.restore());

/** One pipeline execution's actions, configured as the template says (`extraBuildFiles`: more files of the Build artifact). */
async function pipelineRun(pipeline: SynthesizedPipeline = synthesized, extraBuildFiles: Record<string, string> = {}) {
  // Build: a new image in the pipeline's repository, as the build's docker push leaves it.
  const host = plainRegistry();
  const repository = new RegistryRepository({ registry: host, repository: REPOSITORY_NAME, plainHttp: true });
  const image = await pushImage(repository, createRandomImage(), `build-${randomUUID().slice(0, 8)}`);
  const pushed = { repository, image, uri: `${host}/${REPOSITORY_NAME}` };
  const variables: Record<string, string> = {
    '#{Build.IMAGE_URI}': pushed.uri,
    '#{Build.IMAGE_DIGEST}': pushed.image.digest,
    '#{Build.CODEBUILD_BUILD_ARN}': `arn:aws:codebuild:us-east-1:${ACCOUNT}:build/image-build:${randomUUID()}`,
    '#{Build.SOURCE_REVISION}': COMMIT,
    '#{codepipeline.PipelineExecutionId}': randomUUID(),
    '#{Source.CommitId}': COMMIT,
    '#{Source.BranchName}': 'main',
  };
  // CodeBuild's record of that build and CodePipeline's of each job, in the API references' shapes.
  aws.codeBuild.on(BatchGetBuildsCommand).resolves({
    builds: [{
      arn: variables['#{Build.CODEBUILD_BUILD_ARN}'],
      id: variables['#{Build.CODEBUILD_BUILD_ARN}'].split('/')[1],
      projectName: 'image-build',
      buildStatus: 'SUCCEEDED',
      startTime: new Date('2026-01-02T03:04:05Z'),
      endTime: new Date('2026-01-02T03:09:00Z'),
      resolvedSourceVersion: COMMIT,
      source: { type: 'CODEPIPELINE' },
      environment: { type: 'LINUX_CONTAINER', image: 'aws/codebuild/standard:7.0', computeType: 'BUILD_GENERAL1_SMALL' },
      initiator: `codepipeline/${PIPELINE_NAME}`,
      exportedEnvironmentVariables: [{ name: 'IMAGE_DIGEST', value: image.digest }],
    }],
  });
  const answerJob = (stage: string, action: string) => aws.codePipeline.on(GetJobDetailsCommand).resolves({
    jobDetails: {
      id: randomUUID(),
      accountId: ACCOUNT,
      data: {
        actionTypeId: { category: 'Invoke', owner: 'AWS', provider: 'Lambda', version: '1' },
        pipelineContext: {
          pipelineName: PIPELINE_NAME,
          pipelineArn: `arn:aws:codepipeline:us-east-1:${ACCOUNT}:${PIPELINE_NAME}`,
          pipelineExecutionId: variables['#{codepipeline.PipelineExecutionId}'],
          stage: { name: stage },
          action: { name: action, actionExecutionId: randomUUID() },
        },
      },
    },
  });
  const parameters = (action: LambdaAction, overrides: Record<string, string> = {}) => {
    let text = action.userParameters;
    for (const [variable, value] of Object.entries({ ...variables, ...gateVariables, ...overrides })) text = text.split(variable).join(value);
    expect(text).not.toContain('#{');
    return text;
  };
  const env = (action: LambdaAction) => {
    const values = pipeline.environment(action.functionLogicalId);
    return Object.fromEntries(Object.entries(values).map(([k, v]) => [k, toLocal(v, host)]));
  };
  let gateVariables: Record<string, string> = {};
  const artifacts: Record<string, Buffer> = {};
  const [signAction] = pipeline.stages.Sign;
  const [gateAction] = pipeline.stages.Deploy;
  const [verifyAction, checkAction] = pipeline.stages.Verify;
  // The trust stores: the test CA stands in for the AWS Signer root under the store name the template uses.
  // AWS_REGION is set by Lambda.
  const verifyEnv = (action: LambdaAction) => {
    const values = env(action);
    const policy = JSON.parse(values.TRUST_POLICY);
    const store = (policy.trustPolicies[0].trustStores as string[])[0];
    return { ...values, TRUST_STORES: JSON.stringify({ [store]: fake.chain.root.pem }), AWS_REGION: 'us-east-1', ...registryEnv() };
  };
  // The test CA stands in for the AWS Signer root that SignPayload's envelopes must chain to.
  const signEnv = () => ({ ...env(signAction), AWS_SIGNER_ROOTS: fake.chain.root.pem, AWS_REGION: 'us-east-1', ...registryEnv() });

  // The artifact store holds each action's artifacts under <pipeline>/<artifact>/<object>, as CodePipeline keys them.
  const location = (artifact: string) => jobArtifact(artifact, `PipelineStack-Pipeline/${artifact.slice(0, 20)}/${randomUUID().slice(0, 7)}`, ARTIFACT_BUCKET);
  const run = async (action: LambdaAction, handler: (event: unknown, context?: any) => Promise<unknown>, overrides: Record<string, string> = {}) => {
    aws.codePipeline.resetHistory();
    answerJob(Object.entries(pipeline.stages).find(([, actions]) => actions.includes(action))![0], action.name);
    const jobId = randomUUID();
    const inputArtifacts = action.inputs.map(location);
    for (const input of inputArtifacts) {
      const { bucketName, objectKey } = (input.location as any).s3Location;
      aws.s3.on(GetObjectCommand, { Bucket: bucketName, Key: objectKey }).callsFake(() => {
        const body = artifacts[input.name as string];
        if (!body) throw Object.assign(new Error('The specified key does not exist.'), { name: 'NoSuchKey' });
        return { ContentLength: body.length, Body: { transformToByteArray: async () => new Uint8Array(body) } };
      });
    }
    const outputArtifacts = action.outputs.map(location);
    await handler(
      jobEvent(parameters(action, overrides), jobId, { inputArtifacts, outputArtifacts, encryptionKey: { id: ARTIFACT_KEY_ID, type: 'KMS' } }),
      lambdaContext(),
    );
    const success = reportedResultsFor(jobId);
    if (success) {
      const namespace = action.name === gateAction.name ? 'DeployGate' : undefined;
      if (namespace) gateVariables = Object.fromEntries(Object.entries(success).map(([k, v]) => [`#{${namespace}.${k}}`, v]));
    }
    return jobId;
  };
  const reportedResultsFor = (jobId: string) =>
    aws.codePipeline.commandCalls(PutJobSuccessResultCommand).map((call) => call.args[0].input)
      .find((input) => input.jobId === jobId)?.outputVariables;
  /** What the gate wrote to the artifact store, as the deploy action would read it. */
  const written = () => aws.s3.commandCalls(PutObjectCommand).map((call) => call.args[0].input as PutObjectCommandInput);
  /** The Build's artifact with `imageDefinitions` as imagedefinitions.json (undefined: an artifact without the file). */
  const buildArtifact = (imageDefinitions: unknown) => {
    const [buildOutput] = gateAction.inputs;
    artifacts[buildOutput] = zipArchive(imageDefinitions === undefined ? { 'build.log': 'pushed' } : { 'imagedefinitions.json': JSON.stringify(imageDefinitions) });
  };
  // What the pipeline's buildspec writes for this build.
  const [buildOutput] = gateAction.inputs;
  artifacts[buildOutput] = zipArchive({ 'imagedefinitions.json': buildImageDefinitions(pipeline, pushed.uri, pushed.image.digest), ...extraBuildFiles });
  return {
    pushed,
    variables,
    buildArtifact,
    written,
    signEnv,
    sign: (overrides?: Record<string, string>) => run(signAction, createSignHandler({ env: signEnv(), clients: aws.clients }), overrides),
    gate: () => run(gateAction, createVerifyHandler({ env: verifyEnv(gateAction), clients: aws.clients })),
    verify: () => run(verifyAction, createVerifyHandler({ env: verifyEnv(verifyAction), clients: aws.clients })),
    check: () => run(checkAction, createDeployCheckHandler({ clients: withEcsClient(aws.clients) })),
    gateVariables: () => gateVariables,
    runningDigest: (digest: string) => {
      const taskArn = `arn:aws:ecs:us-east-1:${ACCOUNT}:task/apps/0123456789abcdef`;
      aws.ecs.on(ListTasksCommand).resolves({ taskArns: [taskArn] });
      aws.ecs.on(DescribeTasksCommand).resolves({
        tasks: [{ taskArn, lastStatus: 'RUNNING', containers: [{ name: 'web', image: `${pushed.uri}@${digest}`, imageDigest: digest }] }],
      });
    },
  };
}

describe('a simulated pipeline execution', () => {
  test('the template wires every Lambda action: Sign, the Deploy gate, Verify and the running-image check', () => {
    expect(Object.fromEntries(Object.entries(synthesized.stages).map(([stage, actions]) => [stage, actions.map((a) => a.name)]))).toEqual({
      Source: [],
      Build: [],
      Sign: ['Sign'],
      Deploy: ['VerifyBeforeDeploy'],
      Verify: ['VerifySignature', 'CheckRunningImage'],
    });
  });

  test('the digest flows from the gate: it checks the Build artifact, the ECS deploy deploys the gate\'s artifact, no later action reads #{Build.*}', () => {
    const { wiring } = synthesized;
    const [build] = wiring.Build;
    const [gate, deploy] = wiring.Deploy;
    expect(gate).toMatchObject({ name: 'VerifyBeforeDeploy', inputs: build.outputs, outputs: ['VerifiedImageDefinitions'] });
    expect(deploy).toMatchObject({ name: 'DeployToEcs', provider: 'ECS', inputs: gate.outputs });
    expect(JSON.parse(JSON.parse(gate.configuration).UserParameters)).toMatchObject({ imageUri: '#{Build.IMAGE_URI}@#{Build.IMAGE_DIGEST}', containerName: 'web' });
    const later = [...wiring.Deploy.slice(1), ...wiring.Verify];
    expect(later.length).toBeGreaterThan(0);
    for (const action of later) {
      expect(action.configuration).not.toContain('#{Build.');
      expect(action.inputs).not.toContain(build.outputs[0]);
    }
    for (const action of wiring.Verify) expect(action.configuration).toContain('#{DeployGate.IMAGE_URI}@#{DeployGate.IMAGE_DIGEST}');
  });

  test('a built image is signed with provenance, passes the gate, and the service runs exactly the signed digest', async () => {
    const logs = captureConsole();
    try {
      const run = await pipelineRun();

      const signJob = await run.sign();
      const signed = reportedSuccess(aws.codePipeline, signJob);
      expect(signed.outputVariables?.SIGNATURE_DIGEST).toMatch(/^sha256:[0-9a-f]{64}$/);
      const signatures = await listSignatures(run.pushed.repository, run.pushed.image);
      expect(signatures.map((s) => s.digest)).toEqual([signed.outputVariables?.SIGNATURE_DIGEST]);
      const [annotations] = await signedAnnotations(run.pushed.repository, run.pushed.image);
      expect(Object.values(annotations)).toEqual(expect.arrayContaining([
        run.variables['#{Build.SOURCE_REVISION}'],
        run.variables['#{codepipeline.PipelineExecutionId}'],
        run.variables['#{Build.CODEBUILD_BUILD_ARN}'],
      ]));

      const gateJob = await run.gate();
      expect(reportedSuccess(aws.codePipeline, gateJob).outputVariables).toMatchObject({
        VERIFIED: 'true',
        IMAGE_URI: run.pushed.uri,
        IMAGE_DIGEST: run.pushed.image.digest,
      });
      // The gate wrote the deploy action's input: the checked imagedefinitions.json, encrypted with the store's key.
      const [output] = run.written();
      expect(output).toMatchObject({ Bucket: ARTIFACT_BUCKET, ServerSideEncryption: 'aws:kms', SSEKMSKeyId: ARTIFACT_KEY_ID });
      expect(output.Key).toContain('VerifiedImageDefinit');
      expect(JSON.parse(unzipFile(output.Body as Uint8Array, 'imagedefinitions.json'))).toEqual([
        { name: 'web', imageUri: `${run.pushed.uri}@${run.pushed.image.digest}` },
      ]);
      // The S3 calls used the job's artifact credentials, not the function's role.
      const credentials = await aws.s3.commandCalls(PutObjectCommand)[0].thisValue.config.credentials();
      expect(credentials).toMatchObject({ accessKeyId: 'ASIAARTIFACTKEY00001' });

      // ECS deployed the gate's imagedefinitions.json; the tasks report the digest.
      run.runningDigest(run.pushed.image.digest);
      const verifyJob = await run.verify();
      reportedSuccess(aws.codePipeline, verifyJob);
      const checkJob = await run.check();
      expect(reportedSuccess(aws.codePipeline, checkJob).outputVariables).toMatchObject({ IMAGE_DIGEST: run.pushed.image.digest });
      expect(aws.ecs.commandCalls(ListTasksCommand)[0].args[0].input).toMatchObject({ serviceName: 'web', desiredStatus: 'RUNNING' });
    } finally {
      logs.restore();
    }
    expectCleanLogs(logs.text());
  });

  test('an unsigned image is blocked at the gate with notation\'s wording', async () => {
    const logs = captureConsole();
    try {
      const run = await pipelineRun();
      const gateJob = await run.gate();
      expect(reportedFailure(aws.codePipeline, gateJob)).toContain(
        `signature verification failed: no signature is associated with "${run.pushed.uri}@${run.pushed.image.digest}"`,
      );
    } finally {
      logs.restore();
    }
  });

  test('a tampered image is blocked at the gate: a signature copied from another image does not verify', async () => {
    const logs = captureConsole();
    try {
      const signedRun = await pipelineRun();
      reportedSuccess(aws.codePipeline, await signedRun.sign());

      // An attacker pushes another image and attaches the first image's signature to it.
      const tampered = await pipelineRun();
      const source = signedRun.pushed.repository;
      const [original] = await listSignatures(source, signedRun.pushed.image);
      const manifest = JSON.parse(Buffer.from((await source.fetchManifest(original.digest)).bytes).toString('utf8'));
      const target = tampered.pushed.repository;
      for (const blob of [manifest.config, ...manifest.layers]) await target.pushBlob(await source.fetchBlob(blob), blob.mediaType);
      const { mediaType, digest, size } = tampered.pushed.image;
      manifest.subject = { mediaType, digest, size };
      await target.pushManifest(Buffer.from(JSON.stringify(manifest)), manifest.mediaType);
      expect(await listSignatures(target, tampered.pushed.image)).toHaveLength(1);

      const message = reportedFailure(aws.codePipeline, await tampered.gate());
      expect(message).toContain('signature verification failed');
      expect(message).toContain(tampered.pushed.image.digest);
      expect(message).toContain(`content descriptor mismatch: the signature is for ${signedRun.pushed.image.digest}`);
    } finally {
      logs.restore();
    }
  });

  test.each([
    ['a tag', (uri: string, _digest: string) => [{ name: 'web', imageUri: `${uri}:build-7` }], 'deploys "URI:build-7", which is not the verified image'],
    ['a tag next to the digest', (uri: string, digest: string) => [{ name: 'web', imageUri: `${uri}:build-7@${digest}` }], 'deploys "URI:build-7@DIGEST"'],
    ['another repository', (_uri: string, digest: string) => [{ name: 'web', imageUri: `${ECR_HOST}/other/app@${digest}` }], `deploys "${ECR_HOST}/other/app@DIGEST"`],
    ['another digest', (uri: string) => [{ name: 'web', imageUri: `${uri}@sha256:${'e'.repeat(64)}` }], `deploys "URI@sha256:${'e'.repeat(64)}"`],
    ['an extra container', (uri: string, digest: string) => [
      { name: 'web', imageUri: `${uri}@${digest}` },
      { name: 'sidecar', imageUri: `${uri}@${digest}` },
    ], 'entry 2 is for container "sidecar"; the pipeline deploys the verified image to container "web" only'],
    ['the container twice', (uri: string, digest: string) => [
      { name: 'web', imageUri: `${uri}@${digest}` },
      { name: 'web', imageUri: `${uri}@${digest}` },
    ], 'has 2 entries for container "web"'],
    ['another field', (uri: string, digest: string) => [{ name: 'web', imageUri: `${uri}@${digest}`, essential: false }], 'has the field "essential"'],
    ['no file', undefined, 'has no imagedefinitions.json at its root'],
  ])('a signed image is blocked at the gate when the Build artifact\'s imagedefinitions.json has %s, and nothing is handed on', async (_case, definitions, expected) => {
    const logs = captureConsole();
    try {
      const run = await pipelineRun();
      reportedSuccess(aws.codePipeline, await run.sign());
      run.buildArtifact(definitions?.(run.pushed.uri, run.pushed.image.digest));
      const message = reportedFailure(aws.codePipeline, await run.gate());
      expect(message).toContain('input artifact "BuildOutput"');
      expect(message).toContain(expected.split('URI').join(run.pushed.uri).split('DIGEST').join(run.pushed.image.digest));
      expect(run.written()).toEqual([]);
    } finally {
      logs.restore();
    }
    expectCleanLogs(logs.text());
  });

  test('a running digest that differs from the signed one fails Verify, naming the service and both digests', async () => {
    const logs = captureConsole();
    try {
      const run = await pipelineRun();
      reportedSuccess(aws.codePipeline, await run.sign());
      reportedSuccess(aws.codePipeline, await run.gate());
      run.runningDigest(`sha256:${'e'.repeat(64)}`);
      const checkJob = await run.check();
      const message = reportedFailure(aws.codePipeline, checkJob);
      expect(message).toContain('service web does not run the signed image');
      expect(message).toContain(`sha256:${'e'.repeat(64)}`);
      expect(message).toContain(run.pushed.image.digest);
    } finally {
      logs.restore();
    }
  });

  test('with provenance and an SBOM: Sign attaches both, signed; the gate and Verify require them from this pipeline, its repository and branch', async () => {
    const spdx = JSON.stringify({ spdxVersion: 'SPDX-2.3', dataLicense: 'CC0-1.0', SPDXID: 'SPDXRef-DOCUMENT', name: 'shop/web', packages: [] });
    const logs = captureConsole();
    try {
      const run = await pipelineRun(attestedPipeline, { 'sbom.json': spdx });

      const signed = reportedSuccess(aws.codePipeline, await run.sign()).outputVariables ?? {};
      const [provenance] = await listAttestations(run.pushed.repository, run.pushed.image, 'slsa-provenance');
      const [sbom] = await listAttestations(run.pushed.repository, run.pushed.image, 'spdx');
      expect(provenance.descriptor.digest).toBe(signed.PROVENANCE_DIGEST);
      expect(sbom.descriptor.digest).toBe(signed.SBOM_DIGEST);
      const manifest = JSON.parse(Buffer.from((await run.pushed.repository.fetchManifest(provenance.descriptor.digest)).bytes).toString());
      const statement = JSON.parse(Buffer.from(await run.pushed.repository.fetchBlob(manifest.layers[0])).toString());
      expect(statement.predicate.runDetails.builder.id).toBe(`arn:aws:codepipeline:us-east-1:${ACCOUNT}:${PIPELINE_NAME}`);
      expect(statement.predicate.buildDefinition.resolvedDependencies).toEqual([{ uri: 'git+https://github.com/shop/web@refs/heads/main', digest: { gitCommit: COMMIT } }]);

      expect(reportedSuccess(aws.codePipeline, await run.gate()).outputVariables).toMatchObject({
        VERIFIED: 'true',
        PROVENANCE_DIGEST: signed.PROVENANCE_DIGEST,
        SBOM_DIGEST: signed.SBOM_DIGEST,
      });
      run.runningDigest(run.pushed.image.digest);
      reportedSuccess(aws.codePipeline, await run.verify());
    } finally {
      logs.restore();
    }
    expectCleanLogs(logs.text());
  });

  test('with provenance required: an image signed without it is blocked at the gate, naming the missing attestation', async () => {
    const logs = captureConsole();
    try {
      const run = await pipelineRun(attestedPipeline);
      // Signed by the same function without attachProvenance and sbomFormat: no attestations.
      aws.codePipeline.resetHistory();
      await createSignHandler({ env: run.signEnv(), clients: aws.clients })(jobEvent(JSON.stringify({ imageUri: `${run.pushed.uri}@${run.pushed.image.digest}` }), 'plain-sign'), lambdaContext());
      reportedSuccess(aws.codePipeline, 'plain-sign');

      expect(reportedFailure(aws.codePipeline, await run.gate())).toMatch(/^slsa-provenance attestation required: no slsa-provenance attestation \(artifactType application\/vnd.in-toto\+json\) is attached/);
    } finally {
      logs.restore();
    }
  });
});
