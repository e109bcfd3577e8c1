import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as actions from 'aws-cdk-lib/aws-codepipeline-actions';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import { Construct } from 'constructs';
import { eksCluster, ecsService, fullPipeline, newStack, s3Source } from './support';
import {
  DeployTarget,
  DeployTargetBindContext,
  DeployTargetConfig,
  EksDeployTarget,
  NotationSigningProfile,
  PipelineSource,
  ScanSeverity,
  SignedImagePipeline,
  SignedImagePipelineProps,
} from '../../src';
import { policyStatements } from '../constructs/support';

const DIGEST_URI = '#{Build.IMAGE_URI}@#{Build.IMAGE_DIGEST}';
const VERIFIED_URI = '#{DeployGate.IMAGE_URI}@#{DeployGate.IMAGE_DIGEST}';

type Configure = (stack: Stack) => Partial<SignedImagePipelineProps>;

function synth(configure: Configure = () => ({})): { stack: Stack; pipeline: SignedImagePipeline; template: Template } {
  const stack = newStack();
  const pipeline = new SignedImagePipeline(stack, 'Pipeline', { source: s3Source(stack), ...configure(stack) });
  return { stack, pipeline, template: Template.fromStack(stack) };
}

interface Action {
  readonly Name: string;
  readonly InputArtifacts?: { Name: string }[];
  readonly OutputArtifacts?: { Name: string }[];
  readonly RunOrder: number;
  readonly ActionTypeId: { Category: string; Provider: string };
  readonly Configuration: Record<string, any>;
  readonly Namespace?: string;
}

function stages(template: Template): { Name: string; Actions: Action[] }[] {
  const pipelines = Object.values(template.findResources('AWS::CodePipeline::Pipeline'));
  expect(pipelines).toHaveLength(1);
  return (pipelines[0] as any).Properties.Stages;
}

function stage(template: Template, name: string): Action[] {
  const found = stages(template).find((s) => s.Name === name);
  if (!found) throw new Error(`no stage ${name}`);
  return found.Actions;
}

function userParameters(action: Action): Record<string, unknown> {
  return JSON.parse(flatten(action.Configuration.UserParameters));
}

/** A CloudFormation string value with its intrinsics written as `<...>` (JSON-safe: no quotes inside). */
function flatten(value: unknown): string {
  if (typeof value === 'string') return value;
  const join = (value as any)['Fn::Join'];
  if (join) return (join[1] as unknown[]).map(flatten).join(join[0]);
  return `<${JSON.stringify(value).replace(/"/g, '')}>`;
}

/**
 * The digest flows from the gate: the gate checks the Build's artifact and verifies the Build's digest; every action
 * after it reads the gate's variables or artifact, never the Build's.
 */
function expectDigestFromGate(template: Template): void {
  const [gate, ...afterGate] = stage(template, 'Deploy');
  const buildOutput = stage(template, 'Build')[0].OutputArtifacts![0].Name;
  expect(gate).toMatchObject({ Name: 'VerifyBeforeDeploy', Namespace: 'DeployGate', InputArtifacts: [{ Name: buildOutput }] });
  expect(userParameters(gate).imageUri).toBe(DIGEST_URI);
  const gateOutput = gate.OutputArtifacts![0].Name;
  for (const action of [...afterGate, ...stage(template, 'Verify')]) {
    const text = JSON.stringify(action.Configuration ?? {});
    expect(text).not.toContain('#{Build.');
    for (const input of action.InputArtifacts ?? []) expect(input.Name).toBe(gateOutput);
  }
  for (const action of afterGate.filter((a) => a.ActionTypeId.Provider === 'ECS')) expect(action.InputArtifacts).toEqual([{ Name: gateOutput }]);
}

