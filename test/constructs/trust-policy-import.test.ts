/**
 * TrustPolicy.fromJson / fromFile: a security team's trustpolicy.json used as written, with the certificates of its
 * trust stores, the revocation grants its identities need, and its scopes in the Kyverno manifests.
 */
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import { newStack, roleStatements } from './support';
import { ImageVerifier, NotationSigningProfile, TrustPolicy, TrustPolicyImportOptions } from '../../src';
import { AWS_SIGNER_ROOT_PEM } from '../../src/shared/aws-signer';
import { createRoot, TestCertificate } from '../util/pki';

const PROFILE_ARN = 'arn:aws:signer:us-east-1:111122223333:/signing-profiles/release_signer';
const VERSION_ARN = 'arn:aws:signer:eu-west-1:444455556666:/signing-profiles/partner/Ab12Cd34Ef';
const SCOPE = '111122223333.dkr.ecr.us-east-1.amazonaws.com/app';
const CORP_SCOPE = 'registry.example.com/corp/api';
const AWS_ROOT_SHA256 = '90:A8:7D:05:43:C3:F0:94:DB:FF:95:89:B6:64:9A:FF:E2:F3:D6:E0:F3:08:79:9B:E2:25:84:61:C6:86:47:3F';
const JOBS = 'arn:aws:signer:us-east-1:111122223333:/signing-jobs/*';

let corpRoot: TestCertificate;
let otherRoot: TestCertificate;
beforeAll(async () => {
  [corpRoot, otherRoot] = await Promise.all([createRoot({ subject: 'CN=Corp Root,O=Corp' }), createRoot({ subject: 'CN=Other Root,O=Other' })]);
});

/** A policy as `notation policy show` prints one: an AWS Signer statement and a corporate CA statement. */
function securityTeamPolicy(overrides: { awsSigner?: object; corp?: object } = {}) {
  return {
    version: '1.0',
    trustPolicies: [
      {
        name: 'aws-signed',
        registryScopes: [SCOPE],
        signatureVerification: { level: 'strict', override: { expiry: 'log' } },
        trustStores: ['signingAuthority:aws-signer-ts'],
        trustedIdentities: [PROFILE_ARN, VERSION_ARN],
        ...overrides.awsSigner,
      },
      {
        name: 'corp-ca',
        registryScopes: [CORP_SCOPE],
        signatureVerification: { level: 'permissive', verifyTimestamp: 'afterCertExpiry' },
        trustStores: ['ca:corp'],
        trustedIdentities: ['x509.subject: C=US, ST=WA, O=Corp, CN=release'],
        ...overrides.corp,
      },
    ],
  };
}

function importPolicy(stack: Stack, document: unknown = securityTeamPolicy(), options: Partial<TrustPolicyImportOptions> = {}) {
  return TrustPolicy.fromJson(stack, 'Policy', JSON.stringify(document), { trustStores: { 'ca:corp': corpRoot.pem }, ...options });
}

function revocationResources(stack: Stack): unknown[] {
  const statements = roleStatements(Template.fromStack(stack), 'VerifierServiceRoleDefaultPolicy');
  return statements.filter((statement) => statement.actions.includes('signer:GetRevocationStatus')).flatMap((statement) => statement.resources);
}

function withVerifier(stack: Stack, policy: TrustPolicy) {
  const repository = ecr.Repository.fromRepositoryName(stack, 'Repository', 'app');
  return new ImageVerifier(stack, 'Verifier', { trustPolicy: policy, repositories: [repository] });
}

