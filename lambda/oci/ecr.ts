// lambda/ is bundled by esbuild, so its AWS SDK clients are devDependencies.
// eslint-disable-next-line import/no-extraneous-dependencies
import { ECRClient, GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr';
import { BasicCredentials } from './credentials';

/** An Amazon ECR private registry host: `<account>.dkr.ecr[-fips].<region>.amazonaws.com[.cn]` or dual-stack `dkr-ecr`. */
export interface EcrRegistryHost {
  readonly accountId: string;
  readonly region: string;
  readonly fips: boolean;
}

const ECR_HOST =
  /^(\d{12})\.dkr(?:\.ecr|-ecr)(-fips)?\.([a-z]{2}(?:-[a-z]+)+-\d+)\.(?:amazonaws\.com(?:\.cn)?|on\.aws|sc2s\.sgov\.gov|c2s\.ic\.gov)$/;

/** Recognises an ECR registry host (a port, if any, is ignored); undefined for any other host. */
export function parseEcrHost(registry: string): EcrRegistryHost | undefined {
  const host = registry.replace(/:\d+$/, '').toLowerCase();
  const match = ECR_HOST.exec(host);
  return match ? { accountId: match[1], region: match[3], fips: match[2] !== undefined } : undefined;
}

/**
 * Decodes an ECR authorization token: base64 of `AWS:<password>` (any `user:password` is accepted).
 * Throws without quoting the token.
 */
export function decodeEcrAuthorizationToken(token: string): BasicCredentials {
  const decoded = Buffer.from(token, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0 || colon === decoded.length - 1) {
    throw new Error('ECR GetAuthorizationToken returned a token that is not base64 of "user:password"');
  }
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/**
 * ECR registry credentials from `GetAuthorizationToken`, cached until shortly before `expiresAt`.
 * The default client uses the host's region and the SDK default credential chain.
 */
export class EcrCredentialProvider {
  private readonly client: ECRClient;
  private cached?: { credentials: Promise<BasicCredentials>; refreshAt: number };

  constructor(readonly host: EcrRegistryHost, client?: ECRClient) {
    this.client = client ?? new ECRClient({ region: host.region, useFipsEndpoint: host.fips });
  }

  async credentials(): Promise<BasicCredentials> {
    if (this.cached && Date.now() < this.cached.refreshAt) return this.cached.credentials;
    const pending = this.fetch();
    // Until the answer arrives, concurrent callers share this request (a failure reaches them through it).
    const shared = pending.then((r) => r.credentials);
    shared.catch(() => undefined);
    this.cached = { credentials: shared, refreshAt: Number.POSITIVE_INFINITY };
    try {
      const { credentials, refreshAt } = await pending;
      this.cached = { credentials: Promise.resolve(credentials), refreshAt };
      return credentials;
    } catch (error) {
      this.cached = undefined;
      throw error;
    }
  }

  private async fetch(): Promise<{ credentials: BasicCredentials; refreshAt: number }> {
    const fetchedAt = Date.now();
    let output;
    try {
      output = await this.client.send(new GetAuthorizationTokenCommand({}));
    } catch (error) {
      throw new Error(
        `ECR GetAuthorizationToken failed for registry account ${this.host.accountId} in ${this.host.region}: ${(error as Error).message}`,
        { cause: error },
      );
    }
    const data = output.authorizationData?.[0];
    if (!data?.authorizationToken) {
      throw new Error(`ECR GetAuthorizationToken returned no token for account ${this.host.accountId} in ${this.host.region}`);
    }
    const credentials = decodeEcrAuthorizationToken(data.authorizationToken);
    const expiresAt = data.expiresAt ? data.expiresAt.getTime() : fetchedAt + 60_000;
    // Refresh a little early so that a request never starts with a token about to expire.
    const margin = Math.min(5 * 60_000, Math.max(0, (expiresAt - fetchedAt) / 10));
    return { credentials, refreshAt: expiresAt - margin };
  }
}
