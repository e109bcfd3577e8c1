import { Lazy, Stack } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';
import { AWS_SIGNER_TRUST_STORE_CERTIFICATES } from '../shared/aws-signer';
import { TrustPolicy } from '../trust-policy';

/**
 * The trust stores of the policy that the handlers do not have built in (the AWS Signer roots, under the names AWS's
 * notation installer uses): those are left out of `TRUST_STORES` to keep the function's environment small.
 */
function storesForHandler(trustPolicy: TrustPolicy): { [store: string]: string } {
  return Object.fromEntries(Object.entries(trustPolicy.trustStores).filter(([store, pem]) => AWS_SIGNER_TRUST_STORE_CERTIFICATES[store] !== pem));
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
