/**
 * The ECS enforcement handler (EcsSignatureEnforcement): verifies the images ECS is about to start, or has just
 * started, under the function's trust policy, by the digest ECS resolved, with the verify engine of the CLI.
 *
 * - A service deployment lifecycle hook (`PRE_SCALE_UP`): the images of the target service revision
 *   (`DescribeServiceRevisions` → `containerImages`). The answer follows the ECS contract
 *   (developerguide/lambda-lifecycle-hooks.md): `SUCCEEDED` continues the deployment, `FAILED` rolls it back,
 *   `IN_PROGRESS` with `callBackDelay` has ECS invoke the hook again (used when the registry cannot be reached or the
 *   function runs out of time; the attempt count travels in `hookDetails`, bounded by MAX_HOOK_ATTEMPTS).
 * - An `ECS Task State Change` event of a RUNNING task: each container's `imageDigest` (or its tag, resolved to a
 *   digest in the registry). In ENFORCE a task with an image that does not verify is stopped (`StopTask`, with a
 *   reason naming the image and the failed check), unless DescribeTasks says it is stopping already; in AUDIT it is
 *   reported.
 *
 * Environment (set by the construct):
 * - `TRUST_POLICY`, `TRUST_STORES`, `MAX_SIGNATURES`, `REGISTRY_PLAIN_HTTP_HOSTS`: as for the verify handler;
 * - `ENFORCEMENT_MODE`: `ENFORCE` or `AUDIT`;
 * - `FAILURE_POLICY`: `BLOCK` or `ALLOW`, for a verification that cannot finish (registry down); ENFORCE only;
 * - `EXEMPTIONS` (optional): JSON array `[{"repository": "<registry>/<path>", "digest"?: "sha256:…", "reason": "…"}]`;
 * - `CLUSTER_ARNS`: JSON array of the clusters whose tasks this function may stop; events of other clusters are ignored;
 * - `NOTIFICATION_TOPIC_ARN` (optional): an SNS topic that receives every block and every finding.
 */
// lambda/ is bundled by esbuild, so its AWS SDK clients are devDependencies.
/* eslint-disable import/no-extraneous-dependencies */
import {
  DescribeServiceRevisionsCommand,
  DescribeServiceRevisionsCommandOutput,
  DescribeTasksCommand,
  DescribeTasksCommandOutput,
  StopTaskCommand,
} from '@aws-sdk/client-ecs';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
/* eslint-enable import/no-extraneous-dependencies */
import { checkAttestationGate } from './attestation-gate';
import { certificateRevocationOf } from './certificate-revocation';
import { RegistryClients, registryClients, WithEcs, withEcsClient } from './clients';
import { abortable, DeadlineGuard } from './deadline';
import { EnforcementEvent, LifecycleHookEvent, parseEnforcementEvent, TaskContainer, TaskStateChangeEvent } from './ecs-events';
import { LambdaContext } from './event';
import { truncateText } from './job-reporter';
import { errorFields, Logger } from './log';
import { isPlainObject } from './parameters';
import { openImage } from './registry';
import { coldStartConfig, ConfigurationError, Handler, HandlerOptions } from './runner';
import { VerdictCache } from './verdict-cache';
import { loadVerifyConfig, VerifyConfig } from './verify-config';
import { CertificateRevocationValidator, VerificationOutcome } from '../notary/types';
import { verifyImage } from '../notary/verify-image';
import { ImageReference, parseReference } from '../oci/reference';
import { AwsSignerRevocationChecker } from '../revocation/aws-signer';

export type EnforcementMode = 'ENFORCE' | 'AUDIT';
export type FailurePolicy = 'BLOCK' | 'ALLOW';

export interface Exemption {
  /** `registry/repository`, normalised as the trust policy scopes it (e.g. `docker.io/library/nginx`). */
  readonly repository: string;
  /** Only this image of the repository, when given. */
  readonly digest?: string;
  readonly reason: string;
}

