import * as fs from 'fs';
import * as path from 'path';
import { App, Aspects, CfnResource, Stack, Validations } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as codepipeline_actions from 'aws-cdk-lib/aws-codepipeline-actions';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { AwsSolutionsChecks as AwsSolutionsChecksV3 } from 'cdk-nag';
import { AwsSolutionsChecks } from 'cdk-nag-v2';
import { IConstruct } from 'constructs';
import { expectLeastPrivilege, newStack, policyStatements, resourcesOf, revocationResourcesOfStackProfile, UNSCOPED_ACTIONS } from './support';
import { ImageSigner, ImageVerifier, NotationSigningProfile, SignerRevocationStatus, TrustPolicy, VerificationLevel } from '../../src';
import { nagFindings, NAG_VERSIONS, NagVersion, synthWithNagV3 } from '../util/nag';

const FOREIGN_PROFILE_ARN = 'arn:aws:signer:us-east-1:444455556666:/signing-profiles/central_signer';
const BUILD_PROJECT_ARN = 'arn:aws:codebuild:us-east-1:111122223333:project/image-build';
const ECR_WRITE = ['ecr:BatchCheckLayerAvailability', 'ecr:CompleteLayerUpload', 'ecr:InitiateLayerUpload', 'ecr:PutImage', 'ecr:UploadLayerPart'];

interface Everything {
  readonly stack: Stack;
  readonly profile: NotationSigningProfile;
  readonly repository: ecr.Repository;
  readonly signer: ImageSigner;
  readonly verifier: ImageVerifier;
  readonly auditor: iam.Role;
}

/**
 * One stack holding every construct of the library, used the way the README shows, with cdk-nag v2's AwsSolutions
 * aspect on it (and its CSV report) unless `nag` is false.
 */
function everyConstruct(stack: Stack = newStack(), nag = true): Everything {
  const profile = new NotationSigningProfile(stack, 'Profile', { signingProfileName: 'team_signer' });
  const foreign = NotationSigningProfile.fromSigningProfileAttributes(stack, 'Foreign', { signingProfileArn: FOREIGN_PROFILE_ARN });
  const repository = new ecr.Repository(stack, 'Repository', { imageScanOnPush: true });
  const trustPolicy = new TrustPolicy(stack, 'TrustPolicy', { signingProfiles: [profile, foreign], repositories: [repository], emitOutput: true });
  trustPolicy.addStatement({
    name: 'third-party',
    signingProfiles: [foreign],
    registryScopes: ['444455556666.dkr.ecr.us-east-1.amazonaws.com/base'],
    level: VerificationLevel.AUDIT,
  });
  const signer = new ImageSigner(stack, 'Signer', {
    signingProfiles: [profile, foreign],
    repositories: [repository],
    provenanceProject: codebuild.Project.fromProjectArn(stack, 'Build', BUILD_PROJECT_ARN),
  });
  signer.signOnPush(repository, { tagPattern: 'release-*' });
  const verifier = new ImageVerifier(stack, 'Verifier', { trustPolicy });
  const auditor = new iam.Role(stack, 'Auditor', { assumedBy: new iam.AccountRootPrincipal() });
  SignerRevocationStatus.grantRead(auditor);
  verifier.grantInvoke(auditor);
  if (nag) Aspects.of(stack).add(new AwsSolutionsChecks({ verbose: true, reports: true }));
  return { stack, profile, repository, signer, verifier, auditor };
}

interface ReportRow {
  readonly ruleId: string;
  readonly resource: string;
  readonly compliance: string;
  readonly reason: string;
  readonly level: string;
}

/** cdk-nag v2's report of every rule on every resource (`AwsSolutions-<stack>-NagReport.csv` in the cloud assembly). */
function nagReport(stack: Stack): ReportRow[] {
  const directory = (stack.node.root as App).synth().directory;
  const files = fs.readdirSync(directory).filter((file) => /^AwsSolutions-.*NagReport\.csv$/.test(file));
  expect(files).toHaveLength(1);
  const [, ...lines] = fs.readFileSync(path.join(directory, files[0]), 'utf8').trim().split('\n');
  return lines.map((line) => {
    const cells = [...line.matchAll(/"((?:[^"]|"")*)"/g)].map((match) => match[1].replace(/""/g, '"'));
    expect(cells).toHaveLength(6);
    const [ruleId, resource, compliance, reason, level] = cells;
    return { ruleId, resource, compliance, reason, level };
  });
}

