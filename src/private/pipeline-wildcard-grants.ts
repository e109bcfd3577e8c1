import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { UNSCOPED_ACTIONS } from './grants';
import { WildcardGrant } from './wildcard-grants';

/** What the pipeline's wildcard grants may refer to. */
export interface PipelineGrantScope {
  readonly artifactsBucket: s3.IBucket;
  readonly artifactsKey: kms.IKey;
  /** The bucket of an S3 source. */
  readonly sourceBucket?: s3.IBucket;
  readonly functions: lambda.IFunction[];
  readonly projects: codebuild.IProject[];
}

/**
 * The wildcard grants of a SignedImagePipeline, each narrowed to the pipeline's own resources, with the reason a
 * security review reads next to the cdk-nag finding.
 */
export function pipelineWildcardGrants(scope: PipelineGrantScope): WildcardGrant[] {
  const every = (values: string[], test: (value: string) => boolean) => values.length > 0 && values.every(test);
  return [
    {
      reason:
        'Artifact grants of aws-cdk-lib (Bucket.grantRead / grantReadWrite) for the pipeline, its actions and builds: ' +
        'object-level wildcards (s3:GetObject*, s3:List*, ...) only on this pipeline\'s artifacts bucket and its objects.',
      matches: (statement, flatten) => {
        const bucket = flatten(scope.artifactsBucket.bucketArn);
        return every(statement.actions, (a) => a.startsWith('s3:')) && every(statement.resources, (r) => r === bucket || r === `${bucket}/*`);
      },
    },
    {
      reason:
        'aws-cdk-lib S3 source action: read-only wildcard actions (s3:GetObject*, s3:GetBucket*, s3:List*) on the source bucket ' +
        'and its source object only, with no wildcard in the resource.',
      matches: (statement, flatten) => {
        if (!scope.sourceBucket) return false;
        const bucket = flatten(scope.sourceBucket.bucketArn);
        return every(statement.actions, (a) => ['s3:GetObject*', 's3:GetBucket*', 's3:List*'].includes(a)) &&
          every(statement.resources, (r) => !r.includes('*') && (r === bucket || r.startsWith(`${bucket}/`)));
      },
    },
    {
      reason: 'Key grants of aws-cdk-lib for encrypted artifacts (kms:ReEncrypt*, kms:GenerateDataKey*) only on this pipeline\'s artifacts key.',
      matches: (statement, flatten) =>
        every(statement.actions, (a) => a.startsWith('kms:')) && every(statement.resources, (r) => r === flatten(scope.artifactsKey.keyArn)),
    },
    {
      reason: 'CodePipeline Lambda invoke actions: lambda:InvokeFunction on this pipeline\'s own function and its versions and aliases (<arn>:*).',
      matches: (statement, flatten) => {
        const functions = scope.functions.map((fn) => flatten(fn.functionArn));
        return every(statement.actions, (a) => a === 'lambda:InvokeFunction') &&
          every(statement.resources, (r) => functions.some((fn) => r === fn || r === `${fn}:*`));
      },
    },
    {
      reason:
        'Actions without a resource type, which IAM grants only on "*": lambda:ListFunctions (CodePipeline\'s Lambda invoke action), ' +
        `${Object.keys(UNSCOPED_ACTIONS).join(', ')}.`,
      matches: (statement) =>
        every(statement.resources, (r) => r === '*') && every(statement.actions, (a) => a === 'lambda:ListFunctions' || a in UNSCOPED_ACTIONS),
    },
    {
      reason:
        'CodeBuild project grants of aws-cdk-lib: the project\'s own log streams (/aws/codebuild/<project>:*) and report groups ' +
        '(report-group/<project>-*), whose names CodeBuild derives from the project name.',
      matches: (statement, flatten) => scope.projects.map((project) => flatten(project.projectName)).some((project) =>
        every(statement.resources, (r) => r.includes(`:log-group:/aws/codebuild/${project}`) || r.includes(`:report-group/${project}-`))),
    },
  ];
}
