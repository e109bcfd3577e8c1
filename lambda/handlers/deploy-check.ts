/**
 * The post-deploy check of SignedImagePipeline's Verify stage for ECS: every running task of the service must
 * run the signed digest in the deployed container. (The signature of that digest is verified by the
 * ImageVerifier action before it.)
 *
 * Parameters: `imageUri` (pinned by digest), `cluster` (cluster ARN or name), `service` (service name or ARN),
 * `containerName`, and `verifiedDigests` (optional: the verify gate's `VERIFIED_DIGESTS`, `imageUri`'s digest first,
 * then, for an image index, every manifest it lists and the gate verified). A job succeeds with output variables
 * `IMAGE_DIGEST` and `RUNNING_TASKS`, or fails naming the service, the task and the digest it runs. Every task ECS
 * lists for the service as desired RUNNING must report one of the verified digests for the container, tasks still
 * starting included; a service with more than 1000 such tasks is checked on its first 1000, and the summary says so.
 *
 * Which digest ECS reports for a multi-arch image: the one the registry answered for the image reference, the index
 * digest (aws/amazon-ecs-agent#3576, where `imageDigest` is the index digest shared by every platform; #4177, where
 * the agent resolves the digest from the registry, not from the pulled platform manifest). A platform manifest digest
 * of the index is accepted too, as long as the gate verified it, so an agent or a launch path that reports the
 * pulled manifest's digest still passes; any other digest fails.
 */
// lambda/ is bundled by esbuild, so its AWS SDK clients are devDependencies.
// eslint-disable-next-line import/no-extraneous-dependencies
import { DescribeTasksCommand, ECSClient, ListTasksCommand, Task } from '@aws-sdk/client-ecs';
import { EcsClients, pipelineClients, withEcsClient } from './clients';
import { LambdaContext } from './event';
import { Logger } from './log';
import { Parameters } from './parameters';
import { Handler, JobResult, runHandler, WorkInput } from './runner';

/** A task whose container does not run the signed digest, or has not reported one yet. */
export interface TaskMismatch {
  readonly taskArn: string;
  readonly runningDigest?: string;
}

export interface DeployCheckResult {
  readonly imageDigest: string;
  readonly service: string;
  /** The tasks checked (all of the service's running tasks unless `truncated`). */
  readonly runningTasks: number;
  /** True when the service had more than 1000 running tasks and only the first 1000 were checked. */
  readonly truncated: boolean;
  /** The digests the tasks reported, when any is not `imageDigest` (a platform manifest of the verified index). */
  readonly reportedDigests?: readonly string[];
}

const ARN_OR_NAME = /^[A-Za-z0-9_:/.-]{1,1600}$/;
const DIGEST_LIST = /^sha256:[0-9a-f]{64}(,sha256:[0-9a-f]{64})*$/;
/** At most this many verified digests (an index, its platform and attestation manifests, nested indexes). */
const MAX_VERIFIED_DIGESTS = 200;
const DESCRIBE_BATCH = 100;
/** Bounded: a service with more running tasks than this is checked on its first pages only, and says so. */
const MAX_TASKS = 1000;

export interface DeployCheckHandlerOptions {
  /** @default the clients of this execution environment, with an ECS client created on first use */
  readonly clients?: () => EcsClients;
  readonly logger?: Logger;
}

/** A deploy-check handler. */
export function createDeployCheckHandler(options: DeployCheckHandlerOptions = {}): Handler {
  const logger = options.logger ?? new Logger();
  const clients = options.clients ?? withEcsClient(pipelineClients);
  return (event, context) =>
    runHandler<DeployCheckResult>(
      {
        name: 'deploy-check',
        logger,
        timeoutHint: 'that the ECS API answers',
        codePipeline: () => clients().codePipeline(),
        work: (input) => checkRunningImage(input, clients().ecs()),
        jobResult: (result): JobResult => ({
          ok: true,
          outputVariables: { IMAGE_DIGEST: result.imageDigest, RUNNING_TASKS: String(result.runningTasks) },
          summary:
            `${result.runningTasks} running task(s) of ${result.service} run ${result.imageDigest}` +
            (result.reportedDigests ? ` (reported as ${result.reportedDigests.join(', ')}, verified with it)` : '') +
            (result.truncated ? ` (the service has more running tasks; the first ${result.runningTasks} were checked)` : ''),
        }),
      },
      event,
      context,
    );
}

let defaultHandler: Handler | undefined;

/** The Lambda entry point. */
export async function handler(event: unknown, context?: Partial<LambdaContext>): Promise<unknown> {
  defaultHandler ??= createDeployCheckHandler();
  return defaultHandler(event, context);
}

