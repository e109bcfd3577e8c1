import { basicAuthorization, BasicCredentials } from '../../oci/credentials';
import { parseWwwAuthenticate } from '../../oci/www-authenticate';
import { CliError } from '../io';

const TIMEOUT_MS = 30_000;

/**
 * Checks credentials against a registry before they are saved, as `notation login` does (oras-go
 * Registry.Ping): `GET /v2/`, answering a Basic challenge with the credentials, or a Bearer challenge with a
 * token fetched from its realm with them. Throws a CliError that names the registry, never the credentials.
 */
export async function checkCredentials(registry: string, credentials: BasicCredentials, plainHttp: boolean): Promise<void> {
  const origin = `${plainHttp ? 'http' : 'https'}://${registry}`;
  const get = (url: string, authorization?: string) =>
    fetch(url, { headers: authorization ? { authorization } : {}, signal: AbortSignal.timeout(TIMEOUT_MS) }).catch((error: Error) => {
      const cause = (error.cause as Error | undefined)?.message ?? error.message;
      const hint = !plainHttp && /wrong version number|packet length/i.test(cause) ? ' (the registry may speak plain HTTP: if it is a test registry, add --insecure-registry)' : '';
      throw new CliError(`failed to log in to ${registry}: cannot reach ${url}: ${cause}${hint}`, 1, 'registry');
    });
  const basic = basicAuthorization(credentials);
  let response = await get(`${origin}/v2/`);
  if (response.status === 401) {
    const challenge = parseWwwAuthenticate(response.headers.get('www-authenticate'));
    await response.body?.cancel();
    if (challenge?.scheme === 'bearer' && challenge.params.realm) {
      const realm = new URL(challenge.params.realm);
      if (challenge.params.service) realm.searchParams.set('service', challenge.params.service);
      response = await get(realm.toString(), basic);
    } else {
      response = await get(`${origin}/v2/`, basic);
    }
  }
  await response.body?.cancel();
  if (response.status === 401 || response.status === 403) {
    throw new CliError(`failed to log in to ${registry}: the registry refused the credentials (${response.status})`, 1, 'registry');
  }
  if (!response.ok) throw new CliError(`failed to log in to ${registry}: the registry answered ${response.status}`, 1, 'registry');
}
