import { BatchGetBuildsCommand, StatusType } from '@aws-sdk/client-codebuild';
import { PutJobFailureResultCommand, PutJobSuccessResultCommand } from '@aws-sdk/client-codepipeline';
import { SignPayloadCommand, SignPayloadCommandInput } from '@aws-sdk/client-signer';
import {
  ACCOUNT,
  ARTIFACT_CREDENTIALS,
  expectCleanLogs,
  FakeAwsSigner,
  handlerTestLifecycle,
  jobEvent,
  lambdaContext,
  mockAws,
  pushTestImage,
  registryEnv,
  reportedFailure,
  reportedResults,
  reportedSuccess,
  signedAnnotations,
  SlowCall,
  TestProfile,
  testProfile,
} from './support';
import { createSignHandler, SignResult } from '../../lambda/handlers/sign';
import { listSignatures } from '../../lambda/notary/list-signatures';
import { RegistryRepository } from '../../lambda/oci/registry-repository';
import { Descriptor } from '../../lambda/oci/types';
import { pushIndex } from '../util/images';

const RELEASE = testProfile('release');
const AUDIT = testProfile('audit_team', 'ZyXwVu9876');
const OTHER = testProfile('not_configured');
const PROFILES = [RELEASE, AUDIT];

const BUILD_ID = 'image-build:0d1f2e3c-4b5a-6978-8a9b-0c1d2e3f4a5b';
const BUILD_ARN = `arn:aws:codebuild:us-west-2:${ACCOUNT}:build/${BUILD_ID}`;
const COMMIT = '3f786850e387550fdab836ed7e6dc881de23001b';
const EXECUTION_ID = 'c6b1a0f4-6d5e-4c3b-9a2f-1e0d9c8b7a65';
const SIGNING_JOB_ARN = /^arn:aws:signer:us-east-1:111122223333:\/signing-jobs\/[0-9a-f-]+$/;

const aws = mockAws();
let fake: FakeAwsSigner;

beforeAll(async () => {
  fake = await FakeAwsSigner.create([...PROFILES, OTHER]);
});
const logs = handlerTestLifecycle(aws, () => fake);

function signEnv(repositories: readonly string[], profiles: readonly TestProfile[] = PROFILES): Record<string, string> {
  return {
    SIGNING_PROFILES: JSON.stringify(profiles.map(({ profileName, profileArn }) => ({ profileName, profileArn }))),
    ALLOWED_REPOSITORIES: JSON.stringify(repositories),
    // The fake's test CA stands in for AWS Signer's root: envelopes are checked against it before they are pushed.
    AWS_SIGNER_ROOTS: fake.chain.root.pem,
    ...registryEnv(),
  };
}

function signHandler(repositories: readonly string[], profiles: readonly TestProfile[] = PROFILES) {
  return createSignHandler({ env: signEnv(repositories, profiles), clients: aws.clients });
}

/** A pushed image and a sign handler allowed to sign in its repository. */
async function setup(prefix: string, profiles: readonly TestProfile[] = PROFILES) {
  const pushed = await pushTestImage(prefix);
  return { ...pushed, imageUri: `${pushed.uri}@${pushed.image.digest}`, sign: signHandler([pushed.uri], profiles) };
}

async function signatureDigests(repository: RegistryRepository, image: Descriptor): Promise<string[]> {
  return (await listSignatures(repository, image)).map((signature) => signature.digest);
}

function signPayloadCalls(): SignPayloadCommandInput[] {
  return aws.signer.commandCalls(SignPayloadCommand).map((call) => call.args[0].input);
}

function buildsAnswer(status: StatusType = 'IN_PROGRESS') {
  return {
    builds: [
      {
        id: BUILD_ID,
        arn: BUILD_ARN,
        buildStatus: status,
        sourceVersion: 'refs/heads/main',
        resolvedSourceVersion: COMMIT,
      },
    ],
    buildsNotFound: [],
  };
}

