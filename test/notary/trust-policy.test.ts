import {
  effectiveVerification,
  NoApplicableTrustPolicyError,
  selectStatement,
  trustAnchorsFor,
  TrustStoreError,
} from '../../lambda/notary/trust-policy';
import { isSubsetDN, parseDistinguishedName } from '../../src/shared/distinguished-name';
import {
  parseTrustPolicy,
  TrustPolicyDocument,
  TrustPolicyError,
  TrustPolicyStatement,
  validateTrustPolicyDocument,
} from '../../src/shared/trust-policy';

/** The example trust policy of specs/trust-store-trust-policy.md. */
const SECTION_5A = {
  version: '1.0',
  trustPolicies: [
    {
      name: 'aws-signer-tp',
      registryScopes: ['*'],
      signatureVerification: { level: 'strict', override: { revocation: 'log' }, verifyTimestamp: 'always' },
      trustStores: ['signingAuthority:aws-signer-ts'],
      trustedIdentities: ['arn:aws:signer:us-west-2:111122223333:/signing-profiles/ecr_signing_profile'],
    },
    {
      name: 'x509',
      registryScopes: ['registry.acme-rockets.io/software/net-monitor'],
      signatureVerification: { level: 'strict' },
      trustStores: ['ca:acme-rockets', 'tsa:publicly-trusted-tsa'],
      trustedIdentities: ['x509.subject: C=US, ST=WA, L=Seattle, O=acme-rockets.io, OU=Finance, CN=SecureBuilder'],
    },
  ],
};

/** The trust policy of the AWS Signer developer guide, "Verify an image" (image-verification). */
const SECTION_8C =
  '{"version":"1.0","trustPolicies":[{"name":"aws-signer-tp","registryScopes":["*"],' +
  '"signatureVerification":{"level":"strict"},' +
  '"trustStores":["signingAuthority:aws-signer-ts","signingAuthority:aws-us-gov-signer-ts"],' +
  '"trustedIdentities":["arn:aws:signer:Region:111122223333:/signing-profiles/ecr_signing_profile",' +
  '"arn:aws:signer:Region:111122223333:/signing-profiles/ecr_signing_profile2"]}]}';

const PROD: Record<string, unknown> = {
  name: 'prod',
  registryScopes: ['registry.example.com/app'],
  signatureVerification: { level: 'strict' },
  trustStores: ['ca:acme'],
  trustedIdentities: ['*'],
};

/** A one-statement document whose `prod` statement is PROD with `changes` applied (undefined deletes). */
function withProd(changes: Record<string, unknown>): Record<string, unknown> {
  const statement: Record<string, unknown> = { ...PROD, ...changes };
  for (const [key, value] of Object.entries(changes)) if (value === undefined) delete statement[key];
  return { version: '1.0', trustPolicies: [statement] };
}

function errorOf(input: unknown): TrustPolicyError {
  try {
    parseTrustPolicy(input);
  } catch (error) {
    expect(error).toBeInstanceOf(TrustPolicyError);
    return error as TrustPolicyError;
  }
  throw new Error('the trust policy was accepted');
}

describe('valid trust policies', () => {
  test('the spec\'s example policy is accepted, as text and as a value', () => {
    expect(parseTrustPolicy(JSON.stringify(SECTION_5A)).trustPolicies.map((s) => s.name)).toEqual(['aws-signer-tp', 'x509']);
    expect(parseTrustPolicy(SECTION_5A)).toBe(SECTION_5A);
  });

  test("the AWS documentation's policy is accepted by validateTrustPolicyDocument", () => {
    expect(() => validateTrustPolicyDocument(SECTION_8C)).not.toThrow();
  });

  test('a skip statement needs no trust stores or identities; empty overrides and verifyTimestamp "" are accepted', () => {
    const doc = parseTrustPolicy({
      version: '1.0',
      trustPolicies: [
        { name: 'skip-dev', registryScopes: ['local/devLayout', 'dev.example.com:5000/team/app'], signatureVerification: { level: 'skip' } },
        { name: 'prod', registryScopes: ['*'], signatureVerification: { level: 'audit', override: {}, verifyTimestamp: '' }, trustStores: ['ca:a', 'ca:a'], trustedIdentities: ['*'] },
      ],
    });
    expect(doc.trustPolicies).toHaveLength(2);
  });

  test('non-overlapping x509 subjects and plugin-style identities are accepted', () => {
    expect(() =>
      parseTrustPolicy(
        withProd({
          trustedIdentities: [
            'x509.subject: C=US, ST=WA, O=acme, CN=builder',
            'x509.subject: C=US, ST=WA, O=acme, CN=releaser',
            'arn:aws:signer:us-west-2:111122223333:/signing-profiles/release/abcdEF1234',
          ],
        }),
      ),
    ).not.toThrow();
  });
});