describe('SignedImagePipeline defaults', () => {
  const { template, pipeline } = synth();

  test('a V2 pipeline with the stages Source, Build, Sign, Deploy and Verify, in that order', () => {
    template.hasResourceProperties('AWS::CodePipeline::Pipeline', { PipelineType: 'V2' });
    expect(stages(template).map((s) => s.Name)).toEqual(['Source', 'Build', 'Sign', 'Deploy', 'Verify']);
  });

  test('Build pushes and exports the registry digest; later stages use the image only by that digest', () => {
    const [build] = stage(template, 'Build');
    expect(build).toMatchObject({ Name: 'BuildAndPush', Namespace: 'Build', ActionTypeId: { Provider: 'CodeBuild' } });
    const project = Object.values(template.findResources('AWS::CodeBuild::Project'))[0] as any;
    const buildSpec = JSON.parse(project.Properties.Source.BuildSpec);
    expect(buildSpec.env['exported-variables']).toEqual(expect.arrayContaining(['IMAGE_URI', 'IMAGE_DIGEST']));
    const commands = buildSpec.phases.build.commands.join('\n');
    expect(commands).toMatch(/docker push .*\| tee push\.log/);
    expect(commands).toContain('digest: \\(sha256:[0-9a-f]\\{64\\}\\)');
    expect(commands).toContain('imagedefinitions.json');
    expect(project.Properties.Environment.PrivilegedMode).toBe(true);

    for (const action of [...stage(template, 'Sign'), stage(template, 'Deploy')[0]]) expect(userParameters(action).imageUri).toBe(DIGEST_URI);
    for (const action of stage(template, 'Verify')) expect(userParameters(action).imageUri).toBe(VERIFIED_URI);
    expectDigestFromGate(template);
  });

  test('artifact names differ from the variable namespaces (CodePipeline refuses a clash)', () => {
    const namespaces = new Set(stages(template).flatMap((s) => s.Actions.map((a) => a.Namespace)).filter(Boolean));
    const artifacts = stages(template).flatMap((s) => s.Actions.flatMap((a) => [...(a.OutputArtifacts ?? [])].map((o) => o.Name)));
    expect(artifacts).toEqual(['SourceCode', 'BuildOutput', 'VerifiedImageDefinitions']);
    for (const artifact of artifacts) expect(namespaces.has(artifact)).toBe(false);
  });

  test('Sign: one action with the created profile, provenance parameters and output variables namespace', () => {
    const sign = stage(template, 'Sign');
    expect(sign).toHaveLength(1);
    expect(sign[0]).toMatchObject({ Name: 'Sign', Namespace: 'Sign', ActionTypeId: { Category: 'Invoke', Provider: 'Lambda' } });
    const parameters = userParameters(sign[0]);
    expect(parameters).toMatchObject({
      imageUri: DIGEST_URI,
      buildId: '#{Build.CODEBUILD_BUILD_ARN}',
      sourceRevision: '#{Build.SOURCE_REVISION}',
      pipelineExecutionId: '#{codepipeline.PipelineExecutionId}',
    });
    expect(pipeline.signingProfiles).toHaveLength(1);
    template.resourceCountIs('AWS::Signer::SigningProfile', 1);
    template.hasResourceProperties('AWS::Signer::SigningProfile', { PlatformId: 'Notation-OCI-SHA384-ECDSA' });
  });

  test('Deploy with no target is the verify gate alone; Verify re-verifies the digest', () => {
    const deploy = stage(template, 'Deploy');
    expect(deploy.map((a) => [a.Name, a.RunOrder])).toEqual([['VerifyBeforeDeploy', 1]]);
    expect(stage(template, 'Verify').map((a) => a.Name)).toEqual(['VerifySignature']);
  });

  test('a created repository: scan on push, KMS encryption, immutable tags, a lifecycle rule on build tags only', () => {
    template.hasResourceProperties('AWS::ECR::Repository', {
      ImageScanningConfiguration: { ScanOnPush: true },
      EncryptionConfiguration: { EncryptionType: 'KMS' },
      ImageTagMutability: 'IMMUTABLE',
    });
    const repository = Object.values(template.findResources('AWS::ECR::Repository'))[0] as any;
    const policy = JSON.parse(repository.Properties.LifecyclePolicy.LifecyclePolicyText);
    expect(policy.rules).toHaveLength(1);
    expect(policy.rules[0].selection).toMatchObject({ tagStatus: 'tagged', tagPrefixList: ['build-'] });
  });

  test('artifacts: a KMS key with rotation, a versioned, access-logged bucket that enforces TLS', () => {
    template.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms' } }] },
      LoggingConfiguration: { LogFilePrefix: 'artifacts/' },
      VersioningConfiguration: { Status: 'Enabled' },
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
  });

  test('the default trust policy trusts the created profile, is strict and is scoped to the repository', () => {
    const document = JSON.parse(JSON.stringify(Stack.of(pipeline).resolve(pipeline.trustPolicy.toJsonString())));
    expect(JSON.stringify(document)).toContain('strict');
    expect(JSON.stringify(document)).toContain('dkr.ecr');
    const outputs = Object.keys(template.findOutputs('*'));
    expect(outputs).toEqual([expect.stringMatching(/^PipelineTrustPolicy.*TrustPolicyJson/)]);
  });

  test('no scan gate, no approval, no failure notifications by default', () => {
    expect(stage(template, 'Build').map((a) => a.Name)).toEqual(['BuildAndPush']);
    expect(stage(template, 'Sign').map((a) => a.Name)).not.toContain('ApproveRelease');
    expect(template.findResources('AWS::Events::Rule', {
      Properties: { EventPattern: { 'detail-type': ['CodePipeline Stage Execution State Change'] } },
    })).toEqual({});
  });
});

