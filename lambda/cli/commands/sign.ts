import { readFileSync } from 'node:fs';
import { SignerClient } from '@aws-sdk/client-signer';
import { Command, Option } from 'commander';
import { signImage, SignRequestError } from '../../notary/sign-image';
import { SignatureManifestFormat } from '../../notary/signature-manifest';
import { AwsSignerSigner } from '../../signers/aws-signer';
import { LocalKeySigner } from '../../signers/local-key';
import { Signer } from '../../signers/signer';
import { CliContext } from '../context';
import { parseDuration } from '../duration';
import { CliError, ExitCode } from '../io';
import { addRegistryOptions, forReference, openTarget, RegistryCliOptions } from '../registry-options';
import { collectUserMetadata } from '../user-metadata';

interface SignOptions extends RegistryCliOptions {
  readonly key?: string;
  readonly cert?: string;
  readonly signerProfile?: string;
  readonly expiry?: string;
  readonly userMetadata?: Record<string, string>;
  readonly force?: boolean;
  readonly signatureFormat: SignatureManifestFormat;
}

/**
 * `signed-image sign <ref>`: signs an image with a local key and certificate chain, or with an AWS Signer
 * signing profile, and pushes the signature next to it. Signing again is a no-op while a valid signature
 * by the same identity over the same metadata exists (unless --force).
 */
export function registerSign(program: Command, { io }: CliContext): void {
  addRegistryOptions(
    program
      .command('sign')
      .description('sign an image and store the Notary signature next to it (OCI referrer)')
      .argument('<ref>', 'image reference: <registry>/<repository>:<tag> or @<digest>')
      .option('-k, --key <file>', 'PEM private key of the signing certificate')
      .option('-c, --cert <file>', 'PEM certificate chain, signing certificate first, ending at the root')
      .option('-p, --signer-profile <name|arn>', 'AWS Signer signing profile (platform Notation-OCI-SHA384-ECDSA), by name or ARN')
      .option('-e, --expiry <duration>', 'signature validity, e.g. 24h or 30d (local key only)')
      .option('-m, --user-metadata <key=value>', 'signed annotation to add (repeatable)', collectUserMetadata)
      .option('--force', 'sign even when a valid signature by the same identity exists')
      .addOption(new Option('--signature-format <format>', 'signature manifest form').choices(['oci-1.1', 'legacy']).default('oci-1.1')),
  ).action(async (reference: string, options: SignOptions) => {
    const signer = createSigner(options, io.env);
    const target = await openTarget(reference, options, io);
    const result = await forReference(target.displayReference, async () => {
      try {
        return await signImage({
          repository: target.repository,
          tagOrDigest: target.tagOrDigest,
          signer,
          userMetadata: options.userMetadata,
          force: options.force,
          manifestFormat: options.signatureFormat,
        });
      } catch (error) {
        if (error instanceof SignRequestError) throw new CliError(error.message, ExitCode.USAGE);
        throw error;
      }
    });
    const pinned = `${target.repositoryName}@${result.target.digest}`;
    if (result.reused) {
      io.stdout(`${pinned} already has a valid signature by ${signer.description}: ${result.signatureDigest} (use --force to sign again)\n`);
      return;
    }
    io.stdout(`Successfully signed ${pinned}\n`);
    io.stdout(`Pushed the signature to ${target.repositoryName}@${result.signatureDigest}\n`);
    if (result.signingJobArn) io.stdout(`Signing job: ${result.signingJobArn}\n`);
  });
}

function createSigner(options: SignOptions, env: Readonly<Record<string, string | undefined>>): Signer {
  const local = options.key !== undefined || options.cert !== undefined;
  if (local === (options.signerProfile !== undefined)) {
    throw new CliError('give either --key and --cert, or --signer-profile', ExitCode.USAGE);
  }
  if (options.signerProfile !== undefined) {
    if (options.expiry !== undefined) {
      throw new CliError('--expiry is not supported with --signer-profile: the signing profile sets the signature validity', ExitCode.USAGE);
    }
    const profile = options.signerProfile;
    try {
      if (profile.startsWith('arn:')) {
        const region = profile.split(':')[3];
        return AwsSignerSigner.fromProfileArn(new SignerClient({ region }), profile);
      }
      return new AwsSignerSigner({ client: new SignerClient({ region: env.AWS_REGION ?? env.AWS_DEFAULT_REGION }), profileName: profile });
    } catch (error) {
      throw new CliError(`--signer-profile: ${(error as Error).message}`, ExitCode.USAGE);
    }
  }
  if (options.key === undefined || options.cert === undefined) throw new CliError('--key and --cert must be given together', ExitCode.USAGE);
  const expirySeconds = options.expiry === undefined ? undefined : parseDuration(options.expiry, '--expiry');
  const read = (file: string, option: string) => {
    try {
      return readFileSync(file);
    } catch (error) {
      throw new CliError(`${option} ${file}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`, ExitCode.USAGE);
    }
  };
  try {
    return new LocalKeySigner({ key: read(options.key, '--key'), certificateChain: read(options.cert, '--cert'), expirySeconds });
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw new CliError(`--key ${options.key} / --cert ${options.cert}: ${(error as Error).message}`, ExitCode.USAGE);
  }
}
