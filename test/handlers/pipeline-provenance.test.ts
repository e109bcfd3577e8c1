import type { Build } from '@aws-sdk/client-codebuild';
import { PIPELINE_BUILD_TYPE, pipelineProvenance, PipelineProvenanceInput, ProvenanceError } from '../../lambda/handlers/pipeline-provenance';
import { summarizeProvenance, unmetProvenanceRequirement } from '../../lambda/notary/attestation-requirements';

const ACCOUNT = '111122223333';
const DIGEST = `sha256:${'ab'.repeat(32)}`;
const COMMIT = '3f786850e387550fdab836ed7e6dc881de23001b';
const BUILD_ARN = `arn:aws:codebuild:us-east-1:${ACCOUNT}:build/image-build:0d1f2e3c-4b5a-6978-8a9b-0c1d2e3f4a5b`;
const PIPELINE_ARN = `arn:aws:codepipeline:us-east-1:${ACCOUNT}:release-pipeline`;

/** A BatchGetBuilds `Build` in the CodeBuild API reference's shape, for a build CodePipeline started. */
function build(overrides: Partial<Build> = {}): Build {
  return {
    id: 'image-build:0d1f2e3c-4b5a-6978-8a9b-0c1d2e3f4a5b',
    arn: BUILD_ARN,
    buildNumber: 12,
    startTime: new Date('2026-01-02T03:04:05.678Z'),
    endTime: new Date('2026-01-02T03:09:00.123Z'),
    currentPhase: 'COMPLETED',
    buildStatus: 'SUCCEEDED',
    sourceVersion: 'arn:aws:s3:::pipeline-artifacts/release-pipeline/SourceCode/abc.zip',
    resolvedSourceVersion: COMMIT,
    projectName: 'image-build',
    source: { type: 'CODEPIPELINE', buildspec: 'version: 0.2\nphases: {}\n' },
    environment: { type: 'LINUX_CONTAINER', image: 'aws/codebuild/standard:7.0', computeType: 'BUILD_GENERAL1_SMALL' },
    initiator: 'codepipeline/release-pipeline',
    exportedEnvironmentVariables: [
      { name: 'IMAGE_URI', value: `${ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/app` },
      { name: 'IMAGE_DIGEST', value: DIGEST },
    ],
    ...overrides,
  };
}

function input(overrides: Partial<PipelineProvenanceInput> = {}): PipelineProvenanceInput {
  return {
    build: build(),
    pipeline: {
      pipelineName: 'release-pipeline',
      pipelineArn: PIPELINE_ARN,
      pipelineExecutionId: 'c6b1a0f4-6d5e-4c3b-9a2f-1e0d9c8b7a65',
      stage: { name: 'Sign' },
      action: { name: 'Sign', actionExecutionId: '5d1f0b2e-3c4a-4b5d-8e6f-7a8b9c0d1e2f' },
    },
    accountId: ACCOUNT,
    region: 'us-east-1',
    imageDigest: DIGEST,
    source: { repository: 'https://github.com/org/app', branch: 'main', commit: COMMIT },
    ...overrides,
  };
}