export interface EnforcementConfig extends VerifyConfig {
  readonly mode: EnforcementMode;
  readonly failurePolicy: FailurePolicy;
  readonly exemptions: readonly Exemption[];
  readonly clusterArns: ReadonlySet<string>;
  readonly topicArn?: string;
}

/** What became of one container image. */
export type ImageVerdict =
  | { readonly status: 'verified'; readonly digest: string; readonly signatureDigest?: string }
  | { readonly status: 'exempt'; readonly digest?: string; readonly reason: string }
  /** Verification finished and the image is not trusted; `check` names what failed (e.g. `no-signature`, `authenticity`). */
  | { readonly status: 'rejected'; readonly digest?: string; readonly check: string; readonly message: string }
  /** Verification could not finish (registry unreachable, ECS did not report the image): the failure policy decides. */
  | { readonly status: 'unavailable'; readonly digest?: string; readonly message: string };

export interface ImageFinding {
  readonly container: string;
  readonly image: string;
  readonly verdict: ImageVerdict;
}

export interface HookResponse {
  readonly hookStatus: 'SUCCEEDED' | 'FAILED' | 'IN_PROGRESS';
  readonly callBackDelay?: number;
  readonly hookDetails?: Record<string, unknown>;
}

export interface TaskResult {
  readonly taskArn: string;
  readonly action: 'allowed' | 'stopped' | 'reported' | 'ignored';
  readonly reason?: string;
  readonly findings: readonly ImageFinding[];
}

/** `IN_PROGRESS` answers of one hook execution before the failure policy applies. */
export const MAX_HOOK_ATTEMPTS = 5;
/** Seconds ECS waits before invoking the hook again after `IN_PROGRESS`. */
export const HOOK_CALLBACK_DELAY_SECONDS = 15;
/** hookDetails key of the attempt counter (ECS passes hookDetails of an IN_PROGRESS answer back to the next invocation). */
const ATTEMPT_KEY = 'signedImageEnforcementAttempt';
/** StopTask's reason shows in the task's stoppedReason; kept short enough for the console and DescribeTasks. */
export const MAX_STOP_REASON_CHARS = 255;
const VERDICT_CACHE_ENTRIES = 512;
const VERDICT_TTL_MS = 15 * 60_000;
/** How long a rejection is kept: a service scaling out with an unsigned image is not verified once per task. */
const REJECTED_TTL_MS = 60_000;
/** Tasks stopped by this environment, so repeated RUNNING events of one task do not stop it twice. */
const STOPPED_TASKS_REMEMBERED = 1024;
const DIGEST = /^sha256:[a-f0-9]{64}$/;
const MAX_EXEMPTIONS = 100;

/** Reads and validates the function's configuration. Throws ConfigurationError naming the variable. */
export function loadEnforcementConfig(env: Readonly<Record<string, string | undefined>>, log?: Logger): EnforcementConfig {
  const verify = loadVerifyConfig(env, log);
  const mode = env.ENFORCEMENT_MODE?.trim() ?? '';
  if (mode !== 'ENFORCE' && mode !== 'AUDIT') throw new ConfigurationError(`ENFORCEMENT_MODE must be ENFORCE or AUDIT, got "${mode.slice(0, 50)}"`);
  const failurePolicy = env.FAILURE_POLICY?.trim() || 'BLOCK';
  if (failurePolicy !== 'BLOCK' && failurePolicy !== 'ALLOW') throw new ConfigurationError(`FAILURE_POLICY must be BLOCK or ALLOW, got "${failurePolicy.slice(0, 50)}"`);
  const topicArn = env.NOTIFICATION_TOPIC_ARN?.trim() || undefined;
  if (topicArn !== undefined && !/^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_.-]{1,256}$/.test(topicArn)) {
    throw new ConfigurationError(`NOTIFICATION_TOPIC_ARN must be an SNS topic ARN, got "${topicArn.slice(0, 100)}"`);
  }
  const clusterArns = jsonArray(env, 'CLUSTER_ARNS').map((arn, index) => {
    if (typeof arn !== 'string' || !/^arn:aws[a-z-]*:ecs:[a-z0-9-]+:\d{12}:cluster\/[A-Za-z0-9_-]{1,255}$/.test(arn)) {
      throw new ConfigurationError(`CLUSTER_ARNS[${index}] must be an ECS cluster ARN`);
    }
    return arn;
  });
  const exemptions = jsonArray(env, 'EXEMPTIONS').map((entry, index) => parseExemption(entry, `EXEMPTIONS[${index}]`));
  if (exemptions.length > MAX_EXEMPTIONS) throw new ConfigurationError(`EXEMPTIONS has ${exemptions.length} entries; at most ${MAX_EXEMPTIONS} are accepted`);
  if (verify.attestations?.provenance?.builderIsPipeline) {
    throw new ConfigurationError('REQUIRED_ATTESTATIONS.provenance.builderIsPipeline: ECS events come from no pipeline job; give the pipeline ARN as builderId');
  }
  return { ...verify, mode, failurePolicy, topicArn, exemptions, clusterArns: new Set(clusterArns) };
}

