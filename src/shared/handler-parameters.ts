/**
 * The parameters the sign and verify handlers accept (a CodePipeline job's `UserParameters`, or a direct
 * invocation's event). The handlers refuse any other field; the constructs build a pipeline action's parameters
 * from typed options of the same shape.
 */

/** What every image handler takes: the image, pinned by digest, and the user metadata to sign or require. */
export const IMAGE_PARAMETERS: readonly string[] = ['imageUri', 'userMetadata'];

/** The sign handler's parameters besides `IMAGE_PARAMETERS`, as a sign action sends them. */
export interface SignParameters {
  readonly force?: boolean;
  readonly recursive?: boolean;
  readonly signingProfileArn?: string;
  readonly buildId?: string;
  readonly pipelineExecutionId?: string;
  readonly sourceRevision?: string;
  /** Attach a signed SLSA provenance (needs a job invocation and `buildId`). */
  readonly attachProvenance?: boolean;
  /** The source repository URL the provenance records (set by the construct from the source action). */
  readonly sourceRepository?: string;
  /** The source branch the provenance records (`#{Source.BranchName}`). */
  readonly sourceBranch?: string;
  /** The source commit the provenance records (`#{Source.CommitId}`); CodeBuild must have built it. */
  readonly sourceCommit?: string;
  /** Attach the SBOM of this format (`spdx` or `cyclonedx`) from the input artifact's `sbom.json`, signed. */
  readonly sbomFormat?: string;
}

/** Every key of `SignParameters`, once: adding a parameter to the interface without listing it here does not compile. */
const SIGN_PARAMETER_KEYS: { readonly [key in keyof Required<SignParameters>]: true } = {
  force: true,
  recursive: true,
  signingProfileArn: true,
  buildId: true,
  pipelineExecutionId: true,
  sourceRevision: true,
  attachProvenance: true,
  sourceRepository: true,
  sourceBranch: true,
  sourceCommit: true,
  sbomFormat: true,
};

/** The names of the sign handler's parameters besides `IMAGE_PARAMETERS`. */
export const SIGN_PARAMETERS: readonly string[] = Object.keys(SIGN_PARAMETER_KEYS);

/**
 * The verify handler's parameters besides `IMAGE_PARAMETERS` and the `containerName` of an image hand-off (which
 * `ImageVerifier` sets from its `imageDefinitions` option).
 */
export const VERIFY_PARAMETERS: readonly string[] = [];
