/**
 * signImage against the real registry: an existing signature is reused only when it verifies under the signer's
 * own trust by exactly its identity, and what a signer returns is checked before anything is pushed.
 */
import { randomUUID } from 'node:crypto';
import { SignerClient, SignPayloadCommand, SignPayloadCommandInput } from '@aws-sdk/client-signer';
import { mockClient } from 'aws-sdk-client-mock';
import { buildJwsEnvelope, AwsSigner, Header } from '../../lambda/notary/jws';
import { listSignatures } from '../../lambda/notary/list-signatures';
import { buildPayload } from '../../lambda/notary/payload';
import { signImage, SignerEnvelopeError } from '../../lambda/notary/sign-image';
import { CREATED_ANNOTATION } from '../../lambda/notary/signature-manifest';
import { RegistryRepository } from '../../lambda/oci/registry-repository';
import { Descriptor } from '../../lambda/oci/types';
import { AwsSignerSigner, MAX_SIGN_PAYLOAD_BYTES, parseSigningProfileArn } from '../../lambda/signers/aws-signer';
import { LocalKeySigner } from '../../lambda/signers/local-key';
import { plainRegistry } from '../harness/env';
import { createRandomImage, pushImage } from '../util/images';
import { createChain, createLeaf, TestChain } from '../util/pki';

const PROFILE_ARN = 'arn:aws:signer:us-east-1:111122223333:/signing-profiles/release';
const VERSION_ARN = `${PROFILE_ARN}/AbCdEf1234`;
const HOUR = 3600_000;

const signerMock = mockClient(SignerClient);
let aws: TestChain;
let attacker: TestChain;

beforeAll(async () => {
  [aws, attacker] = await Promise.all([createChain({ keySpec: 'EC-384' }), createChain({ keySpec: 'EC-384' })]);
});
afterEach(() => signerMock.reset());
afterAll(() => signerMock.restore());

async function pushedImage(prefix: string): Promise<{ repository: RegistryRepository; image: Descriptor }> {
  const repository = new RegistryRepository({ registry: plainRegistry(), repository: `${prefix}-${randomUUID().slice(0, 8)}`, plainHttp: true });
  return { repository, image: await pushImage(repository, createRandomImage(), 'v1') };
}

/** A signer in AWS Signer's shape on `chain` for `versionArn`, standing in for SignPayload. */
function shaped(chain: TestChain, versionArn: string, clock?: () => Date): LocalKeySigner {
  const signingAuthority = { signingProfileVersionArn: versionArn };
  return new LocalKeySigner({ key: chain.leaf.key, certificateChain: chain.chain, signingAuthority, clock });
}

/** The AWS Signer signer under test: SignPayload answers with what `answer` signs; the test CA is its root. */
function awsSigner(answer: LocalKeySigner | ((input: SignPayloadCommandInput) => Promise<Uint8Array>), profileArn = PROFILE_ARN): AwsSignerSigner {
  signerMock.on(SignPayloadCommand).callsFake(async (input: SignPayloadCommandInput) => ({
    signature: typeof answer === 'function' ? await answer(input) : (await answer.sign(input.payload as Uint8Array)).envelope,
    jobId: 'job',
    jobOwner: '111122223333',
  }));
  return new AwsSignerSigner({ client: new SignerClient({ region: 'us-east-1' }), profileArn, roots: [aws.root.der] });
}

