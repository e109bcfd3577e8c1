import { Lazy, Names, Stack, Token } from 'aws-cdk-lib';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as codepipeline_actions from 'aws-cdk-lib/aws-codepipeline-actions';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { SbomFormat } from './attestations';
import { HandlerFunctionOptions, ImagePipelineActionOptions } from './handler-options';
import { environmentSizeProblems } from './private/environment-size';
import { validationError } from './private/errors';
import { grantUnscoped } from './private/grants';
import { createHandlerFunction } from './private/handler-function';
import { userParameters } from './private/pipeline-action';
import { READ_ECR_ACTIONS, RepositoryAccess } from './private/repository-access';
import { SignParameters } from './shared/handler-parameters';
import { INotationSigningProfile } from './signing-profile';

/** How signatures are stored in the registry (Notary Project signature manifest formats). */
export enum SignatureManifestFormat {
  /** An OCI 1.1 image manifest with `artifactType: application/vnd.cncf.notary.signature` (notation 1.2 and later). */
  OCI_1_1 = 'oci-1.1',
  /** The OCI 1.0 form with config media type `application/vnd.cncf.notary.signature`, for older notation clients. */
  LEGACY = 'legacy',
}

/**
 * ECR actions the signer needs through the registry (OCI distribution) API, on its repositories only:
 * pull the image manifest and read existing signatures (`BatchGetImage` serves manifests and the referrers API,
 * `GetDownloadUrlForLayer` the envelope blobs), then push the signature (`BatchCheckLayerAvailability` checks
 * whether a blob exists, the three upload actions push the envelope and config blobs, `PutImage` the manifest).
 */
const SIGNER_ECR_ACTIONS = [
  ...READ_ECR_ACTIONS,
  'ecr:BatchCheckLayerAvailability',
  'ecr:InitiateLayerUpload',
  'ecr:UploadLayerPart',
  'ecr:CompleteLayerUpload',
  'ecr:PutImage',
];

/** Properties of an `ImageSigner`. */
export interface ImageSignerProps extends HandlerFunctionOptions {
  /** The signing profiles the function signs with: every image gets one signature per profile. At least one. */
  readonly signingProfiles: INotationSigningProfile[];

  /**
   * The ECR repositories whose images the function may sign (it reads the images and pushes the signatures there).
   * At least one; `addRepository` and `signOnPush` add more.
   */
  readonly repositories: ecr.IRepository[];

  /**
   * A CodeBuild project whose builds the function may describe (`codebuild:BatchGetBuilds`), to write provenance
   * (source revision, build ARN) into the signed payload.
   *
   * @default - no provenance from CodeBuild
   */
  readonly provenanceProject?: codebuild.IProject;

  /**
   * The signature manifest format.
   *
   * @default SignatureManifestFormat.OCI_1_1
   */
  readonly manifestFormat?: SignatureManifestFormat;

  /**
   * Whether an image index (a multi-arch image) is signed together with every manifest it lists, each with its
   * own signature, so that the index digest and each platform digest verify. An invocation's `recursive`
   * parameter overrides it.
   *
   * @default true
   */
  readonly signIndexChildren?: boolean;
}

/** An SBOM the Sign action attaches to the image, signed (`SignerPipelineActionOptions.sbom`). */
export interface SbomAttachment {
  /** The SBOM's format: the file must be a JSON document of it. */
  readonly format: SbomFormat;
  /** The artifact with the SBOM as `sbom.json` at its root (e.g. the Build's); the action's input artifact. */
  readonly input: codepipeline.Artifact;
}

/** Options of `ImageSigner.pipelineAction`. */
export interface SignerPipelineActionOptions extends ImagePipelineActionOptions {
  /**
   * Sign with this profile only; it must be one of the signer's `signingProfiles`. `SignedImagePipeline` gives each
   * Sign action one profile, so that the profiles sign in turn.
   *
   * @default - every signing profile of the signer, in order
   */
  readonly signingProfile?: INotationSigningProfile;

