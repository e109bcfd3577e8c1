/**
 * Every verification check passes and fails at every level (specs/trust-store-trust-policy.md): strict, permissive,
 * audit and custom levels with overrides. The failing conditions are built from generated certificates and
 * real signatures; what each level does with a check comes from the spec's table of verification levels, written out below.
 */
import { LEVELS, policyStatement, randomTarget, resultOf, signTarget } from './helpers';
import { AwsSigner, buildJwsEnvelope, Header } from '../../lambda/notary/jws';
import { buildPayload } from '../../lambda/notary/payload';
import { effectiveVerification, trustAnchorsFor } from '../../lambda/notary/trust-policy';
import { CheckAction, CheckType, ParsedEnvelope, RevocationChecker, SignatureVerification } from '../../lambda/notary/types';
import { verifySignature } from '../../lambda/notary/verify-signature';
import { MediaType } from '../../lambda/oci/media-types';
import { Descriptor } from '../../lambda/oci/types';
import { SignatureVerificationSettings } from '../../src/shared/trust-policy';
import { createIntermediate, createLeaf, createRoot, TestCertificate, TestChain } from '../util/pki';

const DAY = 86400_000;
const CHECKS: readonly CheckType[] = ['integrity', 'authenticity', 'authenticTimestamp', 'expiry', 'revocation'];

/** specs/trust-store-trust-policy.md, "Signature Verification details". */
const LEVEL_TABLE: Record<(typeof LEVELS)[number], Record<CheckType, CheckAction>> = {
  strict: { integrity: 'enforce', authenticity: 'enforce', authenticTimestamp: 'enforce', expiry: 'enforce', revocation: 'enforce' },
  permissive: { integrity: 'enforce', authenticity: 'enforce', authenticTimestamp: 'log', expiry: 'log', revocation: 'log' },
  audit: { integrity: 'enforce', authenticity: 'log', authenticTimestamp: 'log', expiry: 'log', revocation: 'log' },
};

interface Setting {
  readonly label: string;
  readonly settings: SignatureVerificationSettings;
  readonly actions: Record<CheckType, CheckAction>;
}

function custom(level: (typeof LEVELS)[number], override: Partial<Record<CheckType, CheckAction>>): Setting {
  return { label: JSON.stringify({ level, override }), settings: { level, override }, actions: { ...LEVEL_TABLE[level], ...override } };
}

const SETTINGS: readonly Setting[] = [
  ...LEVELS.map((level) => ({ label: level, settings: { level }, actions: LEVEL_TABLE[level] })),
  custom('strict', { expiry: 'log' }),
  custom('strict', { authenticTimestamp: 'log' }),
  custom('strict', { authenticity: 'log' }),
  custom('strict', { revocation: 'skip' }),
  custom('strict', { revocation: 'log' }),
  custom('permissive', { expiry: 'enforce', authenticTimestamp: 'enforce' }),
  custom('permissive', { revocation: 'enforce' }),
  custom('permissive', { authenticity: 'log' }),
  custom('audit', { authenticity: 'enforce' }),
  custom('audit', { revocation: 'skip' }),
];

const PROFILE_ARN = 'arn:aws:signer:us-east-1:111122223333:/signing-profiles/release';
const VERSION_ARN = `${PROFILE_ARN}/AbCdEf1234`;
const SIGNER_IDENTITY = 'x509.subject:CN=builder,O=Acme,ST=WA,C=US';

/** What one case passes to the verifier besides the level. */
interface Scenario {
  readonly envelope: Uint8Array;
  readonly target: Descriptor;
  /** `type:name` → certificates. */
  readonly stores: Record<string, Uint8Array[]>;
  readonly trustedIdentities: string[];
  readonly revocation?: RevocationChecker;
}

interface FailingCase {
  readonly name: string;
  readonly check: Exclude<CheckType, 'integrity'>;
  /** notation's wording of the failure. */
  readonly message: RegExp;
  build(): Scenario;
}

