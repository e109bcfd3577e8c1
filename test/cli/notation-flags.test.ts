import { createPrivateKey, randomBytes } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignerClient, SignPayloadCommand } from '@aws-sdk/client-signer';
import { mockClient } from 'aws-sdk-client-mock';
import { notationConfigDir } from '../../lambda/cli/notation-dir';
import { listSignatures } from '../../lambda/notary/list-signatures';
import { RegistryRepository } from '../../lambda/oci/registry-repository';
import { Descriptor } from '../../lambda/oci/types';
import { LocalKeySigner } from '../../lambda/signers/local-key';
import { authRegistry, plainRegistry } from '../harness/env';
import { runSignedImage } from '../util/cli';
import { createRandomImage, pushImage } from '../util/images';
import { trustPolicy, writeNotationConfig } from '../util/notation-config';
import { createChain, TestChain } from '../util/pki';

const PROFILE_ARN = 'arn:aws:signer:us-west-2:111122223333:/signing-profiles/release';
const signerMock = mockClient(SignerClient);
afterEach(() => signerMock.reset());
afterAll(() => signerMock.restore());

let chain: TestChain;
let keyFile: string;
let certFile: string;
let configDir: string;

beforeAll(async () => {
  chain = await createChain();
  const dir = mkdtempSync(join(tmpdir(), 'notation-flags-'));
  keyFile = join(dir, 'key.pem');
  certFile = join(dir, 'chain.pem');
  writeFileSync(keyFile, chain.leaf.keyPem);
  writeFileSync(certFile, chain.chainPem);
  configDir = writeNotationConfig(trustPolicy({ trustStores: ['ca:test'] }), { 'ca:test': chain.root.pem });
});

async function authImage(): Promise<{ ref: string; digest: string; repository: RegistryRepository }> {
  const { host, username, password } = authRegistry();
  const name = `cli/auth-${randomBytes(4).toString('hex')}`;
  const repository = new RegistryRepository({ registry: host, repository: name, plainHttp: true, username, password });
  const image = await pushImage(repository, createRandomImage());
  return { ref: `${host}/${name}@${image.digest}`, digest: image.digest, repository };
}

async function plainImage(): Promise<{ ref: string; repository: RegistryRepository; image: Descriptor }> {
  const name = `cli/plain-${randomBytes(4).toString('hex')}`;
  const repository = new RegistryRepository({ registry: plainRegistry(), repository: name, plainHttp: true });
  const image = await pushImage(repository, createRandomImage());
  return { ref: `${plainRegistry()}/${name}@${image.digest}`, repository, image };
}

