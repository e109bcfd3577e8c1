import { AspectPriority, Aspects, IAspect, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { IConstruct } from 'constructs';
import { acknowledge } from './nag';

/** An IAM statement as CloudFormation will see it, with resources flattened the way cdk-nag names its findings. */
export interface ResolvedStatement {
  readonly actions: string[];
  /** e.g. `<ArtifactsBucket1234.Arn>/*`, `arn:<AWS::Partition>:ecs:…:task/<Cluster>/*`. */
  readonly resources: string[];
}

/** A kind of wildcard grant that is acceptable, with the reason auditors read. */
export interface WildcardGrant {
  readonly reason: string;
  /** Whether a statement is one of these grants. `flatten` turns a token (e.g. a bucket ARN) into its flat form. */
  readonly matches: (statement: ResolvedStatement, flatten: (value: unknown) => string) => boolean;
}

/**
 * Acknowledges cdk-nag's AwsSolutions-IAM5 findings on the IAM policies below `scope` whose wildcards come from
 * statements that match one of `grants`, naming each finding exactly (`Action::s3:GetObject*`,
 * `Resource::<Artifacts.Arn>/*`). It runs as a mutating aspect, so before cdk-nag, on the template as it is
 * synthesized, including statements that aws-cdk-lib adds when actions are bound. A finding that also comes from a
 * statement no grant matches stays unacknowledged.
 */
export function acknowledgeWildcardGrants(scope: IConstruct, grants: WildcardGrant[]): void {
  Aspects.of(scope).add(new WildcardGrantAcknowledger(grants), { priority: AspectPriority.MUTATING });
}

class WildcardGrantAcknowledger implements IAspect {
  constructor(private readonly grants: WildcardGrant[]) {}

  public visit(node: IConstruct): void {
    if (!(node instanceof iam.CfnPolicy)) return;
    const stack = Stack.of(node);
    const flatten = (value: unknown) => flattenReference(stack.resolve(value));
    const document = stack.resolve(node.policyDocument) as { Statement?: any[] };
    const acknowledged = new Map<string, Set<string>>();
    const unmatched = new Set<string>();
    for (const raw of document.Statement ?? []) {
      if (raw.Effect !== 'Allow') continue;
      const statement = { actions: [raw.Action].flat() as string[], resources: [raw.Resource].flat().map(flattenReference) };
      const findings = [
        ...statement.actions.filter((action) => action.includes('*')).map((action) => `Action::${action}`),
        ...statement.resources.filter((resource) => resource.includes('*')).map((resource) => `Resource::${resource}`),
      ];
      if (findings.length === 0) continue;
      const grant = this.grants.find((candidate) => candidate.matches(statement, flatten));
      const target = grant ? acknowledged.get(grant.reason) ?? new Set<string>() : unmatched;
      for (const finding of findings) target.add(finding);
      if (grant) acknowledged.set(grant.reason, target);
    }
    const acknowledgements = [...acknowledged].map(([reason, findings]) => ({
      id: 'AwsSolutions-IAM5',
      reason,
      appliesTo: [...findings].filter((finding) => !unmatched.has(finding)).sort(),
    })).filter((acknowledgement) => acknowledgement.appliesTo.length > 0);
    if (acknowledgements.length > 0) acknowledge(node, acknowledgements);
  }
}

/** cdk-nag's flat form of a CloudFormation value: `<Logical.Attr>` for GetAtt, `<Logical>` for Ref, joins concatenated. */
export function flattenReference(value: unknown): string {
  if (value === undefined) return '';
  if (typeof value === 'string') return value.replace(/\$\{/g, '<').replace(/}/g, '>');
  const node = value as Record<string, any>;
  if (node['Fn::Join']) {
    const [delimiter, items] = node['Fn::Join'];
    return (items as unknown[]).map(flattenReference).join(delimiter);
  }
  if (node['Fn::Sub']) return flattenReference(node['Fn::Sub']);
  if (node['Fn::GetAtt']) {
    const [resource, attribute] = node['Fn::GetAtt'];
    return `<${flattenReference(resource)}.${flattenReference(attribute)}>`;
  }
  if (node['Fn::ImportValue']) return flattenReference(node['Fn::ImportValue']);
  if (node.Ref) return `<${flattenReference(node.Ref)}>`;
  return JSON.stringify(value);
}