const notRevoked = (): RevocationChecker & { calls: ParsedEnvelope[] } => {
  const calls: ParsedEnvelope[] = [];
  return { calls, check: async (envelope) => (calls.push(envelope), { revoked: false, message: 'not revoked' }) };
};
const revoked = (): RevocationChecker & { calls: ParsedEnvelope[] } => {
  const calls: ParsedEnvelope[] = [];
  return {
    calls,
    check: async (envelope) => (calls.push(envelope), { revoked: true, message: 'The signing profile version has been revoked.' }),
  };
};
const throwing = (): RevocationChecker & { calls: ParsedEnvelope[] } => {
  const calls: ParsedEnvelope[] = [];
  return {
    calls,
    check: async (envelope) => {
      calls.push(envelope);
      throw new Error('AccessDeniedException: User is not authorized to perform: signer:GetRevocationStatus');
    },
  };
};

async function verify(scenario: Scenario, settings: SignatureVerificationSettings): Promise<SignatureVerification> {
  const statement = policyStatement(settings, Object.keys(scenario.stores), scenario.trustedIdentities);
  return verifySignature({
    envelope: scenario.envelope,
    envelopeMediaType: MediaType.JWS,
    target: scenario.target,
    verification: effectiveVerification(statement),
    trustAnchors: trustAnchorsFor(statement, new Map(Object.entries(scenario.stores))),
    trustedIdentities: statement.trustedIdentities ?? [],
    revocation: scenario.revocation,
  });
}

/** A chain valid from `notBefore` whose leaf has its own validity and options. */
async function chainWithLeaf(leafOptions: Parameters<typeof createLeaf>[1], notBefore = new Date(Date.now() - 30 * DAY)): Promise<TestChain> {
  const root = await createRoot({ notBefore });
  const intermediate = await createIntermediate(root, { notBefore });
  const leaf = await createLeaf(intermediate, { notBefore, subject: 'CN=builder,O=Acme,L=Seattle,ST=WA,C=US', ...leafOptions });
  return { root, intermediate, leaf, chain: [leaf.der, intermediate.der, root.der], chainPem: [leaf.pem, intermediate.pem, root.pem].join('\n') };
}

let good: TestChain;
let untrusted: TestChain;
let expiredLeaf: TestChain;
let futureLeaf: TestChain;
let noStateLeaf: TestChain;
let crlLeaf: TestChain;
let tsaRoot: TestCertificate;
const target = randomTarget();
const envelopes: Record<string, Uint8Array> = {};

beforeAll(async () => {
  const now = Date.now();
  [good, untrusted, expiredLeaf, futureLeaf, noStateLeaf, crlLeaf, tsaRoot] = await Promise.all([
    chainWithLeaf({}),
    chainWithLeaf({}),
    chainWithLeaf({ notBefore: new Date(now - 10 * DAY), notAfter: new Date(now - DAY) }),
    chainWithLeaf({ notBefore: new Date(now + DAY), notAfter: new Date(now + 10 * DAY) }),
    chainWithLeaf({ subject: 'CN=builder,O=Acme,C=US' }),
    chainWithLeaf({ crlUrl: 'http://crl.example.com/leaf.crl' }),
    createRoot(),
  ]);
  const key = (chain: TestChain) => ({ key: chain.leaf.key, certificateChain: chain.chain });
  const authority = { signingAuthority: { signingProfileVersionArn: VERSION_ARN } };
  envelopes.good = await signTarget(key(good), target);
  envelopes.goodAuthority = await signTarget({ ...key(good), ...authority }, target);
  envelopes.untrusted = await signTarget(key(untrusted), target);
  envelopes.expiredSignature = await signTarget({ ...key(good), clock: () => new Date(now - 2 * DAY), expirySeconds: DAY / 1000 }, target);
  envelopes.expiredLeaf = await signTarget({ ...key(expiredLeaf), clock: () => new Date(now - 5 * DAY) }, target);
  envelopes.expiredLeafAuthority = await signTarget({ ...key(expiredLeaf), ...authority, clock: () => new Date(now - 5 * DAY) }, target);
  envelopes.futureLeaf = await signTarget({ ...key(futureLeaf), clock: () => new Date(now + 2 * DAY) }, target);
  envelopes.noState = await signTarget(key(noStateLeaf), target);
  envelopes.crl = await signTarget(key(crlLeaf), target);
  // The signer refuses to sign outside the certificates' validity, so this one is built directly.
  envelopes.authorityBeforeLeaf = buildJwsEnvelope({
    payload: buildPayload(target),
    key: good.leaf.key,
    certificateChain: good.chain,
    signingScheme: 'notary.x509.signingAuthority',
    signingTime: new Date(good.leaf.certificate.notBefore.getTime() - DAY),
    extendedAttributes: {
      [Header.verificationPlugin]: { value: AwsSigner.plugin, critical: true },
      [AwsSigner.signingProfileVersion]: { value: VERSION_ARN, critical: true },
      [AwsSigner.signingJob]: { value: 'arn:aws:signer:us-east-1:111122223333:/signing-jobs/1', critical: true },
    },
  });
});

