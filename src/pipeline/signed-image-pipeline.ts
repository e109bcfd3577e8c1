import { Duration, RemovalPolicy, Token } from 'aws-cdk-lib';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as actions from 'aws-cdk-lib/aws-codepipeline-actions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { DeployTarget, DeployTargetBindContext } from './deploy-target';
import { PipelineSource } from './pipeline-source';
import { AttestationRequirements, SbomFormat } from '../attestations';
import { HandlerFunctionOptions } from '../handler-options';
import { ImageSigner } from '../image-signer';
import { ImageVerifier } from '../image-verifier';
import { DEFAULT_BINFMT_IMAGE, DEFAULT_BUILDKIT_IMAGE, IMAGE_BUILD_EXPORTS, imageBuildSpec, scanGateBuildSpec } from '../private/buildspecs';
import { validationError } from '../private/errors';
import { acknowledge } from '../private/nag';
import { pipelineWildcardGrants } from '../private/pipeline-wildcard-grants';
import { checkPlatforms } from '../private/platforms';
import { acknowledgeWildcardGrants } from '../private/wildcard-grants';
import { INotationSigningProfile, NotationSigningProfile } from '../signing-profile';
import { TrustPolicy, VerificationLevel } from '../trust-policy';

/** CodePipeline's quota of actions in one stage (https://docs.aws.amazon.com/codepipeline/latest/userguide/limits.html). */
const MAX_ACTIONS_PER_STAGE = 50;

/** The image the Build stage pushed, pinned to the digest the registry returned: what the Sign stage signs and the gate verifies. */
export const PIPELINE_IMAGE_URI = '#{Build.IMAGE_URI}@#{Build.IMAGE_DIGEST}';

/** CodeBuild's maximum build timeout, in minutes. */
const MAX_BUILD_MINUTES = 480;
/** CodePipeline's limit on a manual approval's `CustomData`. */
const MAX_APPROVAL_TEXT = 1000;

/** The variable namespace of the Deploy stage's verify gate. */
export const VERIFY_GATE_NAMESPACE = 'DeployGate';

/**
 * The image the verify gate verified: every action after the gate (deploy, running-image checks, your actions) reads
 * it, so CodePipeline runs them only after the gate, and they use the digest the gate accepted.
 */
export const VERIFIED_IMAGE_URI = `#{${VERIFY_GATE_NAMESPACE}.IMAGE_URI}@#{${VERIFY_GATE_NAMESPACE}.IMAGE_DIGEST}`;

/** The build project and the variables its pipeline action passes (those CodePipeline resolves). */
interface BuildProject {
  readonly project: codebuild.PipelineProject;
  readonly actionVariables: { [name: string]: codebuild.BuildEnvironmentVariable };
}

/** How the Build stage builds the image. */
export interface ImageBuildOptions {
  /**
   * Dockerfile path, relative to the source root.
   * @default 'Dockerfile'
   */
  readonly dockerfile?: string;
  /**
   * Build context directory, relative to the source root.
   * @default '.'
   */
  readonly context?: string;
  /**
   * `--build-arg` values. A value may hold CodePipeline variables, such as `#{Source.CommitId}` or
   * `#{codepipeline.PipelineExecutionId}`: such a value is passed as an environment variable of the build action,
   * where CodePipeline resolves it, the others as environment variables of the project. The build passes each
   * value to `docker build` as one word, whatever characters it holds.
   * @default - none
   */
  readonly buildArgs?: { [name: string]: string };
  /**
   * A buildspec of your own. It runs with the variables below and must push the image, export `IMAGE_URI` (the
   * repository URI), `IMAGE_DIGEST` (the digest the registry returned), `SOURCE_REVISION` and `CODEBUILD_BUILD_ARN`
   * (the provenance the Sign stage records), and write `imagedefinitions.json` as its artifact:
   * `[{"name": "$CONTAINER_NAME", "imageUri": "$IMAGE_URI@$IMAGE_DIGEST"}]` (the verify gate refuses any other
   * content). A buildspec object (`BuildSpec.fromObject`) that does not export those variables fails synth.
   *
   * Variables the build receives: `REPOSITORY_URI` (where to push), `CONTAINER_NAME`, `DOCKERFILE`,
   * `DOCKER_CONTEXT`, `DOCKER_BUILD_ARG_NAMES` (the build argument names, space-separated) with `BUILD_ARG_<name>`
   * holding each value, the `environmentVariables` given here, and CodeBuild's own (`AWS_REGION`,
   * `CODEBUILD_RESOLVED_SOURCE_VERSION`, `CODEBUILD_BUILD_NUMBER`, ...).
   * @default - a buildspec that runs docker build and push
   */
  readonly buildSpec?: codebuild.BuildSpec;
  /**
   * Environment variables of the build: plain values, AWS Systems Manager parameters
   * (`type: BuildEnvironmentVariableType.PARAMETER_STORE`, `value`: the parameter name) or AWS Secrets Manager
   * secrets (`SECRETS_MANAGER`, `value`: the secret's name or ARN, optionally with `:json-key:...`). The build role
   * may read the parameters and secrets named, as aws-cdk-lib grants them. A plain value holding CodePipeline
   * variables (`#{...}`) is passed by the build action, where CodePipeline resolves it. The names the pipeline sets
   * (above) and CodeBuild's `CODEBUILD_` prefix are refused.
   * @default - none
   */
  readonly environmentVariables?: { [name: string]: codebuild.BuildEnvironmentVariable };
  /**
   * The build's compute type.
   * @default codebuild.ComputeType.SMALL
   */
  readonly computeType?: codebuild.ComputeType;
  /**
   * The build image (it must run Docker in privileged mode).
   * @default codebuild.LinuxBuildImage.STANDARD_7_0
   */
  readonly buildImage?: codebuild.IBuildImage;
  /**
   * How long a build may run: 5 to 480 minutes (CodeBuild's limits).
   * @default Duration.minutes(60)
   */
  readonly timeout?: Duration;
  /**
   * The build's cache, e.g. `codebuild.Cache.local(codebuild.LocalCacheMode.DOCKER_LAYER)` for Docker layers kept
   * on the build host, or `codebuild.Cache.bucket(bucket)` (the build role may then read and write the bucket).
   * @default - no cache
   */
  readonly cache?: codebuild.Cache;
  /**
   * Build a multi-arch image for these platforms, e.g. `['linux/amd64', 'linux/arm64']`: the default buildspec runs
   * `docker buildx build --platform ... --push` with a BuildKit builder (`docker-container` driver) and pushes one
   * image index with a manifest per platform; `IMAGE_DIGEST` is the index's digest. QEMU emulators are registered
   * (`tonistiigi/binfmt`) for the platforms the build host does not run natively. The builder and emulator images
   * are pinned by digest and pulled from Docker Hub; the variables `BUILDKIT_IMAGE` and `BINFMT_IMAGE` (in
   * `environmentVariables`) replace them, e.g. with copies in ECR. A custom `buildSpec` receives them comma-separated
   * in `DOCKER_PLATFORMS`. Each is `linux/<architecture>[/<variant>]`.
   *
   * The Sign stage signs the index and every manifest it lists (see `signIndexChildren`), and the verify gate
   * requires them all to verify.
   * @default - one platform, the build host's, with `docker build`
   */
  readonly platforms?: string[];
}

