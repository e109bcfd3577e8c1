/**
 * Provenance annotations written into the signed payload (`targetArtifact.annotations`) by the sign handler.
 * They are signed with the image, so a verifier can require them (`--user-metadata` / `userMetadata`).
 *
 * | key | value |
 * | --- | --- |
 * | `io.github.cdk-signed-image-pipeline.build.arn` | the CodeBuild build ARN (from BatchGetBuilds, `buildId` parameter) |
 * | `io.github.cdk-signed-image-pipeline.build.source-version` | the build's requested source version, when CodeBuild has one |
 * | `io.github.cdk-signed-image-pipeline.build.resolved-source-version` | the source version the build used (e.g. the commit id) |
 * | `io.github.cdk-signed-image-pipeline.pipeline.execution-id` | `pipelineExecutionId` parameter |
 * | `io.github.cdk-signed-image-pipeline.source.revision` | `sourceRevision` parameter (e.g. `#{Source.CommitId}`) |
 *
 * The prefix is reserved: `userMetadata` may not use it, so these values only come from the parameters
 * named above and from CodeBuild. Notation reserves `io.cncf.notary`, which is never used here.
 */
// lambda/ is bundled by esbuild, so its AWS SDK clients are devDependencies.
// eslint-disable-next-line import/no-extraneous-dependencies
import { BatchGetBuildsCommand, Build, CodeBuildClient } from '@aws-sdk/client-codebuild';
import { ParameterError } from './parameters';
import { buildPayload } from '../notary/payload';
import { MediaType } from '../oci/media-types';
import { MAX_SIGN_PAYLOAD_BYTES } from '../signers/aws-signer';

export const PROVENANCE_PREFIX = 'io.github.cdk-signed-image-pipeline.';

export const ProvenanceAnnotation = {
  BUILD_ARN: `${PROVENANCE_PREFIX}build.arn`,
  BUILD_SOURCE_VERSION: `${PROVENANCE_PREFIX}build.source-version`,
  BUILD_RESOLVED_SOURCE_VERSION: `${PROVENANCE_PREFIX}build.resolved-source-version`,
  PIPELINE_EXECUTION_ID: `${PROVENANCE_PREFIX}pipeline.execution-id`,
  SOURCE_REVISION: `${PROVENANCE_PREFIX}source.revision`,
} as const;


const PROJECT = '[A-Za-z0-9][A-Za-z0-9_-]{1,254}';
const BUILD_UUID = '[A-Za-z0-9-]{1,64}';
/** `<project>:<uuid>` (CODEBUILD_BUILD_ID). */
export const BUILD_ID = new RegExp(`^${PROJECT}:${BUILD_UUID}$`);
/** `arn:<partition>:codebuild:<region>:<account>:build/<project>:<uuid>` (CODEBUILD_BUILD_ARN). */
const BUILD_ARN = new RegExp(`^arn:aws[a-z-]*:codebuild:([a-z]{2}(?:-[a-z]+)+-\\d+):(\\d{12}):build/(${PROJECT}:${BUILD_UUID})$`);

/** What `buildId` names: the build id, and the region when an ARN was given. */
export interface BuildReference {
  readonly id: string;
  readonly region?: string;
}

/** Parses a CodeBuild build id or ARN; undefined when it is neither. */
export function parseBuildReference(value: string): BuildReference | undefined {
  const arn = BUILD_ARN.exec(value);
  if (arn) return { id: arn[3], region: arn[1] };
  return BUILD_ID.test(value) ? { id: value } : undefined;
}

/** Build statuses whose image is not signed: the build did not finish its work. */
const FAILED_BUILD_STATUSES = new Set(['FAILED', 'FAULT', 'STOPPED', 'TIMED_OUT']);
const MAX_VALUE = 1024;

/**
 * The build, read with BatchGetBuilds. A build that failed, faulted, stopped or timed out is refused (a build still
 * in progress is accepted: it may be signing its own image).
 */
export async function describeBuild(client: CodeBuildClient, build: BuildReference): Promise<Build> {
  let output;
  try {
    output = await client.send(new BatchGetBuildsCommand({ ids: [build.id] }));
  } catch (error) {
    throw new Error(`CodeBuild BatchGetBuilds for build "${build.id}" failed: ${(error as Error).name}: ${(error as Error).message}`, { cause: error });
  }
  const found = output.builds?.find((candidate) => candidate.id === build.id) ?? output.builds?.[0];
  if (!found || output.buildsNotFound?.includes(build.id)) {
    throw new Error(`buildId: CodeBuild has no build "${build.id}"${build.region ? ` in ${build.region}` : ''}; pass the id of the build that pushed the image (CODEBUILD_BUILD_ID)`);
  }
  if (found.buildStatus && FAILED_BUILD_STATUSES.has(found.buildStatus)) {
    throw new Error(`buildId: CodeBuild build "${build.id}" ended with status ${found.buildStatus}; an image from a build that did not succeed is not signed`);
  }
  if (!found.arn) throw new Error(`CodeBuild BatchGetBuilds returned build "${build.id}" without its ARN`);
  return found;
}

/** The provenance annotations of a build `describeBuild` returned. */
export function buildAnnotations(found: Build): Record<string, string> {
  const annotations: Record<string, string> = { [ProvenanceAnnotation.BUILD_ARN]: found.arn! };
  if (found.sourceVersion) annotations[ProvenanceAnnotation.BUILD_SOURCE_VERSION] = found.sourceVersion.slice(0, MAX_VALUE);
  if (found.resolvedSourceVersion) annotations[ProvenanceAnnotation.BUILD_RESOLVED_SOURCE_VERSION] = found.resolvedSourceVersion.slice(0, MAX_VALUE);
  return annotations;
}

/** The build's provenance annotations, read with BatchGetBuilds (see `describeBuild`). */
export async function buildProvenance(client: CodeBuildClient, build: BuildReference): Promise<Record<string, string>> {
  return buildAnnotations(await describeBuild(client, build));
}

/** The largest descriptor a signed payload can name: the annotations must fit next to it. */
const LARGEST_TARGET = { mediaType: MediaType.DOCKER_MANIFEST_LIST, digest: `sha512:${'0'.repeat(128)}`, size: 4 * 1024 * 1024 };

/**
 * Throws when the annotations would make the Notary payload larger than AWS Signer signs, whatever the
 * image's descriptor; checked before anything is read from the registry or sent to AWS Signer.
 */
export function checkPayloadSize(annotations: Readonly<Record<string, string>>, what: string): void {
  const bytes = buildPayload(LARGEST_TARGET, annotations).byteLength;
  if (bytes > MAX_SIGN_PAYLOAD_BYTES) {
    throw new ParameterError(
      `${what} make the signed payload up to ${bytes} bytes, but AWS Signer signs payloads of at most ${MAX_SIGN_PAYLOAD_BYTES} bytes; ` +
        'use fewer or shorter userMetadata entries',
    );
  }
}
