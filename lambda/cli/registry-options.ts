import { Command } from 'commander';
import { addCommonOptions, CliLog, CommonCliOptions, configDirFor } from './common-options';
import { HelperNotFoundError } from './credentials/credential-helper';
import { CredentialStore } from './credentials/credential-store';
import { CliError, CliIo, ExitCode } from './io';
import { isInsecureByDefault, readNotationConfig } from './notation-config';
import { NotationPaths } from './notation-dir';
import { BasicCredentials, CredentialSource } from '../oci/credentials';
import { EcrCredentialProvider, parseEcrHost } from '../oci/ecr';
import { InvalidReferenceError } from '../oci/errors';
import { openRepository, OpenedRepository } from '../oci/open-repository';
import { parseReference } from '../oci/reference';

/** The options every registry command takes (notation's SecureFlagOpts). */
export interface RegistryCliOptions extends CommonCliOptions {
  readonly insecureRegistry?: boolean;
  readonly plainHttp?: boolean;
  readonly ociLayout?: boolean;
  readonly username?: string;
  readonly password?: string;
  readonly passwordStdin?: boolean;
}

export function addRegistryOptions(command: Command): Command {
  return addCredentialOptions(addCommonOptions(command))
    .option('--insecure-registry', 'use HTTP protocol while connecting to registries. Should be used only for testing')
    .option('--plain-http', 'the same as --insecure-registry')
    .option('--oci-layout', 'treat <ref> as <dir>:<tag> or <dir>@<digest> of an OCI image layout on disk');
}

export function addCredentialOptions(command: Command): Command {
  return command
    .option('-u, --username <name>', 'username for registry operations (default to $NOTATION_USERNAME if not specified)')
    .option('-p, --password <password>', 'password for registry operations (default to $NOTATION_PASSWORD if not specified)')
    .option('--password-stdin', 'take the password from stdin');
}

/**
 * The user name and password given on the command line, on stdin or in the environment (notation's
 * NOTATION_USERNAME/NOTATION_PASSWORD, then SIGNED_IMAGE_*), or undefined when none was given. Messages name
 * the options, never their values: a password typed into the wrong place must not be echoed.
 */
export async function explicitCredentials(options: RegistryCliOptions, io: CliIo): Promise<BasicCredentials | undefined>;
/** For login: a user name without a password is returned with `password` undefined, for the prompt. */
export async function explicitCredentials(
  options: RegistryCliOptions,
  io: CliIo,
  login: { allowMissingPassword: true },
): Promise<{ username: string; password?: string } | undefined>;
export async function explicitCredentials(
  options: RegistryCliOptions,
  io: CliIo,
  login?: { allowMissingPassword: true },
): Promise<{ username: string; password?: string } | undefined> {
  const { env } = io;
  if (options.password !== undefined && options.passwordStdin) {
    throw new CliError('--password and --password-stdin cannot be used together', ExitCode.USAGE);
  }
  if (options.password !== undefined) {
    io.stderr('Warning: a password given with -p/--password is visible in the process list and shell history; use --password-stdin or NOTATION_PASSWORD\n');
  }
  const username = options.username ?? env.NOTATION_USERNAME ?? env.SIGNED_IMAGE_USERNAME;
  let password = options.password ?? env.NOTATION_PASSWORD ?? env.SIGNED_IMAGE_PASSWORD;
  if (options.passwordStdin) {
    password = (await io.readStdin()).replace(/\r?\n$/, '');
    if (!password) throw new CliError('--password-stdin was given but standard input was empty', ExitCode.USAGE);
  }
  if (password !== undefined && !username) {
    throw new CliError('a registry password was given without a user name: add -u/--username or set NOTATION_USERNAME', ExitCode.USAGE);
  }
  if (username && password === undefined && login?.allowMissingPassword) return { username };
  if (username && password === undefined) {
    // notation login's wording (cmd/notation/login.go); notation's other commands would send an empty password.
    throw new CliError('password required: a registry user name was given without a password: add -p/--password, --password-stdin or set NOTATION_PASSWORD', ExitCode.USAGE);
  }
  return username && password !== undefined ? { username, password } : undefined;
}

