import * as path from 'path';
import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as codebuild from 'aws-cdk-lib/aws-codebuild';
import * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as codepipeline_actions from 'aws-cdk-lib/aws-codepipeline-actions';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { expectInvokeOfFunctionAndLatestOnly, expectLeastPrivilege, expectLeastPrivilegeStatements, nagSuppressions, newStack, policyStatements, resourcesOf, roleStatements, Statement } from './support';
import { ImageSigner, ImageSignerProps, INotationSigningProfile, NotationSigningProfile, SignatureManifestFormat, SignerPipelineActionOptions } from '../../src';

const FOREIGN_PROFILE_ARN = 'arn:aws:signer:us-east-1:444455556666:/signing-profiles/central_signer';
const IMAGE_URI = '#{Build.IMAGE_URI}@#{Build.IMAGE_DIGEST}';
const ECR_READ = ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer'];
const ECR_WRITE = ['ecr:BatchCheckLayerAvailability', 'ecr:CompleteLayerUpload', 'ecr:InitiateLayerUpload', 'ecr:PutImage', 'ecr:UploadLayerPart'];

interface Fixture {
  readonly stack: Stack;
  readonly profile: NotationSigningProfile;
  readonly repository: ecr.Repository;
  readonly signer: ImageSigner;
}

function fixture(props: Partial<ImageSignerProps> = {}, stack: Stack = newStack()): Fixture {
  const profile = new NotationSigningProfile(stack, 'Profile');
  const repository = new ecr.Repository(stack, 'Repository');
  const signer = new ImageSigner(stack, 'Signer', { signingProfiles: [profile], repositories: [repository], ...props });
  return { stack, profile, repository, signer };
}

function functionProperties(template: Template): any {
  const functions = Object.values(template.findResources('AWS::Lambda::Function'));
  expect(functions).toHaveLength(1);
  return (functions[0] as any).Properties;
}

function signerStatements(template: Template): Statement[] {
  return roleStatements(template, 'SignerServiceRoleDefaultPolicy');
}

function roleArn(logicalIdPrefix: string, template: Template): unknown {
  const ids = Object.keys(template.findResources('AWS::IAM::Role')).filter((id) => id.startsWith(logicalIdPrefix));
  expect(ids).toHaveLength(1);
  return { 'Fn::GetAtt': [ids[0], 'Arn'] };
}

/** The S3 key of a function whose code is the given directory under assets/, bundled before synth. */
function assetKey(name: string): string {
  const stack = newStack();
  new lambda.Function(stack, 'Reference', {
    code: lambda.Code.fromAsset(path.join(__dirname, '..', '..', 'assets', name)),
    handler: 'index.handler',
    runtime: lambda.Runtime.NODEJS_22_X,
  });
  return functionProperties(Template.fromStack(stack)).Code.S3Key;
}

function addToPipeline(stack: Stack, action: codepipeline.IAction): codepipeline.Pipeline {
  const source = new codepipeline.Artifact('Source');
  return new codepipeline.Pipeline(stack, 'Pipeline', {
    pipelineType: codepipeline.PipelineType.V2,
    stages: [
      {
        stageName: 'Source',
        actions: [
          new codepipeline_actions.EcrSourceAction({
            actionName: 'Image',
            repository: ecr.Repository.fromRepositoryName(stack, 'SourceRepository', 'app'),
            output: source,
          }),
        ],
      },
      { stageName: 'Sign', actions: [action] },
    ],
  });
}

function pipelineAction(template: Template, stageName: string): any {
  const pipeline = Object.values(template.findResources('AWS::CodePipeline::Pipeline'))[0] as any;
  const stage = pipeline.Properties.Stages.find((s: any) => s.Name === stageName);
  expect(stage.Actions).toHaveLength(1);
  return stage.Actions[0];
}

