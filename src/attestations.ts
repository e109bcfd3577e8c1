/** The SBOM document formats an image's SBOM attestation may have. */
export enum SbomFormat {
  /** SPDX 2.x JSON (`application/spdx+json`). */
  SPDX = 'spdx',
  /** CycloneDX JSON (`application/vnd.cyclonedx+json`). */
  CYCLONEDX = 'cyclonedx',
}

/**
 * What a signed SLSA Provenance v1 attestation of an image must say. Every field given must hold; the attestation
 * must also be signed under the verifier's trust policy, like the image.
 */
export interface ProvenanceRequirement {
  /**
   * `runDetails.builder.id` must equal this, e.g. a `SignedImagePipeline`'s pipeline ARN.
   *
   * @default - any builder, unless `builderIsPipeline`
   */
  readonly builderId?: string;

  /**
   * The builder must be the pipeline that runs the verifying job: its ARN, as CodePipeline GetJobDetails reports
   * it. A direct invocation or an ECS event cannot meet it. Not together with `builderId`.
   *
   * @default false
   */
  readonly builderIsPipeline?: boolean;

  /**
   * A source dependency (`buildDefinition.resolvedDependencies`) must come from this repository URL, e.g.
   * `https://github.com/org/repo` (`git+` and `.git` are ignored).
   *
   * @default - any source
   */
  readonly sourceRepository?: string;

  /**
   * That source's ref must be `refs/heads/<sourceBranch>`.
   *
   * @default - any branch
   */
  readonly sourceBranch?: string;
}

/** The signed attestations an image must carry, besides its signature, to verify. */
export interface AttestationRequirements {
  /**
   * Require a signed SLSA Provenance v1 attestation that meets this.
   *
   * @default - no provenance required
   */
  readonly provenance?: ProvenanceRequirement;

  /**
   * Require a signed SBOM attestation of this format.
   *
   * @default - no SBOM required
   */
  readonly sbom?: SbomFormat;
}
