/**
 * The post-deploy check of SignedImagePipeline's Verify stage for ECS: every running task of the service must
 * run the signed digest in the deployed container. (The signature of that digest is verified by the
 * ImageVerifier action before it.)
 *
 * Parameters: `imageUri` (pinned by digest), `cluster` (cluster ARN or name), `service` (service name or ARN),
 * `containerName`. A job succeeds with output variables `IMAGE_DIGEST` and `RUNNING_TASKS`, or fails naming the
 * service, the task and the digest it runs.
 */
// lambda/ is bundled by esbuild, so its AWS SDK clients are devDependencies.
// eslint-disable-next-line import/no-extraneous-dependencies
import { DescribeTasksCommand, ECSClient, ListTasksCommand, Task } from '@aws-sdk/client-ecs';
import { awsClients } from './clients';
import { JobResult, LambdaContext, Parameters, runHandler, WorkInput } from './job';
import { Logger } from './log';

/** A task whose container does not run the signed digest, or has not reported one yet. */
export interface TaskMismatch {
  readonly taskArn: string;
  readonly runningDigest?: string;
}

export interface DeployCheckResult {
  readonly imageDigest: string;
  readonly service: string;
  readonly runningTasks: number;
}

const ARN_OR_NAME = /^[A-Za-z0-9_:/.-]{1,1600}$/;
const DESCRIBE_BATCH = 100;
/** Bounded: a service with more running tasks than this is checked on its first pages only, and says so. */
const MAX_TASKS = 1000;

let ecsClient: ECSClient | undefined;

/** Replaces the ECS client (tests); `undefined` creates one on first use. */
export function setEcsClient(client: ECSClient | undefined): void {
  ecsClient = client;
}

function ecs(): ECSClient {
  ecsClient ??= new ECSClient({ region: process.env.AWS_REGION });
  return ecsClient;
}

const logger = new Logger();

export async function handler(event: unknown, context?: Partial<LambdaContext>): Promise<unknown> {
  return runHandler<DeployCheckResult>(
    {
      name: 'deploy-check',
      logger,
      timeoutHint: 'that the ECS API answers',
      codePipeline: () => awsClients().codePipeline(),
      work: checkRunningImage,
      jobResult: (result): JobResult => ({
        ok: true,
        outputVariables: { IMAGE_DIGEST: result.imageDigest, RUNNING_TASKS: String(result.runningTasks) },
        summary: `${result.runningTasks} running task(s) of ${result.service} run ${result.imageDigest}`,
      }),
    },
    event,
    context,
  );
}

async function checkRunningImage(input: WorkInput): Promise<DeployCheckResult> {
  const parameters = new Parameters(input.parameters, input.source, ['imageUri', 'cluster', 'service', 'containerName']);
  const reference = parameters.imageUri();
  const cluster = parameters.requiredString('cluster', { maxLength: 1600, pattern: ARN_OR_NAME, expected: 'an ECS cluster name or ARN' });
  const service = parameters.requiredString('service', { maxLength: 1600, pattern: ARN_OR_NAME, expected: 'an ECS service name or ARN' });
  const containerName = parameters.requiredString('containerName', { maxLength: 255 });
  const digest = reference.digest as string;

  input.step(`listing the running tasks of ${service}`);
  const taskArns: string[] = [];
  let nextToken: string | undefined;
  do {
    const page = await ecs().send(new ListTasksCommand({ cluster, serviceName: service, desiredStatus: 'RUNNING', nextToken }), { abortSignal: input.signal });
    taskArns.push(...(page.taskArns ?? []));
    nextToken = page.nextToken;
  } while (nextToken && taskArns.length < MAX_TASKS);
  if (taskArns.length === 0) throw new Error(`service ${service} in cluster ${cluster} has no running task, so it does not run the signed image ${digest}`);

  input.step(`describing ${taskArns.length} task(s) of ${service}`);
  const tasks: Task[] = [];
  for (let i = 0; i < taskArns.length; i += DESCRIBE_BATCH) {
    const page = await ecs().send(new DescribeTasksCommand({ cluster, tasks: taskArns.slice(i, i + DESCRIBE_BATCH) }), { abortSignal: input.signal });
    tasks.push(...(page.tasks ?? []));
  }
  const mismatches = findMismatches(tasks, containerName, digest);
  if (mismatches.length > 0) {
    const shown = mismatches.slice(0, 5).map((task) => `task ${task.taskArn} runs ${task.runningDigest ?? 'no reported digest'}`);
    throw new Error(
      `service ${service} does not run the signed image: ${shown.join('; ')}${mismatches.length > 5 ? `; and ${mismatches.length - 5} more` : ''}. ` +
        `Container "${containerName}" must run ${digest}. With the deployment circuit breaker enabled, ECS rolls back a failed deployment; ` +
        'otherwise redeploy the signed digest.',
    );
  }
  input.log.info(`${tasks.length} running task(s) of ${service} run the signed image`, { digest });
  return { imageDigest: digest, service, runningTasks: tasks.length };
}

/** The running tasks whose container `containerName` does not report `digest` (tasks still starting count as not running it). */
export function findMismatches(tasks: readonly Task[], containerName: string, digest: string): TaskMismatch[] {
  const mismatches: TaskMismatch[] = [];
  for (const task of tasks) {
    if (task.lastStatus !== undefined && task.lastStatus !== 'RUNNING') continue;
    const container = task.containers?.find((candidate) => candidate.name === containerName);
    if (!container || container.imageDigest !== digest) {
      mismatches.push({ taskArn: task.taskArn ?? 'unknown', runningDigest: container ? container.imageDigest : `no container named "${containerName}"` });
    }
  }
  return mismatches;
}