describe('SignedImagePipeline options', () => {
  const all = (() => {
    const stack = newStack();
    const built = fullPipeline(stack);
    return { stack, pipeline: built, template: Template.fromStack(stack) };
  })();

  test('several profiles sign in turn, then an approval and the release signature', () => {
    const sign = stage(all.template, 'Sign');
    expect(sign.map((a) => [a.Name, a.RunOrder])).toEqual([['Sign1', 1], ['Sign2', 2], ['ApproveRelease', 3], ['SignRelease', 4]]);
    const profileArns = sign.filter((a) => a.ActionTypeId.Provider === 'Lambda').map((a) => JSON.stringify(userParameters(a).signingProfileArn));
    expect(new Set(profileArns).size).toBe(3);
    expect(sign.find((a) => a.Name === 'ApproveRelease')!.ActionTypeId).toMatchObject({ Category: 'Approval', Provider: 'Manual' });
    expect(sign.find((a) => a.Name === 'ApproveRelease')!.Configuration.NotificationArn).toBeDefined();
  });

  test('with an approval, the verify gates trust only the release profile', () => {
    const resolved = JSON.stringify(all.stack.resolve(all.pipeline.trustPolicy.toJsonString()));
    const releaseLogicalId = all.stack.getLogicalId(all.stack.node.findChild('Release').node.defaultChild as any);
    const teamALogicalId = all.stack.getLogicalId(all.stack.node.findChild('TeamA').node.defaultChild as any);
    expect(resolved).toContain(releaseLogicalId);
    expect(resolved).not.toContain(teamALogicalId);
  });

  test('the scan gate runs after the push, with the blocking severities and a bounded wait', () => {
    const build = stage(all.template, 'Build');
    expect(build.map((a) => [a.Name, a.RunOrder])).toEqual([['BuildAndPush', 1], ['ScanGate', 2]]);
    expect(JSON.parse(build[1].Configuration.EnvironmentVariables)).toEqual([
      { name: 'IMAGE_DIGEST', type: 'PLAINTEXT', value: '#{Build.IMAGE_DIGEST}' },
    ]);
    all.template.hasResourceProperties('AWS::CodeBuild::Project', {
      Environment: {
        EnvironmentVariables: Match.arrayWith([
          { Name: 'BLOCKING_SEVERITIES', Type: 'PLAINTEXT', Value: 'CRITICAL HIGH' },
          { Name: 'SCAN_WAIT_SECONDS', Type: 'PLAINTEXT', Value: '600' },
        ]),
      },
    });
    const scanStatements = policyStatements(all.template).filter((s) => s.actions.includes('ecr:DescribeImageScanFindings'));
    expect(scanStatements).toHaveLength(1);
    expect(JSON.stringify(scanStatements[0].resources)).toContain('PipelineRepository');
  });

  test('build options reach the build project: Dockerfile, context, build arguments', () => {
    all.template.hasResourceProperties('AWS::CodeBuild::Project', {
      Environment: {
        EnvironmentVariables: Match.arrayWith([
          { Name: 'DOCKERFILE', Type: 'PLAINTEXT', Value: 'docker/Dockerfile' },
          { Name: 'DOCKER_CONTEXT', Type: 'PLAINTEXT', Value: 'app' },
          { Name: 'DOCKER_BUILD_ARG_NAMES', Type: 'PLAINTEXT', Value: 'VERSION' },
          { Name: 'CONTAINER_NAME', Type: 'PLAINTEXT', Value: 'web' },
          { Name: 'BUILD_ARG_VERSION', Type: 'PLAINTEXT', Value: '1.2.3' },
        ]),
      },
    });
  });

  test('failed Deploy or Verify stages notify the topic', () => {
    all.template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        'source': ['aws.codepipeline'],
        'detail-type': ['CodePipeline Stage Execution State Change'],
        'detail': { state: ['FAILED'], stage: ['Deploy', 'Verify'] },
      },
      Targets: [Match.objectLike({ Arn: { Ref: Match.stringLikeRegexp('^Failures') } })],
    });
  });
});

