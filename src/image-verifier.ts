import * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as codepipeline_actions from 'aws-cdk-lib/aws-codepipeline-actions';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { AttestationRequirements } from './attestations';
import { HandlerFunctionOptions, ImagePipelineActionOptions } from './handler-options';
import { environmentSizeProblems } from './private/environment-size';
import { validationError } from './private/errors';
import { grantUnscoped } from './private/grants';
import { createHandlerFunction } from './private/handler-function';
import { userParameters } from './private/pipeline-action';
import { READ_ECR_ACTIONS, RepositoryAccess } from './private/repository-access';
import { requiredAttestationsEnvironment } from './private/required-attestations';
import { trustPolicyEnvironment } from './private/verifier-environment';
import { TrustPolicy } from './trust-policy';

/**
 * An `imagedefinitions.json` that a verify action checks and hands on, so that an ECS deploy action deploys exactly
 * the image the action verified.
 */
export interface ImageDefinitionsHandOff {
  /** The artifact with `imagedefinitions.json` at its root, e.g. the Build's. */
  readonly input: codepipeline.Artifact;
  /** The artifact the action writes, with the checked `imagedefinitions.json` only: the deploy action's input. */
  readonly output: codepipeline.Artifact;
  /** The one container the file may name. */
  readonly containerName: string;
}

/** Options of a verify action. */
export interface VerifierPipelineActionOptions extends ImagePipelineActionOptions {
  /**
   * Check the input artifact's `imagedefinitions.json`: the job fails unless its one entry is for `containerName`
   * and deploys exactly the verified `<repository>@<digest>` (a tag, another repository or digest, another or an
   * extra container, or another field fails it, before any registry call); on success the action writes the checked
   * file as its output artifact.
   *
   * @default - no artifacts
   */
  readonly imageDefinitions?: ImageDefinitionsHandOff;
}

/** Properties of an `ImageVerifier`. */
export interface ImageVerifierProps extends HandlerFunctionOptions {
  /** The trust policy the function verifies images against. */
  readonly trustPolicy: TrustPolicy;

  /**
   * The ECR repositories the function may read (read-only: manifests, referrers, signature blobs).
   *
   * @default - the repositories given to the trust policy
   */
  readonly repositories?: ecr.IRepository[];

  /**
   * How many signatures of an image are tried, at most, before the verification fails.
   *
   * @default - the handler's default
   */
  readonly maxSignatureAttempts?: number;

  /**
   * Signed attestations an image must carry besides its signature: a SLSA provenance from a builder and source, an
   * SBOM. Each must be attached to the image as a referrer and signed under the same trust policy as the image; the
   * verification fails with the reason and the field otherwise. With `provenance.builderIsPipeline`, the function may
   * read its jobs (`codepipeline:GetJobDetails`, which has no resource type).
   *
   * @default - no attestations required
   */
  readonly requiredAttestations?: AttestationRequirements;
}

/**
 * A Lambda function that verifies container image signatures against a `TrustPolicy` (the trust policy and its
 * trust stores travel with the function), from a CodePipeline action (`pipelineAction`) or a direct invocation
 * `{"imageUri": ...}` that returns the verdict with every check's result.
 *
 * Its role only reads: its repositories, and the revocation status of the signatures its trust policy trusts.
 */
export class ImageVerifier extends Construct implements iam.IGrantable {
  /** The verifying function. */
  public readonly function: lambda.Function;
  /** The function's role. */
  public readonly role: iam.Role;
  /** The function's log group. */
  public readonly logGroup: logs.LogGroup;
  /** The trust policy the function applies. */
  public readonly trustPolicy: TrustPolicy;
  public readonly grantPrincipal: iam.IPrincipal;

  private readonly repositoryAccess: RepositoryAccess;

