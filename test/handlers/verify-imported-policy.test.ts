/**
 * A security team's trustpolicy.json, imported with TrustPolicy.fromJson, is what the deployed verifier applies: the
 * function's environment as synthesized, given to the verify handler, verifies an image signed under the team's CA
 * and refuses one signed under another CA, against the test registry.
 */
import { Template } from 'aws-cdk-lib/assertions';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import { handlerTestLifecycle, jobEvent, lambdaContext, mockAws, pushTestImage, registryEnv, reportedFailure, reportedSuccess } from './support';
import { createVerifyHandler } from '../../lambda/handlers/verify';
import { signImage } from '../../lambda/notary/sign-image';
import { LocalKeySigner } from '../../lambda/signers/local-key';
import { ImageVerifier, TrustPolicy } from '../../src';
import { newStack } from '../constructs/support';
import { createChain, TestChain } from '../util/pki';

const RELEASE_SUBJECT = 'C=US, ST=WA, O=Corp, CN=release';
const aws = mockAws();
let corp: TestChain;
let other: TestChain;

beforeAll(async () => {
  [corp, other] = await Promise.all([createChain({ leaf: { subject: RELEASE_SUBJECT } }), createChain({ leaf: { subject: RELEASE_SUBJECT } })]);
});
handlerTestLifecycle(aws);

const SECURITY_TEAM_POLICY = JSON.stringify({
  version: '1.0',
  trustPolicies: [
    {
      name: 'corp-release',
      registryScopes: ['*'],
      signatureVerification: { level: 'strict' },
      trustStores: ['ca:corp'],
      trustedIdentities: [`x509.subject: ${RELEASE_SUBJECT}`],
    },
  ],
});

/** The verifier function's TRUST_POLICY and TRUST_STORES, as the synthesized template gives them. */
function deployedEnvironment(): Record<string, string> {
  const stack = newStack({ env: { account: '111122223333', region: 'us-east-1' } });
  const trustPolicy = TrustPolicy.fromJson(stack, 'Policy', SECURITY_TEAM_POLICY, { trustStores: { 'ca:corp': corp.root.pem } });
  new ImageVerifier(stack, 'Verifier', { trustPolicy, repositories: [ecr.Repository.fromRepositoryName(stack, 'Repository', 'app')] });
  const [fn] = Object.values(Template.fromStack(stack).findResources('AWS::Lambda::Function')) as any[];
  const { TRUST_POLICY, TRUST_STORES } = fn.Properties.Environment.Variables;
  return { TRUST_POLICY: stack.resolve(TRUST_POLICY), TRUST_STORES };
}

async function signedImage(prefix: string, chain: TestChain): Promise<string> {
  const { repository, image, uri } = await pushTestImage(prefix);
  await signImage({ repository, tagOrDigest: image.digest, signer: new LocalKeySigner({ key: chain.leaf.key, certificateChain: chain.chain }) });
  return `${uri}@${image.digest}`;
}

describe('verify handler under an imported trust policy', () => {
  const verify = () => createVerifyHandler({ env: { ...deployedEnvironment(), ...registryEnv() }, clients: aws.clients });

  test('an image signed under the team\'s CA by the trusted subject passes', async () => {
    const trusted = await signedImage('handlers/imported-policy-corp', corp);
    await verify()(jobEvent(JSON.stringify({ imageUri: trusted }), 'job-corp'), lambdaContext());
    expect(reportedSuccess(aws.codePipeline, 'job-corp').outputVariables?.VERIFIED).toBe('true');
  });

  test('an image signed under another CA with the same subject fails authenticity', async () => {
    const untrusted = await signedImage('handlers/imported-policy-other', other);
    await verify()(jobEvent(JSON.stringify({ imageUri: untrusted }), 'job-other'), lambdaContext());
    expect(reportedFailure(aws.codePipeline, 'job-other')).toMatch(/signature verification failed for all the signatures[\s\S]*the signature's certificate chain does not contain any trusted certificate/);
  });
});
