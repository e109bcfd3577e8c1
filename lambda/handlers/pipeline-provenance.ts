/**
 * The SLSA Provenance v1 predicate of an image the pipeline built, assembled from what AWS reports, not from what the
 * build says about itself: the CodeBuild build (BatchGetBuilds `Build`), the CodePipeline job that signs the image
 * (GetJobDetails `jobDetails.data.pipelineContext`) and the source action's variables (`#{Source.CommitId}`,
 * `#{Source.BranchName}`, resolved by CodePipeline). Pure: the handler fetches, this function checks and assembles.
 *
 * - `runDetails.builder.id` is the pipeline's ARN (`arn:<partition>:codepipeline:<region>:<account>:<name>`): the
 *   trusted control plane that ran the build and the signing. A verifier requires it with `builderId`.
 * - `buildDefinition.buildType` is `PIPELINE_BUILD_TYPE`, documented in SECURITY.md ("Build provenance").
 * - `externalParameters`: the source (repository, ref, revision) and the buildspec the project ran.
 * - `internalParameters`: the CodeBuild project ARN, the build's environment image and compute type, the build's
 *   initiator, and the pipeline (ARN, name, execution id, stage and action of the signing job).
 * - `resolvedDependencies`: the source as `git+<repository>@refs/heads/<branch>` with `digest.gitCommit`, the form
 *   `attestation-requirements.ts` reads (slsa-framework/slsa-github-generator's SLSA v1.0 build type).
 * - `runDetails.metadata`: `invocationId` the build ARN, `startedOn`/`finishedOn` the build's start and end times.
 *
 * The shapes are the CodeBuild API reference's `Build` (initiator: "If CodePipeline started the build, the pipeline's
 * name (for example, codepipeline/my-demo-pipeline)") and the CodePipeline API reference's `PipelineContext`.
 */
// lambda/ is bundled by esbuild, so its AWS SDK clients are devDependencies.
/* eslint-disable import/no-extraneous-dependencies */
import type { Build } from '@aws-sdk/client-codebuild';
import type { PipelineContext } from '@aws-sdk/client-codepipeline';
/* eslint-enable import/no-extraneous-dependencies */

/** The buildType of the provenance this library writes (a URI that names the build type's documentation). */
export const PIPELINE_BUILD_TYPE = 'https://github.com/cdk-signed-image-pipeline/cdk-signed-image-pipeline/blob/main/SECURITY.md#build-provenance-v1';

/** The source as the pipeline's source action reports it. */
export interface PipelineSourceFacts {
  /** The repository URL, e.g. `https://github.com/org/repo` (set by the construct from the source action). */
  readonly repository: string;
  /** The branch (`#{Source.BranchName}`). */
  readonly branch?: string;
  /** The commit (`#{Source.CommitId}`). */
  readonly commit?: string;
}

export interface PipelineProvenanceInput {
  /** The build, as CodeBuild BatchGetBuilds reports it. */
  readonly build: Build;
  /** The signing job's pipeline, as CodePipeline GetJobDetails reports it. */
  readonly pipeline: PipelineContext;
  /** The account of the job (GetJobDetails `jobDetails.accountId`). */
  readonly accountId: string;
  /** The pipeline's region (the function's: CodePipeline invokes it in the pipeline's region). */
  readonly region: string;
  /** The image the provenance is about: the build must have exported this as IMAGE_DIGEST. */
  readonly imageDigest: string;
  readonly source?: PipelineSourceFacts;
}

/** Provenance that cannot be written: what AWS reports does not hold together. */
export class ProvenanceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProvenanceError';
  }
}