describe('DeployTarget', () => {
  test('ECS: the gate, then the standard ECS deploy, then a check of the running tasks by digest', () => {
    let target!: ReturnType<typeof DeployTarget.ecs>;
    const { template } = synth((stack) => ({ deploy: target = DeployTarget.ecs({ service: ecsService(stack), containerName: 'web' }) }));
    const deploy = stage(template, 'Deploy');
    expect(deploy.map((a) => [a.Name, a.RunOrder, a.ActionTypeId.Provider])).toEqual([['VerifyBeforeDeploy', 1, 'Lambda'], ['DeployToEcs', 2, 'ECS']]);
    expect(deploy[1].Configuration).toMatchObject({ ClusterName: 'apps', ServiceName: 'web' });
    expect(deploy[1].InputArtifacts).toEqual([{ Name: 'VerifiedImageDefinitions' }]);
    expect(deploy[0].OutputArtifacts).toEqual([{ Name: 'VerifiedImageDefinitions' }]);
    expect(userParameters(deploy[0])).toEqual({ imageUri: DIGEST_URI, containerName: 'web' });
    expectDigestFromGate(template);
    const verify = stage(template, 'Verify');
    expect(verify.map((a) => [a.Name, a.RunOrder])).toEqual([['VerifySignature', 1], ['CheckRunningImage', 2]]);
    expect(userParameters(verify[1])).toMatchObject({ imageUri: VERIFIED_URI, service: 'web', containerName: 'web' });
    expect(target.deployCheckFunction).toBeDefined();
    // The check's two statements, scoped to the cluster (the deploy action's role: test/pipeline/ecs-deploy-role.test.ts).
    const checkStatements = policyStatements(template).filter((s) => s.policy.startsWith('PipelineDeployCheck') && s.actions.some((a) => a.startsWith('ecs:')));
    expect(checkStatements.map((s) => s.actions).flat().sort()).toEqual(['ecs:DescribeTasks', 'ecs:ListTasks']);
    for (const statement of checkStatements) expect(JSON.stringify(statement.resources)).toContain('/apps/*');
  });

  test('EKS: kubectl set image by digest from CodeBuild, then a check of the pods, with eks:DescribeCluster on that cluster', () => {
    let target!: EksDeployTarget;
    const { template } = synth((stack) => ({
      deploy: target = DeployTarget.eks({ cluster: eksCluster(stack), namespace: 'shop', deployment: 'web', container: 'app' }),
    }));
    expect(stage(template, 'Deploy').map((a) => [a.Name, a.RunOrder, a.ActionTypeId.Provider])).toEqual([
      ['VerifyBeforeDeploy', 1, 'Lambda'],
      ['DeployToEks', 2, 'CodeBuild'],
    ]);
    expect(stage(template, 'Verify').map((a) => a.Name)).toEqual(['VerifySignature', 'CheckRunningImage']);
    expectDigestFromGate(template);
    const fromGate = [
      { name: 'IMAGE_URI', type: 'PLAINTEXT', value: '#{DeployGate.IMAGE_URI}' },
      { name: 'IMAGE_DIGEST', type: 'PLAINTEXT', value: '#{DeployGate.IMAGE_DIGEST}' },
    ];
    expect(stage(template, 'Deploy')[1].Configuration.EnvironmentVariables).toBe(JSON.stringify(fromGate));
    // The check also gets the verified index's manifests: the digests a running pod may report for the verified image.
    expect(stage(template, 'Verify')[1].Configuration.EnvironmentVariables).toBe(JSON.stringify([
      ...fromGate,
      { name: 'VERIFIED_DIGESTS', type: 'PLAINTEXT', value: '#{DeployGate.VERIFIED_DIGESTS}' },
    ]));
    expect(target.deployProject).not.toBe(target.checkProject);
    const buildSpecs = Object.values(template.findResources('AWS::CodeBuild::Project')).map((p: any) => p.Properties.Source.BuildSpec as string);
    expect(buildSpecs.some((spec) => spec.includes('kubectl -n \\"$NAMESPACE\\" set image') && spec.includes('$IMAGE_URI@$IMAGE_DIGEST'))).toBe(true);
    expect(buildSpecs.some((spec) => spec.includes('not run only the verified $IMAGE_DIGEST'))).toBe(true);
    const describe = policyStatements(template).filter((s) => s.actions.includes('eks:DescribeCluster'));
    expect(describe).toHaveLength(2);
    for (const statement of describe) expect(JSON.stringify(statement.resources)).toContain(':cluster/prod');
    template.resourceCountIs('AWS::Lambda::Function', 2);
  });

  test('custom: your actions after the gate; an action that would run before the gate is refused', () => {
    const { template } = synth(() => ({
      deploy: DeployTarget.custom({
        actions: [new actions.ManualApprovalAction({ actionName: 'Promote', runOrder: 2 })],
      }),
    }));
    expect(stage(template, 'Deploy').map((a) => [a.Name, a.RunOrder])).toEqual([['VerifyBeforeDeploy', 1], ['Promote', 2]]);
    expectDigestFromGate(template);

    const stack = newStack();
    expect(() => new SignedImagePipeline(stack, 'Pipeline', {
      source: s3Source(stack),
      deploy: DeployTarget.custom({ actions: [new actions.ManualApprovalAction({ actionName: 'TooEarly' })] }),
    })).toThrow('deploy target action "TooEarly" in the Deploy stage has runOrder 1; use 2 or more so it runs after the verify gate');
  });

  test('a target of your own: bind gets the gate\'s artifact and variables, and its actions land after the gate', () => {
    class PromoteTarget extends DeployTarget {
      public context?: DeployTargetBindContext;
      public bind(_scope: Construct, context: DeployTargetBindContext): DeployTargetConfig {
        this.context = context;
        return {
          containerName: 'api',
          deployActions: [new actions.ManualApprovalAction({ actionName: 'Promote', runOrder: context.runOrder, additionalInformation: `Promote ${context.imageUri}` })],
          verifyActions: [new actions.ManualApprovalAction({ actionName: 'Confirm', runOrder: context.runOrder })],
        };
      }
    }
    const target = new PromoteTarget();
    const { template } = synth(() => ({ deploy: target }));
    expect(target.context).toMatchObject({ imageUri: VERIFIED_URI, imageRepositoryUri: '#{DeployGate.IMAGE_URI}', imageDigest: '#{DeployGate.IMAGE_DIGEST}', runOrder: 2 });
    expect(target.context!.verifiedImageDefinitions).toBeInstanceOf(codepipeline.Artifact);
    expect(stage(template, 'Deploy').map((a) => a.Name)).toEqual(['VerifyBeforeDeploy', 'Promote']);
    expect(stage(template, 'Verify').map((a) => a.Name)).toEqual(['VerifySignature', 'Confirm']);
    expect(userParameters(stage(template, 'Deploy')[0]).containerName).toBe('api');
    template.hasResourceProperties('AWS::CodeBuild::Project', {
      Environment: { EnvironmentVariables: Match.arrayWith([{ Name: 'CONTAINER_NAME', Type: 'PLAINTEXT', Value: 'api' }]) },
    });
    expectDigestFromGate(template);
  });

  test('a target binds to one pipeline only', () => {
    const stack = newStack();
    const target = DeployTarget.ecs({ service: ecsService(stack), containerName: 'web' });
    new SignedImagePipeline(stack, 'First', { source: s3Source(stack), deploy: target });
    expect(() => new SignedImagePipeline(stack, 'Second', { source: s3Source(stack), deploy: target })).toThrow('a target deploys for one pipeline');
  });
});

