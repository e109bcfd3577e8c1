import { X509Certificate } from 'node:crypto';
import { CfnParameter, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import { newStack } from './support';
import {
  NotationSigningProfile,
  TimestampVerification,
  TrustPolicy,
  VerificationAction,
  VerificationLevel,
} from '../../src';

const PROFILE_ARN = 'arn:aws:signer:us-east-1:111122223333:/signing-profiles/release_signer';
const AWS_ROOT_SHA256 = '90:A8:7D:05:43:C3:F0:94:DB:FF:95:89:B6:64:9A:FF:E2:F3:D6:E0:F3:08:79:9B:E2:25:84:61:C6:86:47:3F';
const GOV_ROOT_SHA256 = '67:36:53:AB:76:F4:1A:10:54:6C:DE:B4:10:7E:CD:6D:F2:C1:5C:2C:9A:0D:32:ED:97:D2:71:B4:43:6F:C3:E8';
const SCOPE = '111122223333.dkr.ecr.us-east-1.amazonaws.com/app';

function importedProfile(stack: Stack, id = 'Imported', arn = PROFILE_ARN) {
  return NotationSigningProfile.fromSigningProfileAttributes(stack, id, { signingProfileArn: arn, signingProfileVersion: 'v1' });
}

function fingerprints(pem: string): string[] {
  return pem.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g)!.map((c) => new X509Certificate(c).fingerprint256);
}

