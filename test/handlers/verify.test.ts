import { GetRevocationStatusCommand, GetRevocationStatusCommandInput } from '@aws-sdk/client-signer';
import {
  FakeAwsSigner,
  handlerTestLifecycle,
  jobEvent,
  lambdaContext,
  mockAws,
  pushTestImage,
  registryEnv,
  reportedFailure,
  reportedSuccess,
  SlowCall,
  testProfile,
  trustPolicy,
} from './support';
import { createVerifyHandler } from '../../lambda/handlers/verify';
import { signImage } from '../../lambda/notary/sign-image';
import { signImageRecursively } from '../../lambda/notary/sign-index';
import { VerificationOutcome } from '../../lambda/notary/types';
import { pushIndex } from '../util/images';

const RELEASE = testProfile('release');
const AUDIT = testProfile('audit_team', 'ZyXwVu9876');
const CHECKS = ['integrity', 'authenticity', 'authenticTimestamp', 'expiry', 'revocation'];

const aws = mockAws();
let fake: FakeAwsSigner;

beforeAll(async () => {
  fake = await FakeAwsSigner.create([RELEASE, AUDIT]);
});
const logs = handlerTestLifecycle(aws, () => fake);

function verifyHandler(options: { identities?: string[]; level?: string; env?: Record<string, string> } = {}) {
  return createVerifyHandler({
    env: {
      TRUST_POLICY: trustPolicy(options.identities ?? [RELEASE.profileArn], 'test', options.level),
      TRUST_STORES: fake.trustStores(),
      ...registryEnv(),
      ...options.env,
    },
    clients: aws.clients,
  });
}

/** A pushed image, signed by `profile` (AWS Signer's envelope shape, from the test CA) unless null. */
async function image(prefix: string, profile: string | null = 'release', userMetadata?: Record<string, string>) {
  const pushed = await pushTestImage(prefix);
  let signatureDigest: string | undefined;
  if (profile) {
    const signer = fake.signers.get(profile)!;
    const signed = await signImage({ repository: pushed.repository, tagOrDigest: pushed.image.digest, signer, userMetadata });
    signatureDigest = signed.signatureDigest;
  }
  return { ...pushed, imageUri: `${pushed.uri}@${pushed.image.digest}`, signatureDigest };
}

function revocationCalls(): GetRevocationStatusCommandInput[] {
  return aws.signer.commandCalls(GetRevocationStatusCommand).map((call) => call.args[0].input);
}

