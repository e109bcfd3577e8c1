import { BasicCredentials, basicAuthorization, CredentialSource } from './credentials';
import { RegistryAuthError, RegistryError } from './errors';
import { discardBody, fetchWithRetry, HttpOptions, readBodyLimited } from './http';
import { AuthChallenge, parseWwwAuthenticate } from './www-authenticate';

/** What a request needs access to, as a distribution token scope: `repository:<name>:<actions>`. */
export interface AccessScope {
  readonly repository: string;
  readonly actions: readonly ('pull' | 'push' | 'delete')[];
}

export function scopeString(scope: AccessScope): string {
  return `repository:${scope.repository}:${scope.actions.join(',')}`;
}

export interface RegistryAuthOptions {
  /** The registry as users name it, for messages, e.g. `127.0.0.1:5000`. */
  readonly registry: string;
  /** `http://host:port` or `https://host`: only requests to this origin carry credentials. */
  readonly origin: string;
  readonly credentials?: CredentialSource;
  /** Send Basic credentials without waiting for a challenge (ECR, which always uses Basic). */
  readonly preemptiveBasic?: boolean;
  readonly http?: HttpOptions;
}

const TOKEN_RESPONSE_LIMIT = 64 * 1024;
/** Distribution's token spec: a token without `expires_in` lasts 60 seconds. */
const DEFAULT_TOKEN_SECONDS = 60;

interface CachedToken {
  token: Promise<string>;
  refreshAt: number;
}

/**
 * Sends registry requests with the right credentials: none, Basic, or a Bearer token fetched from the
 * realm of the registry's `WWW-Authenticate` challenge (cached per scope until `expires_in`). One
 * instance per registry keeps the learnt scheme and the tokens, so requests after the first need no
 * extra round trip.
 */
export class RegistryAuth {
  private scheme: 'none' | 'basic' | 'bearer';
  private readonly tokens = new Map<string, CachedToken>();
  /** What must never appear in a message: the credentials and tokens this client used. */
  private readonly secrets = new Set<string>();
  private lastBearerChallenge?: AuthChallenge;

  constructor(private readonly options: RegistryAuthOptions) {
    this.scheme = options.preemptiveBasic ? 'basic' : 'none';
  }

  /**
   * Sends the request; on a 401 it authenticates as the challenge asks and sends it once more.
   * @param http overrides the connection's HTTP options for this request (e.g. no retries).
   */
  async send(url: string, init: RequestInit, scope: AccessScope, http?: HttpOptions): Promise<Response> {
    const httpOptions = http ? { ...this.options.http, ...http } : this.options.http;
    const sameOrigin = new URL(url).origin === this.options.origin;
    if (!sameOrigin) return fetchWithRetry(url, init, httpOptions);

    const key = scopeString(scope);
    let authorization = await this.knownAuthorization(key, scope);
    let response = await fetchWithRetry(url, withAuthorization(init, authorization), httpOptions);
    if (response.status !== 401) return response;
    // A 401 from another origin reached through a redirect is not the registry's challenge: following it would
    // send the user's credentials to a realm the registry never announced, and its scheme is not the registry's.
    if (!this.answeredByRegistry(response)) throw await this.foreignChallenge(response, scope);

    const challenge = parseWwwAuthenticate(response.headers.get('www-authenticate'));
    await discardBody(response);
    const sentCredentials = authorization !== undefined;
    if (challenge?.scheme === 'basic') {
      if (this.scheme === 'basic' && sentCredentials) throw this.refused(scope);
      this.scheme = 'basic';
      authorization = await this.basic(scope);
    } else if (challenge?.scheme === 'bearer') {
      this.scheme = 'bearer';
      this.lastBearerChallenge = challenge;
      this.tokens.delete(key);
      authorization = `Bearer ${await this.token(key, scope, challenge)}`;
    } else {
      throw new RegistryAuthError(
        `registry ${this.options.registry} answered 401 Unauthorized for repository ${scope.repository} without a usable WWW-Authenticate challenge`,
        this.options.registry,
        401,
      );
    }
    response = await fetchWithRetry(url, withAuthorization(init, authorization), httpOptions);
    if (response.status === 401) {
      if (!this.answeredByRegistry(response)) throw await this.foreignChallenge(response, scope);
      await discardBody(response);
      throw this.refused(scope);
    }
    return response;
  }

  /** Replaces every secret this client holds (passwords, Basic values, tokens) in `text` by `***`. */
  redact(text: string): string {
    let redacted = text;
    for (const secret of this.secrets) if (secret.length >= 4) redacted = redacted.split(secret).join('***');
    return redacted;
  }

  /** Whether the response came from the registry's own origin, not from a host a redirect led to. */
  private answeredByRegistry(response: Response): boolean {
    return !response.redirected || !response.url || new URL(response.url).origin === this.options.origin;
  }

  private async foreignChallenge(response: Response, scope: AccessScope): Promise<RegistryAuthError> {
    await discardBody(response);
    return new RegistryAuthError(
      `registry ${this.options.registry} redirected a request for repository ${scope.repository} to ${new URL(response.url).origin}, which answered 401 Unauthorized; ` +
        'credentials are sent only to the registry itself and to the token service it names',
      this.options.registry,
      401,
    );
  }

  private remember(credentials: BasicCredentials | undefined): BasicCredentials | undefined {
    if (credentials) {
      this.secrets.add(credentials.password);
      this.secrets.add(basicAuthorization(credentials).replace(/^Basic /, ''));
    }
    return credentials;
  }