function nagMessages(stack: Stack, kind: 'error' | 'warning'): string[] {
  const annotations = Annotations.fromStack(stack);
  const found = kind === 'error' ? annotations.findError('*', Match.anyValue()) : annotations.findWarning('*', Match.anyValue());
  return found.map((message) => `${message.id}: ${String(message.entry.data)}`);
}

function cfnResources(scope: IConstruct): CfnResource[] {
  return scope.node.findAll().filter((construct): construct is CfnResource => CfnResource.isCfnResource(construct));
}

interface V2Suppression {
  readonly id: string;
  readonly reason: string;
  readonly applies_to?: string[];
  readonly is_reason_encoded?: boolean;
}

function v2Suppressions(resource: CfnResource): V2Suppression[] {
  return (resource.getMetadata('cdk_nag') as { rules_to_suppress?: V2Suppression[] } | undefined)?.rules_to_suppress ?? [];
}

function v3Acknowledgements(resource: CfnResource): Record<string, string> {
  const merged: Record<string, string> = {};
  for (const entry of resource.node.metadata.filter((m) => m.type === 'aws:cdk:acknowledged-rules')) Object.assign(merged, entry.data);
  return merged;
}

function reasonOf(suppression: V2Suppression): string {
  return suppression.is_reason_encoded ? Buffer.from(suppression.reason, 'base64').toString('utf8') : suppression.reason;
}

