import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import { ENV, nagFindings, newStack, s3Source } from './support';
import { DeployTarget, SignedImagePipeline } from '../../src';
import { policyStatements, Statement } from '../constructs/support';

// The ECS deploy action's role, scoped as the Service Authorization Reference (Amazon ECS) allows: aws-cdk-lib's
// EcsDeployAction would grant ecs:DescribeServices, DescribeTaskDefinition, DescribeTasks, ListTasks,
// RegisterTaskDefinition, TagResource, UpdateService and iam:PassRole on "*" (aws-codepipeline-actions/lib/ecs/deploy-action.ts).

interface Fixture {
  readonly stack: Stack;
  readonly pipeline: SignedImagePipeline;
  readonly template: Template;
  readonly statements: Statement[];
}

function pipelineFor(stack: Stack, service: ecs.IBaseService, beforeSynth: (pipeline: SignedImagePipeline) => void = () => {}): Fixture {
  const pipeline = new SignedImagePipeline(stack, 'Pipeline', { source: s3Source(stack), deploy: DeployTarget.ecs({ service, containerName: 'web' }) });
  beforeSynth(pipeline);
  const template = Template.fromStack(stack);
  return { stack, pipeline, template, statements: policyStatements(template).filter((s) => s.policy.startsWith('PipelineEcsDeployRoleDefaultPolicy')) };
}

/** A Fargate service made in the stack, with its task definition (task role, and the execution role ECR pulls need). */
function fargateService(stack: Stack): { service: ecs.FargateService; taskDefinition: ecs.FargateTaskDefinition } {
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 1, natGateways: 0, subnetConfiguration: [{ name: 'public', subnetType: ec2.SubnetType.PUBLIC }] });
  const cluster = new ecs.Cluster(stack, 'Cluster', { vpc });
  const taskDefinition = new ecs.FargateTaskDefinition(stack, 'Task', { family: 'web-task' });
  taskDefinition.addContainer('web', { image: ecs.ContainerImage.fromRegistry('public.ecr.aws/docker/library/busybox:stable') });
  const service = new ecs.FargateService(stack, 'Service', { cluster, taskDefinition, assignPublicIp: true });
  return { service, taskDefinition };
}

const partitionArn = (rest: string) => ({ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, rest]] });

function only(statements: Statement[], action: string): Statement {
  const found = statements.filter((s) => s.actions.includes(action));
  expect(found).toHaveLength(1);
  return found[0];
}

function conditionsOf(template: Template, action: string): unknown {
  const [policy] = Object.entries(template.findResources('AWS::IAM::Policy')).filter(([id]) => id.startsWith('PipelineEcsDeployRoleDefaultPolicy'));
  return ((policy[1] as any).Properties.PolicyDocument.Statement as any[]).find((s) => [s.Action].flat().includes(action)).Condition;
}

