import { SignerClient } from '@aws-sdk/client-signer';
import { Command, Option } from 'commander';
import { loadConfigDir } from '../../notary/config-dir';
import { withBuiltInTrustStores } from '../../notary/trust-store';
import { VerificationOutcome } from '../../notary/types';
import { verifyImage } from '../../notary/verify-image';
import { AwsSignerRevocationChecker } from '../../signers/aws-revocation';
import { CliContext } from '../context';
import { CliError, ExitCode } from '../io';
import { addRegistryOptions, openTarget, RegistryCliOptions } from '../registry-options';
import { collectUserMetadata } from '../user-metadata';

interface VerifyOptions extends RegistryCliOptions {
  readonly configDir: string;
  readonly userMetadata?: Record<string, string>;
  readonly output: 'text' | 'json';
  readonly maxSignatures: string;
}

/**
 * `signed-image verify <ref> --config-dir <dir>`: verifies an image under notation's trust policy and trust
 * stores, the way the pipeline's verify gate does. Exit 0 when verified, 1 when not, 2 on usage errors.
 */
export function registerVerify(program: Command, { io, setExitCode }: CliContext): void {
  addRegistryOptions(
    program
      .command('verify')
      .description('verify the Notary signatures of an image under a trust policy')
      .argument('<ref>', 'image reference: <registry>/<repository>:<tag> or @<digest>')
      .requiredOption('-d, --config-dir <dir>', 'notation configuration directory: trustpolicy(.oci).json and truststore/x509/...')
      .option('-m, --user-metadata <key=value>', 'require this key and value in the signed annotations (repeatable)', collectUserMetadata)
      .option('--max-signatures <n>', 'signatures tried at most', '100')
      .addOption(new Option('-o, --output <format>', 'output format').choices(['text', 'json']).default('text')),
  ).action(async (reference: string, options: VerifyOptions) => {
    const maxSignatures = Number(options.maxSignatures);
    if (!Number.isInteger(maxSignatures) || maxSignatures < 1) {
      throw new CliError(`--max-signatures "${options.maxSignatures}" is not a positive integer`, ExitCode.USAGE);
    }
    const config = loadConfigDir(options.configDir);
    const target = await openTarget(reference, options, io);
    const outcome = await verifyImage({
      repository: target.repository,
      tagOrDigest: target.tagOrDigest,
      displayReference: target.displayReference,
      scope: target.repositoryName,
      policy: config.policy,
      stores: withBuiltInTrustStores(config.stores),
      userMetadata: options.userMetadata,
      maxSignatures,
      // Only AWS Signer signatures are checked this way; the client is made for the profile's region when needed.
      revocation: new AwsSignerRevocationChecker((region) => new SignerClient({ region })),
    });
    if (options.output === 'json') {
      io.stdout(`${JSON.stringify(outcome, undefined, 2)}\n`);
    } else {
      printText(outcome, target.repositoryName, io.stdout, io.stderr);
    }
    setExitCode(outcome.verified ? ExitCode.OK : ExitCode.FAILURE);
  });
}

function printText(outcome: VerificationOutcome, repositoryName: string, stdout: (s: string) => void, stderr: (s: string) => void): void {
  for (const result of outcome.results) {
    if (result.action === 'log' && !result.ok) {
      stderr(`Warning: ${result.type} check failed (logged, not enforced): ${result.message}\n`);
    }
  }
  if (!outcome.verified) {
    stderr(`Error: ${outcome.error?.message ?? 'signature verification failed'}\n`);
    return;
  }
  const pinned = `${repositoryName}@${outcome.digest}`;
  if (outcome.level === 'skip') {
    stdout(`Trust policy is configured to skip signature verification for ${pinned}\n`);
    return;
  }
  stdout(`Successfully verified signature for ${pinned}\n`);
}
