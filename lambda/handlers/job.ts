/**
 * Plumbing shared by the handlers (DESIGN section 4): what kind of event arrived, parameter validation,
 * reporting a CodePipeline job result exactly once, and a guard that reports failure shortly before the
 * function times out.
 *
 * Two event kinds are accepted:
 * - a CodePipeline job event `{"CodePipeline.job": {id, data: {actionConfiguration: {configuration:
 *   {UserParameters: "<json object>"}}, ...}}}`: the parameters are the JSON object in `UserParameters`
 *   (CodePipeline has already substituted variables such as `#{Build.IMAGE_DIGEST}`); the outcome is
 *   reported with `PutJobSuccessResult` / `PutJobFailureResult` on every path;
 * - a direct invocation whose event is the parameters object itself: the result is returned, a failure is
 *   thrown as an Error with the same message a job would get.
 *
 * The event is never logged: a job event carries artifact credentials (`data.artifactCredentials`).
 */
// lambda/ is bundled by esbuild, so its AWS SDK clients are devDependencies.
// eslint-disable-next-line import/no-extraneous-dependencies
import { CodePipelineClient, PutJobFailureResultCommand, PutJobSuccessResultCommand } from '@aws-sdk/client-codepipeline';
import { JobArtifacts, parseJobArtifacts } from './artifacts';
import { AwsClients } from './clients';
import { errorFields, Logger } from './log';
import { ImageReference, InvalidReferenceError, parseReference } from '../oci/reference';

/** The part of the Lambda context the handlers use. */
export interface LambdaContext {
  readonly awsRequestId: string;
  getRemainingTimeInMillis(): number;
}

/** `UserParameters` (and a direct invocation's event) larger than this is refused. */
export const MAX_PARAMETERS_BYTES = 16 * 1024;
/** CodePipeline's limit on a failure message. */
export const MAX_FAILURE_MESSAGE_CHARS = 5000;
/** CodePipeline's limit on an execution summary. */
const MAX_SUMMARY_CHARS = 2048;
/** Failure is reported this long before the function's deadline (at most half the time left at the start). */
export const TIMEOUT_MARGIN_MS = 3000;

/** Where parameters came from, as error messages name it. */
export type ParameterSource = 'UserParameters' | 'the event';

/** A bad event or parameter. Raised before any registry or AWS call; the message names the field. */
export class ParameterError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ParameterError';
  }
}

/** A function misconfigured through its environment (set by the construct): every invocation fails with it. */
export class ConfigurationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigurationError';
  }
}

/** The function was about to time out; the work was abandoned. */
export class DeadlineError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DeadlineError';
  }
}

export type Invocation =
  | { readonly kind: 'job'; readonly jobId: string; readonly userParameters: unknown; readonly data: Record<string, unknown> }
  | { readonly kind: 'direct'; readonly event: Record<string, unknown> };

const JOB_ID = /^[A-Za-z0-9-]{1,128}$/;

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `null`, `an array`, `a string`, ... for messages about wrong types. */
export function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  const type = typeof value;
  return `${type === 'object' || type === 'undefined' ? 'an' : 'a'} ${type}`;
}

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

/**
 * Parses a job's `UserParameters`: a JSON object of at most 16 KiB. The text is never quoted back (it is
 * not logged either), only its size and the position of a syntax error.
 */
export function parseUserParameters(raw: unknown): Record<string, unknown> {
  const example = '{"imageUri": "<registry>/<repository>@sha256:<digest>"}';
  if (raw === undefined || raw === null || raw === '') {
    throw new ParameterError(`UserParameters is missing: the Lambda invoke action must pass a JSON object such as ${example}`);
  }
  if (typeof raw !== 'string') throw new ParameterError(`UserParameters must be a string of JSON, got ${describeType(raw)}`);
  const size = Buffer.byteLength(raw, 'utf8');
  if (size > MAX_PARAMETERS_BYTES) {
    throw new ParameterError(`UserParameters is ${size} bytes; at most ${MAX_PARAMETERS_BYTES} bytes are accepted`);
  }
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (error) {
    const position = /at position (\d+)/.exec((error as Error).message)?.[1];
    throw new ParameterError(
      `UserParameters is not valid JSON${position !== undefined ? ` (syntax error at position ${position})` : ''}: ` +
        `write a JSON object such as ${example}, with CodePipeline variables inside JSON strings`,
    );
  }
  if (!isPlainObject(value)) throw new ParameterError(`UserParameters must be a JSON object such as ${example}, got ${describeType(value)}`);
  return value;
}