describe('ImageSigner function', () => {
  test('defaults: the pre-bundled sign handler on ARM64, nodejs24.x, 512 MiB, 2 minutes, with its own log group kept a year', () => {
    const { stack, signer } = fixture();
    const template = Template.fromStack(stack);
    const props = functionProperties(template);

    expect(props.Code.S3Key).toBe(assetKey('sign-handler'));
    expect(props.Code.S3Key).not.toBe(assetKey('verify-handler'));
    expect(props.Handler).toBe('index.handler');
    expect(props.Runtime).toBe('nodejs24.x');
    expect(props.Architectures).toEqual(['arm64']);
    expect(props.MemorySize).toBe(512);
    expect(props.Timeout).toBe(120);
    expect(props.Description).toBe('Signs container images with AWS Signer (Notary Project signatures)');
    expect(props.FunctionName).toBeUndefined();
    expect(props.Role).toEqual(roleArn('SignerServiceRole', template));

    template.resourceCountIs('AWS::Logs::LogGroup', 1);
    template.hasResource('AWS::Logs::LogGroup', { Properties: { RetentionInDays: 365 }, DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    const [logGroupId] = Object.keys(template.findResources('AWS::Logs::LogGroup'));
    expect(props.LoggingConfig).toEqual({ LogGroup: { Ref: logGroupId } });
    // No Custom::LogRetention function: the log group is a resource of the stack.
    template.resourceCountIs('Custom::LogRetention', 0);

    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: { Statement: [{ Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' } }] },
    });
    expect(signer.grantPrincipal).toBe(signer.role);
    expect(signer.function.role).toBe(signer.role);
    expect(stack.resolve(signer.logGroup.logGroupName)).toEqual({ Ref: logGroupId });
  });

  test('the default runtime is the newest Node.js runtime aws-cdk-lib offers, so AwsSolutions-L1 has nothing to acknowledge', () => {
    const { stack } = fixture();
    const [fn] = Object.values(Template.fromStack(stack).findResources('AWS::Lambda::Function')) as any[];
    expect(fn.Properties.Runtime).toBe(lambda.Runtime.NODEJS_LATEST.name);
    expect(nagSuppressions(fn).filter((s) => s.id === 'AwsSolutions-L1')).toEqual([]);
  });

  test('overrides: runtime, architecture, memory, timeout, log retention and removal, name and description', () => {
    const { stack } = fixture({
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.X86_64,
      memorySize: 1024,
      timeout: Duration.minutes(5),
      logRetention: logs.RetentionDays.ONE_MONTH,
      logRemovalPolicy: RemovalPolicy.DESTROY,
      functionName: 'image-signer',
      description: 'Signs release images',
    });
    const template = Template.fromStack(stack);
    const [fn] = Object.values(template.findResources('AWS::Lambda::Function')) as any[];
    expect(fn.Properties).toMatchObject({
      Runtime: 'nodejs24.x',
      Architectures: ['x86_64'],
      MemorySize: 1024,
      Timeout: 300,
      FunctionName: 'image-signer',
      Description: 'Signs release images',
    });
    // nodejs24.x is the newest Node.js runtime this aws-cdk-lib knows: nothing to acknowledge.
    expect(nagSuppressions(fn).filter((s) => s.id === 'AwsSolutions-L1')).toEqual([]);
    template.hasResource('AWS::Logs::LogGroup', { Properties: { RetentionInDays: 30 }, DeletionPolicy: 'Delete' });
  });

  test('nodejs20.x (deprecated by Lambda) and older runtimes are refused naming the runtime; nodejs22.x is accepted', () => {
    for (const runtime of [lambda.Runtime.NODEJS_20_X, lambda.Runtime.NODEJS_18_X]) {
      expect(() => fixture({ runtime })).toThrow(`runtime: ${runtime.name} is not a Node.js 22 or later runtime (nodejs20.x is deprecated by Lambda)`);
    }
    expect(functionProperties(Template.fromStack(fixture({ runtime: lambda.Runtime.NODEJS_22_X }).stack)).Runtime).toBe('nodejs22.x');
  });

  test('environment: the signing profiles (owner only across accounts), the repository URIs and the manifest format', () => {
    const stack = newStack();
    const own = new NotationSigningProfile(stack, 'Profile', { signingProfileName: 'team_signer' });
    const foreign = NotationSigningProfile.fromSigningProfileAttributes(stack, 'Foreign', { signingProfileArn: FOREIGN_PROFILE_ARN });
    const repository = new ecr.Repository(stack, 'Repository');
    const signer = new ImageSigner(stack, 'Signer', { signingProfiles: [own, foreign], repositories: [repository] });
    const variables = functionProperties(Template.fromStack(stack)).Environment.Variables;

    expect(variables).toEqual({
      NODE_OPTIONS: '--enable-source-maps',
      SIGNING_PROFILES: stack.resolve(
        stack.toJsonString([
          { profileName: 'team_signer', profileArn: own.signingProfileArn },
          { profileName: 'central_signer', profileOwner: '444455556666', profileArn: FOREIGN_PROFILE_ARN },
        ]),
      ),
      ALLOWED_REPOSITORIES: stack.resolve(stack.toJsonString([repository.repositoryUri])),
      SIGNATURE_MANIFEST_FORMAT: 'oci-1.1',
      SIGN_INDEX_CHILDREN: 'true',
    });
    expect(signer.signingProfiles).toEqual([own, foreign]);
    expect(signer.repositories).toEqual([repository]);
  });

  test('manifestFormat LEGACY is passed to the handler', () => {
    const { stack } = fixture({ manifestFormat: SignatureManifestFormat.LEGACY });
    expect(functionProperties(Template.fromStack(stack)).Environment.Variables.SIGNATURE_MANIFEST_FORMAT).toBe('legacy');
  });

  test('signIndexChildren false is passed to the handler', () => {
    const { stack } = fixture({ signIndexChildren: false });
    expect(functionProperties(Template.fromStack(stack)).Environment.Variables.SIGN_INDEX_CHILDREN).toBe('false');
  });

  test('grantInvoke lets a principal invoke the function and its $LATEST version, nothing more', () => {
    const { stack, signer } = fixture();
    expectInvokeOfFunctionAndLatestOnly(stack, signer.function, (grantee) => signer.grantInvoke(grantee));
  });
});

describe('ImageSigner props errors', () => {
  test.each<[string, (stack: Stack, profile: INotationSigningProfile, repository: ecr.IRepository) => Partial<ImageSignerProps>, RegExp]>([
    ['no signing profile', () => ({ signingProfiles: [] }), /signingProfiles: give at least one signing profile/],
    ['no repository', () => ({ repositories: [] }), /repositories: give at least one ECR repository/],
    ['memory below 128 MiB', () => ({ memorySize: 64 }), /memorySize: 64 MiB is outside what Lambda accepts/],
    ['memory above 10240 MiB', () => ({ memorySize: 20000 }), /memorySize: 20000 MiB is outside/],
    ['fractional memory', () => ({ memorySize: 256.5 }), /memorySize: 256.5 MiB is outside/],
    ['timeout under a second', () => ({ timeout: Duration.millis(500) }), /timeout: .* is outside what Lambda accepts \(1 second to 15 minutes\)/],
    ['timeout over 15 minutes', () => ({ timeout: Duration.minutes(16) }), /timeout: 16 minutes is outside/],
    ['a Python runtime', () => ({ runtime: lambda.Runtime.PYTHON_3_12 }), /runtime: python3.12 is not a Node.js 22 or later runtime/],
    ['an old Node.js runtime', () => ({ runtime: lambda.Runtime.NODEJS_18_X }), /runtime: nodejs18.x is not a Node.js 22 or later runtime/],
  ])('%s', (_name, override, message) => {
    const stack = newStack();
    const profile = new NotationSigningProfile(stack, 'Profile');
    const repository = new ecr.Repository(stack, 'Repository');
    expect(() => new ImageSigner(stack, 'Signer', { signingProfiles: [profile], repositories: [repository], ...override(stack, profile, repository) })).toThrow(
      message,
    );
  });
});

describe('ImageSigner permissions', () => {
  test('sign on its profiles only; ECR pull and push on its repositories only; "*" only for actions without a resource type', () => {
    const stack = newStack();
    const own = new NotationSigningProfile(stack, 'Profile');
    const foreign = NotationSigningProfile.fromSigningProfileAttributes(stack, 'Foreign', { signingProfileArn: FOREIGN_PROFILE_ARN });
    const repository = new ecr.Repository(stack, 'Repository');
    const imported = ecr.Repository.fromRepositoryArn(stack, 'Imported', 'arn:aws:ecr:us-east-1:111122223333:repository/team/app');
    new ImageSigner(stack, 'Signer', { signingProfiles: [own, foreign], repositories: [repository, imported] });
    const template = Template.fromStack(stack);
    const statements = signerStatements(template);
    const repositoryArns = [stack.resolve(repository.repositoryArn), imported.repositoryArn];

    expect(resourcesOf(statements, 'signer:SignPayload')).toEqual([stack.resolve(own.signingProfileArn), FOREIGN_PROFILE_ARN]);
    expect(resourcesOf(statements, 'signer:GetSigningProfile')).toEqual([stack.resolve(own.signingProfileArn), FOREIGN_PROFILE_ARN]);
    for (const action of [...ECR_READ, ...ECR_WRITE]) expect(resourcesOf(statements, action)).toEqual(repositoryArns);
    const ecrActions = [...new Set(statements.flatMap((s) => s.actions).filter((a) => a.startsWith('ecr:')))].sort();
    expect(ecrActions).toEqual([...ECR_READ, ...ECR_WRITE, 'ecr:GetAuthorizationToken'].sort());

    const unscoped = statements.filter((s) => s.resources.includes('*'));
    expect(unscoped.flatMap((s) => s.actions).sort()).toEqual(['codepipeline:PutJobFailureResult', 'codepipeline:PutJobSuccessResult', 'ecr:GetAuthorizationToken']);
    for (const s of unscoped) expect(s.resources).toEqual(['*']);

    const [logGroupId] = Object.keys(template.findResources('AWS::Logs::LogGroup'));
    expect(resourcesOf(statements, 'logs:PutLogEvents')).toEqual([{ 'Fn::GetAtt': [logGroupId, 'Arn'] }]);
    expect(resourcesOf(statements, 'logs:CreateLogStream')).toEqual([{ 'Fn::GetAtt': [logGroupId, 'Arn'] }]);
    expect(statements.flatMap((s) => s.actions).filter((a) => a.startsWith('logs:CreateLogGroup'))).toEqual([]);
    expect(statements.flatMap((s) => s.actions).some((a) => a.startsWith('codebuild:'))).toBe(false);
    expectLeastPrivilege(template);
  });

  test('the "*" statement is acknowledged for AwsSolutions-IAM5 with the reason of each action', () => {
    const { stack } = fixture();
    const [policy] = Object.values(Template.fromStack(stack).findResources('AWS::IAM::Policy'));
    const iam5 = nagSuppressions(policy);
    expect(iam5).toHaveLength(1);
    expect(iam5[0]).toMatchObject({ id: 'AwsSolutions-IAM5', applies_to: ['Resource::*'] });
    for (const action of ['ecr:GetAuthorizationToken', 'codepipeline:PutJobSuccessResult', 'codepipeline:PutJobFailureResult']) {
      expect(iam5[0].reason).toContain(`${action} `);
    }
    expect(iam5[0].reason).not.toContain('signer:');
  });

  test('provenance: codebuild:BatchGetBuilds on the build project only', () => {
    const stack = newStack();
    const project = new codebuild.PipelineProject(stack, 'Build');
    const { signer } = fixture({ provenanceProject: project }, stack);
    signer.addProvenanceProject(project);
    const statements = signerStatements(Template.fromStack(stack));
    expect(statements.filter((s) => s.actions.includes('codebuild:BatchGetBuilds'))).toHaveLength(1);
    expect(resourcesOf(statements, 'codebuild:BatchGetBuilds')).toEqual([stack.resolve(project.projectArn)]);
    expect(statements.flatMap((s) => s.actions).filter((a) => a.startsWith('codebuild:'))).toEqual(['codebuild:BatchGetBuilds']);
  });

  test('addRepository grants the same pull and push on another repository, once', () => {
    const { stack, signer, repository } = fixture();
    const other = new ecr.Repository(stack, 'Other');
    signer.addRepository(other);
    signer.addRepository(other);
    signer.addRepository(repository);
    expect(signer.repositories).toEqual([repository, other]);
    const template = Template.fromStack(stack);
    const statements = signerStatements(template);
    const arns = [stack.resolve(repository.repositoryArn), stack.resolve(other.repositoryArn)];
    for (const action of ECR_WRITE) expect(resourcesOf(statements, action)).toEqual(arns);
    const variables = functionProperties(template).Environment.Variables;
    expect(variables.ALLOWED_REPOSITORIES).toEqual(stack.resolve(stack.toJsonString([repository.repositoryUri, other.repositoryUri])));
  });
});

describe('ImageSigner.pipelineAction', () => {
  test('a LambdaInvokeAction on the function, namespace Sign, with imageUri and userMetadata in UserParameters', () => {
    const { stack, signer } = fixture();
    const action = signer.pipelineAction({ actionName: 'Sign', imageUri: IMAGE_URI, userMetadata: { team: 'platform' } });
    expect(action).toBeInstanceOf(codepipeline_actions.LambdaInvokeAction);
    expect(action.actionProperties.variablesNamespace).toBe('Sign');
    addToPipeline(stack, action);
    const template = Template.fromStack(stack);
    const rendered = pipelineAction(template, 'Sign');

    expect(rendered).toMatchObject({
      Name: 'Sign',
      ActionTypeId: { Category: 'Invoke', Owner: 'AWS', Provider: 'Lambda', Version: '1' },
      Namespace: 'Sign',
      RunOrder: 1,
      Configuration: { FunctionName: stack.resolve(signer.function.functionName) },
    });
    expect(JSON.parse(rendered.Configuration.UserParameters)).toEqual({ imageUri: IMAGE_URI, userMetadata: { team: 'platform' } });
    expect(stack.resolve(action.variable('SIGNATURE_DIGEST'))).toBe('#{Sign.SIGNATURE_DIGEST}');
  });

  test('namespace, run order and the sign handler parameters', () => {
    const stack = newStack();
    const project = new codebuild.PipelineProject(stack, 'Build');
    const { signer, profile } = fixture({ provenanceProject: project }, stack);
    const provenance = {
      buildId: '#{Build.CODEBUILD_BUILD_ARN}',
      sourceRevision: '#{Build.SOURCE_REVISION}',
      pipelineExecutionId: '#{codepipeline.PipelineExecutionId}',
    };
    const action = signer.pipelineAction({
      actionName: 'SignRelease', imageUri: IMAGE_URI, variablesNamespace: 'Release', runOrder: 3, ...provenance, signingProfile: profile, force: true,
    });
    addToPipeline(stack, action);
    const rendered = pipelineAction(Template.fromStack(stack), 'Sign');
    expect(rendered).toMatchObject({ Name: 'SignRelease', Namespace: 'Release', RunOrder: 3 });
    // The profile ARN is resolved by CloudFormation: the parameters are joined around it.
    const joined = rendered.Configuration.UserParameters['Fn::Join'];
    expect(joined[1]).toContainEqual(stack.resolve(profile.signingProfileArn));
    const text = joined[1].map((part: unknown) => (typeof part === 'string' ? part : 'ARN')).join('');
    expect(JSON.parse(text)).toEqual({ ...provenance, signingProfileArn: 'ARN', force: true, imageUri: IMAGE_URI });
  });

  test('in a pipeline the function role gains only the CodePipeline job results, still acknowledged and least-privilege', () => {
    const { stack, signer } = fixture();
    addToPipeline(stack, signer.pipelineAction({ actionName: 'Sign', imageUri: IMAGE_URI }));
    const template = Template.fromStack(stack);
    const statements = signerStatements(template);
    for (const s of statements.filter((st) => st.resources.includes('*'))) {
      for (const action of s.actions) expect(['ecr:GetAuthorizationToken', 'codepipeline:PutJobSuccessResult', 'codepipeline:PutJobFailureResult']).toContain(action);
    }
    expect(statements.flatMap((s) => s.actions).some((a) => a.startsWith('s3:'))).toBe(false);
    expectLeastPrivilegeStatements(statements);
    expect(nagSuppressions(template.toJSON().Resources[statements[0].policy])).toEqual([
      expect.objectContaining({ id: 'AwsSolutions-IAM5', applies_to: ['Resource::*'] }),
    ]);
    expect(Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('unacknowledgedWildcard|on "\\*"'))).toEqual([]);
  });

  test.each<[string, (stack: Stack) => Partial<SignerPipelineActionOptions>, RegExp]>([
    [
      'a signing profile the signer does not have',
      (stack) => ({ signingProfile: NotationSigningProfile.fromSigningProfileAttributes(stack, 'Foreign', { signingProfileArn: FOREIGN_PROFILE_ARN }) }),
      /signingProfile: TestStack\/Foreign is not one of this signer's signing profiles \(TestStack\/Profile\)/,
    ],
    ['a build id without a provenance project', () => ({ buildId: '#{Build.CODEBUILD_BUILD_ARN}' }), /buildId: the signer may not describe builds; give it the build project as provenanceProject/],
  ])('refuses %s', (_name, options, message) => {
    const { stack, signer } = fixture();
    expect(() => signer.pipelineAction({ actionName: 'Sign', imageUri: IMAGE_URI, ...options(stack) })).toThrow(message);
  });

  test('refuses an empty imageUri', () => {
    const { signer } = fixture();
    expect(() => signer.pipelineAction({ actionName: 'Sign', imageUri: ' ' })).toThrow(/imageUri: give the image to process/);
  });
});

describe('ImageSigner.signOnPush', () => {
  test('an EventBridge rule on successful tagged pushes to the repository invokes the function with the pushed digest', () => {
    const { stack, signer, repository } = fixture();
    const rule = signer.signOnPush(repository);
    const template = Template.fromStack(stack);

    template.resourceCountIs('AWS::Events::Rule', 1);
    const [ruleResource] = Object.values(template.findResources('AWS::Events::Rule')) as any[];
    expect(ruleResource.Properties.EventPattern).toEqual({
      'source': ['aws.ecr'],
      'detail-type': ['ECR Image Action'],
      'detail': {
        'action-type': ['PUSH'],
        'result': ['SUCCESS'],
        'repository-name': [stack.resolve(repository.repositoryName)],
        'image-tag': [{ 'anything-but': { prefix: 'sha256-' } }],
      },
    });
    expect(ruleResource.Properties.State).toBe('ENABLED');
    const [target] = ruleResource.Properties.Targets;
    expect(target.Arn).toEqual(stack.resolve(signer.function.functionArn));
    expect(target.InputTransformer.InputPathsMap).toEqual({
      'detail-repository-name': '$.detail.repository-name',
      'detail-image-digest': '$.detail.image-digest',
    });
    const template_ = target.InputTransformer.InputTemplate['Fn::Join'][1];
    const text = template_.map((part: any) => (typeof part === 'string' ? part : `<${part.Ref}>`)).join('');
    expect(text).toBe('{"imageUri":"<AWS::AccountId>.dkr.ecr.<AWS::Region>.<AWS::URLSuffix>/<detail-repository-name>@<detail-image-digest>"}');

    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      Principal: 'events.amazonaws.com',
      FunctionName: stack.resolve(signer.function.functionArn),
      SourceArn: stack.resolve(rule.ruleArn),
    });
  });

  test('a tag pattern narrows the rule; the repository is added to the signer', () => {
    const { stack, signer, repository } = fixture();
    const other = new ecr.Repository(stack, 'Other');
    signer.signOnPush(other, { tagPattern: 'release-*' });
    expect(signer.repositories).toEqual([repository, other]);
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: { detail: { 'repository-name': [stack.resolve(other.repositoryName)], 'image-tag': [{ wildcard: 'release-*' }] } },
    });
    for (const action of ECR_WRITE) {
      expect(resourcesOf(signerStatements(template), action)).toEqual([stack.resolve(repository.repositoryArn), stack.resolve(other.repositoryArn)]);
    }
  });

  test('one rule per repository', () => {
    const { stack, signer, repository } = fixture();
    signer.signOnPush(repository);
    signer.signOnPush(new ecr.Repository(stack, 'Other'));
    Template.fromStack(stack).resourceCountIs('AWS::Events::Rule', 2);
  });

  test('refuses an empty tag pattern', () => {
    const { signer, repository } = fixture();
    expect(() => signer.signOnPush(repository, { tagPattern: '' })).toThrow(/signOnPush: tagPattern is empty/);
  });

  test('refuses a repository of another account or region, whose events never reach this stack', () => {
    const stack = newStack({ env: { account: '111122223333', region: 'eu-west-1' } });
    const { signer } = fixture({}, stack);
    const otherAccount = ecr.Repository.fromRepositoryArn(stack, 'OtherAccount', 'arn:aws:ecr:eu-west-1:444455556666:repository/app');
    const otherRegion = ecr.Repository.fromRepositoryArn(stack, 'OtherRegion', 'arn:aws:ecr:us-east-1:111122223333:repository/app');
    expect(() => signer.signOnPush(otherAccount)).toThrow(/signOnPush: repository TestStack\/OtherAccount is in account 444455556666/);
    expect(() => signer.signOnPush(otherRegion)).toThrow(/signOnPush: repository TestStack\/OtherRegion is in region us-east-1/);
    const same = ecr.Repository.fromRepositoryArn(stack, 'Same', 'arn:aws:ecr:eu-west-1:111122223333:repository/app');
    signer.signOnPush(same);
    expect(policyStatements(Template.fromStack(stack)).some((s) => s.resources.includes(same.repositoryArn))).toBe(true);
  });
});
