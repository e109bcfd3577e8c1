/**
 * Signed build provenance and SBOMs through the handlers, against the real test registry: the sign handler attaches
 * them after signing the image (provenance from CodeBuild's and CodePipeline's answers), the verify handler requires
 * them at the gate. CodeBuild BatchGetBuilds and CodePipeline GetJobDetails answer in the API references' shapes.
 */
import { BatchGetBuildsCommand, Build } from '@aws-sdk/client-codebuild';
import { GetJobDetailsCommand } from '@aws-sdk/client-codepipeline';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import {
  ACCOUNT,
  ARTIFACT_CREDENTIALS,
  FakeAwsSigner,
  handlerTestLifecycle,
  jobArtifact,
  jobEvent,
  lambdaContext,
  mockAws,
  pushTestImage,
  REGION,
  registryEnv,
  reportedFailure,
  reportedSuccess,
  testProfile,
  trustPolicy,
} from './support';
import { createSignHandler } from '../../lambda/handlers/sign';
import { createVerifyHandler } from '../../lambda/handlers/verify';
import { writeZip } from '../../lambda/handlers/zip';
import { AttestationMediaType, buildAttestationManifest } from '../../lambda/notary/attestation';
import { attachAttestation } from '../../lambda/notary/attestation-attach';
import { listAttestations } from '../../lambda/notary/attestation-list';
import { listSignatures } from '../../lambda/notary/list-signatures';
import { MediaType } from '../../lambda/oci/media-types';
import { OciRepository } from '../../lambda/oci/repository';
import { Descriptor } from '../../lambda/oci/types';

const RELEASE = testProfile('release');
const OTHER = testProfile('not_trusted');
const PIPELINE = 'release-pipeline';
const PIPELINE_ARN = `arn:aws:codepipeline:${REGION}:${ACCOUNT}:${PIPELINE}`;
const BUILD_ID = 'image-build:0d1f2e3c-4b5a-6978-8a9b-0c1d2e3f4a5b';
const BUILD_ARN = `arn:aws:codebuild:${REGION}:${ACCOUNT}:build/${BUILD_ID}`;
const COMMIT = '3f786850e387550fdab836ed7e6dc881de23001b';
const REPO_URL = 'https://github.com/org/app';
const EXECUTION_ID = 'c6b1a0f4-6d5e-4c3b-9a2f-1e0d9c8b7a65';
const BUILD_ARTIFACT = jobArtifact('BuildOutput', 'pipe/BuildOutpu/abc1234');
const SPDX = { spdxVersion: 'SPDX-2.3', SPDXID: 'SPDXRef-DOCUMENT', name: 'app', dataLicense: 'CC0-1.0', packages: [] };

const aws = mockAws();
let fake: FakeAwsSigner;
let stranger: FakeAwsSigner;

beforeAll(async () => {
  [fake, stranger] = await Promise.all([FakeAwsSigner.create([RELEASE]), FakeAwsSigner.create([OTHER])]);
});
handlerTestLifecycle(aws, () => fake);

const bytes = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

/** BatchGetBuilds' answer for the build that pushed `digest`, started by the pipeline. */
function answerBuild(digest: string, overrides: Partial<Build> = {}) {
  aws.codeBuild.on(BatchGetBuildsCommand).resolves({
    builds: [{
      id: BUILD_ID,
      arn: BUILD_ARN,
      buildStatus: 'SUCCEEDED',
      startTime: new Date('2026-01-02T03:04:05Z'),
      endTime: new Date('2026-01-02T03:09:00Z'),
      sourceVersion: `arn:aws:s3:::pipeline-artifacts/${PIPELINE}/SourceCode/abc.zip`,
      resolvedSourceVersion: COMMIT,
      projectName: 'image-build',
      source: { type: 'CODEPIPELINE' },
      environment: { type: 'LINUX_CONTAINER', image: 'aws/codebuild/standard:7.0', computeType: 'BUILD_GENERAL1_SMALL' },
      initiator: `codepipeline/${PIPELINE}`,
      exportedEnvironmentVariables: [{ name: 'IMAGE_DIGEST', value: digest }],
      ...overrides,
    }],
    buildsNotFound: [],
  });
}

