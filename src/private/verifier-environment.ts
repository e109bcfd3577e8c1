import { Lazy, Stack } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';
import { withPlaceholders } from './placeholders';
import { AWS_SIGNER_TRUST_STORES } from '../shared/aws-signer';
import { TrustPolicy } from '../trust-policy';

/**
 * The named trust stores the verifying handlers have built in (the AWS Signer roots, under the names AWS's notation
 * installer uses): left out of `TRUST_STORES` to keep the function's environment small.
 */
const BUILT_IN_TRUST_STORES: Readonly<Record<string, string>> = Object.fromEntries(
  Object.values(AWS_SIGNER_TRUST_STORES).map((store) => [`signingAuthority:${store.name}`, store.pem]),
);

/** Lambda refuses environments larger than 4 KB (names and values together). */
const LAMBDA_ENVIRONMENT_LIMIT = 4096;

/** The trust stores of the policy that the handlers do not have built in. */
function storesForHandler(trustPolicy: TrustPolicy): { [store: string]: string } {
  return Object.fromEntries(Object.entries(trustPolicy.trustStores).filter(([store, pem]) => BUILT_IN_TRUST_STORES[store] !== pem));
}

/**
 * `TRUST_POLICY` and `TRUST_STORES` of a verifying handler (`ImageVerifier`, `EcsSignatureEnforcement`), rendered when the
 * template is (statements may still be added).
 */
export function trustPolicyEnvironment(scope: IConstruct, trustPolicy: TrustPolicy): { [key: string]: string } {
  const stack = Stack.of(scope);
  return {
    TRUST_POLICY: Lazy.string({ produce: () => trustPolicy.toJsonString() }),
    TRUST_STORES: Lazy.string({ produce: () => stack.toJsonString(storesForHandler(trustPolicy)) }),
  };
}

/**
 * A validation message when the trust policy, its stores and `other` variables likely exceed Lambda's environment limit
 * (deploy-time values counted as placeholders of typical length); `fewer` says what to use less of.
 */
export function environmentSizeProblems(scope: IConstruct, trustPolicy: TrustPolicy, other: { [key: string]: string }, fewer: string): string[] {
  const stack = Stack.of(scope);
  const variables: Record<string, string> = {
    TRUST_POLICY: JSON.stringify(withPlaceholders(trustPolicy.document, (token) => stack.resolve(token))),
    TRUST_STORES: JSON.stringify(withPlaceholders(storesForHandler(trustPolicy), (token) => stack.resolve(token))),
    ...other,
  };
  const size = Object.entries(variables).reduce((total, [name, value]) => total + name.length + value.length, 0);
  if (size <= LAMBDA_ENVIRONMENT_LIMIT) return [];
  return [
    `The trust policy, trust stores and settings take about ${size} bytes of the function's environment, more than Lambda's ` +
      `${LAMBDA_ENVIRONMENT_LIMIT}-byte limit: use fewer ${fewer}`,
  ];
}
