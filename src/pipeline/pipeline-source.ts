import { Token } from 'aws-cdk-lib';
import * as codecommit from 'aws-cdk-lib/aws-codecommit';
import * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as actions from 'aws-cdk-lib/aws-codepipeline-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { unscopedValidationError } from '../private/errors';
import { ProvenanceSource } from '../private/provenance-source';
import { S3ObjectCreatedSourceAction } from '../private/s3-source-action';

/** A connection's ARN, under either service prefix (AWS CodeConnections was AWS CodeStar Connections until 2024). */
const CONNECTION_ARN = /^arn:aws[a-z-]*:(codeconnections|codestar-connections):[a-z0-9-]+:\d{12}:connection\/[0-9a-f-]{36}$/;

/**
 * aws-cdk-lib's connection source action grants `codestar-connections:UseConnection` only
 * (aws-codepipeline-actions/lib/codestar-connections/source-action.ts). IAM authorizes a connection with the action of
 * its ARN's service prefix, so an `arn:aws:codeconnections:` connection (what the console creates since 2024) also
 * needs `codeconnections:UseConnection`; a connection ARN known only at deploy time gets both.
 */
class ConnectionSourceAction extends actions.CodeStarConnectionsSourceAction {
  constructor(private readonly connectionArn: string, props: actions.CodeStarConnectionsSourceActionProps) {
    super(props);
  }

  protected bound(scope: Construct, stage: codepipeline.IStage, options: codepipeline.ActionBindOptions): codepipeline.ActionConfig {
    const config = super.bound(scope, stage, options);
    if (Token.isUnresolved(this.connectionArn) || this.connectionArn.split(':')[2] === 'codeconnections') {
      options.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['codeconnections:UseConnection'], resources: [this.connectionArn] }));
    }
    return config;
  }
}

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
    const { connectionArn, owner, repo } = options;
    if (!Token.isUnresolved(connectionArn) && !CONNECTION_ARN.test(connectionArn)) {
      throw unscopedValidationError(
        'ConnectionArnInvalid',
        `PipelineSource.connection: connectionArn "${connectionArn}" is not a connection ARN ` +
          '(arn:aws:codeconnections:<region>:<account>:connection/<id>, or the older codestar-connections prefix)',
      );
    }
    // GitLab owners may be groups with subgroups (group/subgroup); the repository is one path segment.
    if (!Token.isUnresolved(owner) && !/^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/.test(owner)) {
      throw unscopedValidationError('ConnectionOwnerInvalid', `PipelineSource.connection: owner "${owner}" is not a user, organisation or group name`);
    }
    if (!Token.isUnresolved(repo) && !/^[A-Za-z0-9_.-]+$/.test(repo)) {
      throw unscopedValidationError('ConnectionRepoInvalid', `PipelineSource.connection: repo "${repo}" is not a repository name (letters, digits, ".", "_" and "-", without the owner)`);
    }
    return new (class extends PipelineSource {
      public readonly description = `${options.owner}/${options.repo}@${options.branch ?? 'main'}`;
      // The connection's provider (GitHub, GitLab, Bitbucket) is not known at synth time: GitHub unless the
      // pipeline's provenance.sourceRepositoryUrl says otherwise.
      public readonly _provenanceSource: ProvenanceSource = {
        repositoryUrl: `https://github.com/${options.owner}/${options.repo}`,
        branch: options.branch ?? 'main',
        git: true,
      };
      public action(output: codepipeline.Artifact): codepipeline.IAction {
        return new ConnectionSourceAction(connectionArn, {
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
      public readonly _provenanceSource: ProvenanceSource = { repositoryUrl: repository.repositoryCloneUrlHttp, branch: branch ?? 'main', git: true };
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

  /**
   * A zip archive in S3: each new version of the object starts the pipeline.
   *
   * The pipeline starts on S3's own EventBridge event ("Object Created" for this bucket and key), which needs no
   * CloudTrail trail. A bucket defined in the app (`s3.Bucket`) gets its EventBridge notifications turned on; an
   * imported bucket must have them on already (`aws s3api put-bucket-notification-configuration` with
   * `EventBridgeConfiguration`), or no upload starts the pipeline. The bucket must be versioned, as CodePipeline's S3
   * source requires.
   *
   * @param bucket the bucket holding the archive
   * @param key the archive's object key, e.g. `source.zip`
   */
  public static s3(bucket: s3.IBucket, key: string): PipelineSource {
    if (!Token.isUnresolved(key) && (key.length === 0 || key.startsWith('/'))) {
      throw unscopedValidationError('S3SourceKeyInvalid', `PipelineSource.s3: key "${key}" is not an object key (non-empty, without a leading "/")`);
    }
    return new (class extends PipelineSource {
      public readonly description = `s3://${bucket.bucketName}/${key}`;
      public readonly _sourceBucket = bucket;
      public action(output: codepipeline.Artifact): codepipeline.IAction {
        return new S3ObjectCreatedSourceAction({ actionName: 'Source', bucket, bucketKey: key, output, variablesNamespace: 'Source' });
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

  /**
   * The source a build provenance records: the repository URL, and whether the action reports `BranchName` and
   * `CommitId` (git sources).
   * @internal
   */
  public readonly _provenanceSource?: ProvenanceSource;

  /** The Source stage's action, writing the code to `output`. */
  public abstract action(output: codepipeline.Artifact): codepipeline.IAction;
}

