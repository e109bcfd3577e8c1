import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import { fullPipeline, nagFindings, newStack, s3Source } from './support';
import { AttestationRequirements, ImageVerifier, NotationSigningProfile, PipelineSource, SbomFormat, SignedImagePipeline, TrustPolicy } from '../../src';
import { expectLeastPrivilegeStatements, policyStatements } from '../constructs/support';
import { NAG_VERSIONS } from '../util/nag';

const SBOM = { format: SbomFormat.SPDX, syftVersion: '1.16.0', syftSha256: 'a'.repeat(64) };
const CONNECTION = 'arn:aws:codeconnections:us-east-1:111122223333:connection/0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9';

function connectionPipeline(overrides: Record<string, unknown> = {}) {
  const stack = newStack();
  const pipeline = new SignedImagePipeline(stack, 'Pipeline', {
    source: PipelineSource.connection({ connectionArn: CONNECTION, owner: 'org', repo: 'app', branch: 'main' }),
    provenance: {},
    ...overrides,
  });
  return { stack, pipeline, template: Template.fromStack(stack) };
}

/** A string of the template, with deploy-time values (Fn::Join parts) shown as `<...>`. */
function flatten(value: unknown): string {
  if (typeof value === 'string') return value;
  const join = (value as any)['Fn::Join'];
  if (join) return (join[1] as unknown[]).map(flatten).join(join[0]);
  return `<${JSON.stringify(value).replace(/"/g, '')}>`;
}

/** The UserParameters of the pipeline's action named `name`, parsed. */
function userParameters(template: Template, name: string): Record<string, unknown> {
  const [pipeline] = Object.values(template.findResources('AWS::CodePipeline::Pipeline')) as any[];
  const action = pipeline.Properties.Stages.flatMap((stage: any) => stage.Actions).find((candidate: any) => candidate.Name === name);
  return JSON.parse(flatten(action.Configuration.UserParameters));
}

function environment(template: Template, description: RegExp): Record<string, unknown> {
  const fn = Object.values(template.findResources('AWS::Lambda::Function')).find((candidate: any) => description.test(candidate.Properties.Description)) as any;
  return Object.fromEntries(Object.entries(fn.Properties.Environment.Variables).map(([name, value]) => [name, flatten(value)]));
}

describe('SignedImagePipeline provenance', () => {
  test('the Sign action attaches provenance with the source the source action reports; the gates require it', () => {
    const { template } = connectionPipeline();
    expect(userParameters(template, 'Sign')).toMatchObject({
      buildId: '#{Build.CODEBUILD_BUILD_ARN}',
      attachProvenance: true,
      sourceRepository: 'https://github.com/org/app',
      sourceBranch: '#{Source.BranchName}',
      sourceCommit: '#{Source.CommitId}',
    });
    expect(JSON.parse(environment(template, /^Verifies/).REQUIRED_ATTESTATIONS as string)).toEqual({
      provenance: { builderIsPipeline: true, sourceRepository: 'https://github.com/org/app', sourceBranch: 'main' },
    });
  });

  test('least privilege: BatchGetBuilds on the build project, GetJobDetails on "*" (no resource type), nothing else new', () => {
    const { template } = connectionPipeline();
    // The signer's and verifier's roles keep the library's rules (aws-cdk-lib's action roles use s3:GetObject* and the like).
    expectLeastPrivilegeStatements(policyStatements(template).filter((statement) => /^Pipeline(Signer|Verifier)/.test(statement.policy)), ['codepipeline:GetJobDetails']);
    const statements = policyStatements(template);
    const getJob = statements.filter((statement) => statement.actions.includes('codepipeline:GetJobDetails'));
    // The signer (for the provenance's builder) and the verifier (for builderIsPipeline), each on "*" only.
    expect(getJob).toHaveLength(2);
    for (const statement of getJob) expect(statement.resources).toEqual(['*']);
    const describe = statements.filter((statement) => statement.actions.includes('codebuild:BatchGetBuilds') && /Signer/.test(statement.policy));
    expect(describe).toHaveLength(1);
    expect(describe[0].actions).toEqual(['codebuild:BatchGetBuilds']);
    expect(describe[0].resources).toEqual([{ 'Fn::GetAtt': [expect.stringMatching(/^PipelineBuild/), 'Arn'] }]);

    const without = Template.fromStack((() => {
      const stack = newStack();
      new SignedImagePipeline(stack, 'Pipeline', { source: PipelineSource.connection({ connectionArn: CONNECTION, owner: 'org', repo: 'app' }) });
      return stack;
    })());
    expect(policyStatements(without).filter((statement) => statement.actions.includes('codepipeline:GetJobDetails'))).toEqual([]);
    expect(environment(without, /^Verifies/).REQUIRED_ATTESTATIONS).toBeUndefined();
  });

  test('with an approval, only the release signature attaches the attestations', () => {
    const stack = newStack();
    fullPipeline(stack, { provenance: {}, sbom: SBOM });
    const template = Template.fromStack(stack);
    for (const name of ['Sign1', 'Sign2']) expect(userParameters(template, name).attachProvenance).toBeUndefined();
    expect(userParameters(template, 'SignRelease')).toMatchObject({
      attachProvenance: true,
      sbomFormat: 'spdx',
      sourceRepository: expect.stringMatching(/^https:\/\/git-codecommit\.us-east-1\.<.*>\/v1\/repos\/service$/),
    });
  });

  test('requireAtGate false attaches without requiring', () => {
    const { template } = connectionPipeline({ provenance: { requireAtGate: false, sourceRepositoryUrl: 'https://gitlab.com/group/app' } });
    expect(userParameters(template, 'Sign').sourceRepository).toBe('https://gitlab.com/group/app');
    expect(environment(template, /^Verifies/).REQUIRED_ATTESTATIONS).toBeUndefined();
  });

  test('an S3 source records no source, and the gate requires only the builder', () => {
    const stack = newStack();
    new SignedImagePipeline(stack, 'Pipeline', { source: s3Source(stack), provenance: {} });
    const template = Template.fromStack(stack);
    const parameters = userParameters(template, 'Sign');
    expect(parameters.attachProvenance).toBe(true);
    expect(parameters.sourceRepository).toBeUndefined();
    expect(JSON.parse(environment(template, /^Verifies/).REQUIRED_ATTESTATIONS as string)).toEqual({ provenance: { builderIsPipeline: true } });
  });
});

