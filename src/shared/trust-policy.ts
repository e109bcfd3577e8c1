/**
 * Notary Project trust policy, version 1.0 (notation's `trustpolicy.oci.json` / `trustpolicy.json`): the document
 * model and its validation with every rule notation-go enforces (notation-go verifier/trustpolicy).
 *
 * Shared by the `TrustPolicy` construct, which checks a policy at synth time, and the engine (lambda/notary), which
 * checks it again before verifying; the engine's statement selection and trust anchors are in
 * lambda/notary/trust-policy.ts. Pure: it imports only the other shared modules.
 */
import { AWS_SIGNER_TRUST_STORE_KEYS } from './aws-signer';
import { isSubsetDN, parseDistinguishedName } from './distinguished-name';

/** The verification checks that a trust policy level enforces, logs or skips. */
export type CheckType = 'integrity' | 'authenticity' | 'authenticTimestamp' | 'expiry' | 'revocation';
export type CheckAction = 'enforce' | 'log' | 'skip';
export type VerificationLevelName = 'strict' | 'permissive' | 'audit' | 'skip';

/** The only trust policy version there is. */
export const TRUST_POLICY_VERSION = '1.0';
export const TRUST_POLICY_LINK = 'https://notaryproject.dev/docs/quickstart/#create-a-trust-policy';

export type TrustStoreType = 'ca' | 'signingAuthority' | 'tsa';
export const TRUST_STORE_TYPES: readonly TrustStoreType[] = ['ca', 'signingAuthority', 'tsa'];
/** Named trust store names are file names: notation's `file.IsValidFileName`. */
export const TRUST_STORE_NAME = /^[a-zA-Z0-9_.-]+$/;
export interface SignatureVerificationSettings {
  readonly level: VerificationLevelName;
  readonly override?: Readonly<Partial<Record<CheckType, CheckAction>>>;
  /** `""` (same as `always`), `always` or `afterCertExpiry`. */
  readonly verifyTimestamp?: '' | 'always' | 'afterCertExpiry';
}

export interface TrustPolicyStatement {
  readonly name: string;
  readonly registryScopes: readonly string[];
  readonly signatureVerification: SignatureVerificationSettings;
  readonly trustStores?: readonly string[];
  readonly trustedIdentities?: readonly string[];
}

export interface TrustPolicyDocument {
  readonly version: '1.0';
  readonly trustPolicies: readonly TrustPolicyStatement[];
}

/** An invalid trust policy. The message names the statement and the field, in notation's wording. */
export class TrustPolicyError extends Error {
  constructor(
    message: string,
    /** The statement's name, or `trustPolicies[<i>]` when it has none. */
    readonly statement?: string,
    /** The field path inside the statement (or the document), e.g. `signatureVerification.override.integrity`. */
    readonly field?: string,
  ) {
    super(message);
    this.name = 'TrustPolicyError';
  }
}

const CHECK_TYPES: readonly CheckType[] = ['integrity', 'authenticity', 'authenticTimestamp', 'expiry', 'revocation'];
const CHECK_ACTIONS: readonly CheckAction[] = ['enforce', 'log', 'skip'];

/** What each level does with each check (specs/trust-store-trust-policy.md, "Signature Verification details"). */
export const VERIFICATION_LEVELS: Readonly<Record<VerificationLevelName, Readonly<Record<CheckType, CheckAction>>>> = {
  strict: { integrity: 'enforce', authenticity: 'enforce', authenticTimestamp: 'enforce', expiry: 'enforce', revocation: 'enforce' },
  permissive: { integrity: 'enforce', authenticity: 'enforce', authenticTimestamp: 'log', expiry: 'log', revocation: 'log' },
  audit: { integrity: 'enforce', authenticity: 'log', authenticTimestamp: 'log', expiry: 'log', revocation: 'log' },
  skip: { integrity: 'skip', authenticity: 'skip', authenticTimestamp: 'skip', expiry: 'skip', revocation: 'skip' },
};
const LEVEL_NAMES = Object.keys(VERIFICATION_LEVELS) as VerificationLevelName[];

