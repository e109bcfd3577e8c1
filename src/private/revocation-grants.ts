import { ArnFormat, CfnResource, Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { principalPolicies } from './grants';
import { acknowledgeWildcardGrants } from './wildcard-grants';
import type { INotationSigningProfile } from '../signing-profile';

const ACTION = 'signer:GetRevocationStatus';

/**
 * The resources `signer:GetRevocationStatus` needs for the signatures of one profile. The Service Authorization
 * Reference (AWS Signer) lists two required resource types for it, `signing-profile`
 * (`arn:<partition>:signer:<region>:<account>:/signing-profiles/<name>`) and `signing-job`
 * (`.../signing-jobs/<id>`), and the AWS Signer notation plugin passes the signature's profile version ARN and job ARN
 * (aws/aws-signer-notation-plugin, internal/verifier/verifier.go). So: the profile ARN with its versions (`<arn>/*`,
 * or the pinned version ARN), and the signing jobs of the profile's account and region, which belong to the profile
 * owner (`jobOwner`) and whose IDs exist only once an image is signed.
 */
export function revocationResources(profile: INotationSigningProfile, pinnedVersion: boolean): string[] {
  const arn = profile.signingProfileArn;
  const jobs = Stack.of(profile).formatArn({
    partition: Token.isUnresolved(arn) ? undefined : arn.split(':')[1],
    service: 'signer',
    account: profile.env.account,
    region: profile.env.region,
    resource: '',
    resourceName: 'signing-jobs/*',
    arnFormat: ArnFormat.SLASH_RESOURCE_NAME,
  });
  return [arn, pinnedVersion ? profile.signingProfileVersionArn : `${arn}/*`, jobs];
}

/**
 * Grants `signer:GetRevocationStatus` on `resources` (from `revocationResources`) and acknowledges the cdk-nag
 * AwsSolutions-IAM5 findings of exactly those resources' wildcards on the grantee's policy.
 */
export function grantRevocationStatus(grantee: iam.IGrantable, resources: string[]): iam.Grant {
  const grant = iam.Grant.addToPrincipal({ grantee, actions: [ACTION], resourceArns: resources });
  for (const policy of principalPolicies(grantee.grantPrincipal)) acknowledgeRevocationWildcards(policy, resources);
  return grant;
}

const REASON =
  'signer:GetRevocationStatus needs a signing-profile and a signing-job resource (Service Authorization Reference, AWS Signer): ' +
  'the trusted signing profiles with their versions (<profile>/*, the version is the one in the signature) and the signing jobs of ' +
  'each profile\'s account and region (/signing-jobs/*), whose IDs exist only once an image is signed.';

const grantedByPolicy = new WeakMap<CfnResource, unknown[]>();

function acknowledgeRevocationWildcards(policy: CfnResource, resources: string[]): void {
  let granted = grantedByPolicy.get(policy);
  if (!granted) {
    const known: unknown[] = [];
    granted = known;
    grantedByPolicy.set(policy, known);
    acknowledgeWildcardGrants(policy, [{
      reason: REASON,
      matches: (statement, flatten) => statement.actions.every((action) => action === ACTION) &&
        statement.resources.every((resource) => !resource.includes('*') || known.some((value) => flatten(value) === resource)),
    }]);
  }
  granted.push(...resources);
}

/**
 * The `signer:GetRevocationStatus` resources for an AWS Signer profile ARN (with its versions) or profile version ARN
 * that an imported trust policy trusts: the profile, its versions or that version, and the signing jobs of its
 * account and region.
 */
export function profileRevocationResources(identity: string): string[] {
  const [, partition, region, account, name, version] = /^arn:([a-z-]+):signer:([a-z0-9-]+):(\d{12}):\/signing-profiles\/([^/]+)(\/[^/]+)?$/i.exec(identity)!;
  const profileArn = `arn:${partition}:signer:${region}:${account}:/signing-profiles/${name}`;
  return [profileArn, version ? identity : `${profileArn}/*`, `arn:${partition}:signer:${region}:${account}:/signing-jobs/*`];
}

/**
 * The `signer:GetRevocationStatus` resources for an identity that is no profile ARN (`x509.subject:...`) trusted
 * under a partition's AWS Signer root: it may be the certificate of any profile, so every profile and job there.
 */
export function partitionRevocationResources(partition: string): string[] {
  return [`arn:${partition}:signer:*:*:/signing-profiles/*`, `arn:${partition}:signer:*:*:/signing-jobs/*`];
}
