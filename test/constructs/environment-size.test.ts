/**
 * Lambda refuses a function whose environment variables take more than 4 KB once CloudFormation substitutes the
 * deploy-time values: the signer, the verifier and the enforcement function fail synth before that, naming the limit.
 */
import { CfnParameter, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import { newStack } from './support';
import { ImageSigner, ImageVerifier, NotationSigningProfile, TrustPolicy } from '../../src';
import { estimatedEnvironmentSize } from '../../src/private/environment-size';

function profiles(stack: Stack, count: number): NotationSigningProfile[] {
  return Array.from({ length: count }, (_, i) => new NotationSigningProfile(stack, `Profile${i}`));
}

function verifierOf(stack: Stack, count: number): ImageVerifier {
  const repository = new ecr.Repository(stack, 'Repository');
  return new ImageVerifier(stack, 'Verifier', { trustPolicy: new TrustPolicy(stack, 'Policy', { signingProfiles: profiles(stack, count), repositories: [repository] }) });
}

describe('the functions\' environment against Lambda\'s 4 KB limit', () => {
  test('deploy-time values are counted at the length they take once deployed, not as token strings', () => {
    const stack = newStack();
    const verifier = verifierOf(stack, 1);
    const few = estimatedEnvironmentSize(verifier.function);
    const more = newStack();
    const larger = estimatedEnvironmentSize(verifierOf(more, 2).function);
    // One more trusted identity: a profile ARN of up to 64 characters of name, quoted, with its comma.
    expect(larger - few).toBeGreaterThanOrEqual('arn:aws:signer:us-east-1:111122223333:/signing-profiles/'.length + 40);
    expect(larger - few).toBeLessThanOrEqual(200);
  });

  test('a verifier trusting 12 generated profiles fits; one trusting 40 fails synth naming the verifier and the limit', () => {
    const fits = newStack();
    verifierOf(fits, 12);
    expect(() => Template.fromStack(fits)).not.toThrow();
    const tooMany = newStack();
    verifierOf(tooMany, 40);
    expect(() => Template.fromStack(tooMany)).toThrow(/ImageVerifier: the function's environment variables take about \d+ bytes once deployed, more than Lambda's 4096-byte \(4 KB\) limit: use fewer trust policy statements, registry scopes or signing profiles/);
  });

  test('a signer with 30 generated profiles fails synth naming the signer and the limit; 10 fit', () => {
    for (const [count, fails] of [[10, false], [30, true]] as const) {
      const stack = newStack();
      new ImageSigner(stack, 'Signer', { signingProfiles: profiles(stack, count), repositories: [new ecr.Repository(stack, 'Repository')] });
      const synth = () => Template.fromStack(stack);
      if (fails) expect(synth).toThrow(/ImageSigner: the function's environment variables take about \d+ bytes once deployed, more than Lambda's 4096-byte \(4 KB\) limit: use fewer signing profiles or repositories per signer/);
      else expect(synth).not.toThrow();
    }
  });

  test('a parameter or an imported value counts as a generated name would', () => {
    const stack = newStack();
    const name = new CfnParameter(stack, 'RepositoryName').valueAsString;
    const signer = new ImageSigner(stack, 'Signer', { signingProfiles: profiles(stack, 1), repositories: [ecr.Repository.fromRepositoryName(stack, 'Repo', name)] });
    const withParameter = estimatedEnvironmentSize(signer.function);
    const literal = newStack();
    const literalSigner = new ImageSigner(literal, 'Signer', { signingProfiles: profiles(literal, 1), repositories: [ecr.Repository.fromRepositoryName(literal, 'Repo', 'r')] });
    expect(withParameter - estimatedEnvironmentSize(literalSigner.function)).toBe(64 - 1);
  });
});
