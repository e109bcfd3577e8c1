import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as iam from 'aws-cdk-lib/aws-iam';
import { IConstruct } from 'constructs';
import { validationError } from './errors';

/**
 * The ECR repositories a handler function may use, each granted the same registry API actions once: the list behind
 * `repositories` and `addRepository` of `ImageSigner`, `ImageVerifier` and `EcsSignatureEnforcement`.
 */
export class RepositoryAccess {
  private readonly list: ecr.IRepository[] = [];

  constructor(private readonly grantee: iam.IGrantable, private readonly actions: readonly string[]) {}

  /** The repositories, in the order they were added. */
  public get repositories(): ecr.IRepository[] {
    return [...this.list];
  }

  /** Grants the actions on `repository`, unless it (or a repository of the same ARN) is already in the list. */
  public add(repository: ecr.IRepository): void {
    if (this.list.some((known) => known === repository || known.repositoryArn === repository.repositoryArn)) return;
    this.list.push(repository);
    repository.grant(this.grantee, ...this.actions);
  }

  /**
   * Adds the repositories a reading construct was given or found in its trust policy, refusing none: `who` may read
   * nothing then, and every verification would fail.
   */
  public addReadable(scope: IConstruct, who: string, repositories: ecr.IRepository[]): void {
    if (repositories.length === 0) {
      throw validationError(
        'RepositoriesMissing',
        `repositories: give the ECR repositories the ${who} may read; the trust policy names none (its statements use ` +
          'registryScopes only), and without read access every verification fails',
        scope,
      );
    }
    for (const repository of repositories) this.add(repository);
  }
}

/**
 * ECR actions a verifying function needs through the registry (OCI distribution) API, on its repositories only:
 * `BatchGetImage` serves image and signature manifests and the referrers API, `GetDownloadUrlForLayer` the
 * signature envelope blobs.
 */
export const READ_ECR_ACTIONS: readonly string[] = ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'];