/** Finding severities of Amazon ECR basic scanning. */
export enum ScanSeverity {
  /** Only critical findings block. */
  CRITICAL = 'CRITICAL',
  /** High and critical findings block. */
  HIGH = 'HIGH',
  /** Medium findings and above block. */
  MEDIUM = 'MEDIUM',
  /** Any finding from low up blocks. */
  LOW = 'LOW',
}

/** Blocks signing while the image's ECR scan has findings at or above a severity. */
export interface ScanGateOptions {
  /** The lowest severity that blocks signing. */
  readonly severity: ScanSeverity;
  /**
   * How long to wait for the scan to complete before failing: at most 470 minutes (the gate's build gets 10 minutes
   * more, and CodeBuild runs a build for 480 minutes at most).
   * @default Duration.minutes(10)
   */
  readonly maxWait?: Duration;
}

/** A manual approval before a release signature by a second signing profile. */
export interface ReleaseApprovalOptions {
  /** The profile that signs after the approval; the default trust policy then trusts only this profile. */
  readonly releaseSigningProfile: INotationSigningProfile;
  /**
   * Topic notified when an approval is waiting.
   * @default no notification
   */
  readonly notificationTopic?: sns.ITopic;
  /**
   * Shown to the approver: at most 1000 characters (CodePipeline's limit on a manual approval's `CustomData`).
   * @default a description of the image to approve
   */
  readonly additionalInformation?: string;
}

/** Signed build provenance (`SignedImagePipelineProps.provenance`). */
export interface ProvenanceOptions {
  /**
   * The source repository URL the provenance records and the gate requires, e.g. `https://gitlab.com/group/repo`.
   *
   * @default - `https://github.com/<owner>/<repo>` for a connection source, the HTTPS clone URL for CodeCommit, none
   * for S3 (the provenance then records no source)
   */
  readonly sourceRepositoryUrl?: string;

  /**
   * Whether the verify gates require the signed provenance: built by this pipeline, from the source repository and
   * branch.
   *
   * @default true
   */
  readonly requireAtGate?: boolean;
}

/** An SBOM of each image (`SignedImagePipelineProps.sbom`). */
export interface SbomOptions {
  /** The SBOM's format. */
  readonly format: SbomFormat;

  /**
   * The syft version the Build stage runs (github.com/anchore/syft releases), e.g. `1.16.0`.
   */
  readonly syftVersion: string;

  /**
   * The SHA-256 of `syft_<syftVersion>_linux_amd64.tar.gz`, as the release's `syft_<syftVersion>_checksums.txt`
   * lists it: the build refuses any other archive.
   */
  readonly syftSha256: string;

  /**
   * Whether the verify gates require the signed SBOM.
   *
   * @default true
   */
  readonly requireAtGate?: boolean;
}