describe('TrustPolicy.fromJson', () => {
  test('the statements are kept as written, and the trust stores are the built-in AWS root and the given CA', () => {
    const stack = newStack({ env: { account: '111122223333', region: 'us-east-1' } });
    const policy = importPolicy(stack);

    expect(stack.resolve(policy.document)).toEqual(securityTeamPolicy());
    expect(JSON.parse(stack.resolve(policy.toJsonString()))).toEqual(securityTeamPolicy());
    expect(Object.keys(policy.trustStores).sort()).toEqual(['ca:corp', 'signingAuthority:aws-signer-ts']);
    expect(new X509Certificate(policy.trustStores['signingAuthority:aws-signer-ts']).fingerprint256).toBe(AWS_ROOT_SHA256);
    expect(policy.trustStores['ca:corp']).toBe(corpRoot.pem);
    Template.fromStack(stack);
  });

  test('the verifier receives the policy and only the stores it does not have built in', () => {
    const stack = newStack({ env: { account: '111122223333', region: 'us-east-1' } });
    withVerifier(stack, importPolicy(stack));
    const [fn] = Object.values(Template.fromStack(stack).findResources('AWS::Lambda::Function')) as any[];
    const variables = fn.Properties.Environment.Variables;
    expect(JSON.parse(stack.resolve(variables.TRUST_POLICY))).toEqual(securityTeamPolicy());
    expect(JSON.parse(variables.TRUST_STORES)).toEqual({ 'ca:corp': corpRoot.pem });
  });

  test('a store given under a built-in name replaces the built-in certificates', () => {
    const stack = newStack();
    const document = securityTeamPolicy({ awsSigner: { trustStores: ['signingAuthority:aws-signer-ts'] } });
    const policy = importPolicy(stack, document, { trustStores: { 'ca:corp': corpRoot.pem, 'signingAuthority:aws-signer-ts': otherRoot.pem } });
    expect(policy.trustStores['signingAuthority:aws-signer-ts']).toBe(otherRoot.pem);
  });

  test('malformed JSON and broken trust policy rules fail with notation\'s message, and nothing is added to the scope', () => {
    const stack = newStack();
    const before = stack.node.children.length;
    expect(() => TrustPolicy.fromJson(stack, 'Policy', '{"version": "1.0",')).toThrow(/^TrustPolicy\.fromJson: malformed trust policy: /);
    const twoWildcards = securityTeamPolicy({ corp: { registryScopes: ['*'] }, awsSigner: { registryScopes: ['*'] } });
    expect(() => importPolicy(stack, twoWildcards)).toThrow(
      /TrustPolicy\.fromJson: trust policy statement "corp-ca": registryScopes: wildcard registry scope '\*' is also used by statement "aws-signed"/,
    );
    expect(() => importPolicy(stack, { ...securityTeamPolicy(), version: '2.0' })).toThrow(/version "2\.0" is not supported/);
    expect(stack.node.children.length).toBe(before);
  });

  test('a statement naming a store that is neither built in nor given fails, naming the store and the statement', () => {
    const stack = newStack();
    expect(() => TrustPolicy.fromJson(stack, 'Policy', JSON.stringify(securityTeamPolicy()))).toThrow(
      'TrustPolicy.fromJson: statement "corp-ca" names trust store "ca:corp", which is not built in (signingAuthority:aws-signer-ts, ' +
        'signingAuthority:aws-us-gov-signer-ts): give its certificates as options.trustStores["ca:corp"] (PEM text)',
    );
    expect(stack.node.children).toHaveLength(0);
  });

  test('given stores are checked: the key, PEM holding only certificates, and that a statement names them', () => {
    const stack = newStack();
    const given = (trustStores: Record<string, string>) => () => importPolicy(stack, securityTeamPolicy(), { trustStores: { 'ca:corp': corpRoot.pem, ...trustStores } });
    expect(given({ 'ca:Corp': corpRoot.pem })).toThrow('TrustPolicy.fromJson: trustStores "ca:Corp" named by no statement of the policy');
    expect(given({ 'root:corp': corpRoot.pem })).toThrow(/trustStores key "root:corp" is not <type>:<name> with type ca, signingAuthority, tsa/);
    expect(given({ 'ca:corp': `${corpRoot.pem}\n${corpRoot.keyPem}` })).toThrow(/trustStores\["ca:corp"\] must be PEM text holding only CERTIFICATE blocks/);
    expect(given({ 'ca:corp': 'not a certificate' })).toThrow(/trustStores\["ca:corp"\] must be PEM text/);
    const damaged = corpRoot.pem.replace(/(-----BEGIN CERTIFICATE-----\n)(.{8})/, '$1AAAAAAAA');
    expect(given({ 'ca:corp': damaged })).toThrow(/certificate #1 of trustStores\["ca:corp"\] is not a valid X\.509 certificate/);
    expect(stack.node.children).toHaveLength(0);
  });

  test('statements added later come after the imported ones and are checked with them', () => {
    const withStatement = (registryScopes: string[]) => {
      const stack = newStack({ env: { account: '111122223333', region: 'us-east-1' } });
      const policy = importPolicy(stack);
      const profile = NotationSigningProfile.fromSigningProfileAttributes(stack, 'Profile', { signingProfileArn: PROFILE_ARN, signingProfileVersion: 'v1' });
      policy.addStatement({ name: 'added', signingProfiles: [profile], registryScopes });
      return { stack, policy };
    };
    const { stack, policy } = withStatement(['111122223333.dkr.ecr.us-east-1.amazonaws.com/staging']);
    expect(policy.document.trustPolicies.map((statement: any) => statement.name)).toEqual(['aws-signed', 'corp-ca', 'added']);
    Template.fromStack(stack);

    expect(() => Template.fromStack(withStatement([CORP_SCOPE]).stack)).toThrow(/registry scope "registry\.example\.com\/corp\/api" is present in multiple trust policy statements \("corp-ca" and "added"\)/);
  });
});

describe('TrustPolicy.fromFile', () => {
  test('reads trustpolicy.json at synth time', () => {
    const directory = mkdtempSync(join(tmpdir(), 'trust-policy-'));
    const file = join(directory, 'trustpolicy.json');
    writeFileSync(file, JSON.stringify(securityTeamPolicy(), null, 2));
    const stack = newStack();
    const policy = TrustPolicy.fromFile(stack, 'Policy', file, { trustStores: { 'ca:corp': corpRoot.pem } });
    expect(stack.resolve(policy.document)).toEqual(securityTeamPolicy());
  });

  test('a file that cannot be read fails naming the path; an invalid one names the file', () => {
    const stack = newStack();
    const missing = join(tmpdir(), 'no-such-dir-trust-policy', 'trustpolicy.json');
    expect(() => TrustPolicy.fromFile(stack, 'Policy', missing)).toThrow(`TrustPolicy.fromFile: cannot read "${missing}": ENOENT`);
    const directory = mkdtempSync(join(tmpdir(), 'trust-policy-'));
    const file = join(directory, 'trustpolicy.json');
    writeFileSync(file, '{"version": "1.0", "trustPolicies": []}');
    expect(() => TrustPolicy.fromFile(stack, 'Policy', file)).toThrow(
      `TrustPolicy.fromFile(${JSON.stringify(file)}): trust policy: trustPolicies: the document can not have zero trust policy statements`,
    );
    expect(stack.node.children).toHaveLength(0);
  });
});

describe('imported trust policy: what verifying functions are granted', () => {
  test('revocation: each profile ARN with its versions, a version ARN exactly, and the jobs of each profile\'s account and region', () => {
    const stack = newStack({ env: { account: '111122223333', region: 'us-east-1' } });
    withVerifier(stack, importPolicy(stack));
    expect(revocationResources(stack).sort()).toEqual([
      PROFILE_ARN,
      `${PROFILE_ARN}/*`,
      'arn:aws:signer:eu-west-1:444455556666:/signing-profiles/partner',
      VERSION_ARN,
      'arn:aws:signer:eu-west-1:444455556666:/signing-jobs/*',
      JOBS,
    ].sort());
  });

  test('revocation: an x509.subject identity under an AWS Signer root may be any profile of that root\'s partition; under a corporate CA none', () => {
    const stack = newStack({ env: { account: '111122223333', region: 'us-east-1' } });
    const document = securityTeamPolicy({
      awsSigner: { trustStores: ['signingAuthority:aws-us-gov-signer-ts'], trustedIdentities: ['x509.subject: C=US, ST=WA, O=AWS, CN=AWS Signer'] },
    });
    withVerifier(stack, importPolicy(stack, document));
    expect(revocationResources(stack).sort()).toEqual(['arn:aws-us-gov:signer:*:*:/signing-jobs/*', 'arn:aws-us-gov:signer:*:*:/signing-profiles/*']);
  });

  test('revocation: a given store holding the AWS Signer root counts as one', () => {
    const stack = newStack({ env: { account: '111122223333', region: 'us-east-1' } });
    const document = securityTeamPolicy({ awsSigner: { trustStores: ['signingAuthority:roots'], trustedIdentities: ['x509.subject: C=US, ST=WA, O=AWS, CN=AWS Signer'] } });
    const roots = `${otherRoot.pem}\n${AWS_SIGNER_ROOT_PEM}`;
    withVerifier(stack, importPolicy(stack, document, { trustStores: { 'ca:corp': corpRoot.pem, 'signingAuthority:roots': roots } }));
    expect(revocationResources(stack).sort()).toEqual(['arn:aws:signer:*:*:/signing-jobs/*', 'arn:aws:signer:*:*:/signing-profiles/*']);
  });

  test('revocation: statements whose level or override skips it add nothing', () => {
    const stack = newStack({ env: { account: '111122223333', region: 'us-east-1' } });
    const document = securityTeamPolicy({ awsSigner: { signatureVerification: { level: 'strict', override: { revocation: 'skip' } } } });
    withVerifier(stack, importPolicy(stack, document));
    expect(revocationResources(stack)).toEqual([]);
  });

  test('repositories: the import\'s repositories are read by default; without any the verifier is refused', () => {
    const stack = newStack({ env: { account: '111122223333', region: 'us-east-1' } });
    const repository = ecr.Repository.fromRepositoryName(stack, 'App', 'app');
    const policy = importPolicy(stack, securityTeamPolicy(), { repositories: [repository] });
    expect(policy.repositories).toEqual([repository]);
    new ImageVerifier(stack, 'Verifier', { trustPolicy: policy });
    const reads = roleStatements(Template.fromStack(stack), 'VerifierServiceRoleDefaultPolicy').filter((s) => s.actions.includes('ecr:BatchGetImage'));
    expect(reads).toHaveLength(1);

    const bare = newStack();
    expect(() => new ImageVerifier(bare, 'Verifier', { trustPolicy: importPolicy(bare) })).toThrow(/repositories: give the ECR repositories the verifier may read/);
  });
});

describe('imported trust policy: Kyverno manifests', () => {
  test('a CA store becomes a TrustStore of type ca; the statements name the renamed stores; image globs cover the imported scopes', () => {
    const stack = newStack({ env: { account: '111122223333', region: 'us-east-1' } });
    const manifests = importPolicy(stack, securityTeamPolicy(), { policyName: 'corp' }).kyvernoManifests();
    const stores = manifests.filter((manifest) => manifest.kind === 'TrustStore');
    expect(stores.map((store) => [store.metadata.name, store.spec.type])).toEqual([
      ['corp-aws-signer-ts', 'signingAuthority'],
      ['corp-ca-corp', 'ca'],
    ]);
    expect(stores[1].spec.caBundle).toBe(corpRoot.pem);
    const [trustPolicy] = manifests.filter((manifest) => manifest.kind === 'TrustPolicy');
    expect(trustPolicy.spec.trustPolicies.map((statement: any) => statement.trustStores)).toEqual([['signingAuthority:corp-aws-signer-ts'], ['ca:corp-ca-corp']]);
    const [validate] = manifests.filter((manifest) => manifest.kind === 'ClusterPolicy');
    expect(JSON.stringify(validate)).toContain(`"${CORP_SCOPE}:*","${CORP_SCOPE}@*"`);
  });

  test('a timestamping store cannot be a kyverno-notation-aws TrustStore: refused, naming it', () => {
    const stack = newStack();
    const document = securityTeamPolicy({ corp: { trustStores: ['ca:corp', 'tsa:stamps'] } });
    const policy = importPolicy(stack, document, { trustStores: { 'ca:corp': corpRoot.pem, 'tsa:stamps': otherRoot.pem } });
    expect(() => policy.kyvernoManifests()).toThrow(/trust store "tsa:stamps" has a type the kyverno-notation-aws TrustStore cannot hold \(it takes ca and signingAuthority\)/);
  });
});
