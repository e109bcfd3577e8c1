import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { RegistryRepository } from '../../lambda/oci/registry-repository';
import { plainRegistry } from '../harness/env';
import { runSignedImage } from '../util/cli';
import { createRandomImage, pushImage } from '../util/images';
import { trustPolicy } from '../util/notation-config';
import { createChain } from '../util/pki';

/** A fresh notation configuration directory, given to the CLI as $NOTATION_CONFIG. */
function freshConfig(): { dir: string; env: Record<string, string> } {
  const dir = join(mkdtempSync(join(tmpdir(), 'notation-home-')), 'notation');
  return { dir, env: { NOTATION_CONFIG: dir, HOME: '/nonexistent' } };
}

async function pushedImage(name: string): Promise<string> {
  const host = plainRegistry();
  const repository = new RegistryRepository({ registry: host, repository: name, plainHttp: true });
  const image = await pushImage(repository, createRandomImage());
  return `${host}/${name}@${image.digest}`;
}

describe('notation\'s quick start with signed-image', () => {
  test('cert generate-test --default, policy import, then sign without --key and verify with the ca store', async () => {
    const { dir, env } = freshConfig();
    const ref = await pushedImage('cli/quickstart');
    const policyFile = join(mkdtempSync(join(tmpdir(), 'policy-')), 'trustpolicy.json');
    writeFileSync(policyFile, JSON.stringify(trustPolicy({ trustStores: ['ca:wabbit-networks.io'], trustedIdentities: ['x509.subject: C=US, ST=WA, L=Seattle, O=Notary, CN=wabbit-networks.io'] })));

    const generated = await runSignedImage(['cert', 'generate-test', '--default', 'wabbit-networks.io'], { env });
    const imported = await runSignedImage(['policy', 'import', policyFile], { env });
    const sign = await runSignedImage(['sign', '--insecure-registry', ref], { env });
    const verify = await runSignedImage(['verify', '--insecure-registry', ref], { env });

    expect(generated.code).toBe(0);
    expect(generated.stdout).toContain('wabbit-networks.io: added to the key list\nwabbit-networks.io: mark as default signing key\n');
    // notation-go config/keys.go and dir/path.go
    expect(JSON.parse(readFileSync(join(dir, 'signingkeys.json'), 'utf8'))).toEqual({
      default: 'wabbit-networks.io',
      keys: [{ name: 'wabbit-networks.io', keyPath: join(dir, 'localkeys', 'wabbit-networks.io.key'), certPath: join(dir, 'localkeys', 'wabbit-networks.io.crt') }],
    });
    expect(readdirSync(join(dir, 'truststore', 'x509', 'ca', 'wabbit-networks.io'))).toEqual(['wabbit-networks.io.crt']);
    expect(imported.stdout).toBe('Trust policy configuration imported successfully.\n');
    expect(sign.stderr).toBe('');
    expect(sign.code).toBe(0);
    expect(verify.stderr).toBe('');
    expect(verify.code).toBe(0);
    expect(verify.stdout).toBe(`Successfully verified signature for ${ref}\n`);
  });

  test('verify prints the signed user metadata as notation\'s table', async () => {
    const { env } = freshConfig();
    const ref = await pushedImage('cli/metadata-table');
    await runSignedImage(['cert', 'generate-test', '--default', 'acme'], { env });
    const policyFile = join(mkdtempSync(join(tmpdir(), 'policy-')), 'p.json');
    writeFileSync(policyFile, JSON.stringify(trustPolicy({ trustStores: ['ca:acme'] })));
    await runSignedImage(['policy', 'import', policyFile], { env });
    await runSignedImage(['sign', '--insecure-registry', '-m', 'io.wabbit-networks.buildId=123', '-m', 'team=payments', ref], { env });

    const verify = await runSignedImage(['verify', '--insecure-registry', ref], { env });

    expect(verify.code).toBe(0);
    expect(verify.stdout).toBe(
      `Successfully verified signature for ${ref}\n\nThe artifact was signed with the following user metadata.\n\n` +
        // text/tabwriter pads every tab-ended cell, the last column too
        'KEY                          VALUE      \nio.wabbit-networks.buildId   123        \nteam                         payments   \n',
    );
  });
});

