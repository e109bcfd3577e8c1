import { Lazy, Stack, Token } from 'aws-cdk-lib';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as events from 'aws-cdk-lib/aws-events';
import * as events_targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct, IConstruct } from 'constructs';
import { AttestationRequirements } from './attestations';
import { HandlerFunctionOptions } from './handler-options';
import { ImageVerifier } from './image-verifier';
import { environmentSizeProblems } from './private/environment-size';
import { validationError } from './private/errors';
import { grantUnscoped } from './private/grants';
import { createHandlerFunction } from './private/handler-function';
import { READ_ECR_ACTIONS, RepositoryAccess } from './private/repository-access';
import { requiredAttestationsEnvironment } from './private/required-attestations';
import { trustPolicyEnvironment } from './private/verifier-environment';
import { acknowledgeWildcardGrants } from './private/wildcard-grants';
import { TrustPolicy } from './trust-policy';

/** What the enforcement does with an image that does not verify. */
export enum EnforcementMode {
  /** Service deployments are rolled back (the lifecycle hook answers `FAILED`) and other tasks are stopped. */
  ENFORCE = 'ENFORCE',
  /** Nothing is blocked: every finding is logged and published to the notification topic. */
  AUDIT = 'AUDIT',
}

/** What happens, in ENFORCE, when a verification cannot finish (the registry cannot be reached, ECS reports no image). */
export enum VerificationFailurePolicy {
  /** The image is treated as not verified: the deployment rolls back, the task is stopped. */
  BLOCK = 'BLOCK',
  /** The image is let through and the finding is reported. */
  ALLOW = 'ALLOW',
}

/** Images that run without a verified signature, with the reason (e.g. AWS-managed sidecars). */
export interface EnforcementExemption {
  /**
   * The repository, `registry/path` without tag or digest, e.g. `public.ecr.aws/aws-observability/aws-for-fluent-bit`
   * (`nginx` means `docker.io/library/nginx`, as in the trust policy's registry scopes).
   */
  readonly repository: string;

  /**
   * Only this image of the repository (`sha256:…`).
   *
   * @default - every image of the repository
   */
  readonly digest?: string;

  /** Why these images may run unverified, for the people who review the exemption (at least 10 characters). */
  readonly reason: string;
}

/** Properties of an `EcsSignatureEnforcement`. */
export interface EcsSignatureEnforcementProps extends HandlerFunctionOptions {
  /**
   * The trust policy images must verify under. Give this or `verifier`.
   *
   * @default - the trust policy of `verifier`
   */
  readonly trustPolicy?: TrustPolicy;

  /**
   * An existing verifier whose trust policy and repositories the enforcement uses. Give this or `trustPolicy`.
   *
   * @default - none
   */
  readonly verifier?: ImageVerifier;

  /**
   * The ECR repositories the function may read (manifests, referrers, signature blobs).
   *
   * @default - the verifier's repositories, or the repositories given to the trust policy
   */
  readonly repositories?: ecr.IRepository[];

  /**
   * Services of this app whose deployments are verified before their tasks start: a `PRE_SCALE_UP` deployment
   * lifecycle hook on each (the service needs the ECS deployment controller). Their clusters are enforced too.
   *
   * @default - none
   */
  readonly services?: ecs.BaseService[];

  /**
   * Clusters on which every task that starts (RunTask, scheduled tasks, AWS Batch, services defined elsewhere) is
   * verified once running, and stopped in ENFORCE when an image does not verify.
   *
   * @default - the clusters of `services`
   */
  readonly clusters?: ecs.ICluster[];

  /**
   * ENFORCE blocks; AUDIT only reports.
   *
   * @default EnforcementMode.ENFORCE
   */
  readonly mode?: EnforcementMode;

  /**
   * What happens in ENFORCE when a verification cannot finish.
   *
   * @default VerificationFailurePolicy.BLOCK
   */
  readonly failurePolicy?: VerificationFailurePolicy;

  /**
   * Images allowed to run unverified.
   *
   * @default - none
   */
  readonly exemptions?: EnforcementExemption[];

  /**
   * A topic that receives every block and every finding (JSON: mode, action, the task or service, each image with its
   * digest and the failed check).
   *
   * @default - findings are only logged
   */
  readonly notificationTopic?: sns.ITopic;

