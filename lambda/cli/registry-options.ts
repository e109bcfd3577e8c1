import { Command } from 'commander';
import { CliError, CliIo, ExitCode } from './io';
import { openRepository, OpenedRepository } from '../oci/open-repository';
import { InvalidReferenceError } from '../oci/reference';

/** The options every registry command takes (DESIGN section 4). */
export interface RegistryCliOptions {
  readonly plainHttp?: boolean;
  readonly ociLayout?: boolean;
  readonly username?: string;
  readonly passwordStdin?: boolean;
}

export function addRegistryOptions(command: Command): Command {
  return command
    .option('--plain-http', 'use plain HTTP instead of HTTPS (for a registry on loopback)')
    .option('--oci-layout', 'treat <ref> as <dir>:<tag> or <dir>@<digest> of an OCI image layout on disk')
    .option('-u, --username <name>', 'registry user name (or SIGNED_IMAGE_USERNAME)')
    .option('--password-stdin', 'read the registry password from standard input (or SIGNED_IMAGE_PASSWORD)');
}

/** Opens the repository a reference names, with the credentials given on the command line or in the environment. */
export async function openTarget(reference: string, options: RegistryCliOptions, io: CliIo): Promise<OpenedRepository> {
  const username = options.username ?? io.env.SIGNED_IMAGE_USERNAME;
  let password = io.env.SIGNED_IMAGE_PASSWORD;
  if (options.passwordStdin) {
    password = (await io.readStdin()).replace(/\r?\n$/, '');
    if (!password) throw new CliError('--password-stdin was given but standard input was empty', ExitCode.USAGE);
  }
  if (password !== undefined && username === undefined) {
    throw new CliError('a password was given without a user name: add --username or set SIGNED_IMAGE_USERNAME', ExitCode.USAGE);
  }
  try {
    return openRepository(reference, {
      plainHttp: options.plainHttp,
      ociLayout: options.ociLayout,
      username,
      password,
    });
  } catch (error) {
    if (error instanceof InvalidReferenceError) throw new CliError(error.message, ExitCode.USAGE);
    throw error;
  }
}

/** Runs a registry operation, naming the reference in any error it throws. */
export async function forReference<T>(displayReference: string, operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    if (error instanceof CliError) throw error;
    const message = error instanceof Error ? error.message : String(error);
    throw new CliError(`${displayReference}: ${message}`);
  }
}
