import { Stack } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';
import { validationError } from './errors';
import { AttestationRequirements } from '../attestations';
import { checkRequiredAttestations, REQUIRED_ATTESTATIONS_ENV } from '../shared/attestation-requirements';

/**
 * The `REQUIRED_ATTESTATIONS` environment variable of a verifying function (src/shared/attestation-requirements.ts);
 * none when nothing is required. Checked at synth time with the handler's own check.
 */
export function requiredAttestationsEnvironment(scope: IConstruct, what: string, required?: AttestationRequirements): Record<string, string> {
  if (!required || (required.provenance === undefined && required.sbom === undefined)) return {};
  const provenance = required.provenance;
  const document = {
    ...(provenance
      ? {
        provenance: {
          ...(provenance.builderId !== undefined ? { builderId: provenance.builderId } : {}),
          ...(provenance.builderIsPipeline ? { builderIsPipeline: true } : {}),
          ...(provenance.sourceRepository !== undefined ? { sourceRepository: provenance.sourceRepository } : {}),
          ...(provenance.sourceBranch !== undefined ? { sourceBranch: provenance.sourceBranch } : {}),
        },
      }
      : {}),
    ...(required.sbom !== undefined ? { sbom: required.sbom } : {}),
  };
  // Deploy-time values (tokens) are strings here too, so the handler's own check applies.
  try {
    checkRequiredAttestations(document, `${what}: requiredAttestations`);
  } catch (error) {
    throw validationError('RequiredAttestationsInvalid', (error as Error).message, scope);
  }
  return { [REQUIRED_ATTESTATIONS_ENV]: Stack.of(scope).toJsonString(document) };
}
