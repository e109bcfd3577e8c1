import { App, Aspects, Stack } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import * as codecommit from 'aws-cdk-lib/aws-codecommit';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as eks from 'aws-cdk-lib/aws-eks';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import { SynthesisMessage } from 'aws-cdk-lib/cx-api';
import { AwsSolutionsChecks } from 'cdk-nag';
import { IConstruct } from 'constructs';
import { DeployTarget, NotationSigningProfile, PipelineSource, ScanSeverity, SignedImagePipeline, SignedImagePipelineProps } from '../../src';

export const ENV = { account: '111122223333', region: 'us-east-1' };

export function newStack(): Stack {
  return new Stack(new App(), 'PipelineStack', { env: ENV });
}

export function s3Source(stack: Stack): PipelineSource {
  const bucket = (stack.node.tryFindChild('SourceBucket') as s3.IBucket | undefined) ?? s3.Bucket.fromBucketName(stack, 'SourceBucket', 'source-bucket');
  return PipelineSource.s3(bucket, 'app/source.zip');
}

/** An imported ECS Fargate service in an imported cluster. */
export function ecsService(stack: Stack): ecs.IBaseService {
  const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', { vpcId: 'vpc-1234', availabilityZones: ['us-east-1a'], privateSubnetIds: ['subnet-1'] });
  const cluster = ecs.Cluster.fromClusterAttributes(stack, 'Cluster', { clusterName: 'apps', vpc });
  return ecs.FargateService.fromFargateServiceAttributes(stack, 'Service', { cluster, serviceName: 'web' });
}

export function eksCluster(stack: Stack): eks.ICluster {
  return eks.Cluster.fromClusterAttributes(stack, 'EksCluster', { clusterName: 'prod' });
}

/** A pipeline with every option set: several profiles, approval, scan gate, ECS deploy, notifications. */
export function fullPipeline(stack: Stack, overrides: Partial<SignedImagePipelineProps> = {}): SignedImagePipeline {
  return new SignedImagePipeline(stack, 'Pipeline', {
    source: PipelineSource.codeCommit(codecommit.Repository.fromRepositoryName(stack, 'Code', 'service'), 'release'),
    signingProfiles: [new NotationSigningProfile(stack, 'TeamA'), new NotationSigningProfile(stack, 'TeamB')],
    approval: {
      releaseSigningProfile: new NotationSigningProfile(stack, 'Release'),
      notificationTopic: new sns.Topic(stack, 'Approvals', { enforceSSL: true }),
    },
    scanGate: { severity: ScanSeverity.HIGH },
    imageBuild: { dockerfile: 'docker/Dockerfile', context: 'app', buildArgs: { VERSION: '1.2.3' } },
    deploy: DeployTarget.ecs({ service: ecsService(stack), containerName: 'web' }),
    failureNotificationTopic: new sns.Topic(stack, 'Failures', { enforceSSL: true }),
    ...overrides,
  });
}

export interface NagFinding {
  readonly path: string;
  readonly message: string;
}

/** Runs cdk-nag AwsSolutions on the stack's app and returns every unacknowledged error and warning. */
export function nagFindings(stack: Stack, scope: IConstruct = stack): { errors: NagFinding[]; warnings: NagFinding[] } {
  Aspects.of(scope).add(new AwsSolutionsChecks({ verbose: true }));
  const annotations = Annotations.fromStack(stack);
  const pick = (messages: SynthesisMessage[]) =>
    messages.map((m) => ({ path: m.id, message: String(m.entry.data) }));
  return {
    errors: pick(annotations.findError('*', Match.stringLikeRegexp('AwsSolutions-'))),
    warnings: pick(annotations.findWarning('*', Match.stringLikeRegexp('AwsSolutions-'))),
  };
}