describe('signed-image key', () => {
  test('add, list, update --default and delete edit signingkeys.json; sign --key <name> uses the named key', async () => {
    const { dir, env } = freshConfig();
    const chain = await createChain();
    const files = mkdtempSync(join(tmpdir(), 'keys-'));
    writeFileSync(join(files, 'k.pem'), chain.leaf.keyPem);
    writeFileSync(join(files, 'c.pem'), chain.chainPem);
    const arn = 'arn:aws:signer:us-west-2:111122223333:/signing-profiles/release';

    const addAws = await runSignedImage(['key', 'add', '--plugin', 'com.amazonaws.signer.notation.plugin', '--id', arn, '--default', 'aws'], { env });
    const addLocal = await runSignedImage(['key', 'add', '--key', join(files, 'k.pem'), '--cert', join(files, 'c.pem'), 'local'], { env });
    const otherPlugin = await runSignedImage(['key', 'add', '--plugin', 'com.example.kms', '--id', 'k1', 'kms'], { env });
    const duplicate = await runSignedImage(['key', 'add', '--plugin', 'com.amazonaws.signer.notation.plugin', '--id', arn, 'aws'], { env });
    const list = await runSignedImage(['key', 'list'], { env });
    const update = await runSignedImage(['key', 'update', '--default', 'local'], { env });
    const ref = await pushedImage('cli/named-key');
    const sign = await runSignedImage(['sign', '--insecure-registry', '--key', 'local', ref], { env });
    const remove = await runSignedImage(['key', 'delete', 'local'], { env });

    expect(addAws.stdout).toBe('aws: marked as default\n');
    expect(addLocal.stdout).toBe('local\n');
    expect(otherPlugin.code).toBe(2);
    expect(otherPlugin.stderr).toContain('plugin "com.example.kms" is not supported');
    expect(duplicate.code).toBe(2);
    expect(duplicate.stderr).toContain('signing key "aws" is already in');
    expect(list.stdout.split('\n')[0]).toMatch(/^NAME +KEY PATH +CERTIFICATE PATH +ID +PLUGIN NAME {3,}$/);
    expect(list.stdout).toMatch(new RegExp(`^\\* aws +${arn.replace(/[/.*+?^${}()|[\]\\]/g, '\\$&')} +com\\.amazonaws\\.signer\\.notation\\.plugin {3,}$`, 'm'));
    // notation internal/ioutil PrintKeyMap: no indentation for the keys that are not the default
    expect(list.stdout).toMatch(new RegExp(`^local {3,}${files.replace(/[/.*+?^${}()|[\]\\]/g, '\\$&')}`, 'm'));
    expect(update.stdout).toBe('local: marked as default\n');
    expect(sign.code).toBe(0);
    expect(remove.stdout).toBe('Removed default key local from Notation signing key list. The source key still exists.\n');
    expect(existsSync(join(files, 'k.pem'))).toBe(true);
    expect(JSON.parse(readFileSync(join(dir, 'signingkeys.json'), 'utf8'))).toEqual({
      keys: [{ name: 'aws', id: arn, pluginName: 'com.amazonaws.signer.notation.plugin' }],
    });
  });
});

