import { Annotations, Aspects, CfnResource, IAspect, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { IConstruct } from 'constructs';
import { assumptionError } from './errors';
import { acknowledge } from './nag';

/**
 * Actions whose AWS API has no resource type, so IAM accepts them only on `Resource: "*"`:
 * the action, and why `*` is the narrowest resource possible.
 */
export const UNSCOPED_ACTIONS: Readonly<Record<string, string>> = {
  'ecr:GetAuthorizationToken': 'ecr:GetAuthorizationToken returns a registry login token and has no resource type',
  'codepipeline:PutJobSuccessResult': 'codepipeline:PutJobSuccessResult has no resource type (CodePipeline requires "*")',
  'codepipeline:PutJobFailureResult': 'codepipeline:PutJobFailureResult has no resource type (CodePipeline requires "*")',
  'codepipeline:GetJobDetails':
    'codepipeline:GetJobDetails has no resource type (Service Authorization Reference, AWS CodePipeline); it reads the pipeline of the job ' +
    'the function runs, for the provenance\'s builder',
};

const VPC_REASON =
  'Lambda creates, uses and deletes a function\'s network interfaces in its VPC with the function\'s role, on "*" as ' +
  'AWSLambdaVPCAccessExecutionRole grants them (the interfaces exist only once Lambda creates them)';

/** What Lambda needs of the role of a function in a VPC (the actions of AWSLambdaVPCAccessExecutionRole). */
export const VPC_NETWORK_INTERFACE_ACTIONS = [
  'ec2:CreateNetworkInterface',
  'ec2:DescribeNetworkInterfaces',
  'ec2:DescribeSubnets',
  'ec2:DeleteNetworkInterface',
  'ec2:AssignPrivateIpAddresses',
  'ec2:UnassignPrivateIpAddresses',
];

/**
 * Actions that have resource types but are granted on `Resource: "*"` where the grant names none: the action, and why
 * the stack cannot name its resources.
 */
const UNNAMED_RESOURCE_ACTIONS: Readonly<Record<string, string>> = {
  'signer:GetRevocationStatus':
    'signer:GetRevocationStatus for signatures of any AWS Signer profile: the grant names no signing profile ' +
    '(SignerRevocationStatus.grantRead without signingProfiles, for a verifier whose trusted identities the stack does not know, ' +
    'such as a trust policy trusting "*" or x509 subjects); naming the profiles scopes it to them and their signing jobs',
  ...Object.fromEntries(VPC_NETWORK_INTERFACE_ACTIONS.map((action) => [action, `${action}: ${VPC_REASON}`])),
};

/** Why an action is granted on `*`. */
function unscopedReason(action: string): string | undefined {
  return UNSCOPED_ACTIONS[action] ?? UNNAMED_RESOURCE_ACTIONS[action];
}

/**
 * Grants actions that have no resource type (or whose resources the grant cannot name) on `Resource: "*"` and acknowledges `AwsSolutions-IAM5[Resource::*]`
 * on the IAM policy resources of the principal with the reason of each action. A synth-time check then warns when
 * that policy also holds other actions on `*`, which the acknowledgement would otherwise hide.
 */
export function grantUnscoped(grantee: iam.IGrantable, actions: string[]): iam.Grant {
  for (const action of actions) {
    if (unscopedReason(action) === undefined) throw assumptionError('UnscopedActionUnknown', `internal: ${action} is not an action without a resource type`);
  }
  const grant = iam.Grant.addToPrincipal({ grantee, actions, resourceArns: ['*'] });
  for (const policy of principalPolicies(grantee.grantPrincipal)) acknowledgeUnscoped(policy, actions);
  return grant;
}

/** Acknowledges `AwsSolutions-IAM5[Resource::*]` on one IAM policy resource for `actions`, guarding other `*` statements. */
export function acknowledgeUnscoped(policy: CfnResource, actions: string[]): void {
  const allowed = allowedUnscopedActions(policy);
  for (const action of actions) allowed.add(action);
  const unnamed = [...allowed].some((action) => action in UNNAMED_RESOURCE_ACTIONS);
  acknowledge(policy, [
    {
      id: 'AwsSolutions-IAM5',
      reason: `Resource "*" only for actions without a resource type${unnamed ? ' or whose resources the grant does not name' : ''}: ` +
        [...allowed].sort().map((action) => unscopedReason(action)).join('; '),
      appliesTo: ['Resource::*'],
    },
  ]);
}

const allowedByPolicy = new WeakMap<CfnResource, Set<string>>();

function allowedUnscopedActions(policy: CfnResource): Set<string> {
  let allowed = allowedByPolicy.get(policy);
  if (!allowed) {
    allowed = new Set();
    allowedByPolicy.set(policy, allowed);
    Aspects.of(policy).add(new UnscopedStatementGuard(policy, allowed));
  }
  return allowed;
}

/** Warns at synth time about `Resource: "*"` statements with actions the acknowledgement on the policy does not justify. */
class UnscopedStatementGuard implements IAspect {
  constructor(private readonly policy: CfnResource, private readonly allowed: Set<string>) {}

  public visit(node: IConstruct): void {
    if (node !== this.policy) return;
    const document = Stack.of(node).resolve((node as iam.CfnPolicy).policyDocument) as { Statement?: unknown[] } | undefined;
    const others = new Set<string>();
    for (const statement of document?.Statement ?? []) {
      const { Effect, Action, Resource } = statement as { Effect?: string; Action?: string | string[]; Resource?: unknown };
      const resources = Array.isArray(Resource) ? Resource : [Resource];
      if (Effect !== 'Allow' || !resources.includes('*')) continue;
      for (const action of Array.isArray(Action) ? Action : [Action]) {
        if (typeof action === 'string' && !this.allowed.has(action)) others.add(action);
      }
    }
    if (others.size > 0) {
      Annotations.of(node).addWarningV2(
        'cdk-signed-image-pipeline:unacknowledgedWildcard',
        `This policy grants ${[...others].sort().join(', ')} on "*". Its cdk-nag AwsSolutions-IAM5[Resource::*] acknowledgement ` +
          `covers only ${[...this.allowed].sort().join(', ')}: scope the other actions to their resources.`,
      );
    }
  }
}

/** The `AWS::IAM::Policy` resources attached to a principal's construct (a role's `DefaultPolicy`, an imported role's `Policy`). */
export function principalPolicies(principal: iam.IPrincipal): CfnResource[] {
  const construct = principal as Partial<IConstruct>;
  if (!construct.node || typeof construct.node.path !== 'string') return [];
  const policies: CfnResource[] = [];
  for (const child of construct.node.children) {
    const resource = CfnResource.isCfnResource(child) ? child : child.node.defaultChild;
    if (resource && CfnResource.isCfnResource(resource) && resource.cfnResourceType === 'AWS::IAM::Policy') policies.push(resource);
  }
  return policies;
}
