/**
 * The AWS SDK clients of a handler, created once per Lambda execution environment (module scope) and
 * reused by every invocation. Tests pass their own to `createXHandler({ clients })` (or mock the client classes).
 */
// lambda/ is bundled by esbuild, so its AWS SDK clients are devDependencies.
/* eslint-disable import/no-extraneous-dependencies */
import { CodeBuildClient } from '@aws-sdk/client-codebuild';
import { CodePipelineClient } from '@aws-sdk/client-codepipeline';
import { ECRClient } from '@aws-sdk/client-ecr';
import { ECSClient } from '@aws-sdk/client-ecs';
import { S3Client } from '@aws-sdk/client-s3';
import { SignerClient } from '@aws-sdk/client-signer';
/* eslint-enable import/no-extraneous-dependencies */
import type { ArtifactCredentials } from './artifacts';

export interface AwsClients {
  /** CodePipeline, in the function's region (jobs are reported where the pipeline runs the function). */
  codePipeline(): CodePipelineClient;
  /** CodeBuild in `region` (a build ARN's region). @default the function's region */
  codeBuild(region?: string): CodeBuildClient;
  /** AWS Signer in `region` (a signing profile's region). */
  signer(region: string): SignerClient;
  /** ECR in `region` (a registry host's region), with the FIPS endpoint for `dkr.ecr-fips` hosts. */
  ecr(region: string, fips?: boolean): ECRClient;
  /** The pipeline's artifact store (S3, in the function's region) with a job's artifact credentials; not cached. */
  artifactStore(credentials: ArtifactCredentials): S3Client;
}

/** Clients for the function's region (`AWS_REGION`), cached per region. */
export function regionalClients(defaultRegion: string | undefined = process.env.AWS_REGION): AwsClients {
  const cache = new Map<string, unknown>();
  const cached = <T>(key: string, create: () => T): T => {
    if (!cache.has(key)) cache.set(key, create());
    return cache.get(key) as T;
  };
  const regionOrDefault = (region: string | undefined): string | undefined => region ?? defaultRegion;
  return {
    codePipeline: () => cached('codepipeline', () => new CodePipelineClient({ region: defaultRegion })),
    codeBuild: (region) => cached(`codebuild:${regionOrDefault(region)}`, () => new CodeBuildClient({ region: regionOrDefault(region) })),
    signer: (region) => cached(`signer:${region}`, () => new SignerClient({ region })),
    ecr: (region, fips = false) => cached(`ecr:${region}:${fips}`, () => new ECRClient({ region, useFipsEndpoint: fips })),
    artifactStore: (credentials) => new S3Client({ region: defaultRegion, credentials }),
  };
}

let current: AwsClients | undefined;

/** The clients of this execution environment, created on first use. */
export function awsClients(): AwsClients {
  current ??= regionalClients();
  return current;
}

/** The clients of a handler that also calls ECS. */
export interface EcsClients extends AwsClients {
  /** ECS in the function's region. */
  ecs(): ECSClient;
}

/**
 * `base` plus an ECS client in the function's region, created on first use. A separate export, not part of
 * `regionalClients`: esbuild leaves the ECS SDK out of every bundle that does not import this.
 */
export function withEcsClient(base: () => AwsClients = awsClients, region: string | undefined = process.env.AWS_REGION): () => EcsClients {
  let ecs: ECSClient | undefined;
  return () => ({ ...base(), ecs: () => (ecs ??= new ECSClient({ region })) });
}