describe('TrustPolicy document', () => {
  test('an AWS Signer statement: profile ARNs, the partition root store, strict by default', () => {
    const stack = newStack({ env: { account: '111122223333', region: 'us-east-1' } });
    const policy = new TrustPolicy(stack, 'Policy', { signingProfiles: [importedProfile(stack)], registryScopes: [SCOPE] });

    expect(policy.document).toEqual({
      version: '1.0',
      trustPolicies: [
        {
          name: 'aws-signer-tp',
          registryScopes: [SCOPE],
          signatureVerification: { level: 'strict' },
          trustStores: ['signingAuthority:aws-signer-ts'],
          trustedIdentities: [PROFILE_ARN],
        },
      ],
    });
    expect(Object.keys(policy.trustStores)).toEqual(['signingAuthority:aws-signer-ts']);
    expect(fingerprints(policy.trustStores['signingAuthority:aws-signer-ts'])).toEqual([AWS_ROOT_SHA256]);
    // Validation passes: the stack synthesizes.
    Template.fromStack(stack);
  });

  test('GovCloud: the GovCloud root in the store AWS names aws-us-gov-signer-ts', () => {
    const stack = newStack({ env: { region: 'us-gov-west-1' } });
    const policy = new TrustPolicy(stack, 'Policy', {
      signingProfiles: [importedProfile(stack, 'Gov', 'arn:aws-us-gov:signer:us-gov-west-1:111122223333:/signing-profiles/gov_signer')],
      registryScopes: ['*'],
    });
    expect(policy.document.trustPolicies[0].trustStores).toEqual(['signingAuthority:aws-us-gov-signer-ts']);
    expect(fingerprints(policy.trustStores['signingAuthority:aws-us-gov-signer-ts'])).toEqual([GOV_ROOT_SHA256]);
  });

  test('a partition known only at deploy time: both AWS stores, as in the AWS documentation', () => {
    const stack = newStack();
    const policy = new TrustPolicy(stack, 'Policy', { signingProfiles: [importedProfile(stack)], registryScopes: ['*'] });
    expect(policy.document.trustPolicies[0].trustStores).toEqual(['signingAuthority:aws-signer-ts', 'signingAuthority:aws-us-gov-signer-ts']);
    expect(fingerprints(policy.trustStores['signingAuthority:aws-signer-ts'])).toEqual([AWS_ROOT_SHA256]);
    expect(fingerprints(policy.trustStores['signingAuthority:aws-us-gov-signer-ts'])).toEqual([GOV_ROOT_SHA256]);
  });

  test('a custom store name holds the partition root, or both roots when the partition is a token', () => {
    const known = newStack({ env: { region: 'eu-west-1' } });
    const one = new TrustPolicy(known, 'Policy', { signingProfiles: [importedProfile(known)], registryScopes: ['*'], trustStoreName: 'signer_roots' });
    expect(one.document.trustPolicies[0].trustStores).toEqual(['signingAuthority:signer_roots']);
    expect(fingerprints(one.trustStores['signingAuthority:signer_roots'])).toEqual([AWS_ROOT_SHA256]);

    const agnostic = newStack();
    const both = new TrustPolicy(agnostic, 'Policy', { signingProfiles: [importedProfile(agnostic)], registryScopes: ['*'], trustStoreName: 'signer_roots' });
    expect(fingerprints(both.trustStores['signingAuthority:signer_roots'])).toEqual([AWS_ROOT_SHA256, GOV_ROOT_SHA256]);
  });

  test('a partition without an AWS Signer root is refused', () => {
    const stack = newStack({ env: { region: 'cn-north-1' } });
    expect(() => new TrustPolicy(stack, 'Policy', { signingProfiles: [importedProfile(stack)], registryScopes: ['*'] })).toThrow(
      /no AWS Signer root certificate for partition "aws-cn"/,
    );
  });

  test('profiles made in the stack and ECR repositories are tokens resolved by CloudFormation', () => {
    const stack = newStack();
    const profile = new NotationSigningProfile(stack, 'Profile');
    const repository = new ecr.Repository(stack, 'Repo');
    const policy = new TrustPolicy(stack, 'Policy', { signingProfiles: [profile], repositories: [repository], registryScopes: [SCOPE] });
    const resolved = stack.resolve(policy.document);
    expect(resolved.trustPolicies[0].trustedIdentities).toEqual([{ 'Fn::GetAtt': [stack.getLogicalId(profile.node.defaultChild as any), 'Arn'] }]);
    expect(resolved.trustPolicies[0].registryScopes).toEqual([SCOPE, stack.resolve(repository.repositoryUri)]);
    expect(JSON.stringify(stack.resolve(policy.toJsonString()))).toContain('Fn::Join');
    expect(policy.repositories).toEqual([repository]);
    Template.fromStack(stack);
  });

  test('pinVersions trusts profile version ARNs', () => {
    const stack = newStack();
    const profile = new NotationSigningProfile(stack, 'Profile');
    const policy = new TrustPolicy(stack, 'Policy', { signingProfiles: [profile, importedProfile(stack)], registryScopes: ['*'], pinVersions: true });
    expect(stack.resolve(policy.document.trustPolicies[0].trustedIdentities)).toEqual([
      { 'Fn::GetAtt': [stack.getLogicalId(profile.node.defaultChild as any), 'ProfileVersionArn'] },
      `${PROFILE_ARN}/v1`,
    ]);
  });

  test('level, overrides and verifyTimestamp', () => {
    const stack = newStack();
    const policy = new TrustPolicy(stack, 'Policy', {
      signingProfiles: [importedProfile(stack)],
      registryScopes: ['*'],
      level: VerificationLevel.PERMISSIVE,
      overrides: { revocation: VerificationAction.SKIP, expiry: VerificationAction.ENFORCE },
      verifyTimestamp: TimestampVerification.AFTER_CERT_EXPIRY,
    });
    expect(policy.document.trustPolicies[0].signatureVerification).toEqual({
      level: 'permissive',
      override: { expiry: 'enforce', revocation: 'skip' },
      verifyTimestamp: 'afterCertExpiry',
    });
    Template.fromStack(stack);
  });

  test('addStatement: a skip statement has no trust stores nor identities', () => {
    const stack = newStack();
    const policy = new TrustPolicy(stack, 'Policy', { signingProfiles: [importedProfile(stack)], registryScopes: [SCOPE] });
    policy.addStatement({ name: 'unsigned-base-images', registryScopes: ['public.ecr.aws/docker/library/alpine'], level: VerificationLevel.SKIP });
    expect(policy.document.trustPolicies[1]).toEqual({
      name: 'unsigned-base-images',
      registryScopes: ['public.ecr.aws/docker/library/alpine'],
      signatureVerification: { level: 'skip' },
    });
    Template.fromStack(stack);
  });

  test('emitOutput publishes the JSON as a stack output; no output by default', () => {
    const stack = newStack();
    new TrustPolicy(stack, 'Quiet', { signingProfiles: [importedProfile(stack)], registryScopes: [SCOPE] });
    new TrustPolicy(stack, 'Policy', { signingProfiles: [importedProfile(stack, 'Other')], registryScopes: ['*'], emitOutput: true });
    const outputs = Template.fromStack(stack).findOutputs('*');
    expect(Object.keys(outputs)).toHaveLength(1);
    const [output] = Object.values(outputs) as any[];
    expect(JSON.parse(output.Value)).toEqual({
      version: '1.0',
      trustPolicies: [
        {
          name: 'aws-signer-tp',
          registryScopes: ['*'],
          signatureVerification: { level: 'strict' },
          trustStores: ['signingAuthority:aws-signer-ts', 'signingAuthority:aws-us-gov-signer-ts'],
          trustedIdentities: [PROFILE_ARN],
        },
      ],
    });
  });
});