  /**
   * Sign again even when a valid signature by the same profile over the same annotations exists.
   *
   * @default false
   */
  readonly force?: boolean;

  /**
   * For an image index (a multi-arch image): whether the index is signed together with every manifest it lists.
   *
   * @default - the signer's `signIndexChildren`
   */
  readonly recursive?: boolean;

  /**
   * The CodeBuild build that produced the image, by build id or ARN (e.g. `#{Build.CODEBUILD_BUILD_ARN}`). The
   * function reads it (`codebuild:BatchGetBuilds`, so the build's project must be a `provenanceProject` of the
   * signer) and signs its ARN and source versions into the payload's annotations.
   *
   * @default - no build provenance
   */
  readonly buildId?: string;

  /**
   * The pipeline execution, signed into the payload's annotations (e.g. `#{codepipeline.PipelineExecutionId}`).
   *
   * @default - none
   */
  readonly pipelineExecutionId?: string;

  /**
   * The source revision the image was built from, signed into the payload's annotations (e.g. `#{Source.CommitId}`).
   *
   * @default - none
   */
  readonly sourceRevision?: string;

  /**
   * After signing, attach a SLSA Provenance v1 attestation to the image and sign it with the same profile (the last
   * one, without `signingProfile`). It is assembled from what AWS reports: the build (`buildId`, which is required,
   * read with `codebuild:BatchGetBuilds`; it must have succeeded, been started by this pipeline and exported the
   * image's digest as `IMAGE_DIGEST`) and the job's pipeline (`codepipeline:GetJobDetails`: its ARN is the
   * provenance's builder). Works in a pipeline job only.
   *
   * @default false
   */
  readonly attachProvenance?: boolean;

  /**
   * The source repository URL the provenance records, e.g. `https://github.com/org/repo`.
   *
   * @default - no source in the provenance
   */
  readonly sourceRepository?: string;

  /**
   * The source branch the provenance records (e.g. `#{Source.BranchName}`).
   *
   * @default - no branch
   */
  readonly sourceBranch?: string;

  /**
   * The source commit the provenance records (e.g. `#{Source.CommitId}`); the build must have built it
   * (CodeBuild's resolved source version).
   *
   * @default - the build's resolved source version, when it is a commit id
   */
  readonly sourceCommit?: string;

  /**
   * After signing, attach this SBOM to the image and sign it with the same profile.
   *
   * @default - no SBOM
   */
  readonly sbom?: SbomAttachment;
}

/** Options of `ImageSigner.signOnPush`. */
export interface SignOnPushOptions {
  /**
   * Sign only pushes whose tag matches this EventBridge wildcard pattern (e.g. `release-*`).
   *
   * @default - every tagged push, except `sha256-*` tags (the referrers tag schema's index tags)
   */
  readonly tagPattern?: string;
}

/**
 * A Lambda function that signs container images with AWS Signer (Notation signatures pushed next to the image), from
 * a CodePipeline action (`pipelineAction`), an ECR push (`signOnPush`) or a direct invocation `{"imageUri": ...}`.
 *
 * Its role may sign with its profiles only and push to its repositories only.
 */
export class ImageSigner extends Construct implements iam.IGrantable {
  /** The signing function. */
  public readonly function: lambda.Function;
  /** The function's role. */
  public readonly role: iam.Role;
  /** The function's log group. */
  public readonly logGroup: logs.LogGroup;
  /** The signing profiles the function signs with. */
  public readonly signingProfiles: INotationSigningProfile[];
  public readonly grantPrincipal: iam.IPrincipal;

  private readonly repositoryAccess: RepositoryAccess;
  private readonly provenanceProjects: codebuild.IProject[] = [];
  private readsJobs = false;

