import { CfnResource, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';

/** Lambda refuses a function whose environment variables take more than 4 KB, names and values together. */
export const LAMBDA_ENVIRONMENT_LIMIT = 4096;

/**
 * Lengths of what CloudFormation substitutes for an intrinsic at deploy time: the longest a value of its kind takes
 * where AWS documents a maximum (a signing profile name is at most 64 characters, an account 12 digits), else a
 * typical resource name or ARN. Used to tell at synth time whether the environment will fit.
 */
const PSEUDO_PARAMETER_LENGTHS: Readonly<Record<string, number>> = {
  'AWS::AccountId': 12,
  'AWS::Region': 14,
  'AWS::Partition': 10,
  'AWS::URLSuffix': 16,
  'AWS::StackName': 128,
};
/** `arn:<partition>:signer:<region>:<account>:/signing-profiles/<name of up to 64>` and `/<version of 10>`. */
const SIGNING_PROFILE_ARN_LENGTH = 'arn:aws-us-gov:signer:ap-southeast-2:123456789012:/signing-profiles/'.length + 64;
/** The fields of an ARN split on ":" (partition, service, region, account) and their longest values. */
const ARN_FIELD_LENGTHS: Readonly<Record<number, number>> = { 0: 3, 1: 10, 2: 20, 3: 14, 4: 12 };
/** A generated resource name (a repository's, a cluster's) and any other value, such as an ARN. */
const NAME_LENGTH = 64;
const OTHER_VALUE_LENGTH = 100;

/**
 * The size of a function's environment once CloudFormation has substituted every deploy-time value (each estimated
 * as above), as Lambda counts it against its 4 KB limit.
 */
export function estimatedEnvironmentSize(fn: lambda.Function): number {
  const cfn = fn.node.defaultChild as lambda.CfnFunction;
  const stack = Stack.of(fn);
  const variables = (stack.resolve(cfn.environment) as { variables?: Record<string, unknown> } | undefined)?.variables ?? {};
  const types = new Map<string, string>();
  for (const resource of stack.node.findAll().filter(CfnResource.isCfnResource)) {
    types.set(stack.resolve(resource.logicalId), resource.cfnResourceType);
  }
  const length = (value: unknown): number => estimatedLength(value, (logicalId) => types.get(logicalId), length);
  return Object.entries(variables).reduce((total, [name, value]) => total + name.length + length(value), 0);
}

function estimatedLength(value: unknown, typeOf: (logicalId: string) => string | undefined, length: (value: unknown) => number): number {
  if (typeof value === 'string') return value.length;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value).length;
  if (typeof value !== 'object' || value === null) return 0;
  const intrinsic = value as Record<string, any>;
  if ('Fn::Join' in intrinsic) {
    const [separator, parts] = intrinsic['Fn::Join'] as [string, unknown[]];
    return parts.reduce<number>((total, part) => total + length(part), 0) + separator.length * Math.max(parts.length - 1, 0);
  }
  if ('Ref' in intrinsic) {
    if (typeOf(intrinsic.Ref) === 'AWS::Signer::SigningProfile') return SIGNING_PROFILE_ARN_LENGTH;
    return PSEUDO_PARAMETER_LENGTHS[intrinsic.Ref] ?? NAME_LENGTH;
  }
  if ('Fn::GetAtt' in intrinsic) {
    const [logicalId, attribute] = intrinsic['Fn::GetAtt'] as [string, string];
    if (typeOf(logicalId) === 'AWS::Signer::SigningProfile') return attribute === 'ProfileVersionArn' ? SIGNING_PROFILE_ARN_LENGTH + 11 : attribute === 'ProfileName' ? 64 : SIGNING_PROFILE_ARN_LENGTH;
    return OTHER_VALUE_LENGTH;
  }
  if ('Fn::Select' in intrinsic) {
    const [index, list] = intrinsic['Fn::Select'] as [number, any];
    if (list && typeof list === 'object' && 'Fn::Split' in list && list['Fn::Split'][0] === ':') return ARN_FIELD_LENGTHS[index] ?? OTHER_VALUE_LENGTH;
    return OTHER_VALUE_LENGTH;
  }
  return OTHER_VALUE_LENGTH;
}

/**
 * A validation message when the function's environment will not fit Lambda's limit, naming what the construct should
 * be given less of (`fewer`).
 */
export function environmentSizeProblems(fn: lambda.Function, owner: string, fewer: string): string[] {
  const size = estimatedEnvironmentSize(fn);
  if (size <= LAMBDA_ENVIRONMENT_LIMIT) return [];
  return [
    `${owner}: the function's environment variables take about ${size} bytes once deployed, more than Lambda's ` +
      `${LAMBDA_ENVIRONMENT_LIMIT}-byte (4 KB) limit: use fewer ${fewer}`,
  ];
}
