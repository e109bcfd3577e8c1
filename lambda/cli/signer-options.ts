import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { configDirFor } from './common-options';
import { parseDuration } from './duration';
import { CliError, CliIo, ExitCode } from './io';
import { collectKeyValue } from './key-value';
import { readNotationConfig } from './notation-config';
import { RegistryCliOptions } from './registry-options';
import { awsSigner, checkPlugin } from './signer-plugin';
import { SigningKeys } from './signing-keys';
import { isSelfSigned, parseCertificate } from '../notary/certificate';
import { SignatureManifestFormat } from '../notary/signature-manifest';
import { Signer } from '../notary/signer';
import { parseCertificateFile } from '../notary/trust-store';
import { OcspCrlRevocationValidator } from '../revocation/certificate-revocation';
import { httpRevocationFetcher } from '../revocation/http-fetcher';
import { LocalKeySigner } from '../signers/local-key';
import { checkTimestampUrl, TimestampAuthority } from '../signers/tsa-client';

/** The options that choose the signer and the signature's form, shared by `sign` and `attest`. */
export interface SignerCliOptions extends RegistryCliOptions {
  readonly key?: string;
  readonly cert?: string;
  readonly plugin?: string;
  readonly id?: string;
  readonly pluginConfig?: Record<string, string>;
  readonly signerProfile?: string;
  readonly expiry?: string;
  readonly signatureFormat?: string;
  readonly signatureManifest: SignatureManifestFormat;
  readonly timestampUrl?: string;
  readonly timestampRootCert?: string;
}

/** The key, plugin, expiry, timestamping and signature format options of `sign` (and `attest`). */
export function addSignerOptions(command: Command): Command {
  return command
    .option('-k, --key <name|file>', 'a key from the signing key list (default: its default key); with --cert, a PEM private key file')
    .option('-c, --cert <file>', 'PEM certificate chain of the --key file, signing certificate first, ending at the root')
    .option('--plugin <name>', 'signing plugin: com.amazonaws.signer.notation.plugin (AWS Signer, built in; requires --id)')
    .option('--id <arn>', 'key id for --plugin: the AWS Signer signing profile ARN')
    .option('--plugin-config <key=value>', 'plugin settings: aws-region, aws-profile (repeatable)', (value: string, previous?: Record<string, string>) =>
      collectKeyValue(value, previous, '--plugin-config'),
    )
    .option('--signer-profile <arn>', 'AWS Signer signing profile ARN (platform Notation-OCI-SHA384-ECDSA): the long form of --plugin com.amazonaws.signer.notation.plugin --id <arn>')
    .option('-e, --expiry <duration>', 'signature validity, e.g. 24h or 30d (local key only)')
    .option('--timestamp-url <url>', 'RFC 3161 Timestamping Authority (TSA) server URL (local key only; requires --timestamp-root-cert)')
    .option('--timestamp-root-cert <file>', 'filepath of timestamp authority root certificate')
    .addOption(new Option('--signature-format <format>', 'signature envelope format, options: "jws", "cose" (default: "signatureFormat" of notation\'s config.json, else "jws")'))
    .addOption(
      new Option('--signature-manifest <form>', 'signature manifest form: OCI 1.1 image manifest with artifactType, or the legacy form')
        .choices(['oci-1.1', 'legacy'])
        .default('oci-1.1'),
    );
}

/** Refuses any signature format but JWS, from --signature-format or config.json (a usage error naming where it came from). */
export function checkSignatureFormat(options: SignerCliOptions, io: CliIo): void {
  // notation internal/cmd/flags.go SetPflagSignatureFormat: the flag's default is config.json's signatureFormat.
  const fromConfig = options.signatureFormat === undefined ? configuredSignatureFormat(options, io) : undefined;
  const signatureFormat = options.signatureFormat ?? fromConfig ?? 'jws';
  if (signatureFormat !== 'jws') {
    const where = fromConfig === undefined ? '--signature-format' : '"signatureFormat" in notation\'s config.json';
    throw new CliError(
      signatureFormat === 'cose'
        ? `${where} cose is not supported: signed-image writes JWS envelopes (--signature-format jws), which notation, AWS Signer and Kyverno verify`
        : `${where} "${signatureFormat}" is not a signature envelope format: use jws`,
      ExitCode.USAGE,
    );
  }
}

/** config.json's signatureFormat, when there is a configuration directory to read it from. */
function configuredSignatureFormat(options: SignerCliOptions, io: CliIo): string | undefined {
  let dir: string;
  try {
    dir = configDirFor(options, io);
  } catch {
    return undefined;
  }
  return readNotationConfig(dir).signatureFormat;
}

