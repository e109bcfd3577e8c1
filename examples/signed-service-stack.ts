/**
 * A small web service on ECS Fargate whose images reach it only through a SignedImagePipeline.
 * Without a connection the pipeline takes its source from the created S3 bucket (upload `source.zip`).
 */
import { RemovalPolicy, Stack, StackProps } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { DeployTarget, PipelineSource, ScanSeverity, SignedImagePipeline } from '../src';

export interface SignedServiceStackProps extends StackProps {
  /** A CodeConnections connection to the service's repository; without it the source is an S3 bucket. */
  readonly connection?: { connectionArn: string; owner: string; repo: string; branch?: string };
}

export class SignedServiceStack extends Stack {
  public readonly pipeline: SignedImagePipeline;

  constructor(scope: Construct, id: string, props: SignedServiceStackProps = {}) {
    super(scope, id, props);

    const vpc = new ec2.Vpc(this, 'Vpc', {
      maxAzs: 2,
      natGateways: 0,
      subnetConfiguration: [{ name: 'public', subnetType: ec2.SubnetType.PUBLIC }],
      flowLogs: {
        all: {
          trafficType: ec2.FlowLogTrafficType.REJECT,
          // A log group of the example's own, so that cdk destroy removes it with the rest.
          destination: ec2.FlowLogDestination.toCloudWatchLogs(
            new logs.LogGroup(this, 'FlowLogs', { retention: logs.RetentionDays.ONE_MONTH, removalPolicy: RemovalPolicy.DESTROY }),
          ),
        },
      },
    });
    const cluster = new ecs.Cluster(this, 'Cluster', { vpc, containerInsightsV2: ecs.ContainerInsights.ENABLED });
    const taskDefinition = new ecs.FargateTaskDefinition(this, 'Task', { cpu: 256, memoryLimitMiB: 512 });
    taskDefinition.addContainer('web', {
      // Replaced by the pipeline's first deployment with the signed image, by digest.
      image: ecs.ContainerImage.fromRegistry('public.ecr.aws/docker/library/busybox:stable'),
      command: ['httpd', '-f', '-p', '8080'],
      portMappings: [{ containerPort: 8080 }],
      logging: ecs.LogDrivers.awsLogs({
        streamPrefix: 'web',
        logGroup: new logs.LogGroup(this, 'WebLogs', { retention: logs.RetentionDays.ONE_MONTH, removalPolicy: RemovalPolicy.DESTROY }),
      }),
    });
    const securityGroup = new ec2.SecurityGroup(this, 'ServiceSecurityGroup', { vpc, description: 'The web service (no inbound rules)' });
    const service = new ecs.FargateService(this, 'Service', {
      cluster,
      taskDefinition,
      desiredCount: 1,
      assignPublicIp: true,
      securityGroups: [securityGroup],
      circuitBreaker: { enable: true, rollback: true },
      minHealthyPercent: 100,
    });

    const source = props.connection
      ? PipelineSource.connection(props.connection)
      : PipelineSource.s3(
        new s3.Bucket(this, 'SourceBucket', {
          versioned: true,
          enforceSSL: true,
          blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
          encryption: s3.BucketEncryption.S3_MANAGED,
          serverAccessLogsPrefix: 'access-logs/',
          removalPolicy: RemovalPolicy.DESTROY,
          autoDeleteObjects: true,
        }),
        'source.zip',
      );

    this.pipeline = new SignedImagePipeline(this, 'Pipeline', {
      source,
      imageBuild: { dockerfile: 'Dockerfile', context: '.' },
      scanGate: { severity: ScanSeverity.CRITICAL },
      deploy: DeployTarget.ecs({ service, containerName: 'web' }),
      removalPolicy: RemovalPolicy.DESTROY,
    });
  }
}