describe('verify handler: jobs', () => {
  test('an unsigned image fails the job with notation\'s wording', async () => {
    const { imageUri } = await image('handlers/verify-unsigned', null);

    const returned = await verifyHandler()(jobEvent(JSON.stringify({ imageUri }), 'job-unsigned'), lambdaContext());

    const message = reportedFailure(aws.codePipeline, 'job-unsigned');
    expect(message).toBe(`signature verification failed: no signature is associated with "${imageUri}", make sure the artifact was signed successfully`);
    expect(returned).toEqual({ jobId: 'job-unsigned', status: 'failed', message });
  });

  test('a signed image passes, with the output variables', async () => {
    const { image: target, uri, imageUri, signatureDigest } = await image('handlers/verify-signed');

    await verifyHandler()(jobEvent(JSON.stringify({ imageUri }), 'job-signed'), lambdaContext());

    const success = reportedSuccess(aws.codePipeline, 'job-signed');
    expect(success.outputVariables).toEqual({
      VERIFIED: 'true',
      IMAGE_URI: uri,
      IMAGE_DIGEST: target.digest,
      VERIFIED_DIGESTS: target.digest,
      SIGNATURE_DIGEST: signatureDigest,
    });
    expect(success.executionDetails?.summary).toContain(`Verified ${imageUri} at level strict by signature ${signatureDigest}`);
    expect(revocationCalls().map((input) => input.profileVersionArn)).toEqual([RELEASE.profileVersionArn]);
  });

  test('a tag next to the digest is accepted; the digest is what is verified', async () => {
    const { uri, image: target } = await image('handlers/verify-tag-digest');

    await verifyHandler()(jobEvent(JSON.stringify({ imageUri: `${uri}:v1@${target.digest}` }), 'job-tag-digest'), lambdaContext());

    expect(reportedSuccess(aws.codePipeline, 'job-tag-digest').outputVariables?.IMAGE_DIGEST).toBe(target.digest);
  });

  test('a signature by an untrusted signing profile fails the job', async () => {
    const { imageUri } = await image('handlers/verify-untrusted', 'audit_team');

    await verifyHandler()(jobEvent(JSON.stringify({ imageUri }), 'job-untrusted'), lambdaContext());

    const message = reportedFailure(aws.codePipeline, 'job-untrusted');
    expect(message).toMatch(new RegExp(`^signature verification failed for all the signatures associated with ${escape(imageUri)}:\n`));
    expect(message).toContain(AUDIT.profileVersionArn);
  });

  test('a revoked signature fails the job', async () => {
    const { imageUri } = await image('handlers/verify-revoked');
    aws.signer.on(GetRevocationStatusCommand).resolves({ revokedEntities: [RELEASE.profileVersionArn] });

    await verifyHandler()(jobEvent(JSON.stringify({ imageUri }), 'job-revoked'), lambdaContext());

    expect(reportedFailure(aws.codePipeline, 'job-revoked')).toContain(`Resource(s) ${RELEASE.profileVersionArn} have been revoked.`);
  });

  test('GetRevocationStatus failing fails the job at level strict', async () => {
    const { imageUri } = await image('handlers/verify-revocation-error');
    aws.signer.on(GetRevocationStatusCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));

    await verifyHandler()(jobEvent(JSON.stringify({ imageUri }), 'job-revocation-error'), lambdaContext());

    expect(reportedFailure(aws.codePipeline, 'job-revocation-error')).toContain('GetRevocationStatus call failed with error: Rate exceeded');
  });

  test('an image missing from the registry fails the job', async () => {
    const { uri } = await image('handlers/verify-missing', null);
    const missing = `${uri}@sha256:${'cd'.repeat(32)}`;

    await verifyHandler()(jobEvent(JSON.stringify({ imageUri: missing }), 'job-missing'), lambdaContext());

    expect(reportedFailure(aws.codePipeline, 'job-missing')).toContain(missing);
    expect(revocationCalls()).toHaveLength(0);
  });

  test('userMetadata must be signed in the payload', async () => {
    const { imageUri } = await image('handlers/verify-metadata', 'release', { team: 'payments' });
    const verify = verifyHandler();

    await verify(jobEvent(JSON.stringify({ imageUri, userMetadata: { team: 'payments' } }), 'job-metadata-ok'), lambdaContext());
    reportedSuccess(aws.codePipeline, 'job-metadata-ok');
    aws.codePipeline.resetHistory();
    await verify(jobEvent(JSON.stringify({ imageUri, userMetadata: { team: 'billing' } }), 'job-metadata-bad'), lambdaContext());

    expect(reportedFailure(aws.codePipeline, 'job-metadata-bad')).toContain('unable to find specified metadata in the signature: team=billing');
  });

  test('at level audit an untrusted signer is logged and the job passes', async () => {
    const { imageUri } = await image('handlers/verify-audit', 'audit_team');

    await verifyHandler({ level: 'audit' })(jobEvent(JSON.stringify({ imageUri }), 'job-audit'), lambdaContext());

    expect(reportedSuccess(aws.codePipeline, 'job-audit').executionDetails?.summary).toContain('authenticity: log (failed)');
    expect(logs.text()).toContain('authenticity check failed (logged, not enforced)');
  });

  test('a function about to time out reports failure naming what it was doing', async () => {
    const { imageUri } = await image('handlers/verify-deadline');
    const slow = new SlowCall(2500);
    aws.signer.on(GetRevocationStatusCommand).callsFake(slow.answer(() => ({ revokedEntities: [] })));

    await verifyHandler()(jobEvent(JSON.stringify({ imageUri }), 'job-deadline'), lambdaContext(1600));

    expect(slow.answered).toBe(false);
    expect(reportedFailure(aws.codePipeline, 'job-deadline')).toBe(
      `the verify function was about to time out (2 s were left when it started) while verifying ${imageUri}; nothing more was done. ` +
        'Raise the function\'s timeout or check that the registry and AWS Signer (GetRevocationStatus) answer in time',
    );
    await slow.settled();
    expect(aws.codePipeline.calls()).toHaveLength(1);
  });
});