  /**
   * How many signatures of an image are tried, at most.
   *
   * @default - the handler's default
   */
  readonly maxSignatureAttempts?: number;

  /**
   * Signed attestations each image must carry besides its signature, e.g. a SLSA provenance whose builder is a
   * `SignedImagePipeline` (`builderId: pipeline.pipeline.pipelineArn`) and whose source is a repository and branch, and
   * an SBOM. An image without them is blocked or stopped like an unsigned one (reported in AUDIT), with the reason and
   * the field. `provenance.builderIsPipeline` is refused: ECS events come from no pipeline job.
   *
   * @default - no attestations required
   */
  readonly requiredAttestations?: AttestationRequirements;
}

/**
 * ECS has no admission control; this construct verifies the signature of every image ECS starts on the given
 * services and clusters, whatever launches it, with the library's own verify engine:
 *
 * - service deployments: a `PRE_SCALE_UP` deployment lifecycle hook verifies every image of the new service revision,
 *   by the digest ECS resolved, before any of its tasks starts; in ENFORCE a failure rolls the deployment back;
 * - every other task: an EventBridge rule on `ECS Task State Change` (RUNNING) verifies each container's image digest;
 *   in ENFORCE a task with an image that does not verify is stopped with a reason naming the image and the check.
 *
 * Verdicts are cached by digest in the function. The role reads only the policy's repositories, and stops tasks only
 * in the enforced clusters.
 */
export class EcsSignatureEnforcement extends Construct implements iam.IGrantable {
  /** The verifying function (lifecycle hook target and rule target). */
  public readonly function: lambda.Function;
  /** The function's role. */
  public readonly role: iam.Role;
  /** The function's log group: every verdict, block and finding. */
  public readonly logGroup: logs.LogGroup;
  /** The rule that sends the enforced clusters' task state changes to the function. */
  public readonly rule: events.Rule;
  /** The trust policy the function applies. */
  public readonly trustPolicy: TrustPolicy;
  /** ENFORCE or AUDIT. */
  public readonly mode: EnforcementMode;
  public readonly grantPrincipal: iam.IPrincipal;

  private readonly clusterList: ecs.ICluster[] = [];
  private readonly serviceList: ecs.BaseService[] = [];
  private readonly repositoryAccess: RepositoryAccess;
  private hookRoleOnce?: iam.Role;

