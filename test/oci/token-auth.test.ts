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