export interface SignedImagePipelineProps {
  /** Where the code comes from. */
  readonly source: PipelineSource;
  /**
   * The ECR repository to push to.
   * @default a new repository with scan on push, KMS encryption, immutable tags and a lifecycle rule that keeps the
   * last 100 builds (signatures are removed by ECR together with their image, never on their own)
   */
  readonly repository?: ecr.IRepository;
  /**
   * How the image is built.
   * @default docker build of ./Dockerfile
   */
  readonly imageBuild?: ImageBuildOptions;
  /**
   * Block signing when ECR scan findings reach a severity (needs scan on push or enhanced scanning).
   * @default no scan gate
   */
  readonly scanGate?: ScanGateOptions;
  /**
   * Signing profiles that sign each build, in turn (several teams may sign).
   * @default one profile created by the pipeline
   */
  readonly signingProfiles?: INotationSigningProfile[];
  /**
   * For an image index (a multi-arch build, `imageBuild.platforms`): whether each Sign action signs the index together
   * with every manifest it lists, each with its own signature. The verify gate requires every manifest of an index to
   * verify, so without these signatures an index does not pass it; turn this off only with a trust policy or verifier
   * of your own that checks the index alone.
   * @default true
   */
  readonly signIndexChildren?: boolean;
  /**
   * A manual approval before a release signature.
   * @default none
   */
  readonly approval?: ReleaseApprovalOptions;
  /**
   * Where the Deploy stage deploys.
   * @default DeployTarget.none()
   */
  readonly deploy?: DeployTarget;
  /**
   * The trust policy of the verify gates.
   * @default strict, trusting the signing profiles (only the release profile when `approval` is set), scoped to the
   * repository, and published as a stack output
   */
  readonly trustPolicy?: TrustPolicy;
  /**
   * Topic notified when the Deploy or Verify stage fails (a verification failed or the running image differs).
   * @default none
   */
  readonly failureNotificationTopic?: sns.ITopic;
  /**
   * The pipeline's name.
   * @default a generated name
   */
  readonly pipelineName?: string;
  /**
   * Removal policy of the artifacts bucket, its access-log bucket, its key, the log groups, a created repository and
   * a created signing profile. Destroying the profile cancels it in AWS Signer: it signs no more, the signatures it
   * made still verify, and its name (generated by CloudFormation) is not reused.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * A VPC for the pipeline's CodeBuild projects (build, scan gate) and its sign and verify functions, e.g. where the
   * account allows no build or function outside a VPC. The subnets need a route to ECR, AWS Signer, CodePipeline,
   * CloudWatch Logs, S3 and the source (a NAT gateway or VPC endpoints); the build also pulls its base images.
   * @default - none: the projects and functions run in AWS-managed networks
   */
  readonly network?: PipelineNetworkOptions;

  /**
   * Attach a signed SLSA Provenance v1 attestation to each image in the Sign stage, assembled from what CodeBuild and
   * CodePipeline report (builder: this pipeline's ARN; the build; the source commit and branch), and require it at
   * the verify gates. Pass `{}` to turn it on with the defaults.
   *
   * @default - no provenance attestation (the signed payload still carries the build's annotations)
   */
  readonly provenance?: ProvenanceOptions;

  /**
   * Generate an SBOM of each image in the Build stage (syft, pinned and checksum-verified), attach it in the Sign
   * stage, signed, and require it at the verify gates. A custom `imageBuild.buildSpec` must write it as `sbom.json`
   * into its artifact.
   *
   * @default - no SBOM
   */
  readonly sbom?: SbomOptions;
}

/** Where the pipeline's CodeBuild projects and functions run (`SignedImagePipelineProps.network`). */
export interface PipelineNetworkOptions {
  /** The VPC. */
  readonly vpc: ec2.IVpc;
  /**
   * The subnets the projects and functions run in.
   * @default - the VPC's private subnets
   */
  readonly subnetSelection?: ec2.SubnetSelection;
  /**
   * Their security groups (outbound HTTPS is all they need).
   * @default - a security group per project and function, allowing all outbound traffic
   */
  readonly securityGroups?: ec2.ISecurityGroup[];
}

/**
 * A CodePipeline (V2) in which only signed images reach production: Source, Build (push, export the digest), Sign
 * (AWS Signer, per profile), Deploy (a verify gate, then ECS, EKS or your actions, by digest) and Verify (what runs is
 * what was signed).
 */
export class SignedImagePipeline extends Construct {
  /** The CodePipeline (V2). */
  public readonly pipeline: codepipeline.Pipeline;
  /** The repository the build pushes to and the signatures are stored in (given or created). */
  public readonly repository: ecr.IRepository;
  /** The profiles that sign each build in the Sign stage, in order (given or created). */
  public readonly signingProfiles: INotationSigningProfile[];
  /** The sign function of the Sign stage. */
  public readonly signer: ImageSigner;
  /** The verify function of the Deploy gate and the Verify stage. */
  public readonly verifier: ImageVerifier;
  /** The Deploy stage's verify gate: its output artifact and variables carry the verified image to every later action. */
  public readonly verifyGate: actions.LambdaInvokeAction;
  /** The trust policy the verifier applies (given or derived from the profiles and the repository). */
  public readonly trustPolicy: TrustPolicy;
  /** The CodeBuild project that builds and pushes the image. */
  public readonly buildProject: codebuild.PipelineProject;
  /** The pipeline's artifacts bucket (KMS-encrypted, versioned, access-logged). */
  public readonly artifactsBucket: s3.Bucket;
  /** The KMS key (with rotation) that encrypts the artifacts. */
  public readonly artifactsKey: kms.Key;

