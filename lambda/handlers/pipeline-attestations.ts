/**
 * The Sign stage's attestations: after the image is signed, a SLSA provenance assembled from what CodeBuild and
 * CodePipeline report (`pipeline-provenance.ts`) and, when the Build stage made one, the image's SBOM (the input
 * artifact's `sbom.json`) are attached to the image as OCI 1.1 referrers and signed with the same AWS Signer profile
 * (`attachAttestation`), so a gate can require them (`verifyAttestation`).
 */
// lambda/ is bundled by esbuild, so its AWS SDK clients are devDependencies.
// eslint-disable-next-line import/no-extraneous-dependencies
import type { Build } from '@aws-sdk/client-codebuild';
import { readArtifactFile } from './artifacts';
import { AwsClients } from './clients';
import { jobPipeline, partitionOf } from './job-context';
import { ParameterError } from './parameters';
import { pipelineProvenance, PipelineSourceFacts } from './pipeline-provenance';
import { WorkInput } from './runner';
import { MAX_ATTESTATION_BYTES } from '../notary/attestation';
import { attachAttestation } from '../notary/attestation-attach';
import { SignatureManifestFormat } from '../notary/signature-manifest';
import { Signer } from '../notary/signer';
import { OciRepository } from '../oci/repository';

/** The SBOM file the Build stage writes into its output artifact. */
export const SBOM_FILE = 'sbom.json';

export type SbomFormat = 'spdx' | 'cyclonedx';

export interface AttestationRequest {
  readonly provenance: boolean;
  readonly sbomFormat?: SbomFormat;
  readonly source?: PipelineSourceFacts;
}

export interface AttachedAttestations {
  /** The provenance attestation manifest. */
  readonly provenanceDigest?: string;
  /** The SBOM attestation manifest. */
  readonly sbomDigest?: string;
}

export interface PipelineAttestationsInput {
  readonly input: WorkInput;
  readonly request: AttestationRequest;
  readonly repository: OciRepository;
  readonly imageDigest: string;
  readonly signer: Signer;
  readonly manifestFormat: SignatureManifestFormat;
  readonly clients: AwsClients;
  /** The build, as `describeBuild` read it (needed for provenance). */
  readonly build?: Build;
  /** The function's region. */
  readonly region?: string;
}

/** Attaches and signs the requested attestations; throws with a message naming what AWS reported that does not fit. */
export async function attachPipelineAttestations(options: PipelineAttestationsInput): Promise<AttachedAttestations> {
  const { input, request, repository, imageDigest } = options;
  // Dated by the build's end, so that a retried Sign action pushes the same attestation manifests and keeps their
  // signatures (signImage reuses a valid one by the same profile) instead of attaching duplicates.
  const buildEnd = options.build?.endTime;
  const { signer, manifestFormat } = options;
  const attach = (type: 'slsa-provenance' | SbomFormat, document: Uint8Array) =>
    attachAttestation({ repository, tagOrDigest: imageDigest, type, document, signer, manifestFormat, created: buildEnd });
  let provenanceDigest: string | undefined;
  if (request.provenance) {
    if (!input.jobId) throw new ParameterError(`${input.source}: attachProvenance needs a CodePipeline job: the provenance names the pipeline that runs the job`);
    if (!options.build) throw new ParameterError(`${input.source}: attachProvenance needs buildId: the provenance records the build CodeBuild reports`);
    if (!options.region) throw new Error('AWS_REGION is not set: the pipeline\'s region is needed for its ARN');
    input.step(`reading job ${input.jobId} from CodePipeline`);
    const job = await jobPipeline(options.clients.codePipeline(), input.jobId, options.region, partitionOf(options.region));
    const predicate = pipelineProvenance({
      build: options.build,
      pipeline: { ...job.pipeline, pipelineArn: job.pipelineArn },
      accountId: job.accountId,
      region: options.region,
      imageDigest,
      source: request.source,
    });
    input.step(`attaching the signed provenance to ${imageDigest}`);
    const attached = await attach('slsa-provenance', new TextEncoder().encode(JSON.stringify(predicate)));
    provenanceDigest = attached.attestation.digest;
    input.log.info('attached the signed provenance', { attestationDigest: provenanceDigest, signatureDigest: attached.signature.signatureDigest, reused: attached.signature.reused, builderId: job.pipelineArn });
  }
  let sbomDigest: string | undefined;
  if (request.sbomFormat) {
    const [artifact] = input.artifacts.inputs;
    if (!artifact) throw new ParameterError(`${input.source}: sbomFormat needs the Build artifact as the action's input artifact (it holds ${SBOM_FILE})`);
    input.step(`reading ${SBOM_FILE} of input artifact "${artifact.name}"`);
    const document = await readArtifactFile(options.clients.artifactStore, input.artifacts, artifact, SBOM_FILE, MAX_ATTESTATION_BYTES);
    input.step(`attaching the signed ${request.sbomFormat} SBOM to ${imageDigest}`);
    let attached;
    try {
      attached = await attach(request.sbomFormat, document);
    } catch (error) {
      throw new Error(`input artifact "${artifact.name}": ${SBOM_FILE}: ${(error as Error).message}`, { cause: error });
    }
    sbomDigest = attached.attestation.digest;
    input.log.info('attached the signed SBOM', { attestationDigest: sbomDigest, signatureDigest: attached.signature.signatureDigest, reused: attached.signature.reused, attestationType: request.sbomFormat });
  }
  return { ...(provenanceDigest ? { provenanceDigest } : {}), ...(sbomDigest ? { sbomDigest } : {}) };
}