function jsonArray(env: Readonly<Record<string, string | undefined>>, name: string): unknown[] {
  const text = env[name]?.trim();
  if (!text) return [];
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ConfigurationError(`${name} is not valid JSON: ${(error as Error).message}`);
  }
  if (!Array.isArray(value)) throw new ConfigurationError(`${name} must be a JSON array`);
  return value;
}

function parseExemption(entry: unknown, where: string): Exemption {
  if (!isPlainObject(entry)) throw new ConfigurationError(`${where} must be an object {"repository", "digest"?, "reason"}`);
  const unknown = Object.keys(entry).filter((key) => !['repository', 'digest', 'reason'].includes(key));
  if (unknown.length > 0) throw new ConfigurationError(`${where}: unknown field "${unknown[0].slice(0, 50)}"; the fields are repository, digest, reason`);
  const { repository, digest, reason } = entry;
  if (typeof reason !== 'string' || reason.trim().length < 10) throw new ConfigurationError(`${where}.reason must say why the images are exempt (at least 10 characters)`);
  if (digest !== undefined && (typeof digest !== 'string' || !DIGEST.test(digest))) throw new ConfigurationError(`${where}.digest must be a sha256 digest`);
  let reference: ImageReference;
  try {
    reference = parseReference(String(repository));
  } catch (error) {
    throw new ConfigurationError(`${where}.repository: ${(error as Error).message}`);
  }
  if (typeof repository !== 'string' || reference.tagOrDigest) throw new ConfigurationError(`${where}.repository must be a repository without tag or digest, e.g. public.ecr.aws/aws-observability/aws-for-fluent-bit`);
  return { repository: reference.repositoryName, digest, reason: reason.trim() };
}

/** The registry clients, and the ECS and SNS clients of the handler; created on first use. */
export interface EnforcementClients extends RegistryClients, WithEcs {
  sns(): SNSClient;
}

/**
 * `base` plus the shared lazy ECS client (`withEcsClient`) and an SNS client in the function's region, created on
 * first use. No pipeline clients: ECS events come from no pipeline job.
 */
export function enforcementClients(base: () => RegistryClients = registryClients, region = process.env.AWS_REGION): () => EnforcementClients {
  const withEcs = withEcsClient(base, region);
  let sns: SNSClient | undefined;
  return () => ({ ...withEcs(), sns: () => (sns ??= new SNSClient({ region })) });
}

export interface EnforcementHandlerOptions extends Omit<HandlerOptions, 'clients'> {
  /** @default the clients of this execution environment, with ECS and SNS clients created on first use */
  readonly clients?: () => EnforcementClients;
}

