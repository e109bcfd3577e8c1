import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TrustStoreFiles {
  /** `<type>:<name>` → PEM certificates. */
  readonly [store: string]: string;
}

/**
 * Writes a notation configuration directory (`trustpolicy.json` and `truststore/x509/<type>/<name>/`)
 * into a new temporary directory and returns its path.
 */
export function writeNotationConfig(policy: unknown, stores: TrustStoreFiles = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'notation-config-'));
  writeFileSync(join(dir, 'trustpolicy.json'), JSON.stringify(policy, undefined, 2));
  for (const [key, pem] of Object.entries(stores)) {
    const [type, name] = key.split(':');
    const storeDir = join(dir, 'truststore', 'x509', type, name);
    mkdirSync(storeDir, { recursive: true });
    writeFileSync(join(storeDir, 'certificates.pem'), pem);
  }
  return dir;
}

/** A one-statement trust policy document. */
export function trustPolicy(statement: {
  registryScopes?: string[];
  level?: string;
  override?: Record<string, string>;
  trustStores?: string[];
  trustedIdentities?: string[];
}): unknown {
  return {
    version: '1.0',
    trustPolicies: [
      {
        name: 'test',
        registryScopes: statement.registryScopes ?? ['*'],
        signatureVerification: { level: statement.level ?? 'strict', ...(statement.override ? { override: statement.override } : {}) },
        trustStores: statement.trustStores ?? ['ca:test'],
        trustedIdentities: statement.trustedIdentities ?? ['*'],
      },
    ],
  };
}