describe('an existing signature is reused only when it verifies under the signer\'s own trust', () => {
  test('a referrer claiming the profile but chained to another root is not reused: AWS Signer signs and the new signature is pushed', async () => {
    const { repository, image } = await pushedImage('sign/forged');
    const forged = await signImage({ repository, tagOrDigest: image.digest, signer: shaped(attacker, VERSION_ARN) });

    const signer = awsSigner(shaped(aws, VERSION_ARN));
    const result = await signImage({ repository, tagOrDigest: image.digest, signer });

    expect(result.reused).toBe(false);
    expect(result.signatureDigest).not.toBe(forged.signatureDigest);
    expect(signerMock.commandCalls(SignPayloadCommand)).toHaveLength(1);
    expect((await listSignatures(repository, image)).map((signature) => signature.digest)).toContain(result.signatureDigest);
  });

  test.each([
    ['another account', 'arn:aws:signer:us-east-1:444455556666:/signing-profiles/release/AbCdEf1234'],
    ['another region', 'arn:aws:signer:eu-west-1:111122223333:/signing-profiles/release/AbCdEf1234'],
    ['another partition', 'arn:aws-us-gov:signer:us-east-1:111122223333:/signing-profiles/release/AbCdEf1234'],
    ['a profile whose name starts with this one', 'arn:aws:signer:us-east-1:111122223333:/signing-profiles/release2/AbCdEf1234'],
    ['this profile in other case', 'arn:aws:signer:us-east-1:111122223333:/signing-profiles/RELEASE/AbCdEf1234'],
  ])('a genuine signature by the same-named profile of %s is not reused', async (_name, otherVersionArn) => {
    const { repository, image } = await pushedImage('sign/other-profile');
    await signImage({ repository, tagOrDigest: image.digest, signer: shaped(aws, otherVersionArn) });

    const result = await signImage({ repository, tagOrDigest: image.digest, signer: awsSigner(shaped(aws, VERSION_ARN)) });

    expect(result.reused).toBe(false);
    expect(signerMock.commandCalls(SignPayloadCommand)).toHaveLength(1);
  });

  test('a genuine signature by this profile over the same metadata is reused: nothing is signed or pushed', async () => {
    const { repository, image } = await pushedImage('sign/reuse');
    const first = await signImage({ repository, tagOrDigest: image.digest, signer: awsSigner(shaped(aws, VERSION_ARN)), userMetadata: { build: '7' } });
    signerMock.resetHistory();

    const again = await signImage({ repository, tagOrDigest: image.digest, signer: awsSigner(shaped(aws, VERSION_ARN)), userMetadata: { build: '7' } });

    expect(again).toMatchObject({ reused: true, signatureDigest: first.signatureDigest });
    expect(signerMock.commandCalls(SignPayloadCommand)).toHaveLength(0);
    expect(await listSignatures(repository, image)).toHaveLength(1);
  });

  test('SignPayload always names the profile owner, also for a profile of the caller\'s own account', async () => {
    const { repository, image } = await pushedImage('sign/owner');
    await signImage({ repository, tagOrDigest: image.digest, signer: awsSigner(shaped(aws, VERSION_ARN)) });
    expect(signerMock.commandCalls(SignPayloadCommand)[0].args[0].input).toMatchObject({ profileName: 'release', profileOwner: '111122223333' });
  });

  test('a local key reuses its own signature, not one by another leaf under the same root', async () => {
    const { repository, image } = await pushedImage('sign/local');
    const otherLeaf = await createLeaf(aws.intermediate, { subject: 'CN=builder,O=Acme,L=Seattle,ST=WA,C=US' });
    const sibling = new LocalKeySigner({ key: otherLeaf.key, certificateChain: [otherLeaf.der, aws.intermediate.der, aws.root.der] });
    const own = new LocalKeySigner({ key: aws.leaf.key, certificateChain: aws.chain });
    await signImage({ repository, tagOrDigest: image.digest, signer: sibling });

    const first = await signImage({ repository, tagOrDigest: image.digest, signer: own });
    const second = await signImage({ repository, tagOrDigest: image.digest, signer: own });

    expect(first.reused).toBe(false);
    expect(second).toMatchObject({ reused: true, signatureDigest: first.signatureDigest });
  });

  test('a signature that expires within half the signer\'s validity is signed again; one that stays valid longer is reused', async () => {
    const { repository, image } = await pushedImage('sign/expiring');
    const signedAt = new Date(Date.now() - 40 * 60_000);
    const old = new LocalKeySigner({ key: aws.leaf.key, certificateChain: aws.chain, expirySeconds: 3600, clock: () => signedAt });
    const oldSignature = await signImage({ repository, tagOrDigest: image.digest, signer: old, now: signedAt });
    const signer = new LocalKeySigner({ key: aws.leaf.key, certificateChain: aws.chain, expirySeconds: 3600 });

    // 20 minutes left of an hour's validity: less than half.
    const renewed = await signImage({ repository, tagOrDigest: image.digest, signer });
    const kept = await signImage({ repository, tagOrDigest: image.digest, signer });

    expect(renewed.reused).toBe(false);
    expect(renewed.signatureDigest).not.toBe(oldSignature.signatureDigest);
    expect(kept).toMatchObject({ reused: true, signatureDigest: renewed.signatureDigest });
  });
});