describe('notation\'s registry flags', () => {
  test('-u/-p sign and verify on a registry with basic auth; --insecure-registry is notation\'s HTTP flag', async () => {
    const { username, password } = authRegistry();
    const { ref, repository, digest } = await authImage();

    const sign = await runSignedImage(['sign', '--insecure-registry', '-u', username, '-p', password, '-k', keyFile, '-c', certFile, ref]);
    const verify = await runSignedImage(['verify', '--insecure-registry', '-u', username, '-p', password, '--config-dir', configDir, ref]);

    expect(sign.code).toBe(0);
    expect(sign.stderr).toBe('Warning: a password given with -p/--password is visible in the process list and shell history; use --password-stdin or NOTATION_PASSWORD\n');
    expect(await listSignatures(repository, { digest })).toHaveLength(1);
    expect(verify.code).toBe(0);
    expect(verify.stdout).toBe(`Successfully verified signature for ${ref}\n`);
  });

  test('NOTATION_USERNAME/NOTATION_PASSWORD and --password-stdin give the credentials without the command line', async () => {
    const { username, password } = authRegistry();
    const { ref } = await authImage();

    const fromEnv = await runSignedImage(['list', '--insecure-registry', ref], { env: { NOTATION_USERNAME: username, NOTATION_PASSWORD: password } });
    const fromStdin = await runSignedImage(['list', '--insecure-registry', '-u', username, '--password-stdin', ref], { stdin: `${password}\n`, env: {} });
    const anonymous = await runSignedImage(['list', '--insecure-registry', ref]);

    expect(fromEnv.code).toBe(0);
    expect(fromEnv.stderr).toBe('');
    expect(fromStdin.code).toBe(0);
    expect(anonymous.code).toBe(1);
    expect(anonymous.stderr).toContain('requires credentials');
  });

  test('a password given to -p without -u is a usage error that does not echo it, and nothing is signed', async () => {
    const secret = `hunter2-${randomBytes(4).toString('hex')}`;
    const run = await runSignedImage(['sign', '-p', secret, '--signer-profile', 'release', 'localhost:5000/app:v1']);
    const wrong = await runSignedImage(['list', '--insecure-registry', '-u', 'tester', '-p', secret, (await authImage()).ref]);

    expect(run.code).toBe(2);
    expect(run.stderr).toContain('a registry password was given without a user name: add -u/--username or set NOTATION_USERNAME');
    expect(run.stdout + run.stderr).not.toContain(secret);
    expect(signerMock.commandCalls(SignPayloadCommand)).toHaveLength(0);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('refused the credentials');
    expect(wrong.stdout + wrong.stderr).not.toContain(secret);
  });

  test('-u without a password is a usage error', async () => {
    const run = await runSignedImage(['list', '-u', 'tester', 'localhost:5000/app:v1']);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe('Error: password required: a registry user name was given without a password: add -p/--password, --password-stdin or set NOTATION_PASSWORD\n');
  });

  test('localhost:<port> and the "insecureRegistries" of notation\'s config.json are reached over plain HTTP without a flag', async () => {
    const { ref, repository, image } = await plainImage();
    const port = plainRegistry().split(':')[1];
    const viaLocalhost = ref.replace(plainRegistry(), `localhost:${port}`);
    const dir = mkdtempSync(join(tmpdir(), 'insecure-config-'));
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ insecureRegistries: [plainRegistry().toUpperCase()] }));
    const empty = mkdtempSync(join(tmpdir(), 'empty-config-'));

    const localhost = await runSignedImage(['sign', '--config-dir', empty, '-k', keyFile, '-c', certFile, viaLocalhost]);
    const listed = await runSignedImage(['list', '--config-dir', dir, '-d', ref]);
    const tls = await runSignedImage(['list', '--config-dir', empty, ref]);

    expect(localhost.stderr).toBe('');
    expect(localhost.code).toBe(0);
    expect(await listSignatures(repository, image)).toHaveLength(1);
    expect(listed.code).toBe(0);
    expect(listed.stderr).toContain(`${plainRegistry()} is reached over plain HTTP: it is localhost:<port> or listed in "insecureRegistries" of ${join(dir, 'config.json')}`);
    expect(tls.code).toBe(1);
    expect(tls.stderr).toContain('(the registry may speak plain HTTP: if it is a test registry, add --insecure-registry)');
  });

  test('-d/--debug says where the credentials came from, never what they are', async () => {
    const { username, password } = authRegistry();
    const { ref } = await authImage();

    const run = await runSignedImage(['list', '-d', '--insecure-registry', ref], { env: { HOME: mkdtempSync(join(tmpdir(), 'home-')), NOTATION_USERNAME: username, NOTATION_PASSWORD: password } });

    expect(run.code).toBe(0);
    expect(run.stderr).toContain('[debug] registry credentials for');
    expect(run.stderr).toContain('from the command line or the environment');
    expect(run.stderr).not.toContain(password);
  });

  test('TLS to a registry that speaks plain HTTP suggests --insecure-registry', async () => {
    const run = await runSignedImage(['list', `${plainRegistry()}/cli/tls@sha256:${'a'.repeat(64)}`]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('add --insecure-registry');
  });

  test.each([
    ['PKCS#8 (BEGIN ENCRYPTED PRIVATE KEY)', 'pkcs8'],
    ['SEC1 with a Proc-Type header', 'sec1'],
  ] as const)('an encrypted private key (%s) is a usage error suggesting to decrypt it, never echoing the key; nothing is pushed', async (_, type) => {
    const { repository, ref, image } = await plainImage();
    const encrypted = createPrivateKey(chain.leaf.keyPem).export({ format: 'pem', type, cipher: 'aes-256-cbc', passphrase: 'a passphrase' }) as string;
    const encryptedFile = join(mkdtempSync(join(tmpdir(), 'encrypted-')), 'key.pem');
    writeFileSync(encryptedFile, encrypted);

    const run = await runSignedImage(['sign', '--insecure-registry', '-k', encryptedFile, '-c', certFile, ref]);

    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`--key ${encryptedFile} is an encrypted private key: decrypt it first (openssl pkey -in ${encryptedFile} -out <file>)`);
    const keyBody = encrypted.split('\n').filter((line) => /^[A-Za-z0-9+/=]{40,}$/.test(line));
    expect(keyBody.length).toBeGreaterThan(0);
    for (const line of keyBody) expect(run.stdout + run.stderr).not.toContain(line);
    expect(await listSignatures(repository, image)).toEqual([]);
  });
});

