import { ImagePipelineActionOptions } from '../handler-options';

/** `UserParameters` of a signer or verifier pipeline action. */
export function userParameters(options: ImagePipelineActionOptions): { [key: string]: any } {
  if (options.imageUri.trim() === '') throw new Error('imageUri: give the image to process, e.g. #{Build.IMAGE_URI}@#{Build.IMAGE_DIGEST}');
  return {
    ...(options.additionalParameters ?? {}),
    imageUri: options.imageUri,
    ...(options.userMetadata !== undefined ? { userMetadata: { ...options.userMetadata } } : {}),
  };
}
