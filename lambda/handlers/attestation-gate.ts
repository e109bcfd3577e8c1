/**
 * The attestation requirements of a verifying function (`REQUIRED_ATTESTATIONS`), checked after the image's
 * signature verified: each required attestation must be attached, signed under the same trust policy as the image,
 * and meet the requirements (`verifyAttestation`; its failure message names the reason and the field).
 */
import { RequiredAttestationsDocument } from '../../src/shared/attestation-requirements';
import { AttestationType } from '../notary/attestation';
import { ProvenanceRequirements } from '../notary/attestation-requirements';
import { AttestationVerification, verifyAttestation, VerifyAttestationRequest } from '../notary/attestation-verify';

export interface AttestationGateInput {
  readonly required: RequiredAttestationsDocument;
  /** The image's verification request (repository, digest, policy, stores, revocation). */
  readonly request: Omit<VerifyAttestationRequest, 'type' | 'requirements'>;
  /**
   * The ARN of the pipeline that runs the verifying job, for `builderIsPipeline`; absent when the verification is not
   * a CodePipeline job (an ECS event, a direct invocation), which then cannot meet it.
   */
  readonly runningPipelineArn?: () => Promise<string>;
  step(description: string): void;
}

export type AttestationGateResult =
  | { readonly ok: true; readonly verifications: readonly AttestationVerification[] }
  | { readonly ok: false; readonly message: string; readonly verifications: readonly AttestationVerification[] };

/** The provenance requirements, with `builderIsPipeline` resolved to the job's pipeline ARN. */
async function provenanceRequirements(input: AttestationGateInput): Promise<ProvenanceRequirements> {
  const { builderId, builderIsPipeline, sourceRepository, sourceBranch } = input.required.provenance ?? {};
  let builder = builderId;
  if (builderIsPipeline) {
    if (!input.runningPipelineArn) {
      throw new Error('slsa-provenance attestation required from the pipeline that runs the verification, but this is not a CodePipeline job; invoke it from the pipeline');
    }
    builder = await input.runningPipelineArn();
  }
  return {
    ...(builder !== undefined ? { builderId: builder } : {}),
    ...(sourceRepository !== undefined ? { sourceRepository } : {}),
    ...(sourceBranch !== undefined ? { sourceBranch } : {}),
  };
}

/** Checks every required attestation; the first that fails is the message. */
export async function checkAttestationGate(input: AttestationGateInput): Promise<AttestationGateResult> {
  const wanted: Array<[AttestationType, ProvenanceRequirements | undefined]> = [];
  if (input.required.provenance) wanted.push(['slsa-provenance', await provenanceRequirements(input)]);
  if (input.required.sbom) wanted.push([input.required.sbom, undefined]);
  const verifications: AttestationVerification[] = [];
  for (const [type, requirements] of wanted) {
    input.step(`verifying the ${type} attestation of ${input.request.displayReference}`);
    const verification = await verifyAttestation({ ...input.request, type, ...(requirements ? { requirements } : {}) });
    verifications.push(verification);
    if (!verification.verified) {
      return { ok: false, message: verification.failure?.message ?? `${type} attestation required`, verifications };
    }
  }
  return { ok: true, verifications };
}