describe('document rules', () => {
  test.each<[string, unknown, string]>([
    ['malformed JSON', '{"version":', 'malformed trust policy'],
    ['not an object', '[]', 'trust policy: the document must be a JSON object'],
    ['missing version', { trustPolicies: [PROD] }, 'trust policy: version is empty or missing'],
    ['unsupported version', { version: '2.0', trustPolicies: [PROD] }, 'trust policy: version "2.0" is not supported'],
    ['zero statements', { version: '1.0', trustPolicies: [] }, 'trust policy: trustPolicies: the document can not have zero trust policy statements'],
    ['no statements', { version: '1.0' }, 'can not have zero trust policy statements'],
    ['unknown top-level field', { version: '1.0', trustPolicies: [PROD], globalPolicy: true }, 'trust policy: unknown field "globalPolicy"'],
  ])('%s', (_, input, message) => {
    expect(errorOf(input).message).toContain(message);
  });

  test('statement names must be unique', () => {
    const error = errorOf({ version: '1.0', trustPolicies: [PROD, { ...PROD, registryScopes: ['registry.example.com/other'] }] });
    expect(error.message).toContain('multiple trust policy statements use the same name "prod"');
    expect(error.statement).toBe('prod');
    expect(error.field).toBe('name');
  });
});

describe('statement rules name the statement and the field', () => {
  test.each<[string, Record<string, unknown>, string, string]>([
    ['empty name', { name: '' }, 'trust policy statement trustPolicies[0]: name is empty or missing, every statement requires a name', 'name'],
    ['unknown statement field', { scopes: ['x'] }, 'trust policy statement "prod": unknown field "scopes"', 'scopes'],
    ['missing signatureVerification', { signatureVerification: undefined }, 'trust policy statement "prod": signatureVerification is missing', 'signatureVerification'],
    ['unknown signatureVerification field', { signatureVerification: { level: 'strict', levle: 'x' } }, 'unknown field "signatureVerification.levle"', 'signatureVerification.levle'],
    ['missing level', { signatureVerification: {} }, 'signatureVerification.level: signature verification level is empty or missing', 'signatureVerification.level'],
    ['unknown level', { signatureVerification: { level: 'paranoid' } }, 'signatureVerification.level: invalid signature verification level "paranoid"', 'signatureVerification.level'],
    ['unknown override key', { signatureVerification: { level: 'strict', override: { signature: 'log' } } }, 'signatureVerification.override.signature: verification type "signature" in custom signature verification is not supported', 'signatureVerification.override.signature'],
    ['unknown override value', { signatureVerification: { level: 'strict', override: { expiry: 'warn' } } }, 'signatureVerification.override.expiry: verification action "warn" in custom signature verification is not supported', 'signatureVerification.override.expiry'],
    ['integrity overridden', { signatureVerification: { level: 'strict', override: { integrity: 'log' } } }, 'trust policy statement "prod": signatureVerification.override.integrity: "integrity" verification can not be overridden', 'signatureVerification.override.integrity'],
    ['skip other than revocation', { signatureVerification: { level: 'strict', override: { authenticity: 'skip' } } }, 'signatureVerification.override.authenticity: "authenticity" verification can not be skipped', 'signatureVerification.override.authenticity'],
    ['skip level with override', { signatureVerification: { level: 'skip', override: { revocation: 'log' } }, trustStores: undefined, trustedIdentities: undefined }, 'signatureVerification.override: signature verification level "skip" can\'t be used to customize signature verification', 'signatureVerification.override'],
    ['bad verifyTimestamp', { signatureVerification: { level: 'strict', verifyTimestamp: 'never' } }, 'signatureVerification.verifyTimestamp must be "always" or "afterCertExpiry", but got "never"', 'signatureVerification.verifyTimestamp'],
    ['skip with trust stores', { signatureVerification: { level: 'skip' }, trustedIdentities: undefined }, 'is set to skip signature verification but configured with trust stores and/or trusted identities', 'trustStores'],
    ['skip with identities', { signatureVerification: { level: 'skip' }, trustStores: undefined }, 'is set to skip signature verification but configured with trust stores and/or trusted identities', 'trustedIdentities'],
    ['strict without trust stores', { trustStores: [] }, 'trustStores: is either missing trust stores or trusted identities, both must be specified', 'trustStores'],
    ['audit without identities', { signatureVerification: { level: 'audit' }, trustedIdentities: undefined }, 'trustedIdentities: is either missing trust stores or trusted identities', 'trustedIdentities'],
    ['trust stores not an array', { trustStores: 'ca:acme' }, 'trustStores must be an array of strings', 'trustStores'],
    ['trust store without type', { trustStores: ['acme'] }, 'trustStores[0]: malformed trust store value "acme". The required format is <TrustStoreType>:<TrustStoreName>', 'trustStores[0]'],
    ['wildcard trust store', { trustStores: ['ca:acme', '*'] }, 'trustStores[1]: malformed trust store value "*"', 'trustStores[1]'],
    ['unknown trust store type', { trustStores: ['x509:acme'] }, 'trustStores[0]: unsupported trust store type "x509"', 'trustStores[0]'],
    ['invalid trust store name', { trustStores: ['ca:acme/../etc'] }, 'trustStores[0]: unsupported trust store name "acme/../etc"', 'trustStores[0]'],
    ['empty trust store name', { trustStores: ['ca:'] }, 'trustStores[0]: unsupported trust store name ""', 'trustStores[0]'],
    ['wildcard identity with others', { trustedIdentities: ['*', 'x509.subject: C=US, ST=WA, O=acme'] }, "trustedIdentities: uses a wildcard trusted identity '*', a wildcard identity cannot be used in conjunction with other values", 'trustedIdentities'],
    ['empty identity', { trustedIdentities: [''] }, 'trustedIdentities[0]: has an empty trusted identity', 'trustedIdentities[0]'],
    ['identity without prefix', { trustedIdentities: ['builder'] }, 'trustedIdentities[0]: trusted identity "builder" is missing separator', 'trustedIdentities[0]'],
    ['x509.subject without value', { trustedIdentities: ['x509.subject:'] }, 'trustedIdentities[0]: trusted identity "x509.subject:" without an identity value', 'trustedIdentities[0]'],
    ['x509.subject without C, ST and O', { trustedIdentities: ['x509.subject: CN=builder'] }, 'trustedIdentities[0]: trusted identity "x509.subject: CN=builder" with invalid identity value', 'trustedIdentities[0]'],
    ['x509.subject that is not a DN', { trustedIdentities: ['x509.subject: not a name'] }, 'trustedIdentities[0]: trusted identity "x509.subject: not a name" with invalid identity value', 'trustedIdentities[0]'],
    ['multi-valued RDN in x509.subject', { trustedIdentities: ['x509.subject: C=US+ST=WA, O=acme'] }, 'with invalid identity value: distinguished name (DN) "C=US+ST=WA, O=acme" has multi-valued RDN attributes', 'trustedIdentities[0]'],
    ['duplicate attribute in x509.subject', { trustedIdentities: ['x509.subject: C=US, ST=WA, O=acme, O=other'] }, 'has duplicate RDN attribute for "O"', 'trustedIdentities[0]'],
    ['hex value in x509.subject', { trustedIdentities: ['x509.subject: C=US, ST=WA, O=#0c0461636d65'] }, 'has a hex-encoded value for "O"', 'trustedIdentities[0]'],
    ['overlapping x509 subjects', { trustedIdentities: ['x509.subject: C=US, ST=WA, O=acme', 'x509.subject: C=US, ST=WA, O=acme, CN=builder'] }, 'trustedIdentities: has overlapping x509 trustedIdentities, "x509.subject: C=US, ST=WA, O=acme" overlaps with "x509.subject: C=US, ST=WA, O=acme, CN=builder"', 'trustedIdentities'],
    ['wildcard with AWS Signer ARNs', { trustStores: ['signingAuthority:aws-signer-ts'], trustedIdentities: ['*', 'arn:aws:signer:us-west-2:111122223333:/signing-profiles/release'] }, 'AWS Signer does not support wildcard identity in the trust policy', 'trustedIdentities'],
    ['wildcard with the AWS Signer store', { trustStores: ['signingAuthority:aws-signer-ts'], trustedIdentities: ['*'] }, 'wildcard trusted identity \'*\' with the AWS Signer trust store "signingAuthority:aws-signer-ts"', 'trustedIdentities'],
    ['no registry scopes', { registryScopes: [] }, 'registryScopes: has zero registry scopes, it must specify registry scopes with at least one value', 'registryScopes'],
    ['missing registry scopes', { registryScopes: undefined }, 'registryScopes: has zero registry scopes', 'registryScopes'],
    ['wildcard scope with others', { registryScopes: ['*', 'registry.example.com/app'] }, "registryScopes: uses wildcard registry scope '*', a wildcard scope cannot be used in conjunction with other scope values", 'registryScopes'],
    ['scope with a wildcard inside', { registryScopes: ['registry.example.com/*'] }, 'registryScopes[0]: registry scope "registry.example.com/*" with wild card(s) is not valid', 'registryScopes[0]'],
    ['scope with a scheme', { registryScopes: ['https://registry.example.com/app'] }, 'registryScopes[0]: registry scope "https://registry.example.com/app" is not valid, make sure it is a fully qualified repository without the scheme, protocol or tag', 'registryScopes[0]'],
    ['scope with a tag', { registryScopes: ['registry.example.com/app:v1'] }, 'registryScopes[0]: registry scope "registry.example.com/app:v1" is not valid', 'registryScopes[0]'],
    ['scope with a digest', { registryScopes: [`registry.example.com/app@sha256:${'a'.repeat(64)}`] }, 'registryScopes[0]: registry scope "registry.example.com/app@sha256:', 'registryScopes[0]'],
    ['scope without a repository', { registryScopes: ['registry.example.com'] }, 'registryScopes[0]: registry scope "registry.example.com" is not valid', 'registryScopes[0]'],
    ['scope with an uppercase repository', { registryScopes: ['registry.example.com/App'] }, 'registryScopes[0]: registry scope "registry.example.com/App" is not valid', 'registryScopes[0]'],
    ['empty scope', { registryScopes: [''] }, 'registryScopes[0]: registry scope "" is not valid', 'registryScopes[0]'],
    ['scope listed twice', { registryScopes: ['registry.example.com/app', 'registry.example.com/app'] }, 'registryScopes[1]: registry scope "registry.example.com/app" is listed twice', 'registryScopes[1]'],
  ])('%s', (_, changes, message, field) => {
    const error = errorOf(withProd(changes));
    expect(error.message).toContain(message);
    expect(error.statement).toBe(changes.name === '' ? 'trustPolicies[0]' : 'prod');
    expect(error.field).toBe(field);
  });

  test('the wildcard scope may appear in only one statement', () => {
    const error = errorOf({
      version: '1.0',
      trustPolicies: [
        { ...PROD, name: 'first', registryScopes: ['*'] },
        { ...PROD, name: 'second', registryScopes: ['*'] },
      ],
    });
    expect(error.message).toBe(
      'trust policy statement "second": registryScopes: wildcard registry scope \'*\' is also used by statement "first", only one statement can use it',
    );
  });

  test('a registry scope may appear in only one statement', () => {
    const error = errorOf({
      version: '1.0',
      trustPolicies: [
        { ...PROD, name: 'first', registryScopes: ['registry.example.com/app'] },
        { ...PROD, name: 'second', registryScopes: ['registry.example.com/other', 'registry.example.com/app'] },
      ],
    });
    expect(error.message).toContain('registry scope "registry.example.com/app" is present in multiple trust policy statements ("first" and "second")');
    expect(error.statement).toBe('second');
  });
});

