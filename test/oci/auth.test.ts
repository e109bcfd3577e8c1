import { ECRClient, GetAuthorizationTokenCommand } from '@aws-sdk/client-ecr';
import { mockClient } from 'aws-sdk-client-mock';
import { decodeEcrAuthorizationToken, parseEcrHost } from '../../lambda/oci/ecr';
import { RegistryAuthError } from '../../lambda/oci/errors';
import { RegistryRepository } from '../../lambda/oci/registry-repository';
import { parseWwwAuthenticate } from '../../lambda/oci/www-authenticate';
import { authRegistry } from '../harness/env';
import { createRandomImage, pushImage } from '../util/images';

const HTTP = { retries: 0, timeoutMs: 5000 };

describe('WWW-Authenticate parsing', () => {
  test('reads a Bearer challenge with quoted values holding commas and escapes', () => {
    const challenge = parseWwwAuthenticate(
      'Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="repository:a/b:pull,push",error="x \\"y\\""',
    );
    expect(challenge).toEqual({
      scheme: 'bearer',
      params: {
        realm: 'https://auth.example.com/token',
        service: 'registry.example.com',
        scope: 'repository:a/b:pull,push',
        error: 'x "y"',
      },
    });
  });

  test('reads a Basic challenge and refuses garbage', () => {
    expect(parseWwwAuthenticate('Basic realm="r"')).toEqual({ scheme: 'basic', params: { realm: 'r' } });
    expect(parseWwwAuthenticate('')).toBeUndefined();
    expect(parseWwwAuthenticate('"quoted"')).toBeUndefined();
  });
});

describe('basic auth (htpasswd distribution registry)', () => {
  test('pushes and pulls with the right credentials', async () => {
    const { host, username, password } = authRegistry();
    const repo = new RegistryRepository({ registry: host, repository: 'auth-test/app', plainHttp: true, username, password, http: HTTP });
    const image = createRandomImage();
    const pushed = await pushImage(repo, image, 'v1');
    expect(await repo.resolve('v1')).toEqual(pushed);
  });

  test('wrong credentials fail naming the registry and repository, never the password', async () => {
    const { host, username } = authRegistry();
    const repo = new RegistryRepository({ registry: host, repository: 'app', plainHttp: true, username, password: 'not-the-password', http: HTTP });
    const error = await repo.resolve('v1').catch((e) => e);
    expect(error).toBeInstanceOf(RegistryAuthError);
    expect(error.message).toBe(`registry ${host} refused the credentials for repository app (401 Unauthorized)`);
    expect(error.message).not.toContain('not-the-password');
  });

  test('no credentials fail saying that credentials are required', async () => {
    const { host } = authRegistry();
    const repo = new RegistryRepository({ registry: host, repository: 'app', plainHttp: true, http: HTTP });
    await expect(repo.resolve('v1')).rejects.toThrow(
      `registry ${host} requires credentials for repository app (401 Unauthorized), and none were given`,
    );
  });
});

describe('ECR auth', () => {
  const ecr = mockClient(ECRClient);
  afterEach(() => ecr.reset());
  const ECR_HOST = '123456789012.dkr.ecr.eu-west-1.amazonaws.com';

  test('recognises ECR hosts, including China, FIPS and dual-stack forms', () => {
    expect(parseEcrHost(ECR_HOST)).toEqual({ accountId: '123456789012', region: 'eu-west-1', fips: false });
    expect(parseEcrHost('123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn')?.region).toBe('cn-north-1');
    expect(parseEcrHost('123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com')).toEqual({ accountId: '123456789012', region: 'us-gov-west-1', fips: true });
    expect(parseEcrHost('123456789012.dkr-ecr.us-east-1.on.aws')?.region).toBe('us-east-1');
    expect(parseEcrHost('public.ecr.aws')).toBeUndefined();
    expect(parseEcrHost('12345.dkr.ecr.eu-west-1.amazonaws.com')).toBeUndefined();
    expect(parseEcrHost('123456789012.dkr.ecr.eu-west-1.amazonaws.com.evil.com')).toBeUndefined();
  });

  test('decodes AWS:<password> tokens and refuses malformed ones without quoting them', () => {
    expect(decodeEcrAuthorizationToken(Buffer.from('AWS:secret:with:colons').toString('base64'))).toEqual({ username: 'AWS', password: 'secret:with:colons' });
    expect(() => decodeEcrAuthorizationToken(Buffer.from('nocolon').toString('base64'))).toThrow(/not base64 of "user:password"/);
  });

  function ecrToken(username: string, password: string, expiresAt: Date) {
    return { authorizationData: [{ authorizationToken: Buffer.from(`${username}:${password}`).toString('base64'), expiresAt }] };
  }

  test('uses GetAuthorizationToken credentials, cached until expiry, against the registry endpoint', async () => {
    const { host, username, password } = authRegistry();
    ecr.on(GetAuthorizationTokenCommand).resolves(ecrToken(username, password, new Date(Date.now() + 12 * 3600_000)));
    // The ECR host name decides the auth; requests go to the loopback registry, never to AWS.
    const repo = new RegistryRepository({
      registry: ECR_HOST, repository: 'ecr-test/app', endpoint: `http://${host}`, ecrClient: new ECRClient({ region: 'eu-west-1' }), http: HTTP,
    });
    expect(repo.name).toBe(`${ECR_HOST}/ecr-test/app`);
    const pushed = await pushImage(repo, createRandomImage(), 'v1');
    expect(await repo.resolve('v1')).toEqual(pushed);
    expect(ecr.commandCalls(GetAuthorizationTokenCommand)).toHaveLength(1);
  });

  test('fetches a new token once the cached one expires', async () => {
    const { host, username, password } = authRegistry();
    ecr.on(GetAuthorizationTokenCommand).resolves(ecrToken(username, password, new Date(Date.now() - 1000)));
    const repo = new RegistryRepository({ registry: ECR_HOST, repository: 'ecr-test/app2', endpoint: `http://${host}`, ecrClient: new ECRClient({}), http: HTTP });
    await pushImage(repo, createRandomImage(), 'v1');
    await repo.resolve('v1');
    // Every request found the token expired.
    expect(ecr.commandCalls(GetAuthorizationTokenCommand).length).toBeGreaterThanOrEqual(2);
  });

  test('a refused ECR token is reported without credentials', async () => {
    const { host } = authRegistry();
    ecr.on(GetAuthorizationTokenCommand).resolves(ecrToken('AWS', 'expired-token-value', new Date(Date.now() + 3600_000)));
    const repo = new RegistryRepository({ registry: ECR_HOST, repository: 'app', endpoint: `http://${host}`, ecrClient: new ECRClient({}), http: HTTP });
    const error = await repo.resolve('v1').catch((e) => e);
    expect(error.message).toBe(`registry ${ECR_HOST} refused the credentials for repository app (401 Unauthorized)`);
    expect(error.message).not.toContain('expired-token-value');
  });

  test('a GetAuthorizationToken failure names the account and region', async () => {
    ecr.on(GetAuthorizationTokenCommand).rejects(new Error('AccessDenied'));
    const { host } = authRegistry();
    const repo = new RegistryRepository({ registry: ECR_HOST, repository: 'app', endpoint: `http://${host}`, ecrClient: new ECRClient({}), http: HTTP });
    await expect(repo.resolve('v1')).rejects.toThrow('ECR GetAuthorizationToken failed for registry account 123456789012 in eu-west-1: AccessDenied');
  });
});
