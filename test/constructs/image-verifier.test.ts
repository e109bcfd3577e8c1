import { X509Certificate } from 'node:crypto';
import * as path from 'path';
import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as codepipeline_actions from 'aws-cdk-lib/aws-codepipeline-actions';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import {
  expectInvokeOfFunctionAndLatestOnly, expectLeastPrivilege, expectLeastPrivilegeStatements, nagSuppressions, newStack, resourcesOf,
  revocationResourcesOfStackProfile, roleStatements, Statement,
} from './support';
import { ImageVerifier, ImageVerifierProps, NotationSigningProfile, TrustPolicy, TrustPolicyProps, VerificationAction, VerificationLevel } from '../../src';

const IMAGE_URI = '#{Build.IMAGE_URI}@#{Build.IMAGE_DIGEST}';
const SCOPE = '111122223333.dkr.ecr.us-east-1.amazonaws.com/app';
const AWS_ROOT_SHA256 = '90:A8:7D:05:43:C3:F0:94:DB:FF:95:89:B6:64:9A:FF:E2:F3:D6:E0:F3:08:79:9B:E2:25:84:61:C6:86:47:3F';
const GOV_ROOT_SHA256 = '67:36:53:AB:76:F4:1A:10:54:6C:DE:B4:10:7E:CD:6D:F2:C1:5C:2C:9A:0D:32:ED:97:D2:71:B4:43:6F:C3:E8';
const WRITE_ACTIONS = ['ecr:BatchCheckLayerAvailability', 'ecr:CompleteLayerUpload', 'ecr:InitiateLayerUpload', 'ecr:PutImage', 'ecr:UploadLayerPart'];

interface Fixture {
  readonly stack: Stack;
  readonly profile: NotationSigningProfile;
  readonly repository: ecr.Repository;
  readonly trustPolicy: TrustPolicy;
  readonly verifier: ImageVerifier;
}

function fixture(props: Partial<ImageVerifierProps> = {}, policyProps: Partial<TrustPolicyProps> = {}, stack: Stack = newStack()): Fixture {
  const profile = new NotationSigningProfile(stack, 'Profile');
  const repository = new ecr.Repository(stack, 'Repository');
  const trustPolicy = new TrustPolicy(stack, 'TrustPolicy', { signingProfiles: [profile], repositories: [repository], ...policyProps });
  const verifier = new ImageVerifier(stack, 'Verifier', { trustPolicy, ...props });
  return { stack, profile, repository, trustPolicy, verifier };
}

function functionProperties(template: Template): any {
  const functions = Object.values(template.findResources('AWS::Lambda::Function'));
  expect(functions).toHaveLength(1);
  return (functions[0] as any).Properties;
}

function verifierStatements(template: Template): Statement[] {
  return roleStatements(template, 'VerifierServiceRoleDefaultPolicy');
}

function assetKey(name: string): string {
  const stack = newStack();
  new lambda.Function(stack, 'Reference', {
    code: lambda.Code.fromAsset(path.join(__dirname, '..', '..', 'assets', name)),
    handler: 'index.handler',
    runtime: lambda.Runtime.NODEJS_22_X,
  });
  return functionProperties(Template.fromStack(stack)).Code.S3Key;
}

function fingerprints(pem: string): string[] {
  return pem.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g)!.map((c) => new X509Certificate(c).fingerprint256);
}