describe('sign handler: bad UserParameters fail the job with a message naming the field', () => {
  let target: Awaited<ReturnType<typeof setup>>;
  beforeAll(async () => {
    target = await setup('handlers/sign-params');
  });

  const digestUri = () => target.imageUri;
  const cases: Array<[string, () => string | undefined, RegExp]> = [
    ['missing UserParameters', () => undefined, /^UserParameters is missing/],
    ['UserParameters that is not JSON', () => '{imageUri: nope', /^UserParameters is not valid JSON \(syntax error at position \d+\)/],
    ['UserParameters that is a JSON array', () => '["a"]', /^UserParameters must be a JSON object .*got an array$/],
    ['a missing imageUri', () => '{}', /^UserParameters: imageUri is required$/],
    ['an imageUri of the wrong type', () => '{"imageUri": 42}', /^UserParameters: imageUri must be a string, got a number$/],
    ['an imageUri with a tag where a digest is needed', () => JSON.stringify({ imageUri: `${target.uri}:v1` }), /^UserParameters: imageUri must pin the image by digest/],
    ['an unresolved CodePipeline variable', () => '{"imageUri": "#{Build.IMAGE_URI}"}', /^UserParameters: imageUri holds an unresolved CodePipeline variable/],
    ['an invalid image reference', () => '{"imageUri": "Not A Reference@sha256:1"}', /^UserParameters: imageUri is not a valid image reference/],
    ['a repository the function may not sign in', () => JSON.stringify({ imageUri: `${target.uri}-other@${target.image.digest}` }), /^UserParameters: imageUri names repository .*ALLOWED_REPOSITORIES\)$/],
    ['userMetadata that is not an object', () => JSON.stringify({ imageUri: digestUri(), userMetadata: 'team=a' }), /^UserParameters: userMetadata must be an object/],
    ['a userMetadata value that is not a string', () => JSON.stringify({ imageUri: digestUri(), userMetadata: { team: 1 } }), /^UserParameters: userMetadata\.team must be a string, got a number$/],
    ['a reserved userMetadata key', () => JSON.stringify({ imageUri: digestUri(), userMetadata: { 'io.cncf.notary.x': 'y' } }), /^UserParameters: userMetadata\.io\.cncf\.notary\.x uses the reserved prefix/],
    [
      'a provenance userMetadata key',
      () => JSON.stringify({ imageUri: digestUri(), userMetadata: { 'io.github.cdk-signed-image-pipeline.build.arn': 'forged' } }),
      /^UserParameters: userMetadata\.io\.github\.cdk-signed-image-pipeline\.build\.arn uses the reserved prefix/,
    ],
    ['force that is not a boolean', () => JSON.stringify({ imageUri: digestUri(), force: 'yes' }), /^UserParameters: force must be true or false, got a string$/],
    ['a buildId that is no CodeBuild build', () => JSON.stringify({ imageUri: digestUri(), buildId: 'latest' }), /^UserParameters: buildId must be a CodeBuild build id/],
    ['a pipelineExecutionId of the wrong form', () => JSON.stringify({ imageUri: digestUri(), pipelineExecutionId: 'a b' }), /^UserParameters: pipelineExecutionId must be a CodePipeline execution id/],
    ['a sourceRevision of the wrong type', () => JSON.stringify({ imageUri: digestUri(), sourceRevision: ['main'] }), /^UserParameters: sourceRevision must be a string, got an array$/],
    ['a signingProfileArn of the wrong type', () => JSON.stringify({ imageUri: digestUri(), signingProfileArn: 7 }), /^UserParameters: signingProfileArn must be a string, got a number$/],
    ['an unknown field', () => JSON.stringify({ imageUri: digestUri(), imageDigest: 'sha256:00' }), /^UserParameters: unknown field "imageDigest"; the fields are imageUri, /],
  ];

  test.each(cases)('%s', async (_name, userParameters, expected) => {
    const event = jobEvent(userParameters());
    const jobId = (event['CodePipeline.job'] as { id: string }).id;

    const returned = await target.sign(event, lambdaContext());

    const message = reportedFailure(aws.codePipeline, jobId);
    expect(message).toMatch(expected);
    expect(returned).toEqual({ jobId, status: 'failed', message });
    expect(signPayloadCalls()).toHaveLength(0);
    expect(aws.codeBuild.calls()).toHaveLength(0);
    expect(await signatureDigests(target.repository, target.image)).toEqual([]);
  });

  test('a syntax error is never quoted back', async () => {
    const secretish = 'hunter2-do-not-echo';
    const event = jobEvent(`{"imageUri": "${target.imageUri}", "userMetadata": {"note": ${secretish}}}`);
    const jobId = (event['CodePipeline.job'] as { id: string }).id;

    await target.sign(event, lambdaContext());

    const message = reportedFailure(aws.codePipeline, jobId);
    expect(message).toMatch(/^UserParameters is not valid JSON( \(syntax error at position \d+\))?: write a JSON object/);
    expect(message).not.toContain(secretish);
    expect(logs.text()).not.toContain(secretish);
  });

  test('a direct invocation throws the same message, naming the event as the source', async () => {
    await expect(target.sign({ imageUri: `${target.uri}:v1` })).rejects.toThrow(/^the event: imageUri must pin the image by digest/);
    await expect(target.sign({ imageUri: target.imageUri, force: 1 })).rejects.toThrow('the event: force must be true or false, got a number');
    expect(aws.codePipeline.calls()).toHaveLength(0);
    expect(signPayloadCalls()).toHaveLength(0);
  });

  test('an event that is neither a job nor parameters is refused', async () => {
    await expect(target.sign('sign me')).rejects.toThrow('the event must be a CodePipeline job event or a JSON object of parameters, got a string');
    await expect(target.sign({ 'CodePipeline.job': { id: 'bad id!' } })).rejects.toThrow(/no valid job id/);
    expect(aws.codePipeline.calls()).toHaveLength(0);
  });

  test('an ECR push event is signed only for a successful push to an allowed repository', async () => {
    const push = (result: string) => ({
      'source': 'aws.ecr',
      'detail-type': 'ECR Image Action',
      'account': ACCOUNT,
      'region': 'us-east-1',
      'detail': { 'action-type': 'PUSH', result, 'repository-name': 'app', 'image-digest': target.image.digest },
    });
    await expect(target.sign(push('FAILURE'))).rejects.toThrow(/^the event: only successful ECR image pushes/);
    await expect(target.sign(push('SUCCESS'))).rejects.toThrow(
      `the event: imageUri names repository "${ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/app", which this function may not sign in`,
    );
    expect(signPayloadCalls()).toHaveLength(0);
  });

  test('a misconfigured function fails every job naming the variable', async () => {
    const sign = createSignHandler({ env: { ...signEnv([target.uri]), SIGNING_PROFILES: '[]' }, clients: aws.clients });
    const event = jobEvent(JSON.stringify({ imageUri: target.imageUri }));
    await sign(event, lambdaContext());
    expect(reportedFailure(aws.codePipeline, (event['CodePipeline.job'] as { id: string }).id)).toMatch(/^SIGNING_PROFILES must be a non-empty JSON array/);
    expect(signPayloadCalls()).toHaveLength(0);
  });

  test('a signing profile version ARN configured as the profile is refused, naming the profile ARN to use', async () => {
    const versionArn = `${RELEASE.profileArn}/AbCdEf1234`;
    const profiles = JSON.stringify([{ profileName: RELEASE.profileName, profileArn: versionArn }]);
    const sign = createSignHandler({ env: { ...signEnv([target.uri]), SIGNING_PROFILES: profiles }, clients: aws.clients });
    const event = jobEvent(JSON.stringify({ imageUri: target.imageUri }));
    await sign(event, lambdaContext());
    expect(reportedFailure(aws.codePipeline, (event['CodePipeline.job'] as { id: string }).id)).toBe(
      `SIGNING_PROFILES[0].profileArn: "${versionArn}" is a signing profile version ARN; sign with the signing profile ARN "${RELEASE.profileArn}" (AWS Signer always signs with the profile's current version)`,
    );
    expect(signPayloadCalls()).toHaveLength(0);
  });
});

