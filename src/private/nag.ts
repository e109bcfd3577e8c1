import { CfnResource } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';
import { validationError } from './errors';

/**
 * A justified acknowledgement of a cdk-nag finding on one resource.
 *
 * `appliesTo` narrows a granular rule (such as AwsSolutions-IAM5) to the exact findings, e.g. `Resource::*`.
 */
export interface NagAcknowledgement {
  /** The rule, e.g. `AwsSolutions-IAM5`. */
  readonly id: string;
  /** Why the finding is acceptable here: at least 10 characters, for the people who audit the template. */
  readonly reason: string;
  /** The findings of a granular rule this acknowledgement covers (all of the rule's findings when absent). */
  readonly appliesTo?: string[];
}

/** cdk-nag v2 stores suppressions in this CloudFormation metadata key of the resource. */
const NAG_V2_METADATA_KEY = 'cdk_nag';
/** cdk-nag v3 (and aws-cdk-lib `Validations.acknowledge`) read this construct metadata key. */
const NAG_V3_METADATA_KEY = 'aws:cdk:acknowledged-rules';

interface NagV2Rule {
  readonly id: string;
  readonly reason: string;
  readonly applies_to?: string[];
  readonly is_reason_encoded?: boolean;
}

/**
 * Acknowledges cdk-nag findings on the exact CloudFormation resource `construct` is (or whose default child it is),
 * for both cdk-nag major versions, without a runtime dependency on cdk-nag:
 *
 * - v2: `cdk_nag.rules_to_suppress` entries (`id`, `reason`, `applies_to`) in the resource's CloudFormation metadata,
 *   merged with the entries already there;
 * - v3: construct metadata `aws:cdk:acknowledged-rules` mapping each finding id (`<rule>[<finding>]`, or the rule id
 *   when the acknowledgement is not granular) to its reason.
 */
export function acknowledge(construct: IConstruct, acknowledgements: NagAcknowledgement[]): void {
  const resource = cfnResourceOf(construct);
  for (const acknowledgement of acknowledgements) {
    if (acknowledgement.reason.trim().length < 10) {
      throw validationError('NagReasonTooShort', `cdk-nag acknowledgement of ${acknowledgement.id} on ${resource.node.path} needs a reason of at least 10 characters`, construct);
    }
  }

  const existing = (resource.getMetadata(NAG_V2_METADATA_KEY) as { rules_to_suppress?: NagV2Rule[] } | undefined)?.rules_to_suppress ?? [];
  // One entry per rule and findings: a later acknowledgement of the same findings replaces the earlier reason.
  const rules = new Map<string, NagV2Rule>();
  for (const rule of [...existing, ...acknowledgements.map(toV2Rule)]) rules.set(JSON.stringify([rule.id, rule.applies_to ?? []]), rule);
  resource.addMetadata(NAG_V2_METADATA_KEY, { rules_to_suppress: [...rules.values()] });

  const v3: Record<string, string> = {};
  for (const acknowledgement of acknowledgements) {
    const findings = acknowledgement.appliesTo ?? [];
    if (findings.length === 0) v3[acknowledgement.id] = acknowledgement.reason;
    for (const finding of findings) v3[`${acknowledgement.id}[${finding}]`] = acknowledgement.reason;
  }
  resource.node.addMetadata(NAG_V3_METADATA_KEY, v3);
}

function toV2Rule(acknowledgement: NagAcknowledgement): NagV2Rule {
  const latin1 = [...acknowledgement.reason].every((c) => (c.codePointAt(0) ?? 0) <= 255);
  return {
    // cdk-nag v2 base64-encodes reasons outside Latin-1 and marks them so.
    reason: latin1 ? acknowledgement.reason : Buffer.from(acknowledgement.reason).toString('base64'),
    id: acknowledgement.id,
    ...(acknowledgement.appliesTo && acknowledgement.appliesTo.length > 0 ? { applies_to: [...acknowledgement.appliesTo] } : {}),
    ...(latin1 ? {} : { is_reason_encoded: true }),
  };
}

/** The CfnResource itself, or the default child of an L2. */
function cfnResourceOf(construct: IConstruct): CfnResource {
  if (CfnResource.isCfnResource(construct)) return construct;
  const child = construct.node.defaultChild;
  if (child && CfnResource.isCfnResource(child)) return child;
  throw validationError('NagResourceMissing', `cdk-nag acknowledgements need a CloudFormation resource: ${construct.node.path} is not one and has no default child resource`, construct);
}