describe('the ECS deploy action role of a service made in the stack', () => {
  const stack = newStack();
  const { service, taskDefinition } = fargateService(stack);
  // An execution role the task definition gets after the pipeline is made is passed too.
  const { pipeline, template, statements } = pipelineFor(stack, service, () => taskDefinition.obtainExecutionRole());
  const cluster = stack.resolve(service.cluster.clusterName);

  test('the action deploys with this role, which only the pipeline role may assume', () => {
    const action = (Object.values(template.findResources('AWS::CodePipeline::Pipeline'))[0] as any).Properties.Stages
      .flatMap((stage: any) => stage.Actions).find((a: any) => a.Name === 'DeployToEcs');
    const [[roleId, role]] = Object.entries(template.findResources('AWS::IAM::Role')).filter(([id]) => id.startsWith('PipelineEcsDeployRole'));
    expect(action.RoleArn).toEqual({ 'Fn::GetAtt': [roleId, 'Arn'] });
    expect((role as any).Properties.AssumeRolePolicyDocument.Statement).toEqual([
      { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { AWS: stack.resolve(pipeline.pipeline.role.roleArn) } },
    ]);
  });

  test('UpdateService and DescribeServices on the service; DescribeTasks and ListTasks on its cluster', () => {
    expect(only(statements, 'ecs:UpdateService')).toMatchObject({
      actions: ['ecs:DescribeServices', 'ecs:UpdateService'],
      resources: [{ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:ecs:${ENV.region}:${ENV.account}:service/`, cluster, '/', stack.resolve(service.serviceName)]] }],
    });
    expect(only(statements, 'ecs:DescribeTasks').resources).toEqual([
      { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:ecs:${ENV.region}:${ENV.account}:task/`, cluster, '/*']] },
    ]);
    expect(only(statements, 'ecs:ListTasks').resources).toEqual([
      { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:ecs:${ENV.region}:${ENV.account}:container-instance/`, cluster, '/*']] },
    ]);
    expect(conditionsOf(template, 'ecs:ListTasks')).toEqual({ ArnEquals: { 'ecs:cluster': stack.resolve(service.cluster.clusterArn) } });
  });

  test('RegisterTaskDefinition on the revisions of its family; TagResource on them only while registering', () => {
    const revisions = partitionArn(`:ecs:${ENV.region}:${ENV.account}:task-definition/web-task:*`);
    expect(only(statements, 'ecs:RegisterTaskDefinition')).toMatchObject({ actions: ['ecs:RegisterTaskDefinition'], resources: [revisions] });
    expect(only(statements, 'ecs:TagResource')).toMatchObject({ actions: ['ecs:TagResource'], resources: [revisions] });
    expect(conditionsOf(template, 'ecs:TagResource')).toEqual({ StringEquals: { 'ecs:CreateAction': 'RegisterTaskDefinition' } });
  });

  test('iam:PassRole on the task and execution roles only, only to ECS tasks', () => {
    expect(only(statements, 'iam:PassRole').resources).toEqual([
      stack.resolve(taskDefinition.taskRole.roleArn),
      stack.resolve(taskDefinition.executionRole!.roleArn),
    ]);
    expect(conditionsOf(template, 'iam:PassRole')).toEqual({ StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } });
  });

  test.each(['v2', 'v3'] as const)('cdk-nag %s: no unacknowledged finding on the pipeline', (version) => {
    const nagStack = newStack();
    const { pipeline: nagged } = pipelineFor(nagStack, fargateService(nagStack).service);
    const { errors, warnings } = nagFindings(nagged, version);
    expect(errors).toEqual([]);
    expect(warnings).toEqual([]);
  });

  test('"*" only for ecs:DescribeTaskDefinition, which has no resource type; nothing else but the artifacts', () => {
    const unscoped = statements.filter((s) => s.resources.includes('*'));
    expect(unscoped.map((s) => s.actions)).toEqual([['ecs:DescribeTaskDefinition']]);
    const actions = statements.flatMap((s) => s.actions).filter((a) => !a.startsWith('s3:') && !a.startsWith('kms:'));
    expect(actions.sort()).toEqual([
      'ecs:DescribeServices', 'ecs:DescribeTaskDefinition', 'ecs:DescribeTasks', 'ecs:ListTasks',
      'ecs:RegisterTaskDefinition', 'ecs:TagResource', 'ecs:UpdateService', 'iam:PassRole',
    ]);
  });
});

describe('the ECS deploy action role of an imported service (fromServiceArnWithCluster)', () => {
  const stack = newStack();
  const service = ecs.FargateService.fromServiceArnWithCluster(stack, 'Imported', 'arn:aws:ecs:us-east-1:111122223333:service/prod/web');
  const { template, statements } = pipelineFor(stack, service);

  test('the service and its cluster, from the ARN', () => {
    expect(only(statements, 'ecs:UpdateService').resources).toEqual([partitionArn(':ecs:us-east-1:111122223333:service/prod/web')]);
    expect(only(statements, 'ecs:DescribeTasks').resources).toEqual([partitionArn(':ecs:us-east-1:111122223333:task/prod/*')]);
  });

  test('its task definition is unknown: task definitions of that account and region, PassRole on that account\'s roles, only to ECS tasks', () => {
    expect(only(statements, 'ecs:RegisterTaskDefinition').resources).toEqual([partitionArn(':ecs:us-east-1:111122223333:task-definition/*')]);
    expect(only(statements, 'ecs:TagResource').resources).toEqual([partitionArn(':ecs:us-east-1:111122223333:task-definition/*')]);
    expect(only(statements, 'iam:PassRole').resources).toEqual([partitionArn(':iam::111122223333:role/*')]);
    expect(conditionsOf(template, 'iam:PassRole')).toEqual({ StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } });
    expect(statements.filter((s) => s.resources.includes('*')).map((s) => s.actions)).toEqual([['ecs:DescribeTaskDefinition']]);
  });

  test.each(['v2', 'v3'] as const)('cdk-nag %s: no unacknowledged finding', (version) => {
    const nagStack = newStack();
    pipelineFor(nagStack, ecs.FargateService.fromServiceArnWithCluster(nagStack, 'Imported', 'arn:aws:ecs:us-east-1:111122223333:service/prod/web'));
    const { errors, warnings } = nagFindings(nagStack, version);
    expect(errors).toEqual([]);
    expect(warnings).toEqual([]);
  });
});

describe('what the ECS deploy action adds to its role', () => {
  test('another action the action would grant on "*" stays, and cdk-nag reports it', () => {
    const stack = newStack();
    const { service } = fargateService(stack);
    const { pipeline: deployed, statements } = pipelineFor(stack, service, (pipeline) => {
      const role = pipeline.node.findChild('EcsDeployRole') as iam.Role;
      role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['ecs:UpdateService', 'ecs:DescribeServiceRevisions'], resources: ['*'] }));
    });
    expect(statements.filter((s) => s.resources.includes('*')).map((s) => s.actions)).toEqual([['ecs:DescribeTaskDefinition'], ['ecs:DescribeServiceRevisions']]);
    expect(nagFindings(deployed, 'v3').errors.map((f) => [f.path, f.ruleId])).toEqual([
      ['PipelineStack/Pipeline/EcsDeployRole/DefaultPolicy/Resource', 'AwsSolutions-IAM5[Resource::*]'],
    ]);
  });
});

test('a service of another account or region is refused at synth: the role and the check run in the pipeline\'s', () => {
  for (const arn of ['arn:aws:ecs:us-east-1:444455556666:service/prod/web', 'arn:aws:ecs:eu-west-1:111122223333:service/prod/web']) {
    const stack = newStack();
    const service = ecs.FargateService.fromServiceArnWithCluster(stack, 'Imported', arn);
    expect(() => pipelineFor(stack, service)).toThrow(/DeployTarget\.ecs: the service is in (account 444455556666|region eu-west-1), the pipeline in (account 111122223333|region us-east-1)/);
  }
});

test('a service imported by ARN into a stack without account and region is refused at synth, naming the missing env', () => {
  const stack = new Stack(new App(), 'EnvAgnostic');
  const service = ecs.FargateService.fromServiceArnWithCluster(stack, 'Imported', 'arn:aws:ecs:us-east-1:111122223333:service/prod/web');
  expect(() => pipelineFor(stack, service)).toThrow(/DeployTarget\.ecs: the service is in account 111122223333 and the pipeline's stack has no account: give the stack env: \{ account, region \}/);
});
