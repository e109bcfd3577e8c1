/**
 * The ECS enforcement handler against the real test registry, with real signatures (the test CA in AWS Signer's
 * envelope shape) and ECS and SNS mocked in the shapes of the ECS documentation: lifecycle hook payloads from
 * developerguide/lambda-lifecycle-hooks.md ("Lifecycle payloads", PRE_SCALE_UP) and task events from
 * developerguide/ecs_task_events.md ("ECS Task State Change").
 */
import { randomUUID } from 'node:crypto';
import { DescribeServiceRevisionsCommand, DescribeTasksCommand, StopTaskCommand, StopTaskCommandInput } from '@aws-sdk/client-ecs';
import { GetRevocationStatusCommand } from '@aws-sdk/client-signer';
import { PublishCommand, PublishCommandInput, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { ACCOUNT, captureConsole, FakeAwsSigner, lambdaContext, mockAws, pushTestImage, REGION, registryEnv, SlowCall, testProfile, trustPolicy } from './support';
import { createEcsEnforcementHandler, enforcementClients, HookResponse, MAX_HOOK_ATTEMPTS, TaskResult } from '../../lambda/handlers/ecs-enforcement';
import { attachAttestation } from '../../lambda/notary/attestation-attach';
import { buildPayload } from '../../lambda/notary/payload';
import { signImage } from '../../lambda/notary/sign-image';
import { SignatureStore } from '../../lambda/notary/signature-store';
import { RegistryRepository } from '../../lambda/oci/registry-repository';

const RELEASE = testProfile('release');
const OTHER = testProfile('other_team', 'ZyXwVu9876');
const CLUSTER_ARN = `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/web`;
const SERVICE_ARN = `arn:aws:ecs:${REGION}:${ACCOUNT}:service/web/api`;
const REVISION_ARN = `arn:aws:ecs:${REGION}:${ACCOUNT}:service-revision/web/api/9313423515462893900`;
const TOPIC_ARN = `arn:aws:sns:${REGION}:${ACCOUNT}:image-findings`;
/** Nothing listens on port 1 of the loopback: every request is refused, as by a registry that is down. */
const DOWN_REGISTRY = '127.0.0.1:1';

const aws = mockAws();
const sns = mockClient(SNSClient);
let fake: FakeAwsSigner;
let logs: ReturnType<typeof captureConsole>;

beforeAll(async () => {
  fake = await FakeAwsSigner.create([RELEASE, OTHER]);
});
beforeEach(() => {
  aws.reset(fake);
  sns.reset();
  sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
  aws.ecs.on(StopTaskCommand).resolves({ task: {} });
  // DescribeTasks before StopTask: the task is still meant to run.
  aws.ecs.on(DescribeTasksCommand).callsFake((input: { tasks?: string[] }) => ({
    tasks: (input.tasks ?? []).map((taskArn) => ({ taskArn, lastStatus: 'RUNNING', desiredStatus: 'RUNNING' })),
    failures: [],
  }));
  logs = captureConsole();
});
afterEach(() => logs.restore());
afterAll(() => {
  aws.restore();
  sns.restore();
});

function enforcement(env: Record<string, string> = {}) {
  return createEcsEnforcementHandler({
    env: {
      TRUST_POLICY: trustPolicy([RELEASE.profileArn]),
      TRUST_STORES: fake.trustStores(),
      ENFORCEMENT_MODE: 'ENFORCE',
      CLUSTER_ARNS: JSON.stringify([CLUSTER_ARN]),
      NOTIFICATION_TOPIC_ARN: TOPIC_ARN,
      ...registryEnv(),
      ['REGISTRY_PLAIN_HTTP_HOSTS']: `${registryEnv().REGISTRY_PLAIN_HTTP_HOSTS},${DOWN_REGISTRY}`,
      ...env,
    },
    clients: enforcementClients(aws.clients, REGION),
  });
}

/** A pushed image (tag v1), signed as `signing` says. */
async function image(prefix: string, signing: 'release' | 'other_team' | 'tampered' | 'unsigned' = 'release') {
  const pushed = await pushTestImage(`handlers/ecs-${prefix}`);
  if (signing === 'tampered') {
    // signImage checks what a signer returns before pushing it, so the tampered envelope is stored directly: a real
    // signature by the trusted profile with one character of the JWS signature flipped.
    const signed = await fake.signers.get('release')!.sign(buildPayload(pushed.image));
    const jws = JSON.parse(Buffer.from(signed.envelope).toString('utf8')) as { signature: string };
    jws.signature = (jws.signature[0] === 'A' ? 'B' : 'A') + jws.signature.slice(1);
    await new SignatureStore(pushed.repository).pushSignature({
      subject: pushed.image,
      signed: { ...signed, envelope: Buffer.from(JSON.stringify(jws)) },
      format: 'oci-1.1',
      signingTime: new Date(),
    });
  } else if (signing !== 'unsigned') {
    await signImage({ repository: pushed.repository, tagOrDigest: pushed.image.digest, signer: fake.signers.get(signing)! });
  }
  return { uri: pushed.uri, digest: pushed.image.digest, tagged: `${pushed.uri}:v1`, pinned: `${pushed.uri}@${pushed.image.digest}` };
}

/** The PRE_SCALE_UP payload of developerguide/lambda-lifecycle-hooks.md. */
function hookEvent(hookDetails?: Record<string, unknown>): Record<string, unknown> {
  return {
    executionId: randomUUID(),
    lifecycleStage: 'PRE_SCALE_UP',
    resourceArn: `arn:aws:ecs:${REGION}:${ACCOUNT}:service-deployment/web/api/EZe5RNVLH6PPzHXINuP28`,
    executionDetails: { serviceArn: SERVICE_ARN, targetServiceRevisionArn: REVISION_ARN, testTrafficWeights: {}, productionTrafficWeights: {} },
    ...(hookDetails ? { hookDetails } : {}),
  };
}

/** DescribeServiceRevisions answers the target revision with these container images (as ECS resolved them). */
function revisionImages(images: Array<{ containerName: string; image: string; imageDigest?: string }>): void {
  aws.ecs.on(DescribeServiceRevisionsCommand).resolves({
    serviceRevisions: [{ serviceRevisionArn: REVISION_ARN, serviceArn: SERVICE_ARN, clusterArn: CLUSTER_ARN, containerImages: images }],
    failures: [],
  });
}

/** An `ECS Task State Change` event of developerguide/ecs_task_events.md for a RUNNING task. */
type Containers = Array<{ name: string; image: string; imageDigest?: string }>;
function taskEvent(containers: Containers, options: { cluster?: string; group?: string; taskId?: string } = {}) {
  const cluster = options.cluster ?? CLUSTER_ARN;
  const clusterName = cluster.split('/').pop();
  const taskArn = `arn:aws:ecs:${REGION}:${ACCOUNT}:task/${clusterName}/${options.taskId ?? randomUUID().replace(/-/g, '')}`;
  return {
    'version': '0',
    'id': randomUUID(),
    'detail-type': 'ECS Task State Change',
    'source': 'aws.ecs',
    'account': ACCOUNT,
    'time': '2026-01-23T17:57:58Z',
    'region': REGION,
    'resources': [taskArn],
    'detail': {
      clusterArn: cluster,
      containers: containers.map((container) => ({
        containerArn: `arn:aws:ecs:${REGION}:${ACCOUNT}:container/${randomUUID()}`,
        lastStatus: 'RUNNING',
        taskArn,
        cpu: '0',
        ...container,
      })),
      launchType: 'FARGATE',
      desiredStatus: 'RUNNING',
      group: options.group ?? 'family:batch-job',
      lastStatus: 'RUNNING',
      taskArn,
      taskDefinitionArn: `arn:aws:ecs:${REGION}:${ACCOUNT}:task-definition/batch-job:4`,
      version: 4,
    },
  };
}

function stops(): StopTaskCommandInput[] {
  return aws.ecs.commandCalls(StopTaskCommand).map((call) => call.args[0].input);
}

function published(): Array<{ input: PublishCommandInput; body: any }> {
  return sns.commandCalls(PublishCommand).map((call) => ({ input: call.args[0].input, body: JSON.parse(call.args[0].input.Message ?? '{}') }));
}

describe('lifecycle hook (PRE_SCALE_UP)', () => {
  test('a revision whose image is signed by a trusted profile: SUCCEEDED, the revision ECS named is the one read', async () => {
    const signed = await image('hook-signed');
    revisionImages([{ containerName: 'web', image: signed.tagged, imageDigest: signed.digest }]);

    const response = await enforcement()(hookEvent(), lambdaContext()) as HookResponse;

    expect(response).toEqual({ hookStatus: 'SUCCEEDED' });
    const described = aws.ecs.commandCalls(DescribeServiceRevisionsCommand).map((call) => call.args[0].input);
    expect(described).toEqual([{ serviceRevisionArns: [REVISION_ARN] }]);
    expect(published()).toEqual([]);
  });

  test('an unsigned image: FAILED (ECS rolls the deployment back), and the topic is told the image and the check', async () => {
    const unsigned = await image('hook-unsigned', 'unsigned');
    revisionImages([{ containerName: 'web', image: unsigned.tagged, imageDigest: unsigned.digest }]);

    const response = await enforcement()(hookEvent(), lambdaContext()) as HookResponse;

    expect(response).toEqual({ hookStatus: 'FAILED' });
    const [notice] = published();
    expect(notice.input.TopicArn).toBe(TOPIC_ARN);
    expect(notice.body).toMatchObject({ mode: 'ENFORCE', action: 'blocked', source: 'service-deployment' });
    expect(notice.body.findings).toEqual([expect.objectContaining({ container: 'web', status: 'rejected', check: 'no-signature', digest: unsigned.digest })]);
  });

  test('a tampered signature: FAILED on the integrity check', async () => {
    const tampered = await image('hook-tampered', 'tampered');
    revisionImages([{ containerName: 'web', image: tampered.tagged, imageDigest: tampered.digest }]);

    expect(await enforcement()(hookEvent(), lambdaContext())).toEqual({ hookStatus: 'FAILED' });
    expect(published()[0].body.findings[0]).toMatchObject({ status: 'rejected', check: 'integrity' });
  });

  test('a signature by a profile the trust policy does not trust: FAILED on the authenticity check', async () => {
    const untrusted = await image('hook-untrusted', 'other_team');
    revisionImages([{ containerName: 'web', image: untrusted.tagged, imageDigest: untrusted.digest }]);

    expect(await enforcement()(hookEvent(), lambdaContext())).toEqual({ hookStatus: 'FAILED' });
    expect(published()[0].body.findings[0]).toMatchObject({ status: 'rejected', check: 'authenticity' });
  });

  test('several containers: one unsigned sidecar fails the whole revision, and only it is reported', async () => {
    const app = await image('hook-app');
    const sidecar = await image('hook-sidecar', 'unsigned');
    revisionImages([
      { containerName: 'app', image: app.tagged, imageDigest: app.digest },
      { containerName: 'sidecar', image: sidecar.tagged, imageDigest: sidecar.digest },
    ]);

    expect(await enforcement()(hookEvent(), lambdaContext())).toEqual({ hookStatus: 'FAILED' });
    expect(published()[0].body.findings.map((finding: any) => [finding.container, finding.status])).toEqual([['sidecar', 'rejected']]);
  });

  test('an image ECS resolved by tag only (no digest in the revision) is resolved in the registry and verified by that digest', async () => {
    const signed = await image('hook-tag');
    revisionImages([{ containerName: 'web', image: signed.tagged }]);

    expect(await enforcement()(hookEvent(), lambdaContext())).toEqual({ hookStatus: 'SUCCEEDED' });
  });

  test('an exempt repository passes unsigned; the exemption is reported in the log with its reason', async () => {
    const app = await image('hook-exempt-app');
    const agent = await image('hook-exempt-agent', 'unsigned');
    revisionImages([
      { containerName: 'app', image: app.tagged, imageDigest: app.digest },
      { containerName: 'agent', image: agent.tagged, imageDigest: agent.digest },
    ]);
    const handler = enforcement({ EXEMPTIONS: JSON.stringify([{ repository: agent.uri, reason: 'AWS-managed agent, verified by its vendor' }]) });

    expect(await handler(hookEvent(), lambdaContext())).toEqual({ hookStatus: 'SUCCEEDED' });
    expect(published()).toEqual([]);
  });

  test('an exemption pinned to a digest covers that image only, not another image of the repository', async () => {
    const unsigned = await image('hook-exempt-pinned', 'unsigned');
    revisionImages([{ containerName: 'web', image: unsigned.tagged, imageDigest: unsigned.digest }]);
    const other = `sha256:${'0'.repeat(64)}`;
    const handler = enforcement({ EXEMPTIONS: JSON.stringify([{ repository: unsigned.uri, digest: other, reason: 'a pinned vendor image only' }]) });

    expect(await handler(hookEvent(), lambdaContext())).toEqual({ hookStatus: 'FAILED' });
  });

  test('an exemption pinned to the digest a tag resolves to covers the image ECS named by tag', async () => {
    const unsigned = await image('hook-exempt-tag', 'unsigned');
    revisionImages([{ containerName: 'web', image: unsigned.tagged }]);
    const handler = enforcement({ EXEMPTIONS: JSON.stringify([{ repository: unsigned.uri, digest: unsigned.digest, reason: 'a pinned vendor image only' }]) });

    expect(await handler(hookEvent(), lambdaContext())).toEqual({ hookStatus: 'SUCCEEDED' });
  });

  test('AUDIT: an unsigned image is reported, the deployment continues', async () => {
    const unsigned = await image('hook-audit', 'unsigned');
    revisionImages([{ containerName: 'web', image: unsigned.tagged, imageDigest: unsigned.digest }]);

    expect(await enforcement({ ENFORCEMENT_MODE: 'AUDIT' })(hookEvent(), lambdaContext())).toEqual({ hookStatus: 'SUCCEEDED' });
    expect(published()[0].body).toMatchObject({ mode: 'AUDIT', action: 'reported' });
  });

  describe('registry down', () => {
    const digest = `sha256:${'a'.repeat(64)}`;
    beforeEach(() => revisionImages([{ containerName: 'web', image: `${DOWN_REGISTRY}/app:v1`, imageDigest: digest }]));

    test('the hook answers IN_PROGRESS with a callBackDelay and counts the attempt in hookDetails', async () => {
      const response = await enforcement()(hookEvent(), lambdaContext()) as HookResponse;

      expect(response).toEqual({ hookStatus: 'IN_PROGRESS', callBackDelay: 15, hookDetails: { signedImageEnforcementAttempt: 1 } });
      expect(published()).toEqual([]);
    }, 30_000);

    test('on the last attempt the default failure policy (BLOCK) answers FAILED', async () => {
      const response = await enforcement()(hookEvent({ signedImageEnforcementAttempt: MAX_HOOK_ATTEMPTS - 1 }), lambdaContext());

      expect(response).toEqual({ hookStatus: 'FAILED' });
      expect(published()[0].body.findings[0]).toMatchObject({ status: 'unavailable', digest });
    }, 30_000);

    test('on the last attempt failure policy ALLOW answers SUCCEEDED and reports', async () => {
      const response = await enforcement({ FAILURE_POLICY: 'ALLOW' })(hookEvent({ signedImageEnforcementAttempt: MAX_HOOK_ATTEMPTS - 1 }), lambdaContext());

      expect(response).toEqual({ hookStatus: 'SUCCEEDED' });
      expect(published()[0].body).toMatchObject({ action: 'allowed' });
    }, 30_000);
  });

  test('a function about to time out answers IN_PROGRESS, so that ECS invokes it again instead of rolling back', async () => {
    const signed = await image('hook-deadline');
    revisionImages([{ containerName: 'web', image: signed.tagged, imageDigest: signed.digest }]);
    const slow = new SlowCall(2000);
    aws.ecs.on(DescribeServiceRevisionsCommand).callsFake(slow.answer(() => ({ serviceRevisions: [] })));

    const response = await enforcement()(hookEvent(), lambdaContext(400)) as HookResponse;

    expect(response.hookStatus).toBe('IN_PROGRESS');
    expect(slow.answered).toBe(false);
    await slow.settled();
  });

  test('DescribeServiceRevisions refused (a role policy still propagating): IN_PROGRESS naming the permission, not a rollback', async () => {
    aws.ecs.on(DescribeServiceRevisionsCommand).rejects(Object.assign(new Error('not authorized'), { name: 'AccessDeniedException' }));

    expect(await enforcement()(hookEvent(), lambdaContext())).toMatchObject({ hookStatus: 'IN_PROGRESS' });
    expect(logs.text()).toContain("needs ecs:DescribeServiceRevisions on the cluster's revisions");
  });

  test('a misconfigured function answers FAILED in ENFORCE (a missing answer would also roll back, without a reason in the log)', async () => {
    const response = await enforcement({ ENFORCEMENT_MODE: 'enforce-please' })(hookEvent(), lambdaContext());

    expect(response).toEqual({ hookStatus: 'FAILED' });
    expect(logs.text()).toContain('ENFORCEMENT_MODE must be ENFORCE or AUDIT');
  });
});

describe('ECS Task State Change (RunTask, scheduled tasks, AWS Batch, service tasks)', () => {
  test('a task whose image is signed keeps running', async () => {
    const signed = await image('task-signed');

    const result = await enforcement()(taskEvent([{ name: 'job', image: signed.tagged, imageDigest: signed.digest }]), lambdaContext()) as TaskResult;

    expect(result.action).toBe('allowed');
    expect(stops()).toEqual([]);
  });

  test('ENFORCE stops a task with an unsigned image, in its cluster, with a reason naming the image and the check', async () => {
    const unsigned = await image('task-unsigned', 'unsigned');
    const event = taskEvent([{ name: 'job', image: unsigned.tagged, imageDigest: unsigned.digest }]);

    const result = await enforcement()(event, lambdaContext()) as TaskResult;

    expect(result.action).toBe('stopped');
    expect(stops()).toEqual([{ cluster: CLUSTER_ARN, task: event.detail.taskArn, reason: `Signed image enforcement: ${unsigned.pinned} failed no-signature` }]);
    expect(published()[0].body).toMatchObject({ action: 'stopped', source: 'task' });
  });

  test('a tampered signature stops the task on the integrity check', async () => {
    const tampered = await image('task-tampered', 'tampered');

    await enforcement()(taskEvent([{ name: 'job', image: tampered.tagged, imageDigest: tampered.digest }]), lambdaContext());

    expect(stops()[0].reason).toBe(`Signed image enforcement: ${tampered.pinned} failed integrity`);
  });

  test('an untrusted signer stops the task on the authenticity check', async () => {
    const untrusted = await image('task-untrusted', 'other_team');

    await enforcement()(taskEvent([{ name: 'job', image: untrusted.tagged, imageDigest: untrusted.digest }]), lambdaContext());

    expect(stops()[0].reason).toBe(`Signed image enforcement: ${untrusted.pinned} failed authenticity`);
  });

  test('an image by tag without imageDigest (not an ECR image) is resolved to its digest; the reason names that digest', async () => {
    const unsigned = await image('task-tag', 'unsigned');

    await enforcement()(taskEvent([{ name: 'job', image: unsigned.tagged }]), lambdaContext());

    expect(stops()[0].reason).toBe(`Signed image enforcement: ${unsigned.pinned} failed no-signature`);
  });

  test('several containers: a signed app, an exempt agent and one unsigned container: stopped for the unsigned one', async () => {
    const app = await image('task-multi-app');
    const agent = await image('task-multi-agent', 'unsigned');
    const rogue = await image('task-multi-rogue', 'unsigned');
    const handler = enforcement({ EXEMPTIONS: JSON.stringify([{ repository: agent.uri, reason: 'vendor agent, not built here' }]) });

    const result = await handler(taskEvent([
      { name: 'app', image: app.tagged, imageDigest: app.digest },
      { name: 'agent', image: agent.tagged, imageDigest: agent.digest },
      { name: 'rogue', image: rogue.tagged, imageDigest: rogue.digest },
    ]), lambdaContext()) as TaskResult;

    expect(result.findings.map((finding) => [finding.container, finding.verdict.status])).toEqual([['app', 'verified'], ['agent', 'exempt'], ['rogue', 'rejected']]);
    expect(stops()[0].reason).toBe(`Signed image enforcement: ${rogue.pinned} failed no-signature`);
  });

  test('an exempt image keeps running unsigned', async () => {
    const agent = await image('task-exempt', 'unsigned');
    const handler = enforcement({ EXEMPTIONS: JSON.stringify([{ repository: agent.uri, reason: 'AWS-managed sidecar image' }]) });

    expect((await handler(taskEvent([{ name: 'agent', image: agent.tagged, imageDigest: agent.digest }]), lambdaContext()) as TaskResult).action).toBe('allowed');
    expect(stops()).toEqual([]);
  });

  test('registry down: the default failure policy stops the task; ALLOW keeps it and reports', async () => {
    const event = () => taskEvent([{ name: 'job', image: `${DOWN_REGISTRY}/app:v1`, imageDigest: `sha256:${'b'.repeat(64)}` }]);

    expect((await enforcement()(event(), lambdaContext()) as TaskResult).action).toBe('stopped');
    expect(stops()[0].reason).toBe(`Signed image enforcement: ${DOWN_REGISTRY}/app@sha256:${'b'.repeat(64)} failed verification-unavailable`);

    aws.ecs.resetHistory();
    expect((await enforcement({ FAILURE_POLICY: 'ALLOW' })(event(), lambdaContext()) as TaskResult).action).toBe('reported');
    expect(stops()).toEqual([]);
  }, 60_000);

  test('AUDIT reports an unsigned image and stops nothing', async () => {
    const unsigned = await image('task-audit', 'unsigned');

    const result = await enforcement({ ENFORCEMENT_MODE: 'AUDIT' })(taskEvent([{ name: 'job', image: unsigned.tagged, imageDigest: unsigned.digest }]), lambdaContext()) as TaskResult;

    expect(result.action).toBe('reported');
    expect(stops()).toEqual([]);
    expect(published()[0].body).toMatchObject({ mode: 'AUDIT', action: 'reported' });
  });

  test('verdicts are cached by digest: a service scaling out to three tasks verifies its image once', async () => {
    const signed = await image('task-cache');
    const handler = enforcement();

    for (let i = 0; i < 3; i++) {
      await handler(taskEvent([{ name: 'web', image: signed.tagged, imageDigest: signed.digest }], { group: 'service:api' }), lambdaContext());
    }

    // One revocation check per verification (AWS Signer signatures, strict level).
    expect(aws.signer.commandCalls(GetRevocationStatusCommand)).toHaveLength(1);
  });

  test('a rejection is kept for a minute only: an image signed after a blocked deployment deploys again', async () => {
    const pushed = await pushTestImage('handlers/ecs-task-signed-later');
    revisionImages([{ containerName: 'web', image: `${pushed.uri}:v1`, imageDigest: pushed.image.digest }]);
    const handler = enforcement();

    expect(await handler(hookEvent(), lambdaContext())).toEqual({ hookStatus: 'FAILED' });
    await signImage({ repository: pushed.repository, tagOrDigest: pushed.image.digest, signer: fake.signers.get('release')! });
    // Within the minute the cached rejection stands (a scale-out burst is not verified once per task).
    expect(await handler(hookEvent(), lambdaContext())).toEqual({ hookStatus: 'FAILED' });

    const now = Date.now.bind(Date);
    const clock = jest.spyOn(Date, 'now').mockImplementation(() => now() + 61_000);
    try {
      expect(await handler(hookEvent(), lambdaContext())).toEqual({ hookStatus: 'SUCCEEDED' });
    } finally {
      clock.mockRestore();
    }
  });

  test('a task already stopped is not stopped twice when ECS sends another RUNNING event for it', async () => {
    const unsigned = await image('task-twice', 'unsigned');
    const handler = enforcement();
    const event = taskEvent([{ name: 'job', image: unsigned.tagged, imageDigest: unsigned.digest }], { taskId: 'c13b4cb40f1f4fe4a2971f76ae5a47ad' });

    await handler(event, lambdaContext());
    const again = await handler(event, lambdaContext()) as TaskResult;

    expect(again.action).toBe('ignored');
    expect(stops()).toHaveLength(1);
  });

  test('a task already stopping (another execution environment or its service stopped it) is not stopped again, nor reported', async () => {
    const unsigned = await image('task-stopping', 'unsigned');
    const event = taskEvent([{ name: 'job', image: unsigned.tagged, imageDigest: unsigned.digest }]);
    aws.ecs.on(DescribeTasksCommand).resolves({
      tasks: [{ taskArn: event.detail.taskArn, lastStatus: 'RUNNING', desiredStatus: 'STOPPED', stoppedReason: 'Signed image enforcement: …' }],
      failures: [],
    });

    const result = await enforcement()(event, lambdaContext()) as TaskResult;

    expect(result.action).toBe('ignored');
    expect(result.reason).toMatch(/stopping already \(desired status STOPPED/);
    const described = aws.ecs.commandCalls(DescribeTasksCommand).map((call) => call.args[0].input);
    expect(described).toEqual([{ cluster: CLUSTER_ARN, tasks: [event.detail.taskArn] }]);
    expect(stops()).toEqual([]);
    expect(published()).toEqual([]);
  });

  test('a task ECS no longer knows (MISSING) is not stopped', async () => {
    const unsigned = await image('task-missing', 'unsigned');
    const event = taskEvent([{ name: 'job', image: unsigned.tagged, imageDigest: unsigned.digest }]);
    aws.ecs.on(DescribeTasksCommand).resolves({ tasks: [], failures: [{ arn: event.detail.taskArn, reason: 'MISSING' }] });

    expect((await enforcement()(event, lambdaContext()) as TaskResult).action).toBe('ignored');
    expect(stops()).toEqual([]);
  });

  test('DescribeTasks refused: the task is stopped all the same (a failed look-up never lets an image run)', async () => {
    const unsigned = await image('task-describe-denied', 'unsigned');
    aws.ecs.on(DescribeTasksCommand).rejects(Object.assign(new Error('not authorized'), { name: 'AccessDeniedException' }));

    const result = await enforcement()(taskEvent([{ name: 'job', image: unsigned.tagged, imageDigest: unsigned.digest }]), lambdaContext()) as TaskResult;

    expect(result.action).toBe('stopped');
    expect(stops()).toHaveLength(1);
  });

  test('a task of a cluster the function does not enforce is ignored', async () => {
    const unsigned = await image('task-other-cluster', 'unsigned');
    const other = `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/other`;

    const result = await enforcement()(taskEvent([{ name: 'job', image: unsigned.tagged, imageDigest: unsigned.digest }], { cluster: other }), lambdaContext()) as TaskResult;

    expect(result.action).toBe('ignored');
    expect(stops()).toEqual([]);
  });

  test('StopTask refused: the invocation fails (Lambda retries the event) with the permission it needs', async () => {
    const unsigned = await image('task-denied', 'unsigned');
    aws.ecs.on(StopTaskCommand).rejects(Object.assign(new Error('not authorized to perform ecs:StopTask'), { name: 'AccessDeniedException' }));

    await expect(enforcement()(taskEvent([{ name: 'job', image: unsigned.tagged, imageDigest: unsigned.digest }]), lambdaContext()))
      .rejects.toThrow(/could not stop task .*AccessDeniedException.*needs ecs:StopTask/);
  });
});

describe('events and configuration', () => {
  test('an event of another kind is refused, naming what is expected', async () => {
    await expect(enforcement()({ 'source': 'aws.s3', 'detail-type': 'Object Created', 'detail': {} })).rejects.toThrow(/neither an ECS service deployment lifecycle hook/);
  });

  test('a task event with a malformed field is refused naming the field', async () => {
    const event = taskEvent([{ name: 'job', image: 'registry.example.com/app:v1', imageDigest: 'sha256:short' }]);
    await expect(enforcement()(event)).rejects.toThrow(/detail\.containers\[0\]\.imageDigest must be a sha256 digest/);
  });

  test.each([
    [{ FAILURE_POLICY: 'maybe' }, /FAILURE_POLICY must be BLOCK or ALLOW/],
    [{ CLUSTER_ARNS: '["web"]' }, /CLUSTER_ARNS\[0\] must be an ECS cluster ARN/],
    [{ EXEMPTIONS: '[{"repository": "docker.io/library/nginx:latest", "reason": "a web server image"}]' }, /EXEMPTIONS\[0\]\.repository must be a repository without tag or digest/],
    [{ EXEMPTIONS: '[{"repository": "docker.io/library/nginx", "reason": "ok"}]' }, /EXEMPTIONS\[0\]\.reason must say why/],
    [{ NOTIFICATION_TOPIC_ARN: 'my-topic' }, /NOTIFICATION_TOPIC_ARN must be an SNS topic ARN/],
    [{ REQUIRED_ATTESTATIONS: '{"provenance": {"builderIsPipeline": true}}' }, /REQUIRED_ATTESTATIONS\.provenance\.builderIsPipeline: ECS events come from no pipeline job/],
  ])('%j is refused at cold start, and every task event fails with the error', async (env, message) => {
    await expect(enforcement(env as Record<string, string>)(taskEvent([]))).rejects.toThrow(message);
  });
});

describe('lifecycle hook: required attestations (REQUIRED_ATTESTATIONS)', () => {
  const PIPELINE_ARN = `arn:aws:codepipeline:${REGION}:${ACCOUNT}:release-pipeline`;
  const REQUIRED = JSON.stringify({ provenance: { builderId: PIPELINE_ARN, sourceRepository: 'https://github.com/org/app', sourceBranch: 'main' }, sbom: 'spdx' });
  const provenance = (builderId: string) => new TextEncoder().encode(JSON.stringify({
    buildDefinition: {
      buildType: 'https://example.com/build',
      resolvedDependencies: [{ uri: 'git+https://github.com/org/app@refs/heads/main', digest: { gitCommit: '3f786850e387550fdab836ed7e6dc881de23001b' } }],
    },
    runDetails: { builder: { id: builderId } },
  }));
  const SPDX = new TextEncoder().encode(JSON.stringify({ spdxVersion: 'SPDX-2.3', SPDXID: 'SPDXRef-DOCUMENT', name: 'app' }));

  async function attested(prefix: string, builderId: string, sbom = true) {
    const signed = await image(prefix);
    const repository = new RegistryRepository({ registry: signed.uri.split('/')[0], repository: signed.uri.split('/').slice(1).join('/'), plainHttp: true });
    const signer = fake.signers.get('release')!;
    await attachAttestation({ repository, tagOrDigest: signed.digest, type: 'slsa-provenance', document: provenance(builderId), signer });
    if (sbom) await attachAttestation({ repository, tagOrDigest: signed.digest, type: 'spdx', document: SPDX, signer });
    return signed;
  }

  test('an image with signed provenance from the pipeline and a signed SBOM: SUCCEEDED', async () => {
    const signed = await attested('hook-attested', PIPELINE_ARN);
    revisionImages([{ containerName: 'web', image: signed.tagged, imageDigest: signed.digest }]);
    expect(await enforcement({ REQUIRED_ATTESTATIONS: REQUIRED })(hookEvent(), lambdaContext())).toEqual({ hookStatus: 'SUCCEEDED' });
  });

  test('a signed image without provenance: FAILED on the attestation check, naming what is missing', async () => {
    const signed = await image('hook-no-provenance');
    revisionImages([{ containerName: 'web', image: signed.tagged, imageDigest: signed.digest }]);
    expect(await enforcement({ REQUIRED_ATTESTATIONS: REQUIRED })(hookEvent(), lambdaContext())).toEqual({ hookStatus: 'FAILED' });
    const [notice] = published();
    expect(notice.body.findings).toEqual([expect.objectContaining({
      status: 'rejected',
      check: 'attestation',
      message: expect.stringMatching(/^slsa-provenance attestation required: no slsa-provenance attestation .* is attached/),
    })]);
  });

  test('provenance of another builder: FAILED, naming runDetails.builder.id', async () => {
    const signed = await attested('hook-other-builder', `arn:aws:codepipeline:${REGION}:${ACCOUNT}:other`);
    revisionImages([{ containerName: 'web', image: signed.tagged, imageDigest: signed.digest }]);
    expect(await enforcement({ REQUIRED_ATTESTATIONS: REQUIRED })(hookEvent(), lambdaContext())).toEqual({ hookStatus: 'FAILED' });
    expect(published()[0].body.findings[0].message).toContain(`runDetails.builder.id is "arn:aws:codepipeline:${REGION}:${ACCOUNT}:other", not the required builder "${PIPELINE_ARN}"`);
  });

  test('no SBOM: FAILED, naming the SBOM type', async () => {
    const signed = await attested('hook-no-sbom', PIPELINE_ARN, false);
    revisionImages([{ containerName: 'web', image: signed.tagged, imageDigest: signed.digest }]);
    expect(await enforcement({ REQUIRED_ATTESTATIONS: REQUIRED })(hookEvent(), lambdaContext())).toEqual({ hookStatus: 'FAILED' });
    expect(published()[0].body.findings[0].message).toMatch(/^spdx attestation required: no spdx attestation/);
  });
});