describe('parseDistinguishedName', () => {
  test('reads escaped separators, quoted values and the S alias of ST', () => {
    expect(parseDistinguishedName('C=US, S=WA, O=acme\\, inc., OU="Build + Release", CN=a\\2bb')).toEqual({
      C: 'US',
      ST: 'WA',
      O: 'acme, inc.',
      OU: 'Build + Release',
      CN: 'a+b',
    });
  });

  test('an identity is a subset of a DN with more attributes, not the other way round', () => {
    const small = parseDistinguishedName('C=US, ST=WA, O=acme');
    const large = parseDistinguishedName('C=US, ST=WA, O=acme, CN=builder');
    expect(isSubsetDN(small, large)).toBe(true);
    expect(isSubsetDN(large, small)).toBe(false);
  });
});

describe('selectStatement', () => {
  const doc = parseTrustPolicy(SECTION_5A);
  const exactOnly = parseTrustPolicy({ version: '1.0', trustPolicies: [SECTION_5A.trustPolicies[1]] });

  test('an exact registry scope wins over the wildcard', () => {
    expect(selectStatement(doc, 'registry.acme-rockets.io/software/net-monitor').name).toBe('x509');
  });

  test('the wildcard statement applies to any other scope', () => {
    expect(selectStatement(doc, 'registry.acme-rockets.io/software/other').name).toBe('aws-signer-tp');
  });

  test("no applicable statement is notation's error, naming the artifact", () => {
    const reference = `registry.acme-rockets.io/software/other@sha256:${'b'.repeat(64)}`;
    expect(() => selectStatement(exactOnly, 'registry.acme-rockets.io/software/other', reference)).toThrow(NoApplicableTrustPolicyError);
    expect(() => selectStatement(exactOnly, 'registry.acme-rockets.io/software/other', reference)).toThrow(
      `artifact "${reference}" has no applicable trust policy statement. Trust policy applicability for a given artifact is determined by registryScopes. To create a trust policy, see: https://notaryproject.dev/docs/quickstart/#create-a-trust-policy`,
    );
  });

  test('a scope is not a prefix match', () => {
    expect(() => selectStatement(exactOnly, 'registry.acme-rockets.io/software')).toThrow(NoApplicableTrustPolicyError);
  });
});