const ca = (chain: () => TestChain) => ({ 'ca:test': [chain().root.der] });
const sa = (chain: () => TestChain) => ({ 'signingAuthority:test': [chain().root.der] });

const FAILING: readonly FailingCase[] = [
  {
    name: 'a chain to an untrusted root',
    check: 'authenticity',
    message: /^signature is not produced by a trusted signer: the signature's certificate chain does not contain any trusted certificate$/,
    build: () => ({ envelope: envelopes.untrusted, target, stores: ca(() => good), trustedIdentities: ['*'] }),
  },
  {
    name: 'an x509 signature with only a signingAuthority store',
    check: 'authenticity',
    message: /^no trusted certificates are found to verify authenticity/,
    build: () => ({ envelope: envelopes.good, target, stores: sa(() => good), trustedIdentities: ['*'] }),
  },
  {
    name: 'a leaf outside the x509 trusted identity',
    check: 'authenticity',
    message: /^signing certificate from the digital signature does not match the X\.509 trusted identities \[CN=someone else,O=Acme,ST=WA,C=US\]/,
    build: () => ({ envelope: envelopes.good, target, stores: ca(() => good), trustedIdentities: ['x509.subject:CN=someone else,O=Acme,ST=WA,C=US'] }),
  },
  {
    name: 'a leaf whose subject has no ST (it cannot be matched to an identity)',
    check: 'authenticity',
    message: /cannot be matched to trusted identities: its subject has no mandatory RDN attribute for "ST"/,
    build: () => ({ envelope: envelopes.noState, target, stores: ca(() => noStateLeaf), trustedIdentities: ['x509.subject:C=US,ST=WA,O=Acme'] }),
  },
  {
    name: 'an AWS-shaped signature from another signing profile',
    check: 'authenticity',
    message: /^Signature publisher doesn't match any trusted identities\./,
    build: () => ({
      envelope: envelopes.goodAuthority,
      target,
      stores: sa(() => good),
      trustedIdentities: ['arn:aws:signer:us-east-1:111122223333:/signing-profiles/other'],
      revocation: notRevoked(),
    }),
  },
  {
    name: 'an AWS-shaped signature with only a ca store',
    check: 'authenticity',
    message: /^no trusted certificates are found to verify authenticity/,
    build: () => ({ envelope: envelopes.goodAuthority, target, stores: ca(() => good), trustedIdentities: [PROFILE_ARN], revocation: notRevoked() }),
  },
  {
    name: 'a signature past its expiry',
    check: 'expiry',
    message: /^digital signature has expired on "\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.000Z"$/,
    build: () => ({ envelope: envelopes.expiredSignature, target, stores: ca(() => good), trustedIdentities: [SIGNER_IDENTITY] }),
  },
  {
    name: 'an expired leaf certificate (no timestamp)',
    check: 'authenticTimestamp',
    message: /^verification time is after certificate "CN=builder,O=Acme,L=Seattle,ST=WA,C=US" validity period, it was expired at/,
    build: () => ({ envelope: envelopes.expiredLeaf, target, stores: ca(() => expiredLeaf), trustedIdentities: [SIGNER_IDENTITY] }),
  },
  {
    name: 'a leaf certificate that is not valid yet',
    check: 'authenticTimestamp',
    message: /^verification time is before certificate "CN=builder,O=Acme,L=Seattle,ST=WA,C=US" validity period, it will be valid from/,
    build: () => ({ envelope: envelopes.futureLeaf, target, stores: ca(() => futureLeaf), trustedIdentities: [SIGNER_IDENTITY] }),
  },
  {
    name: 'a tsa store but no timestamp countersignature',
    check: 'authenticTimestamp',
    message: /^no timestamp countersignature was found in the signature envelope$/,
    build: () => ({ envelope: envelopes.good, target, stores: { ...ca(() => good), 'tsa:test': [tsaRoot.der] }, trustedIdentities: [SIGNER_IDENTITY] }),
  },
  {
    name: 'an AWS-shaped authenticSigningTime before the leaf\'s validity',
    check: 'authenticTimestamp',
    message: /^certificate "CN=builder,O=Acme,L=Seattle,ST=WA,C=US" was not valid when the digital signature was produced at/,
    build: () => ({
      envelope: envelopes.authorityBeforeLeaf,
      target,
      stores: sa(() => good),
      trustedIdentities: [PROFILE_ARN],
      revocation: notRevoked(),
    }),
  },
  {
    name: 'an AWS-shaped signature that is revoked',
    check: 'revocation',
    message: /^The signing profile version has been revoked\.$/,
    build: () => ({ envelope: envelopes.goodAuthority, target, stores: sa(() => good), trustedIdentities: [PROFILE_ARN], revocation: revoked() }),
  },
  {
    name: 'an AWS-shaped signature whose revocation check fails',
    check: 'revocation',
    message: /^GetRevocationStatus call failed with error: AccessDeniedException: User is not authorized/,
    build: () => ({ envelope: envelopes.goodAuthority, target, stores: sa(() => good), trustedIdentities: [PROFILE_ARN], revocation: throwing() }),
  },
  {
    name: 'an AWS-shaped signature without a revocation checker',
    check: 'revocation',
    message: /^revocation status could not be checked/,
    build: () => ({ envelope: envelopes.goodAuthority, target, stores: sa(() => good), trustedIdentities: [PROFILE_ARN] }),
  },
  {
    name: 'a leaf with a CRL distribution point and no OCSP/CRL validator (status unknown)',
    check: 'revocation',
    message: /^signing certificate with subject "CN=builder,O=Acme,L=Seattle,ST=WA,C=US" revocation status is unknown: OCSP and CRL checking is not configured/,
    build: () => ({ envelope: envelopes.crl, target, stores: ca(() => crlLeaf), trustedIdentities: [SIGNER_IDENTITY] }),
  },
];