describe('verify handler: parameters and configuration', () => {
  let target: Awaited<ReturnType<typeof image>>;
  beforeAll(async () => {
    target = await image('handlers/verify-params');
  });

  test.each<[string, () => string | undefined, RegExp]>([
    ['missing UserParameters', () => undefined, /^UserParameters is missing/],
    ['UserParameters that is not JSON', () => 'imageUri=x', /^UserParameters is not valid JSON/],
    ['a missing imageUri', () => '{"userMetadata": {}}', /^UserParameters: imageUri is required$/],
    ['an imageUri of the wrong type', () => '{"imageUri": {"uri": "x"}}', /^UserParameters: imageUri must be a string, got an object$/],
    ['a tag where a digest is needed', () => JSON.stringify({ imageUri: `${target.uri}:v1` }), /^UserParameters: imageUri must pin the image by digest/],
    ['userMetadata of the wrong type', () => JSON.stringify({ imageUri: target.imageUri, userMetadata: ['team=a'] }), /^UserParameters: userMetadata must be an object/],
    ['a userMetadata value of the wrong type', () => JSON.stringify({ imageUri: target.imageUri, userMetadata: { n: null } }), /^UserParameters: userMetadata\.n must be a string, got null$/],
    ['an unknown field', () => JSON.stringify({ imageUri: target.imageUri, level: 'audit' }), /^UserParameters: unknown field "level"; the fields are imageUri, userMetadata, containerName$/],
  ])('%s fails the job naming the field', async (_name, userParameters, expected) => {
    await verifyHandler()(jobEvent(userParameters(), 'job-params'), lambdaContext());

    expect(reportedFailure(aws.codePipeline, 'job-params')).toMatch(expected);
    expect(revocationCalls()).toHaveLength(0);
  });

  test('a trust policy that is not valid fails every job naming TRUST_POLICY', async () => {
    const verify = verifyHandler({ env: { TRUST_POLICY: '{"version": "1.0", "trustPolicies": "none"}' } });

    await verify(jobEvent(JSON.stringify({ imageUri: target.imageUri }), 'job-bad-policy'), lambdaContext());

    expect(reportedFailure(aws.codePipeline, 'job-bad-policy')).toMatch(/^TRUST_POLICY is not a valid trust policy: /);
    expect(logs.text()).toContain('the verify function is misconfigured; every invocation will fail');
  });
});

