/**
 * Every trust policy rule, broken once, through the CLI: `policy validate` refuses the file naming it and
 * the rule, and `verify` refuses to run with it (before reading the registry, so nothing changes there).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { snapshot } from './registry-state';
import { RegistryRepository } from '../../lambda/oci/registry-repository';
import { plainRegistry } from '../harness/env';
import { runSignedImage } from '../util/cli';
import { createRandomImage, pushImage } from '../util/images';
import { writeNotationConfig } from '../util/notation-config';

const PREFIX = `bad-input/policy-${randomBytes(4).toString('hex')}`;
const dir = mkdtempSync(join(tmpdir(), 'bad-policies-'));
const ARN = 'arn:aws:signer:us-west-2:111122223333:/signing-profiles/release';
const SUBJECT = 'x509.subject: C=US, ST=WA, O=acme';

const PROD = {
  name: 'prod',
  registryScopes: ['registry.example.com/app'],
  signatureVerification: { level: 'strict' },
  trustStores: ['ca:acme'],
  trustedIdentities: [SUBJECT],
};
const doc = (statement: Record<string, unknown>) => ({ version: '1.0', trustPolicies: [{ ...PROD, ...statement }] });
const level = (signatureVerification: Record<string, unknown>) => doc({ signatureVerification });

/** [the rule broken, the document (text or JSON value), what the message says]. */
const CASES: Array<[string, unknown, string]> = [
  ['malformed JSON', '{"version": "1.0", ', 'malformed trust policy'],
  ['a document that is not an object', '"trust me"', 'trust policy: the document must be a JSON object'],
  ['unknown top-level field', { ...doc({}), extra: 1 }, 'trust policy: unknown field "extra"'],
  ['missing version', { trustPolicies: [PROD] }, 'trust policy: version is empty or missing'],
  ['unsupported version', { version: '1.1', trustPolicies: [PROD] }, 'trust policy: version "1.1" is not supported'],
  ['no statements', { version: '1.0', trustPolicies: [] }, 'trustPolicies: the document can not have zero trust policy statements'],
  ['a statement that is not an object', { version: '1.0', trustPolicies: ['prod'] }, 'trustPolicies[0]: a statement must be a JSON object'],
  ['a statement without a name', doc({ name: '' }), 'name is empty or missing, every statement requires a name'],
  ['duplicate statement names', { version: '1.0', trustPolicies: [PROD, { ...PROD, registryScopes: ['registry.example.com/b'] }] }, 'statement names must be unique'],
  ['unknown statement field', doc({ scope: 'x' }), 'trust policy statement "prod": unknown field "scope"'],
  ['missing signatureVerification', doc({ signatureVerification: undefined }), 'signatureVerification is missing'],
  ['missing level', level({}), 'signature verification level is empty or missing'],
  ['unknown level', level({ level: 'lenient' }), 'invalid signature verification level "lenient"'],
  ['unknown override check', level({ level: 'strict', override: { freshness: 'log' } }), 'verification type "freshness" in custom signature verification is not supported'],
  ['unknown override action', level({ level: 'strict', override: { expiry: 'ignore' } }), 'verification action "ignore" in custom signature verification is not supported'],
  ['integrity overridden', level({ level: 'strict', override: { integrity: 'log' } }), '"integrity" verification can not be overridden'],
  ['authenticity skipped', level({ level: 'strict', override: { authenticity: 'skip' } }), '"authenticity" verification can not be skipped'],
  ['skip level customised', doc({ signatureVerification: { level: 'skip', override: { revocation: 'log' } }, trustStores: undefined, trustedIdentities: undefined }), 'level "skip" can\'t be used to customize'],
  ['bad verifyTimestamp', level({ level: 'strict', verifyTimestamp: 'sometimes' }), 'verifyTimestamp must be "always" or "afterCertExpiry"'],
  ['skip level with trust stores', doc({ signatureVerification: { level: 'skip' }, trustedIdentities: undefined }), 'is set to skip signature verification but configured with trust stores'],
  ['no trust stores', doc({ trustStores: [] }), 'trustStores: is either missing trust stores or trusted identities'],
  ['no trusted identities', doc({ trustedIdentities: undefined }), 'trustedIdentities: is either missing trust stores or trusted identities'],
  ['trust stores not an array', doc({ trustStores: 'ca:acme' }), 'trustStores must be an array of strings'],
  ['trust store without a type', doc({ trustStores: ['acme'] }), 'malformed trust store value "acme"'],
  ['unknown trust store type', doc({ trustStores: ['pem:acme'] }), 'unsupported trust store type "pem"'],
  ['trust store name with a path', doc({ trustStores: ['ca:../../etc'] }), 'unsupported trust store name "../../etc"'],
  ['wildcard identity with others', doc({ trustedIdentities: ['*', SUBJECT] }), 'a wildcard identity cannot be used in conjunction with other values'],
  ['wildcard identity with AWS Signer ARNs', doc({ trustStores: ['signingAuthority:aws-signer-ts'], trustedIdentities: ['*', ARN] }), 'AWS Signer does not support wildcard identity'],
  ['wildcard identity with the AWS Signer store', doc({ trustStores: ['signingAuthority:aws-signer-ts'], trustedIdentities: ['*'] }), 'with the AWS Signer trust store'],
  ['empty identity', doc({ trustedIdentities: [''] }), 'has an empty trusted identity'],
  ['identity without a prefix', doc({ trustedIdentities: ['acme'] }), 'trusted identity "acme" is missing separator'],
  ['identity without a value', doc({ trustedIdentities: ['x509.subject: '] }), 'without an identity value'],
  ['subject without C, ST and O', doc({ trustedIdentities: ['x509.subject: CN=builder'] }), 'with invalid identity value'],
  ['overlapping subjects', doc({ trustedIdentities: [SUBJECT, `${SUBJECT}, CN=builder`] }), 'has overlapping x509 trustedIdentities'],
  ['no registry scopes', doc({ registryScopes: [] }), 'registryScopes: has zero registry scopes'],
  ['wildcard scope with others', doc({ registryScopes: ['*', 'registry.example.com/app'] }), "uses wildcard registry scope '*', a wildcard scope cannot be used in conjunction"],
  ['scope with a wildcard inside', doc({ registryScopes: ['registry.example.com/*'] }), 'with wild card(s) is not valid'],
  ['scope with a tag', doc({ registryScopes: ['registry.example.com/app:v1'] }), 'registry scope "registry.example.com/app:v1" is not valid'],
  ['scope listed twice', doc({ registryScopes: ['registry.example.com/app', 'registry.example.com/app'] }), 'is listed twice'],
  [
    'a scope in two statements',
    { version: '1.0', trustPolicies: [PROD, { ...PROD, name: 'other' }] },
    'registry scope "registry.example.com/app" is present in multiple trust policy statements',
  ],
  [
    'the wildcard scope in two statements',
    { version: '1.0', trustPolicies: [{ ...PROD, registryScopes: ['*'] }, { ...PROD, name: 'other', registryScopes: ['*'] }] },
    "wildcard registry scope '*' is also used by statement",
  ],
];

