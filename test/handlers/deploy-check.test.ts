import { DescribeTasksCommand, ListTasksCommand, Task } from '@aws-sdk/client-ecs';
import { handlerTestLifecycle, jobEvent, lambdaContext, mockAws, REGION, reportedFailure, reportedSuccess, SlowCall } from './support';
import { withEcsClient } from '../../lambda/handlers/clients';
import { createDeployCheckHandler } from '../../lambda/handlers/deploy-check';

const CLUSTER = `arn:aws:ecs:${REGION}:111122223333:cluster/prod`;
const SERVICE = 'web';
const CONTAINER = 'app';
const IMAGE = '111122223333.dkr.ecr.us-east-1.amazonaws.com/app';
const SIGNED = `sha256:${'a1'.repeat(32)}`;
const OTHER = `sha256:${'b2'.repeat(32)}`;
/** Platform manifests of the signed index SIGNED, verified by the gate with it. */
const AMD64 = `sha256:${'c3'.repeat(32)}`;
const ARM64 = `sha256:${'d4'.repeat(32)}`;
const VERIFIED_DIGESTS = [SIGNED, AMD64, ARM64].join(',');

const aws = mockAws();

const handler = createDeployCheckHandler({ clients: withEcsClient(aws.clients, REGION) });

handlerTestLifecycle(aws);

function task(id: number, digest: string | undefined, options: { container?: string; lastStatus?: string } = {}): Task {
  return {
    taskArn: `arn:aws:ecs:${REGION}:111122223333:task/prod/${id.toString(16).padStart(32, '0')}`,
    lastStatus: options.lastStatus ?? 'RUNNING',
    containers: [
      { name: 'sidecar', imageDigest: OTHER },
      { name: options.container ?? CONTAINER, imageDigest: digest },
    ],
  };
}

/** ECS answers: the tasks in pages of `pageSize` task ARNs. */
function runningTasks(tasks: Task[], pageSize = 100): void {
  const arns = tasks.map((entry) => entry.taskArn!);
  aws.ecs.on(ListTasksCommand).callsFake(async (input: { nextToken?: string }) => {
    const start = Number(input.nextToken ?? 0);
    const next = start + pageSize;
    return { taskArns: arns.slice(start, next), nextToken: next < arns.length ? String(next) : undefined };
  });
  aws.ecs.on(DescribeTasksCommand).callsFake(async (input: { tasks: string[] }) => ({
    tasks: tasks.filter((entry) => input.tasks.includes(entry.taskArn!)),
  }));
}

function parameters(overrides: Record<string, unknown> = {}): string {
  return JSON.stringify({ imageUri: `${IMAGE}@${SIGNED}`, cluster: CLUSTER, service: SERVICE, containerName: CONTAINER, ...overrides });
}