/** Verifies container images with the verdict cache, exemptions and the trust policy. */
class ImageChecker {
  constructor(
    private readonly config: EnforcementConfig,
    private readonly clients: EnforcementClients,
    private readonly cache: VerdictCache<ImageVerdict>,
    private readonly signal: AbortSignal,
    private readonly log: Logger,
    private readonly certificateRevocation: CertificateRevocationValidator,
  ) {}

  async check(image: string | undefined, reportedDigest: string | undefined): Promise<ImageVerdict> {
    if (!image) return { status: 'unavailable', digest: reportedDigest, message: 'ECS did not report the container image' };
    let reference: ImageReference;
    try {
      reference = parseReference(image);
    } catch (error) {
      return { status: 'rejected', digest: reportedDigest, check: 'invalid-reference', message: (error as Error).message };
    }
    // An exemption of a repository covers every image in it; one with a digest covers that image only.
    const exemptionOf = (digest: string | undefined) => this.config.exemptions.find(
      (candidate) => candidate.repository === reference.repositoryName && (candidate.digest === undefined || candidate.digest === digest));
    // The digest ECS pulled is what runs; a reference by tag only is resolved in the registry (the tag may have moved since).
    let digest = reportedDigest ?? reference.digest;
    const exemption = exemptionOf(digest);
    if (exemption) return { status: 'exempt', digest, reason: exemption.reason };
    const opened = openImage(digest ? reference.withDigest(digest) : reference, { clients: this.clients, plainHttp: this.config.plainHttp });
    const repository = abortable(opened.repository, this.signal);
    if (!digest) {
      try {
        digest = (await repository.resolve(opened.tagOrDigest)).digest;
      } catch (error) {
        if (this.signal.aborted) throw this.signal.reason;
        return { status: 'unavailable', message: `could not resolve ${image} to a digest: ${(error as Error).message}` };
      }
      const pinnedExemption = exemptionOf(digest);
      if (pinnedExemption) return { status: 'exempt', digest, reason: pinnedExemption.reason };
    }
    const pinned = `${reference.repositoryName}@${digest}`;

    const cached = this.cache.get(pinned);
    if (cached) return cached;
    const request = {
      repository,
      tagOrDigest: digest,
      displayReference: pinned,
      scope: reference.repositoryName,
      policy: this.config.policy,
      stores: this.config.stores,
      revocation: new AwsSignerRevocationChecker((region) => this.clients.signer(region)),
      certificateRevocation: this.certificateRevocation,
      maxSignatures: this.config.maxSignatures,
    };
    const outcome = await verifyImage(request);
    if (this.signal.aborted) throw this.signal.reason;
    let verdict = verdictOf(outcome, digest);
    if (verdict.status === 'verified' && this.config.attestations) {
      // The attestations the image must carry (REQUIRED_ATTESTATIONS), signed under the same trust policy.
      const gate = await checkAttestationGate({
        required: this.config.attestations,
        request,
        step: () => undefined,
      });
      if (this.signal.aborted) throw this.signal.reason;
      if (!gate.ok) {
        const failed = gate.verifications[gate.verifications.length - 1];
        verdict = failed?.failure?.reason === 'error'
          ? { status: 'unavailable', digest, message: gate.message }
          : { status: 'rejected', digest, check: 'attestation', message: gate.message };
      }
    }
    this.log.info(`${pinned}: ${verdict.status}`, { imageUri: pinned, digest, verified: outcome.verified, code: outcome.error?.code });
    // A registry that could not be read says nothing about the image: only finished verifications are kept. A rejection
    // is kept briefly (a scale-out burst), so that an image signed after a blocked deployment can be deployed again soon.
    if (verdict.status === 'verified') this.cache.set(pinned, verdict);
    else if (verdict.status === 'rejected') this.cache.set(pinned, verdict, REJECTED_TTL_MS);
    return verdict;
  }
}