describe('sign handler: signing', () => {
  test('a job signs with every profile in order and reports the output variables', async () => {
    const { repository, image, imageUri, sign } = await setup('handlers/sign-all');
    const event = jobEvent(JSON.stringify({ imageUri }), 'job-sign-all');

    const returned = await sign(event, lambdaContext());

    const success = reportedSuccess(aws.codePipeline, 'job-sign-all');
    expect(returned).toEqual({ jobId: 'job-sign-all', status: 'succeeded' });
    expect(signPayloadCalls().map((input) => input.profileName)).toEqual(['release', 'audit_team']);
    const stored = await signatureDigests(repository, image);
    expect(stored).toHaveLength(2);
    const variables = success.outputVariables!;
    expect(Object.keys(variables).sort()).toEqual(['IMAGE_DIGEST', 'SIGNATURES', 'SIGNATURE_DIGEST', 'SIGNING_JOB_ARN']);
    expect(variables.IMAGE_DIGEST).toBe(image.digest);
    const signatures = variables.SIGNATURES.split(',');
    expect(signatures).toHaveLength(2);
    expect(new Set(signatures)).toEqual(new Set(stored));
    expect(variables.SIGNATURE_DIGEST).toBe(signatures[1]);
    expect(variables.SIGNING_JOB_ARN).toMatch(SIGNING_JOB_ARN);
    expect(success.executionDetails?.summary).toContain(`${AUDIT.profileArn}: ${signatures[1]}`);
  });

  test('signingProfileArn signs with that profile only, so each pipeline action signs with one profile in turn', async () => {
    const { repository, image, imageUri, sign } = await setup('handlers/sign-one');

    await sign(jobEvent(JSON.stringify({ imageUri, signingProfileArn: AUDIT.profileArn }), 'job-audit'), lambdaContext());
    const first = reportedSuccess(aws.codePipeline, 'job-audit').outputVariables!;
    expect(signPayloadCalls().map((input) => input.profileName)).toEqual(['audit_team']);
    expect(first.SIGNATURES).toBe(first.SIGNATURE_DIGEST);
    expect(await signatureDigests(repository, image)).toEqual([first.SIGNATURE_DIGEST]);

    aws.reset(fake);
    await sign(jobEvent(JSON.stringify({ imageUri, signingProfileArn: RELEASE.profileArn }), 'job-release'), lambdaContext());
    const second = reportedSuccess(aws.codePipeline, 'job-release').outputVariables!;
    expect(signPayloadCalls().map((input) => input.profileName)).toEqual(['release']);
    expect(second.SIGNATURE_DIGEST).not.toBe(first.SIGNATURE_DIGEST);
    expect(new Set(await signatureDigests(repository, image))).toEqual(new Set([first.SIGNATURE_DIGEST, second.SIGNATURE_DIGEST]));
  });

  test('a signingProfileArn that is not configured fails naming the field, before anything is signed', async () => {
    const { repository, image, imageUri, sign } = await setup('handlers/sign-unknown-profile');

    await sign(jobEvent(JSON.stringify({ imageUri, signingProfileArn: OTHER.profileArn }), 'job-unknown-profile'), lambdaContext());

    const message = reportedFailure(aws.codePipeline, 'job-unknown-profile');
    expect(message).toBe(
      `UserParameters: signingProfileArn "${OTHER.profileArn}" is not a signing profile this function signs with; ` +
        `it signs with: ${RELEASE.profileArn}, ${AUDIT.profileArn} (SIGNING_PROFILES)`,
    );
    for (const secret of Object.values(ARTIFACT_CREDENTIALS)) expect(message).not.toContain(secret);
    expect(signPayloadCalls()).toHaveLength(0);
    expect(await signatureDigests(repository, image)).toEqual([]);
  });

  test('a profile version ARN is not a profile ARN', async () => {
    const { imageUri, sign } = await setup('handlers/sign-version-arn');
    await expect(sign({ imageUri, signingProfileArn: RELEASE.profileVersionArn })).rejects.toThrow(/^the event: signingProfileArn ".*\/AbCdEf1234" is not a signing profile/);
    expect(signPayloadCalls()).toHaveLength(0);
  });

  test('a re-run keeps the existing signature: same digest, no new signing job, nothing pushed', async () => {
    const { repository, image, imageUri, sign } = await setup('handlers/sign-rerun', [RELEASE]);
    const parameters = JSON.stringify({ imageUri, userMetadata: { team: 'payments' } });

    await sign(jobEvent(parameters, 'job-first'), lambdaContext());
    const first = reportedSuccess(aws.codePipeline, 'job-first').outputVariables!;
    aws.reset(fake);
    await sign(jobEvent(parameters, 'job-again'), lambdaContext());
    const again = reportedSuccess(aws.codePipeline, 'job-again');

    expect(signPayloadCalls()).toHaveLength(0);
    expect(again.outputVariables).toEqual({
      IMAGE_DIGEST: image.digest,
      SIGNATURE_DIGEST: first.SIGNATURE_DIGEST,
      SIGNATURES: first.SIGNATURE_DIGEST,
    });
    expect(again.executionDetails?.summary).toContain('(existing signature kept)');
    expect(await signatureDigests(repository, image)).toEqual([first.SIGNATURE_DIGEST]);
  });

  test('a re-run after a profile failed keeps the signatures already made and completes the others', async () => {
    const { repository, image, imageUri, sign } = await setup('handlers/sign-partial');
    aws.signer.on(SignPayloadCommand, { profileName: 'audit_team' }).rejectsOnce(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));

    await sign(jobEvent(JSON.stringify({ imageUri }), 'job-partial'), lambdaContext());
    expect(reportedFailure(aws.codePipeline, 'job-partial')).toContain(`with signing profile ${AUDIT.profileArn}: `);
    const [kept] = await signatureDigests(repository, image);
    expect(kept).toBeDefined();

    aws.reset(fake);
    await sign(jobEvent(JSON.stringify({ imageUri }), 'job-partial-again'), lambdaContext());
    const variables = reportedSuccess(aws.codePipeline, 'job-partial-again').outputVariables!;
    expect(signPayloadCalls().map((input) => input.profileName)).toEqual(['audit_team']);
    expect(variables.SIGNATURES.split(',')[0]).toBe(kept);
    expect(new Set(await signatureDigests(repository, image))).toEqual(new Set(variables.SIGNATURES.split(',')));
  });

  test('a re-run with other annotations or with force signs again', async () => {
    const { repository, image, imageUri, sign } = await setup('handlers/sign-rerun-force', [RELEASE]);
    const first = (await sign({ imageUri, userMetadata: { team: 'payments' } })) as SignResult;
    const otherMetadata = (await sign({ imageUri, userMetadata: { team: 'billing' } })) as SignResult;
    const forced = (await sign({ imageUri, userMetadata: { team: 'payments' }, force: true })) as SignResult;

    expect(signPayloadCalls()).toHaveLength(3);
    expect([first, otherMetadata, forced].map((result) => result.signatures[0].reused)).toEqual([false, false, false]);
    const digests = [first.signatureDigest, otherMetadata.signatureDigest, forced.signatureDigest];
    expect(new Set(digests).size).toBe(3);
    expect(new Set(await signatureDigests(repository, image))).toEqual(new Set(digests));
  });

  test('a direct invocation returns the result with each profile\'s signature', async () => {
    const { image, imageUri, name, sign } = await setup('handlers/sign-direct');
    const result = (await sign({ imageUri, userMetadata: { team: 'payments' } }, lambdaContext())) as SignResult;

    expect(aws.codePipeline.calls()).toHaveLength(0);
    expect(result.imageUri).toBe(`${imageUri.split('/')[0]}/${name}@${image.digest}`);
    expect(result.imageDigest).toBe(image.digest);
    expect(result.annotations).toEqual({ team: 'payments' });
    expect(result.signatures.map((signature) => [signature.profileArn, signature.reused])).toEqual([
      [RELEASE.profileArn, false],
      [AUDIT.profileArn, false],
    ]);
    expect(result.signatureDigest).toBe(result.signatures[1].signatureDigest);
    expect(result.signingJobArn).toMatch(SIGNING_JOB_ARN);
  });

  test('provenance annotations (buildId, sourceRevision, pipelineExecutionId) land in the signed payload', async () => {
    const { repository, image, imageUri, sign } = await setup('handlers/sign-provenance', [RELEASE]);
    aws.codeBuild.on(BatchGetBuildsCommand).resolves(buildsAnswer('SUCCEEDED'));

    await sign(
      jobEvent(
        JSON.stringify({ imageUri, buildId: BUILD_ARN, sourceRevision: COMMIT, pipelineExecutionId: EXECUTION_ID, userMetadata: { team: 'payments' } }),
        'job-provenance',
      ),
      lambdaContext(),
    );

    reportedSuccess(aws.codePipeline, 'job-provenance');
    const builds = aws.codeBuild.commandCalls(BatchGetBuildsCommand);
    expect(builds).toHaveLength(1);
    expect(builds[0].args[0].input).toEqual({ ids: [BUILD_ID] });
    expect(await builds[0].thisValue.config.region()).toBe('us-west-2');
    expect(await signedAnnotations(repository, image)).toEqual([
      {
        'team': 'payments',
        'io.github.cdk-signed-image-pipeline.build.arn': BUILD_ARN,
        'io.github.cdk-signed-image-pipeline.build.source-version': 'refs/heads/main',
        'io.github.cdk-signed-image-pipeline.build.resolved-source-version': COMMIT,
        'io.github.cdk-signed-image-pipeline.source.revision': COMMIT,
        'io.github.cdk-signed-image-pipeline.pipeline.execution-id': EXECUTION_ID,
      },
    ]);
  });

  test('a build id (CODEBUILD_BUILD_ID) is looked up in the function\'s region', async () => {
    const { repository, image, imageUri, sign } = await setup('handlers/sign-build-id', [RELEASE]);
    aws.codeBuild.on(BatchGetBuildsCommand).resolves(buildsAnswer());

    await sign({ imageUri, buildId: BUILD_ID });

    expect(await aws.codeBuild.commandCalls(BatchGetBuildsCommand)[0].thisValue.config.region()).toBe('us-east-1');
    expect((await signedAnnotations(repository, image))[0]['io.github.cdk-signed-image-pipeline.build.arn']).toBe(BUILD_ARN);
  });

  test('an image from a failed build, or an unknown build, is not signed', async () => {
    const { repository, image, imageUri, sign } = await setup('handlers/sign-failed-build', [RELEASE]);
    aws.codeBuild.on(BatchGetBuildsCommand).resolvesOnce(buildsAnswer('FAILED')).resolvesOnce({ builds: [], buildsNotFound: [BUILD_ID] });

    await sign(jobEvent(JSON.stringify({ imageUri, buildId: BUILD_ID }), 'job-failed-build'), lambdaContext());
    expect(reportedFailure(aws.codePipeline, 'job-failed-build')).toBe(
      `buildId: CodeBuild build "${BUILD_ID}" ended with status FAILED; an image from a build that did not succeed is not signed`,
    );
    aws.codePipeline.resetHistory();
    await sign(jobEvent(JSON.stringify({ imageUri, buildId: BUILD_ID }), 'job-unknown-build'), lambdaContext());
    expect(reportedFailure(aws.codePipeline, 'job-unknown-build')).toMatch(/^buildId: CodeBuild has no build "image-build:/);

    expect(signPayloadCalls()).toHaveLength(0);
    expect(await signatureDigests(repository, image)).toEqual([]);
  });

  test('a Notary signature is not signed (push-triggered signing does not loop)', async () => {
    const { uri, imageUri, sign } = await setup('handlers/sign-signature', [RELEASE]);
    const signed = (await sign({ imageUri })) as SignResult;
    aws.reset(fake);

    await sign(jobEvent(JSON.stringify({ imageUri: `${uri}@${signed.signatureDigest}` }), 'job-signature'), lambdaContext());

    expect(reportedFailure(aws.codePipeline, 'job-signature')).toMatch(/is a Notary signature, not an image; signatures are not signed$/);
    expect(signPayloadCalls()).toHaveLength(0);
  });
});