let reference: string;

beforeAll(async () => {
  const repository = new RegistryRepository({ registry: plainRegistry(), repository: PREFIX, plainHttp: true });
  const image = await pushImage(repository, createRandomImage(), 'v1');
  reference = `${plainRegistry()}/${PREFIX}@${image.digest}`;
});

describe('invalid trust policies through the CLI', () => {
  test(`policy validate refuses each of ${CASES.length} broken rules, naming the file and the rule`, async () => {
    for (const [rule, document, message] of CASES) {
      const file = join(dir, `${rule.replace(/\W+/g, '-')}.json`);
      writeFileSync(file, typeof document === 'string' ? document : JSON.stringify(document));
      const run = await runSignedImage(['policy', 'validate', file]);
      expect({ rule, code: run.code, stdout: run.stdout }).toEqual({ rule, code: 1, stdout: '' });
      expect({ rule, stderr: run.stderr }).toEqual({ rule, stderr: expect.stringContaining(`Error: ${file}: `) });
      expect({ rule, stderr: run.stderr }).toEqual({ rule, stderr: expect.stringContaining(message) });
    }
  });

  test('verify refuses to run with each, naming the policy file, and the registry is unchanged', async () => {
    const before = await snapshot(PREFIX);
    expect(before).toEqual({ [PREFIX]: ['v1'] });
    for (const [rule, document, message] of CASES) {
      const configDir = writeNotationConfig({});
      writeFileSync(join(configDir, 'trustpolicy.json'), typeof document === 'string' ? document : JSON.stringify(document));
      const run = await runSignedImage(['verify', '--plain-http', '--config-dir', configDir, reference]);
      expect({ rule, code: run.code, stdout: run.stdout }).toEqual({ rule, code: 2, stdout: '' });
      expect({ rule, stderr: run.stderr }).toEqual({ rule, stderr: expect.stringContaining(message) });
      expect({ rule, stderr: run.stderr }).toEqual({ rule, stderr: expect.stringContaining(join(configDir, 'trustpolicy.json')) });
    }
    expect(await snapshot(PREFIX)).toEqual(before);
  });
});