export interface StringOptions {
  readonly maxLength: number;
  readonly pattern?: RegExp;
  /** What the value must look like, for the message when `pattern` does not match. */
  readonly expected?: string;
}

export interface StringMapOptions {
  readonly maxEntries: number;
  readonly maxKeyLength: number;
  readonly maxValueLength: number;
  /** Key prefixes that are refused, with the reason. */
  readonly reservedPrefixes?: ReadonlyArray<{ readonly prefix: string; readonly reason: string }>;
}

const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;

/** Reads typed parameters, naming the source and the field in every error. Unknown fields are refused. */
export class Parameters {
  constructor(
    private readonly values: Readonly<Record<string, unknown>>,
    readonly source: ParameterSource,
    readonly fields: readonly string[],
  ) {
    const unknown = Object.keys(values).filter((key) => !fields.includes(key));
    if (unknown.length > 0) {
      const name = unknown[0].length > 100 ? `${unknown[0].slice(0, 100)}…` : unknown[0];
      throw new ParameterError(`${source}: unknown field ${JSON.stringify(name)}; the fields are ${fields.join(', ')}`);
    }
  }

  fail(field: string, problem: string): never {
    throw new ParameterError(`${this.source}: ${field} ${problem}`);
  }

  has(field: string): boolean {
    return this.values[field] !== undefined && this.values[field] !== null;
  }

  requiredString(field: string, options: StringOptions): string {
    if (!this.has(field)) this.fail(field, 'is required');
    return this.optionalString(field, options)!;
  }

  optionalString(field: string, options: StringOptions): string | undefined {
    if (!this.has(field)) return undefined;
    const value = this.values[field];
    if (typeof value !== 'string') this.fail(field, `must be a string, got ${describeType(value)}`);
    if (value.length === 0) this.fail(field, 'is empty');
    if (value.length > options.maxLength) this.fail(field, `is ${value.length} characters long; at most ${options.maxLength} are accepted`);
    if (CONTROL_CHARACTERS.test(value)) this.fail(field, 'contains control characters');
    if (options.pattern && !options.pattern.test(value)) this.fail(field, `must be ${options.expected ?? `a value matching ${options.pattern}`}`);
    return value;
  }

  optionalBoolean(field: string): boolean | undefined {
    if (!this.has(field)) return undefined;
    const value = this.values[field];
    if (typeof value !== 'boolean') this.fail(field, `must be true or false, got ${describeType(value)}`);
    return value;
  }

  /** An object of string values, e.g. `{"team": "payments"}`. */
  optionalStringMap(field: string, options: StringMapOptions): Record<string, string> | undefined {
    if (!this.has(field)) return undefined;
    const value = this.values[field];
    if (!isPlainObject(value)) this.fail(field, `must be an object of string values such as {"team": "payments"}, got ${describeType(value)}`);
    const entries = Object.entries(value);
    if (entries.length > options.maxEntries) this.fail(field, `has ${entries.length} entries; at most ${options.maxEntries} are accepted`);
    const map: Record<string, string> = {};
    for (const [key, entry] of entries) {
      const shownKey = key.length > 100 ? `${key.slice(0, 100)}…` : key;
      if (key.length === 0) this.fail(field, 'has an empty key');
      if (key.length > options.maxKeyLength) this.fail(`${field}.${shownKey}`, `is a key of ${key.length} characters; at most ${options.maxKeyLength} are accepted`);
      if (CONTROL_CHARACTERS.test(key)) this.fail(field, 'has a key with control characters');
      for (const reserved of options.reservedPrefixes ?? []) {
        if (key.startsWith(reserved.prefix)) this.fail(`${field}.${shownKey}`, `uses the reserved prefix "${reserved.prefix}" (${reserved.reason}); choose another key`);
      }
      if (typeof entry !== 'string') this.fail(`${field}.${shownKey}`, `must be a string, got ${describeType(entry)}`);
      if (entry.length > options.maxValueLength) this.fail(`${field}.${shownKey}`, `is ${entry.length} characters long; at most ${options.maxValueLength} are accepted`);
      map[key] = entry;
    }
    return map;
  }

