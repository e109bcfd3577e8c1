/** Opening the repository of an image reference from a handler: ECR credentials, plain HTTP for loopback tests. */
import type { ECRClient } from '@aws-sdk/client-ecr';
import { RegistryClients } from './clients';
import { Logger } from './log';
import { CredentialSource } from '../oci/credentials';
import { EcrCredentialProvider, EcrRegistryHost, parseEcrHost } from '../oci/ecr';
import { openRepository, OpenedRepository } from '../oci/open-repository';
import { ImageReference } from '../oci/reference';

/**
 * `REGISTRY_PLAIN_HTTP_HOSTS`: comma-separated `host[:port]` registries reached over plain HTTP instead of
 * HTTPS. For tests and local runs only: only loopback hosts (`localhost`, `127.x.x.x`, `[::1]`) are honoured,
 * any other entry is ignored with a warning, so the variable can never send a real registry's traffic in clear.
 */
export const PLAIN_HTTP_HOSTS_ENV = 'REGISTRY_PLAIN_HTTP_HOSTS';

/** Whether `registry` (`host[:port]`) is a loopback host. */
export function isLoopbackRegistry(registry: string): boolean {
  const host = registry.startsWith('[') ? registry.slice(0, registry.indexOf(']') + 1) : registry.replace(/:\d+$/, '');
  if (host === 'localhost' || host === '[::1]') return true;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** The loopback registries of `REGISTRY_PLAIN_HTTP_HOSTS`; other entries are logged and ignored. */
export function plainHttpRegistries(value: string | undefined, log?: Logger): ReadonlySet<string> {
  const hosts = new Set<string>();
  for (const entry of (value ?? '').split(',').map((item) => item.trim()).filter(Boolean)) {
    if (isLoopbackRegistry(entry)) hosts.add(entry);
    else log?.warn(`${PLAIN_HTTP_HOSTS_ENV}: ignoring "${entry.slice(0, 100)}": only loopback registries may be reached over plain HTTP`);
  }
  return hosts;
}

/**
 * ECR credentials per client and registry host, kept for the life of the execution environment: an ECR token is good
 * for 12 hours, so warm invocations make no GetAuthorizationToken call.
 */
const ecrProviders = new WeakMap<ECRClient, Map<string, EcrCredentialProvider>>();

/** The ECR credentials of `registry` through `client`, shared by every repository opened with that client. */
export function ecrCredentials(host: EcrRegistryHost, client: ECRClient): CredentialSource {
  let providers = ecrProviders.get(client);
  if (!providers) ecrProviders.set(client, (providers = new Map()));
  const key = `${host.accountId}:${host.region}:${host.fips}`;
  let provider = providers.get(key);
  if (!provider) providers.set(key, (provider = new EcrCredentialProvider(host, client)));
  const shared = provider;
  return () => shared.credentials();
}

/** Opens the repository of `reference`, pinned to its digest. ECR hosts get credentials kept across invocations. */
export function openImage(reference: ImageReference, options: { clients: RegistryClients; plainHttp: ReadonlySet<string> }): OpenedRepository {
  const ecr = parseEcrHost(reference.registry);
  return openRepository(reference.toString(), {
    plainHttp: options.plainHttp.has(reference.registry),
    credentials: ecr ? ecrCredentials(ecr, options.clients.ecr(ecr.region, ecr.fips)) : undefined,
  });
}
