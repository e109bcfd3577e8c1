import { App, Stack, StackProps } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';

/**
 * A fresh app and stack (environment-agnostic unless `props.env` is given), without aws-cdk-lib's built-in
 * CloudFormation schema validation, which costs several seconds of CPU per test file.
 */
export function newStack(props: StackProps = {}): Stack {
  return new Stack(new App({ builtinCloudFormationValidation: false }), 'TestStack', props);
}

export interface Statement {
  readonly policy: string;
  readonly effect: string;
  readonly actions: string[];
  readonly resources: unknown[];
}

/** Every statement of every `AWS::IAM::Policy` in the template, with the policy's logical id. */
export function policyStatements(template: Template): Statement[] {
  const statements: Statement[] = [];
  for (const [id, policy] of Object.entries(template.findResources('AWS::IAM::Policy'))) {
    for (const statement of (policy as any).Properties.PolicyDocument.Statement as any[]) {
      statements.push({
        policy: id,
        effect: statement.Effect,
        actions: [statement.Action].flat(),
        resources: [statement.Resource].flat(),
      });
    }
  }
  return statements;
}

/** The statements of the default policy of the role whose logical id starts with `rolePrefix`. */
export function roleStatements(template: Template, policyPrefix: string): Statement[] {
  const statements = policyStatements(template).filter((statement) => statement.policy.startsWith(policyPrefix));
  if (statements.length === 0) throw new Error(`no policy statements for ${policyPrefix}`);
  return statements;
}

/** The actions granted on `resource` (compared as JSON) by the given statements. */
export function actionsOn(statements: Statement[], resource: unknown): string[] {
  const key = JSON.stringify(resource);
  return statements.filter((s) => s.resources.some((r) => JSON.stringify(r) === key)).flatMap((s) => s.actions).sort();
}

/** The resources the given action is granted on. */
export function resourcesOf(statements: Statement[], action: string): unknown[] {
  return statements.filter((s) => s.actions.includes(action)).flatMap((s) => s.resources);
}

/**
 * The `signer:GetRevocationStatus` resources of the signatures of a profile made in an environment-agnostic stack, as the
 * template holds them: the profile, its versions (or the one pinned version) and the signing jobs of the stack's account
 * and region (Service Authorization Reference, AWS Signer: `signing-profile` and `signing-job`, both required).
 */
export function revocationResourcesOfStackProfile(
  stack: Stack,
  profile: { signingProfileArn: string; signingProfileVersionArn: string },
  pinned = false,
): unknown[] {
  const arn = stack.resolve(profile.signingProfileArn);
  return [
    arn,
    pinned ? stack.resolve(profile.signingProfileVersionArn) : { 'Fn::Join': ['', [arn, '/*']] },
    { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':signer:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':/signing-jobs/*']] },
  ];
}

/** Actions whose API has no resource type: the only ones allowed on `Resource: "*"`. */
export const UNSCOPED_ACTIONS = [
  'ecr:GetAuthorizationToken',
  'codepipeline:PutJobSuccessResult',
  'codepipeline:PutJobFailureResult',
];

/**
 * The least-privilege rules every template of the library keeps: no `*` action, no service-wide wildcard
 * (`signer:*`, `ecr:*`, ...), no wildcard inside an action, and `Resource: "*"` only for actions without a
 * resource type (plus `extraUnscoped`, for statements the test adds itself).
 */
export function expectLeastPrivilege(template: Template, extraUnscoped: string[] = []): void {
  expectLeastPrivilegeStatements(policyStatements(template), extraUnscoped);
  for (const role of Object.values(template.findResources('AWS::IAM::Role'))) {
    expect((role as any).Properties.ManagedPolicyArns).toBeUndefined();
  }
}

/** The least-privilege rules of `expectLeastPrivilege`, on the given statements only. */
export function expectLeastPrivilegeStatements(statements: Statement[], extraUnscoped: string[] = []): void {
  expect(statements.length).toBeGreaterThan(0);
  for (const statement of statements) {
    expect(statement.effect).toBe('Allow');
    for (const action of statement.actions) {
      expect(action).not.toBe('*');
      expect(action).not.toContain('*');
    }
    if (statement.resources.includes('*')) {
      for (const action of statement.actions) expect([...UNSCOPED_ACTIONS, ...extraUnscoped]).toContain(action);
    }
  }
}

/** The cdk-nag v2 suppressions written to a resource's metadata. */
export function nagSuppressions(resource: any): { id: string; reason: string; applies_to?: string[] }[] {
  return resource?.Metadata?.cdk_nag?.rules_to_suppress ?? [];
}

/**
 * Asserts that `grantInvoke` (called on a new role) allows invoking `fn` and its `$LATEST` version and nothing more:
 * no `<arn>:*` wildcard, which cdk-nag would report on the caller's policy.
 */
export function expectInvokeOfFunctionAndLatestOnly(stack: Stack, fn: lambda.IFunction, grantInvoke: (grantee: iam.IGrantable) => void): void {
  const caller = new iam.Role(stack, 'Caller', { assumedBy: new iam.AccountRootPrincipal() });
  grantInvoke(caller);
  const statements = roleStatements(Template.fromStack(stack), 'CallerDefaultPolicy');
  expect(new Set(statements.flatMap((s) => s.actions))).toEqual(new Set(['lambda:InvokeFunction']));
  const arn = stack.resolve(fn.functionArn);
  expect(statements.flatMap((s) => s.resources)).toEqual([{ 'Fn::Join': ['', [arn, ':$LATEST']] }, arn]);
}