describe('cdk-nag v2 AwsSolutions on a stack holding every construct (its report of every rule on every resource)', () => {
  let everything: Everything;
  let stack: Stack;
  let template: Template;
  let report: ReportRow[];
  beforeAll(() => {
    everything = everyConstruct();
    stack = everything.stack;
    template = Template.fromStack(stack);
    report = nagReport(stack);
  });

  test('cdk-nag ran on every resource of the library', () => {
    const checked = new Set(report.map((row) => row.resource));
    for (const resource of cfnResources(stack)) {
      if (['AWS::IAM::Role', 'AWS::IAM::Policy', 'AWS::Lambda::Function', 'AWS::ECR::Repository'].includes(resource.cfnResourceType)) {
        expect(checked).toContain(resource.node.path);
      }
    }
    for (const fn of ['TestStack/Signer/Function/Resource', 'TestStack/Verifier/Function/Resource']) {
      expect(report).toContainEqual(expect.objectContaining({ ruleId: 'AwsSolutions-L1', resource: fn }));
    }
  });

  test('zero unacknowledged errors and zero warnings', () => {
    expect(nagMessages(stack, 'error')).toEqual([]);
    expect(nagMessages(stack, 'warning')).toEqual([]);
    expect(report.filter((row) => row.compliance === 'Non-Compliant')).toEqual([]);
    expect(new Set(report.map((row) => row.compliance))).toEqual(new Set(['Compliant', 'Suppressed']));
  });

  test('what is acknowledged: "*" for actions without a resource type, with its reason (the default runtime is the newest, nothing to acknowledge)', () => {
    const suppressed = report.filter((row) => row.compliance === 'Suppressed').map((row) => [row.ruleId, row.resource]);
    expect(suppressed.sort()).toEqual(
      [
        ['AwsSolutions-IAM5', 'TestStack/Auditor/DefaultPolicy/Resource'],
        ['AwsSolutions-IAM5', 'TestStack/Signer/ServiceRole/DefaultPolicy/Resource'],
        // Resource::* for the actions without a resource type, then the revocation check's profile versions and signing jobs.
        ...Array(5).fill(['AwsSolutions-IAM5', 'TestStack/Verifier/ServiceRole/DefaultPolicy/Resource']),
      ].sort(),
    );
    for (const row of report.filter((r) => r.compliance === 'Suppressed')) {
      expect(row.reason.trim().length).toBeGreaterThanOrEqual(10);
    }
    // Granular: each finding is acknowledged by name, never the whole rule.
    const iam5 = report.filter((r) => r.ruleId === 'AwsSolutions-IAM5' && r.compliance === 'Suppressed').map((r) => r.reason).sort();
    const profileId = stack.getLogicalId(everything.profile.node.defaultChild as CfnResource);
    expect(iam5).toEqual([
      expect.stringMatching(/^\[Resource::\*\] Resource "\*" only for actions without a resource type or whose resources the grant does not name: signer:GetRevocationStatus /),
      expect.stringMatching(/^\[Resource::\*\] Resource "\*" only for actions without a resource type: /),
      expect.stringMatching(/^\[Resource::\*\] Resource "\*" only for actions without a resource type: /),
      expect.stringMatching(new RegExp(`^\\[Resource::<${profileId}\\.Arn>/\\*\\] signer:GetRevocationStatus needs a signing-profile and a signing-job resource`)),
      expect.stringMatching(/^\[Resource::arn:<AWS::Partition>:signer:<AWS::Region>:<AWS::AccountId>:\/signing-jobs\/\*\] signer:GetRevocationStatus needs/),
      expect.stringMatching(/^\[Resource::arn:aws:signer:us-east-1:444455556666:\/signing-jobs\/\*\] signer:GetRevocationStatus needs/),
      expect.stringMatching(/^\[Resource::arn:aws:signer:us-east-1:444455556666:\/signing-profiles\/central_signer\/\*\] signer:GetRevocationStatus needs/),
    ]);
  });

  test('every acknowledgement has a reason, in cdk-nag v2 metadata and in v3 acknowledged-rules metadata alike', () => {
    let count = 0;
    for (const resource of cfnResources(stack)) {
      const v2 = v2Suppressions(resource);
      const v3 = v3Acknowledgements(resource);
      const expectedV3: Record<string, string> = {};
      for (const suppression of v2) {
        count++;
        const reason = reasonOf(suppression);
        expect(suppression.id).toMatch(/^AwsSolutions-[A-Z]+\d+$/);
        expect(reason.trim().length).toBeGreaterThanOrEqual(10);
        const findings = suppression.applies_to ?? [];
        if (findings.length === 0) expectedV3[suppression.id] = reason;
        for (const finding of findings) expectedV3[`${suppression.id}[${finding}]`] = reason;
      }
      expect(v3).toEqual(expectedV3);
      // The v2 metadata is also in the template, for the people who audit it.
      if (v2.length > 0) expect(template.toJSON().Resources[stack.getLogicalId(resource)].Metadata.cdk_nag.rules_to_suppress).toEqual(v2);
    }
    expect(count).toBe(4);
  });

  test('least privilege over every IAM policy of the stack', () => {
    const statements = policyStatements(template);
    // The auditor was granted the revocation check without naming profiles: "*", on its own policy only.
    expectLeastPrivilege(template, ['signer:GetRevocationStatus']);
    const anyProfile = statements.filter((s) => s.actions.includes('signer:GetRevocationStatus') && s.resources.includes('*'));
    expect(anyProfile.map((s) => s.policy)).toEqual([expect.stringMatching(/^AuditorDefaultPolicy/)]);
    const actions = statements.flatMap((s) => s.actions);
    expect(actions).not.toContain('*');
    expect(actions.filter((a) => /^(signer|ecr):\*$/.test(a) || a.endsWith(':*'))).toEqual([]);

    const profileArns = [stack.resolve(everything.profile.signingProfileArn), FOREIGN_PROFILE_ARN];
    expect(resourcesOf(statements, 'signer:SignPayload')).toEqual(profileArns);
    expect(statements.filter((s) => s.actions.includes('signer:SignPayload')).every((s) => s.policy.startsWith('SignerServiceRole'))).toBe(true);

    const repositoryArn = stack.resolve(everything.repository.repositoryArn);
    for (const action of ECR_WRITE) expect(resourcesOf(statements, action)).toEqual([repositoryArn]);
    for (const statement of statements.filter((s) => s.actions.some((a) => ECR_WRITE.includes(a)))) {
      expect(statement.policy).toMatch(/^SignerServiceRole/);
    }
    expect(resourcesOf(statements, 'codebuild:BatchGetBuilds')).toEqual([BUILD_PROJECT_ARN]);

    for (const statement of statements.filter((s) => s.resources.includes('*') && !s.policy.startsWith('AuditorDefaultPolicy'))) {
      expect(statement.resources).toEqual(['*']);
      for (const action of statement.actions) expect(UNSCOPED_ACTIONS).toContain(action);
    }
    // The verifier checks the revocation of what its trust policy trusts: both profiles, in every statement.
    const verifierRevocation = statements.filter((s) => s.policy.startsWith('VerifierServiceRole') && s.actions.includes('signer:GetRevocationStatus'));
    expect(new Set(verifierRevocation.flatMap((s) => s.resources).map((r) => JSON.stringify(r)))).toEqual(new Set([
      ...revocationResourcesOfStackProfile(stack, everything.profile),
      FOREIGN_PROFILE_ARN, `${FOREIGN_PROFILE_ARN}/*`, 'arn:aws:signer:us-east-1:444455556666:/signing-jobs/*',
    ].map((r) => JSON.stringify(r))));
    // The verifier only reads.
    const verifierActions = statements.filter((s) => s.policy.startsWith('VerifierServiceRole')).flatMap((s) => s.actions);
    expect(verifierActions.filter((a) => a.startsWith('ecr:')).sort()).toEqual(['ecr:BatchGetImage', 'ecr:GetAuthorizationToken', 'ecr:GetDownloadUrlForLayer']);
    expect(verifierActions.filter((a) => a.startsWith('signer:'))).toEqual(['signer:GetRevocationStatus']);
  });
});

