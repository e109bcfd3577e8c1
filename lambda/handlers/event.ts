/**
 * What kind of event arrived. Two are accepted:
 * - a CodePipeline job event `{"CodePipeline.job": {id, data: {actionConfiguration: {configuration:
 *   {UserParameters: "<json object>"}}, ...}}}`: the parameters are the JSON object in `UserParameters`
 *   (CodePipeline has already substituted variables such as `#{Build.IMAGE_DIGEST}`); the outcome is
 *   reported with `PutJobSuccessResult` / `PutJobFailureResult` on every path;
 * - a direct invocation whose event is the parameters object itself: the result is returned, a failure is
 *   thrown as an Error with the same message a job would get.
 *
 * The event is never logged: a job event carries artifact credentials (`data.artifactCredentials`).
 */
import { describeType, isPlainObject, MAX_PARAMETERS_BYTES, ParameterError } from './parameters';

/** The part of the Lambda context the handlers use. */
export interface LambdaContext {
  readonly awsRequestId: string;
  getRemainingTimeInMillis(): number;
}

export type Invocation =
  | { readonly kind: 'job'; readonly jobId: string; readonly userParameters: unknown; readonly data: Record<string, unknown> }
  | { readonly kind: 'direct'; readonly event: Record<string, unknown> };

const JOB_ID = /^[A-Za-z0-9-]{1,128}$/;

/** Tells a CodePipeline job event from a direct invocation. Throws ParameterError for anything else. */
export function classifyEvent(event: unknown): Invocation {
  if (!isPlainObject(event)) {
    throw new ParameterError(`the event must be a CodePipeline job event or a JSON object of parameters, got ${describeType(event)}`);
  }
  if ('CodePipeline.job' in event) {
    const job = event['CodePipeline.job'];
    if (!isPlainObject(job) || typeof job.id !== 'string' || !JOB_ID.test(job.id)) {
      throw new ParameterError('the CodePipeline job event has no valid job id ("CodePipeline.job".id); the result cannot be reported');
    }
    const data = isPlainObject(job.data) ? job.data : {};
    const action = isPlainObject(data.actionConfiguration) ? data.actionConfiguration : {};
    const configuration = isPlainObject(action.configuration) ? action.configuration : {};
    return { kind: 'job', jobId: job.id, userParameters: configuration.UserParameters, data };
  }
  const size = Buffer.byteLength(JSON.stringify(event), 'utf8');
  if (size > MAX_PARAMETERS_BYTES) {
    throw new ParameterError(`the event is ${size} bytes of JSON; at most ${MAX_PARAMETERS_BYTES} bytes are accepted`);
  }
  return { kind: 'direct', event };
}