const DOCUMENT_FIELDS = ['version', 'trustPolicies'];
const STATEMENT_FIELDS = ['name', 'registryScopes', 'signatureVerification', 'trustStores', 'trustedIdentities'];
const SIGNATURE_VERIFICATION_FIELDS = ['level', 'override', 'verifyTimestamp'];
const VERIFY_TIMESTAMP_VALUES = ['', 'always', 'afterCertExpiry'];

/** The registry scope and trusted identity that match everything. */
export const WILDCARD = '*';
const X509_SUBJECT = 'x509.subject';
/** A Signer profile (`.../signing-profiles/<name>`) or profile version (`.../<name>/<version>`) ARN. */
const AWS_SIGNER_PROFILE_ARN = /^arn:aws[a-z-]*:signer:[a-z0-9-]+:[0-9]{12}:\/signing-profiles\/[^/]+(\/[^/]+)?$/i;

// The distribution reference regexes notation-go uses for registry scopes (oci.go validateRegistryScopeFormat).
const SCOPE_DOMAIN =
  /^(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))+)?(?::[0-9]+)?$/;
const SCOPE_REPOSITORY =
  /^[a-z0-9]+(?:(?:(?:[._]|__|[-]*)[a-z0-9]+)+)?(?:(?:\/[a-z0-9]+(?:(?:(?:[._]|__|[-]*)[a-z0-9]+)+)?)+)?$/;
/** OCI layout scopes are `local/<directory name>`; directory names may have capitals (notation's own example). */
const LOCAL_SCOPE = /^local\/[a-zA-Z0-9_.-]+$/;
const SCOPE_HINT =
  'make sure it is a fully qualified repository without the scheme, protocol or tag. ' +
  'For example domain.com/my/repository or a local scope like local/myOCILayout';

/**
 * Parses and validates a trust policy (JSON text or an already parsed value). Throws TrustPolicyError
 * on the first rule that is broken.
 */
export function parseTrustPolicy(input: string | unknown): TrustPolicyDocument {
  const value = typeof input === 'string' ? parseJson(input) : input;
  validate(value);
  return value as TrustPolicyDocument;
}

