/**
 * The configuration of a verifying function, read from its environment once, at cold start: the verify handler
 * (ImageVerifier) and ECS enforcement share it. See verify.ts for the variables.
 */
import { Logger } from './log';
import { isPlainObject } from './parameters';
import { PLAIN_HTTP_HOSTS_ENV, plainHttpRegistries } from './registry';
import { ConfigurationError } from './runner';
import { parseRequiredAttestations, REQUIRED_ATTESTATIONS_ENV, RequiredAttestationsDocument } from '../../src/shared/attestation-requirements';
import { parseTrustPolicy, TRUST_STORE_NAME, TRUST_STORE_TYPES, TrustPolicyDocument } from '../../src/shared/trust-policy';
import { readTrustStoreFile, withBuiltInTrustStores } from '../notary/trust-store';
import { NamedTrustStores } from '../notary/types';
import { DEFAULT_MAX_SIGNATURES } from '../notary/verify-image';

export interface VerifyConfig {
  readonly policy: TrustPolicyDocument;
  readonly stores: NamedTrustStores;
  readonly maxSignatures: number;
  readonly plainHttp: ReadonlySet<string>;
  /** The attestations required besides the signature (`REQUIRED_ATTESTATIONS`). */
  readonly attestations?: RequiredAttestationsDocument;
  /** The function's region (`AWS_REGION`). */
  readonly region?: string;
}

const MAX_SIGNATURES_LIMIT = 1000;

/** Reads and validates the function's configuration. Throws ConfigurationError naming the variable. */
export function loadVerifyConfig(env: Readonly<Record<string, string | undefined>>, log?: Logger): VerifyConfig {
  const policyText = env.TRUST_POLICY;
  if (policyText === undefined || policyText.trim() === '') throw new ConfigurationError('TRUST_POLICY is not set; the ImageVerifier construct sets it');
  let policy: TrustPolicyDocument;
  try {
    policy = parseTrustPolicy(policyText);
  } catch (error) {
    throw new ConfigurationError(`TRUST_POLICY is not a valid trust policy: ${(error as Error).message}`);
  }

  const stores = new Map<string, Uint8Array[]>();
  const storesText = env.TRUST_STORES;
  if (storesText !== undefined && storesText.trim() !== '') {
    let json: unknown;
    try {
      json = JSON.parse(storesText);
    } catch (error) {
      throw new ConfigurationError(`TRUST_STORES is not valid JSON: ${(error as Error).message}`);
    }
    if (!isPlainObject(json)) throw new ConfigurationError('TRUST_STORES must be a JSON object {"<type>:<name>": "<PEM certificates>"}');
    for (const [key, pem] of Object.entries(json)) {
      const where = `TRUST_STORES[${JSON.stringify(key)}]`;
      const colon = key.indexOf(':');
      const type = key.slice(0, colon);
      const name = key.slice(colon + 1);
      if (colon < 0 || !(TRUST_STORE_TYPES as readonly string[]).includes(type) || !TRUST_STORE_NAME.test(name)) {
        throw new ConfigurationError(`${where}: a trust store is named <type>:<name> with type ${TRUST_STORE_TYPES.join(', ')} and a name of letters, digits, ".", "_" or "-"`);
      }
      if (typeof pem !== 'string') throw new ConfigurationError(`${where} must be a string of PEM certificates`);
      try {
        stores.set(key, readTrustStoreFile(new TextEncoder().encode(pem), key, where));
      } catch (error) {
        throw new ConfigurationError(`${where}: ${(error as Error).message}`);
      }
    }
  }
  const merged = withBuiltInTrustStores(stores);
  for (const statement of policy.trustPolicies) {
    if (statement.signatureVerification.level === 'skip') continue;
    for (const store of statement.trustStores ?? []) {
      if (!merged.has(store)) {
        log?.warn(`trust policy statement "${statement.name}" names trust store "${store}", which TRUST_STORES does not define; its images will fail verification`);
      }
    }
  }

  let maxSignatures = DEFAULT_MAX_SIGNATURES;
  const maxText = env.MAX_SIGNATURES?.trim();
  if (maxText) {
    maxSignatures = Number(maxText);
    if (!/^\d+$/.test(maxText) || maxSignatures < 1 || maxSignatures > MAX_SIGNATURES_LIMIT) {
      throw new ConfigurationError(`MAX_SIGNATURES must be a whole number from 1 to ${MAX_SIGNATURES_LIMIT}, got "${maxText.slice(0, 50)}"`);
    }
  }
  let attestations: RequiredAttestationsDocument | undefined;
  try {
    attestations = parseRequiredAttestations(env[REQUIRED_ATTESTATIONS_ENV]);
  } catch (error) {
    throw new ConfigurationError((error as Error).message);
  }
  return {
    policy,
    stores: merged,
    maxSignatures,
    plainHttp: plainHttpRegistries(env[PLAIN_HTTP_HOSTS_ENV], log),
    ...(attestations ? { attestations } : {}),
    ...(env.AWS_REGION ? { region: env.AWS_REGION } : {}),
  };
}