describe('SignedImagePipeline inputs', () => {
  test('an existing repository is used and no repository is created', () => {
    const { template } = synth((stack) => ({ repository: ecr.Repository.fromRepositoryName(stack, 'Existing', 'team/service') }));
    template.resourceCountIs('AWS::ECR::Repository', 0);
    template.hasResourceProperties('AWS::CodeBuild::Project', {
      Environment: { EnvironmentVariables: Match.arrayWith([Match.objectLike({ Name: 'REPOSITORY_URI', Value: Match.objectLike({ 'Fn::Join': Match.anyValue() }) })]) },
    });
    expect(JSON.stringify(template.toJSON())).toContain('team/service');
  });

  test('given signing profiles are used instead of a created one', () => {
    const { template } = synth((stack) => ({
      signingProfiles: [NotationSigningProfile.fromSigningProfileAttributes(stack, 'Shared', {
        signingProfileArn: 'arn:aws:signer:us-east-1:444455556666:/signing-profiles/shared_profile',
        signingProfileVersion: 'Ver1234567',
      })],
    }));
    template.resourceCountIs('AWS::Signer::SigningProfile', 0);
    expect(JSON.stringify(userParameters(stage(template, 'Sign')[0]).signingProfileArn)).toContain('shared_profile');
  });

  test('bad input fails synth with a message naming it', () => {
    const stack = newStack();
    expect(() => new SignedImagePipeline(stack, 'Empty', { source: s3Source(stack), signingProfiles: [] }))
      .toThrow('signingProfiles must not be empty');
    expect(() => new SignedImagePipeline(stack, 'BadArg', { source: s3Source(stack), imageBuild: { buildArgs: { 'bad-name': 'x' } } }))
      .toThrow('imageBuild.buildArgs: build argument name "bad-name" is not valid');
    expect(() => DeployTarget.ecs({ service: ecsService(stack), containerName: '' })).toThrow('containerName must not be empty');
  });

  test('limits become synth errors naming the prop: scan gate wait over 470 minutes, approval text over 1000 characters', () => {
    const stack = newStack();
    const release = new NotationSigningProfile(stack, 'Release');
    expect(() => new SignedImagePipeline(stack, 'LongScan', { source: s3Source(stack), scanGate: { severity: ScanSeverity.HIGH, maxWait: Duration.hours(8) } }))
      .toThrow('scanGate.maxWait 8 hours is longer than 470 minutes');
    expect(() => new SignedImagePipeline(stack, 'LongText', {
      source: s3Source(stack),
      approval: { releaseSigningProfile: release, additionalInformation: 'x'.repeat(1001) },
    })).toThrow('approval.additionalInformation is 1001 characters; CodePipeline shows at most 1000');
    const ok = newStack();
    new SignedImagePipeline(ok, 'Pipeline', {
      source: s3Source(ok),
      scanGate: { severity: ScanSeverity.HIGH, maxWait: Duration.minutes(470) },
      approval: { releaseSigningProfile: new NotationSigningProfile(ok, 'Release'), additionalInformation: 'x'.repeat(1000) },
    });
    Template.fromStack(ok).hasResourceProperties('AWS::CodeBuild::Project', { TimeoutInMinutes: 480 });
  });
});

