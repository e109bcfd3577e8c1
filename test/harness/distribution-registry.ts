import { ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hashSync } from 'bcryptjs';

/** Where Debian's `docker-registry` package installs the CNCF distribution registry. */
const REGISTRY_BINARIES = ['/usr/bin/docker-registry', '/usr/local/bin/docker-registry'];
export const INSTALL_HINT = 'sudo apt-get install -y docker-registry   (or: npm run test:setup)';

export interface RunningRegistry {
  /** `127.0.0.1:<port>` */
  readonly host: string;
  readonly pid: number;
  readonly dir: string;
  readonly process: ChildProcess;
}

export interface RegistryOptions {
  /** Enable htpasswd basic auth with this user. */
  readonly basicAuth?: { username: string; password: string };
  /** Enable bearer token auth: tokens are JWTs from `realm`, signed by a key whose certificate is in the bundle. */
  readonly tokenAuth?: { realm: string; service: string; issuer: string; rootCertBundlePem: string };
}

export function findRegistryBinary(): string {
  const found = REGISTRY_BINARIES.find((p) => existsSync(p));
  if (!found) {
    throw new Error(
      `The tests need the CNCF distribution registry (docker-registry), which is not installed. Install it with: ${INSTALL_HINT}`,
    );
  }
  return found;
}

export async function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Starts `docker-registry serve` on a free loopback port with filesystem storage in a temp dir. */
export async function startRegistry(options: RegistryOptions = {}): Promise<RunningRegistry> {
  const binary = findRegistryBinary();
  const dir = mkdtempSync(join(tmpdir(), 'signed-image-registry-'));
  const port = await freeLoopbackPort();
  const debugPort = await freeLoopbackPort();
  let auth = options.basicAuth
    ? `auth:\n  htpasswd:\n    realm: signed-image-test\n    path: ${join(dir, 'htpasswd')}\n`
    : '';
  if (options.tokenAuth) {
    const { realm, service, issuer, rootCertBundlePem } = options.tokenAuth;
    writeFileSync(join(dir, 'token-roots.pem'), rootCertBundlePem);
    auth = [
      'auth:',
      '  token:',
      `    realm: ${realm}`,
      `    service: ${service}`,
      `    issuer: ${issuer}`,
      `    rootcertbundle: ${join(dir, 'token-roots.pem')}`,
      '',
    ].join('\n');
  }
  if (options.basicAuth) {
    const { username, password } = options.basicAuth;
    writeFileSync(join(dir, 'htpasswd'), `${username}:${hashSync(password, 8)}\n`);
  }
  const config = [
    'version: 0.1',
    'log:',
    '  level: error',
    '  accesslog:',
    '    disabled: true',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${join(dir, 'data')}`,
    '  delete:',
    '    enabled: true',
    '  maintenance:',
    '    uploadpurging:',
    '      enabled: false',
    'http:',
    `  addr: 127.0.0.1:${port}`,
    '  debug:',
    `    addr: 127.0.0.1:${debugPort}`,
    auth,
  ].join('\n');
  const configPath = join(dir, 'config.yml');
  writeFileSync(configPath, config);

  const child = spawn(binary, ['serve', configPath], { stdio: ['ignore', 'ignore', 'pipe'], detached: false });
  let stderr = '';
  child.stderr?.on('data', (chunk) => {
    stderr = (stderr + String(chunk)).slice(-4000);
  });
  const host = `127.0.0.1:${port}`;
  await waitUntilServing(host, child, () => stderr);
  return { host, pid: child.pid!, dir, process: child };
}

async function waitUntilServing(host: string, child: ChildProcess, stderr: () => string): Promise<void> {
  const deadline = Date.now() + 15_000;
  for (let attempt = 0; Date.now() < deadline; attempt++) {
    if (child.exitCode !== null) {
      throw new Error(`docker-registry exited with code ${child.exitCode}: ${stderr()}`);
    }
    try {
      const response = await fetch(`http://${host}/v2/`, { signal: AbortSignal.timeout(1000) });
      if (response.status === 200 || response.status === 401) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, Math.min(50 * (attempt + 1), 250)));
  }
  child.kill('SIGKILL');
  throw new Error(`docker-registry did not start on ${host} within 15s: ${stderr()}`);
}

export function stopRegistry(registry: { pid: number; dir: string }): void {
  try {
    process.kill(registry.pid, 'SIGTERM');
  } catch {
    // already gone
  }
  rmSync(registry.dir, { recursive: true, force: true });
}