describe('sign handler: failures are reported on every path', () => {
  test('AWS Signer refusing SignPayload fails the job with what to fix', async () => {
    const { repository, image, imageUri, sign } = await setup('handlers/sign-denied', [RELEASE]);
    aws.signer.on(SignPayloadCommand).rejects(Object.assign(new Error('User is not authorized to perform signer:SignPayload'), { name: 'AccessDeniedException' }));

    await sign(jobEvent(JSON.stringify({ imageUri }), 'job-denied'), lambdaContext());

    const message = reportedFailure(aws.codePipeline, 'job-denied');
    expect(message).toContain(`could not sign ${imageUri} with signing profile ${RELEASE.profileArn}`);
    expect(message).toContain('AccessDeniedException');
    expect(message).toContain(`; the function's role needs signer:SignPayload on ${RELEASE.profileArn}`);
    expect(await signatureDigests(repository, image)).toEqual([]);
  });

  test('an image missing from the registry fails the job', async () => {
    const { uri, sign } = await setup('handlers/sign-missing', [RELEASE]);
    const missing = `${uri}@sha256:${'ab'.repeat(32)}`;

    await sign(jobEvent(JSON.stringify({ imageUri: missing }), 'job-missing'), lambdaContext());

    expect(reportedFailure(aws.codePipeline, 'job-missing')).toMatch(new RegExp(`^could not sign ${missing.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: `));
    expect(signPayloadCalls()).toHaveLength(0);
  });

  test('an unexpected internal error fails the job pointing at the request\'s log', async () => {
    const { imageUri, sign } = await setup('handlers/sign-internal', [RELEASE]);
    aws.codeBuild.on(BatchGetBuildsCommand).resolves({ builds: 'not a list' as never });
    const context = lambdaContext();

    await sign(jobEvent(JSON.stringify({ imageUri, buildId: BUILD_ID }), 'job-internal'), context);

    const message = reportedFailure(aws.codePipeline, 'job-internal');
    expect(message).toMatch(/^unexpected internal error \(TypeError: /);
    expect(message).toContain(`see the function's log for request ${context.awsRequestId}`);
    expect(logs.text()).toContain(context.awsRequestId);
  });

  test('a function about to time out reports failure in time, then does nothing more', async () => {
    const { repository, image, imageUri, sign } = await setup('handlers/sign-deadline', [RELEASE]);
    const slow = new SlowCall(2500);
    aws.signer.on(SignPayloadCommand).callsFake(slow.answer((input: SignPayloadCommandInput) => fake.signPayload(input)));

    const returned = await sign(jobEvent(JSON.stringify({ imageUri }), 'job-deadline'), lambdaContext(1600));

    expect(slow.answered).toBe(false);
    const message = reportedFailure(aws.codePipeline, 'job-deadline');
    expect(message).toBe(
      `the sign function was about to time out (2 s were left when it started) while signing ${imageUri} with signing profile ${RELEASE.profileArn}; ` +
        'nothing more was done. Raise the function\'s timeout or check that the registry, AWS Signer and CodeBuild answer in time',
    );
    expect(returned).toEqual({ jobId: 'job-deadline', status: 'failed', message });

    await slow.settled();
    expect(slow.calls).toBe(1);
    expect(await signatureDigests(repository, image)).toEqual([]);
    expect(aws.codePipeline.calls()).toHaveLength(1);
  });

  test('CodePipeline refusing the success result gets a failure result instead', async () => {
    const { imageUri, sign } = await setup('handlers/sign-refused', [RELEASE]);
    aws.codePipeline.on(PutJobSuccessResultCommand).rejects(Object.assign(new Error('outputVariables too large'), { name: 'ValidationException' }));

    const returned = await sign(jobEvent(JSON.stringify({ imageUri }), 'job-refused'), lambdaContext());

    const { successes, failures } = reportedResults(aws.codePipeline);
    expect(successes).toHaveLength(1);
    expect(failures.map((failure) => failure.failureDetails?.message)).toEqual([
      'the result was ready but CodePipeline refused it: ValidationException: outputVariables too large',
    ]);
    expect(returned).toEqual({ jobId: 'job-refused', status: 'succeeded' });
  });

  test('a failure that cannot be reported makes the invocation fail, so Lambda retries it', async () => {
    const { sign } = await setup('handlers/sign-unreported', [RELEASE]);
    aws.codePipeline.on(PutJobFailureResultCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));

    await expect(sign(jobEvent('{}', 'job-unreported'), lambdaContext())).rejects.toThrow(
      'could not report the result of CodePipeline job job-unreported: ThrottlingException: Rate exceeded',
    );
    expect(reportedResults(aws.codePipeline).failures).toHaveLength(1);
  });

  test('a job that is no longer in progress is not an error', async () => {
    const { sign } = await setup('handlers/sign-closed', [RELEASE]);
    aws.codePipeline.on(PutJobFailureResultCommand).rejects(Object.assign(new Error('job is not in progress'), { name: 'InvalidJobStateException' }));

    await expect(sign(jobEvent('{}', 'job-closed'), lambdaContext())).resolves.toMatchObject({ jobId: 'job-closed', status: 'failed' });
    expect(logs.text()).toContain('the job is no longer in progress');
  });
});