describe('PipelineSource.connection', () => {
  const CODECONNECTIONS = 'arn:aws:codeconnections:us-east-1:111122223333:connection/0b5e6f8a-1111-2222-3333-444455556666';
  const CODESTAR = 'arn:aws:codestar-connections:us-east-1:111122223333:connection/0b5e6f8a-1111-2222-3333-444455556666';
  const useConnection = (template: Template) =>
    policyStatements(template).filter((s) => s.actions.some((a) => a.endsWith(':UseConnection'))).flatMap((s) => s.actions.map((a) => [a, s.resources]));

  test.each([
    ['codeconnections', CODECONNECTIONS, [['codestar-connections:UseConnection', [CODECONNECTIONS]], ['codeconnections:UseConnection', [CODECONNECTIONS]]]],
    ['codestar-connections', CODESTAR, [['codestar-connections:UseConnection', [CODESTAR]]]],
  ])('an arn:aws:%s: connection is usable: the action role may UseConnection under the ARN\'s own service prefix', (_prefix, connectionArn, expected) => {
    const { template } = synth(() => ({ source: PipelineSource.connection({ connectionArn, owner: 'my-org', repo: 'web' }) }));
    expect(useConnection(template)).toEqual(expected);
    expect(stage(template, 'Source')[0].Configuration).toMatchObject({ ConnectionArn: connectionArn, FullRepositoryId: 'my-org/web', BranchName: 'main' });
  });

  test('a GitLab subgroup owner is accepted; a malformed connection ARN, owner or repo fails synth naming it', () => {
    expect(() => PipelineSource.connection({ connectionArn: CODECONNECTIONS, owner: 'group/subgroup', repo: 'web' })).not.toThrow();
    expect(() => PipelineSource.connection({ connectionArn: 'arn:aws:codeconnections:us-east-1:111122223333:web', owner: 'o', repo: 'r' }))
      .toThrow('connectionArn "arn:aws:codeconnections:us-east-1:111122223333:web" is not a connection ARN');
    expect(() => PipelineSource.connection({ connectionArn: CODECONNECTIONS, owner: 'my org', repo: 'web' })).toThrow('owner "my org"');
    expect(() => PipelineSource.connection({ connectionArn: CODECONNECTIONS, owner: 'my-org', repo: 'my-org/web' })).toThrow('repo "my-org/web" is not a repository name');
  });
});