/** The signer the options name: a key of the signing key list (the default one), a key file with --cert, or AWS Signer. */
export function createSigner(options: SignerCliOptions, io: CliIo): Signer {
  const plugin = options.plugin !== undefined || options.id !== undefined;
  const keyFile = options.cert !== undefined;
  const keyName = options.key !== undefined && !keyFile;
  if ([plugin, options.signerProfile !== undefined, keyFile, keyName].filter(Boolean).length > 1) {
    throw new CliError('give one of --key <name>, --key <file> with --cert, --plugin with --id, or --signer-profile', ExitCode.USAGE);
  }
  if (plugin) {
    if (options.plugin === undefined || options.id === undefined) throw new CliError('--plugin and --id must be given together', ExitCode.USAGE);
    checkPlugin(options.plugin, options.id, options.pluginConfig);
    return awsSignerWithoutExpiry(options.id, options, io);
  }
  if (options.signerProfile !== undefined) return awsSignerWithoutExpiry(options.signerProfile, options, io);
  if (keyFile) {
    if (options.key === undefined) throw new CliError('--cert needs --key <file>', ExitCode.USAGE);
    return localSigner(options.key, options.cert, options, '--key', '--cert');
  }
  // A key from notation's signing key list: the named one, or the default.
  const keys = SigningKeys.load(configDirFor(options, io));
  const suite = keys.resolve(options.key);
  if (suite.pluginName !== undefined || suite.id !== undefined) {
    checkPlugin(suite.pluginName ?? '', suite.id ?? '', suite.pluginConfig);
    return awsSignerWithoutExpiry(suite.id!, { ...options, pluginConfig: { ...suite.pluginConfig, ...options.pluginConfig } }, io);
  }
  if (suite.keyPath === undefined || suite.certPath === undefined) {
    throw new CliError(`signing key "${suite.name}" in ${keys.path} has neither keyPath and certPath nor a plugin id`, ExitCode.USAGE);
  }
  return localSigner(suite.keyPath, suite.certPath, options, `key "${suite.name}" keyPath`, `key "${suite.name}" certPath`);
}

function awsSignerWithoutExpiry(profile: string, options: SignerCliOptions, io: CliIo): Signer {
  if (options.expiry !== undefined) {
    throw new CliError('--expiry is not supported with AWS Signer: the signing profile sets the signature validity', ExitCode.USAGE);
  }
  if (options.timestampUrl !== undefined || options.timestampRootCert !== undefined) {
    // notation timestamps only notary.x509 signatures (notation-core-go timestampJWS); AWS Signer's
    // notary.x509.signingAuthority envelopes carry an authentic signing time instead.
    throw new CliError('--timestamp-url is not supported with AWS Signer: its signatures carry an authentic signing time', ExitCode.USAGE);
  }
  return awsSigner(profile, io.env, options.pluginConfig, configDirFor(options, io));
}

function localSigner(keyFile: string, certFile: string, options: SignerCliOptions, keyWhat: string, certWhat: string): Signer {
  const expirySeconds = options.expiry === undefined ? undefined : parseDuration(options.expiry, '--expiry');
  const read = (file: string, what: string) => {
    try {
      return readFileSync(file);
    } catch (error) {
      throw new CliError(`${what} ${file}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`, ExitCode.USAGE);
    }
  };
  const key = read(keyFile, keyWhat);
  if (/-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: 4,ENCRYPTED/.test(key.toString('latin1'))) {
    throw new CliError(`${keyWhat} ${keyFile} is an encrypted private key: decrypt it first (openssl pkey -in ${keyFile} -out <file>); signed-image does not prompt for passphrases`, ExitCode.USAGE);
  }
  try {
    const certificateChain = read(certFile, certWhat);
    return new LocalKeySigner({ key, certificateChain, expirySeconds, timestampAuthority: timestampAuthority(options, read) });
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError(`${keyWhat} ${keyFile} / ${certWhat} ${certFile}: ${(error as Error).message}`, ExitCode.USAGE);
  }
}

/** --timestamp-url with --timestamp-root-cert: one root certificate, PEM or DER (notation internal/x509 NewRootCertPool). */
function timestampAuthority(options: SignerCliOptions, read: (file: string, what: string) => Buffer): TimestampAuthority | undefined {
  const { timestampUrl: url, timestampRootCert: file } = options;
  if (url === undefined && file === undefined) return undefined;
  if (!url) throw new CliError('timestamping: tsa url cannot be empty (--timestamp-url)', ExitCode.USAGE);
  if (!file) throw new CliError('timestamping: tsa root certificate path cannot be empty (--timestamp-root-cert)', ExitCode.USAGE);
  try {
    checkTimestampUrl(url);
  } catch (error) {
    throw new CliError(`--timestamp-url: ${(error as Error).message}`, ExitCode.USAGE);
  }
  const fail = (reason: string): never => {
    throw new CliError(`--timestamp-root-cert ${file}: ${reason}`, ExitCode.USAGE);
  };
  let certificates: Uint8Array[] = [];
  try {
    certificates = parseCertificateFile(read(file, '--timestamp-root-cert'), file);
  } catch (error) {
    if (error instanceof CliError) throw error;
    fail((error as Error).message);
  }
  if (certificates.length !== 1) fail(`found ${certificates.length} certificates; expecting a single x509 root certificate in PEM or DER format`);
  if (!isSelfSigned(parseCertificate(certificates[0], file))) fail('the certificate is not a root certificate; expecting a single x509 root certificate in PEM or DER format');
  // notation sign checks the TSA chain's revocation before it uses a timestamp (notation-core-go TSARevocationValidator).
  return { url, rootCertificates: certificates, revocation: new OcspCrlRevocationValidator(httpRevocationFetcher()) };
}