/** GetJobDetails' answer: the job runs in `pipeline` (with the artifact credentials the real answer carries). */
function answerJob(pipeline = PIPELINE, stage = 'Sign') {
  aws.codePipeline.on(GetJobDetailsCommand).resolves({
    jobDetails: {
      id: 'job',
      accountId: ACCOUNT,
      data: {
        actionTypeId: { category: 'Invoke', owner: 'AWS', provider: 'Lambda', version: '1' },
        pipelineContext: {
          pipelineName: pipeline,
          pipelineArn: `arn:aws:codepipeline:${REGION}:${ACCOUNT}:${pipeline}`,
          pipelineExecutionId: EXECUTION_ID,
          stage: { name: stage },
          action: { name: stage, actionExecutionId: '5d1f0b2e-3c4a-4b5d-8e6f-7a8b9c0d1e2f' },
        },
        artifactCredentials: ARTIFACT_CREDENTIALS,
      },
    },
  });
}

function serveBuildArtifact(files: Array<[string, string]>) {
  const archive = writeZip(files.map(([name, content]) => [name, Buffer.from(content)]));
  aws.s3.on(GetObjectCommand, { Bucket: 'pipeline-artifacts', Key: 'pipe/BuildOutpu/abc1234' })
    .resolves({ ContentLength: archive.length, Body: { transformToByteArray: async () => new Uint8Array(archive) } as any });
}

const signHandler = (uri: string) => createSignHandler({
  env: {
    SIGNING_PROFILES: JSON.stringify([{ profileName: RELEASE.profileName, profileArn: RELEASE.profileArn }]),
    ALLOWED_REPOSITORIES: JSON.stringify([uri]),
    AWS_SIGNER_ROOTS: fake.chain.root.pem,
    AWS_REGION: REGION,
    ...registryEnv(),
  },
  clients: aws.clients,
});

const verifyHandler = (required: unknown) => createVerifyHandler({
  env: {
    TRUST_POLICY: trustPolicy([RELEASE.profileArn]),
    TRUST_STORES: JSON.stringify({ 'signingAuthority:test': `${fake.chain.root.pem}\n${stranger.chain.root.pem}` }),
    REQUIRED_ATTESTATIONS: JSON.stringify(required),
    AWS_REGION: REGION,
    ...registryEnv(),
  },
  clients: aws.clients,
});

const REQUIRE_PROVENANCE = { provenance: { builderIsPipeline: true, sourceRepository: REPO_URL, sourceBranch: 'main' } };

const signParameters = (imageUri: string, extra: Record<string, unknown> = {}) => JSON.stringify({
  imageUri,
  buildId: BUILD_ARN,
  attachProvenance: true,
  sourceRepository: REPO_URL,
  sourceBranch: 'main',
  sourceCommit: COMMIT,
  ...extra,
});

/** An image the sign handler signed, with the provenance it attached (as the Sign stage runs it). */
async function signedWithProvenance(prefix: string) {
  const pushed = await pushTestImage(prefix);
  const imageUri = `${pushed.uri}@${pushed.image.digest}`;
  answerBuild(pushed.image.digest);
  answerJob();
  await signHandler(pushed.uri)(jobEvent(signParameters(imageUri), 'sign-job'), lambdaContext());
  const success = reportedSuccess(aws.codePipeline, 'sign-job');
  aws.reset(fake);
  return { ...pushed, imageUri, outputVariables: success.outputVariables ?? {} };
}

type GateResult = { ok: true; variables: Record<string, string> } | { ok: false; message: string };

async function gate(imageUri: string, required: unknown = REQUIRE_PROVENANCE, pipeline = PIPELINE): Promise<GateResult> {
  aws.codePipeline.resetHistory();
  answerJob(pipeline, 'Deploy');
  const jobId = `gate-${Math.random().toString(16).slice(2)}`;
  await verifyHandler(required)(jobEvent(JSON.stringify({ imageUri }), jobId), lambdaContext());
  try {
    return { ok: true, variables: reportedSuccess(aws.codePipeline, jobId).outputVariables ?? {} };
  } catch {
    return { ok: false, message: reportedFailure(aws.codePipeline, jobId) };
  }
}

async function pushUnsigned(repository: OciRepository, subject: Descriptor, document: Uint8Array): Promise<Descriptor> {
  const layer = await repository.pushBlob(document, AttestationMediaType.IN_TOTO);
  await repository.pushBlob(new TextEncoder().encode('{}'), MediaType.OCI_EMPTY);
  const manifest = buildAttestationManifest({
    type: 'slsa-provenance',
    subject,
    document: { mediaType: AttestationMediaType.IN_TOTO, digest: layer.digest, size: document.byteLength },
    created: new Date(),
  });
  return (await repository.pushManifest(manifest, MediaType.OCI_MANIFEST)).descriptor;
}

