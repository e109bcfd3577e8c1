import { ScriptedServer, startScriptedServer } from './support/scripted-server';
import { MediaType } from '../../lambda/oci/media-types';
import { RegistryRepository } from '../../lambda/oci/registry-repository';

const MANIFEST = Buffer.from(JSON.stringify({
  schemaVersion: 2,
  mediaType: MediaType.OCI_MANIFEST,
  config: { mediaType: MediaType.OCI_EMPTY, digest: `sha256:${'4'.repeat(64)}`, size: 2 },
  layers: [],
}));

let server: ScriptedServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

function repository(host: string): RegistryRepository {
  return new RegistryRepository({ registry: host, repository: 'app', plainHttp: true, http: { retries: 0, timeoutMs: 2000 } });
}

describe('manifest push refusals', () => {
  test('a 400 whose error body did not arrive intact is retried, like a blob still being committed', async () => {
    server = await startScriptedServer((_request, response, index) => {
      if (index === 0) response.writeHead(400, { 'content-type': 'application/json' }).end('{"errors":[{"co');
      else response.writeHead(201, { 'docker-content-digest': 'x' }).end();
    });
    const pushed = await repository(server.host).pushManifest(MANIFEST, MediaType.OCI_MANIFEST, 'v1');
    expect(pushed.descriptor.size).toBe(MANIFEST.length);
    expect(server.requests.filter((r) => r.startsWith('PUT'))).toHaveLength(2);
  });

  test('a 400 that names another error (an invalid manifest) is not retried', async () => {
    server = await startScriptedServer((_request, response) => {
      response.writeHead(400, { 'content-type': 'application/json' }).end('{"errors":[{"code":"MANIFEST_INVALID","message":"manifest invalid"}]}');
    });
    await expect(repository(server.host).pushManifest(MANIFEST, MediaType.OCI_MANIFEST, 'v1')).rejects.toThrow(/answered 400 Bad Request for push of manifest .*MANIFEST_INVALID/);
    expect(server.requests.filter((r) => r.startsWith('PUT'))).toHaveLength(1);
  });
});
