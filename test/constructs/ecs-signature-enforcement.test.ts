import { App, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sns from 'aws-cdk-lib/aws-sns';
import { expectLeastPrivilege, newStack, resourcesOf, roleStatements, Statement } from './support';
import { EnforcedServiceStack } from '../../examples/enforced-service-stack';
import {
  EcsSignatureEnforcement,
  EcsSignatureEnforcementProps,
  EnforcementMode,
  ImageVerifier,
  NotationSigningProfile,
  SbomFormat,
  TrustPolicy,
  VerificationFailurePolicy,
} from '../../src';
import { nagFindings, NAG_VERSIONS } from '../util/nag';

interface Fixture {
  readonly stack: Stack;
  readonly repository: ecr.Repository;
  readonly trustPolicy: TrustPolicy;
  readonly cluster: ecs.Cluster;
  readonly service: ecs.FargateService;
  readonly batchCluster: ecs.Cluster;
  readonly enforcement: EcsSignatureEnforcement;
}

function fixture(props: Partial<EcsSignatureEnforcementProps> = {}, stack: Stack = newStack({ env: { account: '111122223333', region: 'us-east-1' } })): Fixture {
  const profile = new NotationSigningProfile(stack, 'Profile');
  const repository = new ecr.Repository(stack, 'Repository');
  const trustPolicy = new TrustPolicy(stack, 'TrustPolicy', { signingProfiles: [profile], repositories: [repository] });
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 1, natGateways: 0, subnetConfiguration: [{ name: 'public', subnetType: ec2.SubnetType.PUBLIC }] });
  const cluster = new ecs.Cluster(stack, 'Cluster', { vpc });
  const batchCluster = new ecs.Cluster(stack, 'BatchCluster', { vpc });
  const taskDefinition = new ecs.FargateTaskDefinition(stack, 'Task');
  taskDefinition.addContainer('web', { image: ecs.ContainerImage.fromEcrRepository(repository, 'v1') });
  const service = new ecs.FargateService(stack, 'Service', { cluster, taskDefinition, assignPublicIp: true });
  const enforcement = new EcsSignatureEnforcement(stack, 'Enforce', { trustPolicy, services: [service], clusters: [batchCluster], ...props });
  return { stack, repository, trustPolicy, cluster, service, batchCluster, enforcement };
}

function enforcementStatements(template: Template): Statement[] {
  return roleStatements(template, 'EnforceServiceRoleDefaultPolicy');
}

function functionEnvironment(template: Template): Record<string, unknown> {
  const functions = Object.values(template.findResources('AWS::Lambda::Function', { Properties: { Handler: 'index.handler' } }));
  expect(functions).toHaveLength(1);
  return (functions[0] as any).Properties.Environment.Variables;
}