describe('sign handler: attaching the signed provenance', () => {
  test('attaches provenance from what CodeBuild and CodePipeline report, signed by the profile, after the image signature', async () => {
    const image = await signedWithProvenance('handlers/attest-sign');

    expect(image.outputVariables.PROVENANCE_DIGEST).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(image.outputVariables.SIGNATURE_DIGEST).toMatch(/^sha256:/);
    const [listed] = await listAttestations(image.repository, image.image, 'slsa-provenance');
    expect(listed.descriptor.digest).toBe(image.outputVariables.PROVENANCE_DIGEST);
    const manifest = JSON.parse(Buffer.from((await image.repository.fetchManifest(listed.descriptor.digest)).bytes).toString());
    const statement = JSON.parse(Buffer.from(await image.repository.fetchBlob(manifest.layers[0])).toString());
    expect(statement.subject).toEqual([{ name: image.repository.name, digest: { sha256: image.image.digest.slice(7) } }]);
    expect(statement.predicate.runDetails).toEqual({
      builder: { id: PIPELINE_ARN },
      metadata: { invocationId: BUILD_ARN, startedOn: '2026-01-02T03:04:05Z', finishedOn: '2026-01-02T03:09:00Z' },
    });
    expect(statement.predicate.buildDefinition.resolvedDependencies).toEqual([{ uri: `git+${REPO_URL}@refs/heads/main`, digest: { gitCommit: COMMIT } }]);
    expect(statement.predicate.buildDefinition.internalParameters.pipeline).toMatchObject({ arn: PIPELINE_ARN, executionId: EXECUTION_ID, stage: 'Sign' });
  });

  test('a retried Sign action keeps the attestations it attached: the same manifests, each with its one signature', async () => {
    const pushed = await pushTestImage('handlers/attest-retry');
    const imageUri = `${pushed.uri}@${pushed.image.digest}`;
    serveBuildArtifact([['sbom.json', JSON.stringify(SPDX)]]);
    const run = async (jobId: string) => {
      aws.codePipeline.resetHistory();
      answerBuild(pushed.image.digest);
      answerJob();
      await signHandler(pushed.uri)(jobEvent(signParameters(imageUri, { sbomFormat: 'spdx' }), jobId, { inputArtifacts: [BUILD_ARTIFACT] }), lambdaContext());
      return reportedSuccess(aws.codePipeline, jobId).outputVariables ?? {};
    };

    const first = await run('sign-first');
    const retried = await run('sign-retried');

    expect(retried.PROVENANCE_DIGEST).toBe(first.PROVENANCE_DIGEST);
    expect(retried.SBOM_DIGEST).toBe(first.SBOM_DIGEST);
    for (const type of ['slsa-provenance', 'spdx'] as const) {
      const attestations = await listAttestations(pushed.repository, pushed.image, type);
      expect(attestations).toHaveLength(1);
      expect(await listSignatures(pushed.repository, attestations[0].descriptor)).toHaveLength(1);
    }
  });

  test.each<[string, Partial<Build>, RegExp]>([
    ['another pipeline started the build', { initiator: 'codepipeline/other' }, /could not attach its attestations: CodeBuild build .* was started by "codepipeline\/other", not by pipeline "release-pipeline"/],
    ['the build pushed another image', { exportedEnvironmentVariables: [{ name: 'IMAGE_DIGEST', value: `sha256:${'0'.repeat(64)}` }] }, /exported IMAGE_DIGEST sha256:0{64}, not the image .*it did not build this image/],
    ['the build built another commit', { resolvedSourceVersion: 'f'.repeat(40) }, /built source version f{40}, not the source commit 3f78/],
  ])('refuses provenance when %s', async (_name, overrides, message) => {
    const pushed = await pushTestImage('handlers/attest-refuse');
    answerBuild(pushed.image.digest, overrides);
    answerJob();
    await signHandler(pushed.uri)(jobEvent(signParameters(`${pushed.uri}@${pushed.image.digest}`), 'sign-refused'), lambdaContext());
    expect(reportedFailure(aws.codePipeline, 'sign-refused')).toMatch(message);
    expect(await listAttestations(pushed.repository, pushed.image, 'slsa-provenance')).toEqual([]);
  });

  test('attachProvenance needs buildId and a job', async () => {
    const pushed = await pushTestImage('handlers/attest-params');
    const imageUri = `${pushed.uri}@${pushed.image.digest}`;
    await signHandler(pushed.uri)(jobEvent(JSON.stringify({ imageUri, attachProvenance: true }), 'no-build'), lambdaContext());
    expect(reportedFailure(aws.codePipeline, 'no-build')).toBe('UserParameters: attachProvenance needs buildId: the provenance records the build CodeBuild reports');
    answerBuild(pushed.image.digest);
    await expect(signHandler(pushed.uri)({ imageUri, buildId: BUILD_ARN, attachProvenance: true })).rejects.toThrow(/attachProvenance needs a CodePipeline job/);
  });

  test('attaches the SBOM of the Build artifact, signed', async () => {
    const pushed = await pushTestImage('handlers/attest-sbom');
    const imageUri = `${pushed.uri}@${pushed.image.digest}`;
    serveBuildArtifact([['sbom.json', JSON.stringify(SPDX)], ['imagedefinitions.json', '[]']]);
    await signHandler(pushed.uri)(jobEvent(JSON.stringify({ imageUri, sbomFormat: 'spdx' }), 'sbom-job', { inputArtifacts: [BUILD_ARTIFACT] }), lambdaContext());
    const variables = reportedSuccess(aws.codePipeline, 'sbom-job').outputVariables ?? {};
    expect(variables.SBOM_DIGEST).toMatch(/^sha256:/);
    aws.reset(fake);
    const passed = await gate(imageUri, { sbom: 'spdx' });
    expect(passed).toEqual({ ok: true, variables: expect.objectContaining({ SBOM_DIGEST: variables.SBOM_DIGEST }) });
    const other = await gate(imageUri, { sbom: 'cyclonedx' });
    expect(other).toEqual({ ok: false, message: expect.stringMatching(/^cyclonedx attestation required: no cyclonedx attestation \(artifactType application\/vnd.cyclonedx\+json\) is attached/) });
  });

  test('refuses an SBOM that is not one of its format', async () => {
    const pushed = await pushTestImage('handlers/attest-sbom-bad');
    serveBuildArtifact([['sbom.json', JSON.stringify({ bomFormat: 'CycloneDX', specVersion: '1.5' })]]);
    await signHandler(pushed.uri)(jobEvent(JSON.stringify({ imageUri: `${pushed.uri}@${pushed.image.digest}`, sbomFormat: 'spdx' }), 'sbom-bad', { inputArtifacts: [BUILD_ARTIFACT] }), lambdaContext());
    expect(reportedFailure(aws.codePipeline, 'sbom-bad')).toMatch(/input artifact "BuildOutput": sbom.json: the spdx document has no spdxVersion/);
  });
});