  constructor(scope: Construct, id: string, props: EcsSignatureEnforcementProps) {
    super(scope, id);
    if (props.trustPolicy && props.verifier && props.trustPolicy !== props.verifier.trustPolicy) {
      throw validationError('TrustPolicyAndVerifier', 'trustPolicy and verifier: give one of them (the verifier brings its trust policy)', this);
    }
    const trustPolicy = props.trustPolicy ?? props.verifier?.trustPolicy;
    if (!trustPolicy) throw validationError('TrustPolicyMissing', 'trustPolicy: give the trust policy images must verify under, or an existing verifier', this);
    this.trustPolicy = trustPolicy;
    this.mode = props.mode ?? EnforcementMode.ENFORCE;
    const maxSignatures = props.maxSignatureAttempts;
    if (maxSignatures !== undefined && (!Number.isInteger(maxSignatures) || maxSignatures < 1)) {
      throw validationError('MaxSignatureAttemptsInvalid', `maxSignatureAttempts: ${maxSignatures} is not a whole number of at least 1`, this);
    }
    const exemptions = (props.exemptions ?? []).map((exemption, index) => validateExemption(this, exemption, index));
    if (props.requiredAttestations?.provenance?.builderIsPipeline) {
      throw validationError(
        'RequiredAttestationsBuilderIsPipeline',
        'requiredAttestations.provenance.builderIsPipeline: ECS deployments and tasks come from no pipeline job; give the pipeline\'s ARN as builderId',
        this,
      );
    }

    const settings: { [key: string]: string } = {
      ENFORCEMENT_MODE: this.mode,
      FAILURE_POLICY: props.failurePolicy ?? VerificationFailurePolicy.BLOCK,
      ...(exemptions.length > 0 ? { EXEMPTIONS: Stack.of(this).toJsonString(exemptions) } : {}),
      ...(maxSignatures !== undefined ? { MAX_SIGNATURES: String(maxSignatures) } : {}),
      ...requiredAttestationsEnvironment(this, 'EcsSignatureEnforcement', props.requiredAttestations),
    };
    const parts = createHandlerFunction(this, {
      assetName: 'ecs-enforcement-handler',
      description: 'Verifies the container image signatures of ECS deployments and tasks (Notary Project) against a trust policy',
      environment: {
        ...trustPolicyEnvironment(this, trustPolicy),
        ...settings,
        CLUSTER_ARNS: Lazy.string({ produce: () => Stack.of(this).toJsonString(this.clusterList.map((cluster) => cluster.clusterArn)) }),
        ...(props.notificationTopic ? { NOTIFICATION_TOPIC_ARN: props.notificationTopic.topicArn } : {}),
      },
      options: props,
    });
    this.function = parts.function;
    this.role = parts.role;
    this.logGroup = parts.logGroup;
    this.grantPrincipal = this.role;

    grantUnscoped(this.role, ['ecr:GetAuthorizationToken']);
    trustPolicy.grantRevocationCheck(this.role);
    props.notificationTopic?.grantPublish(this.role);
    this.repositoryAccess = new RepositoryAccess(this.role, READ_ECR_ACTIONS);
    this.repositoryAccess.addReadable(this, 'enforcement', props.repositories ?? props.verifier?.repositories ?? trustPolicy.repositories);

    // Only RUNNING tasks that are meant to run: ECS reports each container's image digest once it has pulled it.
    this.rule = new events.Rule(this, 'TaskStateChange', {
      description: 'Running tasks of the clusters under signed image enforcement',
      eventPattern: {
        source: ['aws.ecs'],
        detailType: ['ECS Task State Change'],
        detail: { lastStatus: ['RUNNING'], desiredStatus: ['RUNNING'] },
      },
    });
    this.rule.addTarget(new events_targets.LambdaFunction(this.function));

    for (const cluster of props.clusters ?? []) this.addCluster(cluster);
    for (const service of props.services ?? []) this.addService(service);

    acknowledgeWildcardGrants(this, [
      {
        reason:
          'The enforcement stops tasks whose ARNs are known only when they start: ecs:StopTask (and ecs:DescribeTasks, read only, ' +
          'to skip a task that is stopping already) on the enforced clusters\' tasks (task/<cluster>/*), with the ecs:cluster condition naming the cluster.',
        matches: (statement, flatten) => statement.actions.every((action) => action === 'ecs:StopTask' || action === 'ecs:DescribeTasks') &&
          statement.resources.every((resource) => this.clusterList.some((cluster) => resource.endsWith(`:task/${flatten(cluster.clusterName)}/*`))),
      },
      {
        reason:
          'A deployment\'s service revision is created by ECS when the deployment starts: ecs:DescribeServiceRevisions (read only) on ' +
          'the revisions in the enforced services\' clusters (service-revision/<cluster>/*).',
        matches: (statement, flatten) => statement.actions.every((action) => action === 'ecs:DescribeServiceRevisions') &&
          statement.resources.every((resource) => this.serviceList.some((service) => resource.endsWith(`:service-revision/${flatten(service.cluster.clusterName)}/*`))),
      },
    ]);
    this.node.addValidation({
      validate: () => [
        ...(this.clusterList.length === 0 ? ['EcsSignatureEnforcement: give the services or clusters to enforce; without one the rule would match no task'] : []),
        ...environmentSizeProblems(this.function, 'EcsSignatureEnforcement', 'trust policy statements, registry scopes, signing profiles, clusters or exemptions'),
      ],
    });
  }

  /** The clusters whose running tasks are verified. */
  public get clusters(): ecs.ICluster[] {
    return [...this.clusterList];
  }

  /** The services whose deployments are verified by the lifecycle hook. */
  public get services(): ecs.BaseService[] {
    return [...this.serviceList];
  }

  /** The ECR repositories the function may read. */
  public get repositories(): ecr.IRepository[] {
    return this.repositoryAccess.repositories;
  }

