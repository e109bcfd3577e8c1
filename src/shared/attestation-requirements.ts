/**
 * The attestations a verifying function requires of an image besides its signature (`REQUIRED_ATTESTATIONS`, JSON):
 * a signed SLSA provenance from a builder and source, a signed SBOM of a format. Written by ImageVerifier and
 * EcsSignatureEnforcement, read by the verify and ECS enforcement handlers. Pure, throws plain errors (it runs on
 * both sides).
 *
 * `{"provenance"?: {"builderId"?: string, "builderIsPipeline"?: true, "sourceRepository"?: string,
 * "sourceBranch"?: string}, "sbom"?: "spdx" | "cyclonedx"}`. `builderIsPipeline`: the builder must be the pipeline
 * that runs the verifying job (its ARN, from CodePipeline GetJobDetails); only a job can meet it.
 */

export const REQUIRED_ATTESTATIONS_ENV = 'REQUIRED_ATTESTATIONS';

export type RequiredSbomFormat = 'spdx' | 'cyclonedx';

export interface RequiredProvenanceDocument {
  readonly builderId?: string;
  readonly builderIsPipeline?: boolean;
  readonly sourceRepository?: string;
  readonly sourceBranch?: string;
}

export interface RequiredAttestationsDocument {
  readonly provenance?: RequiredProvenanceDocument;
  readonly sbom?: RequiredSbomFormat;
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Checks a requirements document; throws naming the field. */
export function checkRequiredAttestations(value: unknown, where = REQUIRED_ATTESTATIONS_ENV): RequiredAttestationsDocument {
  if (!isObject(value)) throw new Error(`${where} must be a JSON object {"provenance"?: {...}, "sbom"?: "spdx" | "cyclonedx"}`);
  for (const key of Object.keys(value)) {
    if (key !== 'provenance' && key !== 'sbom') throw new Error(`${where}: unknown field "${key}"; the fields are provenance, sbom`);
  }
  const { provenance, sbom } = value;
  if (sbom !== undefined && sbom !== 'spdx' && sbom !== 'cyclonedx') throw new Error(`${where}.sbom must be "spdx" or "cyclonedx"`);
  if (provenance === undefined) return { ...(sbom ? { sbom } : {}) };
  if (!isObject(provenance)) throw new Error(`${where}.provenance must be an object`);
  const fields = ['builderId', 'builderIsPipeline', 'sourceRepository', 'sourceBranch'];
  for (const key of Object.keys(provenance)) {
    if (!fields.includes(key)) throw new Error(`${where}.provenance: unknown field "${key}"; the fields are ${fields.join(', ')}`);
  }
  for (const key of ['builderId', 'sourceRepository', 'sourceBranch']) {
    const field = provenance[key];
    if (field !== undefined && (typeof field !== 'string' || field.trim() === '' || field.length > 2048)) {
      throw new Error(`${where}.provenance.${key} must be a non-empty string`);
    }
  }
  if (provenance.builderIsPipeline !== undefined && typeof provenance.builderIsPipeline !== 'boolean') {
    throw new Error(`${where}.provenance.builderIsPipeline must be true or false`);
  }
  if (provenance.builderIsPipeline === true && provenance.builderId !== undefined) {
    throw new Error(`${where}.provenance: give builderId or builderIsPipeline, not both`);
  }
  return { provenance: provenance as RequiredProvenanceDocument, ...(sbom ? { sbom } : {}) };
}

/** Parses `REQUIRED_ATTESTATIONS`; undefined when it is unset or empty. */
export function parseRequiredAttestations(text: string | undefined): RequiredAttestationsDocument | undefined {
  if (text === undefined || text.trim() === '') return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new Error(`${REQUIRED_ATTESTATIONS_ENV} is not valid JSON: ${(error as Error).message}`);
  }
  return checkRequiredAttestations(value);
}