describe('the envelope a signer returns is checked before anything is pushed', () => {
  const forOtherDigest = async () => (await shaped(aws, VERSION_ARN).sign(buildPayload({ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: `sha256:${'ab'.repeat(32)}`, size: 1 }))).envelope;
  const x509Scheme = async (input: SignPayloadCommandInput) => buildJwsEnvelope({
    payload: input.payload as Uint8Array,
    key: aws.leaf.key,
    certificateChain: aws.chain,
    signingScheme: 'notary.x509',
    signingTime: new Date(),
    extendedAttributes: {
      [Header.verificationPlugin]: { value: AwsSigner.plugin, critical: true },
      [AwsSigner.signingProfileVersion]: { value: VERSION_ARN, critical: true },
      [AwsSigner.signingJob]: { value: 'arn:aws:signer:us-east-1:111122223333:/signing-jobs/1', critical: true },
    },
  });

  test.each([
    ['a signature over another digest', () => awsSigner(forOtherDigest), /content descriptor mismatch: the signature is for sha256:abab/],
    ['the notary.x509 scheme', () => awsSigner(x509Scheme), /'notary\.x509' signing scheme is not supported|signing scheme is notary\.x509/],
    ['a chain to another root', () => awsSigner(shaped(attacker, VERSION_ARN)), /certificate chain does not contain any trusted certificate/],
    ['another signing profile', () => awsSigner(shaped(aws, 'arn:aws:signer:us-east-1:111122223333:/signing-profiles/other/AbCdEf1234')), /doesn't match any trusted identities/],
    ['the same-named profile of another account', () => awsSigner(shaped(aws, 'arn:aws:signer:us-east-1:444455556666:/signing-profiles/release/AbCdEf1234')), /doesn't match any trusted identities/],
  ])('%s is refused, naming what differs, and nothing is pushed', async (_name, signer, reason) => {
    const { repository, image } = await pushedImage('sign/bad-envelope');

    const signing = signImage({ repository, tagOrDigest: image.digest, signer: signer() });

    await expect(signing).rejects.toThrow(SignerEnvelopeError);
    await expect(signing).rejects.toThrow(reason);
    await expect(signing).rejects.toThrow(/so nothing was pushed/);
    expect(await listSignatures(repository, image)).toHaveLength(0);
  });

  test('the user metadata must be signed as requested', async () => {
    const { repository, image } = await pushedImage('sign/metadata');
    const dropsMetadata = async (input: SignPayloadCommandInput) => {
      const payload = JSON.parse(Buffer.from(input.payload as Uint8Array).toString('utf8'));
      delete payload.targetArtifact.annotations;
      return (await shaped(aws, VERSION_ARN).sign(new TextEncoder().encode(JSON.stringify(payload)))).envelope;
    };
    await expect(signImage({ repository, tagOrDigest: image.digest, signer: awsSigner(dropsMetadata), userMetadata: { build: '7' } })).rejects.toThrow(
      /unable to find specified metadata in the signature: build=7/,
    );
    expect(await listSignatures(repository, image)).toHaveLength(0);
  });
});

describe('AWS Signer requests', () => {
  test('a signing profile version ARN is refused, naming the profile ARN to use', () => {
    expect(() => parseSigningProfileArn(VERSION_ARN)).toThrow(
      `"${VERSION_ARN}" is a signing profile version ARN; sign with the signing profile ARN "${PROFILE_ARN}"`,
    );
    expect(() => new AwsSignerSigner({ client: new SignerClient({ region: 'us-east-1' }), profileArn: VERSION_ARN })).toThrow(/signing profile version ARN/);
  });

  test.each([
    ['a job ARN', 'arn:aws:signer:us-east-1:111122223333:/signing-jobs/1'],
    ['another service', 'arn:aws:kms:us-east-1:111122223333:/signing-profiles/release'],
    ['no account', 'arn:aws:signer:us-east-1::/signing-profiles/release'],
    ['no region', 'arn:aws:signer::111122223333:/signing-profiles/release'],
  ])('%s is not a signing profile ARN', (_name, arn) => {
    expect(() => parseSigningProfileArn(arn)).toThrow(/signing profile ARN/);
  });

  test('a partition without a published AWS Signer root is refused', () => {
    expect(() => new AwsSignerSigner({ client: new SignerClient({ region: 'cn-north-1' }), profileArn: 'arn:aws-cn:signer:cn-north-1:111122223333:/signing-profiles/release' }))
      .toThrow('AWS Signer publishes no Notation root certificate for partition "aws-cn"');
  });

  test(`a payload over ${MAX_SIGN_PAYLOAD_BYTES} bytes is refused before SignPayload is called, and nothing is pushed`, async () => {
    const { repository, image } = await pushedImage('sign/large');
    const signer = awsSigner(shaped(aws, VERSION_ARN));

    await expect(signImage({ repository, tagOrDigest: image.digest, signer, userMetadata: { notes: 'x'.repeat(4000) } })).rejects.toThrow(
      /the signed payload is \d+ bytes, but AWS Signer SignPayload takes at most 4096 bytes/,
    );
    expect(signerMock.commandCalls(SignPayloadCommand)).toHaveLength(0);
    expect(await listSignatures(repository, image)).toHaveLength(0);
  });
});

test('the signature manifest is created at the envelope\'s signing time, as notation writes it', async () => {
  const { repository, image } = await pushedImage('sign/created');
  const signingTime = new Date(Math.floor((Date.now() - HOUR / 2) / 1000) * 1000);
  const signer = new LocalKeySigner({ key: aws.leaf.key, certificateChain: aws.chain, clock: () => signingTime });

  const result = await signImage({ repository, tagOrDigest: image.digest, signer });

  const manifest = JSON.parse(Buffer.from((await repository.fetchManifest(result.signatureDigest)).bytes).toString('utf8'));
  expect(manifest.annotations[CREATED_ANNOTATION]).toBe(signingTime.toISOString().replace('.000Z', 'Z'));
});