describe.each(SETTINGS.map((setting) => [setting.label, setting] as const))('level %s', (_label, setting) => {
  test('the trust policy gives the level of the spec\'s verification level table', () => {
    const statement = policyStatement(setting.settings, ['ca:test'], ['*']);
    expect(effectiveVerification(statement).actions).toEqual(setting.actions);
    expect(effectiveVerification(statement).level).toBe(setting.settings.override ? 'custom' : setting.settings.level);
  });

  test.each([
    ['an x509 signature', () => ({ envelope: envelopes.good, target, stores: ca(() => good), trustedIdentities: [SIGNER_IDENTITY] })],
    ['an x509 signature under "*"', () => ({ envelope: envelopes.good, target, stores: ca(() => good), trustedIdentities: ['*'] })],
    [
      'an AWS-shaped signature',
      () => ({ envelope: envelopes.goodAuthority, target, stores: sa(() => good), trustedIdentities: [PROFILE_ARN], revocation: notRevoked() }),
    ],
  ] as Array<[string, () => Scenario]>)('%s passes every check', async (_name, build) => {
    const scenario = build();
    const result = await verify(scenario, setting.settings);
    expect(result.failure).toBeUndefined();
    expect(result.verified).toBe(true);
    expect(result.results.map((check) => check.type).sort()).toEqual([...CHECKS].sort());
    for (const check of CHECKS) expect(resultOf(result, check)).toMatchObject({ action: setting.actions[check], ok: true });
  });

  test.each(FAILING.map((failing) => [`${failing.name} fails ${failing.check}`, failing] as const))('%s', async (_name, failing) => {
    const scenario = failing.build();
    const result = await verify(scenario, setting.settings);
    const action = setting.actions[failing.check];
    const check = resultOf(result, failing.check);
    const checker = scenario.revocation as (RevocationChecker & { calls: ParsedEnvelope[] }) | undefined;
    if (action === 'skip') {
      expect(check).toMatchObject({ action: 'skip', ok: true });
      expect(result.verified).toBe(true);
      if (failing.check === 'revocation' && checker) expect(checker.calls).toHaveLength(0);
      return;
    }
    expect(check).toMatchObject({ action, ok: false });
    expect(check.message).toMatch(failing.message);
    // Every other check that ran passed: the case fails only what it names.
    for (const other of result.results.filter((entry) => entry.type !== failing.check)) expect(other).toMatchObject({ ok: true });
    if (action === 'enforce') {
      expect(result.verified).toBe(false);
      expect(result.failure).toBe(check.message);
      expect(result.results[result.results.length - 1]).toBe(check);
    } else {
      expect(result.verified).toBe(true);
      expect(result.failure).toBeUndefined();
      expect(result.results.map((entry) => entry.type).sort()).toEqual([...CHECKS].sort());
    }
    if (failing.check === 'revocation' && checker) expect(checker.calls).toHaveLength(1);
  });
});