describe.each(NAG_VERSIONS)('cdk-nag %s AwsSolutions', (version: NagVersion) => {
  test('a stack holding every construct: no unacknowledged finding', () => {
    const { stack } = everyConstruct(newStack(), false);
    expect(nagFindings(version, stack)).toEqual([]);
  });

  test('a managed policy added to a function role is an error naming the policy', () => {
    const { stack, verifier } = everyConstruct(newStack(), false);
    verifier.role.addManagedPolicy(iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSLambdaBasicExecutionRole'));
    expect(nagFindings(version, stack).map((f) => [f.path, f.ruleId, f.level])).toEqual([
      ['TestStack/Verifier/ServiceRole/Resource', 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]', 'error'],
    ]);
  });

  test('another action on "*" added to an acknowledged policy is reported: only Resource::* for its own actions is acknowledged', () => {
    const { stack, signer } = everyConstruct(newStack(), false);
    signer.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['s3:*'], resources: ['*'] }));
    expect(nagFindings(version, stack).map((f) => [f.path, f.ruleId])).toEqual([['TestStack/Signer/ServiceRole/DefaultPolicy/Resource', 'AwsSolutions-IAM5[Action::s3:*]']]);
  });

  test('a revocation check on other profiles added to the verifier is reported: only the trusted profiles\' wildcards are acknowledged', () => {
    const { stack, verifier } = everyConstruct(newStack(), false);
    verifier.role.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['signer:GetRevocationStatus'],
      resources: ['arn:aws:signer:us-east-1:444455556666:/signing-profiles/*'],
    }));
    expect(nagFindings(version, stack).map((f) => [f.path, f.ruleId])).toEqual([
      ['TestStack/Verifier/ServiceRole/DefaultPolicy/Resource', 'AwsSolutions-IAM5[Resource::arn:aws:signer:us-east-1:444455556666:/signing-profiles/*]'],
    ]);
  });
});

describe.each(NAG_VERSIONS)('cdk-nag %s AwsSolutions-L1 (latest runtime), with an aws-cdk-lib that knows a Node.js runtime newer than the default', (version) => {
  // A later aws-cdk-lib adds the runtime to lambda.Runtime.ALL, which cdk-nag's rule compares with (both versions:
  // src/rules/lambda/LambdaLatestVersion.ts); the Runtime constructor adds it the same way.
  let newer: lambda.Runtime;
  beforeAll(() => {
    newer = new lambda.Runtime('nodejs98.x', lambda.RuntimeFamily.NODEJS, { supportsInlineCode: true });
  });
  afterAll(() => {
    lambda.Runtime.ALL.splice(lambda.Runtime.ALL.indexOf(newer), 1);
  });

  const verifierOn = (runtime: lambda.Runtime | undefined) => {
    const stack = newStack();
    const repository = new ecr.Repository(stack, 'Repository');
    const trustPolicy = new TrustPolicy(stack, 'TrustPolicy', { signingProfiles: [new NotationSigningProfile(stack, 'Profile')], repositories: [repository] });
    return { stack, verifier: new ImageVerifier(stack, 'Verifier', { trustPolicy, runtime }) };
  };
  const l1 = (stack: Stack) => nagFindings(version, stack).filter((f) => f.ruleId === 'AwsSolutions-L1').map((f) => f.path);

  test('the default runtime, implied or passed explicitly, is acknowledged with its reason', () => {
    for (const runtime of [undefined, lambda.Runtime.NODEJS_24_X]) {
      const { stack, verifier } = verifierOn(runtime);
      expect(l1(stack)).toEqual([]);
      const fn = verifier.function.node.defaultChild as CfnResource;
      expect(v2Suppressions(fn).map((s) => s.id)).toEqual(['AwsSolutions-L1']);
      expect(Object.keys(v3Acknowledgements(fn))).toEqual(['AwsSolutions-L1']);
      expect(reasonOf(v2Suppressions(fn)[0])).toMatch(/^The default runtime nodejs24\.x is the runtime the bundled handlers are built and tested for/);
    }
  });

  test('another runtime is the user\'s choice and is reported', () => {
    const { stack } = verifierOn(lambda.Runtime.NODEJS_22_X);
    expect(l1(stack)).toEqual(['TestStack/Verifier/Function/Resource']);
  });
});