describe('SignedImagePipeline SBOM', () => {
  test('the Build stage runs syft pinned by version and SHA-256 and writes sbom.json; the Sign action takes the Build artifact', () => {
    const { template } = connectionPipeline({ sbom: SBOM });
    template.hasResourceProperties('AWS::CodeBuild::Project', {
      Environment: {
        EnvironmentVariables: Match.arrayWith([
          { Name: 'SYFT_VERSION', Type: 'PLAINTEXT', Value: '1.16.0' },
          { Name: 'SYFT_SHA256', Type: 'PLAINTEXT', Value: 'a'.repeat(64) },
          { Name: 'SBOM_FORMAT', Type: 'PLAINTEXT', Value: 'spdx' },
        ]),
      },
    });
    const project = Object.values(template.findResources('AWS::CodeBuild::Project')).find((candidate: any) => /Builds the image/.test(candidate.Properties.Description)) as any;
    const spec = JSON.parse(project.Properties.Source.BuildSpec);
    const commands: string[] = spec.phases.build.commands;
    const check = commands.findIndex((command) => command.includes('sha256sum --check'));
    const run = commands.findIndex((command) => command.includes('registry:$IMAGE_URI@$IMAGE_DIGEST'));
    expect(check).toBeGreaterThan(0);
    expect(run).toBeGreaterThan(check);
    expect(commands[check]).toContain('exit 1');
    expect(spec.artifacts.files).toEqual(['imagedefinitions.json', 'sbom.json']);

    const [pipeline] = Object.values(template.findResources('AWS::CodePipeline::Pipeline')) as any[];
    const sign = pipeline.Properties.Stages.flatMap((stage: any) => stage.Actions).find((action: any) => action.Name === 'Sign');
    expect(sign.InputArtifacts).toEqual([{ Name: 'BuildOutput' }]);
    expect(userParameters(template, 'Sign').sbomFormat).toBe('spdx');
    expect(JSON.parse(environment(template, /^Verifies/).REQUIRED_ATTESTATIONS as string).sbom).toBe('spdx');
  });

  test.each([
    ['a version that is not one', { syftVersion: 'latest' }, /sbom.syftVersion "latest" is not a release version/],
    ['a checksum that is not one', { syftSha256: 'abc' }, /sbom.syftSha256 is not a SHA-256/],
  ])('refuses %s', (_name, override, message) => {
    expect(() => connectionPipeline({ sbom: { ...SBOM, ...override } })).toThrow(message);
  });
});

describe('ImageVerifier requiredAttestations', () => {
  function verifier(requiredAttestations: AttestationRequirements) {
    const stack = newStack();
    const trustPolicy = new TrustPolicy(stack, 'Policy', { signingProfiles: [new NotationSigningProfile(stack, 'Profile')], repositories: [new ecr.Repository(stack, 'Repo')] });
    new ImageVerifier(stack, 'Verifier', { trustPolicy, requiredAttestations });
    return Template.fromStack(stack);
  }

  test('an explicit builder needs no GetJobDetails', () => {
    const template = verifier({ provenance: { builderId: 'arn:aws:codepipeline:us-east-1:111122223333:release', sourceBranch: 'main' }, sbom: SbomFormat.CYCLONEDX });
    expect(JSON.parse(environment(template, /^Verifies/).REQUIRED_ATTESTATIONS as string)).toEqual({
      provenance: { builderId: 'arn:aws:codepipeline:us-east-1:111122223333:release', sourceBranch: 'main' },
      sbom: 'cyclonedx',
    });
    expect(policyStatements(template).filter((statement) => statement.actions.includes('codepipeline:GetJobDetails'))).toEqual([]);
  });

  test('refuses builderId together with builderIsPipeline', () => {
    expect(() => verifier({ provenance: { builderId: 'arn:aws:codepipeline:us-east-1:111122223333:release', builderIsPipeline: true } }))
      .toThrow('ImageVerifier: requiredAttestations.provenance: give builderId or builderIsPipeline, not both');
  });
});

describe.each(NAG_VERSIONS)('cdk-nag %s AwsSolutions with provenance and SBOM', (version) => {
  test('no unacknowledged finding', () => {
    const stack = newStack();
    fullPipeline(stack, { provenance: {}, sbom: SBOM });
    const { errors, warnings } = nagFindings(stack, version);
    expect(errors).toEqual([]);
    expect(warnings).toEqual([]);
  });

  test('no unacknowledged finding with one profile and a connection source', () => {
    const { stack } = connectionPipeline({ sbom: SBOM });
    const { errors, warnings } = nagFindings(stack, version);
    expect(errors).toEqual([]);
    expect(warnings).toEqual([]);
    // The IAM5 acknowledgement of "*" names the actions it covers: GetJobDetails must be among them.
    expect(Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('unacknowledgedWildcard|on "\\*"'))).toEqual([]);
  });
});
