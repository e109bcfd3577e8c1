/**
 * DeployTarget.ecs({ enforcement }): the pipeline's ECS service under EcsSignatureEnforcement with the pipeline's
 * trust policy (a PRE_SCALE_UP lifecycle hook on the service, the task state rule on its cluster).
 */
import { App, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as sns from 'aws-cdk-lib/aws-sns';
import { ecsService, ENV, nagFindings, newStack, s3Source } from './support';
import { DeployTarget, EcsDeployTarget, EcsDeployTargetOptions, EnforcementMode, NotationSigningProfile, SignedImagePipeline, SignedImagePipelineProps } from '../../src';
import { resourcesOf, roleStatements } from '../constructs/support';
import { NAG_VERSIONS } from '../util/nag';

const PLACEHOLDER = { repository: 'public.ecr.aws/nginx/nginx', digest: `sha256:${'c'.repeat(64)}`, reason: 'the placeholder the service is created with' };

/** A Fargate service of the stack, in a cluster of the stack. */
function ownService(stack: Stack): ecs.FargateService {
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 1, natGateways: 0, subnetConfiguration: [{ name: 'public', subnetType: ec2.SubnetType.PUBLIC }] });
  const cluster = new ecs.Cluster(stack, 'Cluster', { vpc, containerInsightsV2: ecs.ContainerInsights.ENABLED });
  const taskDefinition = new ecs.FargateTaskDefinition(stack, 'Task');
  taskDefinition.addContainer('web', { image: ecs.ContainerImage.fromRegistry(`public.ecr.aws/nginx/nginx@${PLACEHOLDER.digest}`) });
  return new ecs.FargateService(stack, 'Service', { cluster, taskDefinition, assignPublicIp: true, circuitBreaker: { rollback: true } });
}

function synth(options: Partial<EcsDeployTargetOptions> = {}, props: Partial<SignedImagePipelineProps> = {}) {
  const stack = newStack();
  const service = ownService(stack);
  const target = DeployTarget.ecs({ service, containerName: 'web', enforcement: EnforcementMode.ENFORCE, enforcementExemptions: [PLACEHOLDER], ...options });
  const pipeline = new SignedImagePipeline(stack, 'Pipeline', { source: s3Source(stack), deploy: target, ...props });
  return { stack, service, target, pipeline, template: Template.fromStack(stack) };
}

function environmentOf(template: Template, stack: Stack, fn: { functionArn: string }): Record<string, any> {
  const [logicalId] = stack.resolve(fn.functionArn)['Fn::GetAtt'];
  return template.toJSON().Resources[logicalId].Properties.Environment.Variables;
}

