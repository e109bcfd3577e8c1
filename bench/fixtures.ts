/**
 * What every benchmark shares: generated PKI (a trusted and an untrusted chain), the verify handler's
 * configuration built from them, loopback registries, and signed images.
 */
import { loadVerifyConfig, VerifyConfig } from '../lambda/handlers/verify-config';
import { buildPayload } from '../lambda/notary/payload';
import { signImage } from '../lambda/notary/sign-image';
import { buildSignatureManifest } from '../lambda/notary/signature-manifest';
import { VerificationOutcome } from '../lambda/notary/types';
import { verifyImage } from '../lambda/notary/verify-image';
import { MediaType } from '../lambda/oci/media-types';
import { OpenedRepository, openRepository } from '../lambda/oci/open-repository';
import { referrersTag } from '../lambda/oci/referrers';
import { RegistryRepository } from '../lambda/oci/registry-repository';
import { OciRepository } from '../lambda/oci/repository';
import { Descriptor } from '../lambda/oci/types';
import { LocalKeySigner } from '../lambda/signers/local-key';
import { RunningRegistry, startRegistry, stopRegistry } from '../test/harness/distribution-registry';
import { ReferrersServer, startReferrersServer } from '../test/harness/referrers-server';
import { createRandomImage, pushImage } from '../test/util/images';
import { createChain, TestChain } from '../test/util/pki';

export const TRUST_STORE = 'ca:bench';

export interface Pki {
  readonly trusted: TestChain;
  readonly untrusted: TestChain;
  readonly trustedSigner: LocalKeySigner;
  readonly untrustedSigner: LocalKeySigner;
  /** The verify handler's environment: TRUST_POLICY and TRUST_STORES. */
  readonly env: Record<string, string>;
  /** The configuration the verify handler builds from `env` at cold start. */
  readonly config: VerifyConfig;
}

/** EC P-256 chains (root → intermediate → leaf); only the trusted root is in the trust store. */
export async function createPki(): Promise<Pki> {
  const [trusted, untrusted] = await Promise.all([createChain(), createChain()]);
  const policy = {
    version: '1.0',
    trustPolicies: [
      {
        name: 'bench',
        registryScopes: ['*'],
        signatureVerification: { level: 'strict' },
        trustStores: [TRUST_STORE],
        trustedIdentities: ['*'],
      },
    ],
  };
  const env = { TRUST_POLICY: JSON.stringify(policy), TRUST_STORES: JSON.stringify({ [TRUST_STORE]: trusted.root.pem }) };
  return {
    trusted,
    untrusted,
    trustedSigner: new LocalKeySigner({ key: trusted.leaf.key, certificateChain: trusted.chain }),
    untrustedSigner: new LocalKeySigner({ key: untrusted.leaf.key, certificateChain: untrusted.chain }),
    env,
    config: loadVerifyConfig(env),
  };
}

/** Verifies an opened image as the verify handler does, with the bench trust policy and stores. */
export function verifyOpened(pki: Pki, opened: OpenedRepository): Promise<VerificationOutcome> {
  return verifyImage({
    repository: opened.repository,
    tagOrDigest: opened.tagOrDigest,
    displayReference: opened.displayReference,
    scope: opened.repositoryName,
    policy: pki.config.policy,
    stores: pki.config.stores,
    maxSignatures: pki.config.maxSignatures,
  });
}

export interface Registries {
  /** The distribution registry itself (no referrers API: clients use the tag schema). */
  readonly plain: RunningRegistry;
  /** A proxy in front of it that adds the referrers API. */
  readonly referrers: ReferrersServer;
  close(): Promise<void>;
}

export async function startRegistries(): Promise<Registries> {
  const plain = await startRegistry();
  let referrers: ReferrersServer;
  try {
    referrers = await startReferrersServer({ upstream: plain.host });
  } catch (error) {
    stopRegistry(plain);
    throw error;
  }
  return {
    plain,
    referrers,
    close: async () => {
      await referrers.close();
      stopRegistry(plain);
    },
  };
}

/** A repository on a loopback registry, opened as the handlers open one (a new instance per call). */
export function openRegistry(host: string, repository: string, tagOrDigest: string): ReturnType<typeof openRepository> {
  return openRepository(`${host}/${repository}${tagOrDigest.includes(':') ? '@' : ':'}${tagOrDigest}`, { plainHttp: true });
}

/**
 * A repository for setting up fixtures: the tag schema index is written without the settle wait that
 * guards concurrent signers (nothing else writes while fixtures are built).
 */
export function setupRepository(host: string, repository: string): OciRepository {
  return new RegistryRepository({ registry: host, repository, plainHttp: true, referrersIndex: { settleMs: 0 } });
}

/** Pushes a new random image and returns its manifest descriptor. */
export async function pushRandomImage(repository: OciRepository, tag?: string): Promise<Descriptor> {
  return pushImage(repository, createRandomImage(), tag);
}

/**
 * Pushes one signature of `target` per signer, listed in the order given: the envelope and config blobs
 * and the signature manifest, as signImage pushes them, `concurrency` at a time. On a registry without
 * the referrers API the tag schema index is written once at the end instead of once per signature.
 */
export async function pushSignatures(
  host: string,
  repository: string,
  target: Descriptor,
  signers: readonly LocalKeySigner[],
  options: { tagSchema: boolean; concurrency?: number },
): Promise<void> {
  // 'supported' keeps pushManifest from updating the tag schema index per signature.
  const store = new RegistryRepository({ registry: host, repository, plainHttp: true, referrersApi: 'supported' });
  const pushOne = async (signer: LocalKeySigner): Promise<Descriptor> => {
    const { envelope } = await signer.sign(buildPayload(target));
    const layer = await store.pushBlob(envelope, MediaType.JWS);
    await store.pushBlob(new TextEncoder().encode('{}'), MediaType.OCI_EMPTY);
    const manifest = buildSignatureManifest({ subject: target, envelope: layer, format: 'oci-1.1', envelopeBytes: envelope, signingTime: new Date() });
    const { descriptor } = await store.pushManifest(manifest, MediaType.OCI_MANIFEST);
    return { ...descriptor, artifactType: MediaType.NOTARY_SIGNATURE };
  };
  await store.pushBlob(new TextEncoder().encode('{}'), MediaType.OCI_EMPTY);
  const pushed: Descriptor[] = new Array(signers.length);
  // All but the last concurrently; the last alone, so a store that lists in push order lists it last.
  const head = signers.slice(0, -1);
  let next = 0;
  const worker = async () => {
    while (next < head.length) {
      const index = next++;
      pushed[index] = await pushOne(head[index]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency ?? 8, head.length) }, worker));
  if (signers.length > 0) pushed[signers.length - 1] = await pushOne(signers[signers.length - 1]);
  if (options.tagSchema) {
    const index = { schemaVersion: 2, mediaType: MediaType.OCI_INDEX, manifests: pushed };
    await store.pushManifest(new TextEncoder().encode(JSON.stringify(index)), MediaType.OCI_INDEX, referrersTag(target.digest));
  }
}

/** Signs `target` once with each signer, in order (forced: every signature is pushed). */
export async function addSignatures(repository: OciRepository, target: Descriptor, signers: readonly LocalKeySigner[]): Promise<string[]> {
  const digests: string[] = [];
  for (const signer of signers) {
    const result = await signImage({ repository, tagOrDigest: target.digest, signer, force: true });
    digests.push(result.signatureDigest);
  }
  return digests;
}

export const NOTARY_ARTIFACT_TYPE = MediaType.NOTARY_SIGNATURE;