/** The verdict of a finished or failed verification. */
export function verdictOf(outcome: VerificationOutcome, digest: string): ImageVerdict {
  if (outcome.verified) return { status: 'verified', digest, signatureDigest: outcome.signatureDigest };
  const error = outcome.error ?? { code: 'verification-failed', message: `signature verification failed for ${outcome.reference}` };
  if (error.code === 'registry') return { status: 'unavailable', digest, message: error.message };
  const failed = outcome.results.find((result) => !result.ok && result.action === 'enforce');
  return { status: 'rejected', digest, check: error.code === 'verification-failed' && failed ? failed.type : error.code, message: error.message };
}

/** Whether a verdict blocks the image: always when rejected, when unavailable under the BLOCK policy. */
function blocks(verdict: ImageVerdict, config: EnforcementConfig): boolean {
  return verdict.status === 'rejected' || (verdict.status === 'unavailable' && config.failurePolicy === 'BLOCK');
}

/** One line per finding that is neither verified nor exempt, e.g. `container app: registry/app@sha256:…: no-signature: …`. */
export function describeFindings(findings: readonly ImageFinding[]): string {
  return problemsOf(findings)
    .map(({ container, image, verdict }) => `container ${container}: ${pinnedImage(image, verdict.digest)}: ${checkOf(verdict)}: ${verdict.message.split('\n')[0]}`)
    .join('; ');
}

/** The reason given to StopTask: the first rejected (else unreachable) image and its check, within StopTask's length. */
export function stopReason(findings: readonly ImageFinding[]): string {
  const problems = problemsOf(findings);
  const blocked = problems.find((finding) => finding.verdict.status === 'rejected') ?? problems[0];
  const more = problems.length > 1 ? ` (and ${problems.length - 1} more image(s))` : '';
  return truncateText(`Signed image enforcement: ${pinnedImage(blocked.image, blocked.verdict.digest)} failed ${checkOf(blocked.verdict)}${more}`, MAX_STOP_REASON_CHARS);
}

type Problem = ImageFinding & { readonly verdict: Extract<ImageVerdict, { status: 'rejected' | 'unavailable' }> };

function problemsOf(findings: readonly ImageFinding[]): Problem[] {
  return findings.filter((finding): finding is Problem => finding.verdict.status === 'rejected' || finding.verdict.status === 'unavailable');
}

function checkOf(verdict: Problem['verdict']): string {
  return verdict.status === 'rejected' ? verdict.check : 'verification-unavailable';
}

/** `registry/repository@digest` for an image ECS named by tag or digest, when the digest is known. */
function pinnedImage(image: string, digest: string | undefined): string {
  if (!digest) return image || 'an unreported image';
  try {
    return `${parseReference(image).repositoryName}@${digest}`;
  } catch {
    return `${image}@${digest}`;
  }
}

/** A handler; its configuration is read and validated once, when it is created (cold start). */
export function createEcsEnforcementHandler(options: EnforcementHandlerOptions = {}): Handler {
  const logger = (options.logger ?? new Logger()).child({ handler: 'ecs-enforcement' });
  const clients = options.clients ?? enforcementClients();
  const config = coldStartConfig('ecs-enforcement', logger, () => loadEnforcementConfig(options.env ?? process.env, logger));
  const cache = new VerdictCache<ImageVerdict>(VERDICT_CACHE_ENTRIES, VERDICT_TTL_MS);
  const certificateRevocation = certificateRevocationOf(options);
  const stoppedTasks = new VerdictCache<true>(STOPPED_TASKS_REMEMBERED, 24 * 60 * 60_000);

  return async (event: unknown, context?: Partial<LambdaContext>) => {
    const requestId = typeof context?.awsRequestId === 'string' ? context.awsRequestId : undefined;
    const log = logger.child({ requestId });
    let parsed: EnforcementEvent;
    try {
      parsed = parseEnforcementEvent(event);
    } catch (error) {
      log.error('refused the event', errorFields(error));
      // A malformed hook invocation still gets an answer ECS understands; anything else fails the invocation.
      if (isPlainObject(event) && 'executionDetails' in event) return failClosed(safeConfig(config), log, error);
      throw error;
    }
    const guard = new DeadlineGuard(context, (remaining) => `the ecs-enforcement function was about to time out (${Math.round(remaining / 1000)} s were left when it started)`);
    try {
      const settings = config();
      const checker = new ImageChecker(settings, clients(), cache, guard.signal, log, certificateRevocation);
      const work = parsed.kind === 'lifecycle-hook'
        ? onLifecycleHook(parsed, settings, clients(), checker, log)
        : onTaskStateChange(parsed, settings, clients(), checker, stoppedTasks, log);
      return await Promise.race([work, guard.expired]);
    } catch (error) {
      if (parsed.kind !== 'lifecycle-hook') {
        log.error('enforcement failed', errorFields(error));
        throw error;
      }
      if (guard.signal.aborted) return inProgress(parsed, safeConfig(config), log, 'the function ran out of time');
      return failClosed(safeConfig(config), log, error);
    } finally {
      guard.cancel();
    }
  };
}

