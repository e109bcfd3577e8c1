import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import { copyFileSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import * as x509 from '@peculiar/x509';
import { Command, Option } from 'commander';
import { TRUST_STORE_TYPES } from '../../../src/shared/trust-policy';
import { parseCertificate } from '../../notary/certificate';
import { TrustStoreError } from '../../notary/trust-policy';
import { readTrustStoreFile } from '../../notary/trust-store';
import { addCommonOptions, CommonCliOptions, configDirFor } from '../common-options';
import { CliContext } from '../context';
import { CliError, CliIo, ExitCode, Prompter } from '../io';
import { NotationPaths } from '../notation-dir';
import { NAME_PATTERN, SigningKeys } from '../signing-keys';
import { table } from '../table';

interface StoreOptions extends CommonCliOptions {
  readonly type?: string;
  readonly store?: string;
}

const typeOption = () => new Option('-t, --type <type>', 'specify trust store type, options: ca, signingAuthority, tsa').choices(TRUST_STORE_TYPES);
const storeOption = () => new Option('-s, --store <name>', 'specify named store');

/**
 * `signed-image cert add|list|show|delete|generate-test` (alias `certificate`): notation's trust store commands
 * (notation cmd/notation/cert) on `<config dir>/truststore/x509/<type>/<name>/`.
 */
export function registerCert(program: Command, { io }: CliContext): void {
  const cert = program.command('certificate').alias('cert').description('manage certificates in trust store for signature verification');

  addCommonOptions(cert.command('add').description('add certificates to the trust store'))
    .addOption(typeOption().makeOptionMandatory())
    .addOption(storeOption().makeOptionMandatory())
    .argument('<cert_path...>', 'certificate files (PEM or DER)')
    .action((files: string[], options: StoreOptions) => {
      const dir = storeDir(options, io);
      // Validate every file before copying any, so a bad file changes nothing.
      for (const file of files) readCertificates(file, storeKey(options));
      for (const file of files) {
        if (existsSync(join(dir, basename(file)))) {
          throw new CliError(`certificate ${basename(file)} already exists in the named store ${options.store} of type ${options.type}`);
        }
      }
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      for (const file of files) copyFileSync(file, join(dir, basename(file)));
      io.stdout(`Successfully added following certificates to named store ${options.store} of type ${options.type}:\n`);
      for (const file of files) io.stdout(`${file}\n`);
    });

  addCommonOptions(cert.command('list').alias('ls').description('list certificates in the trust store'))
    .addOption(typeOption())
    .addOption(storeOption())
    .action((options: StoreOptions) => {
      const root = join(configDirFor(options, io), 'truststore', 'x509');
      const rows: Array<[string, string, string]> = [];
      for (const type of options.type ? [options.type] : TRUST_STORE_TYPES) {
        for (const name of listDir(join(root, type))) {
          if (options.store && name !== options.store) continue;
          for (const file of listDir(join(root, type, name))) {
            if (lstatSync(join(root, type, name, file)).isFile()) rows.push([type, name, file]);
          }
        }
      }
      if (rows.length > 0) io.stdout(table([['STORE TYPE', 'STORE NAME', 'CERTIFICATE'], ...rows]));
    });

  addCommonOptions(cert.command('show').description('show certificate details given trust store type, named store, and certificate file name'))
    .addOption(typeOption().makeOptionMandatory())
    .addOption(storeOption().makeOptionMandatory())
    .argument('<cert_fileName>', 'certificate file name in the named store')
    .action((fileName: string, options: StoreOptions) => {
      const path = join(storeDir(options, io), safeFileName(fileName));
      if (!existsSync(path)) throw new CliError(`certificate ${fileName} is not in the named store ${options.store} of type ${options.type}`);
      // notation cmd/notation/internal/truststore ShowCerts: Go's x509 fields, times in time.Time's String form.
      const rule = '-'.repeat(80);
      const blocks = readCertificates(path, storeKey(options)).map((der) => {
        const certificate = parseCertificate(der, path);
        return [
          `Issuer: ${certificate.issuer}`,
          `Subject: ${certificate.subject}`,
          `Valid from: ${goTimeString(certificate.notBefore)}`,
          `Valid to: ${goTimeString(certificate.notAfter)}`,
          `IsCA: ${certificate.basicConstraints?.ca === true}`,
          `SHA256 Thumbprint: ${certificate.sha256}`,
        ].join('\n');
      });
      io.stdout(`Certificate details\n${rule}\n${blocks.join(`\n${rule}\n`)}\n`);
    });

  addCommonOptions(cert.command('delete').description('delete certificates from the trust store'))
    .addOption(typeOption().makeOptionMandatory())
    .addOption(storeOption().makeOptionMandatory())
    .option('-a, --all', 'delete all certificates in the named store')
    .option('-y, --yes', 'do not prompt for confirmation')
    .argument('[cert_fileName]', 'certificate file name in the named store')
    .action(async (fileName: string | undefined, options: StoreOptions & { all?: boolean; yes?: boolean }) => {
      if (options.all && fileName !== undefined) {
        throw new CliError('cannot delete a single certificate file when --all flag is set. use --help flag for more details', ExitCode.USAGE);
      }
      if (!options.all && fileName === undefined) {
        throw new CliError(
          'delete requires either the certificate file name that needs to be deleted or --all flag to delete all certificates in the given named trust store',
          ExitCode.USAGE,
        );
      }
      const dir = storeDir(options, io);
      const prompter = new Prompter(io);
      // notation cmd/notation/internal/truststore DeleteAllCerts / DeleteCert: ask unless -y, then delete.
      if (options.all) {
        if (!options.yes && !(await prompter.confirm(`Are you sure you want to delete all certificates in "${options.store}" of type "${options.type}"?`))) return;
        if (!existsSync(dir)) throw new CliError(`failed to delete the named trust store: the named store ${options.store} of type ${options.type} does not exist`);
        rmSync(dir, { recursive: true });
        io.stdout(`Successfully deleted ${dir}\n`);
        return;
      }
      const path = join(dir, safeFileName(fileName!));
      if (!options.yes && !(await prompter.confirm(`Are you sure you want to delete "${fileName}" in "${options.store}" of type "${options.type}"?`))) return;
      if (!existsSync(path)) throw new CliError(`failed to delete the certificate file: certificate ${fileName} is not in the named store ${options.store} of type ${options.type}`);
      unlinkSync(path);
      io.stdout(`Successfully deleted ${fileName}\n`);
    });

  addCommonOptions(cert.command('generate-test').description('generate a test RSA key and a corresponding self-signed certificate'))
    .option('-b, --bits <bits>', 'RSA key bits', '2048')
    .option('--default', 'mark as default signing key')
    .argument('<common_name>', 'common name of the certificate; also the key name and the ca store name')
    .action(async (name: string, options: CommonCliOptions & { bits: string; default?: boolean }) => {
      if (!NAME_PATTERN.test(name)) throw new CliError(`name "${name}" needs to follow [a-zA-Z0-9_.-]+ format`, ExitCode.USAGE);
      const bits = Number(options.bits);
      if (![2048, 3072, 4096].includes(bits)) throw new CliError(`--bits "${options.bits}" must be 2048, 3072 or 4096`, ExitCode.USAGE);
      const configDir = configDirFor(options, io);
      const keys = SigningKeys.load(configDir);
      const keyPath = join(NotationPaths.localKeys(configDir), `${name}.key`);
      const certPath = join(NotationPaths.localKeys(configDir), `${name}.crt`);
      const caStore = NotationPaths.trustStore(configDir, 'ca', name);
      const caPath = join(caStore, `${name}.crt`);
      for (const path of [keyPath, certPath, caPath]) if (existsSync(path)) throw new CliError(`${path} already exists`);
      keys.add({ name, keyPath, certPath }, options.default === true);

      io.stdout(`generating RSA Key with ${bits} bits\n`);
      const { keyPem, certificatePem, notAfter } = await generateTestCertificate(name, bits);
      io.stdout(`generated certificate expiring on ${notAfter.toISOString().replace(/\.\d{3}Z$/, 'Z')}\n`);
      mkdirSync(NotationPaths.localKeys(configDir), { recursive: true, mode: 0o700 });
      writeFileSync(keyPath, keyPem, { mode: 0o600 });
      io.stdout(`wrote key: ${keyPath}\n`);
      writeFileSync(certPath, certificatePem, { mode: 0o644 });
      io.stdout(`wrote certificate: ${certPath}\n`);
      keys.save();
      mkdirSync(caStore, { recursive: true, mode: 0o700 });
      copyFileSync(certPath, caPath);
      io.stdout(`Successfully added ${name}.crt to named store ${name} of type ca\n`);
      io.stdout(`${name}: added to the key list\n`);
      if (options.default) io.stdout(`${name}: mark as default signing key\n`);
    });
}

/**
 * notation's test certificate (notation-core-go testhelper getCertTemplate): subject
 * `CN=<name>,O=Notary,L=Seattle,ST=WA,C=US`, digitalSignature, codeSigning, not a CA, valid for a day.
 */
async function generateTestCertificate(name: string, bits: number): Promise<{ keyPem: string; certificatePem: string; notAfter: Date }> {
  const hash = bits === 2048 ? 'SHA-256' : bits === 3072 ? 'SHA-384' : 'SHA-512';
  const algorithm = { name: 'RSASSA-PKCS1-v1_5', hash, publicExponent: new Uint8Array([1, 0, 1]), modulusLength: bits };
  const keys = (await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify'])) as CryptoKeyPair;
  const notBefore = new Date();
  const notAfter = new Date(notBefore.getTime() + 24 * 3600 * 1000);
  const certificate = await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: Buffer.from(webcrypto.getRandomValues(new Uint8Array(8))).toString('hex').replace(/^[89a-f]/, '1'),
      name: `C=US, ST=WA, L=Seattle, O=Notary, CN=${name}`,
      notBefore,
      notAfter,
      keys,
      signingAlgorithm: algorithm,
      extensions: [
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.codeSigning], false),
      ],
    },
    webcrypto as unknown as Crypto,
  );
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  const keyPem = `-----BEGIN PRIVATE KEY-----\n${pkcs8.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END PRIVATE KEY-----\n`;
  return { keyPem, certificatePem: `${certificate.toString('pem')}\n`, notAfter };
}

