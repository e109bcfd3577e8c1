/**
 * The two events the ECS enforcement handler receives, read in the shapes the ECS documentation gives:
 *
 * - a service deployment lifecycle hook invocation (developerguide/lambda-lifecycle-hooks.md, "Lifecycle payloads"):
 *   `{executionId, lifecycleStage, resourceArn, executionDetails: {serviceArn, targetServiceRevisionArn, ...},
 *   hookDetails?}`;
 * - an EventBridge `ECS Task State Change` event (developerguide/ecs_task_events.md): `{source: "aws.ecs",
 *   "detail-type": "ECS Task State Change", detail: {clusterArn, taskArn, lastStatus, desiredStatus, group,
 *   containers: [{name, image, imageDigest?}]}}`, where `imageDigest` is present once ECS has pulled an ECR image.
 *
 * Anything else is refused with a ParameterError naming the field. The events are never logged whole.
 */
import { describeType, isPlainObject, ParameterError } from './parameters';

export interface LifecycleHookEvent {
  readonly kind: 'lifecycle-hook';
  readonly executionId: string;
  readonly lifecycleStage: string;
  readonly serviceArn: string;
  readonly targetServiceRevisionArn: string;
  /** What ECS passes back from an earlier `IN_PROGRESS` answer of the same hook (merged with the hook's configuration). */
  readonly hookDetails: Readonly<Record<string, unknown>>;
}

export interface TaskContainer {
  readonly name: string;
  /** The image as the task definition names it, e.g. `111122223333.dkr.ecr.us-west-2.amazonaws.com/app:latest` (absent in some early events). */
  readonly image?: string;
  /** The digest ECS resolved and pulled, when it reports one. */
  readonly imageDigest?: string;
}

export interface TaskStateChangeEvent {
  readonly kind: 'task-state-change';
  readonly clusterArn: string;
  readonly taskArn: string;
  readonly lastStatus: string;
  readonly desiredStatus?: string;
  /** `service:<name>` for a service's task, `family:<name>` for RunTask, a scheduled task or AWS Batch. */
  readonly group?: string;
  readonly containers: readonly TaskContainer[];
}

export type EnforcementEvent = LifecycleHookEvent | TaskStateChangeEvent;

const ECS_ARN = (resource: string) => new RegExp(`^arn:aws[a-z-]*:ecs:[a-z0-9-]+:\\d{12}:${resource}/[A-Za-z0-9_/.:-]{1,1400}$`);
const SERVICE_ARN = ECS_ARN('service');
const SERVICE_REVISION_ARN = ECS_ARN('service-revision');
const CLUSTER_ARN = ECS_ARN('cluster');
const TASK_ARN = ECS_ARN('task');
const DIGEST = /^sha256:[a-f0-9]{64}$/;
/** A task has at most 10 containers per task definition; the bound only keeps a malformed event from being walked for long. */
const MAX_CONTAINERS = 100;

/** Reads an enforcement event. Throws ParameterError naming the field for anything else. */
export function parseEnforcementEvent(event: unknown): EnforcementEvent {
  if (!isPlainObject(event)) throw new ParameterError(`the event must be an ECS lifecycle hook invocation or an ECS Task State Change event, got ${describeType(event)}`);
  if ('executionDetails' in event || 'lifecycleStage' in event) return parseHookEvent(event);
  if (event['detail-type'] === 'ECS Task State Change' && event.source === 'aws.ecs') return parseTaskEvent(event);
  throw new ParameterError(
    'the event is neither an ECS service deployment lifecycle hook invocation (executionDetails) nor an EventBridge "ECS Task State Change" event from aws.ecs',
  );
}

function parseHookEvent(event: Record<string, unknown>): LifecycleHookEvent {
  const details = event.executionDetails;
  if (!isPlainObject(details)) throw new ParameterError(`lifecycle hook event: executionDetails must be an object, got ${describeType(details)}`);
  return {
    kind: 'lifecycle-hook',
    executionId: text(event.executionId, 'executionId', /^[A-Za-z0-9-]{1,128}$/, 'a hook execution id'),
    lifecycleStage: text(event.lifecycleStage, 'lifecycleStage', /^[A-Z_]{1,64}$/, 'a lifecycle stage such as PRE_SCALE_UP'),
    serviceArn: text(details.serviceArn, 'executionDetails.serviceArn', SERVICE_ARN, 'an ECS service ARN'),
    targetServiceRevisionArn: text(details.targetServiceRevisionArn, 'executionDetails.targetServiceRevisionArn', SERVICE_REVISION_ARN, 'an ECS service revision ARN'),
    hookDetails: isPlainObject(event.hookDetails) ? event.hookDetails : {},
  };
}

function parseTaskEvent(event: Record<string, unknown>): TaskStateChangeEvent {
  const detail = event.detail;
  if (!isPlainObject(detail)) throw new ParameterError(`ECS Task State Change event: detail must be an object, got ${describeType(detail)}`);
  const containers = detail.containers ?? [];
  if (!Array.isArray(containers)) throw new ParameterError(`ECS Task State Change event: detail.containers must be an array, got ${describeType(containers)}`);
  if (containers.length > MAX_CONTAINERS) throw new ParameterError(`ECS Task State Change event: detail.containers has ${containers.length} entries; at most ${MAX_CONTAINERS} are read`);
  return {
    kind: 'task-state-change',
    clusterArn: text(detail.clusterArn, 'detail.clusterArn', CLUSTER_ARN, 'an ECS cluster ARN'),
    taskArn: text(detail.taskArn, 'detail.taskArn', TASK_ARN, 'an ECS task ARN'),
    lastStatus: text(detail.lastStatus, 'detail.lastStatus', /^[A-Z_]{1,32}$/, 'a task status such as RUNNING'),
    desiredStatus: optionalText(detail.desiredStatus, 'detail.desiredStatus', /^[A-Z_]{1,32}$/, 'a task status such as RUNNING'),
    group: optionalText(detail.group, 'detail.group', /^[^\u0000-\u001f]{1,512}$/, 'a task group'),
    containers: containers.map((container, index) => {
      const where = `detail.containers[${index}]`;
      if (!isPlainObject(container)) throw new ParameterError(`ECS Task State Change event: ${where} must be an object, got ${describeType(container)}`);
      return {
        name: text(container.name, `${where}.name`, /^[A-Za-z0-9_-]{1,255}$/, 'a container name'),
        image: optionalText(container.image, `${where}.image`, /^[^\s\u0000-\u001f]{1,1024}$/, 'an image reference'),
        imageDigest: optionalText(container.imageDigest, `${where}.imageDigest`, DIGEST, 'a sha256 digest'),
      };
    }),
  };
}

function text(value: unknown, field: string, pattern: RegExp, expected: string): string {
  if (typeof value !== 'string') throw new ParameterError(`${field} must be ${expected}, got ${describeType(value)}`);
  if (!pattern.test(value)) throw new ParameterError(`${field} must be ${expected}, got "${value.slice(0, 100)}"`);
  return value;
}

function optionalText(value: unknown, field: string, pattern: RegExp, expected: string): string | undefined {
  return value === undefined || value === null ? undefined : text(value, field, pattern, expected);
}