function safeConfig(config: () => EnforcementConfig): EnforcementConfig | undefined {
  try {
    return config();
  } catch {
    return undefined;
  }
}

/** The answer to a hook invocation that could not be handled: FAILED unless the function only audits. */
function failClosed(config: EnforcementConfig | undefined, log: Logger, error: unknown): HookResponse {
  const hookStatus = config?.mode === 'AUDIT' ? 'SUCCEEDED' : 'FAILED';
  log.error(`lifecycle hook could not be handled; answering ${hookStatus}`, { ...errorFields(error), outcome: hookStatus });
  return { hookStatus };
}

function inProgress(event: LifecycleHookEvent, config: EnforcementConfig | undefined, log: Logger, why: string): HookResponse {
  const attempt = attemptOf(event) + 1;
  log.warn(`${event.serviceArn}: ${why}; asking ECS to invoke the hook again (attempt ${attempt} of ${MAX_HOOK_ATTEMPTS})`, { outcome: 'IN_PROGRESS' });
  if (attempt >= MAX_HOOK_ATTEMPTS) {
    const hookStatus = config?.mode === 'AUDIT' || config?.failurePolicy === 'ALLOW' ? 'SUCCEEDED' : 'FAILED';
    log.error(`${event.serviceArn}: verification did not finish in ${MAX_HOOK_ATTEMPTS} attempts; answering ${hookStatus} (failure policy)`, { outcome: hookStatus });
    return { hookStatus };
  }
  return { hookStatus: 'IN_PROGRESS', callBackDelay: HOOK_CALLBACK_DELAY_SECONDS, hookDetails: { [ATTEMPT_KEY]: attempt } };
}

function attemptOf(event: LifecycleHookEvent): number {
  const value = event.hookDetails[ATTEMPT_KEY];
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 ? value : 0;
}