describe('sign handler: logs', () => {
  const AWS_SECRETS = {
    AWS_ACCESS_KEY_ID: 'ASIAFUNCTIONROLEKEY01',
    AWS_SECRET_ACCESS_KEY: 'function-role-secret-Qw3Er4Ty5Ui6',
    AWS_SESSION_TOKEN: 'function-role-session-token-Op7As8Df9',
  };
  const saved: Record<string, string | undefined> = {};
  beforeEach(() => {
    for (const [key, value] of Object.entries(AWS_SECRETS)) {
      saved[key] = process.env[key];
      process.env[key] = value;
    }
  });
  afterEach(() => {
    for (const key of Object.keys(AWS_SECRETS)) {
      if (saved[key] === undefined) delete process.env[key];
      else process.env[key] = saved[key];
    }
  });

  test('captured logs of successful and failed jobs contain no event and no credential', async () => {
    const { imageUri, sign } = await setup('handlers/sign-logs');
    aws.codeBuild.on(BatchGetBuildsCommand).resolves(buildsAnswer());
    const parameters = JSON.stringify({ imageUri, buildId: BUILD_ID, sourceRevision: COMMIT, pipelineExecutionId: EXECUTION_ID });

    await sign(jobEvent(parameters, 'job-logs-ok'), lambdaContext());
    await sign(jobEvent(JSON.stringify({ imageUri, force: 'no' }), 'job-logs-bad'), lambdaContext());
    await expect(sign({ imageUri: imageUri.replace(/@.*/, ':v1') })).rejects.toThrow();

    const lines = logs.lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines.length).toBeGreaterThan(5);
    expect(lines.filter((line) => line.message === 'signed').map((line) => line.profileArn)).toEqual([RELEASE.profileArn, AUDIT.profileArn]);
    expect(lines.some((line) => line.jobId === 'job-logs-bad' && line.outcome === 'failed')).toBe(true);
    const text = logs.text();
    expectCleanLogs(text, [...Object.values(AWS_SECRETS), parameters]);
  });
});