  constructor(scope: Construct, id: string, props: ImageSignerProps) {
    super(scope, id);
    if (props.signingProfiles.length === 0) throw validationError('SigningProfilesEmpty', 'signingProfiles: give at least one signing profile to sign with', this);
    if (props.repositories.length === 0) throw validationError('RepositoriesEmpty', 'repositories: give at least one ECR repository whose images the signer may sign', this);
    this.signingProfiles = [...props.signingProfiles];

    const stack = Stack.of(this);
    const profiles = this.signingProfiles.map((profile) => ({
      profileName: profile.signingProfileName,
      // SignPayload needs profileOwner only for a profile another account owns.
      ...(profile.signingProfileOwner !== stack.account ? { profileOwner: profile.signingProfileOwner } : {}),
      profileArn: profile.signingProfileArn,
    }));

    const parts = createHandlerFunction(this, {
      assetName: 'sign-handler',
      description: 'Signs container images with AWS Signer (Notary Project signatures)',
      environment: {
        SIGNING_PROFILES: stack.toJsonString(profiles),
        ALLOWED_REPOSITORIES: Lazy.string({ produce: () => stack.toJsonString(this.repositories.map((repository) => repository.repositoryUri)) }),
        SIGNATURE_MANIFEST_FORMAT: props.manifestFormat ?? SignatureManifestFormat.OCI_1_1,
        SIGN_INDEX_CHILDREN: String(props.signIndexChildren ?? true),
      },
      options: props,
    });
    this.function = parts.function;
    this.role = parts.role;
    this.logGroup = parts.logGroup;
    this.grantPrincipal = this.role;

    for (const profile of this.signingProfiles) profile.grantSign(this.role);
    grantUnscoped(this.role, ['ecr:GetAuthorizationToken', 'codepipeline:PutJobSuccessResult', 'codepipeline:PutJobFailureResult']);
    this.repositoryAccess = new RepositoryAccess(this.role, SIGNER_ECR_ACTIONS);
    for (const repository of props.repositories) this.addRepository(repository);
    if (props.provenanceProject) this.addProvenanceProject(props.provenanceProject);
    this.node.addValidation({ validate: () => environmentSizeProblems(this.function, 'ImageSigner', 'signing profiles or repositories per signer') });
  }

  /** The ECR repositories the function may sign in. */
  public get repositories(): ecr.IRepository[] {
    return this.repositoryAccess.repositories;
  }

  /** Lets the function sign images in another repository (read the image, push signatures). */
  public addRepository(repository: ecr.IRepository): void {
    this.repositoryAccess.add(repository);
  }

