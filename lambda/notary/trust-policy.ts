/**
 * The engine's side of a trust policy: the statement that applies to an artifact, the statement's effective
 * verification, and its trust anchors from the named trust stores. The document model and its validation are
 * shared with the constructs (src/shared/trust-policy.ts).
 */
import { CheckAction, CheckType, EffectiveVerification, NamedTrustStores, TrustAnchors } from './types';
import {
  TRUST_POLICY_LINK,
  TrustPolicyDocument,
  TrustPolicyStatement,
  TrustStoreType,
  VERIFICATION_LEVELS,
  WILDCARD,
} from '../../src/shared/trust-policy';

/** No statement's registry scopes cover the artifact. */
export class NoApplicableTrustPolicyError extends Error {
  constructor(readonly artifactReference: string) {
    super(
      `artifact "${artifactReference}" has no applicable trust policy statement. Trust policy applicability for a given ` +
        `artifact is determined by registryScopes. To create a trust policy, see: ${TRUST_POLICY_LINK}`,
    );
    this.name = 'NoApplicableTrustPolicyError';
  }
}

/** A named trust store that is missing, empty or holds an unusable certificate. */
export class TrustStoreError extends Error {
  constructor(message: string, readonly store?: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TrustStoreError';
  }
}

/**
 * The statement that applies to `scope` (`registry/repository`, or `local/<name>` for an OCI layout): an
 * exact registry scope wins over `*`. Throws NoApplicableTrustPolicyError naming `artifactReference`.
 */
export function selectStatement(doc: TrustPolicyDocument, scope: string, artifactReference: string = scope): TrustPolicyStatement {
  const exact = doc.trustPolicies.find((statement) => statement.registryScopes.includes(scope));
  if (exact) return exact;
  const wildcard = doc.trustPolicies.find((statement) => statement.registryScopes.includes(WILDCARD));
  if (wildcard) return wildcard;
  throw new NoApplicableTrustPolicyError(artifactReference);
}

/** The statement's level with its overrides applied (specs/trust-store-trust-policy.md); `custom` when an override is set. */
export function effectiveVerification(statement: TrustPolicyStatement): EffectiveVerification {
  const { level, override, verifyTimestamp } = statement.signatureVerification;
  const overrides = Object.entries(override ?? {}) as [CheckType, CheckAction][];
  const actions: Record<CheckType, CheckAction> = { ...VERIFICATION_LEVELS[level] };
  for (const [check, action] of overrides) actions[check] = action;
  return {
    level: overrides.length > 0 ? 'custom' : level,
    actions,
    verifyTimestamp: verifyTimestamp === 'afterCertExpiry' ? 'afterCertExpiry' : 'always',
  };
}

/**
 * The certificates of the named stores the statement lists, by store type. A store the statement names
 * but `stores` lacks is a TrustStoreError (a `skip` statement needs none).
 */
export function trustAnchorsFor(statement: TrustPolicyStatement, stores: NamedTrustStores): TrustAnchors {
  const anchors: Record<TrustStoreType, Uint8Array[]> = { ca: [], signingAuthority: [], tsa: [] };
  for (const key of new Set(statement.trustStores ?? [])) {
    const certificates = stores.get(key);
    if (!certificates) {
      throw new TrustStoreError(
        `trust store "${key}" used by trust policy statement "${statement.name}" does not exist: ` +
          `add its certificates to truststore/x509/${key.replace(':', '/')}/`,
        key,
      );
    }
    if (certificates.length === 0) {
      throw new TrustStoreError(`no x509 certificates were found in trust store "${key}"`, key);
    }
    anchors[key.slice(0, key.indexOf(':')) as TrustStoreType].push(...certificates);
  }
  return anchors;
}