describe('effectiveVerification', () => {
  function statementWith(signatureVerification: Record<string, unknown>): TrustPolicyStatement {
    return parseTrustPolicy(withProd({ signatureVerification, ...(signatureVerification.level === 'skip' ? { trustStores: undefined, trustedIdentities: undefined } : {}) })).trustPolicies[0];
  }

  test.each([
    ['strict', { integrity: 'enforce', authenticity: 'enforce', authenticTimestamp: 'enforce', expiry: 'enforce', revocation: 'enforce' }],
    ['permissive', { integrity: 'enforce', authenticity: 'enforce', authenticTimestamp: 'log', expiry: 'log', revocation: 'log' }],
    ['audit', { integrity: 'enforce', authenticity: 'log', authenticTimestamp: 'log', expiry: 'log', revocation: 'log' }],
    ['skip', { integrity: 'skip', authenticity: 'skip', authenticTimestamp: 'skip', expiry: 'skip', revocation: 'skip' }],
  ])('level %s follows the spec\'s verification level table', (level, actions) => {
    expect(effectiveVerification(statementWith({ level }))).toEqual({ level, actions, verifyTimestamp: 'always' });
  });

  test('overrides make a custom level on top of the base level', () => {
    expect(effectiveVerification(statementWith({ level: 'permissive', override: { revocation: 'skip', expiry: 'enforce' }, verifyTimestamp: 'afterCertExpiry' }))).toEqual({
      level: 'custom',
      actions: { integrity: 'enforce', authenticity: 'enforce', authenticTimestamp: 'log', expiry: 'enforce', revocation: 'skip' },
      verifyTimestamp: 'afterCertExpiry',
    });
  });

  test('an empty override keeps the level name', () => {
    expect(effectiveVerification(statementWith({ level: 'audit', override: {} })).level).toBe('audit');
  });
});