describe('TrustPolicy props errors', () => {
  test('pinVersions with a profile imported from a token ARN: the version ARN given is trusted; none given fails naming pinVersions', () => {
    const stack = newStack();
    const arn = new CfnParameter(stack, 'ProfileArn').valueAsString;
    const versionArn = new CfnParameter(stack, 'ProfileVersionArn').valueAsString;
    const pinned = NotationSigningProfile.fromSigningProfileAttributes(stack, 'Pinned', { signingProfileArn: arn, signingProfileVersionArn: versionArn });
    const policy = new TrustPolicy(stack, 'Policy', { signingProfiles: [pinned], registryScopes: ['*'], pinVersions: true });
    expect(stack.resolve(policy.document)).toEqual(expect.objectContaining({
      trustPolicies: [expect.objectContaining({ trustedIdentities: [{ Ref: 'ProfileVersionArn' }] })],
    }));

    const unversioned = NotationSigningProfile.fromSigningProfileAttributes(stack, 'Unversioned', { signingProfileArn: arn });
    expect(() => new TrustPolicy(stack, 'Other', { signingProfiles: [unversioned], registryScopes: ['*'], pinVersions: true })).toThrow(
      /pinVersions trusts each profile's version ARN, and the imported signing profile .*Unversioned has none: pass signingProfileVersionArn/,
    );
  });

  test('no signing profile', () => {
    expect(() => new TrustPolicy(newStack(), 'Policy', { signingProfiles: [], registryScopes: ['*'] })).toThrow(
      /signingProfiles must name at least one signing profile/,
    );
  });

  test('signing profiles on a skip statement', () => {
    const stack = newStack();
    expect(
      () => new TrustPolicy(stack, 'Policy', { signingProfiles: [importedProfile(stack)], registryScopes: ['*'], level: VerificationLevel.SKIP }),
    ).toThrow(/signingProfiles must be empty when level is VerificationLevel.SKIP/);
  });

  test('no registry scope', () => {
    const stack = newStack();
    expect(() => new TrustPolicy(stack, 'Policy', { signingProfiles: [importedProfile(stack)] })).toThrow(/give registryScopes, repositories or both/);
  });

  test('a bad trust store name', () => {
    const stack = newStack();
    expect(() => new TrustPolicy(stack, 'Policy', { signingProfiles: [importedProfile(stack)], registryScopes: ['*'], trustStoreName: 'a/b' })).toThrow(
      /trustStoreName "a\/b" is invalid/,
    );
  });

  test('a bad policy name', () => {
    const stack = newStack();
    expect(() => new TrustPolicy(stack, 'Policy', { signingProfiles: [importedProfile(stack)], registryScopes: ['*'], policyName: 'Not_Valid' })).toThrow(
      /policyName "Not_Valid" is invalid/,
    );
  });
});

