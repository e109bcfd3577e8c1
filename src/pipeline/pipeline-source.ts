import * as codecommit from 'aws-cdk-lib/aws-codecommit';
import * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as actions from 'aws-cdk-lib/aws-codepipeline-actions';
import * as s3 from 'aws-cdk-lib/aws-s3';

/** Options for a source in a repository behind an AWS CodeConnections (CodeStar) connection. */
export interface ConnectionSourceOptions {
  /** The connection's ARN (GitHub, GitLab, Bitbucket). */
  readonly connectionArn: string;
  /** The repository owner (user or organisation). */
  readonly owner: string;
  /** The repository name. */
  readonly repo: string;
  /**
   * The branch to build.
   * @default 'main'
   */
  readonly branch?: string;
}

/** Where the pipeline's Source stage takes the code from. */
export abstract class PipelineSource {
  /** A GitHub, GitLab or Bitbucket repository through an AWS CodeConnections connection. */
  public static connection(options: ConnectionSourceOptions): PipelineSource {
    return new (class extends PipelineSource {
      public readonly description = `${options.owner}/${options.repo}@${options.branch ?? 'main'}`;
      public action(output: codepipeline.Artifact): codepipeline.IAction {
        return new actions.CodeStarConnectionsSourceAction({
          actionName: 'Source',
          connectionArn: options.connectionArn,
          owner: options.owner,
          repo: options.repo,
          branch: options.branch ?? 'main',
          output,
          variablesNamespace: 'Source',
        });
      }
    })();
  }

  /**
   * An AWS CodeCommit repository.
   * @param branch the branch to build (default 'main')
   */
  public static codeCommit(repository: codecommit.IRepository, branch?: string): PipelineSource {
    return new (class extends PipelineSource {
      public readonly description = `${repository.repositoryName}@${branch ?? 'main'}`;
      public action(output: codepipeline.Artifact): codepipeline.IAction {
        return new actions.CodeCommitSourceAction({
          actionName: 'Source',
          repository,
          branch: branch ?? 'main',
          output,
          variablesNamespace: 'Source',
        });
      }
    })();
  }

  /** A zip archive in S3 (the bucket must be versioned); a new object version starts the pipeline. */
  public static s3(bucket: s3.IBucket, key: string): PipelineSource {
    return new (class extends PipelineSource {
      public readonly description = `s3://${bucket.bucketName}/${key}`;
      public readonly _sourceBucket = bucket;
      public action(output: codepipeline.Artifact): codepipeline.IAction {
        return new actions.S3SourceAction({
          actionName: 'Source',
          bucket,
          bucketKey: key,
          trigger: actions.S3Trigger.EVENTS,
          output,
          variablesNamespace: 'Source',
        });
      }
    })();
  }

  /** A short description for the README-style summaries (repository and branch, or bucket and key). */
  public abstract readonly description: string;

  /**
   * The bucket an S3 source reads (its action role's grants are acknowledged for cdk-nag on it alone).
   * @internal
   */
  public readonly _sourceBucket?: s3.IBucket;

  /** The Source stage's action, writing the code to `output`. */
  public abstract action(output: codepipeline.Artifact): codepipeline.IAction;
}