  /**
   * Verifies every task that runs on `cluster` and, in ENFORCE, lets the function stop those whose images do not verify
   * (`ecs:StopTask` and `ecs:DescribeTasks` on the cluster's tasks, with the `ecs:cluster` condition).
   */
  public addCluster(cluster: ecs.ICluster): void {
    if (this.clusterList.some((known) => known === cluster || known.clusterArn === cluster.clusterArn)) return;
    this.clusterList.push(cluster);
    this.rule.addEventPattern({ detail: { clusterArn: [cluster.clusterArn] } });
    if (this.mode === EnforcementMode.ENFORCE) {
      // DescribeTasks before StopTask: a task that is stopping already is not stopped again.
      this.role.addToPrincipalPolicy(new iam.PolicyStatement({
        actions: ['ecs:DescribeTasks', 'ecs:StopTask'],
        resources: [Stack.of(this).formatArn({ service: 'ecs', resource: 'task', resourceName: `${cluster.clusterName}/*` })],
        conditions: { ArnEquals: { 'ecs:cluster': cluster.clusterArn } },
      }));
    }
  }

  /**
   * Verifies the images of every deployment of `service` before its tasks start: a `PRE_SCALE_UP` lifecycle hook
   * (ECS assumes a role that may invoke this function only). The service's cluster is enforced as well.
   */
  public addService(service: ecs.BaseService): void {
    if (this.serviceList.includes(service)) return;
    this.serviceList.push(service);
    service.addLifecycleHook(new ecs.DeploymentLifecycleLambdaTarget(this.function, `${this.node.id}Hook`, {
      role: this.hookRole(),
      lifecycleStages: [ecs.DeploymentLifecycleStage.PRE_SCALE_UP],
    }));
    // On the cluster's revisions: naming the service would make the function depend on the service that depends on it.
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['ecs:DescribeServiceRevisions'],
      resources: [Stack.of(this).formatArn({ service: 'ecs', resource: 'service-revision', resourceName: `${service.cluster.clusterName}/*` })],
    }));
    this.addCluster(service.cluster);
  }

  /** Lets the function read another repository (manifests, referrers, signature blobs). */
  public addRepository(repository: ecr.IRepository): void {
    this.repositoryAccess.add(repository);
  }

  /**
   * The role ECS assumes to invoke the hook (the trust policy of the ECS documentation, blue-green-permissions.html). Its
   * permission is inline, so that it exists before the service that names the role starts its first deployment.
   */
  private hookRole(): iam.Role {
    this.hookRoleOnce ??= new iam.Role(this, 'HookInvokeRole', {
      assumedBy: new iam.ServicePrincipal('ecs.amazonaws.com'),
      description: 'Lets ECS invoke the signed image enforcement function as a deployment lifecycle hook',
      inlinePolicies: {
        InvokeEnforcement: new iam.PolicyDocument({
          // The function and $LATEST only, without the <arn>:* wildcard of grantInvoke.
          statements: [new iam.PolicyStatement({
            actions: ['lambda:InvokeFunction'],
            resources: [this.function.functionArn, `${this.function.functionArn}:$LATEST`],
          })],
        }),
      },
    });
    return this.hookRoleOnce;
  }
}

const DIGEST = /^sha256:[a-f0-9]{64}$/;
/** `registry/path`, `path` or `name`: a repository without tag or digest. */
const REPOSITORY = /^(?:[a-zA-Z0-9.-]+(?::\d{1,5})?\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;

function validateExemption(scope: IConstruct, exemption: EnforcementExemption, index: number): EnforcementExemption {
  const where = `exemptions[${index}]`;
  // A repository URI made in the app (a token) is checked by the function at cold start.
  if (!Token.isUnresolved(exemption.repository) && !REPOSITORY.test(exemption.repository)) {
    throw validationError('ExemptionRepositoryInvalid', `${where}.repository: "${exemption.repository}" is not a repository without tag or digest, e.g. public.ecr.aws/aws-observability/aws-for-fluent-bit`, scope);
  }
  if (exemption.digest !== undefined && !DIGEST.test(exemption.digest)) throw validationError('ExemptionDigestInvalid', `${where}.digest: "${exemption.digest}" is not a sha256 digest`, scope);
  if (exemption.reason.trim().length < 10) throw validationError('ExemptionReasonMissing', `${where}.reason: say why these images may run unverified (at least 10 characters)`, scope);
  return { repository: exemption.repository, digest: exemption.digest, reason: exemption.reason.trim() };
}
