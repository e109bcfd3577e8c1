import { Duration, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as actions from 'aws-cdk-lib/aws-codepipeline-actions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as eks from 'aws-cdk-lib/aws-eks';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { EcsSignatureEnforcement, EnforcementExemption, EnforcementMode } from '../ecs-signature-enforcement';
import { DEFAULT_KUBECTL_SHA256, DEFAULT_KUBECTL_VERSION, eksCheckBuildSpec, eksDeployBuildSpec } from '../private/buildspecs';
import { EcsDeployActionRole } from '../private/ecs-deploy-role';
import { unscopedValidationError, validationError } from '../private/errors';
import { createHandlerFunction } from '../private/handler-function';
import { acknowledgeWildcardGrants } from '../private/wildcard-grants';
import { TrustPolicy } from '../trust-policy';

/** What the pipeline gives a deploy target when it binds it: the verify gate's outputs, and where to create resources. */
export interface DeployTargetBindContext {
  /** The repository the pipeline pushes to and verifies in. */
  readonly repository: ecr.IRepository;
  /**
   * The verify gate's output artifact: the Build's `imagedefinitions.json`, checked to deploy exactly the verified
   * image to `containerName`. The input of an ECS deploy action.
   */
  readonly verifiedImageDefinitions: codepipeline.Artifact;
  /**
   * The verified image, `#{DeployGate.IMAGE_URI}@#{DeployGate.IMAGE_DIGEST}`: the repository pinned by the digest the
   * gate verified. An action that reads it can only run after the gate (CodePipeline enforces it).
   */
  readonly imageUri: string;
  /** The verified repository URI, `#{DeployGate.IMAGE_URI}`. */
  readonly imageRepositoryUri: string;
  /** The verified digest, `#{DeployGate.IMAGE_DIGEST}`. */
  readonly imageDigest: string;
  /**
   * The digests the gate verified, comma-separated, `#{DeployGate.VERIFIED_DIGESTS}`: `imageDigest` first, then, for
   * an image index, every manifest it lists. A running-image check accepts any of them (a runtime may report the
   * index or the platform manifest it pulled).
   * @default - `imageDigest` alone
   */
  readonly verifiedDigests?: string;
  /** The run order of the target's first action in the Deploy stage (after the gate) and in the Verify stage. */
  readonly runOrder: number;
  /** The pipeline's removal policy, for the log groups and other resources the target creates. */
  readonly removalPolicy: RemovalPolicy;
  /**
   * The trust policy of the pipeline's verify gate, for a target that verifies outside the pipeline as well (the ECS
   * target's `enforcement`).
   *
   * @default - none: a target bound outside a SignedImagePipeline
   */
  readonly trustPolicy?: TrustPolicy;
}

/** A bound deploy target's actions. */
export interface DeployTargetConfig {
  /** The Deploy stage's actions after the verify gate; each with a run order of at least the context's `runOrder`. */
  readonly deployActions: codepipeline.IAction[];
  /**
   * The Verify stage's actions after its signature check, e.g. a check that what runs is the verified digest.
   * @default - none
   */
  readonly verifyActions?: codepipeline.IAction[];
  /**
   * The container the Build's `imagedefinitions.json` names; the gate refuses a file that names any other.
   * @default 'app'
   */
  readonly containerName?: string;
}

/**
 * Where the Deploy stage deploys the verified image, always by digest. Use `DeployTarget.ecs()`, `eks()`,
 * `custom()` or `none()`, or extend this class and implement `bind` for a target of your own: read the image from
 * the context's variables (`#{DeployGate.IMAGE_URI}@#{DeployGate.IMAGE_DIGEST}`), never from the Build's.
 */
export abstract class DeployTarget {
  /** An ECS service, with the standard ECS deploy action and a post-deploy check of the running tasks' digests. */
  public static ecs(options: EcsDeployTargetOptions): EcsDeployTarget {
    return new EcsDeployTarget(options);
  }

  /** An EKS Deployment, updated with kubectl (`set image … @sha256:…`) from CodeBuild, and its pods checked afterwards. */
  public static eks(options: EksDeployTargetOptions): EksDeployTarget {
    return new EksDeployTarget(options);
  }

  /** Actions of your own, after the verify gate. */
  public static custom(options: CustomDeployTargetOptions): CustomDeployTarget {
    return new CustomDeployTarget(options);
  }

  /** No deployment: the Deploy stage only runs the verify gate (e.g. images consumed elsewhere). */
  public static none(): DeployTarget {
    return new NoDeployTarget();
  }

  /** Creates the target's resources in `scope` and returns its actions. Called once, by the pipeline. */
  public abstract bind(scope: Construct, context: DeployTargetBindContext): DeployTargetConfig;
}

/** An ECS service to deploy the signed image to. */
export interface EcsDeployTargetOptions {
  /**
   * The service (Fargate or EC2), in the pipeline's account and region; its task definition must have a container
   * named `containerName`.
   *
   * The deploy action's role may describe and update this service, register (and tag while registering) revisions of
   * its task definition's family, and pass its task and execution roles to `ecs-tasks.amazonaws.com`. A service
   * imported without its task definition (`fromServiceArnWithCluster`, `fromFargateServiceAttributes`) leaves the
   * family and roles unknown: the role may then register any task definition in the service's account and region and
   * pass any role of that account, still only to `ecs-tasks.amazonaws.com`.
   */
  readonly service: ecs.IBaseService;
  /** The container whose image the pipeline replaces (written to `imagedefinitions.json`). */
  readonly containerName: string;
  /**
   * Puts the service under an `EcsSignatureEnforcement` with the pipeline's trust policy: every deployment of the
   * service, whoever starts it (the pipeline, `cdk deploy`, the console), is verified by a `PRE_SCALE_UP` lifecycle
   * hook before its tasks start, and every task of its cluster by the task state rule. ENFORCE rolls back and stops,
   * AUDIT reports.
   *
   * The service must be defined in the pipeline's stack (the hook is added to it). An imported service cannot take a
   * hook: give its cluster to an `EcsSignatureEnforcement` of your own (`clusters`), which then checks its tasks once
   * they run. Every image of the service's task definition must verify under the pipeline's trust policy or be
   * exempt (`enforcementExemptions`), the placeholder image it is created with included.
   *
   * @default - no enforcement outside the pipeline
   */
  readonly enforcement?: EnforcementMode;
  /**
   * Images of the service that run unverified under `enforcement`, each with its reason: the placeholder image the
   * service is created with before the pipeline's first deployment (pin it by digest), AWS-managed sidecars.
   *
   * @default - none
   */
  readonly enforcementExemptions?: EnforcementExemption[];
}

/**
 * An ECS service: the standard ECS deploy action deploys the gate's `imagedefinitions.json`, and a Lambda function
 * checks in the Verify stage that every running task of the service runs the verified digest.
 */
export class EcsDeployTarget extends DeployTarget {
  private checkFunction?: lambda.Function;
  private enforcementConstruct?: EcsSignatureEnforcement;

  constructor(public readonly options: EcsDeployTargetOptions) {
    super();
    if (!options.containerName) throw unscopedValidationError('EcsContainerNameEmpty', 'DeployTarget.ecs: containerName must not be empty');
    if (options.enforcementExemptions && options.enforcement === undefined) {
      throw unscopedValidationError('EcsExemptionsWithoutEnforcement', 'DeployTarget.ecs: enforcementExemptions apply to enforcement; set enforcement (ENFORCE or AUDIT) or drop them');
    }
  }

  /**
   * The service's `EcsSignatureEnforcement` (after `bind`, with `enforcement`), e.g. to enforce more clusters or let it
   * read more repositories.
   */
  public get signatureEnforcement(): EcsSignatureEnforcement | undefined {
    return this.enforcementConstruct;
  }

  /** The function that checks the running tasks' digests (after `bind`). */
  public get deployCheckFunction(): lambda.Function {
    if (!this.checkFunction) throw unscopedValidationError('EcsTargetNotBound', 'EcsDeployTarget: deployCheckFunction exists once the pipeline has bound the target');
    return this.checkFunction;
  }

  public bind(scope: Construct, context: DeployTargetBindContext): DeployTargetConfig {
    if (this.checkFunction) throw validationError('EcsTargetBoundTwice', 'EcsDeployTarget: a target deploys for one pipeline; create one per pipeline', scope);
    const { service, containerName } = this.options;
    const stack = Stack.of(scope);
    for (const [field, own, services] of [['account', stack.account, service.env.account], ['region', stack.region, service.env.region]] as const) {
      if (Token.isUnresolved(own) && !Token.isUnresolved(services)) {
        // aws-cdk-lib's pipeline would refuse the action as cross-environment ("must have an explicitly set region").
        throw validationError(
          'EcsServiceStackEnvMissing',
          `DeployTarget.ecs: the service is in ${field} ${services} and the pipeline's stack has no ${field}: give the stack ` +
            'env: { account, region } (the ECS target deploys to services of the pipeline\'s account and region)',
          scope,
        );
      }
      if (!Token.isUnresolved(own) && !Token.isUnresolved(services) && own !== services) {
        // The deploy action's role and the check function live in the pipeline's account and region.
        throw validationError(
          'EcsServiceElsewhere',
          `DeployTarget.ecs: the service is in ${field} ${services}, the pipeline in ${field} ${own}; the ECS target deploys to services of the pipeline's account and region`,
          scope,
        );
      }
    }
    this.checkFunction = createDeployCheckFunction(scope, service, context.removalPolicy);
    if (this.options.enforcement !== undefined) this.enforcementConstruct = enforceService(scope, this.options, context);
    return {
      containerName,
      deployActions: [new actions.EcsDeployAction({
        actionName: 'DeployToEcs',
        service,
        input: context.verifiedImageDefinitions,
        runOrder: context.runOrder,
        role: new EcsDeployActionRole(scope, 'EcsDeployRole', service),
      })],
      verifyActions: [new actions.LambdaInvokeAction({
        actionName: 'CheckRunningImage',
        lambda: this.checkFunction,
        runOrder: context.runOrder,
        userParameters: {
          imageUri: context.imageUri,
          cluster: service.cluster.clusterArn,
          service: service.serviceName,
          containerName,
          ...(context.verifiedDigests ? { verifiedDigests: context.verifiedDigests } : {}),
        },
      })],
    };
  }
}

/** The service's lifecycle hook and its cluster's task rule, with the pipeline's trust policy. */
function enforceService(scope: Construct, options: EcsDeployTargetOptions, context: DeployTargetBindContext): EcsSignatureEnforcement {
  const service = options.service;
  if (!(service instanceof ecs.BaseService)) {
    throw validationError(
      'EcsEnforcementImportedService',
      'DeployTarget.ecs: enforcement adds a lifecycle hook to the service, and an imported service cannot take one; ' +
      'give its cluster to an EcsSignatureEnforcement (clusters) to check its tasks once they run',
      scope,
    );
  }
  if (Stack.of(service) !== Stack.of(scope)) {
    // The service would name the hook (in the pipeline's stack) while the pipeline names the service: a cycle of stacks.
    throw validationError(
      'EcsEnforcementOtherStack',
      `DeployTarget.ecs: enforcement needs the service in the pipeline's stack (${Stack.of(scope).stackName}); it is in ${Stack.of(service).stackName}. ` +
      'Create an EcsSignatureEnforcement in the service\'s stack with the pipeline\'s trust policy instead',
      scope,
    );
  }
  if (!context.trustPolicy) {
    throw validationError('EcsEnforcementNoTrustPolicy', 'DeployTarget.ecs: enforcement needs the trust policy of the pipeline that binds the target', scope);
  }
  return new EcsSignatureEnforcement(scope, 'EcsEnforcement', {
    trustPolicy: context.trustPolicy,
    services: [service],
    mode: options.enforcement,
    exemptions: options.enforcementExemptions,
    logRemovalPolicy: context.removalPolicy,
  });
}

function createDeployCheckFunction(scope: Construct, service: ecs.IBaseService, logRemovalPolicy: RemovalPolicy): lambda.Function {
  const { function: fn, role } = createHandlerFunction(new Construct(scope, 'DeployCheck'), {
    assetName: 'deploy-check-handler',
    description: 'the check that every running task of the ECS service runs the signed image digest',
    environment: {},
    options: { memorySize: 256, timeout: Duration.minutes(1), logRemovalPolicy },
  });
  const stack = Stack.of(scope);
  const clusterName = service.cluster.clusterName;
  role.addToPolicy(new iam.PolicyStatement({
    actions: ['ecs:ListTasks'],
    resources: [stack.formatArn({ service: 'ecs', resource: 'container-instance', resourceName: `${clusterName}/*` })],
    conditions: { ArnEquals: { 'ecs:cluster': service.cluster.clusterArn } },
  }));
  role.addToPolicy(new iam.PolicyStatement({
    actions: ['ecs:DescribeTasks'],
    resources: [stack.formatArn({ service: 'ecs', resource: 'task', resourceName: `${clusterName}/*` })],
  }));
  acknowledgeWildcardGrants(role, [{
    reason:
      'The deploy check reads the service\'s tasks, whose ARNs are known only at run time: ecs:DescribeTasks on this cluster\'s tasks ' +
      '(task/<cluster>/*), ecs:ListTasks on its container instances (container-instance/<cluster>/*) with the ecs:cluster condition.',
    matches: (statement, flatten) => {
      const cluster = flatten(clusterName);
      return statement.actions.every((a) => a === 'ecs:DescribeTasks' || a === 'ecs:ListTasks') &&
        statement.resources.every((r) => r.endsWith(`:task/${cluster}/*`) || r.endsWith(`:container-instance/${cluster}/*`));
    },
  }]);
  return fn;
}

/** An EKS deployment to deploy the signed image to. */
export interface EksDeployTargetOptions {
  /** The cluster; the deploy and check builds run `aws eks update-kubeconfig` for it. */
  readonly cluster: eks.ICluster;
  /**
   * @default 'default'
   */
  readonly namespace?: string;
  /** The Deployment whose container image the pipeline sets, by digest. */
  readonly deployment: string;
  /** The container in the Deployment's pod template. */
  readonly container: string;
  /**
   * kubectl version installed in the deploy and check builds (from dl.k8s.io). The builds fail when the cluster's
   * version is outside kubectl's supported skew (one minor version either way). Give `kubectlSha256` with it.
   * @default '1.35.7' (its SHA-256 is pinned)
   */
  readonly kubectlVersion?: string;
  /**
   * The SHA-256 of the linux/amd64 kubectl binary of `kubectlVersion`, as published in
   * `https://dl.k8s.io/release/v<version>/bin/linux/amd64/kubectl.sha256`; the builds refuse any other binary.
   * @default - the pinned checksum of the default version; required when `kubectlVersion` is set
   */
  readonly kubectlSha256?: string;
  /**
   * The VPC the deploy and check builds run in, for a cluster whose API endpoint is private. Its subnets need a
   * route to dl.k8s.io and the EKS API, and the cluster's security group must allow HTTPS from the builds.
   * @default - no VPC (the cluster's public endpoint)
   */
  readonly vpc?: ec2.IVpc;
  /**
   * The subnets of `vpc` the builds run in.
   * @default - the VPC's private subnets
   */
  readonly subnetSelection?: ec2.SubnetSelection;
  /**
   * The security groups of the builds in `vpc`.
   * @default - a security group is created
   */
  readonly securityGroups?: ec2.ISecurityGroup[];
}

/**
 * An EKS Deployment: a CodeBuild project sets the container's image to the verified digest with kubectl and waits
 * for the rollout; another checks in the Verify stage that every pod of the Deployment runs that digest. Give both
 * projects' roles access to the cluster (an EKS access entry or an aws-auth mapping) allowing `set image` on the
 * Deployment and reading it and its pods.
 */
export class EksDeployTarget extends DeployTarget {
  private bound?: { deploy: codebuild.PipelineProject; check: codebuild.PipelineProject };

  constructor(public readonly options: EksDeployTargetOptions) {
    super();
    for (const field of ['deployment', 'container'] as const) {
      if (!options[field]) throw unscopedValidationError('EksTargetFieldEmpty', `DeployTarget.eks: ${field} must not be empty`);
    }
    const { kubectlVersion, kubectlSha256 } = options;
    if (kubectlVersion !== undefined && !Token.isUnresolved(kubectlVersion) && !/^\d+\.\d+\.\d+$/.test(kubectlVersion)) {
      throw unscopedValidationError('KubectlVersionInvalid', `DeployTarget.eks: kubectlVersion "${kubectlVersion}" must be a release version such as "1.35.7"`);
    }
    if (kubectlSha256 !== undefined && !Token.isUnresolved(kubectlSha256) && !/^[0-9a-f]{64}$/.test(kubectlSha256)) {
      throw unscopedValidationError('KubectlSha256Invalid', `DeployTarget.eks: kubectlSha256 "${kubectlSha256}" must be 64 lower-case hexadecimal digits`);
    }
    if ((kubectlVersion === undefined) !== (kubectlSha256 === undefined)) {
      throw unscopedValidationError('KubectlVersionWithoutSha256', `DeployTarget.eks: give kubectlVersion and kubectlSha256 together (the checksum of that version's linux/amd64 kubectl from dl.k8s.io), or neither for kubectl ${DEFAULT_KUBECTL_VERSION}`);
    }
    if (options.vpc === undefined && (options.subnetSelection !== undefined || options.securityGroups !== undefined)) {
      throw unscopedValidationError('EksNetworkWithoutVpc', 'DeployTarget.eks: subnetSelection and securityGroups need vpc');
    }
  }

  /** The project that sets the image and waits for the rollout (after `bind`). */
  public get deployProject(): codebuild.PipelineProject {
    return this.projects().deploy;
  }

  /** The project that checks the pods' digests (after `bind`). */
  public get checkProject(): codebuild.PipelineProject {
    return this.projects().check;
  }

  public bind(scope: Construct, context: DeployTargetBindContext): DeployTargetConfig {
    if (this.bound) throw validationError('EksTargetBoundTwice', 'EksDeployTarget: a target deploys for one pipeline; create one per pipeline', scope);
    const deploy = this.project(scope, 'EksDeploy', 'Sets the Deployment image by digest', eksDeployBuildSpec(), context.removalPolicy);
    const check = this.project(scope, 'EksCheck', 'Checks that the pods run the signed digest', eksCheckBuildSpec(), context.removalPolicy);
    this.bound = { deploy, check };
    // The gate's small artifact as input: the builds need one, and they need no source code.
    type Variables = { [name: string]: codebuild.BuildEnvironmentVariable };
    const action = (actionName: string, project: codebuild.IProject, extra: Variables = {}) => new actions.CodeBuildAction({
      actionName,
      project,
      input: context.verifiedImageDefinitions,
      runOrder: context.runOrder,
      environmentVariables: {
        IMAGE_URI: { value: context.imageRepositoryUri },
        IMAGE_DIGEST: { value: context.imageDigest },
        ...extra,
      },
    });
    return {
      containerName: this.options.container,
      deployActions: [action('DeployToEks', deploy)],
      verifyActions: [action('CheckRunningImage', check, context.verifiedDigests ? { VERIFIED_DIGESTS: { value: context.verifiedDigests } } : {})],
    };
  }

  private projects(): { deploy: codebuild.PipelineProject; check: codebuild.PipelineProject } {
    if (!this.bound) throw unscopedValidationError('EksTargetNotBound', 'EksDeployTarget: the projects exist once the pipeline has bound the target');
    return this.bound;
  }

  private project(scope: Construct, id: string, description: string, buildSpec: Record<string, unknown>, removalPolicy: RemovalPolicy) {
    const options = this.options;
    const project = new codebuild.PipelineProject(scope, id, {
      description: `${description}: deployment/${options.deployment} in ${options.namespace ?? 'default'}`,
      buildSpec: codebuild.BuildSpec.fromObject(buildSpec),
      environment: { buildImage: codebuild.LinuxBuildImage.STANDARD_7_0, computeType: codebuild.ComputeType.SMALL },
      environmentVariables: {
        CLUSTER_NAME: { value: options.cluster.clusterName },
        NAMESPACE: { value: options.namespace ?? 'default' },
        DEPLOYMENT: { value: options.deployment },
        CONTAINER: { value: options.container },
        KUBECTL_VERSION: { value: options.kubectlVersion ?? DEFAULT_KUBECTL_VERSION },
        KUBECTL_SHA256: { value: options.kubectlSha256 ?? DEFAULT_KUBECTL_SHA256 },
      },
      vpc: options.vpc,
      subnetSelection: options.subnetSelection,
      securityGroups: options.securityGroups,
      logging: { cloudWatch: { logGroup: new logs.LogGroup(scope, `${id}Logs`, { retention: logs.RetentionDays.ONE_YEAR, removalPolicy }) } },
      timeout: Duration.minutes(20),
    });
    project.addToRolePolicy(new iam.PolicyStatement({ actions: ['eks:DescribeCluster'], resources: [options.cluster.clusterArn] }));
    return project;
  }
}

/** Actions of your own for the Deploy stage, run after the verify gate. */
export interface CustomDeployTargetOptions {
  /**
   * The actions; reference the verified image as `#{DeployGate.IMAGE_URI}@#{DeployGate.IMAGE_DIGEST}` (or the
   * gate's output artifact through a target of your own). Their run order must be 2 or more, so the verify gate
   * (run order 1) runs first.
   */
  readonly actions: codepipeline.IAction[];
  /**
   * Actions of your own for the Verify stage, after its signature check (run order 2 or more).
   * @default - none
   */
  readonly verifyActions?: codepipeline.IAction[];
}

/** Actions of your own after the verify gate. */
export class CustomDeployTarget extends DeployTarget {
  constructor(public readonly options: CustomDeployTargetOptions) {
    super();
    if (options.actions.length === 0) throw unscopedValidationError('CustomTargetActionsEmpty', 'DeployTarget.custom: give at least one action');
  }

  public bind(_scope: Construct, _context: DeployTargetBindContext): DeployTargetConfig {
    return { deployActions: this.options.actions, verifyActions: this.options.verifyActions };
  }
}

/** No deployment. */
class NoDeployTarget extends DeployTarget {
  public bind(_scope: Construct, _context: DeployTargetBindContext): DeployTargetConfig {
    return { deployActions: [] };
  }
}