  private async knownAuthorization(key: string, scope: AccessScope): Promise<string | undefined> {
    if (this.scheme === 'basic') return this.basic(scope);
    if (this.scheme === 'bearer' && this.lastBearerChallenge) {
      // A token for another scope comes from the same realm: fetch it before the request, saving a 401.
      return `Bearer ${await this.token(key, scope, this.lastBearerChallenge)}`;
    }
    return undefined;
  }

  private async basic(scope: AccessScope): Promise<string> {
    const credentials = this.remember(await this.options.credentials?.());
    if (!credentials) {
      throw new RegistryAuthError(
        `registry ${this.options.registry} requires credentials for repository ${scope.repository} (401 Unauthorized), and none were given`,
        this.options.registry,
        401,
      );
    }
    return basicAuthorization(credentials);
  }

  private refused(scope: AccessScope): RegistryAuthError {
    return new RegistryAuthError(
      this.options.credentials
        ? `registry ${this.options.registry} refused the credentials for repository ${scope.repository} (401 Unauthorized)`
        : `registry ${this.options.registry} requires credentials for repository ${scope.repository} (401 Unauthorized), and none were given`,
      this.options.registry,
      401,
    );
  }

  private token(key: string, scope: AccessScope, challenge: AuthChallenge): Promise<string> {
    const cached = this.tokens.get(key);
    if (cached && Date.now() < cached.refreshAt) return cached.token;
    const entry: CachedToken = { token: Promise.resolve(''), refreshAt: Number.POSITIVE_INFINITY };
    entry.token = this.fetchToken(key, scope, challenge).then(
      ({ token, lifetimeMs }) => {
        // Refresh a little before expiry (10%, at most 30 s).
        entry.refreshAt = Date.now() + lifetimeMs - Math.min(30_000, lifetimeMs / 10);
        return token;
      },
      (error) => {
        this.tokens.delete(key);
        throw error;
      },
    );
    this.tokens.set(key, entry);
    return entry.token;
  }

  private async fetchToken(
    key: string,
    scope: AccessScope,
    challenge: AuthChallenge,
  ): Promise<{ token: string; lifetimeMs: number }> {
    const registry = this.options.registry;
    const realm = this.realmUrl(challenge);
    const url = new URL(realm);
    if (challenge.params.service) url.searchParams.set('service', challenge.params.service);
    const scopes = new Set((challenge.params.scope ?? '').split(' ').filter(Boolean));
    scopes.add(key);
    for (const s of scopes) url.searchParams.append('scope', s);

    const credentials = this.remember(await this.options.credentials?.());
    const headers: Record<string, string> = { accept: 'application/json' };
    if (credentials) headers.authorization = basicAuthorization(credentials);
    const response = await fetchWithRetry(url.toString(), { method: 'GET', headers }, this.options.http);
    const where = `its token service ${realm.origin}${realm.pathname}`;
    if (response.status === 401 || response.status === 403) {
      await discardBody(response);
      throw new RegistryAuthError(
        credentials
          ? `registry ${registry} refused the credentials for repository ${scope.repository} (${response.status} from ${where})`
          : `registry ${registry} requires credentials for repository ${scope.repository} (${response.status} from ${where}), and none were given`,
        registry,
        response.status,
      );
    }
    if (!response.ok) {
      await discardBody(response);
      throw new RegistryError(`${where} of registry ${registry} answered ${response.status}`, registry, response.status);
    }
    const body = await readBodyLimited(response, TOKEN_RESPONSE_LIMIT, `token response of ${where}`);
    let json: { token?: unknown; access_token?: unknown; expires_in?: unknown };
    try {
      json = JSON.parse(new TextDecoder().decode(body));
    } catch {
      throw new RegistryError(`${where} of registry ${registry} answered with a body that is not JSON`, registry);
    }
    const token = typeof json.token === 'string' && json.token ? json.token : json.access_token;
    if (typeof token !== 'string' || !token || /[\r\n]/.test(token)) {
      throw new RegistryError(`${where} of registry ${registry} answered without a token`, registry);
    }
    this.secrets.add(token);
    const seconds = typeof json.expires_in === 'number' && json.expires_in > 0 ? json.expires_in : DEFAULT_TOKEN_SECONDS;
    return { token, lifetimeMs: seconds * 1000 };
  }

  /** The realm must be http(s); a registry reached over HTTPS may not send credentials to a plain HTTP realm. */
  private realmUrl(challenge: AuthChallenge): URL {
    const registry = this.options.registry;
    let realm: URL;
    try {
      realm = new URL(challenge.params.realm ?? '');
    } catch {
      throw new RegistryError(`registry ${registry} sent a Bearer challenge without a valid realm URL`, registry, 401);
    }
    const secureRegistry = this.options.origin.startsWith('https:');
    if (realm.protocol !== 'https:' && !(realm.protocol === 'http:' && !secureRegistry)) {
      throw new RegistryError(
        `registry ${registry} sent a Bearer challenge whose realm ${realm.origin} is not HTTPS`,
        registry,
        401,
      );
    }
    return realm;
  }
}

function withAuthorization(init: RequestInit, authorization: string | undefined): RequestInit {
  if (!authorization) return init;
  return { ...init, headers: { ...(init.headers as Record<string, string> | undefined), authorization } };
}
