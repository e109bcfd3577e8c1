import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RegistryRepository } from '../../lambda/oci/registry-repository';
import { authRegistry } from '../harness/env';
import { runSignedImage } from '../util/cli';
import { createRandomImage, pushImage } from '../util/images';

/**
 * A docker credential helper speaking the docker-credential-helpers protocol, keeping its credentials as files
 * in $FAKE_STORE (one per server).
 */
const HELPER = `#!/bin/bash
key() { printf '%s' "$1" | sha256sum | cut -c1-16; }
case "$1" in
  get) read -r server; f="$FAKE_STORE/$(key "$server")"
       if [ -f "$f" ]; then cat "$f"; else echo "credentials not found in native keychain"; exit 1; fi ;;
  store) input=$(cat); server=$(printf '%s' "$input" | sed -E 's/.*"ServerURL":"([^"]*)".*/\\1/')
         printf '%s' "$input" > "$FAKE_STORE/$(key "$server")" ;;
  erase) read -r server; f="$FAKE_STORE/$(key "$server")"
         if [ -f "$f" ]; then rm "$f"; else echo "credentials not found in native keychain"; exit 1; fi ;;
  *) exit 2 ;;
esac
`;

function environment(dockerConfig?: unknown): { env: Record<string, string>; store: string; dockerDir: string } {
  const root = mkdtempSync(join(tmpdir(), 'credentials-'));
  const bin = join(root, 'bin');
  const store = join(root, 'store');
  const dockerDir = join(root, 'docker');
  mkdirSync(bin);
  mkdirSync(store);
  mkdirSync(dockerDir);
  writeFileSync(join(bin, 'docker-credential-fake'), HELPER);
  chmodSync(join(bin, 'docker-credential-fake'), 0o755);
  if (dockerConfig) writeFileSync(join(dockerDir, 'config.json'), JSON.stringify(dockerConfig));
  return {
    env: { HOME: root, DOCKER_CONFIG: dockerDir, NOTATION_CONFIG: join(root, 'notation'), PATH: `${bin}:/usr/bin:/bin`, FAKE_STORE: store },
    store,
    dockerDir,
  };
}

async function authImage(): Promise<string> {
  const { host, username, password } = authRegistry();
  const name = `cli/creds-${randomBytes(4).toString('hex')}`;
  const repository = new RegistryRepository({ registry: host, repository: name, plainHttp: true, username, password });
  const image = await pushImage(repository, createRandomImage());
  return `${host}/${name}@${image.digest}`;
}

describe('registry credentials from docker\'s config.json, as notation reads them', () => {
  test('"auths" (base64 user:password) authenticates list; a legacy URL key matches the host', async () => {
    const { host, username, password } = authRegistry();
    const ref = await authImage();
    const auth = Buffer.from(`${username}:${password}`).toString('base64');
    const exact = environment({ auths: { [host]: { auth } } });
    const legacy = environment({ auths: { [`http://${host}/v1/`]: { auth } } });

    const withExact = await runSignedImage(['list', '--insecure-registry', '-d', ref], { env: exact.env });
    const withLegacy = await runSignedImage(['list', '--insecure-registry', ref], { env: legacy.env });
    const without = await runSignedImage(['list', '--insecure-registry', ref], { env: environment().env });

    expect(withExact.code).toBe(0);
    expect(withExact.stderr).toContain(`registry credentials for ${host}: "auths" of ${join(exact.dockerDir, 'config.json')}`);
    expect(withExact.stderr).not.toContain(password);
    expect(withLegacy.code).toBe(0);
    expect(without.code).toBe(1);
  });

  test('"credHelpers" runs docker-credential-<name> get; a helper that is not installed is a clear error', async () => {
    const { host, username, password } = authRegistry();
    const ref = await authImage();
    const helper = environment({ credHelpers: { [host]: 'fake' } });
    const missing = environment({ credHelpers: { [host]: 'absent' } });
    const { store } = helper;
    await runSignedImage(['login', '--insecure-registry', '-u', username, '--password-stdin', host], { env: helper.env, stdin: password });

    const run = await runSignedImage(['list', '--insecure-registry', ref], { env: helper.env });
    const notInstalled = await runSignedImage(['list', '--insecure-registry', ref], { env: missing.env });

    expect(readdirSync(store)).toHaveLength(1);
    expect(run.code).toBe(0);
    expect(notInstalled.code).toBe(1);
    expect(notInstalled.stderr).toContain('the credential helper docker-credential-absent is not installed (not found on PATH)');
  });
});