/**
 * Opens the repository a reference names. Credentials: the explicit ones, else the credential store notation
 * would use (asked only when the registry wants credentials), else, for ECR hosts, the AWS SDK default chain.
 */
export async function openTarget(reference: string, options: RegistryCliOptions, io: CliIo): Promise<OpenedRepository> {
  const log = new CliLog(io, options);
  try {
    if (options.ociLayout) return openRepository(reference, { ociLayout: true });
    const { registry } = parseReference(reference);
    const explicit = await explicitCredentials(options, io);
    if (explicit) log.debug(`registry credentials for ${registry}: from the command line or the environment`);
    // With credentials given, the configuration directory only adds "insecureRegistries": a missing one is no error.
    const configDir = explicit && !options.configDir ? optionalConfigDir(options, io) : configDirFor(options, io);
    let plainHttp = options.insecureRegistry === true || options.plainHttp === true;
    if (!plainHttp && isInsecureByDefault(registry, configDir === undefined ? { insecureRegistries: [] } : readNotationConfig(configDir))) {
      log.debug(`${registry} is reached over plain HTTP: it is localhost:<port> or listed in "insecureRegistries" of ${configDir === undefined ? 'notation\'s config.json' : NotationPaths.config(configDir)}`);
      plainHttp = true;
    }
    return openRepository(reference, {
      plainHttp,
      ...(explicit ?? { credentials: storeCredentials(registry, CredentialStore.forEnvironment(configDir!, io.env), log) }),
    });
  } catch (error) {
    if (error instanceof InvalidReferenceError) throw new CliError(error.message, ExitCode.USAGE, 'invalid-reference');
    throw error;
  }
}

function optionalConfigDir(options: RegistryCliOptions, io: CliIo): string | undefined {
  try {
    return configDirFor(options, io);
  } catch (error) {
    if (!(error instanceof CliError)) throw error;
    new CliLog(io, options).debug(error.message);
    return undefined;
  }
}

function storeCredentials(registry: string, store: CredentialStore, log: CliLog): CredentialSource {
  const ecrHost = parseEcrHost(registry);
  const ecr = ecrHost ? new EcrCredentialProvider(ecrHost) : undefined;
  return async () => {
    try {
      const found = await store.get(registry);
      if (found) {
        log.debug(`registry credentials for ${registry}: ${found.source}`);
        return found.credentials;
      }
    } catch (error) {
      // The built-in ECR credentials stand in for an ecr-login helper that is not installed.
      if (!(ecr && error instanceof HelperNotFoundError)) throw error;
      log.debug(`${error.message}; using ECR GetAuthorizationToken instead`);
    }
    if (ecr) {
      log.debug(`registry credentials for ${registry}: ECR GetAuthorizationToken with the AWS SDK default credential chain`);
      return ecr.credentials();
    }
    log.debug(`registry credentials for ${registry}: none found in ${store.path}`);
    return undefined;
  };
}

/** Runs a registry operation, naming the reference in any error it throws. */
export async function forReference<T>(displayReference: string, operation: () => Promise<T>, options: RegistryCliOptions = {}): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    if (error instanceof CliError) throw error;
    const message = error instanceof Error ? error.message : String(error);
    throw new CliError(`${displayReference}: ${message}${plainHttpHint(error, options)}`, ExitCode.FAILURE, 'registry');
  }
}

/** A TLS handshake answered in plain HTTP fails with OpenSSL's "wrong version number" (or a length error). */
function plainHttpHint(error: unknown, options: RegistryCliOptions): string {
  if (options.insecureRegistry || options.plainHttp || options.ociLayout) return '';
  const text = describeCauses(error);
  return /wrong version number|packet length too long|EPROTO|ERR_SSL/i.test(text)
    ? ' (the registry may speak plain HTTP: if it is a test registry, add --insecure-registry)'
    : '';
}

function describeCauses(error: unknown): string {
  const parts: string[] = [];
  for (let current = error, depth = 0; current instanceof Error && depth < 5; current = current.cause, depth++) {
    parts.push(current.message, String((current as NodeJS.ErrnoException).code ?? ''));
  }
  return parts.join(' ');
}