describe('EcsSignatureEnforcement', () => {
  test('the service gets a PRE_SCALE_UP lifecycle hook targeting the function, through a role only ECS assumes', () => {
    const { stack, enforcement } = fixture();
    const template = Template.fromStack(stack);

    const service = Object.values(template.findResources('AWS::ECS::Service'))[0] as any;
    expect(service.Properties.DeploymentConfiguration.LifecycleHooks).toEqual([{
      HookTargetArn: stack.resolve(enforcement.function.functionArn),
      RoleArn: { 'Fn::GetAtt': [expect.stringMatching(/^EnforceHookInvokeRole/), 'Arn'] },
      LifecycleStages: ['PRE_SCALE_UP'],
    }]);
    const roles = template.findResources('AWS::IAM::Role', { Properties: { Description: Match.stringLikeRegexp('deployment lifecycle hook') } });
    const [role] = Object.values(roles) as any[];
    expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([{ Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'ecs.amazonaws.com' } }]);
    // The hook role invokes this function (and $LATEST) and nothing else: no <arn>:* wildcard. Inline, so that it exists
    // before the service starts its first deployment.
    const arn = stack.resolve(enforcement.function.functionArn);
    expect(role.Properties.Policies).toEqual([{
      PolicyName: 'InvokeEnforcement',
      PolicyDocument: { Version: '2012-10-17', Statement: [{ Action: 'lambda:InvokeFunction', Effect: 'Allow', Resource: [arn, { 'Fn::Join': ['', [arn, ':$LATEST']] }] }] },
    }]);
  });

  test('the rule sends running tasks of the service\'s cluster and the given clusters to the function, and nothing else', () => {
    const { stack, cluster, batchCluster, enforcement } = fixture();
    const template = Template.fromStack(stack);

    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        'source': ['aws.ecs'],
        'detail-type': ['ECS Task State Change'],
        'detail': {
          lastStatus: ['RUNNING'],
          desiredStatus: ['RUNNING'],
          clusterArn: [stack.resolve(batchCluster.clusterArn), stack.resolve(cluster.clusterArn)],
        },
      },
      Targets: [Match.objectLike({ Arn: stack.resolve(enforcement.function.functionArn) })],
    });
    expect(functionEnvironment(template).CLUSTER_ARNS).toEqual(stack.resolve(stack.toJsonString([batchCluster.clusterArn, cluster.clusterArn])));
  });

  test('ENFORCE: ecs:StopTask and ecs:DescribeTasks on each enforced cluster\'s tasks, with the ecs:cluster condition', () => {
    const { stack, cluster, batchCluster } = fixture();
    const template = Template.fromStack(stack);
    const stops = enforcementStatements(template).filter((s) => s.actions.includes('ecs:StopTask'));

    expect(stops.map((s) => [...s.actions].sort())).toEqual([['ecs:DescribeTasks', 'ecs:StopTask'], ['ecs:DescribeTasks', 'ecs:StopTask']]);
    const policy = Object.values(template.findResources('AWS::IAM::Policy')).find((p: any) => JSON.stringify(p).includes('ecs:StopTask')) as any;
    const conditions = policy.Properties.PolicyDocument.Statement.filter((s: any) => [s.Action].flat().includes('ecs:StopTask')).map((s: any) => s.Condition);
    expect(conditions).toEqual([
      { ArnEquals: { 'ecs:cluster': stack.resolve(batchCluster.clusterArn) } },
      { ArnEquals: { 'ecs:cluster': stack.resolve(cluster.clusterArn) } },
    ]);
    expect(JSON.stringify(stack.resolve(stops.flatMap((s) => s.resources)))).toMatch(/:task\/".*Ref":"BatchCluster.*\/\*".*:task\/".*Ref":"Cluster.*\/\*"/);
  });

  test('AUDIT: the function may not stop any task', () => {
    const { stack } = fixture({ mode: EnforcementMode.AUDIT });
    const template = Template.fromStack(stack);

    expect(enforcementStatements(template).flatMap((s) => s.actions)).not.toContain('ecs:StopTask');
    expect(enforcementStatements(template).flatMap((s) => s.actions)).not.toContain('ecs:DescribeTasks');
    expect(functionEnvironment(template).ENFORCEMENT_MODE).toBe('AUDIT');
  });

  test('least privilege: ECR reads on the policy\'s repositories, service revisions of the enforced services\' clusters only, no managed policy', () => {
    const { stack, repository, service } = fixture();
    const template = Template.fromStack(stack);
    const statements = enforcementStatements(template);

    expectLeastPrivilege(template);
    expect(resourcesOf(statements, 'ecr:BatchGetImage')).toEqual([stack.resolve(repository.repositoryArn)]);
    expect(resourcesOf(statements, 'ecr:GetDownloadUrlForLayer')).toEqual([stack.resolve(repository.repositoryArn)]);
    expect(resourcesOf(statements, 'ecs:DescribeServiceRevisions')).toEqual([{
      'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':ecs:us-east-1:111122223333:service-revision/', stack.resolve(service.cluster.clusterName), '/*']],
    }]);
    expect(statements.flatMap((s) => s.actions).filter((a) => a.startsWith('ecs:')).sort())
      .toEqual(['ecs:DescribeServiceRevisions', 'ecs:DescribeTasks', 'ecs:DescribeTasks', 'ecs:StopTask', 'ecs:StopTask']);
    // Revocation of the trusted profile's signatures only: the profile, its versions, the signing jobs of its account and region.
    const profileArn = stack.resolve((stack.node.findChild('Profile') as NotationSigningProfile).signingProfileArn);
    expect(resourcesOf(statements, 'signer:GetRevocationStatus')).toEqual([
      profileArn,
      { 'Fn::Join': ['', [profileArn, '/*']] },
      { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':signer:us-east-1:111122223333:/signing-jobs/*']] },
    ]);
  });

  test('settings reach the function: failure policy, exemptions and the notification topic (which it may publish to)', () => {
    const stack = newStack({ env: { account: '111122223333', region: 'us-east-1' } });
    const topic = new sns.Topic(stack, 'Findings', { enforceSSL: true });
    fixture({
      failurePolicy: VerificationFailurePolicy.ALLOW,
      notificationTopic: topic,
      exemptions: [{ repository: 'public.ecr.aws/aws-observability/aws-for-fluent-bit', reason: 'AWS-managed log router sidecar' }],
    }, stack);
    const template = Template.fromStack(stack);
    const environment = functionEnvironment(template);

    expect(environment).toMatchObject({ ENFORCEMENT_MODE: 'ENFORCE', FAILURE_POLICY: 'ALLOW', NOTIFICATION_TOPIC_ARN: stack.resolve(topic.topicArn) });
    expect(JSON.parse(environment.EXEMPTIONS as string)).toEqual([
      { repository: 'public.ecr.aws/aws-observability/aws-for-fluent-bit', reason: 'AWS-managed log router sidecar' },
    ]);
    expect(resourcesOf(enforcementStatements(template), 'sns:Publish')).toEqual([stack.resolve(topic.topicArn)]);
  });

  test('the default failure policy is BLOCK', () => {
    const { stack } = fixture();
    expect(functionEnvironment(Template.fromStack(stack)).FAILURE_POLICY).toBe('BLOCK');
  });

  test('an existing ImageVerifier lends its trust policy and repositories', () => {
    const stack = newStack();
    const profile = new NotationSigningProfile(stack, 'Profile');
    const repository = new ecr.Repository(stack, 'Repository');
    const trustPolicy = new TrustPolicy(stack, 'TrustPolicy', { signingProfiles: [profile], repositories: [repository] });
    const verifier = new ImageVerifier(stack, 'Verifier', { trustPolicy });
    const cluster = ecs.Cluster.fromClusterAttributes(stack, 'Imported', { clusterName: 'jobs', vpc: new ec2.Vpc(stack, 'Vpc', { maxAzs: 1, natGateways: 0 }) });

    const enforcement = new EcsSignatureEnforcement(stack, 'Enforce', { verifier, clusters: [cluster] });

    expect(enforcement.trustPolicy).toBe(trustPolicy);
    expect(enforcement.repositories).toEqual([repository]);
  });

  test.each<[string, Partial<EcsSignatureEnforcementProps>, RegExp]>([
    ['an exemption with a tag', { exemptions: [{ repository: 'docker.io/library/nginx:latest', reason: 'the web server image' }] }, /exemptions\[0\]\.repository: "docker.io\/library\/nginx:latest" is not a repository without tag or digest/],
    ['an exemption without a reason', { exemptions: [{ repository: 'nginx', reason: 'ok' }] }, /exemptions\[0\]\.reason: say why/],
    ['an exemption with a bad digest', { exemptions: [{ repository: 'nginx', digest: 'sha256:abc', reason: 'a pinned nginx image' }] }, /exemptions\[0\]\.digest: "sha256:abc" is not a sha256 digest/],
    ['a bad maxSignatureAttempts', { maxSignatureAttempts: 0 }, /maxSignatureAttempts: 0 is not a whole number of at least 1/],
  ])('%s is refused at synth, naming the prop', (_, props, message) => {
    expect(() => fixture(props)).toThrow(message);
  });

  test('without services or clusters the stack does not synthesize (the rule would match nothing)', () => {
    const stack = newStack();
    const profile = new NotationSigningProfile(stack, 'Profile');
    const repository = new ecr.Repository(stack, 'Repository');
    new EcsSignatureEnforcement(stack, 'Enforce', { trustPolicy: new TrustPolicy(stack, 'TrustPolicy', { signingProfiles: [profile], repositories: [repository] }) });

    expect(() => Template.fromStack(stack)).toThrow(/give the services or clusters to enforce/);
  });

  test('without a trust policy or verifier it is refused', () => {
    expect(() => new EcsSignatureEnforcement(newStack(), 'Enforce', {})).toThrow(/trustPolicy: give the trust policy/);
  });

  test.each(NAG_VERSIONS)('cdk-nag %s AwsSolutions: no unacknowledged finding on the enforcement, and the wildcards are acknowledged with their reasons', (version) => {
    const { stack, enforcement } = fixture();
    expect(nagFindings(version, enforcement)).toEqual([]);
    const policy = Template.fromStack(stack).findResources('AWS::IAM::Policy');
    const suppressions = Object.entries(policy).filter(([id]) => id.startsWith('EnforceServiceRoleDefaultPolicy'))
      .flatMap(([, resource]) => (resource as any).Metadata.cdk_nag.rules_to_suppress as Array<{ reason: string; applies_to: string[] }>);
    expect(suppressions.map((s) => s.reason).join('\n')).toMatch(/ecs:StopTask \(and ecs:DescribeTasks, read only, to skip a task that is stopping already\) on the enforced clusters' tasks/);
    expect(suppressions.map((s) => s.reason).join('\n')).toMatch(/ecs:DescribeServiceRevisions \(read only\) on the revisions in the enforced services' clusters/);
  });

  test('grantPrincipal is the function\'s role', () => {
    const { enforcement } = fixture();
    expect(enforcement.grantPrincipal).toBe(enforcement.role);
    expect(enforcement.role).toBeInstanceOf(iam.Role);
  });

  test.each(NAG_VERSIONS)('the example stack (examples/enforced-service-stack.ts) synthesizes with a hooked service and no finding at all (cdk-nag %s)', (version) => {
    const stack = new EnforcedServiceStack(new App({ context: { '@aws-cdk/aws-iam:minimizePolicies': true } }), 'EnforcedServiceExample', {
      env: { account: '111122223333', region: 'us-east-1' },
    });
    expect(nagFindings(version, stack)).toEqual([]);
    const annotations = Annotations.fromStack(stack);
    expect(annotations.findError('*', Match.anyValue()).map((m) => `${m.id}: ${String(m.entry.data)}`)).toEqual([]);
    expect(annotations.findWarning('*', Match.anyValue()).map((m) => `${m.id}: ${String(m.entry.data)}`)).toEqual([]);
    const service = Object.values(Template.fromStack(stack).findResources('AWS::ECS::Service'))[0] as any;
    expect(service.Properties.DeploymentConfiguration.LifecycleHooks).toHaveLength(1);
  });
});

describe('EcsSignatureEnforcement requiredAttestations', () => {
  test('writes REQUIRED_ATTESTATIONS and grants nothing more', () => {
    const builderId = 'arn:aws:codepipeline:us-east-1:111122223333:release';
    const { stack } = fixture({ requiredAttestations: { provenance: { builderId, sourceRepository: 'https://github.com/org/app', sourceBranch: 'main' }, sbom: SbomFormat.SPDX } });
    const template = Template.fromStack(stack);
    expect(JSON.parse(functionEnvironment(template).REQUIRED_ATTESTATIONS as string)).toEqual({
      provenance: { builderId, sourceRepository: 'https://github.com/org/app', sourceBranch: 'main' },
      sbom: 'spdx',
    });
    expect(enforcementStatements(template).flatMap((statement) => statement.actions)).not.toContain('codepipeline:GetJobDetails');
  });

  test('refuses builderIsPipeline: ECS events come from no pipeline job', () => {
    expect(() => fixture({ requiredAttestations: { provenance: { builderIsPipeline: true } } })).toThrow(/builderIsPipeline: ECS deployments and tasks come from no pipeline job/);
  });
});