describe('verify handler: the gate requires signed provenance', () => {
  test('an image with signed provenance from this pipeline and source passes', async () => {
    const image = await signedWithProvenance('handlers/attest-pass');
    const result = await gate(image.imageUri);
    expect(result).toEqual({ ok: true, variables: expect.objectContaining({ VERIFIED: 'true', PROVENANCE_DIGEST: image.outputVariables.PROVENANCE_DIGEST }) });
  });

  test('missing provenance fails, naming the type', async () => {
    const pushed = await pushTestImage('handlers/attest-missing');
    const imageUri = `${pushed.uri}@${pushed.image.digest}`;
    await signHandler(pushed.uri)({ imageUri });
    const result = await gate(imageUri);
    expect(result).toEqual({ ok: false, message: expect.stringMatching(/^slsa-provenance attestation required: no slsa-provenance attestation \(artifactType application\/vnd.in-toto\+json\) is attached to /) });
  });

  test('unsigned provenance fails as not signed', async () => {
    const image = await signedWithProvenance('handlers/attest-unsigned');
    // Only the unsigned copy is left to pass: the signed one is of another branch than required.
    const signed = JSON.parse(Buffer.from((await image.repository.fetchManifest(image.outputVariables.PROVENANCE_DIGEST)).bytes).toString());
    const statement = JSON.parse(Buffer.from(await image.repository.fetchBlob(signed.layers[0])).toString());
    statement.predicate.buildDefinition.resolvedDependencies[0].uri = `git+${REPO_URL}@refs/heads/release`;
    const unsigned = await pushUnsigned(image.repository, image.image, bytes(statement));
    const result = await gate(image.imageUri, { provenance: { builderIsPipeline: true, sourceRepository: REPO_URL, sourceBranch: 'release' } });
    expect(result.ok).toBe(false);
    expect((result as { message: string }).message).toContain(`${unsigned.digest}: it is not signed: signature verification failed: no signature is associated with`);
  });

  test('tampered provenance (a signature borrowed from the genuine one) fails as not matching', async () => {
    const image = await signedWithProvenance('handlers/attest-tampered');
    const genuine = JSON.parse(Buffer.from((await image.repository.fetchManifest(image.outputVariables.PROVENANCE_DIGEST)).bytes).toString());
    const statement = JSON.parse(Buffer.from(await image.repository.fetchBlob(genuine.layers[0])).toString());
    statement.predicate.runDetails.builder.id = `arn:aws:codepipeline:${REGION}:${ACCOUNT}:other-pipeline`;
    const forged = await pushUnsigned(image.repository, image.image, bytes(statement));
    const [signatureDigest] = (await image.repository.referrers({ digest: image.outputVariables.PROVENANCE_DIGEST })).map((d) => d.digest);
    const signature = JSON.parse(Buffer.from((await image.repository.fetchManifest(signatureDigest)).bytes).toString());
    signature.subject = { mediaType: forged.mediaType, digest: forged.digest, size: forged.size };
    await image.repository.pushManifest(bytes(signature), MediaType.OCI_MANIFEST);

    const result = await gate(image.imageUri, REQUIRE_PROVENANCE, 'other-pipeline');
    expect(result.ok).toBe(false);
    expect((result as { message: string }).message).toContain(`${forged.digest}: its signature does not match it (integrity): `);
  });

  test('provenance signed by a signer the trust policy does not trust fails as untrusted', async () => {
    const pushed = await pushTestImage('handlers/attest-untrusted');
    const imageUri = `${pushed.uri}@${pushed.image.digest}`;
    await signHandler(pushed.uri)({ imageUri });
    answerBuild(pushed.image.digest);
    const predicate = { buildDefinition: { buildType: 'x', resolvedDependencies: [{ uri: `git+${REPO_URL}@refs/heads/main`, digest: { gitCommit: COMMIT } }] }, runDetails: { builder: { id: PIPELINE_ARN } } };
    const attached = await attachAttestation({ repository: pushed.repository, tagOrDigest: pushed.image.digest, type: 'slsa-provenance', document: bytes(predicate), signer: stranger.signers.get(OTHER.profileName)! });
    const result = await gate(imageUri);
    expect(result.ok).toBe(false);
    expect((result as { message: string }).message).toContain(`${attached.attestation.digest}: `);
    expect((result as { message: string }).message).toContain(`${attached.attestation.digest}: it is not signed by a trusted signer (authenticity): `);
  });

  test('provenance of another pipeline fails, naming runDetails.builder.id', async () => {
    const image = await signedWithProvenance('handlers/attest-builder');
    const result = await gate(image.imageUri, REQUIRE_PROVENANCE, 'other-pipeline');
    expect(result).toEqual({
      ok: false,
      message: expect.stringContaining(
        `signed provenance does not meet the requirement: runDetails.builder.id is "${PIPELINE_ARN}", not the required builder "arn:aws:codepipeline:${REGION}:${ACCOUNT}:other-pipeline"`,
      ),
    });
  });

  test('provenance of another branch or repository fails, naming the source field', async () => {
    const image = await signedWithProvenance('handlers/attest-source');
    const branch = await gate(image.imageUri, { provenance: { builderIsPipeline: true, sourceRepository: REPO_URL, sourceBranch: 'release' } });
    expect(branch).toEqual({ ok: false, message: expect.stringContaining('source branch: the source ref is "refs/heads/main", not the required "refs/heads/release"') });
    const repository = await gate(image.imageUri, { provenance: { builderId: PIPELINE_ARN, sourceRepository: 'https://github.com/org/other' } });
    expect(repository).toEqual({ ok: false, message: expect.stringContaining('source repository: no buildDefinition.resolvedDependencies entry is from "https://github.com/org/other"') });
  });

  test('a direct invocation cannot meet builderIsPipeline; an explicit builderId it can', async () => {
    const image = await signedWithProvenance('handlers/attest-direct');
    await expect(verifyHandler(REQUIRE_PROVENANCE)({ imageUri: image.imageUri })).rejects.toThrow(/from the pipeline that runs the verification, but this is not a CodePipeline job/);
    const direct = await verifyHandler({ provenance: { builderId: PIPELINE_ARN, sourceBranch: 'main' } })({ imageUri: image.imageUri }) as { verified: boolean; attestations: Array<{ verified: boolean }> };
    expect(direct.verified).toBe(true);
    expect(direct.attestations.map((a) => a.verified)).toEqual([true]);
  });

  test('a bad REQUIRED_ATTESTATIONS fails every invocation with its error', async () => {
    const image = await signedWithProvenance('handlers/attest-config');
    await expect(verifyHandler({ provenance: { builder: 'x' } })({ imageUri: image.imageUri })).rejects.toThrow('REQUIRED_ATTESTATIONS.provenance: unknown field "builder"');
  });
});