  /** Lets the function describe builds of a CodeBuild project (`codebuild:BatchGetBuilds`) for provenance. */
  public addProvenanceProject(project: codebuild.IProject): void {
    if (this.provenanceProjects.includes(project)) return;
    this.provenanceProjects.push(project);
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['codebuild:BatchGetBuilds'], resources: [project.projectArn] }));
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
   * A CodePipeline action that signs an image: a `LambdaInvokeAction` with `UserParameters`
   * `{"imageUri": ..., "userMetadata": ...}` and the sign options that are set. Its output variables (e.g. `#{Sign.SIGNATURE_DIGEST}`) are in the
   * namespace `Sign` unless another is given.
   */
  public pipelineAction(options: SignerPipelineActionOptions): codepipeline_actions.LambdaInvokeAction {
    const profile = options.signingProfile;
    if (profile !== undefined && !this.signingProfiles.some((known) => known === profile || known.signingProfileArn === profile.signingProfileArn)) {
      throw validationError(
        'SigningProfileUnknown',
        `signingProfile: ${profile.node.path} is not one of this signer's signing profiles ` +
          `(${this.signingProfiles.map((known) => known.node.path).join(', ')})`,
        this,
      );
    }
    if (options.buildId !== undefined && this.provenanceProjects.length === 0) {
      throw validationError(
        'ProvenanceProjectMissing',
        'buildId: the signer may not describe builds; give it the build project as provenanceProject ' +
          '(or call addProvenanceProject) so it can read the provenance',
        this,
      );
    }
    if (options.attachProvenance && options.buildId === undefined) {
      throw validationError('ProvenanceBuildMissing', 'attachProvenance: give buildId (e.g. #{Build.CODEBUILD_BUILD_ARN}): the provenance records the build CodeBuild reports', this);
    }
    if ((options.sourceBranch !== undefined || options.sourceCommit !== undefined) && options.sourceRepository === undefined) {
      throw validationError('ProvenanceSourceRepositoryMissing', 'sourceBranch and sourceCommit need sourceRepository: the provenance names the repository they are of', this);
    }
    if (options.attachProvenance && !this.readsJobs) {
      this.readsJobs = true;
      grantUnscoped(this.role, ['codepipeline:GetJobDetails']);
    }
    // In the order SignedImagePipeline's templates have always had them.
    const parameters: SignParameters = {
      buildId: options.buildId,
      sourceRevision: options.sourceRevision,
      pipelineExecutionId: options.pipelineExecutionId,
      signingProfileArn: profile?.signingProfileArn,
      force: options.force,
      recursive: options.recursive,
      ...(options.attachProvenance ? { attachProvenance: true } : {}),
      sourceRepository: options.sourceRepository,
      sourceBranch: options.sourceBranch,
      sourceCommit: options.sourceCommit,
      sbomFormat: options.sbom?.format,
    };
    return new codepipeline_actions.LambdaInvokeAction({
      actionName: options.actionName,
      lambda: this.function,
      inputs: options.sbom ? [options.sbom.input] : undefined,
      userParameters: userParameters(this, options, parameters),
      variablesNamespace: options.variablesNamespace ?? 'Sign',
      runOrder: options.runOrder,
    });
  }

  /**
   * Signs every successful push of a tagged image to `repository` (images built outside a pipeline): an EventBridge
   * rule on ECR `Image Action` events that invokes the function with the pushed image's digest. The repository is
   * added to the function's repositories. Untagged pushes are ignored, which also keeps the function from reacting to
   * the signatures it pushes.
   */
  public signOnPush(repository: ecr.IRepository, options: SignOnPushOptions = {}): events.Rule {
    const stack = Stack.of(this);
    for (const [attribute, ours, theirs] of [['account', stack.account, repository.env.account], ['region', stack.region, repository.env.region]]) {
      if (!Token.isUnresolved(ours) && !Token.isUnresolved(theirs) && ours !== theirs) {
        throw validationError(
          'SignOnPushOtherEnvironment',
          `signOnPush: repository ${repository.node.path} is in ${attribute} ${theirs}, but its push events reach only the event bus ` +
            `of ${attribute} ${theirs}, not this stack's (${ours}); sign it from a signer in its own ${attribute}`,
          this,
        );
      }
    }
    if (options.tagPattern !== undefined && !Token.isUnresolved(options.tagPattern) && options.tagPattern.trim() === '') {
      throw validationError('SignOnPushTagPatternEmpty', 'signOnPush: tagPattern is empty; give a tag wildcard such as "release-*", or leave it out to sign every tagged push', this);
    }
    this.addRepository(repository);
    const id = `SignOnPush${Names.nodeUniqueId(repository.node)}`;
    const imageTag = options.tagPattern !== undefined ? [{ wildcard: options.tagPattern }] : [{ 'anything-but': { prefix: 'sha256-' } }];
    const rule = new events.Rule(this, id, {
      description: `Signs images pushed to ${repository.node.path}`,
      eventPattern: {
        source: ['aws.ecr'],
        detailType: ['ECR Image Action'],
        detail: {
          'action-type': ['PUSH'],
          'result': ['SUCCESS'],
          'repository-name': [repository.repositoryName],
          'image-tag': imageTag,
        },
      },
    });
    const registry = `${repository.env.account}.dkr.ecr.${repository.env.region}.${Stack.of(repository).urlSuffix}`;
    rule.addTarget(
      new targets.LambdaFunction(this.function, {
        event: events.RuleTargetInput.fromObject({
          imageUri: `${registry}/${events.EventField.fromPath('$.detail.repository-name')}@${events.EventField.fromPath('$.detail.image-digest')}`,
        }),
      }),
    );
    return rule;
  }
}
