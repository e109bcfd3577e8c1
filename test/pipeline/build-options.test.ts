import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { ecsService, newStack, s3Source } from './support';
import { DeployTarget, ImageBuildOptions, NotationSigningProfile, SignedImagePipeline } from '../../src';
import { imageBuildSpec } from '../../src/private/buildspecs';
import { policyStatements } from '../constructs/support';

function synth(imageBuild: ImageBuildOptions, stack: Stack = newStack()): Template {
  new SignedImagePipeline(stack, 'Pipeline', { source: s3Source(stack), imageBuild });
  return Template.fromStack(stack);
}

/** The image build project. */
function buildProject(template: Template): any {
  return Object.values(template.findResources('AWS::CodeBuild::Project')).find((p: any) => p.Properties.Description.startsWith('Builds the image'));
}

function projectVariables(template: Template): Record<string, { type: string; value: unknown }> {
  const variables = buildProject(template).Properties.Environment.EnvironmentVariables as any[];
  return Object.fromEntries(variables.map((v) => [v.Name, { type: v.Type, value: v.Value }]));
}

function buildAction(template: Template): any {
  const pipeline = Object.values(template.findResources('AWS::CodePipeline::Pipeline'))[0] as any;
  return pipeline.Properties.Stages.find((s: any) => s.Name === 'Build').Actions.find((a: any) => a.Name === 'BuildAndPush');
}

function actionVariables(template: Template): Array<{ name: string; type: string; value: string }> | undefined {
  const value = buildAction(template).Configuration.EnvironmentVariables;
  return value === undefined ? undefined : JSON.parse(value);
}

