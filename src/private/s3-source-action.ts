import { Stack } from 'aws-cdk-lib';
import * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as actions from 'aws-cdk-lib/aws-codepipeline-actions';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { acknowledge } from './nag';

/**
 * An S3 source action started by S3's own EventBridge notification of the object.
 *
 * aws-cdk-lib's `S3Trigger.EVENTS` (aws-codepipeline-actions/lib/s3/source-action.ts) listens for the CloudTrail
 * "AWS API Call via CloudTrail" `PutObject` event, which exists only when a trail records the bucket's S3 data events;
 * without one the pipeline never starts. S3 sends "Object Created" to EventBridge itself once the bucket's EventBridge
 * notifications are on (https://docs.aws.amazon.com/AmazonS3/latest/userguide/EventBridge.html), for `PutObject`,
 * `CopyObject` and multipart uploads alike; CodePipeline's own S3 source documentation uses that rule
 * (https://docs.aws.amazon.com/codepipeline/latest/userguide/create-S3-source-events.html).
 */
export class S3ObjectCreatedSourceAction extends actions.S3SourceAction {
  private readonly sourceBucket: s3.IBucket;
  private readonly sourceKey: string;

  constructor(props: Omit<actions.S3SourceActionProps, 'trigger'>) {
    super({ ...props, trigger: actions.S3Trigger.NONE });
    this.sourceBucket = props.bucket;
    this.sourceKey = props.bucketKey;
  }

  protected bound(scope: Construct, stage: codepipeline.IStage, options: codepipeline.ActionBindOptions): codepipeline.ActionConfig {
    const config = super.bound(scope, stage, options);
    // A bucket of this app gets its notifications turned on through aws-cdk-lib, which keeps every other notification
    // of the bucket; an imported bucket's notifications are its owner's (documented on PipelineSource.s3).
    if (this.sourceBucket instanceof s3.Bucket) {
      this.sourceBucket.enableEventBridgeNotification();
      acknowledgeNotificationsHandler(this.sourceBucket);
    }
    new events.Rule(scope, 'SourceObjectCreated', {
      description: `Starts the pipeline when a new version of the source archive is written to ${this.sourceKey}`,
      eventPattern: {
        source: ['aws.s3'],
        detailType: ['Object Created'],
        detail: { bucket: { name: [this.sourceBucket.bucketName] }, object: { key: [this.sourceKey] } },
      },
      targets: [new targets.CodePipeline(stage.pipeline)],
    });
    return config;
  }
}

/**
 * aws-cdk-lib writes a bucket's notifications with one handler function per stack (aws-s3/lib/notifications-resource/
 * notifications-resource-handler.ts), whose role has AWS's basic execution managed policy.
 */
function acknowledgeNotificationsHandler(bucket: s3.Bucket): void {
  const handler = Stack.of(bucket).node.children.find((child) => child.node.id.startsWith('BucketNotificationsHandler'));
  const role = handler?.node.tryFindChild('Role');
  if (!role) return;
  acknowledge(role, [{
    id: 'AwsSolutions-IAM4',
    reason: 'aws-cdk-lib\'s bucket notifications handler (which turns on the source bucket\'s EventBridge notifications) writes its logs with AWSLambdaBasicExecutionRole',
    appliesTo: ['Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole'],
  }]);
}