describe('cdk-nag v3 registered as a policy validation plugin (Validations.of(app).addPlugins)', () => {
  test('a stack holding every construct synthesizes', () => {
    const { stack } = everyConstruct(newStack(), false);
    expect(() => synthWithNagV3(stack.node.root as App)).not.toThrow();
  });

  test('with writeSuppressionsToCloudFormation, the template carries every acknowledgement with its reason', () => {
    const { stack } = everyConstruct(newStack(), false);
    const app = stack.node.root as App;
    Validations.of(app).addPlugins(new AwsSolutionsChecksV3(app, { writeSuppressionsToCloudFormation: true }));
    const resources = Template.fromStack(stack).toJSON().Resources as Record<string, any>;
    const written = Object.values(resources).flatMap((resource) => resource.Metadata?.cdk_nag?.rules_to_suppress ?? []).map((rule: any) => rule.id);
    const profileId = stack.getLogicalId(stack.node.findChild('Profile').node.defaultChild as CfnResource);
    expect(written.sort()).toEqual([
      'AwsSolutions-IAM5[Resource::*]', 'AwsSolutions-IAM5[Resource::*]', 'AwsSolutions-IAM5[Resource::*]',
      `AwsSolutions-IAM5[Resource::<${profileId}.Arn>/*]`,
      'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:signer:<AWS::Region>:<AWS::AccountId>:/signing-jobs/*]',
      'AwsSolutions-IAM5[Resource::arn:aws:signer:us-east-1:444455556666:/signing-jobs/*]',
      'AwsSolutions-IAM5[Resource::arn:aws:signer:us-east-1:444455556666:/signing-profiles/central_signer/*]',
    ].sort());
  });
});

describe('the acknowledgements do not hide what they do not cover', () => {
  test('another action on "*" in an acknowledged policy is reported at synth', () => {
    const { stack, signer } = everyConstruct(newStack());
    signer.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: ['*'] }));
    const warnings = Annotations.fromStack(stack).findWarning('/TestStack/Signer/ServiceRole/DefaultPolicy/Resource', Match.stringLikeRegexp('s3:GetObject on "\\*"'));
    expect(warnings).toHaveLength(1);
    expect(String(warnings[0].entry.data)).toContain('scope the other actions to their resources');
  });

  test('a managed policy added to a function role is a cdk-nag error', () => {
    const { stack, verifier } = everyConstruct(newStack());
    verifier.role.addManagedPolicy(iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AWSLambdaBasicExecutionRole'));
    const errors = nagMessages(stack, 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/^\/TestStack\/Verifier\/ServiceRole\/Resource: AwsSolutions-IAM4\[Policy::arn:<AWS::Partition>:iam::aws:policy\/service-role\/AWSLambdaBasicExecutionRole\]/);
  });
});

describe('cdk-nag AwsSolutions with the functions in a pipeline', () => {
  test("the invoke actions add no finding to the library's resources", () => {
    const stack = newStack();
    const { signer, verifier } = everyConstruct(stack);
    const image = '#{Source.ImageURI}';
    new codepipeline.Pipeline(stack, 'Pipeline', {
      pipelineType: codepipeline.PipelineType.V2,
      stages: [
        {
          stageName: 'Source',
          actions: [
            new codepipeline_actions.EcrSourceAction({
              actionName: 'Image',
              repository: ecr.Repository.fromRepositoryName(stack, 'SourceRepository', 'app'),
              output: new codepipeline.Artifact('Source'),
              variablesNamespace: 'Source',
            }),
          ],
        },
        { stageName: 'Sign', actions: [signer.pipelineAction({ actionName: 'Sign', imageUri: image })] },
        { stageName: 'Verify', actions: [verifier.pipelineAction({ actionName: 'Verify', imageUri: image })] },
      ],
    });
    const library = /^\/TestStack\/(Signer|Verifier|Profile|Repository|TrustPolicy|Auditor)\//;
    const findings = [...nagMessages(stack, 'error'), ...nagMessages(stack, 'warning')].filter((message) => library.test(message));
    expect(findings).toEqual([]);
    // The pipeline's own findings (its artifact bucket, its action roles) are reported, not hidden.
    expect(nagMessages(stack, 'error').some((message) => message.startsWith('/TestStack/Pipeline/'))).toBe(true);
  });
});