  /**
   * An image reference pinned by digest: `<registry>/<repository>@sha256:<hex>` or
   * `<registry>/<repository>:<tag>@sha256:<hex>`. A tag alone is refused: what is signed or verified must
   * be exactly the content the pipeline built, not whatever the tag points to by then.
   */
  imageUri(field = 'imageUri'): ImageReference {
    const value = this.requiredString(field, { maxLength: 1024 });
    const shown = JSON.stringify(value.length > 300 ? `${value.slice(0, 300)}…` : value);
    if (value.includes('#{')) {
      this.fail(field, `holds an unresolved CodePipeline variable: ${shown}; check the variable namespace and name (e.g. #{Build.IMAGE_DIGEST})`);
    }
    let reference: ImageReference;
    try {
      reference = parseReference(value);
    } catch (error) {
      if (error instanceof InvalidReferenceError) this.fail(field, `is not a valid image reference: ${error.message}`);
      throw error;
    }
    if (!reference.digest) {
      this.fail(
        field,
        `must pin the image by digest, e.g. ${reference.repositoryName}@sha256:<64 hex digits> or ` +
          `${reference.repositoryName}:<tag>@sha256:<64 hex digits>; got ${shown}, which has no digest`,
      );
    }
    return reference;
  }
}

/** Cuts `text` to `max` characters, marking the cut. */
export function truncateText(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

const INTERNAL_ERRORS = new Set(['TypeError', 'ReferenceError', 'RangeError', 'SyntaxError', 'EvalError']);

/** The message a person reads for a failure: the error's own message, or a plain note for a programming error. */
export function failureMessage(error: unknown, requestId?: string): string {
  if (!(error instanceof Error)) return `unexpected failure: ${String(error)}`;
  if (INTERNAL_ERRORS.has(error.name)) {
    return `unexpected internal error (${error.name}: ${error.message})${requestId ? `; see the function's log for request ${requestId}` : ''}`;
  }
  return error.message || error.name;
}

/**
 * Reports a CodePipeline job's result at most once: whichever of success or failure comes first wins,
 * later attempts are logged and ignored.
 */
export class JobReporter {
  private claimed?: 'success' | 'failure';

  constructor(
    private readonly client: CodePipelineClient,
    readonly jobId: string,
    private readonly externalExecutionId: string,
    private readonly log: Logger,
  ) {}

  get reported(): 'success' | 'failure' | undefined {
    return this.claimed;
  }

  /**
   * Reports success. If CodePipeline refuses it (other than for a job no longer in progress), failure is
   * reported instead with the reason. Throws if nothing could be reported, so that Lambda's retry of the
   * asynchronous invocation gets another chance.
   */
  async success(outputVariables: Record<string, string>, summary: string): Promise<void> {
    if (!this.claim('success')) return;
    try {
      await this.client.send(
        new PutJobSuccessResultCommand({
          jobId: this.jobId,
          outputVariables,
          executionDetails: {
            summary: truncateText(summary, MAX_SUMMARY_CHARS),
            externalExecutionId: this.externalExecutionId,
            percentComplete: 100,
          },
        }),
      );
      this.log.info('reported job success', { outcome: 'succeeded' });
    } catch (error) {
      if (isJobNoLongerOpen(error)) {
        this.log.warn('CodePipeline refused the job result: the job is no longer in progress', errorFields(error));
        return;
      }
      this.log.error('could not report job success', errorFields(error));
      await this.sendFailure(`the result was ready but CodePipeline refused it: ${(error as Error).name}: ${(error as Error).message}`);
    }
  }

  /** Reports failure with `message` (cut to 5000 characters). Throws if CodePipeline could not be told. */
  async failure(message: string): Promise<void> {
    if (!this.claim('failure')) return;
    await this.sendFailure(message);
  }

  private claim(kind: 'success' | 'failure'): boolean {
    if (this.claimed) {
      this.log.warn(`job ${this.claimed} was already reported; not reporting ${kind}`);
      return false;
    }
    this.claimed = kind;
    return true;
  }

  private async sendFailure(message: string): Promise<void> {
    try {
      await this.client.send(
        new PutJobFailureResultCommand({
          jobId: this.jobId,
          failureDetails: {
            type: 'JobFailed',
            message: truncateText(message, MAX_FAILURE_MESSAGE_CHARS),
            externalExecutionId: this.externalExecutionId,
          },
        }),
      );
      this.log.info('reported job failure', { outcome: 'failed' });
    } catch (error) {
      if (isJobNoLongerOpen(error)) {
        this.log.warn('CodePipeline refused the job result: the job is no longer in progress', errorFields(error));
        return;
      }
      this.log.error('could not report job failure', errorFields(error));
      throw new Error(`could not report the result of CodePipeline job ${this.jobId}: ${(error as Error).name}: ${(error as Error).message}`, {
        cause: error,
      });
    }
  }
}

function isJobNoLongerOpen(error: unknown): boolean {
  const name = (error as Error)?.name;
  return name === 'InvalidJobStateException' || name === 'JobNotFoundException';
}

/**
 * Aborts the work shortly before the function's deadline: `TIMEOUT_MARGIN_MS` before it, or half the time
 * left when less than twice the margin is left. Without a context (tests, local calls) it never fires.
 */
export class DeadlineGuard {
  readonly signal: AbortSignal;
  /** Rejects with a DeadlineError when the guard fires. */
  readonly expired: Promise<never>;
  /** Milliseconds left when the invocation started, if known. */
  readonly remainingMs?: number;
  private readonly controller = new AbortController();
  private timer?: ReturnType<typeof setTimeout>;

  constructor(context: Partial<LambdaContext> | undefined, message: (remainingMs: number) => string) {
    this.signal = this.controller.signal;
    let reject: (error: Error) => void = () => undefined;
    this.expired = new Promise<never>((_, rejectExpired) => {
      reject = rejectExpired;
    });
    this.expired.catch(() => undefined);
    const remaining = typeof context?.getRemainingTimeInMillis === 'function' ? context.getRemainingTimeInMillis() : undefined;
    if (remaining === undefined || !Number.isFinite(remaining)) return;
    this.remainingMs = remaining;
    const margin = Math.min(TIMEOUT_MARGIN_MS, remaining / 2);
    this.timer = setTimeout(() => {
      const error = new DeadlineError(message(remaining));
      this.controller.abort(error);
      reject(error);
    }, Math.max(0, remaining - margin));
    this.timer.unref?.();
  }

  cancel(): void {
    if (this.timer) clearTimeout(this.timer);
  }
}

/**
 * `target` with every method call refused once `signal` is aborted, so that work abandoned at the deadline
 * stops at the next registry or signing call instead of going on in a later invocation of a reused
 * execution environment.
 */
export function abortable<T extends object>(target: T, signal: AbortSignal): T {
  return new Proxy(target, {
    get(object, property) {
      const value = Reflect.get(object, property, object);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        signal.throwIfAborted();
        return (value as (...a: unknown[]) => unknown).apply(object, args);
      };
    },
  });
}

