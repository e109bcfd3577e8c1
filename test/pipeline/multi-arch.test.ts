/**
 * SignedImagePipeline with a multi-arch build (`imageBuild.platforms`): the synthesized Build, Sign and running-image
 * checks, the platform checks at synth, and the buildx build commands run in bash with a docker stand-in.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import { ecsService, eksCluster, newStack, s3Source } from './support';
import { DeployTarget, ScanSeverity, SignedImagePipeline, SignedImagePipelineProps } from '../../src';
import { DEFAULT_BINFMT_IMAGE, DEFAULT_BUILDKIT_IMAGE, imageBuildSpec } from '../../src/private/buildspecs';

const PLATFORMS = ['linux/amd64', 'linux/arm64'];

function synth(props: Partial<SignedImagePipelineProps> = {}): Template {
  const stack = newStack();
  new SignedImagePipeline(stack, 'Pipeline', { source: s3Source(stack), imageBuild: { platforms: PLATFORMS }, ...props });
  return Template.fromStack(stack);
}

function buildProject(template: Template): any {
  return Object.values(template.findResources('AWS::CodeBuild::Project')).find((p: any) => p.Properties.Description.startsWith('Builds the image'));
}

function projectVariables(template: Template): Record<string, unknown> {
  return Object.fromEntries((buildProject(template).Properties.Environment.EnvironmentVariables as any[]).map((v) => [v.Name, v.Value]));
}

function stage(template: Template, name: string): any[] {
  const pipeline = Object.values(template.findResources('AWS::CodePipeline::Pipeline'))[0] as any;
  return pipeline.Properties.Stages.find((s: any) => s.Name === name).Actions;
}

function signerVariables(template: Template): Record<string, unknown> {
  const fn = Object.values(template.findResources('AWS::Lambda::Function')).find((f: any) => f.Properties.Environment?.Variables?.SIGNING_PROFILES) as any;
  return fn.Properties.Environment.Variables;
}

describe('SignedImagePipeline: imageBuild.platforms', () => {
  test('the pipeline synthesizes with platforms: a buildx build for DOCKER_PLATFORMS, privileged, with the pinned builder images', () => {
    const template = synth();
    const project = buildProject(template).Properties;
    expect(project.Environment.PrivilegedMode).toBe(true);
    expect(projectVariables(template)).toMatchObject({
      DOCKER_PLATFORMS: 'linux/amd64,linux/arm64',
      BUILDKIT_IMAGE: DEFAULT_BUILDKIT_IMAGE,
      BINFMT_IMAGE: DEFAULT_BINFMT_IMAGE,
    });
    const spec = JSON.parse(project.Source.BuildSpec);
    const commands = (spec.phases.build.commands as string[]).join('\n');
    expect(commands).toContain('docker buildx build --platform "$DOCKER_PLATFORMS"');
    expect(commands).toContain('--push');
    expect(commands).not.toMatch(/docker build --file/);
    expect(spec.env['exported-variables']).toEqual(expect.arrayContaining(['IMAGE_URI', 'IMAGE_DIGEST', 'SOURCE_REVISION', 'CODEBUILD_BUILD_ARN']));
    // Signed and verified by the index digest the build exported.
    expect(stage(template, 'Sign').map((a) => a.Name)).toEqual(['Sign']);
    expect(signerVariables(template).SIGN_INDEX_CHILDREN).toBe('true');
  });

  test('without platforms the build is the single-platform docker build, with no builder images', () => {
    const stack = newStack();
    new SignedImagePipeline(stack, 'Pipeline', { source: s3Source(stack) });
    const template = Template.fromStack(stack);
    const variables = projectVariables(template);
    expect(variables.DOCKER_PLATFORMS).toBeUndefined();
    expect(variables.BUILDKIT_IMAGE).toBeUndefined();
    expect(JSON.parse(buildProject(template).Properties.Source.BuildSpec)).toEqual(imageBuildSpec());
  });

  test('BUILDKIT_IMAGE and BINFMT_IMAGE can be replaced through environmentVariables (a mirror)', () => {
    const mirror = '111122223333.dkr.ecr.us-east-1.amazonaws.com/mirror/buildkit@sha256:' + 'e'.repeat(64);
    const template = synth({ imageBuild: { platforms: PLATFORMS, environmentVariables: { BUILDKIT_IMAGE: { value: mirror } } } });
    expect(projectVariables(template)).toMatchObject({ BUILDKIT_IMAGE: mirror, BINFMT_IMAGE: DEFAULT_BINFMT_IMAGE });
  });

  test('signIndexChildren: false makes the signer sign an index alone', () => {
    expect(signerVariables(synth({ signIndexChildren: false })).SIGN_INDEX_CHILDREN).toBe('false');
  });

  test.each<[string, string[], string]>([
    ['an empty list', [], 'imageBuild.platforms: give at least one platform'],
    ['another OS', ['windows/amd64'], 'imageBuild.platforms: "windows/amd64" is not a platform of the form linux/<architecture>[/<variant>]'],
    ['no architecture', ['linux'], 'imageBuild.platforms: "linux" is not a platform of the form'],
    ['an unknown architecture', ['linux/x86_64'], 'imageBuild.platforms: "linux/x86_64" names architecture "x86_64"; the architectures are 386, amd64, arm64'],
    ['an unknown variant', ['linux/arm/v9'], 'imageBuild.platforms: "linux/arm/v9" names variant "v9" of arm; its variants are v5, v6, v7, v8'],
    ['a variant of an architecture without variants', ['linux/s390x/v1'], '"linux/s390x/v1" names variant "v1" of s390x; s390x has no variants'],
    ['too many parts', ['linux/arm/v7/x'], '"linux/arm/v7/x" is not a platform of the form'],
    ['a duplicate', ['linux/amd64', 'linux/arm64', 'linux/amd64'], '"linux/amd64" is given twice'],
    ['a comma inside one entry', ['linux/amd64,linux/arm64'], 'names architecture "amd64,linux"'],
  ])('%s fails synth with a ValidationError naming imageBuild.platforms', (_name, platforms, message) => {
    expect(() => synth({ imageBuild: { platforms } })).toThrow(message);
    try {
      synth({ imageBuild: { platforms } });
    } catch (error) {
      expect((error as Error).constructor.name).toBe('ValidationError');
      expect((error as Error).message).toMatch(/^SignedImagePipeline: imageBuild\.platforms: /);
    }
  });

  test('variants and other architectures pass: linux/arm/v7, linux/arm64/v8, linux/riscv64', () => {
    expect(projectVariables(synth({ imageBuild: { platforms: ['linux/arm/v7', 'linux/arm64/v8', 'linux/riscv64'] } })).DOCKER_PLATFORMS)
      .toBe('linux/arm/v7,linux/arm64/v8,linux/riscv64');
  });

  test('a scan gate with platforms is refused: ECR scans the platform images, not the index', () => {
    expect(() => synth({ scanGate: { severity: ScanSeverity.HIGH } })).toThrow('SignedImagePipeline: scanGate cannot be combined with imageBuild.platforms');
  });
});

describe('SignedImagePipeline: the running-image checks accept what the gate verified', () => {
  test('the ECS check gets the gate\'s VERIFIED_DIGESTS', () => {
    const stack = newStack();
    new SignedImagePipeline(stack, 'Pipeline', {
      source: s3Source(stack),
      imageBuild: { platforms: PLATFORMS },
      deploy: DeployTarget.ecs({ service: ecsService(stack), containerName: 'web' }),
    });
    const check = stage(Template.fromStack(stack), 'Verify').find((a) => a.Name === 'CheckRunningImage');
    const parameters = JSON.stringify(check.Configuration.UserParameters);
    expect(parameters).toContain('\\"verifiedDigests\\":\\"#{DeployGate.VERIFIED_DIGESTS}\\"');
    expect(parameters).toContain('#{DeployGate.IMAGE_URI}@#{DeployGate.IMAGE_DIGEST}');
  });

  test('the EKS check gets VERIFIED_DIGESTS; the deploy step sets the image to the verified digest only', () => {
    const stack = newStack();
    new SignedImagePipeline(stack, 'Pipeline', {
      source: s3Source(stack),
      imageBuild: { platforms: PLATFORMS },
      deploy: DeployTarget.eks({ cluster: eksCluster(stack), deployment: 'web', container: 'app' }),
    });
    const template = Template.fromStack(stack);
    const variables = (action: any) => JSON.parse(action.Configuration.EnvironmentVariables);
    const check = stage(template, 'Verify').find((a) => a.Name === 'CheckRunningImage');
    expect(variables(check)).toEqual(expect.arrayContaining([{ name: 'VERIFIED_DIGESTS', type: 'PLAINTEXT', value: '#{DeployGate.VERIFIED_DIGESTS}' }]));
    const deploy = stage(template, 'Deploy').find((a) => a.Name === 'DeployToEks');
    expect(variables(deploy).map((v: any) => v.name)).toEqual(['IMAGE_URI', 'IMAGE_DIGEST']);
  });
});

describe('the buildx build commands (bash, docker stand-in)', () => {
  const INDEX = `sha256:${'1'.repeat(64)}`;
  const OTHER = `sha256:${'2'.repeat(64)}`;

  /** A docker stand-in: records its arguments, answers `version` with the host arch, writes buildx's metadata file. */
  const FAKE_DOCKER = `#!/usr/bin/env bash
set -eu
echo "$*" >> "$CALLS"
case "$1 \${2:-}" in
  "version --format") echo "$HOST_ARCH" ;;
  "buildx build")
    while [ $# -gt 0 ]; do if [ "$1" = "--metadata-file" ]; then printf '{"containerimage.digest": "%s"}' "$PUSHED_DIGEST" > "$2"; fi; shift; done ;;
  "buildx imagetools") printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","digest":"%s","size":856}' "$REGISTRY_DIGEST" ;;
  *) ;;
esac
`;

  function run(env: Record<string, string>) {
    const dir = mkdtempSync(join(tmpdir(), 'buildx-'));
    try {
      writeFileSync(join(dir, 'docker'), FAKE_DOCKER);
      chmodSync(join(dir, 'docker'), 0o755);
      const commands = (imageBuildSpec({ multiPlatform: true }) as any).phases.build.commands as string[];
      const result = spawnSync('bash', ['-c', commands.join('\n')], {
        cwd: dir,
        encoding: 'utf8',
        env: {
          PATH: `${dir}:${process.env.PATH}`,
          HOME: dir,
          CALLS: join(dir, 'calls.txt'),
          DOCKERFILE: 'Dockerfile',
          DOCKER_CONTEXT: '.',
          DOCKER_BUILD_ARG_NAMES: 'VERSION',
          BUILD_ARG_VERSION: '1.2 3',
          IMAGE_URI: '111122223333.dkr.ecr.us-east-1.amazonaws.com/app',
          IMAGE_TAG: 'build-7',
          CONTAINER_NAME: 'web',
          DOCKER_PLATFORMS: 'linux/amd64,linux/arm64,linux/arm/v7',
          BUILDKIT_IMAGE: DEFAULT_BUILDKIT_IMAGE,
          BINFMT_IMAGE: DEFAULT_BINFMT_IMAGE,
          HOST_ARCH: 'amd64',
          PUSHED_DIGEST: INDEX,
          REGISTRY_DIGEST: INDEX,
          ...env,
        },
      });
      const read = (name: string) => {
        try {
          return readFileSync(join(dir, name), 'utf8');
        } catch {
          return '';
        }
      };
      return { ...result, calls: read('calls.txt').trim().split('\n'), definitions: read('imagedefinitions.json') };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  test('registers emulators for the foreign architectures only, builds every platform with the pinned builder and writes the index digest', () => {
    const result = run({});
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.calls).toEqual([
      'version --format {{.Server.Arch}}',
      `run --privileged --rm ${DEFAULT_BINFMT_IMAGE} --install arm,arm64`,
      `buildx create --name signed-image-builder --driver docker-container --driver-opt image=${DEFAULT_BUILDKIT_IMAGE} --bootstrap --use`,
      'buildx build --platform linux/amd64,linux/arm64,linux/arm/v7 --file Dockerfile --tag 111122223333.dkr.ecr.us-east-1.amazonaws.com/app:build-7 ' +
        '--build-arg VERSION=1.2 3 --metadata-file buildx-metadata.json --push .',
      'buildx imagetools inspect 111122223333.dkr.ecr.us-east-1.amazonaws.com/app:build-7 --format {{json .Manifest}}',
    ]);
    expect(JSON.parse(result.definitions)).toEqual([{ name: 'web', imageUri: `111122223333.dkr.ecr.us-east-1.amazonaws.com/app@${INDEX}` }]);
  });

  test('on an arm64 host building arm64 only, no emulator is registered', () => {
    const result = run({ HOST_ARCH: 'arm64', DOCKER_PLATFORMS: 'linux/arm64' });
    expect(result.status).toBe(0);
    expect(result.calls.some((call) => call.startsWith('run '))).toBe(false);
  });

  test('fails when the registry answers another digest for the tag than buildx pushed, or buildx reports none', () => {
    const differs = run({ REGISTRY_DIGEST: OTHER });
    expect(differs.status).toBe(1);
    expect(differs.stderr).toContain(`docker buildx pushed '${INDEX}' but the registry answers '${OTHER}'`);
    expect(differs.definitions).toBe('');

    const none = run({ PUSHED_DIGEST: '' });
    expect(none.status).toBe(1);
    expect(none.definitions).toBe('');
  });
});
