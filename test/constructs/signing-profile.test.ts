import { Duration, RemovalPolicy, Tags, Token } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { actionsOn, nagSuppressions, newStack, policyStatements, resourcesOf, revocationResourcesOfStackProfile } from './support';
import { NotationSigningProfile, SignerRevocationStatus } from '../../src';

const PROFILE_ARN = 'arn:aws:signer:eu-west-1:111122223333:/signing-profiles/release_signer';

describe('NotationSigningProfile', () => {
  test('defaults: Notation platform, a name CloudFormation generates (no fixed name to collide after a destroy or a replacement), 135 months validity, retained', () => {
    const stack = newStack();
    const profile = new NotationSigningProfile(stack, 'Profile');
    const template = Template.fromStack(stack);

    template.resourceCountIs('AWS::Signer::SigningProfile', 1);
    const [[logicalId, resource]] = Object.entries(template.findResources('AWS::Signer::SigningProfile')) as [string, any][];
    expect(resource).toMatchObject({
      Properties: { PlatformId: 'Notation-OCI-SHA384-ECDSA', SignatureValidityPeriod: { Type: 'MONTHS', Value: 135 } },
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
    });
    expect(resource.Properties.ProfileName).toBeUndefined();
    expect(stack.resolve(profile.signingProfileName)).toEqual({ 'Fn::GetAtt': [logicalId, 'ProfileName'] });
    expect(NotationSigningProfile.PLATFORM_ID).toBe('Notation-OCI-SHA384-ECDSA');
  });

  test('an explicit profile name is used', () => {
    const stack = newStack();
    const profile = new NotationSigningProfile(stack, 'Profile', { signingProfileName: 'release_signer' });
    Template.fromStack(stack).hasResourceProperties('AWS::Signer::SigningProfile', { ProfileName: 'release_signer' });
    expect(profile.signingProfileName).toBe('release_signer');
  });

  test.each(['a', 'has-dash', 'has space', 'x'.repeat(65)])('invalid profile name %p throws naming the prop', (name) => {
    expect(() => new NotationSigningProfile(newStack(), 'Profile', { signingProfileName: name })).toThrow(
      /signingProfileName: signing profile name .* is invalid/,
    );
  });

  test('a token profile name is passed through unchecked', () => {
    const stack = newStack();
    const name = Token.asString({ Ref: 'NameParameter' });
    new NotationSigningProfile(stack, 'Profile', { signingProfileName: name });
    Template.fromStack(stack).hasResourceProperties('AWS::Signer::SigningProfile', { ProfileName: { Ref: 'NameParameter' } });
  });

  test.each([
    [Duration.days(30), 30],
    [Duration.hours(48), 2],
    [Duration.days(4108), 4108],
  ])('signature validity %s becomes %p DAYS', (validity, days) => {
    const stack = newStack();
    new NotationSigningProfile(stack, 'Profile', { signatureValidity: validity });
    Template.fromStack(stack).hasResourceProperties('AWS::Signer::SigningProfile', {
      SignatureValidityPeriod: { Type: 'DAYS', Value: days },
    });
  });

  test.each([
    [Duration.hours(36), /signatureValidity: 1 day 12 hours is not a whole number of days/],
    [Duration.days(0), /signatureValidity: .* is shorter than 1 day/],
    [Duration.days(4109), /signatureValidity: 4109 days is longer than 135 months/],
  ])('signature validity %s is refused', (validity, message) => {
    expect(() => new NotationSigningProfile(newStack(), 'Profile', { signatureValidity: validity })).toThrow(message);
  });

  test('removal policy and tags', () => {
    const stack = newStack();
    const profile = new NotationSigningProfile(stack, 'Profile', { removalPolicy: RemovalPolicy.DESTROY, tags: { team: 'platform' } });
    Tags.of(profile).add('cost-center', '42');
    const template = Template.fromStack(stack);
    template.hasResource('AWS::Signer::SigningProfile', { DeletionPolicy: 'Delete' });
    template.hasResourceProperties('AWS::Signer::SigningProfile', {
      Tags: Match.arrayWith([{ Key: 'cost-center', Value: '42' }, { Key: 'team', Value: 'platform' }]),
    });
  });

  test('attributes come from the resource; the owner is the stack account', () => {
    const stack = newStack();
    const profile = new NotationSigningProfile(stack, 'Profile');
    const id = stack.getLogicalId(profile.node.defaultChild as any);
    expect(stack.resolve(profile.signingProfileArn)).toEqual({ 'Fn::GetAtt': [id, 'Arn'] });
    expect(stack.resolve(profile.signingProfileVersionArn)).toEqual({ 'Fn::GetAtt': [id, 'ProfileVersionArn'] });
    expect(stack.resolve(profile.signingProfileVersion)).toEqual({ 'Fn::GetAtt': [id, 'ProfileVersion'] });
    expect(stack.resolve(profile.signingProfileOwner)).toEqual({ Ref: 'AWS::AccountId' });
  });

  test('grantSign: SignPayload and GetSigningProfile on this profile only', () => {
    const stack = newStack();
    const profile = new NotationSigningProfile(stack, 'Profile');
    const other = new NotationSigningProfile(stack, 'Other');
    const role = new iam.Role(stack, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    const grant = profile.grantSign(role);
    expect(grant.success).toBe(true);

    const statements = policyStatements(Template.fromStack(stack));
    const arn = stack.resolve(profile.signingProfileArn);
    expect(actionsOn(statements, arn)).toEqual(['signer:GetSigningProfile', 'signer:SignPayload']);
    expect(resourcesOf(statements, 'signer:SignPayload')).toEqual([arn]);
    expect(actionsOn(statements, stack.resolve(other.signingProfileArn))).toEqual([]);
  });

  test('SignerRevocationStatus.grantRead without profiles: GetRevocationStatus on "*", acknowledged on that policy with the reason', () => {
    const stack = newStack();
    const role = new iam.Role(stack, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    SignerRevocationStatus.grantRead(role);
    const template = Template.fromStack(stack);

    expect(policyStatements(template)).toEqual([
      expect.objectContaining({ actions: ['signer:GetRevocationStatus'], resources: ['*'] }),
    ]);
    const [policy] = Object.values(template.findResources('AWS::IAM::Policy'));
    expect(nagSuppressions(policy)).toEqual([{
      id: 'AwsSolutions-IAM5',
      reason: expect.stringMatching(/^Resource "\*" only for actions without a resource type or whose resources the grant does not name: signer:GetRevocationStatus for signatures of any AWS Signer profile: the grant names no signing profile/),
      applies_to: ['Resource::*'],
    }]);
  });

  test('SignerRevocationStatus.grantRead with profiles: each profile, its versions and the signing jobs of its account and region', () => {
    const stack = newStack();
    const profile = new NotationSigningProfile(stack, 'Profile');
    const imported = NotationSigningProfile.fromSigningProfileAttributes(stack, 'Imported', { signingProfileArn: PROFILE_ARN });
    const role = new iam.Role(stack, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    SignerRevocationStatus.grantRead(role, [profile, imported]);
    const template = Template.fromStack(stack);

    const statements = policyStatements(template);
    expect(statements.map((s) => s.actions)).toEqual([['signer:GetRevocationStatus']]);
    expect(resourcesOf(statements, 'signer:GetRevocationStatus')).toEqual([
      ...revocationResourcesOfStackProfile(stack, profile),
      PROFILE_ARN,
      `${PROFILE_ARN}/*`,
      'arn:aws:signer:eu-west-1:111122223333:/signing-jobs/*',
    ]);
    const [policy] = Object.values(template.findResources('AWS::IAM::Policy'));
    expect(nagSuppressions(policy)).toEqual([{
      id: 'AwsSolutions-IAM5',
      reason: expect.stringMatching(/^signer:GetRevocationStatus needs a signing-profile and a signing-job resource \(Service Authorization Reference, AWS Signer\)/),
      applies_to: [
        `Resource::<${stack.getLogicalId(profile.node.defaultChild as any)}.Arn>/*`,
        `Resource::${PROFILE_ARN}/*`,
        'Resource::arn:<AWS::Partition>:signer:<AWS::Region>:<AWS::AccountId>:/signing-jobs/*',
        'Resource::arn:aws:signer:eu-west-1:111122223333:/signing-jobs/*',
      ].sort(),
    }]);
  });

  test('SignerRevocationStatus.grantRead refuses an empty profile list, which would read as "no profile"', () => {
    const stack = newStack();
    const role = new iam.Role(stack, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    expect(() => SignerRevocationStatus.grantRead(role, [])).toThrow('signingProfiles must name at least one profile');
  });

  test('grantRevocationCheck: the revocation status of this profile\'s signatures only', () => {
    const stack = newStack();
    const profile = new NotationSigningProfile(stack, 'Profile');
    new NotationSigningProfile(stack, 'Other');
    const role = new iam.Role(stack, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    profile.grantRevocationCheck(role);
    expect(policyStatements(Template.fromStack(stack))).toEqual([
      expect.objectContaining({ actions: ['signer:GetRevocationStatus'], resources: revocationResourcesOfStackProfile(stack, profile) }),
    ]);
  });

  describe('fromSigningProfileAttributes', () => {
    test('reads name, account and region from the ARN; the version from the version ARN', () => {
      const stack = newStack();
      const profile = NotationSigningProfile.fromSigningProfileAttributes(stack, 'Imported', {
        signingProfileArn: PROFILE_ARN,
        signingProfileVersionArn: `${PROFILE_ARN}/a1B2c3D4e5`,
      });
      expect(profile.signingProfileName).toBe('release_signer');
      expect(profile.signingProfileOwner).toBe('111122223333');
      expect(profile.env).toEqual({ account: '111122223333', region: 'eu-west-1' });
      expect(profile.signingProfileVersion).toBe('a1B2c3D4e5');
      expect(profile.signingProfileVersionArn).toBe(`${PROFILE_ARN}/a1B2c3D4e5`);
    });

    test('the version ARN is built from signingProfileVersion', () => {
      const profile = NotationSigningProfile.fromSigningProfileAttributes(newStack(), 'Imported', {
        signingProfileArn: PROFILE_ARN,
        signingProfileVersion: 'v2',
      });
      expect(profile.signingProfileVersionArn).toBe(`${PROFILE_ARN}/v2`);
    });

    test('without a version, the version attributes throw a clear error', () => {
      const profile = NotationSigningProfile.fromSigningProfileAttributes(newStack(), 'Imported', { signingProfileArn: PROFILE_ARN });
      expect(() => profile.signingProfileVersionArn).toThrow(/signingProfileVersionArn of the imported signing profile .* is unknown/);
      expect(() => profile.signingProfileVersion).toThrow(/pass signingProfileVersionArn/);
    });

    test('a cross-account profile: grantSign on its ARN, the owner is its account', () => {
      const stack = newStack({ env: { account: '999999999999', region: 'eu-west-1' } });
      const profile = NotationSigningProfile.fromSigningProfileAttributes(stack, 'Imported', { signingProfileArn: PROFILE_ARN });
      const role = new iam.Role(stack, 'Role', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
      profile.grantSign(role);
      expect(profile.signingProfileOwner).toBe('111122223333');
      expect(resourcesOf(policyStatements(Template.fromStack(stack)), 'signer:SignPayload')).toEqual([PROFILE_ARN]);
    });

    test('a token ARN: name and account are selected from it at deploy time', () => {
      const stack = newStack();
      const arn = Token.asString({ Ref: 'ProfileArn' });
      const profile = NotationSigningProfile.fromSigningProfileAttributes(stack, 'Imported', { signingProfileArn: arn });
      expect(stack.resolve(profile.signingProfileName)).toEqual({ 'Fn::Select': [2, { 'Fn::Split': ['/', { Ref: 'ProfileArn' }] }] });
      expect(stack.resolve(profile.signingProfileOwner)).toEqual({ 'Fn::Select': [4, { 'Fn::Split': [':', { Ref: 'ProfileArn' }] }] });
    });

    test('a version ARN given as the profile ARN is refused with the fix', () => {
      expect(() =>
        NotationSigningProfile.fromSigningProfileAttributes(newStack(), 'Imported', { signingProfileArn: `${PROFILE_ARN}/a1B2c3D4e5` }),
      ).toThrow(/signingProfileArn .* is a profile version ARN: pass the profile ARN .* as signingProfileVersionArn/);
    });

    test.each([
      'arn:aws:signer:eu-west-1:111122223333:signing-profiles/release_signer',
      'arn:aws:s3:::bucket',
      'release_signer',
    ])('a malformed ARN %p is refused', (arn) => {
      expect(() => NotationSigningProfile.fromSigningProfileAttributes(newStack(), 'Imported', { signingProfileArn: arn })).toThrow(
        /signingProfileArn ".*" is not an AWS Signer signing profile ARN/,
      );
    });

    test('a version ARN of another profile is refused', () => {
      expect(() =>
        NotationSigningProfile.fromSigningProfileAttributes(newStack(), 'Imported', {
          signingProfileArn: PROFILE_ARN,
          signingProfileVersionArn: 'arn:aws:signer:eu-west-1:111122223333:/signing-profiles/other/v1',
        }),
      ).toThrow(/signingProfileVersionArn .* is not a version of signingProfileArn/);
    });

    test('a version that contradicts the version ARN is refused', () => {
      expect(() =>
        NotationSigningProfile.fromSigningProfileAttributes(newStack(), 'Imported', {
          signingProfileArn: PROFILE_ARN,
          signingProfileVersionArn: `${PROFILE_ARN}/v1`,
          signingProfileVersion: 'v2',
        }),
      ).toThrow(/signingProfileVersion "v2" does not match signingProfileVersionArn/);
    });
  });
});
