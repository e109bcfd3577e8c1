import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { signImage } from '../../lambda/notary/sign-image';
import { OciLayoutRepository } from '../../lambda/oci/layout-repository';
import { RegistryRepository } from '../../lambda/oci/registry-repository';
import { LocalKeySigner } from '../../lambda/signers/local-key';
import { authRegistry, plainRegistry } from '../harness/env';
import { startForwardingProxy } from '../harness/forwarding-proxy';
import { runSignedImage } from '../util/cli';
import { createRandomImage, pushImage } from '../util/images';
import { ALPINE_DIGEST, ALPINE_TAG, copyAlpineLayout, pushLegacySignature, pushNotationSignedAlpine } from '../util/notation-signed';
import { createChain } from '../util/pki';

function uniqueRepository(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

describe('signed-image list', () => {
  test('prints the digest of a notation-signed image on a registry (legacy form, tag schema index)', async () => {
    const host = plainRegistry();
    const name = uniqueRepository('notation/alpine');
    const repository = new RegistryRepository({ registry: host, repository: name, plainHttp: true });
    const { signature } = await pushNotationSignedAlpine(repository);

    const run = await runSignedImage(['list', '--plain-http', `${host}/${name}:${ALPINE_TAG}`]);

    expect(run.stderr).toBe(
      `Warning: Always list the artifact using digest(@sha256:...) rather than a tag(:${ALPINE_TAG}) because resolved digest may not point to the same signed artifact, as tags are mutable.\n`,
    );
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(
      `${host}/${name}@${ALPINE_DIGEST}\n└── application/vnd.cncf.notary.signature\n    └── ${signature.digest}\n`,
    );
  });

  test('prints the same signature digest for the same content in an OCI layout', async () => {
    const host = plainRegistry();
    const name = uniqueRepository('notation/alpine');
    const { signature: onRegistry } = await pushNotationSignedAlpine(
      new RegistryRepository({ registry: host, repository: name, plainHttp: true }),
    );
    const dir = copyAlpineLayout();
    const layout = new OciLayoutRepository(dir);
    const onLayout = await pushLegacySignature(layout, await layout.resolve(ALPINE_TAG));

    const run = await runSignedImage(['list', '--oci-layout', `${dir}:${ALPINE_TAG}`]);

    expect(onLayout.digest).toBe(onRegistry.digest);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`    └── ${onRegistry.digest}\n`);
    expect(run.stdout.split('\n')[0]).toBe(`local/alpine@${ALPINE_DIGEST}`);
  });

  test('lists every signature, one per line', async () => {
    const host = plainRegistry();
    const name = uniqueRepository('list/many');
    const repository = new RegistryRepository({ registry: host, repository: name, plainHttp: true });
    const { image, signature } = await pushNotationSignedAlpine(repository);
    const image2 = await pushImage(repository, createRandomImage(), 'other');

    const run = await runSignedImage(['list', '--plain-http', `${host}/${name}@${image.digest}`]);
    const unsigned = await runSignedImage(['list', '--plain-http', `${host}/${name}:other`]);

    expect(run.stdout).toContain(signature.digest);
    expect(unsigned.code).toBe(0);
    expect(unsigned.stdout).toBe(`${host}/${name}@${image2.digest} has no associated signature\n`);
  });

  test('uses credentials from --password-stdin and from the environment', async () => {
    const { host, username, password } = authRegistry();
    const name = uniqueRepository('auth/alpine');
    const repository = new RegistryRepository({ registry: host, repository: name, plainHttp: true, username, password });
    const { signature } = await pushNotationSignedAlpine(repository);
    const reference = `${host}/${name}:${ALPINE_TAG}`;

    const fromStdin = await runSignedImage(['list', '--plain-http', '-u', username, '--password-stdin', reference], {
      stdin: `${password}\n`,
    });
    const fromEnv = await runSignedImage(['list', '--plain-http', reference], {
      env: { SIGNED_IMAGE_USERNAME: username, SIGNED_IMAGE_PASSWORD: password },
    });

    expect(fromStdin.code).toBe(0);
    expect(fromStdin.stdout).toContain(signature.digest);
    expect(fromEnv.code).toBe(0);
    expect(fromEnv.stdout).toContain(signature.digest);
  });

  describe('failures name the reference and the cause, exit non-zero and print nothing on stdout', () => {
    test('a malformed reference is a usage error', async () => {
      const run = await runSignedImage(['list', '--plain-http', '127.0.0.1:5000/UPPER:v1']);
      expect(run.code).toBe(2);
      expect(run.stdout).toBe('');
      expect(run.stderr).toContain('"127.0.0.1:5000/UPPER:v1"');
      expect(run.stderr).toMatch(/lowercase/);
    });

    test('an unreachable registry', async () => {
      const closed = createServer();
      await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
      const port = (closed.address() as AddressInfo).port;
      await new Promise<void>((resolve) => closed.close(() => resolve()));

      const run = await runSignedImage(['list', '--plain-http', `127.0.0.1:${port}/app:v1`]);

      expect(run.code).toBe(1);
      expect(run.stdout).toBe('');
      expect(run.stderr).toContain(`127.0.0.1:${port}/app:v1`);
      expect(run.stderr).toMatch(/ECONNREFUSED|connection refused/i);
    });

    test('a registry refusing the credentials (401)', async () => {
      const { host, username } = authRegistry();
      const run = await runSignedImage(['list', '--plain-http', '-u', username, '--password-stdin', `${host}/app:v1`], {
        stdin: 'wrong-password',
      });
      expect(run.code).toBe(1);
      expect(run.stdout).toBe('');
      expect(run.stderr).toContain(`${host}/app:v1`);
      expect(run.stderr).toMatch(/401/);
      expect(run.stderr).not.toContain('wrong-password');
    });

    test('a registry answering with other bytes than the digest names', async () => {
      const host = plainRegistry();
      const name = uniqueRepository('tamper/app');
      const repository = new RegistryRepository({ registry: host, repository: name, plainHttp: true });
      const image = await pushImage(repository, createRandomImage(), 'v1');
      const other = createRandomImage().manifest;
      const server = createServer((request, response) => {
        if (request.url?.includes('/manifests/')) {
          response.writeHead(200, { 'content-type': image.mediaType, 'docker-content-digest': image.digest, 'content-length': other.byteLength });
          response.end(request.method === 'HEAD' ? undefined : other);
          return;
        }
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end('{}');
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const port = (server.address() as AddressInfo).port;
      try {
        const run = await runSignedImage(['list', '--plain-http', `127.0.0.1:${port}/${name}@${image.digest}`]);
        expect(run.code).toBe(1);
        expect(run.stdout).toBe('');
        expect(run.stderr).toContain(image.digest);
        expect(run.stderr).toMatch(/digest/i);
      } finally {
        server.close();
      }
    });

    test('an oversized manifest', async () => {
      const server = createServer((_request, response) => {
        response.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json', 'content-length': 64 * 1024 * 1024 });
        response.end();
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const port = (server.address() as AddressInfo).port;
      try {
        const run = await runSignedImage(['list', '--plain-http', `127.0.0.1:${port}/big/app:v1`]);
        expect(run.code).toBe(1);
        expect(run.stdout).toBe('');
        expect(run.stderr).toContain(`127.0.0.1:${port}/big/app:v1`);
        expect(run.stderr).toMatch(/exceeds|too large|limit/i);
      } finally {
        server.closeAllConnections();
        server.close();
      }
    });
  });

  test('--help documents the registry options and exits 0', async () => {
    const run = await runSignedImage(['list', '--help']);
    expect(run.code).toBe(0);
    for (const option of ['--plain-http', '--oci-layout', '--username', '--password-stdin']) {
      expect(run.stdout).toContain(option);
    }
  });

  test('an unknown option is a usage error', async () => {
    const run = await runSignedImage(['list', '--no-such-option', 'a/b:c']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/unknown option/);
  });
});

describe('list and inspect by tag name the digest of the manifest bytes, as verify does', () => {
  test('a HEAD answer naming another (signed) manifest does not make them report that manifest\'s signatures', async () => {
    const host = plainRegistry();
    const name = uniqueRepository('cli/head-lies');
    const repository = new RegistryRepository({ registry: host, repository: name, plainHttp: true });
    const chain = await createChain();
    const signed = await pushImage(repository, createRandomImage(), 'signed');
    await signImage({ repository, tagOrDigest: signed.digest, signer: new LocalKeySigner({ key: chain.leaf.key, certificateChain: chain.chain }) });
    const unsigned = await pushImage(repository, createRandomImage(), 'v1');
    // A registry (or a cache in front of it) whose HEAD for v1 describes the signed manifest, while GET serves v1.
    const lying = await startForwardingProxy(host, {
      intercept: (request, response) => {
        if (request.method !== 'HEAD' || request.url !== `/v2/${name}/manifests/v1`) return false;
        response.writeHead(200, { 'docker-content-digest': signed.digest, 'content-type': signed.mediaType, 'content-length': String(signed.size) }).end();
        return true;
      },
    });
    const proxy = lying.host;
    try {
      const list = await runSignedImage(['list', '--plain-http', `${proxy}/${name}:v1`]);
      const inspect = await runSignedImage(['inspect', '--plain-http', '-o', 'json', `${proxy}/${name}:v1`]);

      expect(list.code).toBe(0);
      expect(list.stdout).toBe(`${proxy}/${name}@${unsigned.digest} has no associated signature\n`);
      expect(inspect.code).toBe(0);
      expect(JSON.parse(inspect.stdout).Signatures).toEqual([]);
    } finally {
      await lying.close();
    }
  });
});