describe('ImageVerifier function', () => {
  test('defaults: the pre-bundled verify handler on ARM64, nodejs24.x, 512 MiB, 2 minutes, its own log group', () => {
    const { stack, verifier, trustPolicy } = fixture();
    const template = Template.fromStack(stack);
    const props = functionProperties(template);

    expect(props.Code.S3Key).toBe(assetKey('verify-handler'));
    expect(props.Handler).toBe('index.handler');
    expect(props.Runtime).toBe('nodejs24.x');
    expect(props.Architectures).toEqual(['arm64']);
    expect(props.MemorySize).toBe(512);
    expect(props.Timeout).toBe(120);
    expect(props.Description).toBe('Verifies container image signatures (Notary Project) against a trust policy');
    template.resourceCountIs('AWS::Logs::LogGroup', 1);
    template.hasResource('AWS::Logs::LogGroup', { Properties: { RetentionInDays: 365 }, DeletionPolicy: 'Retain' });
    const [logGroupId] = Object.keys(template.findResources('AWS::Logs::LogGroup'));
    expect(props.LoggingConfig).toEqual({ LogGroup: { Ref: logGroupId } });

    expect(verifier.trustPolicy).toBe(trustPolicy);
    expect(verifier.grantPrincipal).toBe(verifier.role);
    expect(verifier.function.role).toBe(verifier.role);
    const [fn] = Object.values(template.findResources('AWS::Lambda::Function'));
    expect(nagSuppressions(fn).map((s) => s.id)).toEqual([]);
  });

  test('overrides: runtime, architecture, memory, timeout, log retention and removal, name and description', () => {
    const { stack } = fixture({
      runtime: lambda.Runtime.NODEJS_LATEST,
      architecture: lambda.Architecture.X86_64,
      memorySize: 256,
      timeout: Duration.seconds(30),
      logRetention: logs.RetentionDays.THREE_MONTHS,
      logRemovalPolicy: RemovalPolicy.DESTROY,
      functionName: 'image-verifier',
      description: 'Verifies release images',
    });
    const template = Template.fromStack(stack);
    expect(functionProperties(template)).toMatchObject({
      Runtime: lambda.Runtime.NODEJS_LATEST.name,
      Architectures: ['x86_64'],
      MemorySize: 256,
      Timeout: 30,
      FunctionName: 'image-verifier',
      Description: 'Verifies release images',
    });
    const [fn] = Object.values(template.findResources('AWS::Lambda::Function'));
    expect(nagSuppressions(fn)).toEqual([]);
    template.hasResource('AWS::Logs::LogGroup', { Properties: { RetentionInDays: 90 }, DeletionPolicy: 'Delete' });
  });

  test('the trust policy travels in the environment; the built-in AWS Signer stores are left out of TRUST_STORES', () => {
    const { stack, trustPolicy } = fixture();
    const variables = functionProperties(Template.fromStack(stack)).Environment.Variables;
    expect(variables).toEqual({ NODE_OPTIONS: '--enable-source-maps', TRUST_POLICY: stack.resolve(trustPolicy.toJsonString()), TRUST_STORES: '{}' });
    // The environment-agnostic stack trusts both AWS Signer roots, which the handler has built in.
    expect(Object.keys(trustPolicy.trustStores).sort()).toEqual(['signingAuthority:aws-signer-ts', 'signingAuthority:aws-us-gov-signer-ts']);
  });

  test('a custom trust store travels with the function, holding the partition root', () => {
    const stack = newStack({ env: { account: '111122223333', region: 'us-gov-west-1' } });
    const { trustPolicy } = fixture({}, { trustStoreName: 'release-roots' }, stack);
    const variables = functionProperties(Template.fromStack(stack)).Environment.Variables;
    const stores = JSON.parse(variables.TRUST_STORES);
    expect(Object.keys(stores)).toEqual(['signingAuthority:release-roots']);
    expect(fingerprints(stores['signingAuthority:release-roots'])).toEqual([GOV_ROOT_SHA256]);
    expect(stack.resolve(variables.TRUST_POLICY)).toEqual(stack.resolve(trustPolicy.toJsonString()));
  });

  test('a custom store name in a stack of unknown partition holds both roots', () => {
    const { stack } = fixture({}, { trustStoreName: 'roots' });
    const stores = JSON.parse(functionProperties(Template.fromStack(stack)).Environment.Variables.TRUST_STORES);
    expect(fingerprints(stores['signingAuthority:roots'])).toEqual([AWS_ROOT_SHA256, GOV_ROOT_SHA256]);
  });

  test('maxSignatureAttempts becomes MAX_SIGNATURES', () => {
    const { stack } = fixture({ maxSignatureAttempts: 5 });
    expect(functionProperties(Template.fromStack(stack)).Environment.Variables.MAX_SIGNATURES).toBe('5');
  });

  test('a statement added after the verifier is in its trust policy', () => {
    const { stack, trustPolicy, profile } = fixture();
    trustPolicy.addStatement({ name: 'other', signingProfiles: [profile], registryScopes: [SCOPE], level: VerificationLevel.AUDIT });
    const policy = JSON.parse(
      (functionProperties(Template.fromStack(stack)).Environment.Variables.TRUST_POLICY['Fn::Join'][1] as unknown[])
        .map((part) => (typeof part === 'string' ? part : 'X'))
        .join(''),
    );
    expect(policy.trustPolicies.map((s: any) => [s.name, s.signatureVerification.level])).toEqual([
      ['aws-signer-tp', 'strict'],
      ['other', 'audit'],
    ]);
  });

  test("a policy too large for Lambda's 4 KB environment fails synth with the reason", () => {
    const scopes = Array.from({ length: 80 }, (_, i) => `111122223333.dkr.ecr.us-east-1.amazonaws.com/team/service-${i}`);
    const { stack } = fixture({}, { registryScopes: scopes });
    expect(() => Template.fromStack(stack)).toThrow(/more than Lambda's 4096-byte \(4 KB\) limit: use fewer trust policy statements, registry scopes or signing profiles/);
  });

  test('grantInvoke lets a principal invoke the function and its $LATEST version, nothing more', () => {
    const { stack, verifier } = fixture();
    expectInvokeOfFunctionAndLatestOnly(stack, verifier.function, (grantee) => verifier.grantInvoke(grantee));
  });
});

describe('ImageVerifier permissions', () => {
  test('read-only: ECR pulls on its repositories, the revocation status of its trusted profile, registry login and job results', () => {
    const { stack, repository, profile } = fixture();
    const template = Template.fromStack(stack);
    const statements = verifierStatements(template);

    expect(resourcesOf(statements, 'ecr:BatchGetImage')).toEqual([stack.resolve(repository.repositoryArn)]);
    expect(resourcesOf(statements, 'ecr:GetDownloadUrlForLayer')).toEqual([stack.resolve(repository.repositoryArn)]);
    const actions = [...new Set(statements.flatMap((s) => s.actions))].sort();
    expect(actions).toEqual(
      [
        'codepipeline:PutJobFailureResult',
        'codepipeline:PutJobSuccessResult',
        'ecr:BatchGetImage',
        'ecr:GetAuthorizationToken',
        'ecr:GetDownloadUrlForLayer',
        'logs:CreateLogStream',
        'logs:PutLogEvents',
        'signer:GetRevocationStatus',
      ].sort(),
    );
    for (const action of WRITE_ACTIONS) expect(actions).not.toContain(action);
    expect(actions).not.toContain('signer:SignPayload');
    expect(resourcesOf(statements, 'signer:GetRevocationStatus')).toEqual(revocationResourcesOfStackProfile(stack, profile));
    expectLeastPrivilege(template);

    const [policy] = Object.values(template.findResources('AWS::IAM::Policy'));
    const [unscoped, revocation] = nagSuppressions(policy);
    expect(unscoped).toMatchObject({ id: 'AwsSolutions-IAM5', applies_to: ['Resource::*'] });
    expect(unscoped.reason).not.toContain('signer:');
    const profileId = stack.getLogicalId(profile.node.defaultChild as any);
    expect(revocation).toEqual({
      id: 'AwsSolutions-IAM5',
      reason: expect.stringMatching(/^signer:GetRevocationStatus needs a signing-profile and a signing-job resource/),
      applies_to: [`Resource::<${profileId}.Arn>/*`, 'Resource::arn:<AWS::Partition>:signer:<AWS::Region>:<AWS::AccountId>:/signing-jobs/*'],
    });
  });

  test('revocation follows the trust policy: statements added later extend it, pinned versions narrow it, skipped checks add nothing', () => {
    const { stack, profile, trustPolicy } = fixture();
    const pinned = new NotationSigningProfile(stack, 'Pinned');
    const unchecked = new NotationSigningProfile(stack, 'Unchecked');
    const foreign = NotationSigningProfile.fromSigningProfileAttributes(stack, 'Foreign', {
      signingProfileArn: 'arn:aws-us-gov:signer:us-gov-west-1:444455556666:/signing-profiles/central',
    });
    trustPolicy.addStatement({ name: 'pinned', signingProfiles: [pinned], registryScopes: ['example.com/pinned'], pinVersions: true });
    trustPolicy.addStatement({ name: 'unchecked', signingProfiles: [unchecked], registryScopes: ['example.com/unchecked'], overrides: { revocation: VerificationAction.SKIP } });
    trustPolicy.addStatement({ name: 'foreign', signingProfiles: [foreign], registryScopes: ['example.com/foreign'], level: VerificationLevel.AUDIT });
    const statements = verifierStatements(Template.fromStack(stack));

    expect(resourcesOf(statements, 'signer:GetRevocationStatus')).toEqual([
      ...revocationResourcesOfStackProfile(stack, profile),
      ...revocationResourcesOfStackProfile(stack, pinned, true),
      // An imported profile: its ARN's partition, account and region.
      'arn:aws-us-gov:signer:us-gov-west-1:444455556666:/signing-profiles/central',
      'arn:aws-us-gov:signer:us-gov-west-1:444455556666:/signing-profiles/central/*',
      'arn:aws-us-gov:signer:us-gov-west-1:444455556666:/signing-jobs/*',
    ]);
    const uncheckedArn = JSON.stringify(stack.resolve(unchecked.signingProfileArn));
    expect(statements.some((s) => JSON.stringify(s.resources).includes(uncheckedArn))).toBe(false);
  });

  test('a trust policy that checks no revocation grants none', () => {
    const stack = newStack();
    const profile = new NotationSigningProfile(stack, 'Profile');
    const repository = new ecr.Repository(stack, 'Repository');
    const trustPolicy = new TrustPolicy(stack, 'TrustPolicy', {
      signingProfiles: [profile], repositories: [repository], overrides: { revocation: VerificationAction.SKIP },
    });
    new ImageVerifier(stack, 'Verifier', { trustPolicy });
    const statements = verifierStatements(Template.fromStack(stack));
    expect(statements.flatMap((s) => s.actions)).not.toContain('signer:GetRevocationStatus');
  });

  test("by default it reads the trust policy's repositories, from every statement", () => {
    const { stack, profile, repository, trustPolicy } = fixture({}, {}, newStack());
    const other = new ecr.Repository(stack, 'Other');
    trustPolicy.addStatement({ name: 'other', signingProfiles: [profile], repositories: [other] });
    const late = new ImageVerifier(stack, 'Late', { trustPolicy });
    expect(late.repositories).toEqual([repository, other]);
    const statements = roleStatements(Template.fromStack(stack), 'LateServiceRoleDefaultPolicy');
    expect(resourcesOf(statements, 'ecr:BatchGetImage')).toEqual([stack.resolve(repository.repositoryArn), stack.resolve(other.repositoryArn)]);
  });

  test('explicit repositories replace the default; addRepository adds one, once', () => {
    const stack = newStack();
    const explicit = ecr.Repository.fromRepositoryName(stack, 'Explicit', 'team/app');
    const { verifier, repository } = fixture({ repositories: [explicit] }, {}, stack);
    expect(verifier.repositories).toEqual([explicit]);
    verifier.addRepository(repository);
    verifier.addRepository(repository);
    const statements = verifierStatements(Template.fromStack(stack));
    expect(resourcesOf(statements, 'ecr:BatchGetImage')).toEqual([stack.resolve(explicit.repositoryArn), stack.resolve(repository.repositoryArn)]);
  });
});

describe('ImageVerifier props errors', () => {
  test.each([0, -1, 1.5])('maxSignatureAttempts %p', (value) => {
    expect(() => fixture({ maxSignatureAttempts: value })).toThrow(new RegExp(`maxSignatureAttempts: ${value} is not a whole number of at least 1`));
  });

  test('no repository to read: the policy has registry scopes only and none are given', () => {
    const stack = newStack();
    const profile = new NotationSigningProfile(stack, 'Profile');
    const trustPolicy = new TrustPolicy(stack, 'TrustPolicy', { signingProfiles: [profile], registryScopes: [SCOPE] });
    expect(() => new ImageVerifier(stack, 'Verifier', { trustPolicy })).toThrow(/repositories: give the ECR repositories the verifier may read/);
    expect(() => new ImageVerifier(stack, 'Empty', { trustPolicy, repositories: [] })).toThrow(/repositories: give the ECR repositories/);
    new ImageVerifier(stack, 'Given', { trustPolicy, repositories: [ecr.Repository.fromRepositoryName(stack, 'App', 'app')] });
  });

  test.each<[string, Partial<ImageVerifierProps>, RegExp]>([
    ['memory', { memorySize: 100 }, /memorySize: 100 MiB is outside what Lambda accepts/],
    ['timeout', { timeout: Duration.minutes(20) }, /timeout: 20 minutes is outside what Lambda accepts/],
    ['runtime', { runtime: lambda.Runtime.JAVA_21 }, /runtime: java21 is not a Node.js 22 or later runtime/],
  ])('function option %s', (_name, props, message) => {
    expect(() => fixture(props)).toThrow(message);
  });
});

describe('ImageVerifier.pipelineAction', () => {
  test('a LambdaInvokeAction on the function, namespace Verify, with imageUri and userMetadata in UserParameters', () => {
    const { stack, verifier } = fixture();
    const action = verifier.pipelineAction({ actionName: 'VerifySignature', imageUri: IMAGE_URI, userMetadata: { team: 'platform' }, runOrder: 2 });
    expect(action).toBeInstanceOf(codepipeline_actions.LambdaInvokeAction);
    const source = new codepipeline.Artifact('Source');
    new codepipeline.Pipeline(stack, 'Pipeline', {
      pipelineType: codepipeline.PipelineType.V2,
      stages: [
        {
          stageName: 'Source',
          actions: [new codepipeline_actions.EcrSourceAction({ actionName: 'Image', repository: ecr.Repository.fromRepositoryName(stack, 'Src', 'app'), output: source })],
        },
        { stageName: 'Verify', actions: [action, verifier.pipelineAction({ actionName: 'Gate', imageUri: IMAGE_URI, variablesNamespace: 'Gate' })] },
      ],
    });
    const template = Template.fromStack(stack);
    const pipeline = Object.values(template.findResources('AWS::CodePipeline::Pipeline'))[0] as any;
    const [verify, gate] = pipeline.Properties.Stages.find((s: any) => s.Name === 'Verify').Actions;
    expect(verify).toMatchObject({
      Name: 'VerifySignature',
      ActionTypeId: { Category: 'Invoke', Owner: 'AWS', Provider: 'Lambda' },
      Namespace: 'Verify',
      RunOrder: 2,
      Configuration: { FunctionName: stack.resolve(verifier.function.functionName) },
    });
    expect(JSON.parse(verify.Configuration.UserParameters)).toEqual({ imageUri: IMAGE_URI, userMetadata: { team: 'platform' } });
    expect(gate).toMatchObject({ Name: 'Gate', Namespace: 'Gate', RunOrder: 1 });
    expect(JSON.parse(gate.Configuration.UserParameters)).toEqual({ imageUri: IMAGE_URI });

    // The invoke action's job-result grant lands on the verifier's already acknowledged policy.
    expectLeastPrivilegeStatements(verifierStatements(template));
  });

  test('refuses an empty imageUri', () => {
    const { verifier } = fixture();
    expect(() => verifier.pipelineAction({ actionName: 'Verify', imageUri: '' })).toThrow(/imageUri: give the image to process/);
  });
});