const BUILD_ARN = /^arn:(aws[a-z-]*):codebuild:([a-z0-9-]+):(\d{12}):build\/([^:]+):(.+)$/;
const PIPELINE_ARN = /^arn:aws[a-z-]*:codepipeline:[a-z0-9-]+:\d{12}:([A-Za-z0-9.@_-]+)$/;
const COMMIT = /^[0-9a-f]{40}([0-9a-f]{24})?$/;
const BRANCH = /^[^\s~^:?*[\\]{1,255}$/;

/** The time as SLSA writes it (RFC 3339, UTC, seconds). */
function timestamp(value: Date | undefined, what: string): string {
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) throw new ProvenanceError(`CodeBuild reports no ${what} for the build`);
  return value.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * The SLSA Provenance v1 predicate of the image. Throws ProvenanceError when the facts do not hold together: a build
 * that did not succeed, a build another initiator started than this pipeline, a build that exported another image
 * digest (or none), a commit the build did not build, or a pipeline context without a pipeline.
 */
export function pipelineProvenance(input: PipelineProvenanceInput): Record<string, unknown> {
  const { build, pipeline, source } = input;
  const arn = BUILD_ARN.exec(build.arn ?? '');
  if (!arn) throw new ProvenanceError(`CodeBuild reports build ARN ${JSON.stringify(build.arn)}, which is not a build ARN`);
  const [, partition, buildRegion, buildAccount, project] = arn;
  if (build.buildStatus !== 'SUCCEEDED') {
    throw new ProvenanceError(`CodeBuild build ${build.arn} has status ${build.buildStatus ?? 'unknown'}; provenance is written only for a build that succeeded`);
  }
  const pipelineName = pipeline.pipelineName;
  if (!pipelineName) throw new ProvenanceError('CodePipeline GetJobDetails reports no pipelineContext.pipelineName for the job');
  const pipelineArn = pipeline.pipelineArn ?? `arn:${partition}:codepipeline:${input.region}:${input.accountId}:${pipelineName}`;
  const named = PIPELINE_ARN.exec(pipelineArn);
  if (!named || named[1] !== pipelineName) {
    throw new ProvenanceError(`CodePipeline reports pipeline ARN ${JSON.stringify(pipelineArn)}, which is not the ARN of pipeline "${pipelineName}"`);
  }
  // The build is tied to this pipeline by CodeBuild's own record of who started it.
  const initiator = build.initiator ?? '';
  if (initiator !== `codepipeline/${pipelineName}`) {
    throw new ProvenanceError(
      `CodeBuild build ${build.arn} was started by ${JSON.stringify(initiator)}, not by pipeline "${pipelineName}" (initiator codepipeline/${pipelineName})`,
    );
  }
  // ... and to the image by the digest it exported (CodeBuild records exported variables when the build ends).
  const exported = new Map((build.exportedEnvironmentVariables ?? []).map((variable) => [variable.name, variable.value]));
  const builtDigest = exported.get('IMAGE_DIGEST');
  if (builtDigest === undefined) throw new ProvenanceError(`CodeBuild build ${build.arn} exported no IMAGE_DIGEST; the provenance cannot name the image it built`);
  if (builtDigest !== input.imageDigest) {
    throw new ProvenanceError(`CodeBuild build ${build.arn} exported IMAGE_DIGEST ${builtDigest}, not the image ${input.imageDigest}; it did not build this image`);
  }

  const resolved = build.resolvedSourceVersion;
  if (source?.commit !== undefined && !COMMIT.test(source.commit)) throw new ProvenanceError(`the source commit ${JSON.stringify(source.commit)} is not a git commit id`);
  if (source?.branch !== undefined && !BRANCH.test(source.branch)) throw new ProvenanceError(`the source branch ${JSON.stringify(source.branch)} is not a branch name`);
  if (source?.commit !== undefined && resolved !== undefined && resolved !== source.commit) {
    throw new ProvenanceError(`CodeBuild build ${build.arn} built source version ${resolved}, not the source commit ${source.commit}`);
  }
  const commit = source?.commit ?? (resolved !== undefined && COMMIT.test(resolved) ? resolved : undefined);
  const ref = source?.branch !== undefined ? `refs/heads/${source.branch}` : undefined;
  const repository = source?.repository.replace(/\/+$/, '');

  const resolvedDependencies: Record<string, unknown>[] = [];
  if (repository !== undefined) {
    resolvedDependencies.push({
      uri: `git+${repository}${ref !== undefined ? `@${ref}` : ''}`,
      ...(commit !== undefined ? { digest: { gitCommit: commit } } : {}),
    });
  }
  const buildspec = build.source?.buildspec;
  return {
    buildDefinition: {
      buildType: PIPELINE_BUILD_TYPE,
      externalParameters: {
        source: {
          ...(repository !== undefined ? { repository } : {}),
          ...(ref !== undefined ? { ref } : {}),
          ...(commit !== undefined ? { revision: commit } : {}),
        },
        ...(buildspec !== undefined ? { buildspec } : {}),
      },
      internalParameters: {
        codeBuildProject: `arn:${partition}:codebuild:${buildRegion}:${buildAccount}:project/${project}`,
        ...(build.environment?.image !== undefined ? { buildImage: build.environment.image } : {}),
        ...(build.environment?.computeType !== undefined ? { computeType: build.environment.computeType } : {}),
        initiator,
        pipeline: {
          arn: pipelineArn,
          name: pipelineName,
          ...(pipeline.pipelineExecutionId !== undefined ? { executionId: pipeline.pipelineExecutionId } : {}),
          ...(pipeline.stage?.name !== undefined ? { stage: pipeline.stage.name } : {}),
          ...(pipeline.action?.name !== undefined ? { action: pipeline.action.name } : {}),
        },
      },
      resolvedDependencies,
    },
    runDetails: {
      builder: { id: pipelineArn },
      metadata: {
        invocationId: build.arn,
        startedOn: timestamp(build.startTime, 'start time'),
        finishedOn: timestamp(build.endTime, 'end time'),
      },
    },
  };
}
