/**
 * Runs one invocation of a handler: classifies the event, reads the parameters, guards the deadline, and reports
 * the result to CodePipeline exactly once or returns it to a direct caller. Each handler supplies only
 * its configuration and its work.
 */
// lambda/ is bundled by esbuild, so its AWS SDK clients are devDependencies.
// eslint-disable-next-line import/no-extraneous-dependencies
import { CodePipelineClient } from '@aws-sdk/client-codepipeline';
import { JobArtifacts, parseJobArtifacts } from './artifacts';
import { PipelineClients } from './clients';
import { DeadlineGuard } from './deadline';
import { classifyEvent, Invocation, LambdaContext } from './event';
import { JobReporter } from './job-reporter';
import { errorFields, Logger } from './log';
import { ParameterSource, parseUserParameters } from './parameters';
import type { CertificateRevocationValidator } from '../notary/types';

/** A function misconfigured through its environment (set by the construct): every invocation fails with it. */
export class ConfigurationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigurationError';
  }
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

/** The outcome of the work, as a CodePipeline job reports it. */
export type JobResult =
  | { readonly ok: true; readonly outputVariables: Record<string, string>; readonly summary: string }
  | { readonly ok: false; readonly message: string };

export interface WorkInput {
  readonly parameters: Record<string, unknown>;
  readonly source: ParameterSource;
  readonly invocation: 'job' | 'direct';
  /** The CodePipeline job's id (a job invocation only). */
  readonly jobId?: string;
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
    ...(invocation.kind === 'job' ? { jobId: invocation.jobId } : {}),
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
  readonly clients?: () => PipelineClients;
  readonly logger?: Logger;
  /** OCSP and CRL checking of X.509 chains. @default OCSP and CRL over HTTP, with answers cached in the execution environment */
  readonly certificateRevocation?: CertificateRevocationValidator;
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