describe('deploy-check handler', () => {
  test('succeeds when every running task runs the expected digest', async () => {
    runningTasks([task(1, SIGNED), task(2, SIGNED), task(3, SIGNED)], 2);

    const returned = await handler(jobEvent(parameters(), 'job-match'), lambdaContext());

    const success = reportedSuccess(aws.codePipeline, 'job-match');
    expect(success.outputVariables).toEqual({ IMAGE_DIGEST: SIGNED, RUNNING_TASKS: '3' });
    expect(success.executionDetails?.summary).toBe(`3 running task(s) of ${SERVICE} run ${SIGNED}`);
    expect(returned).toEqual({ jobId: 'job-match', status: 'succeeded' });
    const lists = aws.ecs.commandCalls(ListTasksCommand).map((call) => call.args[0].input);
    expect(lists).toEqual([
      { cluster: CLUSTER, serviceName: SERVICE, desiredStatus: 'RUNNING', nextToken: undefined },
      { cluster: CLUSTER, serviceName: SERVICE, desiredStatus: 'RUNNING', nextToken: '2' },
    ]);
    expect(aws.ecs.commandCalls(DescribeTasksCommand)[0].args[0].input).toMatchObject({ cluster: CLUSTER });
  });

  test('fails naming the service, the task and the digest it runs when a task runs another digest', async () => {
    const stale = task(2, OTHER);
    runningTasks([task(1, SIGNED), stale]);

    await handler(jobEvent(parameters(), 'job-mismatch'), lambdaContext());

    const message = reportedFailure(aws.codePipeline, 'job-mismatch');
    expect(message).toMatch(new RegExp(`^service ${SERVICE} does not run the signed image: task ${stale.taskArn} runs ${OTHER}\\. `));
    expect(message).toContain(`Container "${CONTAINER}" must run ${SIGNED}.`);
    expect(message).not.toContain(task(1, SIGNED).taskArn);
  });

  describe('a multi-arch image: the gate verified the index and its platform manifests (verifiedDigests)', () => {
    test('tasks reporting the index digest or a verified platform manifest digest pass, and the summary says which', async () => {
      runningTasks([task(1, SIGNED), task(2, ARM64), task(3, AMD64)]);

      await handler(jobEvent(parameters({ verifiedDigests: VERIFIED_DIGESTS }), 'job-children'), lambdaContext());

      const success = reportedSuccess(aws.codePipeline, 'job-children');
      expect(success.outputVariables).toEqual({ IMAGE_DIGEST: SIGNED, RUNNING_TASKS: '3' });
      expect(success.executionDetails?.summary).toBe(
        `3 running task(s) of ${SERVICE} run ${SIGNED} (reported as ${SIGNED}, ${ARM64}, ${AMD64}, verified with it)`,
      );
    });

    test('a task running a digest that is neither the index nor one of its verified manifests fails', async () => {
      const unrelated = task(2, OTHER);
      runningTasks([task(1, ARM64), unrelated]);

      await handler(jobEvent(parameters({ verifiedDigests: VERIFIED_DIGESTS }), 'job-unrelated'), lambdaContext());

      const message = reportedFailure(aws.codePipeline, 'job-unrelated');
      expect(message).toMatch(new RegExp(`^service ${SERVICE} does not run the signed image: task ${unrelated.taskArn} runs ${OTHER}\\. `));
      expect(message).toContain(`Container "${CONTAINER}" must run ${SIGNED} or one of the 2 manifests it lists that the gate verified.`);
    });

    test('without verifiedDigests only the image digest passes: a platform manifest digest fails', async () => {
      const child = task(1, AMD64);
      runningTasks([child]);

      await handler(jobEvent(parameters(), 'job-child-unverified'), lambdaContext());

      expect(reportedFailure(aws.codePipeline, 'job-child-unverified')).toMatch(
        new RegExp(`^service ${SERVICE} does not run the signed image: task ${child.taskArn} runs ${AMD64}\\. `),
      );
    });

    test.each<[string, string, RegExp]>([
      ['a list that does not start with the image digest', [AMD64, SIGNED].join(','), /^UserParameters: verifiedDigests must start with the digest of imageUri \(sha256:a1/],
      ['a list without the image digest', ARM64, /^UserParameters: verifiedDigests must start with the digest of imageUri/],
      ['an entry that is not a digest', `${SIGNED},latest`, /^UserParameters: verifiedDigests must be sha256 digests separated by commas/],
      ['an unresolved variable', '#{DeployGate.VERIFIED_DIGESTS}', /^UserParameters: verifiedDigests must be sha256 digests separated by commas/],
    ])('%s fails the job before ECS is called', async (_name, verifiedDigests, expected) => {
      await handler(jobEvent(parameters({ verifiedDigests }), 'job-bad-list'), lambdaContext());

      expect(reportedFailure(aws.codePipeline, 'job-bad-list')).toMatch(expected);
      expect(aws.ecs.calls()).toHaveLength(0);
    });
  });

  test('a task without the container, without a reported digest, or still starting does not run the signed image', async () => {
    const renamed = task(1, SIGNED, { container: 'web' });
    const noDigest = task(2, undefined);
    const pending = task(3, undefined, { lastStatus: 'PENDING' });
    const pendingOld = task(4, OTHER, { lastStatus: 'PROVISIONING' });
    const activating = task(5, SIGNED, { lastStatus: 'ACTIVATING' });
    runningTasks([renamed, noDigest, pending, pendingOld, activating]);

    await handler(jobEvent(parameters(), 'job-missing-container'), lambdaContext());

    const message = reportedFailure(aws.codePipeline, 'job-missing-container');
    expect(message).toContain(`task ${renamed.taskArn} runs no container named "${CONTAINER}";`);
    expect(message).toContain(`task ${noDigest.taskArn} runs no reported digest;`);
    expect(message).toContain(`task ${pending.taskArn} runs no reported digest (task status PENDING);`);
    expect(message).toContain(`task ${pendingOld.taskArn} runs ${OTHER} (task status PROVISIONING).`);
    expect(message).not.toContain(activating.taskArn);
  });

  test('a listed task ECS cannot describe is not known to run the signed image', async () => {
    const known = task(1, SIGNED);
    const vanished = task(2, SIGNED);
    runningTasks([known, vanished]);
    aws.ecs.on(DescribeTasksCommand).resolves({ tasks: [known], failures: [{ arn: vanished.taskArn, reason: 'MISSING' }] });

    await handler(jobEvent(parameters(), 'job-describe-failure'), lambdaContext());

    expect(reportedFailure(aws.codePipeline, 'job-describe-failure')).toMatch(
      new RegExp(`^service ${SERVICE} does not run the signed image: task ${vanished.taskArn} runs a digest ECS could not report \\(MISSING\\)\\. `),
    );
  });

  test('tasks ECS lists but does not describe fail the check', async () => {
    runningTasks([task(1, SIGNED)]);
    aws.ecs.on(DescribeTasksCommand).resolves({ tasks: [] });

    await handler(jobEvent(parameters(), 'job-describe-none'), lambdaContext());

    expect(reportedFailure(aws.codePipeline, 'job-describe-none')).toBe(
      `ECS described none of the 1 running task(s) of service ${SERVICE} in cluster ${CLUSTER}, so they are not known to run ${SIGNED}`,
    );
  });

  test('a service with more than 1000 running tasks is checked on its first 1000, and the summary says so', async () => {
    runningTasks(Array.from({ length: 1050 }, (_, index) => task(index + 1, SIGNED)));

    await handler(jobEvent(parameters(), 'job-many'), lambdaContext());

    const success = reportedSuccess(aws.codePipeline, 'job-many');
    expect(success.outputVariables).toEqual({ IMAGE_DIGEST: SIGNED, RUNNING_TASKS: '1000' });
    expect(success.executionDetails?.summary).toBe(
      `1000 running task(s) of ${SERVICE} run ${SIGNED} (the service has more running tasks; the first 1000 were checked)`,
    );
    expect(aws.ecs.commandCalls(ListTasksCommand)).toHaveLength(10);
    expect(aws.ecs.commandCalls(DescribeTasksCommand).map((call) => call.args[0].input.tasks?.length)).toEqual(Array(10).fill(100));
  });

  test('a service with no running task fails naming service and digest', async () => {
    runningTasks([]);

    await handler(jobEvent(parameters(), 'job-no-tasks'), lambdaContext());

    expect(reportedFailure(aws.codePipeline, 'job-no-tasks')).toBe(
      `service ${SERVICE} in cluster ${CLUSTER} has no running task, so it does not run the signed image ${SIGNED}`,
    );
    expect(aws.ecs.commandCalls(DescribeTasksCommand)).toHaveLength(0);
  });

  test('an ECS error fails the job naming what could not be done', async () => {
    aws.ecs.on(ListTasksCommand).rejects(Object.assign(new Error('User is not authorized to perform ecs:ListTasks'), { name: 'AccessDeniedException' }));

    await handler(jobEvent(parameters(), 'job-ecs-error'), lambdaContext());

    expect(reportedFailure(aws.codePipeline, 'job-ecs-error')).toBe(
      `could not list the running tasks of service ${SERVICE} in cluster ${CLUSTER}: AccessDeniedException: User is not authorized to perform ecs:ListTasks; ` +
        'the function\'s role needs ecs:ListTasks and ecs:DescribeTasks on the service\'s tasks',
    );
  });

  test('a function about to time out reports failure', async () => {
    const slow = new SlowCall(1500);
    aws.ecs.on(ListTasksCommand).callsFake(slow.answer(() => ({ taskArns: [] })));

    await handler(jobEvent(parameters(), 'job-deadline'), lambdaContext(600));

    expect(slow.answered).toBe(false);
    expect(reportedFailure(aws.codePipeline, 'job-deadline')).toMatch(
      new RegExp(`^the deploy-check function was about to time out \\(1 s were left when it started\\) while listing the running tasks of ${SERVICE};`),
    );
    await slow.settled();
    expect(aws.codePipeline.calls()).toHaveLength(1);
  });

  test('a direct invocation about to time out throws the deadline error', async () => {
    const slow = new SlowCall(1500);
    aws.ecs.on(ListTasksCommand).callsFake(slow.answer(() => ({ taskArns: [] })));

    const invocation = handler(JSON.parse(parameters()), lambdaContext(600));

    await expect(invocation).rejects.toThrow(/^the deploy-check function was about to time out \(1 s were left when it started\) while listing/);
    await expect(invocation).rejects.toMatchObject({ name: 'DeadlineError' });
    expect(slow.answered).toBe(false);
    await slow.settled();
    expect(aws.codePipeline.calls()).toHaveLength(0);
  });

  test.each<[string, Record<string, unknown>, RegExp]>([
    ['a tag where a digest is needed', { imageUri: `${IMAGE}:latest` }, /^UserParameters: imageUri must pin the image by digest/],
    ['a missing cluster', { cluster: undefined }, /^UserParameters: cluster is required$/],
    ['a service of the wrong type', { service: ['web'] }, /^UserParameters: service must be a string, got an array$/],
    ['a service that is no name or ARN', { service: 'web service' }, /^UserParameters: service must be an ECS service name or ARN$/],
    ['a missing containerName', { containerName: undefined }, /^UserParameters: containerName is required$/],
  ])('%s fails the job naming the field, before ECS is called', async (_name, overrides, expected) => {
    await handler(jobEvent(parameters(overrides), 'job-params'), lambdaContext());

    expect(reportedFailure(aws.codePipeline, 'job-params')).toMatch(expected);
    expect(aws.ecs.calls()).toHaveLength(0);
  });

  test('a direct invocation returns the result', async () => {
    runningTasks([task(1, SIGNED)]);

    await expect(handler(JSON.parse(parameters()))).resolves.toEqual({ imageDigest: SIGNED, service: SERVICE, runningTasks: 1, truncated: false });
    expect(aws.codePipeline.calls()).toHaveLength(0);
  });
});
