/**
 * A SignedImagePipeline run, simulated end to end against the local registry: the handlers run with the
 * configuration the synthesized template gives them (environment and UserParameters), with only the registry
 * host (ECR → the local registry) and the AWS Signer root (→ a test CA whose signatures have AWS Signer's shape)
 * swapped in. AWS APIs are mocked: SignPayload signs with the test CA, ECS reports the running tasks.
 */
import { randomUUID } from 'node:crypto';
import { BatchGetBuildsCommand } from '@aws-sdk/client-codebuild';
import { DescribeTasksCommand, ListTasksCommand } from '@aws-sdk/client-ecs';
import { Template } from 'aws-cdk-lib/assertions';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import { ecsService, newStack, s3Source } from './support';
import { handler as deployCheckHandler, setEcsClient } from '../../lambda/handlers/deploy-check';
import { createSignHandler } from '../../lambda/handlers/sign';
import { createVerifyHandler } from '../../lambda/handlers/verify';
import { listSignatures } from '../../lambda/notary/list-signatures';
import { RegistryRepository } from '../../lambda/oci/registry-repository';
import { DeployTarget, NotationSigningProfile, SignedImagePipeline } from '../../src';
import {
  ACCOUNT,
  captureConsole,
  expectCleanLogs,
  FakeAwsSigner,
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

interface LambdaAction {
  readonly name: string;
  readonly functionLogicalId: string;
  readonly userParameters: string;
}

/** The pipeline as synthesized: each Lambda action's function environment and UserParameters, per stage. */
function synthesizePipeline() {
  const stack = newStack();
  const profile = (p: typeof TEAM, id: string) =>
    NotationSigningProfile.fromSigningProfileAttributes(stack, id, {
      signingProfileArn: p.profileArn,
      signingProfileVersionArn: p.profileVersionArn,
    });
  new SignedImagePipeline(stack, 'Pipeline', {
    source: s3Source(stack),
    repository: ecr.Repository.fromRepositoryName(stack, 'Repository', REPOSITORY_NAME),
    signingProfiles: [profile(TEAM, 'Team')],
    deploy: DeployTarget.ecs({ service: ecsService(stack), containerName: 'web' }),
  });
  const template = Template.fromStack(stack).toJSON();
  const resources = template.Resources as Record<string, any>;
  const pipeline = Object.values(resources).find((r) => r.Type === 'AWS::CodePipeline::Pipeline');
  const stages: Record<string, LambdaAction[]> = {};
  for (const stage of pipeline.Properties.Stages) {
    stages[stage.Name] = stage.Actions.filter((a: any) => a.ActionTypeId.Provider === 'Lambda').map((a: any) => ({
      name: a.Name,
      functionLogicalId: a.Configuration.FunctionName.Ref,
      userParameters: flatten(a.Configuration.UserParameters),
    }));
  }
  const environment = (logicalId: string): Record<string, string> =>
    Object.fromEntries(Object.entries(resources[logicalId].Properties.Environment?.Variables ?? {}).map(([k, v]) => [k, flatten(v)]));
  return { stages, environment };
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

/** Replaces the pipeline's ECR host by the local registry's. */
const toLocal = (text: string, host: string) => text.split(ECR_HOST).join(host);

const aws = mockAws();
let fake: FakeAwsSigner;
const synthesized = synthesizePipeline();

beforeAll(async () => {
  fake = await FakeAwsSigner.create([TEAM]);
});
beforeEach(() => {
  aws.reset(fake);
  setEcsClient(undefined);
});
afterAll(() => aws.restore());

/** One pipeline execution's actions, configured as the template says. */
async function pipelineRun() {
  // Build: a new image in the pipeline's repository, as the build's docker push leaves it.
  const host = plainRegistry();
  const repository = new RegistryRepository({ registry: host, repository: REPOSITORY_NAME, plainHttp: true });
  const image = await pushImage(repository, createRandomImage(), `build-${randomUUID().slice(0, 8)}`);
  const pushed = { repository, image, uri: `${host}/${REPOSITORY_NAME}` };
  const variables: Record<string, string> = {
    '#{Build.IMAGE_URI}': pushed.uri,
    '#{Build.IMAGE_DIGEST}': pushed.image.digest,
    '#{Build.CODEBUILD_BUILD_ARN}': `arn:aws:codebuild:us-east-1:${ACCOUNT}:build/image-build:${randomUUID()}`,
    '#{Build.SOURCE_REVISION}': '3f786850e387550fdab836ed7e6dc881de23001b',
    '#{codepipeline.PipelineExecutionId}': randomUUID(),
  };
  aws.codeBuild.on(BatchGetBuildsCommand).resolves({
    builds: [{ arn: variables['#{Build.CODEBUILD_BUILD_ARN}'], id: variables['#{Build.CODEBUILD_BUILD_ARN}'].split('/')[1], projectName: 'image-build' }],
  });
  const parameters = (action: LambdaAction, overrides: Record<string, string> = {}) => {
    let text = action.userParameters;
    for (const [variable, value] of Object.entries({ ...variables, ...overrides })) text = text.split(variable).join(value);
    expect(text).not.toContain('#{');
    return text;
  };
  const env = (action: LambdaAction) => {
    const values = synthesized.environment(action.functionLogicalId);
    return Object.fromEntries(Object.entries(values).map(([k, v]) => [k, toLocal(v, host)]));
  };
  const [signAction] = synthesized.stages.Sign;
  const [gateAction] = synthesized.stages.Deploy;
  const [verifyAction, checkAction] = synthesized.stages.Verify;
  // The trust stores: the test CA stands in for the AWS Signer root under the store name the template uses.
  const verifyEnv = (action: LambdaAction) => {
    const values = env(action);
    const policy = JSON.parse(values.TRUST_POLICY);
    const store = (policy.trustPolicies[0].trustStores as string[])[0];
    return { ...values, TRUST_STORES: JSON.stringify({ [store]: fake.chain.root.pem }), ...registryEnv() };
  };

  const run = async (action: LambdaAction, handler: (event: unknown, context?: any) => Promise<unknown>, overrides: Record<string, string> = {}) => {
    aws.codePipeline.resetHistory();
    const jobId = randomUUID();
    await handler(jobEvent(parameters(action, overrides), jobId), lambdaContext());
    return jobId;
  };
  return {
    pushed,
    variables,
    sign: (overrides?: Record<string, string>) =>
      // The test CA stands in for the AWS Signer root that SignPayload's envelopes must chain to.
      run(
        signAction,
        createSignHandler({ env: { ...env(signAction), AWS_SIGNER_ROOTS: fake.chain.root.pem, ...registryEnv() }, clients: aws.clients }),
        overrides,
      ),
    gate: () => run(gateAction, createVerifyHandler({ env: verifyEnv(gateAction), clients: aws.clients })),
    verify: () => run(verifyAction, createVerifyHandler({ env: verifyEnv(verifyAction), clients: aws.clients })),
    check: () => run(checkAction, deployCheckHandler),
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
      expect(reportedSuccess(aws.codePipeline, gateJob).outputVariables).toMatchObject({ VERIFIED: 'true', IMAGE_DIGEST: run.pushed.image.digest });

      // ECS deployed the image by digest (imagedefinitions.json); the tasks report it.
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

  test('a running digest that differs from the signed one fails Verify, naming the service and both digests', async () => {
    const logs = captureConsole();
    try {
      const run = await pipelineRun();
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
});

