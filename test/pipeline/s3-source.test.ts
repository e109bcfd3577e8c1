import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { ecsService, nagFindings, newStack } from './support';
import { DeployTarget, PipelineSource, SignedImagePipeline } from '../../src';

function pipelineOn(stack: Stack, bucket: s3.IBucket, key = 'app/source.zip'): Template {
  new SignedImagePipeline(stack, 'Pipeline', {
    source: PipelineSource.s3(bucket, key),
    deploy: DeployTarget.ecs({ service: ecsService(stack), containerName: 'web' }),
  });
  return Template.fromStack(stack);
}

describe('PipelineSource.s3 starts on S3\'s own EventBridge notification', () => {
  test('an "Object Created" rule for the bucket and key starts the pipeline (no CloudTrail "AWS API Call" rule, no polling)', () => {
    const stack = newStack();
    const template = pipelineOn(stack, s3.Bucket.fromBucketName(stack, 'Imported', 'source-bucket'));
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        'source': ['aws.s3'],
        'detail-type': ['Object Created'],
        'detail': { bucket: { name: ['source-bucket'] }, object: { key: ['app/source.zip'] } },
      },
      State: 'ENABLED',
      Targets: [Match.objectLike({ Arn: Match.anyValue(), RoleArn: Match.anyValue() })],
    });
    const rules = Object.values(template.findResources('AWS::Events::Rule')).map((r) => JSON.stringify(r.Properties.EventPattern));
    expect(rules.filter((p) => p.includes('CloudTrail'))).toEqual([]);
    const source = template.toJSON().Resources.Pipeline9850B417 ?? Object.values(template.findResources('AWS::CodePipeline::Pipeline'))[0];
    const config = source.Properties.Stages[0].Actions[0].Configuration;
    expect(config).toEqual(expect.objectContaining({ S3Bucket: 'source-bucket', S3ObjectKey: 'app/source.zip', PollForSourceChanges: false }));
  });

  test('a bucket defined in the app gets its EventBridge notifications turned on; an imported one is left to its owner', () => {
    const owned = newStack();
    pipelineOn(owned, new s3.Bucket(owned, 'SourceBucket', { versioned: true, enforceSSL: true }));
    Template.fromStack(owned).hasResourceProperties('Custom::S3BucketNotifications', {
      NotificationConfiguration: { EventBridgeConfiguration: {} },
    });

    const imported = newStack();
    const template = pipelineOn(imported, s3.Bucket.fromBucketName(imported, 'Imported', 'source-bucket'));
    expect(template.findResources('Custom::S3BucketNotifications')).toEqual({});
  });

  test('a bucket defined in the app stays cdk-nag v2 and v3 clean with its notifications handler', () => {
    const stack = newStack();
    pipelineOn(stack, new s3.Bucket(stack, 'SourceBucket', { versioned: true, enforceSSL: true, serverAccessLogsPrefix: 'logs/' }));
    for (const version of ['v2', 'v3'] as const) expect(nagFindings(stack, version).errors).toEqual([]);
  });

  test.each(['', '/source.zip'])('key %j is refused, naming the key', (key) => {
    const stack = newStack();
    expect(() => PipelineSource.s3(s3.Bucket.fromBucketName(stack, 'Imported', 'source-bucket'), key)).toThrow(/PipelineSource\.s3: key ".*" is not an object key/);
  });
});
