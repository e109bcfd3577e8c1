/**
 * The parameters the sign and verify handlers accept (a CodePipeline job's `UserParameters`, or a direct
 * invocation's event). The handlers refuse any other field; the constructs check pipeline actions against the
 * same lists at synth time.
 */

/** What every image handler takes: the image, pinned by digest, and the user metadata to sign or require. */
export const IMAGE_PARAMETERS: readonly string[] = ['imageUri', 'userMetadata'];

/** The sign handler's parameters besides `IMAGE_PARAMETERS`. */
export const SIGN_PARAMETERS: readonly string[] = ['force', 'recursive', 'signingProfileArn', 'buildId', 'pipelineExecutionId', 'sourceRevision'];

/**
 * The verify handler's parameters besides `IMAGE_PARAMETERS` that an action's `additionalParameters` may carry (the
 * `containerName` of an image hand-off is set by `ImageVerifier` itself).
 */
export const VERIFY_PARAMETERS: readonly string[] = [];