/** Validates trust policy JSON text; throws TrustPolicyError on the first invalid rule. Used at CDK synth time. */
export function validateTrustPolicyDocument(json: string): void {
  parseTrustPolicy(json);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new TrustPolicyError(`malformed trust policy: ${(error as Error).message}. To create a trust policy, see: ${TRUST_POLICY_LINK}`);
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function rejectUnknownFields(value: Record<string, unknown>, known: readonly string[], fail: (message: string, field?: string) => never, prefix = ''): void {
  const unknown = Object.keys(value).filter((key) => !known.includes(key));
  if (unknown.length > 0) {
    fail(
      `unknown field${unknown.length > 1 ? 's' : ''} ${unknown.map((key) => `"${prefix}${key}"`).join(', ')}, supported fields are ${known.map((key) => `"${prefix}${key}"`).join(', ')}`,
      `${prefix}${unknown[0]}`,
    );
  }
}

function validate(document: unknown): void {
  const failDocument = (message: string, field?: string): never => {
    throw new TrustPolicyError(`trust policy: ${message}`, undefined, field);
  };
  if (!isObject(document)) failDocument('the document must be a JSON object');
  const doc = document as Record<string, unknown>;
  rejectUnknownFields(doc, DOCUMENT_FIELDS, failDocument);
  if (doc.version === undefined || doc.version === '') {
    failDocument('version is empty or missing, version must be specified', 'version');
  }
  if (doc.version !== TRUST_POLICY_VERSION) {
    failDocument(`version ${JSON.stringify(doc.version)} is not supported, the supported version is "${TRUST_POLICY_VERSION}"`, 'version');
  }
  if (!Array.isArray(doc.trustPolicies) || doc.trustPolicies.length === 0) {
    failDocument('trustPolicies: the document can not have zero trust policy statements', 'trustPolicies');
  }

  const statementsByName = new Map<string, number>();
  const statementsByScope = new Map<string, string>();
  (doc.trustPolicies as unknown[]).forEach((statement, index) => {
    const name = validateStatement(statement, index);
    if (statementsByName.has(name)) {
      throw new TrustPolicyError(
        `trust policy: multiple trust policy statements use the same name "${name}" (trustPolicies[${statementsByName.get(name)}] and trustPolicies[${index}]), statement names must be unique`,
        name,
        'name',
      );
    }
    statementsByName.set(name, index);
    for (const scope of (statement as TrustPolicyStatement).registryScopes) {
      const other = statementsByScope.get(scope);
      if (other !== undefined) {
        throw new TrustPolicyError(
          scope === WILDCARD
            ? `trust policy statement "${name}": registryScopes: wildcard registry scope '*' is also used by statement "${other}", only one statement can use it`
            : `trust policy statement "${name}": registryScopes: registry scope "${scope}" is present in multiple trust policy statements ("${other}" and "${name}"), one registry scope value can only be associated with one statement`,
          name,
          'registryScopes',
        );
      }
      statementsByScope.set(scope, name);
    }
  });
}

/** Validates one statement; returns its name. */
function validateStatement(value: unknown, index: number): string {
  let label = `trust policy statement trustPolicies[${index}]`;
  let statementName = `trustPolicies[${index}]`;
  const fail = (message: string, field?: string): never => {
    throw new TrustPolicyError(`${label}: ${message}`, statementName, field);
  };
  if (!isObject(value)) fail('a statement must be a JSON object');
  const statement = value as Record<string, unknown>;
  if (typeof statement.name !== 'string' || statement.name === '') {
    fail('name is empty or missing, every statement requires a name', 'name');
  }
  const name = statement.name as string;
  label = `trust policy statement ${JSON.stringify(name)}`;
  statementName = name;
  rejectUnknownFields(statement, STATEMENT_FIELDS, fail);

  const level = validateSignatureVerification(statement.signatureVerification, fail);
  const trustStores = optionalStringArray(statement.trustStores, 'trustStores', fail);
  const trustedIdentities = optionalStringArray(statement.trustedIdentities, 'trustedIdentities', fail);
  if (level === 'skip') {
    if (trustStores.length > 0 || trustedIdentities.length > 0) {
      fail(
        'is set to skip signature verification but configured with trust stores and/or trusted identities, remove them if signature verification needs to be skipped',
        trustStores.length > 0 ? 'trustStores' : 'trustedIdentities',
      );
    }
  } else {
    if (trustStores.length === 0 || trustedIdentities.length === 0) {
      fail(
        `${trustStores.length === 0 ? 'trustStores' : 'trustedIdentities'}: is either missing trust stores or trusted identities, both must be specified`,
        trustStores.length === 0 ? 'trustStores' : 'trustedIdentities',
      );
    }
    validateTrustStores(trustStores, fail);
    validateTrustedIdentities(trustedIdentities, trustStores, fail);
  }
  validateRegistryScopes(statement.registryScopes, fail);
  return name;
}

function optionalStringArray(value: unknown, field: string, fail: (message: string, field?: string) => never): string[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) fail(`${field} must be an array of strings`, field);
  (value as unknown[]).forEach((entry, i) => {
    if (typeof entry !== 'string') fail(`${field}[${i}] must be a string, got ${JSON.stringify(entry)}`, `${field}[${i}]`);
  });
  return value as string[];
}

