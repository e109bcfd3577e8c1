import { IConstruct } from 'constructs';
import { validationError } from './errors';
import { ImagePipelineActionOptions } from '../handler-options';

/**
 * `UserParameters` of a signer or verifier pipeline action: the handler's further `parameters` (those that are
 * set, in their order), then `imageUri` and `userMetadata`.
 */
export function userParameters(scope: IConstruct, options: ImagePipelineActionOptions, parameters: object = {}): { [key: string]: any } {
  if (options.imageUri.trim() === '') throw validationError('ImageUriEmpty', 'imageUri: give the image to process, e.g. #{Build.IMAGE_URI}@#{Build.IMAGE_DIGEST}', scope);
  return {
    ...Object.fromEntries(Object.entries(parameters).filter(([, value]) => value !== undefined)),
    imageUri: options.imageUri,
    ...(options.userMetadata !== undefined ? { userMetadata: { ...options.userMetadata } } : {}),
  };
}