  private readonly removalPolicy: RemovalPolicy;
  private readonly network?: PipelineNetworkOptions;

  constructor(scope: Construct, id: string, props: SignedImagePipelineProps) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    this.removalPolicy = removalPolicy;
    this.network = props.network;
    const deploy = props.deploy ?? DeployTarget.none();
    const approvalText = props.approval?.additionalInformation;
    if (approvalText !== undefined && !Token.isUnresolved(approvalText) && approvalText.length > MAX_APPROVAL_TEXT) {
      throw validationError(
        'ApprovalTextTooLong',
        `SignedImagePipeline: approval.additionalInformation is ${approvalText.length} characters; CodePipeline shows at most ${MAX_APPROVAL_TEXT}`,
        this,
      );
    }
    if (props.signingProfiles && props.signingProfiles.length === 0) {
      throw validationError('SigningProfilesEmpty', 'SignedImagePipeline: signingProfiles must not be empty (omit it to create one profile)', this);
    }

    this.repository = props.repository ?? this.createRepository(removalPolicy);
    this.signingProfiles = props.signingProfiles ?? [new NotationSigningProfile(this, 'SigningProfile', { removalPolicy })];
    const allProfiles = props.approval ? [...this.signingProfiles, props.approval.releaseSigningProfile] : this.signingProfiles;
    this.trustPolicy = props.trustPolicy ?? new TrustPolicy(this, 'TrustPolicy', {
      signingProfiles: props.approval ? [props.approval.releaseSigningProfile] : this.signingProfiles,
      repositories: [this.repository],
      level: VerificationLevel.STRICT,
      // Security teams verify deployed images from a laptop with the policy the gates use.
      emitOutput: true,
    });

    const { bucket, key } = this.createArtifactsBucket(removalPolicy);
    this.artifactsBucket = bucket;
    this.artifactsKey = key;
    this.pipeline = new codepipeline.Pipeline(this, 'Pipeline', {
      pipelineName: props.pipelineName,
      pipelineType: codepipeline.PipelineType.V2,
      artifactBucket: bucket,
      crossAccountKeys: false,
      restartExecutionOnUpdate: false,
    });

    // Artifact names differ from the variable namespaces (Source, Build, DeployGate): CodePipeline requires it.
    const sourceOutput = new codepipeline.Artifact('SourceCode');
    const buildOutput = new codepipeline.Artifact('BuildOutput');
    const verifiedImageDefinitions = new codepipeline.Artifact('VerifiedImageDefinitions');
    const context: DeployTargetBindContext = {
      repository: this.repository,
      verifiedImageDefinitions,
      imageUri: VERIFIED_IMAGE_URI,
      imageRepositoryUri: `#{${VERIFY_GATE_NAMESPACE}.IMAGE_URI}`,
      imageDigest: `#{${VERIFY_GATE_NAMESPACE}.IMAGE_DIGEST}`,
      verifiedDigests: `#{${VERIFY_GATE_NAMESPACE}.VERIFIED_DIGESTS}`,
      runOrder: 2,
      removalPolicy,
      trustPolicy: this.trustPolicy,
    };
    const target = deploy.bind(this, context);
    const containerName = target.containerName ?? 'app';

    // Source
    this.pipeline.addStage({ stageName: 'Source', actions: [props.source.action(sourceOutput)] });

    // Build
    const build = this.createBuildProject(props.imageBuild ?? {}, containerName, props.sbom);
    this.buildProject = build.project;
    const buildActions: codepipeline.IAction[] = [
      new actions.CodeBuildAction({
        actionName: 'BuildAndPush',
        project: this.buildProject,
        input: sourceOutput,
        outputs: [buildOutput],
        variablesNamespace: 'Build',
        runOrder: 1,
        environmentVariables: Object.keys(build.actionVariables).length > 0 ? build.actionVariables : undefined,
      }),
    ];
    if (props.scanGate && props.imageBuild?.platforms) {
      // ECR scans the platform images of an index, not the index (ECR Public's premium scanning documentation: "If a tag
      // points to a multi-architecture image, ... specify the digest of a platform" image), and the gate reads the
      // findings of IMAGE_DIGEST, the index's.
      throw validationError('ScanGateWithPlatforms', 'SignedImagePipeline: scanGate cannot be combined with imageBuild.platforms: ECR reports scan findings for each platform image, not for the image index the build pushes', this);
    }
    if (props.scanGate) buildActions.push(this.scanGateAction(props.scanGate, sourceOutput));
    this.pipeline.addStage({ stageName: 'Build', actions: buildActions });

