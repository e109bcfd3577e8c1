import { IConstruct } from 'constructs';
import { ImagePipelineActionOptions } from '../handler-options';
import { validationError } from './errors';

/**
 * `UserParameters` of a signer or verifier pipeline action.
 *
 * `additionalFields` are the handler's parameters besides `imageUri` and `userMetadata`: the handler refuses any
 * other field, so an unknown key of `additionalParameters` fails here, at synth time, instead of in every run.
 */
export function userParameters(scope: IConstruct, options: ImagePipelineActionOptions, additionalFields?: readonly string[]): { [key: string]: any } {
  if (options.imageUri.trim() === '') throw validationError('ImageUriEmpty', 'imageUri: give the image to process, e.g. #{Build.IMAGE_URI}@#{Build.IMAGE_DIGEST}', scope);
  const additional = options.additionalParameters ?? {};
  for (const key of Object.keys(additional)) {
    if (key === 'imageUri' || key === 'userMetadata') {
      throw validationError('ReservedParameter', `additionalParameters.${key}: pass ${key} as the action option "${key}", not in additionalParameters`, scope);
    }
    if (additionalFields !== undefined && !additionalFields.includes(key)) {
      const known = additionalFields.length > 0 ? `the handler accepts only ${additionalFields.join(', ')}` : 'the handler accepts no further parameters';
      throw validationError('UnknownParameter', `additionalParameters.${key}: unknown parameter; besides imageUri and userMetadata ${known}`, scope);
    }
  }
  return {
    ...additional,
    imageUri: options.imageUri,
    ...(options.userMetadata !== undefined ? { userMetadata: { ...options.userMetadata } } : {}),
  };
}