describe('trustAnchorsFor', () => {
  const ca = new Uint8Array([1]);
  const tsa = new Uint8Array([2]);
  const signer = new Uint8Array([3]);
  const doc: TrustPolicyDocument = parseTrustPolicy(SECTION_5A);

  test('collects the certificates of the named stores by type, ignoring stores the statement does not name', () => {
    const stores = new Map([
      ['ca:acme-rockets', [ca]],
      ['tsa:publicly-trusted-tsa', [tsa]],
      ['signingAuthority:aws-signer-ts', [signer]],
    ]);
    expect(trustAnchorsFor(doc.trustPolicies[1], stores)).toEqual({ ca: [ca], signingAuthority: [], tsa: [tsa] });
  });

  test('a named store that is missing is a trust store error naming it and the statement', () => {
    const call = () => trustAnchorsFor(doc.trustPolicies[1], new Map([['ca:acme-rockets', [ca]]]));
    expect(call).toThrow(TrustStoreError);
    expect(call).toThrow('trust store "tsa:publicly-trusted-tsa" used by trust policy statement "x509" does not exist');
  });

  test('an empty named store is an error', () => {
    const call = () => trustAnchorsFor(doc.trustPolicies[0], new Map([['signingAuthority:aws-signer-ts', []]]));
    expect(call).toThrow('no x509 certificates were found in trust store "signingAuthority:aws-signer-ts"');
  });
});