describe('TrustPolicy synth-time validation (the verifier engine rules)', () => {
  test('two statements with the same name fail synth, naming the statement and the field', () => {
    const stack = newStack();
    const policy = new TrustPolicy(stack, 'Policy', { signingProfiles: [importedProfile(stack)], registryScopes: [SCOPE] });
    policy.addStatement({ name: 'aws-signer-tp', signingProfiles: [importedProfile(stack, 'Other')], registryScopes: ['*'] });
    expect(() => Template.fromStack(stack)).toThrow(
      /\[TestStack\/Policy\] Invalid trust policy: trust policy: multiple trust policy statements use the same name "aws-signer-tp" \(trustPolicies\[0\] and trustPolicies\[1\]\)/,
    );
  });

  test('a registry scope with a tag', () => {
    const stack = newStack();
    new TrustPolicy(stack, 'Policy', { signingProfiles: [importedProfile(stack)], registryScopes: [`${SCOPE}:latest`], statementName: 'release' });
    expect(() => Template.fromStack(stack)).toThrow(/trust policy statement "release": registryScopes\[0\]: registry scope ".*app:latest" is not valid/);
  });

  test('an override that skips a check other than revocation', () => {
    const stack = newStack();
    new TrustPolicy(stack, 'Policy', { signingProfiles: [importedProfile(stack)], registryScopes: ['*'], overrides: { expiry: VerificationAction.SKIP } });
    expect(() => Template.fromStack(stack)).toThrow(
      /trust policy statement "aws-signer-tp": signatureVerification\.override\.expiry: "expiry" verification can not be skipped/,
    );
  });

  test('the same scope in two statements', () => {
    const stack = newStack();
    const policy = new TrustPolicy(stack, 'Policy', { signingProfiles: [importedProfile(stack)], registryScopes: [SCOPE] });
    policy.addStatement({ name: 'second', signingProfiles: [importedProfile(stack, 'Other')], registryScopes: [SCOPE] });
    expect(() => Template.fromStack(stack)).toThrow(/trust policy statement "second": registryScopes: registry scope ".*" is present in multiple trust policy statements/);
  });

  test('with deploy-time values: the same ECR repository in two statements is still caught', () => {
    const stack = newStack();
    const repository = new ecr.Repository(stack, 'Repo');
    const policy = new TrustPolicy(stack, 'Policy', { signingProfiles: [new NotationSigningProfile(stack, 'Profile')], repositories: [repository] });
    policy.addStatement({ name: 'again', signingProfiles: [importedProfile(stack)], repositories: [repository] });
    expect(() => Template.fromStack(stack)).toThrow(
      /trust policy statement "again": registryScopes: .*present in multiple trust policy statements.*values known only at deploy time are shown as "placeholder<N>"/,
    );
  });

  test('with deploy-time values: a tag after a repository URI is caught', () => {
    const stack = newStack();
    const repository = new ecr.Repository(stack, 'Repo');
    new TrustPolicy(stack, 'Policy', { signingProfiles: [new NotationSigningProfile(stack, 'Profile')], registryScopes: [`${repository.repositoryUri}:v1`] });
    expect(() => Template.fromStack(stack)).toThrow(/registryScopes\[0\]: registry scope "placeholder.*:v1" is not valid/);
  });

  test('with deploy-time values everywhere a valid policy synthesizes', () => {
    const stack = newStack();
    const repository = ecr.Repository.fromRepositoryName(stack, 'Imported', 'team/app');
    new TrustPolicy(stack, 'Policy', { signingProfiles: [new NotationSigningProfile(stack, 'Profile')], repositories: [repository], pinVersions: true });
    expect(() => Template.fromStack(stack)).not.toThrow();
  });
});