async function onLifecycleHook(
  event: LifecycleHookEvent,
  config: EnforcementConfig,
  clients: EnforcementClients,
  checker: ImageChecker,
  log: Logger,
): Promise<HookResponse> {
  let described: DescribeServiceRevisionsCommandOutput;
  try {
    described = await clients.ecs().send(new DescribeServiceRevisionsCommand({ serviceRevisionArns: [event.targetServiceRevisionArn] }));
  } catch (error) {
    // Throttling, or a role policy that is still propagating: ask again before the failure policy decides.
    const hint = (error as Error).name === 'AccessDeniedException' ? "; the function's role needs ecs:DescribeServiceRevisions on the cluster's revisions" : '';
    return inProgress(event, config, log, `could not describe service revision ${event.targetServiceRevisionArn}: ${(error as Error).name}: ${(error as Error).message}${hint}`);
  }
  const revision = described.serviceRevisions?.find((candidate) => candidate.serviceRevisionArn === event.targetServiceRevisionArn);
  if (!revision) {
    const reason = described.failures?.[0]?.reason ?? 'not returned';
    return inProgress(event, config, log, `ECS could not describe service revision ${event.targetServiceRevisionArn} (${reason})`);
  }
  const images = revision.containerImages ?? [];
  if (images.length === 0) return inProgress(event, config, log, `service revision ${event.targetServiceRevisionArn} lists no container images yet`);
  const findings: ImageFinding[] = await Promise.all(
    images.map(async (image) => ({
      container: image.containerName ?? 'unnamed',
      image: image.image ?? '',
      verdict: await checker.check(image.image, image.imageDigest),
    })),
  );

  const rejected = findings.some((finding) => finding.verdict.status === 'rejected');
  const unavailable = findings.some((finding) => finding.verdict.status === 'unavailable');
  const where = `service ${event.serviceArn}, revision ${event.targetServiceRevisionArn} (${event.lifecycleStage})`;
  if (!rejected && !unavailable) {
    log.info(`${where}: every image verified or is exempt`, { outcome: 'SUCCEEDED' });
    return { hookStatus: 'SUCCEEDED' };
  }
  const summary = describeFindings(findings);
  if (config.mode === 'AUDIT') {
    await report(config, clients, log, { action: 'reported', source: 'service-deployment', where, summary, findings });
    return { hookStatus: 'SUCCEEDED' };
  }
  if (!rejected) {
    // Only unreachable images: ask again before the failure policy decides.
    if (attemptOf(event) + 1 < MAX_HOOK_ATTEMPTS) return inProgress(event, config, log, summary);
    if (config.failurePolicy === 'ALLOW') {
      await report(config, clients, log, { action: 'allowed', source: 'service-deployment', where, summary, findings });
      return { hookStatus: 'SUCCEEDED' };
    }
  }
  await report(config, clients, log, { action: 'blocked', source: 'service-deployment', where, summary, findings });
  return { hookStatus: 'FAILED' };
}

async function onTaskStateChange(
  event: TaskStateChangeEvent,
  config: EnforcementConfig,
  clients: EnforcementClients,
  checker: ImageChecker,
  stoppedTasks: VerdictCache<true>,
  log: Logger,
): Promise<TaskResult> {
  const ignored = (reason: string): TaskResult => {
    log.info(`${event.taskArn}: ignored: ${reason}`, { outcome: 'ignored' });
    return { taskArn: event.taskArn, action: 'ignored', reason, findings: [] };
  };
  if (!config.clusterArns.has(event.clusterArn)) return ignored(`cluster ${event.clusterArn} is not enforced by this function`);
  if (event.lastStatus !== 'RUNNING' || (event.desiredStatus !== undefined && event.desiredStatus !== 'RUNNING')) {
    return ignored(`task status ${event.lastStatus}, desired ${event.desiredStatus ?? 'unknown'}`);
  }
  if (stoppedTasks.get(event.taskArn)) return ignored('this function already stopped the task');

  const findings: ImageFinding[] = await Promise.all(
    event.containers.map(async (container: TaskContainer) => ({
      container: container.name,
      image: container.image ?? '',
      verdict: await checker.check(container.image, container.imageDigest),
    })),
  );
  const where = `task ${event.taskArn} (${event.group ?? 'no group'}) in cluster ${event.clusterArn}`;
  const problems = problemsOf(findings);
  if (problems.length === 0) {
    log.info(`${where}: every image verified or is exempt`, { outcome: 'allowed' });
    return { taskArn: event.taskArn, action: 'allowed', findings };
  }
  const summary = describeFindings(findings);
  const stop = config.mode === 'ENFORCE' && problems.some((finding) => blocks(finding.verdict, config));
  if (!stop) {
    await report(config, clients, log, { action: config.mode === 'AUDIT' ? 'reported' : 'allowed', source: 'task', where, summary, findings });
    return { taskArn: event.taskArn, action: 'reported', reason: summary, findings };
  }
  // ECS sends several RUNNING events for one task, which other execution environments may have handled, and the
  // task may be stopping already (its service's rollback, a person): only a task still meant to run is stopped.
  const already = await stoppingAlready(event, clients, log);
  if (already) {
    log.info(`${where}: not stopped again: ${already}`, { outcome: 'ignored' });
    return { taskArn: event.taskArn, action: 'ignored', reason: already, findings };
  }
  const reason = stopReason(findings);
  try {
    await clients.ecs().send(new StopTaskCommand({ cluster: event.clusterArn, task: event.taskArn, reason }));
  } catch (error) {
    const hint = (error as Error).name === 'AccessDeniedException' ? "; the function's role needs ecs:StopTask on the cluster's tasks" : '';
    log.error(`${where}: could not stop the task${hint}`, errorFields(error));
    throw new Error(`could not stop ${where}: ${(error as Error).name}: ${(error as Error).message}${hint}`, { cause: error });
  }
  stoppedTasks.set(event.taskArn, true);
  await report(config, clients, log, { action: 'stopped', source: 'task', where, summary, findings });
  return { taskArn: event.taskArn, action: 'stopped', reason, findings };
}

