/**
 * The pipeline a CodePipeline job belongs to, as CodePipeline reports it (GetJobDetails `jobDetails.data.pipelineContext`
 * and `jobDetails.accountId`; CodePipeline API reference, GetJobDetails and PipelineContext). The job event a Lambda
 * invoke action receives carries no pipeline context, so it is asked for. The answer also holds the job's artifact
 * credentials: only the pipeline context and the account are kept, nothing of it is logged.
 */
// lambda/ is bundled by esbuild, so its AWS SDK clients are devDependencies.
// eslint-disable-next-line import/no-extraneous-dependencies
import { CodePipelineClient, GetJobDetailsCommand, PipelineContext } from '@aws-sdk/client-codepipeline';

export interface JobPipeline {
  readonly pipeline: PipelineContext;
  readonly accountId: string;
  /** The pipeline's ARN: the context's, or built from its name, the account and `region`. */
  readonly pipelineArn: string;
}

const PIPELINE_NAME = /^[A-Za-z0-9.@_-]{1,100}$/;
const ACCOUNT = /^\d{12}$/;

/** The job's pipeline. Throws naming what CodePipeline did not report. `partition` and `region` are the function's. */
export async function jobPipeline(client: CodePipelineClient, jobId: string, region: string, partition = 'aws'): Promise<JobPipeline> {
  let details;
  try {
    details = (await client.send(new GetJobDetailsCommand({ jobId }))).jobDetails;
  } catch (error) {
    const hint = (error as Error).name === 'AccessDeniedException' ? '; the function\'s role needs codepipeline:GetJobDetails' : '';
    throw new Error(`CodePipeline GetJobDetails for job ${jobId} failed: ${(error as Error).name}: ${(error as Error).message}${hint}`, { cause: error });
  }
  const context = details?.data?.pipelineContext;
  const accountId = details?.accountId;
  if (!context?.pipelineName || !PIPELINE_NAME.test(context.pipelineName)) {
    throw new Error(`CodePipeline GetJobDetails reports no pipeline name for job ${jobId} (jobDetails.data.pipelineContext.pipelineName)`);
  }
  if (!accountId || !ACCOUNT.test(accountId)) throw new Error(`CodePipeline GetJobDetails reports no account for job ${jobId} (jobDetails.accountId)`);
  const pipeline: PipelineContext = {
    pipelineName: context.pipelineName,
    ...(context.pipelineArn ? { pipelineArn: context.pipelineArn } : {}),
    ...(context.pipelineExecutionId ? { pipelineExecutionId: context.pipelineExecutionId } : {}),
    ...(context.stage?.name ? { stage: { name: context.stage.name } } : {}),
    ...(context.action?.name ? { action: { name: context.action.name, actionExecutionId: context.action.actionExecutionId } } : {}),
  };
  const pipelineArn = context.pipelineArn ?? `arn:${partition}:codepipeline:${region}:${accountId}:${context.pipelineName}`;
  return { pipeline, accountId, pipelineArn };
}

/** The partition of a region (`cn-*` China, `us-gov-*` GovCloud, else the commercial partition). */
export function partitionOf(region: string): string {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  return 'aws';
}
