/**
 * A web service on ECS Fargate and a cluster for batch jobs, both under EcsSignatureEnforcement: a deployment of the
 * service whose image does not verify rolls back before any task starts, and any other task with such an image on
 * either cluster is stopped once it runs. Findings go to an SNS topic.
 */
import { RemovalPolicy, Stack, StackProps, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
// cdk-nag v2's suppression API (installed here under the alias cdk-nag-v2; in an app on v2 it is 'cdk-nag').
import { NagSuppressions } from 'cdk-nag-v2';
import { Construct } from 'constructs';
import { EcsSignatureEnforcement, EnforcementMode, NotationSigningProfile, TrustPolicy } from '../src';

export interface EnforcedServiceStackProps extends StackProps {
  /** ENFORCE blocks; AUDIT reports only (a first rollout, to see what would be blocked). @default ENFORCE */
  readonly mode?: EnforcementMode;
}

export class EnforcedServiceStack extends Stack {
  public readonly enforcement: EcsSignatureEnforcement;

  constructor(scope: Construct, id: string, props: EnforcedServiceStackProps = {}) {
    super(scope, id, props);

    const repository = new ecr.Repository(this, 'Repository', {
      imageScanOnPush: true,
      imageTagMutability: ecr.TagMutability.IMMUTABLE,
      removalPolicy: RemovalPolicy.DESTROY,
      emptyOnDelete: true,
    });
    const profile = new NotationSigningProfile(this, 'ReleaseProfile');
    const trustPolicy = new TrustPolicy(this, 'TrustPolicy', { signingProfiles: [profile], repositories: [repository] });

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
    const jobs = new ecs.Cluster(this, 'JobsCluster', { vpc, containerInsightsV2: ecs.ContainerInsights.ENABLED });

    const taskDefinition = new ecs.FargateTaskDefinition(this, 'Task', { cpu: 256, memoryLimitMiB: 512 });
    taskDefinition.addContainer('web', {
      // Deploy a signed release by digest: ECS resolves tags to digests at deployment, and the hook verifies that digest.
      image: ecs.ContainerImage.fromEcrRepository(repository, 'release-1'),
      portMappings: [{ containerPort: 8080 }],
      logging: ecs.LogDrivers.awsLogs({
        streamPrefix: 'web',
        logGroup: new logs.LogGroup(this, 'WebLogs', { retention: logs.RetentionDays.ONE_MONTH, removalPolicy: RemovalPolicy.DESTROY }),
      }),
    });
    const executionRoleReason = 'aws-cdk-lib grants the task execution role ecr:GetAuthorizationToken to pull from ECR; the API has no resource type';
    // cdk-nag v3 reads aws-cdk-lib's acknowledgements, on the role and everything below it (its default policy).
    Validations.of(taskDefinition.obtainExecutionRole()).acknowledge({ id: 'AwsSolutions-IAM5[Resource::*]', reason: executionRoleReason });
    // cdk-nag v2 reads its own suppressions: an app on one version only needs one of the two.
    NagSuppressions.addResourceSuppressions(taskDefinition.obtainExecutionRole(), [{
      id: 'AwsSolutions-IAM5',
      reason: executionRoleReason,
      appliesTo: ['Resource::*'],
    }], true);
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

    this.enforcement = new EcsSignatureEnforcement(this, 'Enforcement', {
      trustPolicy,
      services: [service],
      clusters: [jobs],
      mode: props.mode ?? EnforcementMode.ENFORCE,
      notificationTopic: new sns.Topic(this, 'ImageFindings', { enforceSSL: true }),
      exemptions: [{ repository: 'public.ecr.aws/aws-observability/aws-for-fluent-bit', reason: 'AWS-managed log router sidecar (FireLens)' }],
      logRemovalPolicy: RemovalPolicy.DESTROY,
    });
  }
}