  constructor(scope: Construct, id: string, props: ImageVerifierProps) {
    super(scope, id);
    const maxSignatures = props.maxSignatureAttempts;
    if (maxSignatures !== undefined && (!Number.isInteger(maxSignatures) || maxSignatures < 1)) {
      throw validationError('MaxSignatureAttemptsInvalid', `maxSignatureAttempts: ${maxSignatures} is not a whole number of at least 1`, this);
    }
    this.trustPolicy = props.trustPolicy;

    const parts = createHandlerFunction(this, {
      assetName: 'verify-handler',
      description: 'Verifies container image signatures (Notary Project) against a trust policy',
      environment: {
        ...trustPolicyEnvironment(this, this.trustPolicy),
        ...(maxSignatures !== undefined ? { MAX_SIGNATURES: String(maxSignatures) } : {}),
        ...requiredAttestationsEnvironment(this, 'ImageVerifier', props.requiredAttestations),
      },
      options: props,
    });
    this.function = parts.function;
    this.role = parts.role;
    this.logGroup = parts.logGroup;
    this.grantPrincipal = this.role;

    grantUnscoped(this.role, [
      'ecr:GetAuthorizationToken',
      'codepipeline:PutJobSuccessResult',
      'codepipeline:PutJobFailureResult',
      ...(props.requiredAttestations?.provenance?.builderIsPipeline ? ['codepipeline:GetJobDetails'] : []),
    ]);
    this.trustPolicy.grantRevocationCheck(this.role);
    this.repositoryAccess = new RepositoryAccess(this.role, READ_ECR_ACTIONS);
    this.repositoryAccess.addReadable(this, 'verifier', props.repositories ?? this.trustPolicy.repositories);

    this.node.addValidation({ validate: () => environmentSizeProblems(this.function, 'ImageVerifier', 'trust policy statements, registry scopes or signing profiles per verifier') });
  }

  /** The ECR repositories the function may read. */
  public get repositories(): ecr.IRepository[] {
    return this.repositoryAccess.repositories;
  }

  /** Lets the function read another repository (manifests, referrers, signature blobs). */
  public addRepository(repository: ecr.IRepository): void {
    this.repositoryAccess.add(repository);
  }

  /**
   * Grants invoking the function directly (`{"imageUri": "<registry>/<repository>@sha256:..."}`): `lambda:InvokeFunction`
   * on the function's ARN and its `$LATEST` version only (the function has no other versions), without the `<arn>:*`
   * wildcard that `lambda.Function.grantInvoke` adds.
   */
  public grantInvoke(grantee: iam.IGrantable): iam.Grant {
    return this.function.grantInvokeLatestVersion(grantee);
  }

  /**
   * A CodePipeline action that verifies an image and fails the job unless it verifies: a `LambdaInvokeAction` with
   * `UserParameters` `{"imageUri": ..., "userMetadata": ...}`, output variables (`VERIFIED`, `IMAGE_URI`,
   * `IMAGE_DIGEST`, `SIGNATURE_DIGEST`) in the namespace `Verify` unless another is given.
   */
  public pipelineAction(options: VerifierPipelineActionOptions): codepipeline_actions.LambdaInvokeAction {
    const handOff = options.imageDefinitions;
    if (handOff && !/^[A-Za-z0-9_-]{1,255}$/.test(handOff.containerName)) {
      throw validationError('ContainerNameInvalid', `imageDefinitions.containerName: "${handOff.containerName}" is not an ECS container name (1 to 255 letters, digits, "-" and "_")`, this);
    }
    return new codepipeline_actions.LambdaInvokeAction({
      actionName: options.actionName,
      lambda: this.function,
      userParameters: { ...userParameters(this, options), ...(handOff ? { containerName: handOff.containerName } : {}) },
      inputs: handOff ? [handOff.input] : undefined,
      outputs: handOff ? [handOff.output] : undefined,
      variablesNamespace: options.variablesNamespace ?? 'Verify',
      runOrder: options.runOrder,
    });
  }
}