describe('pipelineProvenance', () => {
  test('assembles SLSA Provenance v1 from the build, the pipeline and the source', () => {
    const predicate = pipelineProvenance(input());
    expect(predicate).toEqual({
      buildDefinition: {
        buildType: PIPELINE_BUILD_TYPE,
        externalParameters: {
          source: { repository: 'https://github.com/org/app', ref: 'refs/heads/main', revision: COMMIT },
          buildspec: 'version: 0.2\nphases: {}\n',
        },
        internalParameters: {
          codeBuildProject: `arn:aws:codebuild:us-east-1:${ACCOUNT}:project/image-build`,
          buildImage: 'aws/codebuild/standard:7.0',
          computeType: 'BUILD_GENERAL1_SMALL',
          initiator: 'codepipeline/release-pipeline',
          pipeline: { arn: PIPELINE_ARN, name: 'release-pipeline', executionId: 'c6b1a0f4-6d5e-4c3b-9a2f-1e0d9c8b7a65', stage: 'Sign', action: 'Sign' },
        },
        resolvedDependencies: [{ uri: 'git+https://github.com/org/app@refs/heads/main', digest: { gitCommit: COMMIT } }],
      },
      runDetails: {
        builder: { id: PIPELINE_ARN },
        metadata: { invocationId: BUILD_ARN, startedOn: '2026-01-02T03:04:05Z', finishedOn: '2026-01-02T03:09:00Z' },
      },
    });
    // The verifier reads the forms written here.
    const summary = summarizeProvenance(predicate);
    expect(summary.sources).toEqual([{ repository: 'https://github.com/org/app', ref: 'refs/heads/main', revision: COMMIT }]);
    expect(unmetProvenanceRequirement(summary, { builderId: PIPELINE_ARN, sourceRepository: 'https://github.com/org/app.git', sourceBranch: 'main', sourceRevision: COMMIT })).toBeUndefined();
  });

  test('derives the pipeline ARN from the name when the context has none', () => {
    const predicate = pipelineProvenance(input({ pipeline: { pipelineName: 'release-pipeline' }, region: 'eu-west-1' }));
    expect((predicate.runDetails as { builder: { id: string } }).builder.id).toBe(`arn:aws:codepipeline:eu-west-1:${ACCOUNT}:release-pipeline`);
  });

  test('takes the commit CodeBuild resolved when the source gives none', () => {
    const predicate = pipelineProvenance(input({ source: { repository: 'https://github.com/org/app', branch: 'main' } }));
    expect(summarizeProvenance(predicate).sources[0].revision).toBe(COMMIT);
  });

  test.each<[string, Partial<PipelineProvenanceInput>, RegExp]>([
    ['a build that failed', { build: build({ buildStatus: 'FAILED' }) }, /has status FAILED; provenance is written only for a build that succeeded/],
    ['a build still running', { build: build({ buildStatus: 'IN_PROGRESS' }) }, /has status IN_PROGRESS/],
    ['a build another pipeline started', { build: build({ initiator: 'codepipeline/other-pipeline' }) }, /was started by "codepipeline\/other-pipeline", not by pipeline "release-pipeline"/],
    ['a build a person started', { build: build({ initiator: 'alice' }) }, /was started by "alice"/],
    ['a build that exported another digest', { build: build({ exportedEnvironmentVariables: [{ name: 'IMAGE_DIGEST', value: `sha256:${'cd'.repeat(32)}` }] }) }, /exported IMAGE_DIGEST sha256:cdcd.*not the image sha256:abab.*it did not build this image/],
    ['a build that exported no digest', { build: build({ exportedEnvironmentVariables: [] }) }, /exported no IMAGE_DIGEST/],
    ['a commit the build did not build', { source: { repository: 'https://github.com/org/app', branch: 'main', commit: 'f'.repeat(40) } }, /built source version 3f78.*not the source commit ffff/],
    ['a commit that is not one', { source: { repository: 'https://github.com/org/app', commit: 'HEAD' } }, /"HEAD" is not a git commit id/],
    ['no pipeline name', { pipeline: {} }, /no pipelineContext.pipelineName/],
    ['a pipeline ARN of another pipeline', { pipeline: { pipelineName: 'release-pipeline', pipelineArn: `arn:aws:codepipeline:us-east-1:${ACCOUNT}:other` } }, /not the ARN of pipeline "release-pipeline"/],
    ['a build without an end time', { build: build({ endTime: undefined }) }, /no end time/],
    ['a build ARN that is not one', { build: build({ arn: 'image-build:1' }) }, /not a build ARN/],
  ])('refuses %s', (_name, overrides, message) => {
    expect(() => pipelineProvenance(input(overrides))).toThrow(ProvenanceError);
    expect(() => pipelineProvenance(input(overrides))).toThrow(message);
  });
});
