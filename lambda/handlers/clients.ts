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

/** The clients that read a registry and check AWS Signer revocation: all a function that only verifies needs. */
export interface RegistryClients {
  /** AWS Signer in `region` (a signing profile's region). */
  signer(region: string): SignerClient;
  /** ECR in `region` (a registry host's region), with the FIPS endpoint for `dkr.ecr-fips` hosts. */
  ecr(region: string, fips?: boolean): ECRClient;
}

/** The clients of a pipeline action's function: the job is reported to CodePipeline, artifacts read from S3. */
export interface PipelineClients extends RegistryClients {
  /** CodePipeline, in the function's region (jobs are reported where the pipeline runs the function). */
  codePipeline(): CodePipelineClient;
  /** The pipeline's artifact store (S3, in the function's region) with a job's artifact credentials; not cached. */
  artifactStore(credentials: ArtifactCredentials): S3Client;
}

/** The clients of the sign function, which also reads the build from CodeBuild. */
export interface AwsClients extends PipelineClients {
  /** CodeBuild in `region` (a build ARN's region). @default the function's region */
  codeBuild(region?: string): CodeBuildClient;
}

type Cache = <T>(key: string, create: () => T) => T;

function newCache(): Cache {
  const entries = new Map<string, unknown>();
  return <T>(key: string, create: () => T): T => {
    if (!entries.has(key)) entries.set(key, create());
    return entries.get(key) as T;
  };
}

function cachedRegistryClients(cached: Cache): RegistryClients {
  return {
    signer: (region) => cached(`signer:${region}`, () => new SignerClient({ region })),
    ecr: (region, fips = false) => cached(`ecr:${region}:${fips}`, () => new ECRClient({ region, useFipsEndpoint: fips })),
  };
}

function cachedPipelineClients(cached: Cache, defaultRegion: string | undefined): PipelineClients {
  return {
    ...cachedRegistryClients(cached),
    codePipeline: () => cached('codepipeline', () => new CodePipelineClient({ region: defaultRegion })),
    artifactStore: (credentials) => new S3Client({ region: defaultRegion, credentials }),
  };
}

/** All the clients, for `defaultRegion` (`AWS_REGION`), cached per region. */
export function regionalClients(defaultRegion: string | undefined = process.env.AWS_REGION): AwsClients {
  const cached = newCache();
  const regionOrDefault = (region: string | undefined): string | undefined => region ?? defaultRegion;
  return {
    ...cachedPipelineClients(cached, defaultRegion),
    codeBuild: (region) => cached(`codebuild:${regionOrDefault(region)}`, () => new CodeBuildClient({ region: regionOrDefault(region) })),
  };
}

// Each function takes the narrowest set it needs, so that esbuild leaves the other SDKs out of its bundle.
let current: AwsClients | undefined;
let currentPipeline: PipelineClients | undefined;
let currentRegistry: RegistryClients | undefined;

/** The clients of this execution environment (the sign function), created on first use. */
export function awsClients(): AwsClients {
  current ??= regionalClients();
  return current;
}

/** The pipeline clients of this execution environment (verify, deploy check), created on first use. */
export function pipelineClients(): PipelineClients {
  currentPipeline ??= cachedPipelineClients(newCache(), process.env.AWS_REGION);
  return currentPipeline;
}

/**
 * The registry clients of this execution environment, created on first use. A function that uses only these
 * (ECS enforcement) imports no CodePipeline, CodeBuild or S3 client: esbuild leaves those SDKs out of its bundle.
 */
export function registryClients(): RegistryClients {
  currentRegistry ??= cachedRegistryClients(newCache());
  return currentRegistry;
}

/** The clients of a pipeline action's function that also calls ECS (the deploy check). */
export type EcsClients = PipelineClients & WithEcs;

/** An ECS client in the function's region. */
export interface WithEcs {
  ecs(): ECSClient;
}

/**
 * `base` plus an ECS client in the function's region, created on first use. A separate export, not part of
 * `regionalClients`: esbuild leaves the ECS SDK out of every bundle that does not import this.
 */
export function withEcsClient<C extends RegistryClients>(base: () => C, region: string | undefined = process.env.AWS_REGION): () => C & WithEcs {
  let ecs: ECSClient | undefined;
  return () => ({ ...base(), ecs: () => (ecs ??= new ECSClient({ region })) });
}
