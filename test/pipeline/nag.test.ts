import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { eksCluster, ENV, fullPipeline, nagFindings, newStack } from './support';
import { SignedServiceStack } from '../../examples/signed-service-stack';
import { DeployTarget, NotationSigningProfile } from '../../src';
import { nagSuppressions, policyStatements } from '../constructs/support';
import { NAG_VERSIONS, synthWithNagV3 } from '../util/nag';

/** Every cdk-nag v2 acknowledgement in a template, with its resource. */
function acknowledgements(template: Template): { resource: string; id: string; reason: string; appliesTo?: string[] }[] {
  return Object.entries(template.toJSON().Resources as Record<string, unknown>).flatMap(([resource, body]) =>
    nagSuppressions(body).map((rule) => ({ resource, id: rule.id, reason: rule.reason, appliesTo: rule.applies_to })));
}

describe.each(NAG_VERSIONS)('cdk-nag %s AwsSolutions', (version) => {
  test('a pipeline with every option (several profiles, approval, scan gate, ECS, notifications): no unacknowledged finding', () => {
    const stack = newStack();
    fullPipeline(stack);
    const { errors, warnings } = nagFindings(stack, version);
    expect(errors).toEqual([]);
    expect(warnings).toEqual([]);

    const template = Template.fromStack(stack);
    const acks = acknowledgements(template);
    expect(acks.length).toBeGreaterThan(10);
    for (const ack of acks) expect(ack.reason.length).toBeGreaterThanOrEqual(30);
    // Wildcard findings are acknowledged one by one, never the whole rule.
    for (const ack of acks.filter((a) => a.id === 'AwsSolutions-IAM5')) expect(ack.appliesTo?.length).toBeGreaterThan(0);
  });

  test('an EKS pipeline: no unacknowledged finding', () => {
    const stack = newStack();
    fullPipeline(stack, { deploy: DeployTarget.eks({ cluster: eksCluster(stack), deployment: 'web', container: 'app' }) });
    const { errors, warnings } = nagFindings(stack, version);
    expect(errors).toEqual([]);
    expect(warnings).toEqual([]);
  });

  test('the example app: no unacknowledged finding', () => {
    const stack = new SignedServiceStack(new App(), 'SignedServiceExample', { env: ENV });
    const { errors, warnings } = nagFindings(stack, version);
    expect(errors).toEqual([]);
    expect(warnings).toEqual([]);
  });

  test('a wildcard grant added by the user to a pipeline role is still reported', () => {
    const stack = newStack();
    const pipeline = fullPipeline(stack);
    pipeline.buildProject.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: ['arn:aws:s3:::other-bucket/*'] }));
    const { errors } = nagFindings(stack, version);
    expect(errors.map((e) => e.message)).toEqual([expect.stringContaining('AwsSolutions-IAM5[Resource::arn:aws:s3:::other-bucket/*]')]);
  });
});

describe('cdk-nag v3 registered as a policy validation plugin (Validations.of(app).addPlugins)', () => {
  test('a pipeline with every option synthesizes', () => {
    const stack = newStack();
    fullPipeline(stack);
    expect(() => synthWithNagV3(stack.node.root as App)).not.toThrow();
  });

  test('a wildcard grant added by the user fails the synthesis', () => {
    const stack = newStack();
    fullPipeline(stack).buildProject.addToRolePolicy(new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: ['arn:aws:s3:::other-bucket/*'] }));
    // aws-cdk-lib's validation report names the resource and the finding to acknowledge.
    expect(() => synthWithNagV3(stack.node.root as App)).toThrow(
      /PipelineStack\/Pipeline\/Build\/Role\/DefaultPolicy\/Resource[\s\S]*AwsSolutions-IAM5\[Resource::arn:aws:s3:::other-bucket\/\*\]/,
    );
  });
});

describe('least privilege across the pipeline stack', () => {
  const stack = newStack();
  const pipeline = fullPipeline(stack);
  const template = Template.fromStack(stack);
  const statements = policyStatements(template);

  test('no "*" action and no service-wide wildcard', () => {
    for (const statement of statements) {
      expect(statement.effect).toBe('Allow');
      for (const action of statement.actions) {
        expect(action).not.toBe('*');
        expect(action).not.toMatch(/:\*$/);
      }
    }
    for (const role of Object.values(template.findResources('AWS::IAM::Role'))) expect((role as any).Properties.ManagedPolicyArns).toBeUndefined();
  });

  test('signer:SignPayload only on the signing profiles, to the sign function alone', () => {
    const sign = statements.filter((s) => s.actions.includes('signer:SignPayload'));
    expect(sign.length).toBeGreaterThan(0);
    const profileIds = ['TeamA', 'TeamB', 'Release'].map((id) => stack.getLogicalId(stack.node.findChild(id).node.defaultChild as any));
    for (const statement of sign) {
      expect(statement.policy).toMatch(/^PipelineSignerServiceRole/);
      for (const resource of statement.resources) expect(profileIds.some((id) => JSON.stringify(resource).includes(id))).toBe(true);
    }
  });

  test('ECR write actions only on the pipeline repository, by the build and the sign function', () => {
    const writes = ['ecr:PutImage', 'ecr:InitiateLayerUpload', 'ecr:UploadLayerPart', 'ecr:CompleteLayerUpload'];
    const repository = stack.getLogicalId(pipeline.repository.node.defaultChild as any);
    const writing = statements.filter((s) => s.actions.some((a) => writes.includes(a)));
    expect(new Set(writing.map((s) => s.policy.replace(/DefaultPolicy.*$/, '')))).toEqual(new Set(['PipelineBuildRole', 'PipelineSignerServiceRole']));
    for (const statement of writing) expect(statement.resources).toEqual([{ 'Fn::GetAtt': [repository, 'Arn'] }]);
  });

  test('Resource "*" only for actions without a resource type (ecs:DescribeTaskDefinition on the ECS deploy action\'s role alone)', () => {
    const allowed = new Set([
      'ecr:GetAuthorizationToken', 'codepipeline:PutJobSuccessResult', 'codepipeline:PutJobFailureResult', 'lambda:ListFunctions',
      'ecs:DescribeTaskDefinition',
    ]);
    for (const statement of statements.filter((s) => s.resources.includes('*'))) {
      for (const action of statement.actions) expect(allowed).toContain(action);
      if (statement.actions.some((a) => a.startsWith('ecs:'))) expect(statement.policy).toMatch(/^PipelineEcsDeployRoleDefaultPolicy/);
    }
  });

  test('signer:GetRevocationStatus for the verify function only, on the profile its trust policy trusts (the release profile), never "*"', () => {
    const revocation = statements.filter((s) => s.actions.includes('signer:GetRevocationStatus'));
    expect(revocation.map((s) => s.policy)).toEqual([expect.stringMatching(/^PipelineVerifierServiceRoleDefaultPolicy/)]);
    const release = stack.resolve((stack.node.findChild('Release') as NotationSigningProfile).signingProfileArn);
    expect(revocation[0].resources).toEqual([
      release,
      { 'Fn::Join': ['', [release, '/*']] },
      { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:signer:${ENV.region}:${ENV.account}:/signing-jobs/*`]] },
    ]);
    expect(pipeline.trustPolicy.document.trustPolicies[0].trustedIdentities).toEqual([(stack.node.findChild('Release') as NotationSigningProfile).signingProfileArn]);
  });
});