describe('notation\'s configuration directory', () => {
  test('is $NOTATION_CONFIG, else Go\'s os.UserConfigDir()/notation: $XDG_CONFIG_HOME/notation, else ~/.config/notation on Linux (notation-go dir/path.go)', () => {
    expect(notationConfigDir({ NOTATION_CONFIG: '/n', XDG_CONFIG_HOME: '/x', HOME: '/h' }, undefined, 'linux')).toBe('/n');
    expect(notationConfigDir({ XDG_CONFIG_HOME: '/x', HOME: '/h' }, undefined, 'linux')).toBe('/x/notation');
    expect(notationConfigDir({ HOME: '/h' }, undefined, 'linux')).toBe('/h/.config/notation');
    expect(notationConfigDir({ XDG_CONFIG_HOME: '', HOME: '/h' }, undefined, 'linux')).toBe('/h/.config/notation');
    expect(notationConfigDir({ HOME: '/h' }, '/explicit', 'linux')).toBe('/explicit');
    expect(notationConfigDir({ XDG_CONFIG_HOME: '/x', HOME: '/Users/h' }, undefined, 'darwin')).toBe('/Users/h/Library/Application Support/notation');
    expect(notationConfigDir({ AppData: 'C:\\Users\\h\\AppData\\Roaming' }, undefined, 'win32')).toBe('C:\\Users\\h\\AppData\\Roaming\\notation');
  });

  test('where os.UserConfigDir fails, notation\'s fallback to ./.notation is refused: the trust policy never comes from the working directory', () => {
    expect(() => notationConfigDir({ XDG_CONFIG_HOME: 'relative', HOME: '/h' }, undefined, 'linux')).toThrow(
      'cannot find the notation configuration directory: the path in $XDG_CONFIG_HOME ("relative") is relative (notation would fall back to ./.notation); set NOTATION_CONFIG or give --config-dir',
    );
    expect(() => notationConfigDir({}, undefined, 'linux')).toThrow('neither $XDG_CONFIG_HOME nor $HOME are defined');
    expect(() => notationConfigDir({ NOTATION_CONFIG: '/n' }, undefined, 'linux')).not.toThrow();
  });

  test('verify without --config-dir reads the trust policy from $XDG_CONFIG_HOME/notation', async () => {
    const host = plainRegistry();
    const repository = new RegistryRepository({ registry: host, repository: 'cli/default-dir', plainHttp: true });
    const image = await pushImage(repository, createRandomImage());
    const ref = `${host}/cli/default-dir@${image.digest}`;
    await runSignedImage(['sign', '--insecure-registry', '-k', keyFile, '-c', certFile, ref]);
    const xdg = mkdtempSync(join(tmpdir(), 'xdg-'));
    mkdirSync(join(xdg, 'notation'));
    const empty = mkdtempSync(join(tmpdir(), 'xdg-empty-'));
    cpSync(configDir, join(xdg, 'notation'), { recursive: true });

    const verified = await runSignedImage(['verify', '--insecure-registry', ref], { env: { XDG_CONFIG_HOME: xdg, HOME: '/nonexistent' } });
    const missing = await runSignedImage(['verify', '--insecure-registry', ref], { env: { XDG_CONFIG_HOME: empty } });
    const missingJson = await runSignedImage(['verify', '--insecure-registry', '-o', 'json', ref], { env: { XDG_CONFIG_HOME: empty } });

    expect(verified.code).toBe(0);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(`neither ${join(empty, 'notation', 'trustpolicy.oci.json')} nor ${join(empty, 'notation', 'trustpolicy.json')} exists`);
    expect(JSON.parse(missingJson.stdout).error.code).toBe('invalid-trust-policy');
  });
});