function validateSignatureVerification(value: unknown, fail: (message: string, field?: string) => never): VerificationLevelName {
  if (!isObject(value)) fail('signatureVerification is missing, it must be an object with a level', 'signatureVerification');
  const settings = value as Record<string, unknown>;
  rejectUnknownFields(settings, SIGNATURE_VERIFICATION_FIELDS, fail, 'signatureVerification.');
  const level = settings.level;
  if (level === undefined || level === '') {
    fail('signatureVerification.level: signature verification level is empty or missing in the trust policy statement', 'signatureVerification.level');
  }
  if (typeof level !== 'string' || !LEVEL_NAMES.includes(level as VerificationLevelName)) {
    fail(
      `signatureVerification.level: invalid signature verification level ${JSON.stringify(level)}, supported values are ${quoteList(LEVEL_NAMES)}`,
      'signatureVerification.level',
    );
  }
  const verifyTimestamp = settings.verifyTimestamp;
  if (verifyTimestamp !== undefined && !VERIFY_TIMESTAMP_VALUES.includes(verifyTimestamp as string)) {
    fail(
      `signatureVerification.verifyTimestamp must be "always" or "afterCertExpiry", but got ${JSON.stringify(verifyTimestamp)}`,
      'signatureVerification.verifyTimestamp',
    );
  }
  const override = settings.override;
  if (override === undefined || override === null) return level as VerificationLevelName;
  if (!isObject(override)) fail('signatureVerification.override must be an object', 'signatureVerification.override');
  const entries = Object.entries(override as Record<string, unknown>);
  if (entries.length > 0 && level === 'skip') {
    fail(
      'signatureVerification.override: signature verification level "skip" can\'t be used to customize signature verification',
      'signatureVerification.override',
    );
  }
  for (const [key, action] of entries) {
    const field = `signatureVerification.override.${key}`;
    if (!CHECK_TYPES.includes(key as CheckType)) {
      fail(`${field}: verification type "${key}" in custom signature verification is not supported, supported values are ${quoteList(CHECK_TYPES)}`, field);
    }
    if (!CHECK_ACTIONS.includes(action as CheckAction)) {
      fail(
        `${field}: verification action ${JSON.stringify(action)} in custom signature verification is not supported, supported values are ${quoteList(CHECK_ACTIONS)}`,
        field,
      );
    }
    if (key === 'integrity') fail(`${field}: "integrity" verification can not be overridden in custom signature verification`, field);
    if (action === 'skip' && key !== 'revocation') {
      fail(`${field}: "${key}" verification can not be skipped in custom signature verification`, field);
    }
  }
  return level as VerificationLevelName;
}

function validateTrustStores(trustStores: readonly string[], fail: (message: string, field?: string) => never): void {
  trustStores.forEach((trustStore, i) => {
    const field = `trustStores[${i}]`;
    const colon = trustStore.indexOf(':');
    if (colon < 0) {
      fail(`${field}: malformed trust store value "${trustStore}". The required format is <TrustStoreType>:<TrustStoreName>`, field);
    }
    const type = trustStore.slice(0, colon);
    const name = trustStore.slice(colon + 1);
    if (!TRUST_STORE_TYPES.includes(type as TrustStoreType)) {
      fail(
        `${field}: unsupported trust store type "${type}" in trust store value "${trustStore}", supported types are ${quoteList(TRUST_STORE_TYPES)}`,
        field,
      );
    }
    if (!TRUST_STORE_NAME.test(name)) {
      fail(`${field}: unsupported trust store name "${name}" in trust store value "${trustStore}". Named store name needs to follow [a-zA-Z0-9_.-]+ format`, field);
    }
  });
}