describe('signed-image login and logout', () => {
  test('login checks the credentials, saves them with the credsStore helper, and logout erases them', async () => {
    const { host, username, password } = authRegistry();
    const { env, store, dockerDir } = environment({ credsStore: 'fake' });

    const wrong = await runSignedImage(['login', '--insecure-registry', '-u', username, '--password-stdin', host], { env, stdin: 'wrong-password' });
    const afterWrong = readdirSync(store).length;
    const login = await runSignedImage(['login', '--insecure-registry', '-u', username, '--password-stdin', host], { env, stdin: `${password}\n` });
    const saved = JSON.parse(readFileSync(join(store, readdirSync(store)[0]), 'utf8'));
    const logout = await runSignedImage(['logout', host], { env });

    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain(`failed to log in to ${host}: the registry refused the credentials (401)`);
    expect(afterWrong).toBe(0);
    expect(login.stdout).toBe('Login Succeeded\n');
    expect(saved).toEqual({ ServerURL: host, Username: username, Secret: password });
    expect(readFileSync(join(dockerDir, 'config.json'), 'utf8')).not.toContain(password);
    expect(logout.stdout).toBe('Logout Succeeded\n');
    expect(readdirSync(store)).toHaveLength(0);
  });

  test('with no credential configuration, login and list use the platform\'s default helper when it is installed (oras-go NewDefaultNativeStore)', async () => {
    if (process.platform !== 'linux') return;
    const { host, username, password } = authRegistry();
    const { env, store, dockerDir } = environment();
    const bin = env.PATH.split(':')[0];
    writeFileSync(join(bin, 'docker-credential-secretservice'), HELPER);
    chmodSync(join(bin, 'docker-credential-secretservice'), 0o755);
    const ref = await authImage();

    const login = await runSignedImage(['login', '--insecure-registry', '-u', username, '--password-stdin', host], { env, stdin: password });
    const list = await runSignedImage(['list', '--insecure-registry', '-d', ref], { env });

    expect(login.stdout).toBe('Login Succeeded\n');
    expect(JSON.parse(readFileSync(join(store, readdirSync(store)[0]), 'utf8'))).toEqual({ ServerURL: host, Username: username, Secret: password });
    expect(readdirSync(dockerDir)).toEqual([]);
    expect(list.code).toBe(0);
    expect(list.stderr).toContain(`registry credentials for ${host}: credential helper docker-credential-secretservice (the platform's default credential store)`);
    expect(list.stderr).not.toContain(password);
  });

  test('login asks for what -u/-p did not give, as notation login does; an empty password is "password required"', async () => {
    const { host, username, password } = authRegistry();
    const { env, store } = environment({ credsStore: 'fake' });

    const prompted = await runSignedImage(['login', '--insecure-registry', host], { env, stdin: `${username}\n${password}\n` });
    const passwordOnly = await runSignedImage(['login', '--insecure-registry', '-u', username, host], { env, stdin: `${password}\n` });
    const empty = await runSignedImage(['login', '--insecure-registry', '-u', username, host], { env, stdin: '' });
    const noUser = await runSignedImage(['login', '--insecure-registry', host], { env, stdin: '\n' });

    expect(prompted.stderr).toBe('Username: Password: ');
    expect(prompted.stdout).toBe('Login Succeeded\n');
    expect(readdirSync(store)).toHaveLength(1);
    expect(passwordOnly.stderr).toBe('Password: ');
    expect(passwordOnly.stdout).toBe('Login Succeeded\n');
    expect(empty.code).toBe(2);
    expect(empty.stderr).toBe('Password: Error: password required\n');
    expect(noUser.code).toBe(2);
    expect(noUser.stderr).toContain('username required');
  });

  test('login refuses to write a password in plaintext into config.json (notation: AllowPlaintextPut false)', async () => {
    const { host, username, password } = authRegistry();
    const { env, dockerDir } = environment();

    const run = await runSignedImage(['login', '--insecure-registry', '-u', username, '--password-stdin', host], { env, stdin: password });

    expect(run.code).toBe(1);
    expect(run.stderr).toContain('a credentials store is required to securely store the password');
    expect(readdirSync(dockerDir)).toEqual([]);
  });
});
