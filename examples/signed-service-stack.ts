/**
 * A small web service on ECS Fargate whose images reach it only through a SignedImagePipeline.
 * Without a connection the pipeline takes its source from the created S3 bucket, where the stack itself uploads
 * `examples/service/` as a zip archive before the pipeline's first execution.
 */
import { join } from 'node:path';
import { CfnOutput, Fn, RemovalPolicy, Stack, StackProps, Token, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
// cdk-nag v2's suppression API (installed here under the alias cdk-nag-v2; in an app on v2 it is 'cdk-nag').
import { NagSuppressions } from 'cdk-nag-v2';
import { Construct, IConstruct } from 'constructs';
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
      // Replaced by the pipeline's first deployment with the signed image, by digest. The ECS deploy action replaces
      // the image only, so the container sets no command: the signed image starts with its own CMD.
      image: ecs.ContainerImage.fromRegistry('public.ecr.aws/nginx/nginx:stable-alpine'),
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

    let source: PipelineSource;
    let sourceUpload: s3deploy.BucketDeployment | undefined;
    if (props.connection) {
      source = PipelineSource.connection(props.connection);
    } else {
      const bucket = new s3.Bucket(this, 'SourceBucket', {
        versioned: true,
        enforceSSL: true,
        blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
        encryption: s3.BucketEncryption.S3_MANAGED,
        serverAccessLogsPrefix: 'access-logs/',
        removalPolicy: RemovalPolicy.DESTROY,
        autoDeleteObjects: true,
      });
      // The archive of examples/service/ as the CDK CLI zips it (extract: false keeps the zip); its key is the asset's.
      sourceUpload = new s3deploy.BucketDeployment(this, 'SourceUpload', {
        sources: [s3deploy.Source.asset(join(__dirname, 'service'))],
        destinationBucket: bucket,
        extract: false,
        prune: false,
      });
      acknowledgeUploadHandler(this, this.node.children.find((child) => child.node.id.startsWith('Custom::CDKBucketDeployment'))!);
      const key = Fn.select(0, sourceUpload.objectKeys);
      source = PipelineSource.s3(bucket, key);
      new CfnOutput(this, 'SourceBucketName', { value: bucket.bucketName, description: 'The bucket the pipeline takes its source from' });
      new CfnOutput(this, 'SourceObjectKey', { value: key, description: 'Upload a new zip of the service to this key to release it' });
    }

    this.pipeline = new SignedImagePipeline(this, 'Pipeline', {
      source,
      imageBuild: { dockerfile: 'Dockerfile', context: '.' },
      scanGate: { severity: ScanSeverity.CRITICAL },
      deploy: DeployTarget.ecs({ service, containerName: 'web' }),
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // CodePipeline starts a pipeline when it is created: the archive is there before, so the first execution succeeds.
    if (sourceUpload) this.pipeline.node.addDependency(sourceUpload);
  }
}


/** The findings on aws-cdk-lib's BucketDeployment handler, which runs once per deploy to upload the source archive. */
function acknowledgeUploadHandler(stack: Stack, handler: IConstruct): void {
  // cdk-nag writes the asset bucket's name with the stack's account and region where they are known.
  const account = Token.isUnresolved(stack.account) ? '<AWS::AccountId>' : stack.account;
  const region = Token.isUnresolved(stack.region) ? '<AWS::Region>' : stack.region;
  const acknowledgements = [
    {
      id: 'AwsSolutions-IAM4',
      reason: 'aws-cdk-lib\'s BucketDeployment handler logs with AWSLambdaBasicExecutionRole',
      appliesTo: ['Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole'],
    },
    {
      id: 'AwsSolutions-IAM5',
      reason: 'aws-cdk-lib\'s BucketDeployment handler copies the archive from the CDK asset bucket into the source bucket',
      appliesTo: [
        'Action::s3:GetObject*', 'Action::s3:GetBucket*', 'Action::s3:List*', 'Action::s3:DeleteObject*', 'Action::s3:Abort*',
        `Resource::arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-${account}-${region}/*`,
        'Resource::<SourceBucketDDD2130A.Arn>/*',
      ],
    },
    { id: 'AwsSolutions-L1', reason: 'aws-cdk-lib chooses the BucketDeployment handler\'s Python runtime' },
  ];
  // cdk-nag v3 reads aws-cdk-lib's acknowledgements, one per finding; cdk-nag v2 its own suppressions.
  for (const { id, reason, appliesTo } of acknowledgements) {
    for (const finding of appliesTo ?? ['']) Validations.of(handler).acknowledge({ id: finding ? `${id}[${finding}]` : id, reason });
  }
  NagSuppressions.addResourceSuppressions(handler, acknowledgements, true);
}
