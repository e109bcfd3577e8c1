import { App, Stack } from 'aws-cdk-lib';
import * as codecommit from 'aws-cdk-lib/aws-codecommit';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as eks from 'aws-cdk-lib/aws-eks';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import { IConstruct } from 'constructs';
import { DeployTarget, NotationSigningProfile, PipelineSource, ScanSeverity, SignedImagePipeline, SignedImagePipelineProps } from '../../src';
import { NagFinding, nagFindings as runNag, NagVersion } from '../util/nag';

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

/** Runs cdk-nag AwsSolutions (v2 or v3) on the stack's app and returns every unacknowledged error and warning below `scope`. */
export function nagFindings(scope: IConstruct, version: NagVersion = 'v3'): { errors: NagFinding[]; warnings: NagFinding[] } {
  const findings = runNag(version, scope);
  return { errors: findings.filter((f) => f.level === 'error'), warnings: findings.filter((f) => f.level === 'warning') };
}