function validateTrustedIdentities(
  identities: readonly string[],
  trustStores: readonly string[],
  fail: (message: string, field?: string) => never,
): void {
  if (identities.includes(WILDCARD)) {
    if (identities.some(isAwsSignerProfileArn)) {
      fail(
        'trustedIdentities: uses a wildcard trusted identity \'*\' together with AWS Signer signing profile ARNs; AWS Signer does not support wildcard identity in the trust policy, list the signing profile ARNs only',
        'trustedIdentities',
      );
    }
    if (identities.length > 1) {
      fail("trustedIdentities: uses a wildcard trusted identity '*', a wildcard identity cannot be used in conjunction with other values", 'trustedIdentities');
    }
    // Every AWS customer's Signer profile chains to the same AWS root: '*' would trust all of them.
    const awsStore = trustStores.find((store) => AWS_SIGNER_TRUST_STORE_KEYS.includes(store));
    if (awsStore) {
      fail(
        `trustedIdentities: uses a wildcard trusted identity '*' with the AWS Signer trust store "${awsStore}"; AWS Signer does not support wildcard identity in the trust policy, list the signing profile ARNs to trust`,
        'trustedIdentities',
      );
    }
  }
  const subjects: { identity: string; dn: Record<string, string> }[] = [];
  identities.forEach((identity, i) => {
    const field = `trustedIdentities[${i}]`;
    if (identity === '') fail(`${field}: has an empty trusted identity`, field);
    if (identity === WILDCARD) return;
    const colon = identity.indexOf(':');
    if (colon < 0) fail(`${field}: trusted identity "${identity}" is missing separator, the required format is <prefix>:<value>`, field);
    const prefix = identity.slice(0, colon);
    const value = identity.slice(colon + 1);
    // notation interprets only x509.subject; other prefixes (AWS Signer ARNs) are left to their verifier.
    if (prefix !== X509_SUBJECT) return;
    if (value.trim() === '') fail(`${field}: trusted identity "${identity}" without an identity value`, field);
    try {
      subjects.push({ identity, dn: parseDistinguishedName(value) });
    } catch (error) {
      fail(`${field}: trusted identity "${identity}" with invalid identity value: ${(error as Error).message}`, field);
    }
  });
  for (const a of subjects) {
    for (const b of subjects) {
      if (a !== b && isSubsetDN(a.dn, b.dn)) {
        fail(`trustedIdentities: has overlapping x509 trustedIdentities, "${a.identity}" overlaps with "${b.identity}"`, 'trustedIdentities');
      }
    }
  }
}

function validateRegistryScopes(value: unknown, fail: (message: string, field?: string) => never): void {
  if (value === undefined || value === null || (Array.isArray(value) && value.length === 0)) {
    fail('registryScopes: has zero registry scopes, it must specify registry scopes with at least one value', 'registryScopes');
  }
  const scopes = optionalStringArray(value, 'registryScopes', fail);
  if (scopes.length > 1 && scopes.includes(WILDCARD)) {
    fail("registryScopes: uses wildcard registry scope '*', a wildcard scope cannot be used in conjunction with other scope values", 'registryScopes');
  }
  scopes.forEach((scope, i) => {
    const problem = registryScopeProblem(scope);
    if (problem) fail(`registryScopes[${i}]: ${problem}`, `registryScopes[${i}]`);
  });
  const seen = new Set<string>();
  scopes.forEach((scope, i) => {
    if (seen.has(scope)) fail(`registryScopes[${i}]: registry scope "${scope}" is listed twice`, `registryScopes[${i}]`);
    seen.add(scope);
  });
}

/** Why `scope` is not a valid registry scope, or undefined when it is. */
export function registryScopeProblem(scope: string): string | undefined {
  if (scope === WILDCARD) return undefined;
  if (scope.includes(WILDCARD)) return `registry scope "${scope}" with wild card(s) is not valid, ${SCOPE_HINT}`;
  if (LOCAL_SCOPE.test(scope)) return undefined;
  const slash = scope.indexOf('/');
  const domain = slash < 0 ? '' : scope.slice(0, slash);
  const repository = slash < 0 ? '' : scope.slice(slash + 1);
  if (!domain || !repository || !SCOPE_DOMAIN.test(domain) || !SCOPE_REPOSITORY.test(repository)) {
    return `registry scope "${scope}" is not valid, ${SCOPE_HINT}`;
  }
  return undefined;
}

/** Whether a trusted identity is an AWS Signer profile or profile version ARN. */
export function isAwsSignerProfileArn(identity: string): boolean {
  return AWS_SIGNER_PROFILE_ARN.test(identity);
}

function quoteList(values: readonly string[]): string {
  return `[${values.map((value) => `"${value}"`).join(' ')}]`;
}