describe('log groups follow the removal policy', () => {
  test.each([
    ['RETAIN (the default)', 'Retain', undefined],
    ['DESTROY', 'Delete', RemovalPolicy.DESTROY],
  ] as const)('%s: every log group the pipeline creates (builds, functions, ECS and EKS targets) has DeletionPolicy %s', (_name, expected, removalPolicy) => {
    // fullPipeline deploys to ECS unless told otherwise.
    const targets: Configure[] = [() => ({}), (stack) => ({ deploy: DeployTarget.eks({ cluster: eksCluster(stack), deployment: 'web', container: 'app' }) })];
    for (const target of targets) {
      const stack = newStack();
      fullPipeline(stack, { ...target(stack), removalPolicy });
      const template = Template.fromStack(stack);
      const groups = Object.values(template.findResources('AWS::Logs::LogGroup'));
      expect(groups.length).toBeGreaterThanOrEqual(5);
      for (const group of groups) expect(group).toMatchObject({ DeletionPolicy: expected, UpdateReplacePolicy: expected });
      // No log group outside the template: each function and build project writes to one of these.
      for (const fn of Object.values(template.findResources('AWS::Lambda::Function'))) {
        expect((fn as any).Properties.LoggingConfig.LogGroup).toEqual({ Ref: expect.any(String) });
      }
      for (const project of Object.values(template.findResources('AWS::CodeBuild::Project'))) {
        expect((project as any).Properties.LogsConfig.CloudWatchLogs).toMatchObject({ Status: 'ENABLED', GroupName: { Ref: expect.any(String) } });
      }
    }
  });
});