    // Sign
    this.signer = new ImageSigner(this, 'Signer', {
      signingProfiles: allProfiles,
      repositories: [this.repository],
      provenanceProject: this.buildProject,
      logRemovalPolicy: removalPolicy,
      ...this.functionNetwork,
      signIndexChildren: props.signIndexChildren,
    });
    const provenance = {
      buildId: '#{Build.CODEBUILD_BUILD_ARN}',
      sourceRevision: '#{Build.SOURCE_REVISION}',
      pipelineExecutionId: '#{codepipeline.PipelineExecutionId}',
    };
    // The attestations are signed by the last signature's profile: the release profile with an approval (the only one
    // the default trust policy then trusts), else the last signing profile.
    const source = props.source._provenanceSource;
    const sourceRepository = props.provenance?.sourceRepositoryUrl ?? source?.repositoryUrl;
    const attestations = {
      ...(props.provenance
        ? {
          attachProvenance: true,
          sourceRepository,
          ...(source?.git && sourceRepository !== undefined ? { sourceBranch: '#{Source.BranchName}', sourceCommit: '#{Source.CommitId}' } : {}),
        }
        : {}),
      ...(props.sbom ? { sbom: { format: props.sbom.format, input: buildOutput } } : {}),
    };
    const signActions: codepipeline.IAction[] = this.signingProfiles.map((profile, index) =>
      this.signer.pipelineAction({
        actionName: this.signingProfiles.length === 1 ? 'Sign' : `Sign${index + 1}`,
        imageUri: PIPELINE_IMAGE_URI,
        variablesNamespace: this.signingProfiles.length === 1 ? 'Sign' : `Sign${index + 1}`,
        runOrder: index + 1,
        ...provenance,
        ...(!props.approval && index === this.signingProfiles.length - 1 ? attestations : {}),
        signingProfile: profile,
      }),
    );
    if (props.approval) {
      const releaseOrder = this.signingProfiles.length + 2;
      signActions.push(
        new actions.ManualApprovalAction({
          actionName: 'ApproveRelease',
          runOrder: releaseOrder - 1,
          notificationTopic: props.approval.notificationTopic,
          additionalInformation: props.approval.additionalInformation ?? `Approve the release signature of ${PIPELINE_IMAGE_URI}`,
        }),
        this.signer.pipelineAction({
          actionName: 'SignRelease',
          imageUri: PIPELINE_IMAGE_URI,
          variablesNamespace: 'SignRelease',
          runOrder: releaseOrder,
          ...provenance,
          ...attestations,
          signingProfile: props.approval.releaseSigningProfile,
        }),
      );
    }
    if (signActions.length > MAX_ACTIONS_PER_STAGE) {
      throw validationError(
        'SignStageTooManyActions',
        `SignedImagePipeline: signingProfiles: ${this.signingProfiles.length} signing profiles${props.approval ? ' with approval (2 more actions)' : ''} ` +
          `make ${signActions.length} actions in the Sign stage, more than CodePipeline's ${MAX_ACTIONS_PER_STAGE} actions per stage`,
        this,
      );
    }
    this.pipeline.addStage({ stageName: 'Sign', actions: signActions });

    // Deploy: the exact digest must verify before anything deploys it. The gate hands on the image definitions it
    // checked and the digest it verified; nothing after it reads the Build's.
    const requiredAttestations: AttestationRequirements = {
      ...(props.provenance && props.provenance.requireAtGate !== false
        ? {
          provenance: {
            builderIsPipeline: true,
            ...(sourceRepository !== undefined ? { sourceRepository } : {}),
            ...(source?.git && sourceRepository !== undefined ? { sourceBranch: source.branch } : {}),
          },
        }
        : {}),
      ...(props.sbom && props.sbom.requireAtGate !== false ? { sbom: props.sbom.format } : {}),
    };
    this.verifier = new ImageVerifier(this, 'Verifier', {
      requiredAttestations,
      trustPolicy: this.trustPolicy,
      repositories: [this.repository],
      logRemovalPolicy: removalPolicy,
      ...this.functionNetwork,
    });
    this.verifyGate = this.verifier.pipelineAction({
      actionName: 'VerifyBeforeDeploy',
      imageUri: PIPELINE_IMAGE_URI,
      variablesNamespace: VERIFY_GATE_NAMESPACE,
      runOrder: 1,
      imageDefinitions: { input: buildOutput, output: verifiedImageDefinitions, containerName },
    });
    // Verify: a second verification after the deployment catches a signature revoked in the meantime.
    const verifyActions: codepipeline.IAction[] = [
      this.verifier.pipelineAction({ actionName: 'VerifySignature', imageUri: VERIFIED_IMAGE_URI, variablesNamespace: 'Verify', runOrder: 1 }),
    ];
    for (const [stageName, stageActions] of [['Deploy', target.deployActions], ['Verify', target.verifyActions ?? []]] as const) {
      for (const action of stageActions) {
        const { actionName, runOrder = 1 } = action.actionProperties;
        if (runOrder < context.runOrder) {
          throw validationError(
            'DeployActionRunOrder',
            `SignedImagePipeline: deploy target action "${actionName}" in the ${stageName} stage has runOrder ${runOrder}; ` +
            `use ${context.runOrder} or more so it runs after the ${stageName === 'Deploy' ? 'verify gate' : 'signature check'}`,
            this,
          );
        }
      }
    }
    const deployStage = [this.verifyGate, ...target.deployActions];
    const verifyStage = [...verifyActions, ...(target.verifyActions ?? [])];
    for (const [stageName, stageActions] of [['Deploy', deployStage], ['Verify', verifyStage]] as const) {
      if (stageActions.length > MAX_ACTIONS_PER_STAGE) {
        throw validationError(
          'DeployTargetTooManyActions',
          `SignedImagePipeline: deploy: the deploy target's actions make ${stageActions.length} actions in the ${stageName} stage, ` +
            `more than CodePipeline's ${MAX_ACTIONS_PER_STAGE} actions per stage`,
          this,
        );
      }
    }
    this.pipeline.addStage({ stageName: 'Deploy', actions: deployStage });
    this.pipeline.addStage({ stageName: 'Verify', actions: verifyStage });

