/** Reporting a CodePipeline job's result (`PutJobSuccessResult` / `PutJobFailureResult`) exactly once. */
// lambda/ is bundled by esbuild, so its AWS SDK clients are devDependencies.
// eslint-disable-next-line import/no-extraneous-dependencies
import { CodePipelineClient, PutJobFailureResultCommand, PutJobSuccessResultCommand } from '@aws-sdk/client-codepipeline';
import { errorFields, Logger } from './log';

/** CodePipeline's limit on a failure message. */
export const MAX_FAILURE_MESSAGE_CHARS = 5000;
/** CodePipeline's limit on an execution summary. */
const MAX_SUMMARY_CHARS = 2048;

/** Cuts `text` to `max` characters, marking the cut. */
export function truncateText(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
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
