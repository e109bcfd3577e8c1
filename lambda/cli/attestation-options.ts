import { Command, InvalidArgumentError } from 'commander';
import { CliError, CliIo, ExitCode } from './io';
import { ATTESTATION_TYPES, AttestationType } from '../notary/attestation';
import { ProvenanceRequirements } from '../notary/attestation-requirements';
import { AttestationVerification, verifyAttestation, VerifyAttestationRequest } from '../notary/attestation-verify';

/** verify's attestation options. */
export interface AttestationCliOptions {
  readonly requireAttestation?: AttestationType[];
  readonly provenanceBuilder?: string;
  readonly provenanceSourceRepository?: string;
  readonly provenanceSourceRevision?: string;
  readonly provenanceSourceBranch?: string;
}

/** A type required once, what `--require-attestation` (repeatable) asks for. */
export interface AttestationRequirement {
  readonly type: AttestationType;
  readonly requirements?: ProvenanceRequirements;
}

/** `--require-attestation <type>` (repeatable) and the `--provenance-*` requirements of a slsa-provenance attestation. */
export function addAttestationOptions(command: Command): Command {
  return command
    .option(
      '--require-attestation <type>',
      `also require a signed attestation of this type, verified under the same trust policy: ${ATTESTATION_TYPES.join(', ')} (repeatable)`,
      collectType,
    )
    .option('--provenance-builder <id>', 'with --require-attestation slsa-provenance: runDetails.builder.id must be this')
    .option('--provenance-source-repository <url>', 'with --require-attestation slsa-provenance: a source dependency must come from this repository, e.g. https://github.com/org/repo')
    .option('--provenance-source-revision <commit>', 'with --require-attestation slsa-provenance: that source must be at this commit')
    .option('--provenance-source-branch <name>', 'with --require-attestation slsa-provenance: that source must be the branch refs/heads/<name>');
}

function collectType(value: string, previous: AttestationType[] = []): AttestationType[] {
  if (!(ATTESTATION_TYPES as readonly string[]).includes(value)) {
    throw new InvalidArgumentError(`Allowed choices are ${ATTESTATION_TYPES.join(', ')}.`);
  }
  return previous.includes(value as AttestationType) ? previous : [...previous, value as AttestationType];
}

/** The attestations the options require; a --provenance-* flag without --require-attestation slsa-provenance is a usage error. */
export function attestationRequirements(options: AttestationCliOptions): AttestationRequirement[] {
  const requirements: ProvenanceRequirements = {
    ...(options.provenanceBuilder !== undefined ? { builderId: options.provenanceBuilder } : {}),
    ...(options.provenanceSourceRepository !== undefined ? { sourceRepository: options.provenanceSourceRepository } : {}),
    ...(options.provenanceSourceRevision !== undefined ? { sourceRevision: options.provenanceSourceRevision } : {}),
    ...(options.provenanceSourceBranch !== undefined ? { sourceBranch: options.provenanceSourceBranch } : {}),
  };
  const types = options.requireAttestation ?? [];
  if (Object.keys(requirements).length > 0 && !types.includes('slsa-provenance')) {
    const given = Object.entries({
      '--provenance-builder': options.provenanceBuilder,
      '--provenance-source-repository': options.provenanceSourceRepository,
      '--provenance-source-revision': options.provenanceSourceRevision,
      '--provenance-source-branch': options.provenanceSourceBranch,
    }).filter(([, value]) => value !== undefined).map(([flag]) => flag);
    throw new CliError(`${given.join(', ')} ${given.length > 1 ? 'are' : 'is a'} requirement${given.length > 1 ? 's' : ''} of a SLSA provenance: add --require-attestation slsa-provenance`, ExitCode.USAGE);
  }
  return types.map((type) => (type === 'slsa-provenance' && Object.keys(requirements).length > 0 ? { type, requirements } : { type }));
}

/** Verifies each required attestation of the image under the image's trust policy request, in order. */
export async function verifyRequiredAttestations(
  request: Omit<VerifyAttestationRequest, 'type' | 'requirements'>,
  required: readonly AttestationRequirement[],
): Promise<AttestationVerification[]> {
  const verdicts: AttestationVerification[] = [];
  for (const requirement of required) verdicts.push(await verifyAttestation({ ...request, ...requirement }));
  return verdicts;
}

/** One line per attestation that verified on stdout; each failure on stderr, with its reason. */
export function printAttestationVerdicts(verdicts: readonly AttestationVerification[], repositoryName: string, io: CliIo): void {
  for (const verdict of verdicts) {
    if (!verdict.verified) {
      io.stderr(`Error: ${verdict.type} attestation verification failed (${verdict.failure?.reason ?? 'error'}): ${verdict.failure?.message ?? 'no attestation passed'}\n`);
      continue;
    }
    const builder = verdict.provenance ? `, built by ${verdict.provenance.builderId}` : '';
    io.stdout(`Successfully verified the ${verdict.type} attestation ${repositoryName}@${verdict.attestationDigest} (signature ${verdict.signatureDigest})${builder}\n`);
  }
}