describe('signed-image cert', () => {
  test('add validates every file before copying, then list, show and delete -y work on the named store', async () => {
    const { dir, env } = freshConfig();
    const chain = await createChain();
    const files = mkdtempSync(join(tmpdir(), 'certs-'));
    writeFileSync(join(files, 'root.pem'), chain.root.pem);
    writeFileSync(join(files, 'leaf.pem'), chain.leaf.pem);
    writeFileSync(join(files, 'garbage.pem'), 'not a certificate');

    const rejected = await runSignedImage(['cert', 'add', '-t', 'ca', '-s', 'acme', join(files, 'root.pem'), join(files, 'leaf.pem')], { env });
    const notJson = await runSignedImage(['cert', 'add', '-t', 'ca', '-s', 'acme', join(files, 'garbage.pem')], { env });
    const storeAfterRejects = existsSync(join(dir, 'truststore', 'x509', 'ca', 'acme'));
    const added = await runSignedImage(['cert', 'add', '--type', 'ca', '--store', 'acme', join(files, 'root.pem')], { env });
    const again = await runSignedImage(['cert', 'add', '-t', 'ca', '-s', 'acme', join(files, 'root.pem')], { env });
    const badType = await runSignedImage(['cert', 'add', '-t', 'root', '-s', 'acme', join(files, 'root.pem')], { env });
    const list = await runSignedImage(['cert', 'ls'], { env });
    const show = await runSignedImage(['cert', 'show', '-t', 'ca', '-s', 'acme', 'root.pem'], { env });
    const escape = await runSignedImage(['cert', 'show', '-t', 'ca', '-s', 'acme', '../../../../signingkeys.json'], { env });
    const declined = await runSignedImage(['cert', 'delete', '-t', 'ca', '-s', 'acme', 'root.pem'], { env, stdin: 'n\n' });
    const keptAfterDecline = readdirSync(join(dir, 'truststore', 'x509', 'ca', 'acme'));
    const confirmed = await runSignedImage(['cert', 'delete', '-t', 'ca', '-s', 'acme', 'root.pem'], { env, stdin: 'yes\n' });
    await runSignedImage(['cert', 'add', '-t', 'ca', '-s', 'acme', join(files, 'root.pem')], { env });
    const deleted = await runSignedImage(['cert', 'delete', '-t', 'ca', '-s', 'acme', '-y', 'root.pem'], { env });
    await runSignedImage(['cert', 'add', '-t', 'ca', '-s', 'acme', join(files, 'root.pem')], { env });
    const all = await runSignedImage(['cert', 'delete', '-t', 'ca', '-s', 'acme', '--all', '-y'], { env });
    const both = await runSignedImage(['cert', 'delete', '-t', 'ca', '-s', 'acme', '--all', 'root.pem'], { env });

    expect(rejected.code).toBe(1);
    expect(rejected.stderr).toContain('is not a CA certificate or self-signed signing certificate');
    expect(notJson.code).toBe(1);
    expect(storeAfterRejects).toBe(false);
    expect(added.code).toBe(0);
    expect(added.stdout).toBe(`Successfully added following certificates to named store acme of type ca:\n${join(files, 'root.pem')}\n`);
    expect(again.stderr).toContain('certificate root.pem already exists in the named store acme of type ca');
    expect(badType.code).toBe(2);
    expect(list.stdout).toMatch(/^STORE TYPE +STORE NAME +CERTIFICATE {3}\nca +acme +root\.pem {6}\n$/);
    // notation cmd/notation/internal/truststore ShowCerts
    expect(show.stdout).toMatch(
      new RegExp(
        `^Certificate details\n-{80}\nIssuer: ${chain.root.subject}\nSubject: ${chain.root.subject}\n` +
          'Valid from: \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d \\+0000 UTC\nValid to: \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d \\+0000 UTC\nIsCA: true\nSHA256 Thumbprint: [0-9a-f]{64}\n$',
      ),
    );
    expect(escape.code).toBe(2);
    // notation cmdutil.AskForConfirmation
    expect(declined.code).toBe(0);
    expect(declined.stderr).toBe('Are you sure you want to delete "root.pem" in "acme" of type "ca"? [y/N] ');
    expect(declined.stdout).toBe('Operation cancelled.\n');
    expect(keptAfterDecline).toEqual(['root.pem']);
    expect(confirmed.stdout).toBe('Successfully deleted root.pem\n');
    expect(deleted.stdout).toBe('Successfully deleted root.pem\n');
    expect(all.stdout).toBe(`Successfully deleted ${join(dir, 'truststore', 'x509', 'ca', 'acme')}\n`);
    expect(existsSync(join(dir, 'truststore', 'x509', 'ca', 'acme'))).toBe(false);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('cannot delete a single certificate file when --all flag is set');
  });
});

describe('signed-image policy import and show', () => {
  test('import refuses an invalid policy, asks before replacing one without --force; show prints the policy', async () => {
    const { dir, env } = freshConfig();
    const files = mkdtempSync(join(tmpdir(), 'policies-'));
    const first = join(files, 'first.json');
    const second = join(files, 'second.json');
    const invalid = join(files, 'invalid.json');
    writeFileSync(first, JSON.stringify(trustPolicy({ trustStores: ['ca:one'] })));
    writeFileSync(second, JSON.stringify(trustPolicy({ trustStores: ['ca:two'] })));
    writeFileSync(invalid, JSON.stringify({ version: '1.0', trustPolicies: [] }));

    const noPolicy = await runSignedImage(['policy', 'show'], { env });
    const rejected = await runSignedImage(['policy', 'import', invalid], { env });
    const writtenAfterReject = existsSync(join(dir, 'trustpolicy.json'));
    const imported = await runSignedImage(['policy', 'import', first], { env });
    const refused = await runSignedImage(['policy', 'import', second], { env, stdin: '\n' });
    const keptAfterRefusal = readFileSync(join(dir, 'trustpolicy.json'), 'utf8');
    const forced = await runSignedImage(['policy', 'import', '--force', second], { env });
    const show = await runSignedImage(['policy', 'show'], { env });

    expect(noPolicy.code).toBe(1);
    expect(noPolicy.stderr).toContain('the trust policy file does not exist');
    expect(rejected.code).toBe(1);
    expect(writtenAfterReject).toBe(false);
    expect(imported.code).toBe(0);
    expect(refused.code).toBe(0);
    expect(refused.stderr).toBe('The trust policy file already exists, do you want to overwrite it? [y/N] ');
    expect(refused.stdout).toBe('Operation cancelled.\n');
    expect(keptAfterRefusal).toBe(readFileSync(first, 'utf8'));
    expect(forced.stderr).toBe('Warning: existing trust policy configuration file will be overwritten\n');
    expect(show.stdout).toBe(`${readFileSync(second, 'utf8')}\n`);
  });
});