    if (props.failureNotificationTopic) {
      this.pipeline.onEvent('DeployOrVerifyFailed', {
        description: 'A verify gate or the post-deploy check failed',
        eventPattern: {
          detailType: ['CodePipeline Stage Execution State Change'],
          detail: { state: ['FAILED'], stage: ['Deploy', 'Verify'] },
        },
        target: new targets.SnsTopic(props.failureNotificationTopic, {
          message: events.RuleTargetInput.fromText(
            `Pipeline ${events.EventField.fromPath('$.detail.pipeline')} stage ${events.EventField.fromPath('$.detail.stage')} failed ` +
            `(execution ${events.EventField.fromPath('$.detail.execution-id')}): an image did not verify or the running image is not the signed one.`,
          ),
        }),
      });
    }
    acknowledgeWildcardGrants(this, pipelineWildcardGrants({
      artifactsBucket: bucket,
      artifactsKey: key,
      sourceBucket: props.source._sourceBucket,
      functions: this.node.findAll().filter((child): child is lambda.Function => child instanceof lambda.Function),
      projects: this.node.findAll().filter((child): child is codebuild.Project => child instanceof codebuild.Project),
    }));
  }

  private createRepository(removalPolicy: RemovalPolicy): ecr.Repository {
    return new ecr.Repository(this, 'Repository', {
      imageScanOnPush: true,
      encryption: ecr.RepositoryEncryption.KMS,
      imageTagMutability: ecr.TagMutability.IMMUTABLE,
      removalPolicy,
      emptyOnDelete: removalPolicy === RemovalPolicy.DESTROY,
      // Only tagged builds expire; signatures are untagged manifests that ECR deletes with their image.
      lifecycleRules: [{ description: 'Keep the last 100 builds', tagPrefixList: ['build-'], maxImageCount: 100 }],
    });
  }

  private createArtifactsBucket(removalPolicy: RemovalPolicy): { bucket: s3.Bucket; key: kms.Key } {
    const key = new kms.Key(this, 'ArtifactsKey', {
      description: 'Encrypts the signed image pipeline artifacts',
      enableKeyRotation: true,
      removalPolicy,
    });
    const accessLogs = new s3.Bucket(this, 'ArtifactsAccessLogs', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      removalPolicy,
      autoDeleteObjects: false,
      lifecycleRules: [{ expiration: Duration.days(365) }],
    });
    acknowledge(accessLogs, [{ id: 'AwsSolutions-S1', reason: 'This bucket receives the artifacts bucket access logs; logging it would log its own log writes.' }]);
    const bucket = new s3.Bucket(this, 'Artifacts', {
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: key,
      bucketKeyEnabled: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      versioned: true,
      serverAccessLogsBucket: accessLogs,
      serverAccessLogsPrefix: 'artifacts/',
      removalPolicy,
      lifecycleRules: [{ noncurrentVersionExpiration: Duration.days(90) }],
    });
    return { bucket, key };
  }

  private createBuildProject(options: ImageBuildOptions, containerName: string, sbom?: SbomOptions): BuildProject {
    const buildArgNames = Object.keys(options.buildArgs ?? {});
    for (const name of buildArgNames) {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
        throw validationError('BuildArgNameInvalid', `SignedImagePipeline: imageBuild.buildArgs: build argument name "${name}" is not valid (letters, digits and "_")`, this);
      }
    }
    const pipelineSet: { [name: string]: codebuild.BuildEnvironmentVariable } = {
      REPOSITORY_URI: { value: this.repository.repositoryUri },
      DOCKERFILE: { value: options.dockerfile ?? 'Dockerfile' },
      DOCKER_CONTEXT: { value: options.context ?? '.' },
      DOCKER_BUILD_ARG_NAMES: { value: buildArgNames.join(' ') },
      CONTAINER_NAME: { value: containerName },
    };
    if (options.platforms) pipelineSet.DOCKER_PLATFORMS = { value: checkPlatforms(options.platforms, this) };
    if (sbom) {
      if (!Token.isUnresolved(sbom.syftVersion) && !/^\d+\.\d+\.\d+$/.test(sbom.syftVersion)) {
        throw validationError('SbomSyftVersionInvalid', `SignedImagePipeline: sbom.syftVersion "${sbom.syftVersion}" is not a release version such as 1.16.0`, this);
      }
      if (!Token.isUnresolved(sbom.syftSha256) && !/^[0-9a-f]{64}$/.test(sbom.syftSha256)) {
        throw validationError('SbomSyftSha256Invalid', 'SignedImagePipeline: sbom.syftSha256 is not a SHA-256 (64 lowercase hex digits) from the release\'s checksums file', this);
      }
      pipelineSet.SYFT_VERSION = { value: sbom.syftVersion };
      pipelineSet.SYFT_SHA256 = { value: sbom.syftSha256 };
      pipelineSet.SBOM_FORMAT = { value: sbom.format };
    }
    // Replaceable through environmentVariables (a mirror of the builder images), so not among the names refused below.
    const builderImages: { [name: string]: codebuild.BuildEnvironmentVariable } = options.platforms
      ? { BUILDKIT_IMAGE: { value: DEFAULT_BUILDKIT_IMAGE }, BINFMT_IMAGE: { value: DEFAULT_BINFMT_IMAGE } }
      : {};
    for (const name of Object.keys(options.environmentVariables ?? {})) {
      const reserved = name in pipelineSet || name.startsWith('BUILD_ARG_') || IMAGE_BUILD_EXPORTS.includes(name) || name === 'IMAGE_TAG';
      if (reserved || name.startsWith('CODEBUILD_')) {
        throw validationError(
          'BuildEnvironmentVariableReserved',
          `SignedImagePipeline: imageBuild.environmentVariables: "${name}" is ${reserved ? 'set by the pipeline' : 'reserved by CodeBuild (CODEBUILD_ prefix)'}`,
          this,
        );
      }
    }
    const timeout = options.timeout ?? Duration.minutes(60);
    if (!timeout.isUnresolved() && (timeout.toMinutes({ integral: false }) < 5 || timeout.toMinutes({ integral: false }) > MAX_BUILD_MINUTES)) {
      throw validationError(
        'BuildTimeoutOutOfRange',
        `SignedImagePipeline: imageBuild.timeout ${timeout.toHumanString()} is outside CodeBuild's build timeout range (5 to ${MAX_BUILD_MINUTES} minutes)`,
        this,
      );
    }
    if (options.buildSpec) this.checkBuildSpecExports(options.buildSpec);

    // CodePipeline resolves variables (#{...}) only in the action's configuration, not in the project's.
    const projectVariables: { [name: string]: codebuild.BuildEnvironmentVariable } = {};
    const actionVariables: { [name: string]: codebuild.BuildEnvironmentVariable } = {};
    const place = (name: string, variable: codebuild.BuildEnvironmentVariable) => {
      const plain = (variable.type ?? codebuild.BuildEnvironmentVariableType.PLAINTEXT) === codebuild.BuildEnvironmentVariableType.PLAINTEXT;
      const hasPipelineVariable = typeof variable.value === 'string' && !Token.isUnresolved(variable.value) && variable.value.includes('#{');
      (plain && hasPipelineVariable ? actionVariables : projectVariables)[name] = variable;
    };
    for (const [name, value] of Object.entries(options.buildArgs ?? {})) place(`BUILD_ARG_${name}`, { value });
    for (const [name, variable] of Object.entries(options.environmentVariables ?? {})) place(name, variable);

    const project = new codebuild.PipelineProject(this, 'Build', {
      description: 'Builds the image, pushes it to ECR and exports the digest the registry returned',
      buildSpec: options.buildSpec ??
        codebuild.BuildSpec.fromObject(imageBuildSpec({ multiPlatform: options.platforms !== undefined, sbom: sbom !== undefined })),
      environment: {
        buildImage: options.buildImage ?? codebuild.LinuxBuildImage.STANDARD_7_0,
        computeType: options.computeType ?? codebuild.ComputeType.SMALL,
        privileged: true, // docker build
      },
      environmentVariables: { ...pipelineSet, ...builderImages, ...projectVariables },
      logging: { cloudWatch: { logGroup: this.logGroup('BuildLogs') } },
      timeout,
      cache: options.cache,
      ...this.projectNetwork,
    });
    this.repository.grantPullPush(project);
    if (this.network) acknowledgeProjectNetwork(project);
    return { project, actionVariables };
  }

  /**
   * A buildspec object must export the variables the later actions read: CodePipeline fails an action that reads a
   * variable the build did not export. A buildspec file in the source (`fromSourceFilename`) is read only at build time.
   */
  private checkBuildSpecExports(buildSpec: codebuild.BuildSpec): void {
    const spec = (buildSpec as unknown as { spec?: unknown }).spec;
    if (!buildSpec.isImmediate || typeof spec !== 'object' || spec === null) return;
    const exported = (spec as { env?: { 'exported-variables'?: unknown } }).env?.['exported-variables'];
    if (Token.isUnresolved(exported)) return;
    const names = Array.isArray(exported) ? exported : [];
    const missing = IMAGE_BUILD_EXPORTS.filter((name) => !names.includes(name));
    if (missing.length > 0) {
      throw validationError(
        'BuildSpecExportsMissing',
        `SignedImagePipeline: imageBuild.buildSpec does not export ${missing.join(', ')} (env.exported-variables): the Sign, scan gate ` +
          'and Deploy actions read #{Build.IMAGE_URI}, #{Build.IMAGE_DIGEST}, #{Build.SOURCE_REVISION} and #{Build.CODEBUILD_BUILD_ARN}',
        this,
      );
    }
  }

  private scanGateAction(options: ScanGateOptions, input: codepipeline.Artifact): codepipeline.IAction {
    const order = [ScanSeverity.CRITICAL, ScanSeverity.HIGH, ScanSeverity.MEDIUM, ScanSeverity.LOW];
    const blocking = order.slice(0, order.indexOf(options.severity) + 1);
    const maxWait = options.maxWait ?? Duration.minutes(10);
    if (!maxWait.isUnresolved() && maxWait.toMinutes({ integral: false }) > MAX_BUILD_MINUTES - 10) {
      throw validationError(
        'ScanGateMaxWaitTooLong',
        `SignedImagePipeline: scanGate.maxWait ${maxWait.toHumanString()} is longer than ${MAX_BUILD_MINUTES - 10} minutes: the scan gate's ` +
          `build runs for maxWait plus 10 minutes, and CodeBuild's maximum build timeout is ${MAX_BUILD_MINUTES} minutes`,
        this,
      );
    }
    const project = new codebuild.PipelineProject(this, 'ScanGate', {
      description: `Blocks signing while the image has ECR scan findings at or above ${options.severity}`,
      buildSpec: codebuild.BuildSpec.fromObject(scanGateBuildSpec()),
      environment: { buildImage: codebuild.LinuxBuildImage.STANDARD_7_0, computeType: codebuild.ComputeType.SMALL },
      environmentVariables: {
        REPOSITORY_NAME: { value: this.repository.repositoryName },
        BLOCKING_SEVERITIES: { value: blocking.join(' ') },
        SEVERITY_THRESHOLD: { value: options.severity },
        SCAN_WAIT_SECONDS: { value: String(maxWait.toSeconds()) },
      },
      logging: { cloudWatch: { logGroup: this.logGroup('ScanGateLogs') } },
      timeout: Duration.minutes(Math.ceil(maxWait.toMinutes({ integral: false })) + 10),
      ...this.projectNetwork,
    });
    if (this.network) acknowledgeProjectNetwork(project);
    project.addToRolePolicy(new iam.PolicyStatement({
      actions: ['ecr:DescribeImageScanFindings'],
      resources: [this.repository.repositoryArn],
    }));
    return new actions.CodeBuildAction({
      actionName: 'ScanGate',
      project,
      input,
      runOrder: 2,
      environmentVariables: { IMAGE_DIGEST: { value: '#{Build.IMAGE_DIGEST}' } },
    });
  }

  /** The network options of a CodeBuild project (none without `network`). */
  private get projectNetwork(): Pick<codebuild.PipelineProjectProps, 'vpc' | 'subnetSelection' | 'securityGroups'> {
    const network = this.network;
    return network ? { vpc: network.vpc, subnetSelection: network.subnetSelection, securityGroups: network.securityGroups } : {};
  }

  /** The network options of a sign or verify function (none without `network`). */
  private get functionNetwork(): Pick<HandlerFunctionOptions, 'vpc' | 'vpcSubnets' | 'securityGroups'> {
    const network = this.network;
    return network ? { vpc: network.vpc, vpcSubnets: network.subnetSelection, securityGroups: network.securityGroups } : {};
  }

  private logGroup(id: string): logs.LogGroup {
    return new logs.LogGroup(this, id, { retention: logs.RetentionDays.ONE_YEAR, removalPolicy: this.removalPolicy });
  }
}

