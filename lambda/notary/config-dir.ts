/**
 * Loads a notation configuration directory (I/O): `trustpolicy.oci.json` (else `trustpolicy.json`) and the
 * named trust stores under `truststore/x509/{ca,signingAuthority,tsa}/<name>/`.
 */
import { lstatSync, readdirSync, readFileSync, Stats } from 'node:fs';
import { join } from 'node:path';
import { TrustStoreError } from './trust-policy';
import { readTrustStoreFile } from './trust-store';
import { NamedTrustStores } from './types';
import {
  parseTrustPolicy,
  TRUST_STORE_NAME,
  TRUST_STORE_TYPES,
  TrustPolicyDocument,
  TrustPolicyError,
} from '../../src/shared/trust-policy';

export const TRUST_POLICY_FILES = ['trustpolicy.oci.json', 'trustpolicy.json'] as const;
const TRUST_POLICY_LINK = 'https://notaryproject.dev/docs/quickstart/#create-a-trust-policy';

export interface NotationConfig {
  readonly policy: TrustPolicyDocument;
  readonly stores: NamedTrustStores;
  /** The trust policy file that was read. */
  readonly policyFile: string;
}

/**
 * Reads and validates the trust policy and every named trust store of `dir`. Throws TrustPolicyError or
 * TrustStoreError naming the file or store.
 */
export function loadConfigDir(dir: string): NotationConfig {
  const { policy, policyFile } = loadTrustPolicy(dir);
  return { policy, policyFile, stores: loadTrustStores(dir) };
}

/** `trustpolicy.oci.json` takes precedence over the legacy `trustpolicy.json`. */
export function loadTrustPolicy(dir: string): { policy: TrustPolicyDocument; policyFile: string } {
  for (const name of TRUST_POLICY_FILES) {
    const path = join(dir, name);
    const stats = lstatOrUndefined(path);
    if (!stats) continue;
    if (!stats.isFile()) {
      throw new TrustPolicyError(`trust policy "${path}" is not a regular file (symlinks are not supported). To create a trust policy, see: ${TRUST_POLICY_LINK}`);
    }
    const text = readFileSync(path, 'utf8');
    try {
      return { policy: parseTrustPolicy(text), policyFile: path };
    } catch (error) {
      const cause = error as TrustPolicyError;
      throw new TrustPolicyError(`${path}: ${cause.message}`, cause.statement, cause.field);
    }
  }
  throw new TrustPolicyError(
    `trust policy is not present: neither ${TRUST_POLICY_FILES.map((name) => join(dir, name)).join(' nor ')} exists. To create a trust policy, see: ${TRUST_POLICY_LINK}`,
  );
}

/** Every named store under `<dir>/truststore/x509/`, keyed `<type>:<name>`. */
export function loadTrustStores(dir: string): NamedTrustStores {
  const stores = new Map<string, Uint8Array[]>();
  const root = join(dir, 'truststore', 'x509');
  for (const type of TRUST_STORE_TYPES) {
    const typeDir = join(root, type);
    const stats = lstatOrUndefined(typeDir);
    if (!stats) continue;
    if (!stats.isDirectory()) throw new TrustStoreError(`"${typeDir}" is not a regular directory (symlinks are not supported)`);
    for (const name of readdirSync(typeDir).sort()) {
      stores.set(`${type}:${name}`, loadNamedStore(join(typeDir, name), `${type}:${name}`));
    }
  }
  return stores;
}

function loadNamedStore(path: string, key: string): Uint8Array[] {
  const name = key.slice(key.indexOf(':') + 1);
  if (!TRUST_STORE_NAME.test(name)) {
    throw new TrustStoreError(`trust store "${key}" at "${path}": named store name needs to follow [a-zA-Z0-9_.-]+ format`, key);
  }
  if (!lstatSync(path).isDirectory()) {
    throw new TrustStoreError(`trust store "${key}": "${path}" is not a regular directory (symlinks are not supported)`, key);
  }
  const certificates: Uint8Array[] = [];
  for (const file of readdirSync(path).sort()) {
    const filePath = join(path, file);
    const stats = lstatSync(filePath);
    if (!stats.isFile()) {
      throw new TrustStoreError(`trust store "${key}": "${filePath}" is not a regular file (directories or symlinks are not supported)`, key);
    }
    // Like notation, every file is read (whatever its extension) and must hold a certificate.
    certificates.push(...readTrustStoreFile(new Uint8Array(readFileSync(filePath)), key, filePath));
  }
  if (certificates.length === 0) {
    throw new TrustStoreError(`no x509 certificates were found in trust store "${key}" ("${path}")`, key);
  }
  return certificates;
}

function lstatOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}