async function checkRunningImage(input: WorkInput, ecs: ECSClient): Promise<DeployCheckResult> {
  const parameters = new Parameters(input.parameters, input.source, ['imageUri', 'cluster', 'service', 'containerName', 'verifiedDigests']);
  const reference = parameters.imageUri();
  const cluster = parameters.requiredString('cluster', { maxLength: 1600, pattern: ARN_OR_NAME, expected: 'an ECS cluster name or ARN' });
  const service = parameters.requiredString('service', { maxLength: 1600, pattern: ARN_OR_NAME, expected: 'an ECS service name or ARN' });
  const containerName = parameters.requiredString('containerName', { maxLength: 255 });
  const digest = reference.digest as string;
  const accepted = verifiedDigestsOf(parameters, digest);

  input.step(`listing the running tasks of ${service}`);
  const taskArns: string[] = [];
  let nextToken: string | undefined;
  do {
    const page = await callEcs(input, `list the running tasks of service ${service} in cluster ${cluster}`, () =>
      ecs.send(new ListTasksCommand({ cluster, serviceName: service, desiredStatus: 'RUNNING', nextToken }), { abortSignal: input.signal }),
    );
    taskArns.push(...(page.taskArns ?? []));
    nextToken = page.nextToken;
  } while (nextToken && taskArns.length < MAX_TASKS);
  const truncated = nextToken !== undefined;
  if (taskArns.length === 0) throw new Error(`service ${service} in cluster ${cluster} has no running task, so it does not run the signed image ${digest}`);

  input.step(`describing ${taskArns.length} task(s) of ${service}`);
  const tasks: Task[] = [];
  const mismatches: TaskMismatch[] = [];
  for (let i = 0; i < taskArns.length; i += DESCRIBE_BATCH) {
    const batch = taskArns.slice(i, i + DESCRIBE_BATCH);
    const page = await callEcs(input, `describe the tasks of service ${service} in cluster ${cluster}`, () =>
      ecs.send(new DescribeTasksCommand({ cluster, tasks: batch }), { abortSignal: input.signal }),
    );
    tasks.push(...(page.tasks ?? []));
    // A listed task ECS cannot describe is not known to run the signed image.
    for (const failure of page.failures ?? []) {
      mismatches.push({ taskArn: failure.arn ?? 'unknown', runningDigest: `a digest ECS could not report (${failure.reason ?? 'no reason given'})` });
    }
  }
  mismatches.push(...findMismatches(tasks, containerName, accepted));
  if (mismatches.length > 0) {
    const shown = mismatches.slice(0, 5).map((task) => `task ${task.taskArn} runs ${task.runningDigest ?? 'no reported digest'}`);
    throw new Error(
      `service ${service} does not run the signed image: ${shown.join('; ')}${mismatches.length > 5 ? `; and ${mismatches.length - 5} more` : ''}. ` +
        `Container "${containerName}" must run ${digest}${accepted.size > 1 ? ` or one of the ${accepted.size - 1} manifests it lists that the gate verified` : ''}. With the deployment circuit breaker enabled, ECS rolls back a failed deployment; ` +
        'otherwise redeploy the signed digest.',
    );
  }
  if (tasks.length === 0) {
    throw new Error(`ECS described none of the ${taskArns.length} running task(s) of service ${service} in cluster ${cluster}, so they are not known to run ${digest}`);
  }
  if (truncated) input.log.warn(`service ${service} has more than ${taskArns.length} running tasks; the first ${taskArns.length} were checked`, { digest });
  input.log.info(`${tasks.length} running task(s) of ${service} run the signed image`, { digest });
  const reported = [...new Set(tasks.map((task) => task.containers?.find((candidate) => candidate.name === containerName)?.imageDigest as string))];
  const reportedDigests = reported.some((entry) => entry !== digest) ? reported : undefined;
  return { imageDigest: digest, service, runningTasks: tasks.length, truncated, ...(reportedDigests ? { reportedDigests } : {}) };
}

/**
 * The digests a task may run: `verifiedDigests` (the gate's `VERIFIED_DIGESTS`), which must start with the image's
 * digest, or the image's digest alone.
 */
function verifiedDigestsOf(parameters: Parameters, digest: string): ReadonlySet<string> {
  const list = parameters.optionalString('verifiedDigests', {
    maxLength: MAX_VERIFIED_DIGESTS * 72,
    pattern: DIGEST_LIST,
    expected: 'sha256 digests separated by commas, as the verify gate exports them (#{DeployGate.VERIFIED_DIGESTS})',
  });
  if (list === undefined) return new Set([digest]);
  const digests = list.split(',');
  if (digests[0] !== digest) parameters.fail('verifiedDigests', `must start with the digest of imageUri (${digest}), as the verify gate exports it; it starts with ${digests[0]}`);
  return new Set(digests);
}

/** Runs an ECS call; its error becomes a message naming what could not be done (the deadline's error passes as it is). */
async function callEcs<T>(input: WorkInput, what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (input.signal.aborted) throw input.signal.reason;
    const name = (error as Error).name;
    const hint = name === 'AccessDeniedException' ? "; the function's role needs ecs:ListTasks and ecs:DescribeTasks on the service's tasks" : '';
    throw new Error(`could not ${what}: ${name}: ${(error as Error).message}${hint}`, { cause: error });
  }
}

/**
 * The tasks whose container `containerName` reports none of the `accepted` digests. Every task counts whatever its
 * status: a task still starting, whose container has not reported a digest yet, does not run it.
 */
export function findMismatches(tasks: readonly Task[], containerName: string, accepted: ReadonlySet<string>): TaskMismatch[] {
  const mismatches: TaskMismatch[] = [];
  for (const task of tasks) {
    const container = task.containers?.find((candidate) => candidate.name === containerName);
    if (!container || container.imageDigest === undefined || !accepted.has(container.imageDigest)) {
      const status = task.lastStatus && task.lastStatus !== 'RUNNING' ? ` (task status ${task.lastStatus})` : '';
      mismatches.push({
        taskArn: task.taskArn ?? 'unknown',
        runningDigest: (container ? container.imageDigest ?? 'no reported digest' : `no container named "${containerName}"`) + status,
      });
    }
  }
  return mismatches;
}
