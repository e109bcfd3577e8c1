import { RegistryRepository } from '../../lambda/oci/registry-repository';
import { startTokenAuthRegistry, TokenAuthRegistry } from '../harness/token-server';
import { createRandomImage, pushImage } from '../util/images';

let registry: TokenAuthRegistry;
beforeAll(async () => {
  registry = await startTokenAuthRegistry();
});
afterAll(async () => {
  await registry?.stop();
});

function repository(options: { password?: string; repository?: string } = {}) {
  return new RegistryRepository({
    registry: registry.host,
    repository: options.repository ?? 'app',
    plainHttp: true,
    username: registry.username,
    password: options.password ?? registry.password,
    http: { retries: 0 },
  });
}

describe('bearer token auth against a distribution registry with auth: token', () => {
  test('the registry demands a bearer token with realm, service and scope', async () => {
    const response = await fetch(`http://${registry.host}/v2/app/manifests/v1`);
    expect(response.status).toBe(401);
    const challenge = response.headers.get('www-authenticate') ?? '';
    expect(challenge).toMatch(/^Bearer realm="http:\/\/127\.0\.0\.1:\d+\/token",service="[^"]+",scope="repository:app:pull"/);
  });

  test('pushes and pulls with a token fetched with the credentials, reusing the cached token', async () => {
    const repo = repository();
    const image = createRandomImage();
    const before = registry.issued.length;
    const pushed = await pushImage(repo, image, 'v1');
    const resolved = await repo.resolve('v1');
    expect(resolved).toEqual(pushed);
    const fetched = await repo.fetchManifest('v1');
    expect(Buffer.from(fetched.bytes)).toEqual(Buffer.from(image.manifest));
    const issuedNow = registry.issued.slice(before);
    // one push scope token for the push (5 requests) and one pull token for the reads (2 requests)
    expect(issuedNow.length).toBeLessThanOrEqual(2);
    expect(issuedNow.flatMap((i) => i.scopes)).toContain('repository:app:pull,push');
  });

  test('wrong credentials fail with a message naming the registry and repository, without the password', async () => {
    const repo = repository({ password: 'wrong-password' });
    const error = await repo.resolve('v1').catch((e: Error) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toContain(`registry ${registry.host} refused the credentials for repository app`);
    expect((error as Error).message).not.toContain('wrong-password');
  });
});

describe('bearer token variants', () => {
  afterEach(() => {
    registry.behaviour.field = 'token';
    registry.behaviour.expiresInSeconds = 300;
  });

  test('accepts an OAuth2 access_token answer', async () => {
    registry.behaviour.field = 'access_token';
    const repo = repository({ repository: 'oauth' });
    const pushed = await pushImage(repo, createRandomImage(), 'v1');
    expect(await repo.resolve('v1')).toEqual(pushed);
  });

  test('fetches a new token when the cached one has expired', async () => {
    registry.behaviour.expiresInSeconds = 1;
    const repo = repository({ repository: 'expiring' });
    await pushImage(repo, createRandomImage(), 'v1');
    const before = registry.issued.length;
    await repo.resolve('v1');
    await repo.resolve('v1');
    // A 1 s token is refreshed 10% early; once it has run out, the next request asks for a new one.
    expect(registry.issued.length - before).toBe(1);
    await new Promise((r) => setTimeout(r, 1000));
    await repo.resolve('v1');
    expect(registry.issued.length - before).toBe(2);
  });
});