describe('sign handler: multi-arch images', () => {
  async function indexSetup(prefix: string, env: Record<string, string> = {}) {
    const pushed = await pushTestImage(prefix);
    const { index, children } = await pushIndex(pushed.repository, 'multi');
    const sign = createSignHandler({ env: { ...signEnv([pushed.uri], [RELEASE]), ...env }, clients: aws.clients });
    return { ...pushed, index, children, imageUri: `${pushed.uri}@${index.digest}`, sign };
  }

  test('an image index is signed with every manifest it lists by default, the index last; IMAGE_DIGEST is the index', async () => {
    const { repository, index, children, imageUri, sign } = await indexSetup('handlers/sign-index');

    await sign(jobEvent(JSON.stringify({ imageUri }), 'job-index'), lambdaContext());

    const variables = reportedSuccess(aws.codePipeline, 'job-index').outputVariables!;
    expect(variables.IMAGE_DIGEST).toBe(index.digest);
    expect(await signatureDigests(repository, index)).toEqual([variables.SIGNATURE_DIGEST]);
    for (const child of children) expect(await signatureDigests(repository, child)).toHaveLength(1);
    const signedPayloads = signPayloadCalls().map((input) => JSON.parse(Buffer.from(input.payload as Uint8Array).toString()).targetArtifact.digest);
    expect(signedPayloads).toEqual([children[0].digest, children[1].digest, index.digest]);
  });

  test('a direct invocation lists each manifest\'s signature', async () => {
    const { index, children, imageUri, sign } = await indexSetup('handlers/sign-index-direct');

    const result = (await sign({ imageUri }, lambdaContext())) as SignResult;

    expect(result.signatures[0].manifests?.map((manifest) => [manifest.digest, manifest.reused])).toEqual([
      [children[0].digest, false],
      [children[1].digest, false],
      [index.digest, false],
    ]);
    expect(result.signatures[0].manifests?.[2].signatureDigest).toBe(result.signatureDigest);
  });

  test('recursive false, or SIGN_INDEX_CHILDREN false (ImageSigner signIndexChildren), signs the index alone', async () => {
    const byParameter = await indexSetup('handlers/sign-index-flat');
    const byConfig = await indexSetup('handlers/sign-index-config', { SIGN_INDEX_CHILDREN: 'false' });

    await byParameter.sign({ imageUri: byParameter.imageUri, recursive: false }, lambdaContext());
    await byConfig.sign({ imageUri: byConfig.imageUri }, lambdaContext());

    for (const { repository, index, children } of [byParameter, byConfig]) {
      expect(await signatureDigests(repository, index)).toHaveLength(1);
      expect(await signatureDigests(repository, children[0])).toEqual([]);
    }
  });

  test('a signing failure on one platform manifest fails the job naming the unsigned digests; a rerun signs the rest', async () => {
    const { repository, index, children, imageUri, sign } = await indexSetup('handlers/sign-index-partial');
    let calls = 0;
    aws.signer.on(SignPayloadCommand).callsFake(async (input: SignPayloadCommandInput) => {
      if (++calls === 2) throw Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
      return fake.signPayload(input);
    });

    await sign(jobEvent(JSON.stringify({ imageUri }), 'job-partial'), lambdaContext());

    const failure = reportedFailure(aws.codePipeline, 'job-partial');
    expect(failure).toContain(`signed 1 of 3 manifests of index ${index.digest}`);
    expect(failure).toContain(`${children[1].digest}: `);
    expect(await signatureDigests(repository, index)).toEqual([]);

    aws.reset(fake);
    await sign(jobEvent(JSON.stringify({ imageUri }), 'job-rerun'), lambdaContext());
    reportedSuccess(aws.codePipeline, 'job-rerun');
    expect(signPayloadCalls()).toHaveLength(2);
    for (const manifest of [index, ...children]) expect(await signatureDigests(repository, manifest)).toHaveLength(1);
  });

  test('SIGN_INDEX_CHILDREN other than true or false is a configuration error', async () => {
    const { imageUri, sign } = await indexSetup('handlers/sign-index-bad', { SIGN_INDEX_CHILDREN: 'yes' });
    await expect(sign({ imageUri }, lambdaContext())).rejects.toThrow('SIGN_INDEX_CHILDREN must be "true" or "false", got "yes"');
  });
});