/**
 * aws-cdk-lib gives a CodeBuild project in a VPC what CodeBuild's documentation asks for (aws-codebuild/lib/project.ts,
 * "Use CodeBuild with Amazon VPC"): the EC2 describe actions, which have no resource type, in a policy of its own,
 * and ec2:CreateNetworkInterfacePermission on the account's network interfaces, conditioned on CodeBuild and the
 * project's subnets.
 */
function acknowledgeProjectNetwork(project: codebuild.PipelineProject): void {
  const describe = project.node.tryFindChild('PolicyDocument');
  if (describe) {
    acknowledge(describe, [{
      id: 'AwsSolutions-IAM5',
      reason: 'CodeBuild in a VPC describes the VPC, its subnets, security groups, DHCP options and network interfaces; these EC2 actions have no resource type',
      appliesTo: ['Resource::*'],
    }]);
  }
  const defaultPolicy = project.role?.node.tryFindChild('DefaultPolicy');
  if (defaultPolicy) {
    acknowledge(defaultPolicy, [{
      id: 'AwsSolutions-IAM5',
      reason: 'CodeBuild attaches the build\'s network interfaces, which exist only once it creates them: ec2:CreateNetworkInterfacePermission on the ' +
        'account\'s network interfaces, conditioned on the CodeBuild service and the project\'s subnets',
      appliesTo: ['Resource::arn:<AWS::Partition>:ec2:<AWS::Region>:<AWS::AccountId>:network-interface/*'],
    }]);
  }
}