/** The outcome of the work, as a CodePipeline job reports it. */
export type JobResult =
  | { readonly ok: true; readonly outputVariables: Record<string, string>; readonly summary: string }
  | { readonly ok: false; readonly message: string };

export interface WorkInput {
  readonly parameters: Record<string, unknown>;
  readonly source: ParameterSource;
  readonly invocation: 'job' | 'direct';
  /** A job's input and output artifacts (none for a direct invocation). */
  readonly artifacts: JobArtifacts;
  /** Aborted when the deadline guard fires. */
  readonly signal: AbortSignal;
  readonly log: Logger;
  /** Names what the work is doing now, for the message when the deadline guard fires. */
  step(description: string): void;
}

export interface HandlerSpec<R> {
  /** `sign`, `verify`, ... */
  readonly name: string;
  readonly logger: Logger;
  /** What to check when the function ran out of time, e.g. `that the registry and AWS Signer answer`. */
  readonly timeoutHint: string;
  /** The CodePipeline client to report jobs with. */
  codePipeline(): CodePipelineClient;
  /** Parameters of a direct invocation's event. @default the event itself */
  directParameters?(event: Record<string, unknown>): Record<string, unknown>;
  /** Validates the parameters (before any call), then does the work. Throws with a message a person can act on. */
  work(input: WorkInput): Promise<R>;
  /** How a job reports the result. */
  jobResult(result: R): JobResult;
  /** What a direct invocation returns. @default the result itself */
  directResult?(result: R): unknown;
}

const NO_ARTIFACTS: JobArtifacts = { inputs: [], outputs: [] };

/** What a job invocation returns (CodePipeline ignores it; it shows in a test or a manual invoke). */
export interface JobInvocationResult {
  readonly jobId: string;
  readonly status: 'succeeded' | 'failed';
  readonly message?: string;
}