describe('DeployTarget.ecs({ enforcement })', () => {
  test('ENFORCE: the service gets a PRE_SCALE_UP hook on the enforcement function, whose rule covers the service\'s cluster', () => {
    const { stack, service, target, template } = synth();
    const enforcement = target.signatureEnforcement!;

    expect(enforcement).toBeDefined();
    expect(enforcement.services).toEqual([service]);
    expect(enforcement.clusters).toEqual([service.cluster]);
    const [cfnService] = Object.values(template.findResources('AWS::ECS::Service')) as any[];
    expect(cfnService.Properties.DeploymentConfiguration.LifecycleHooks).toEqual([expect.objectContaining({
      HookTargetArn: stack.resolve(enforcement.function.functionArn),
      LifecycleStages: ['PRE_SCALE_UP'],
    })]);
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: { 'detail-type': ['ECS Task State Change'], 'detail': { clusterArn: [stack.resolve(service.cluster.clusterArn)] } },
    });
  });

  test('the enforcement applies the pipeline\'s trust policy (the gate\'s), reads the pipeline\'s repository only and may stop tasks of the service\'s cluster only', () => {
    const { stack, target, pipeline, template } = synth();
    const enforcement = target.signatureEnforcement!;
    const environment = environmentOf(template, stack, enforcement.function);
    const gate = environmentOf(template, stack, pipeline.verifier.function);

    expect(enforcement.trustPolicy).toBe(pipeline.trustPolicy);
    expect(environment.TRUST_POLICY).toEqual(gate.TRUST_POLICY);
    expect(environment.TRUST_STORES).toEqual(gate.TRUST_STORES);
    expect(environment).toMatchObject({ ENFORCEMENT_MODE: 'ENFORCE', FAILURE_POLICY: 'BLOCK' });
    expect(JSON.parse(environment.EXEMPTIONS)).toEqual([PLACEHOLDER]);
    const statements = roleStatements(template, 'PipelineEcsEnforcementServiceRoleDefaultPolicy');
    expect(resourcesOf(statements, 'ecr:BatchGetImage')).toEqual([stack.resolve(pipeline.repository.repositoryArn)]);
    expect(JSON.stringify(resourcesOf(statements, 'ecs:StopTask'))).toContain(':task/');
    expect(resourcesOf(statements, 'ecs:StopTask')).toHaveLength(1);
  });

  test('with release approval the enforcement trusts what the gate trusts: the release profile only', () => {
    const stack = newStack();
    const release = new NotationSigningProfile(stack, 'Release');
    const target = DeployTarget.ecs({ service: ownService(stack), containerName: 'web', enforcement: EnforcementMode.ENFORCE, enforcementExemptions: [PLACEHOLDER] });
    const pipeline = new SignedImagePipeline(stack, 'Pipeline', {
      source: s3Source(stack),
      deploy: target,
      approval: { releaseSigningProfile: release, notificationTopic: new sns.Topic(stack, 'Approvals', { enforceSSL: true }) },
    });
    const template = Template.fromStack(stack);

    const trusted = JSON.stringify(environmentOf(template, stack, target.signatureEnforcement!.function).TRUST_POLICY);
    expect(trusted).toEqual(JSON.stringify(environmentOf(template, stack, pipeline.verifier.function).TRUST_POLICY));
    expect(trusted).toContain(stack.getLogicalId(release.node.defaultChild as any));
    expect(trusted).not.toContain(stack.getLogicalId(pipeline.signingProfiles[0].node.defaultChild as any));
  });

  test('AUDIT: the hook and the rule report only; the function may not stop tasks', () => {
    const { stack, target, template } = synth({ enforcement: EnforcementMode.AUDIT });
    const enforcement = target.signatureEnforcement!;

    expect(environmentOf(template, stack, enforcement.function).ENFORCEMENT_MODE).toBe('AUDIT');
    expect(JSON.stringify(template.findResources('AWS::IAM::Policy'))).not.toContain('ecs:StopTask');
  });

  test('without enforcement: no hook, no rule, no enforcement function', () => {
    const { target, template } = synth({ enforcement: undefined, enforcementExemptions: undefined });

    expect(target.signatureEnforcement).toBeUndefined();
    const [cfnService] = Object.values(template.findResources('AWS::ECS::Service')) as any[];
    expect(cfnService.Properties.DeploymentConfiguration.LifecycleHooks).toBeUndefined();
    expect(template.findResources('AWS::Events::Rule', { Properties: { EventPattern: { 'detail-type': ['ECS Task State Change'] } } })).toEqual({});
  });

  test('an imported service cannot take the hook: refused at synth, naming the cluster rule as the way', () => {
    const stack = newStack();
    const target = DeployTarget.ecs({ service: ecsService(stack), containerName: 'web', enforcement: EnforcementMode.ENFORCE });

    expect(() => new SignedImagePipeline(stack, 'Pipeline', { source: s3Source(stack), deploy: target }))
      .toThrow(/an imported service cannot take one; give its cluster to an EcsSignatureEnforcement \(clusters\)/);
  });

  test('a service of another stack is refused at synth (the stacks would depend on each other)', () => {
    const app = new App();
    const services = new Stack(app, 'Services', { env: ENV });
    const pipelines = new Stack(app, 'Pipelines', { env: ENV });
    const target = DeployTarget.ecs({ service: ownService(services), containerName: 'web', enforcement: EnforcementMode.ENFORCE });

    expect(() => new SignedImagePipeline(pipelines, 'Pipeline', { source: s3Source(pipelines), deploy: target }))
      .toThrow(/enforcement needs the service in the pipeline's stack \(Pipelines\); it is in Services/);
  });

  test('exemptions without enforcement are refused', () => {
    const stack = newStack();
    expect(() => DeployTarget.ecs({ service: ownService(stack), containerName: 'web', enforcementExemptions: [PLACEHOLDER] }))
      .toThrow(/enforcementExemptions apply to enforcement/);
  });

  test('a target bound outside a SignedImagePipeline (no trust policy in the context) is refused with enforcement', () => {
    const stack = newStack();
    const target: EcsDeployTarget = DeployTarget.ecs({ service: ownService(stack), containerName: 'web', enforcement: EnforcementMode.ENFORCE });
    const pipeline = new SignedImagePipeline(stack, 'Pipeline', { source: s3Source(stack) });

    expect(() => target.bind(pipeline, {
      repository: pipeline.repository,
      verifiedImageDefinitions: new codepipeline.Artifact('Defs'),
      imageUri: 'uri',
      imageRepositoryUri: 'repo',
      imageDigest: 'digest',
      runOrder: 2,
      removalPolicy: RemovalPolicy.DESTROY,
    })).toThrow(/enforcement needs the trust policy of the pipeline that binds the target/);
  });

  test.each(NAG_VERSIONS)('cdk-nag %s AwsSolutions: the pipeline with an enforced service has no unacknowledged finding', (version) => {
    const { pipeline } = synth();
    const { errors, warnings } = nagFindings(pipeline, version);
    expect(errors).toEqual([]);
    expect(warnings).toEqual([]);
  });
});
