import { Command } from 'commander';
import { signImage, SignImageResult, SignRequestError } from '../../notary/sign-image';
import { PartialSigningError, signImageRecursively } from '../../notary/sign-index';
import { CliLog } from '../common-options';
import { CliContext } from '../context';
import { CliError, ExitCode } from '../io';
import { addRegistryOptions, forReference, openTarget } from '../registry-options';
import { addSignerOptions, checkSignatureFormat, createSigner, SignerCliOptions } from '../signer-options';
import { collectUserMetadata } from '../user-metadata';

interface SignOptions extends SignerCliOptions {
  readonly userMetadata?: Record<string, string>;
  readonly force?: boolean;
  readonly recursive?: boolean;
}

/**
 * `signed-image sign <ref>`: signs an image with a key from notation's signing key list (the default one when
 * no key is named), a local key file and certificate chain, or an AWS Signer signing profile (`--plugin
 * com.amazonaws.signer.notation.plugin --id <arn>` as for notation, or `--signer-profile`), and pushes the
 * signature next to it. Signing again is a no-op while a valid signature by the same identity over the same
 * metadata exists (unless --force).
 */
export function registerSign(program: Command, { io }: CliContext): void {
  addRegistryOptions(
    addSignerOptions(
      program
        .command('sign')
        .description('sign an image and store the Notary signature next to it (OCI referrer)')
        .argument('<ref>', 'image reference: <registry>/<repository>:<tag> or @<digest>'),
    )
      .option('-m, --user-metadata <key=value>', '{key}={value} pairs that are added to the signature payload (repeatable)', collectUserMetadata)
      .option('--force', 'sign even when a valid signature by the same identity exists')
      .option('--recursive', 'for an image index: sign the index and every manifest it lists, each with its own signature'),
  ).action(async (reference: string, options: SignOptions) => {
    checkSignatureFormat(options, io);
    // Registry options first: a password typed after -p out of habit fails here, without being echoed.
    const target = await openTarget(reference, options, io);
    const signer = createSigner(options, io);
    const log = new CliLog(io, options);
    log.info(`Signing ${target.displayReference} with ${signer.description}`);
    const request = {
      repository: target.repository,
      tagOrDigest: target.tagOrDigest,
      signer,
      userMetadata: options.userMetadata,
      force: options.force,
      manifestFormat: options.signatureManifest,
    };
    const usage = <T>(sign: () => Promise<T>) => async () => {
      try {
        return await sign();
      } catch (error) {
        if (error instanceof SignRequestError) throw new CliError(error.message, ExitCode.USAGE);
        throw error;
      }
    };
    const warnTag = (digest: string) => {
      if (target.tagOrDigest !== digest) {
        // notation sign: a tag is resolved to a digest, and the digest is what is signed.
        io.stderr(`Warning: Always sign the artifact using digest(@sha256:...) rather than a tag(:${target.tagOrDigest}) because tags are mutable and a tag reference can point to a different artifact than the one signed.\n`);
      }
    };
    const report = (result: SignImageResult) => {
      const pinned = `${target.repositoryName}@${result.target.digest}`;
      if (result.reused) {
        io.stdout(`${pinned} already has a valid signature by ${signer.description}: ${result.signatureDigest} (use --force to sign again)\n`);
        return;
      }
      io.stdout(`Successfully signed ${pinned}\n`);
      io.stdout(`Pushed the signature to ${target.repositoryName}@${result.signatureDigest}\n`);
      if (result.signingJobArn) io.stdout(`Signing job: ${result.signingJobArn}\n`);
    };

    if (!options.recursive) {
      const result = await forReference(target.displayReference, usage(() => signImage(request)), options);
      warnTag(result.target.digest);
      report(result);
      return;
    }
    const { target: index, results } = await forReference(
      target.displayReference,
      usage(async () => {
        try {
          return await signImageRecursively({ ...request, onSigned: report });
        } catch (error) {
          // What was signed is already on stdout; name what is left, and fail so that a pipeline stops here.
          if (error instanceof PartialSigningError) throw new CliError(`${target.displayReference}: ${error.message}\nrun the same command again to sign the rest`);
          throw error;
        }
      }),
      options,
    );
    warnTag(index.digest);
    const pushed = results.filter((result) => !result.reused).length;
    io.stdout(`Signed ${target.repositoryName}@${index.digest} and the manifests it lists: ${results.length} signed (${pushed} new signature(s), ${results.length - pushed} kept)\n`);
  });
}