describe('--output json errors', () => {
  test.each([
    [['verify', '-o', 'json', '--config-dir', '/nonexistent', 'not a reference'], 'invalid-trust-policy', 2],
    [['inspect', '-o', 'json', 'localhost:5000/app'], 'invalid-reference', 2],
    [['inspect', '--output', 'json', '--max-signatures', '0', 'localhost:5000/app:v1'], 'usage', 2],
    [['verify', '--output=json', '--no-such-flag', 'localhost:5000/app:v1'], 'usage', 2],
  ])('%j prints {"error": {"code": "%s"}} on stdout', async (argv, code, exitCode) => {
    const run = await runSignedImage(argv);
    expect(run.code).toBe(exitCode);
    expect(JSON.parse(run.stdout)).toEqual({ error: { code, message: expect.any(String) } });
    expect(run.stderr).toBe('');
  });
});

describe('--signature-format', () => {
  test('defaults to "signatureFormat" of notation\'s config.json, as notation; cose from there is refused naming the file\'s setting', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'format-config-'));
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ signatureFormat: 'cose' }));
    const { ref, repository, image } = await plainImage();

    const refused = await runSignedImage(['sign', '--insecure-registry', '--config-dir', dir, '-k', keyFile, '-c', certFile, ref]);
    const explicit = await runSignedImage(['sign', '--insecure-registry', '--config-dir', dir, '--signature-format', 'jws', '-k', keyFile, '-c', certFile, ref]);

    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('"signatureFormat" in notation\'s config.json cose is not supported');
    expect(explicit.code).toBe(0);
    expect(await listSignatures(repository, image)).toHaveLength(1);
  });
});

describe('AWS Signer as notation users type it', () => {
  test('sign --plugin com.amazonaws.signer.notation.plugin --id <profile ARN> signs with SignPayload', async () => {
    const aws = await createChain({ keySpec: 'EC-384' });
    const shaped = new LocalKeySigner({
      key: aws.leaf.keyPem,
      certificateChain: aws.chain,
      signingAuthority: { signingProfileVersionArn: `${PROFILE_ARN}/Ab12Cd34Ef` },
    });
    signerMock.on(SignPayloadCommand).callsFake(async (input) => ({
      signature: (await shaped.sign(input.payload)).envelope,
      jobId: 'job',
      jobOwner: '111122223333',
      metadata: { 'com.amazonaws.signer.signingProfile': PROFILE_ARN },
    }));
    const host = plainRegistry();
    const repository = new RegistryRepository({ registry: host, repository: 'cli/plugin', plainHttp: true });
    const image = await pushImage(repository, createRandomImage());

    // The test CA stands in for AWS Signer's root through the configuration's signingAuthority store.
    const dir = writeNotationConfig(trustPolicy({ trustStores: ['signingAuthority:aws-test'], trustedIdentities: [PROFILE_ARN] }), { 'signingAuthority:aws-test': aws.root.pem });
    const run = await runSignedImage([
      'sign', '--insecure-registry', '--config-dir', dir, '--plugin', 'com.amazonaws.signer.notation.plugin', '--id', PROFILE_ARN, `${host}/cli/plugin@${image.digest}`,
    ]);

    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(signerMock.commandCalls(SignPayloadCommand)[0].args[0].input).toMatchObject({ profileName: 'release', profileOwner: '111122223333' });
    expect(await listSignatures(repository, image)).toHaveLength(1);
  });
});

describe('signed-image version', () => {
  test('prints the version as notation version lays it out', async () => {
    const run = await runSignedImage(['version']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^signed-image - .*\n\nVersion: +\S+\nNode version: +v\d+\.\d+\.\d+\nOS\/Arch: +\w+\/\w+\n$/);
  });
});