describe('verify handler: direct invocations', () => {
  test('a signed image returns the verdict and every check\'s result', async () => {
    const { image: target, imageUri, signatureDigest } = await image('handlers/verify-direct');

    const outcome = (await verifyHandler()({ imageUri }, lambdaContext())) as VerificationOutcome;

    expect(aws.codePipeline.calls()).toHaveLength(0);
    expect(outcome).toMatchObject({ reference: imageUri, digest: target.digest, verified: true, level: 'strict', signatureDigest });
    expect(outcome.error).toBeUndefined();
    expect(outcome.results.map((result) => result.type).sort()).toEqual([...CHECKS].sort());
    for (const result of outcome.results) expect(result).toMatchObject({ ok: true, action: 'enforce' });
    expect(outcome.results.find((result) => result.type === 'revocation')?.message).toBe('Signature is not revoked.');
  });

  test('an unsigned image returns verified false with the no-signature error, without throwing', async () => {
    const { image: target, imageUri } = await image('handlers/verify-direct-unsigned', null);

    const outcome = (await verifyHandler()({ imageUri })) as VerificationOutcome;

    expect(outcome).toMatchObject({ digest: target.digest, verified: false, results: [] });
    expect(outcome.error).toEqual({
      code: 'no-signature',
      message: `signature verification failed: no signature is associated with "${imageUri}", make sure the artifact was signed successfully`,
    });
  });

  test('an untrusted signer returns the failed check', async () => {
    const { imageUri } = await image('handlers/verify-direct-untrusted', 'audit_team');

    const outcome = (await verifyHandler()({ imageUri })) as VerificationOutcome;

    expect(outcome.verified).toBe(false);
    expect(outcome.error?.code).toBe('verification-failed');
    expect(outcome.results.find((result) => result.type === 'authenticity')).toMatchObject({ ok: false, action: 'enforce' });
    expect(outcome.results.find((result) => result.type === 'integrity')).toMatchObject({ ok: true });
  });

  test('bad parameters throw naming the event\'s field', async () => {
    await expect(verifyHandler()({ imageUri: 'registry.example.com/app:v1' })).rejects.toThrow(/^the event: imageUri must pin the image by digest/);
    expect(revocationCalls()).toHaveLength(0);
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

describe('verify handler: multi-arch images', () => {
  async function index(prefix: string, sign: 'all' | 'index' | 'children') {
    const pushed = await pushTestImage(prefix);
    const { index: target, children } = await pushIndex(pushed.repository, 'multi');
    const signer = fake.signers.get('release')!;
    if (sign === 'all') await signImageRecursively({ repository: pushed.repository, tagOrDigest: target.digest, signer });
    if (sign === 'index') await signImage({ repository: pushed.repository, tagOrDigest: target.digest, signer });
    if (sign === 'children') for (const child of children) await signImage({ repository: pushed.repository, tagOrDigest: child.digest, signer });
    return { ...pushed, target, children, imageUri: `${pushed.uri}@${target.digest}` };
  }

  test('an index signed with its manifests passes the gate, IMAGE_DIGEST the index, VERIFIED_DIGESTS the index and its manifests', async () => {
    const { uri, target, children, imageUri } = await index('handlers/verify-index', 'all');

    await verifyHandler()(jobEvent(JSON.stringify({ imageUri }), 'job-index'), lambdaContext());

    const success = reportedSuccess(aws.codePipeline, 'job-index');
    expect(success.outputVariables).toMatchObject({
      VERIFIED: 'true',
      IMAGE_URI: uri,
      IMAGE_DIGEST: target.digest,
      VERIFIED_DIGESTS: [target.digest, children[0].digest, children[1].digest].join(','),
    });
    expect(success.executionDetails?.summary).toContain(`Verified ${imageUri} and the 2 manifests it lists at level strict`);
  });

  test('an index whose platform manifests are unsigned fails the gate, naming the first unsigned manifest', async () => {
    const { uri, children, imageUri } = await index('handlers/verify-index-only', 'index');

    await verifyHandler()(jobEvent(JSON.stringify({ imageUri }), 'job-index-only'), lambdaContext());

    expect(reportedFailure(aws.codePipeline, 'job-index-only')).toBe(
      `signature verification failed: no signature is associated with "${uri}@${children[0].digest}", make sure the artifact was signed successfully`,
    );
  });

  test('signed platform manifests under an unsigned index fail the gate for the index, and pass for a platform manifest', async () => {
    const { uri, children, imageUri } = await index('handlers/verify-children-only', 'children');

    const forIndex = (await verifyHandler()({ imageUri }, lambdaContext())) as VerificationOutcome;
    const forChild = (await verifyHandler()({ imageUri: `${uri}@${children[1].digest}` }, lambdaContext())) as VerificationOutcome & { manifests?: unknown };

    expect(forIndex).toMatchObject({ verified: false, error: { code: 'no-signature' } });
    expect(forChild.verified).toBe(true);
    expect(forChild.manifests).toBeUndefined();
  });

  test('the gate given a platform manifest verifies that manifest: VERIFIED_DIGESTS is its digest alone', async () => {
    const { children, uri } = await index('handlers/verify-child-gate', 'all');

    await verifyHandler()(jobEvent(JSON.stringify({ imageUri: `${uri}@${children[0].digest}` }), 'job-child'), lambdaContext());

    expect(reportedSuccess(aws.codePipeline, 'job-child').outputVariables).toMatchObject({
      IMAGE_DIGEST: children[0].digest,
      VERIFIED_DIGESTS: children[0].digest,
    });
  });

  test('a direct invocation for an index lists every manifest\'s outcome', async () => {
    const { target, children, imageUri } = await index('handlers/verify-index-direct', 'all');

    const result = (await verifyHandler()({ imageUri }, lambdaContext())) as VerificationOutcome & { manifests: VerificationOutcome[] };

    expect(result.verified).toBe(true);
    expect(result.manifests.map((outcome) => [outcome.digest, outcome.verified])).toEqual([
      [target.digest, true],
      [children[0].digest, true],
      [children[1].digest, true],
    ]);
  });
});