describe('imageBuild: build arguments', () => {
  test('a plain value is a project variable; a value with CodePipeline variables is an action variable, where CodePipeline resolves it', () => {
    const template = synth({ buildArgs: { VERSION: '1.2.3', COMMIT: '#{Source.CommitId}', RUN: 'run-#{codepipeline.PipelineExecutionId}' } });
    const variables = projectVariables(template);
    expect(variables.DOCKER_BUILD_ARG_NAMES).toEqual({ type: 'PLAINTEXT', value: 'VERSION COMMIT RUN' });
    expect(variables.BUILD_ARG_VERSION).toEqual({ type: 'PLAINTEXT', value: '1.2.3' });
    expect(variables.BUILD_ARG_COMMIT).toBeUndefined();
    expect(JSON.stringify(buildProject(template))).not.toContain('#{');
    expect(actionVariables(template)).toEqual([
      { name: 'BUILD_ARG_COMMIT', type: 'PLAINTEXT', value: '#{Source.CommitId}' },
      { name: 'BUILD_ARG_RUN', type: 'PLAINTEXT', value: 'run-#{codepipeline.PipelineExecutionId}' },
    ]);
  });

  test('without pipeline variables the action passes none', () => {
    expect(actionVariables(synth({ buildArgs: { VERSION: '1.2.3' } }))).toBeUndefined();
  });

  test('the buildspec passes each value to docker build as one word, whatever it holds', () => {
    const build = (imageBuildSpec() as any).phases.build.commands as string[];
    const command = build.find((c) => c.includes('docker build'))!;
    const dir = mkdtempSync(join(tmpdir(), 'build-args-'));
    try {
      // A docker stand-in that prints its arguments one per line.
      writeFileSync(join(dir, 'docker'), '#!/usr/bin/env bash\nprintf "%s\\n" "$@"\n');
      chmodSync(join(dir, 'docker'), 0o755);
      const run = (env: Record<string, string>) => execFileSync('bash', ['-c', `set -euo pipefail\n${command}`], {
        cwd: dir,
        encoding: 'utf8',
        env: { PATH: `${dir}:${process.env.PATH}`, DOCKERFILE: 'Dockerfile', IMAGE_URI: 'repo', IMAGE_TAG: 'build-1', DOCKER_CONTEXT: '.', ...env },
      }).trim().split('\n');
      expect(run({ DOCKER_BUILD_ARG_NAMES: 'A B', BUILD_ARG_A: "it's $HOME `id` \"q\"", BUILD_ARG_B: 'two words' }))
        .toEqual(['build', '--file', 'Dockerfile', '--tag', 'repo:build-1', '--build-arg', "A=it's $HOME `id` \"q\"", '--build-arg', 'B=two words', '.']);
      expect(run({ DOCKER_BUILD_ARG_NAMES: '' })).toEqual(['build', '--file', 'Dockerfile', '--tag', 'repo:build-1', '.']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('imageBuild: environment variables', () => {
  test('plain, Systems Manager parameter and Secrets Manager variables reach the build, and the build role may read exactly those', () => {
    const template = synth({
      environmentVariables: {
        NPM_REGISTRY: { value: 'https://registry.example.com' },
        NPM_TOKEN: { type: codebuild.BuildEnvironmentVariableType.PARAMETER_STORE, value: '/ci/npm-token' },
        SENTRY_KEY: { type: codebuild.BuildEnvironmentVariableType.SECRETS_MANAGER, value: 'ci/sentry:key' },
        RUN_ID: { value: '#{codepipeline.PipelineExecutionId}' },
      },
    });
    const variables = projectVariables(template);
    expect(variables.NPM_REGISTRY).toEqual({ type: 'PLAINTEXT', value: 'https://registry.example.com' });
    expect(variables.NPM_TOKEN).toEqual({ type: 'PARAMETER_STORE', value: '/ci/npm-token' });
    expect(variables.SENTRY_KEY).toEqual({ type: 'SECRETS_MANAGER', value: 'ci/sentry:key' });
    expect(actionVariables(template)).toEqual([{ name: 'RUN_ID', type: 'PLAINTEXT', value: '#{codepipeline.PipelineExecutionId}' }]);

    const buildRole = buildProject(template).Properties.ServiceRole['Fn::GetAtt'][0];
    const statements = policyStatements(template).filter((s) => s.policy.startsWith(buildRole.replace(/[0-9A-F]{8}$/, '')));
    const reads = (action: string) => statements.filter((s) => s.actions.includes(action)).flatMap((s) => s.resources).map((r) => JSON.stringify(r));
    expect(reads('ssm:GetParameters')).toEqual([expect.stringContaining(':parameter/ci/npm-token')]);
    expect(reads('secretsmanager:GetSecretValue')).toEqual([expect.stringContaining(':secret:ci/sentry-??????')]);
  });

  test.each([
    ['REPOSITORY_URI', 'set by the pipeline'],
    ['IMAGE_DIGEST', 'set by the pipeline'],
    ['BUILD_ARG_X', 'set by the pipeline'],
    ['CODEBUILD_X', 'reserved by CodeBuild'],
  ])('%s is refused (%s)', (name, reason) => {
    expect(() => synth({ environmentVariables: { [name]: { value: 'x' } } }))
      .toThrow(`SignedImagePipeline: imageBuild.environmentVariables: "${name}" is ${reason}`);
  });
});

describe('imageBuild: timeout, compute type and cache', () => {
  test('they reach the build project', () => {
    const stack = newStack();
    const cacheBucket = new s3.Bucket(stack, 'Cache', { enforceSSL: true });
    const template = synth({
      timeout: Duration.minutes(120),
      computeType: codebuild.ComputeType.LARGE,
      cache: codebuild.Cache.bucket(cacheBucket, { prefix: 'docker' }),
    }, stack);
    const project = buildProject(template).Properties;
    expect(project.TimeoutInMinutes).toBe(120);
    expect(project.Environment.ComputeType).toBe('BUILD_GENERAL1_LARGE');
    expect(project.Cache).toMatchObject({ Type: 'S3' });
    expect(JSON.stringify(project.Cache.Location)).toContain(stack.getLogicalId(cacheBucket.node.defaultChild as s3.CfnBucket));
  });

  test('a local Docker layer cache; the defaults are 60 minutes, SMALL and no cache', () => {
    expect(buildProject(synth({ cache: codebuild.Cache.local(codebuild.LocalCacheMode.DOCKER_LAYER) })).Properties.Cache)
      .toEqual({ Type: 'LOCAL', Modes: ['LOCAL_DOCKER_LAYER_CACHE'] });
    const defaults = buildProject(synth({})).Properties;
    expect(defaults.TimeoutInMinutes).toBe(60);
    expect(defaults.Environment.ComputeType).toBe('BUILD_GENERAL1_SMALL');
    expect(defaults.Cache).toEqual({ Type: 'NO_CACHE' });
  });

  test.each([Duration.minutes(4), Duration.minutes(481)])('a timeout of %s is refused naming CodeBuild\'s range', (timeout) => {
    expect(() => synth({ timeout })).toThrow(`imageBuild.timeout ${timeout.toHumanString()} is outside CodeBuild's build timeout range (5 to 480 minutes)`);
  });
});

describe('imageBuild: a buildspec of your own', () => {
  const exportsAll = { 'exported-variables': ['IMAGE_URI', 'IMAGE_DIGEST', 'SOURCE_REVISION', 'CODEBUILD_BUILD_ARN'] };

  test('an object that exports what the later actions read is used as is', () => {
    const spec = { version: '0.2', env: exportsAll, phases: { build: { commands: ['make image'] } }, artifacts: { files: ['imagedefinitions.json'] } };
    expect(JSON.parse(buildProject(synth({ buildSpec: codebuild.BuildSpec.fromObject(spec) })).Properties.Source.BuildSpec)).toEqual(spec);
  });

  test.each([
    ['no exported variables', {}, 'IMAGE_URI, IMAGE_DIGEST, SOURCE_REVISION, CODEBUILD_BUILD_ARN'],
    ['no digest', { 'exported-variables': ['IMAGE_URI', 'SOURCE_REVISION', 'CODEBUILD_BUILD_ARN'] }, 'IMAGE_DIGEST'],
  ])('an object with %s fails synth naming what is missing', (_case, env, missing) => {
    const buildSpec = codebuild.BuildSpec.fromObject({ version: '0.2', env, phases: { build: { commands: ['make image'] } } });
    expect(() => synth({ buildSpec })).toThrow(`SignedImagePipeline: imageBuild.buildSpec does not export ${missing} (env.exported-variables)`);
  });

  test('a buildspec file of the source is read at build time only: accepted', () => {
    expect(buildProject(synth({ buildSpec: codebuild.BuildSpec.fromSourceFilename('ci/buildspec.yml') })).Properties.Source.BuildSpec).toBe('ci/buildspec.yml');
  });
});

describe('CodePipeline\'s 50 actions per stage', () => {
  test('49 signing profiles with approval make 51 Sign actions: synth fails naming signingProfiles and the quota; 48 fit', () => {
    for (const [count, fails] of [[48, false], [49, true]] as const) {
      const stack = newStack();
      const signingProfiles = Array.from({ length: count }, (_, i) => NotationSigningProfile.fromSigningProfileAttributes(
        stack, `Profile${i}`, { signingProfileArn: `arn:aws:signer:us-east-1:111122223333:/signing-profiles/p${i}` },
      ));
      const create = () => new SignedImagePipeline(stack, 'Pipeline', {
        source: s3Source(stack),
        signingProfiles,
        approval: { releaseSigningProfile: NotationSigningProfile.fromSigningProfileAttributes(stack, 'Release', { signingProfileArn: 'arn:aws:signer:us-east-1:111122223333:/signing-profiles/release' }) },
        deploy: DeployTarget.ecs({ service: ecsService(stack), containerName: 'web' }),
      });
      if (fails) expect(create).toThrow(/signingProfiles: 49 signing profiles with approval \(2 more actions\) make 51 actions in the Sign stage, more than CodePipeline's 50 actions per stage/);
      else expect(create).not.toThrow();
    }
  });
});