/** Go's time.Time String() of a UTC time with whole seconds, as notation prints certificate validity: `2006-01-02 15:04:05 +0000 UTC`. */
function goTimeString(date: Date): string {
  return `${date.toISOString().slice(0, 19).replace('T', ' ')} +0000 UTC`;
}

function storeKey(options: StoreOptions): string {
  return `${options.type}:${options.store}`;
}

function storeDir(options: StoreOptions, io: CliIo): string {
  if (!NAME_PATTERN.test(options.store!)) throw new CliError(`named store name "${options.store}" needs to follow [a-zA-Z0-9_.-]+ format`, ExitCode.USAGE);
  return NotationPaths.trustStore(configDirFor(options, io), options.type!, options.store!);
}

/** A file name inside a store, never a path out of it. */
function safeFileName(fileName: string): string {
  if (fileName !== basename(fileName) || fileName === '..' || fileName === '.') {
    throw new CliError(`"${fileName}" is not a certificate file name (give the name shown by cert list)`, ExitCode.USAGE);
  }
  return fileName;
}

function readCertificates(path: string, store: string): Uint8Array[] {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    throw new CliError(`cannot read certificate file ${path}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`, ExitCode.USAGE);
  }
  try {
    return readTrustStoreFile(new Uint8Array(bytes), store, path);
  } catch (error) {
    if (error instanceof TrustStoreError) throw new CliError(error.message, ExitCode.FAILURE, 'trust-store');
    throw error;
  }
}

function listDir(path: string): string[] {
  try {
    return readdirSync(path).sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}