/** Runs one invocation of a handler: classifies the event, guards the deadline and reports or returns the result. */
export async function runHandler<R>(spec: HandlerSpec<R>, event: unknown, context?: Partial<LambdaContext>): Promise<unknown> {
  const started = Date.now();
  const requestId = typeof context?.awsRequestId === 'string' ? context.awsRequestId : undefined;
  let log = spec.logger.child({ handler: spec.name, requestId });

  let invocation: Invocation;
  try {
    invocation = classifyEvent(event);
  } catch (error) {
    log.error('refused the event', errorFields(error));
    throw error;
  }

  let step = 'starting';
  const guard = new DeadlineGuard(
    context,
    (remaining) =>
      `the ${spec.name} function was about to time out (${Math.round(remaining / 1000)} s were left when it started) while ${step}; ` +
      `nothing more was done. Raise the function's timeout or check ${spec.timeoutHint}`,
  );
  const input = (parameters: Record<string, unknown>, source: ParameterSource, kind: 'job' | 'direct', artifacts: JobArtifacts = NO_ARTIFACTS): WorkInput => ({
    parameters,
    source,
    invocation: kind,
    artifacts,
    signal: guard.signal,
    log,
    step: (description) => {
      step = description;
      log.debug(description, { step: description });
    },
  });

  if (invocation.kind === 'direct') {
    log = log.child({ invocation: 'direct' });
    log.info(`${spec.name} invoked directly`, { remainingMs: guard.remainingMs });
    try {
      step = 'reading the parameters';
      const parameters = spec.directParameters ? spec.directParameters(invocation.event) : invocation.event;
      const result = await Promise.race([spec.work(input(parameters, 'the event', 'direct')), guard.expired]);
      log.info(`${spec.name} finished`, { durationMs: Date.now() - started });
      return spec.directResult ? spec.directResult(result) : result;
    } catch (error) {
      const message = failureMessage(error, requestId);
      log.error(`${spec.name} failed`, { ...errorFields(error), error: message, durationMs: Date.now() - started });
      if (error instanceof Error && message === error.message) throw error;
      const thrown = new Error(message, { cause: error });
      thrown.name = (error as Error)?.name ?? 'Error';
      throw thrown;
    } finally {
      guard.cancel();
    }
  }

  log = log.child({ invocation: 'job', jobId: invocation.jobId });
  log.info(`${spec.name} job received`, { remainingMs: guard.remainingMs });
  const reporter = new JobReporter(spec.codePipeline(), invocation.jobId, requestId ?? invocation.jobId, log);
  let result: JobResult;
  try {
    step = 'reading UserParameters';
    const parameters = parseUserParameters(invocation.userParameters);
    const artifacts = parseJobArtifacts(invocation.data);
    const value = await Promise.race([spec.work(input(parameters, 'UserParameters', 'job', artifacts)), guard.expired]);
    result = spec.jobResult(value);
  } catch (error) {
    const message = failureMessage(error, requestId);
    log.error(`${spec.name} failed`, { ...errorFields(error), error: message });
    result = { ok: false, message };
  } finally {
    guard.cancel();
  }
  if (result.ok) await reporter.success(result.outputVariables, result.summary);
  else await reporter.failure(result.message);
  log.info(`${spec.name} job done`, { outcome: result.ok ? 'succeeded' : 'failed', durationMs: Date.now() - started });
  return { jobId: invocation.jobId, status: result.ok ? 'succeeded' : 'failed', message: result.ok ? undefined : result.message };
}

/** How a handler is created: tests pass their environment and clients; Lambda uses the process's. */
export interface HandlerOptions {
  /** @default process.env */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** @default the clients of this execution environment */
  readonly clients?: () => AwsClients;
  readonly logger?: Logger;
}

/** A Lambda handler made by a `create…Handler` function. */
export type Handler = (event: unknown, context?: Partial<LambdaContext>) => Promise<unknown>;

/**
 * Reads a function's configuration once, at cold start. A bad configuration is logged then, and every invocation
 * fails with its error (reported to CodePipeline like any other failure) instead of the function crashing on load.
 */
export function coldStartConfig<C>(name: string, logger: Logger, load: () => C): () => C {
  try {
    const config = load();
    return () => config;
  } catch (error) {
    logger.error(`the ${name} function is misconfigured; every invocation will fail`, { handler: name, ...errorFields(error) });
    return () => {
      throw error;
    };
  }
}