describe('AWS Signer trusted identities (signingAuthority scheme)', () => {
  const scenario = (trustedIdentities: string[]): Scenario => ({
    envelope: envelopes.goodAuthority,
    target,
    stores: sa(() => good),
    trustedIdentities,
    revocation: notRevoked(),
  });

  test.each([
    ['the profile ARN', PROFILE_ARN],
    ['the profile ARN with the profile name in other case', PROFILE_ARN.replace('/release', '/RELEASE')],
    ['the profile version ARN', VERSION_ARN],
    ['the profile version ARN in other case', VERSION_ARN.toLowerCase()],
    ['one of several identities', `arn:aws:signer:us-east-1:111122223333:/signing-profiles/other,${VERSION_ARN}`],
  ])('%s is trusted', async (_name, identities) => {
    const result = await verify(scenario(identities.split(',')), { level: 'strict' });
    expect(result.failure).toBeUndefined();
    expect(result.verified).toBe(true);
    expect(resultOf(result, 'authenticity').message).toMatch(/^chain trusted through .*; Signature publisher matched ".*" trusted identity\.$/);
  });

  test.each([
    ['another version of the profile', `${PROFILE_ARN}/ZzZz999999`],
    ['a profile whose name the signed profile starts with', 'arn:aws:signer:us-east-1:111122223333:/signing-profiles/releas'],
    ['a profile with a longer name', 'arn:aws:signer:us-east-1:111122223333:/signing-profiles/release-2'],
    ['the same profile in another account', 'arn:aws:signer:us-east-1:444455556666:/signing-profiles/release'],
    ['the same profile in another region', 'arn:aws:signer:eu-west-1:111122223333:/signing-profiles/release'],
    ['a signing profile alias (the plugin matches profile ARNs only)', 'arn:aws:signer:us-east-1:111122223333:/aliases/release'],
  ])('%s is not trusted', async (_name, identity) => {
    // With a profile ARN beside it the statement can match AWS Signer signatures: the other identity just fails to match.
    const result = await verify(scenario([identity, 'arn:aws:signer:us-east-1:111122223333:/signing-profiles/other']), { level: 'strict' });
    expect(result.verified).toBe(false);
    expect(resultOf(result, 'authenticity')).toMatchObject({ action: 'enforce', ok: false });
    expect(result.failure).toMatch(/^Signature publisher doesn't match any trusted identities\./);
  });

  test.each([
    ['another version of the profile', `${PROFILE_ARN}/ZzZz999999`],
  ])('%s alone is not trusted', async (_name, identity) => {
    const result = await verify(scenario([identity]), { level: 'strict' });
    expect(result.verified).toBe(false);
    expect(resultOf(result, 'authenticity')).toMatchObject({ action: 'enforce', ok: false });
    expect(result.failure).toMatch(/^Signature publisher doesn't match any trusted identities\./);
  });

  test('the revocation checker gets the parsed envelope with the signed profile version', async () => {
    const checker = notRevoked();
    await verify({ ...scenario([PROFILE_ARN]), revocation: checker }, { level: 'strict' });
    expect(checker.calls).toHaveLength(1);
    expect(checker.calls[0].protectedHeaders[AwsSigner.signingProfileVersion]).toBe(VERSION_ARN);
    expect(checker.calls[0].signingScheme).toBe('notary.x509.signingAuthority');
  });

  test('an expired leaf still verifies when the authentic signing time is within its validity', async () => {
    const result = await verify(
      { envelope: envelopes.expiredLeafAuthority, target, stores: sa(() => expiredLeaf), trustedIdentities: [PROFILE_ARN], revocation: notRevoked() },
      { level: 'strict' },
    );
    expect(expiredLeaf.leaf.certificate.notAfter.getTime()).toBeLessThan(Date.now());
    expect(result.failure).toBeUndefined();
    expect(result.verified).toBe(true);
    expect(resultOf(result, 'authenticTimestamp')).toMatchObject({ action: 'enforce', ok: true });
  });
});

/**
 * What the AWS Signer plugin answers with an error fails the signature at every level, as notation-go does with
 * any plugin error (notation-go verifier/verifier.go processSignature; aws/aws-signer-notation-plugin
 * internal/verifier/verifier.go validate and its attribute parsing).
 */
describe('AWS Signer plugin errors fail the signature at every level', () => {
  const JOB = 'arn:aws:signer:us-east-1:111122223333:/signing-jobs/6b8a6d38-3c8c-4c35-9a45-5fd3fbf5f5a1';
  const pluginEnvelope = (scheme: 'notary.x509' | 'notary.x509.signingAuthority', attributes: Record<string, string>): Uint8Array =>
    buildJwsEnvelope({
      payload: buildPayload(target),
      key: good.leaf.key,
      certificateChain: good.chain,
      signingScheme: scheme,
      signingTime: new Date(Date.now() - DAY),
      extendedAttributes: {
        [Header.verificationPlugin]: { value: AwsSigner.plugin, critical: true },
        ...Object.fromEntries(Object.entries(attributes).map(([name, value]) => [name, { value, critical: true }])),
      },
    });
  const PLUGIN_ERRORS: ReadonlyArray<[string, () => Scenario, RegExp]> = [
    [
      'the "*" identity',
      () => ({ envelope: envelopes.goodAuthority, target, stores: sa(() => good), trustedIdentities: ['*'], revocation: notRevoked() }),
      /^failed to verify with plugin com\.amazonaws\.signer\.notation\.plugin: The AWSSigner plugin does not support wildcard identity in the trust policy\.$/,
    ],
    [
      'only x509 identities',
      () => ({ envelope: envelopes.goodAuthority, target, stores: sa(() => good), trustedIdentities: [SIGNER_IDENTITY], revocation: notRevoked() }),
      /names no AWS Signer signing profile ARN among its trusted identities/,
    ],
    [
      // Only the profile part compares case-insensitively: like the plugin's arn.Parse, "ARN:" is not an ARN.
      'only the profile ARN all in capitals',
      () => ({
        envelope: envelopes.goodAuthority,
        target,
        stores: sa(() => good),
        trustedIdentities: [PROFILE_ARN.toUpperCase()],
        revocation: notRevoked(),
      }),
      /names no AWS Signer signing profile ARN among its trusted identities/,
    ],
    [
      'a notary.x509 envelope that names the plugin, even with a ca store and its profile ARN trusted',
      () => ({
        envelope: pluginEnvelope('notary.x509', { [AwsSigner.signingProfileVersion]: VERSION_ARN, [AwsSigner.signingJob]: JOB }),
        target,
        stores: { ...ca(() => good), ...sa(() => good) },
        trustedIdentities: [PROFILE_ARN],
        revocation: notRevoked(),
      }),
      /: 'notary\.x509' signing scheme is not supported$/,
    ],
    [
      'a signature without its signing profile version',
      () => ({
        envelope: pluginEnvelope('notary.x509.signingAuthority', { [AwsSigner.signingJob]: JOB }),
        target,
        stores: sa(() => good),
        trustedIdentities: [PROFILE_ARN],
        revocation: notRevoked(),
      }),
      /: unable to parse attribute "com\.amazonaws\.signer\.signingProfileVersion"\.$/,
    ],
    [
      'a signing profile version that is not a profile version ARN',
      () => ({
        envelope: pluginEnvelope('notary.x509.signingAuthority', { [AwsSigner.signingProfileVersion]: PROFILE_ARN, [AwsSigner.signingJob]: JOB }),
        target,
        stores: sa(() => good),
        trustedIdentities: [PROFILE_ARN],
        revocation: notRevoked(),
      }),
      /: unable to parse attribute "com\.amazonaws\.signer\.signingProfileVersion"\.$/,
    ],
    [
      'a signing job that is not a signing job ARN',
      () => ({
        envelope: pluginEnvelope('notary.x509.signingAuthority', { [AwsSigner.signingProfileVersion]: VERSION_ARN, [AwsSigner.signingJob]: 'job-1' }),
        target,
        stores: sa(() => good),
        trustedIdentities: [PROFILE_ARN],
        revocation: notRevoked(),
      }),
      /: unable to parse attribute "com\.amazonaws\.signer\.signingJob"\.$/,
    ],
  ];

  describe.each(SETTINGS.map((setting) => [setting.label, setting] as const))('level %s', (_label, setting) => {
    test.each(PLUGIN_ERRORS.map(([name, build, message]) => [name, build, message] as const))('%s fails', async (name, build, message) => {
      const result = await verify(build(), setting.settings);
      // The signing job is parsed only when revocation is checked, as the plugin parses it.
      if (name.startsWith('a signing job') && setting.actions.revocation === 'skip') {
        expect(result.verified).toBe(true);
        return;
      }
      expect(result.verified).toBe(false);
      expect(result.failure).toMatch(message);
      expect(result.results[result.results.length - 1]).toMatchObject({ type: 'authenticity', action: 'enforce', ok: false });
    });
  });

  test('a critical signingProfileAlias attribute fails, as the plugin does not process it (notation-go processPluginResponse)', async () => {
    const envelope = pluginEnvelope('notary.x509.signingAuthority', {
      [AwsSigner.signingProfileVersion]: VERSION_ARN,
      [AwsSigner.signingJob]: JOB,
      'com.amazonaws.signer.signingProfileAlias': 'arn:aws:signer:us-east-1:111122223333:/aliases/release',
    });
    const result = await verify({ envelope, target, stores: sa(() => good), trustedIdentities: [PROFILE_ARN], revocation: notRevoked() }, { level: 'audit' });
    expect(result.verified).toBe(false);
    expect(result.failure).toBe(
      'signature envelope is not valid: extended critical attribute "com.amazonaws.signer.signingProfileAlias" was not processed by the verification plugin "com.amazonaws.signer.notation.plugin" (all extended critical attributes must be processed by the verification plugin)',
    );
  });
});

describe('authentic timestamp for notary.x509', () => {
  test('verifyTimestamp afterCertExpiry does not require a timestamp while the chain is valid', async () => {
    const result = await verify(
      { envelope: envelopes.good, target, stores: { ...ca(() => good), 'tsa:test': [tsaRoot.der] }, trustedIdentities: [SIGNER_IDENTITY] },
      { level: 'strict', verifyTimestamp: 'afterCertExpiry' },
    );
    expect(result.failure).toBeUndefined();
    expect(result.verified).toBe(true);
  });

  test('verifyTimestamp afterCertExpiry requires a timestamp once a certificate expired', async () => {
    const result = await verify(
      { envelope: envelopes.expiredLeaf, target, stores: { ...ca(() => expiredLeaf), 'tsa:test': [tsaRoot.der] }, trustedIdentities: [SIGNER_IDENTITY] },
      { level: 'strict', verifyTimestamp: 'afterCertExpiry' },
    );
    expect(result.verified).toBe(false);
    expect(result.failure).toBe('no timestamp countersignature was found in the signature envelope');
  });
});

describe('integrity is enforced at every level', () => {
  test.each(SETTINGS.map((setting) => [setting.label, setting] as const))('a signature over another artifact fails at level %s', async (_label, setting) => {
    const other = randomTarget();
    const result = await verify({ envelope: envelopes.good, target: other, stores: ca(() => good), trustedIdentities: ['*'] }, setting.settings);
    expect(result.verified).toBe(false);
    expect(result.results).toEqual([expect.objectContaining({ type: 'integrity', action: 'enforce', ok: false })]);
    expect(result.failure).toMatch(/^content descriptor mismatch/);
  });

  test.each(SETTINGS.map((setting) => [setting.label, setting] as const))('a corrupted signature fails at level %s', async (_label, setting) => {
    const json = JSON.parse(Buffer.from(envelopes.good).toString('utf8'));
    const signature = Buffer.from(json.signature, 'base64url');
    signature[10] = 255 - signature[10];
    const bytes = new TextEncoder().encode(JSON.stringify({ ...json, signature: signature.toString('base64url') }));
    const result = await verify({ envelope: bytes, target, stores: ca(() => good), trustedIdentities: ['*'] }, setting.settings);
    expect(result.verified).toBe(false);
    expect(result.results).toEqual([expect.objectContaining({ type: 'integrity', action: 'enforce', ok: false })]);
    expect(result.failure).toMatch(/^signature is invalid/);
  });
});