/**
 * Why the task needs no StopTask (its desired status is STOPPED, or ECS no longer knows it), from DescribeTasks; undefined
 * when it is still meant to run or when ECS cannot tell (the function then stops it: a failed look-up never lets a task run).
 */
async function stoppingAlready(event: TaskStateChangeEvent, clients: EnforcementClients, log: Logger): Promise<string | undefined> {
  let described: DescribeTasksCommandOutput;
  try {
    described = await clients.ecs().send(new DescribeTasksCommand({ cluster: event.clusterArn, tasks: [event.taskArn] }));
  } catch (error) {
    log.warn(`${event.taskArn}: could not describe the task before stopping it; stopping it`, errorFields(error));
    return undefined;
  }
  const task = described?.tasks?.find((candidate) => candidate.taskArn === event.taskArn);
  if (task?.desiredStatus === 'STOPPED') return `the task is stopping already (desired status STOPPED${task.stoppedReason ? `: ${truncateText(task.stoppedReason, 200)}` : ''})`;
  if (!task && described?.failures?.some((failure) => failure.arn === event.taskArn && failure.reason === 'MISSING')) return 'ECS no longer knows the task (MISSING)';
  return undefined;
}

interface Report {
  readonly action: 'blocked' | 'stopped' | 'reported' | 'allowed';
  readonly source: 'service-deployment' | 'task';
  readonly where: string;
  readonly summary: string;
  readonly findings: readonly ImageFinding[];
}

/** Logs a block or finding and publishes it to the notification topic. A failed publish is logged; the verdict stands. */
async function report(config: EnforcementConfig, clients: EnforcementClients, log: Logger, entry: Report): Promise<void> {
  const message = `${entry.where}: ${entry.action} (${config.mode}): ${entry.summary}`;
  if (entry.action === 'blocked' || entry.action === 'stopped') log.error(message, { outcome: entry.action });
  else log.warn(message, { outcome: entry.action });
  if (!config.topicArn) return;
  const body = {
    mode: config.mode,
    action: entry.action,
    source: entry.source,
    subject: entry.where,
    findings: entry.findings
      .filter((finding) => finding.verdict.status !== 'verified')
      .map(({ container, image, verdict }) => ({ container, image, ...verdict })),
  };
  try {
    await clients.sns().send(new PublishCommand({
      TopicArn: config.topicArn,
      Subject: truncateText(`Signed image enforcement: ${entry.action} (${config.mode})`, 100),
      Message: JSON.stringify(body, null, 2),
    }));
  } catch (error) {
    log.error('could not publish the finding to the notification topic', errorFields(error));
  }
}

let defaultHandler: Handler | undefined = process.env.AWS_LAMBDA_FUNCTION_NAME ? createEcsEnforcementHandler() : undefined;

/** The Lambda entry point. */
export async function handler(event: unknown, context?: Partial<LambdaContext>): Promise<unknown> {
  defaultHandler ??= createEcsEnforcementHandler();
  return defaultHandler(event, context);
}
