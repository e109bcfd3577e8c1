/** Shared helpers of the notary engine tests: trust policy statements, targets and signing. */
import { createHash } from 'node:crypto';
import { buildPayload } from '../../lambda/notary/payload';
import { effectiveVerification } from '../../lambda/notary/trust-policy';
import { CheckResult, CheckType, EffectiveVerification, SignatureVerification } from '../../lambda/notary/types';
import { MediaType } from '../../lambda/oci/media-types';
import { Descriptor } from '../../lambda/oci/types';
import { LocalKeySigner, LocalKeySignerOptions } from '../../lambda/signers/local-key';
import { parseTrustPolicy, SignatureVerificationSettings, TrustPolicyStatement } from '../../src/shared/trust-policy';
import { createIntermediate, createLeaf, createRoot, KeySpec, TestChain } from '../util/pki';

export const LEVELS = ['strict', 'permissive', 'audit'] as const;
export type Level = (typeof LEVELS)[number];

export const SCOPE = 'registry.example.com/app';

/**
 * A trust policy statement, validated by the trust policy parser as part of a whole document (so every
 * case runs under a statement notation would accept).
 */
export function policyStatement(
  signatureVerification: SignatureVerificationSettings,
  trustStores: readonly string[],
  trustedIdentities: readonly string[],
  registryScopes: readonly string[] = [SCOPE],
): TrustPolicyStatement {
  const document = parseTrustPolicy({
    version: '1.0',
    trustPolicies: [{ name: 'test', registryScopes, signatureVerification, trustStores, trustedIdentities }],
  });
  return document.trustPolicies[0];
}

/** The effective verification of a validated statement with `signatureVerification`. */
export function verificationFor(
  signatureVerification: SignatureVerificationSettings,
  trustStores: readonly string[],
  trustedIdentities: readonly string[],
): EffectiveVerification {
  return effectiveVerification(policyStatement(signatureVerification, trustStores, trustedIdentities));
}

/** The descriptor of `bytes` as an OCI manifest. */
export function manifestDescriptor(bytes: Uint8Array, mediaType: string = MediaType.OCI_MANIFEST): Descriptor {
  return { mediaType, digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}`, size: bytes.byteLength };
}

/** A made-up image manifest descriptor (random digest) to sign. */
export function randomTarget(): Descriptor {
  const manifest = new TextEncoder().encode(JSON.stringify({ schemaVersion: 2, nonce: Math.random() }));
  return manifestDescriptor(manifest);
}

export async function signTarget(options: LocalKeySignerOptions, target: Descriptor, annotations?: Record<string, string>): Promise<Uint8Array> {
  const signer = new LocalKeySigner(options);
  return (await signer.sign(buildPayload(target, annotations))).envelope;
}

/** The result of `type` (exactly one). */
export function resultOf(verification: SignatureVerification, type: CheckType): CheckResult {
  const matches = verification.results.filter((result) => result.type === type);
  if (matches.length !== 1) throw new Error(`expected one ${type} result, got ${JSON.stringify(verification.results)}`);
  return matches[0];
}

export function decodeJson(base64url: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(base64url, 'base64url').toString('utf8'));
}

export function envelopeJson(bytes: Uint8Array): Record<string, any> {
  return JSON.parse(Buffer.from(bytes).toString('utf8'));
}

export function jsonBytes(value: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(value));
}

/** root → intermediate → leaf, every certificate with the same validity period (createChain fixes the intermediate's). */
export async function createValidChain(options: { notBefore?: Date; notAfter?: Date; keySpec?: KeySpec } = {}): Promise<TestChain> {
  const { notBefore, notAfter, keySpec } = options;
  const root = await createRoot({ notBefore, notAfter, keySpec });
  const intermediate = await createIntermediate(root, { notBefore, notAfter, keySpec });
  const leaf = await createLeaf(intermediate, { notBefore, notAfter, keySpec });
  return { root, intermediate, leaf, chain: [leaf.der, intermediate.der, root.der], chainPem: [leaf.pem, intermediate.pem, root.pem].join('\n') };
}
