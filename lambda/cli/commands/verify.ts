import { SignerClient } from '@aws-sdk/client-signer';
import { Command, Option } from 'commander';
import { TrustPolicyError } from '../../../src/shared/trust-policy';
import { AttestationVerification } from '../../notary/attestation-verify';
import { loadConfigDir } from '../../notary/config-dir';
import { TrustStoreError } from '../../notary/trust-policy';
import { withBuiltInTrustStores } from '../../notary/trust-store';
import { VerificationOutcome } from '../../notary/types';
import { verifyImage } from '../../notary/verify-image';
import { verifyImageRecursively } from '../../notary/verify-index';
import { AwsSignerRevocationChecker } from '../../revocation/aws-signer';
import { OcspCrlRevocationValidator } from '../../revocation/certificate-revocation';
import { httpRevocationFetcher } from '../../revocation/http-fetcher';
import { addAttestationOptions, AttestationCliOptions, attestationRequirements, printAttestationVerdicts, verifyRequiredAttestations } from '../attestation-options';
import { configDirFor } from '../common-options';
import { CliContext } from '../context';
import { CliError, CliIo, ExitCode } from '../io';
import { maxSignaturesOption, parseMaxSignatures, tagWarning } from '../listing-options';
import { addRegistryOptions, openTarget, RegistryCliOptions } from '../registry-options';
import { describeSignatureAt } from '../signature-details';
import { table } from '../table';
import { collectUserMetadata } from '../user-metadata';

interface VerifyOptions extends RegistryCliOptions, AttestationCliOptions {
  readonly userMetadata?: Record<string, string>;
  readonly output: 'text' | 'json';
  readonly maxSignatures: string;
  readonly scope?: string;
  readonly recursive?: boolean;
}

/**
 * `signed-image verify <ref>`: verifies an image under notation's trust policy and trust stores (the
 * configuration directory notation uses, or --config-dir), the way the pipeline's verify gate does. With
 * --require-attestation, each type also needs a signed attestation under the same trust policy (verifyAttestation).
 * Exit 0 when verified, 1 when not, 2 on usage errors.
 */
export function registerVerify(program: Command, { io, setExitCode }: CliContext): void {
  addRegistryOptions(
    addAttestationOptions(program
      .command('verify')
      .description('verify the Notary signatures of an image under a trust policy, and with --require-attestation its signed attestations')
      .argument('<ref>', 'image reference: <registry>/<repository>:<tag> or @<digest>')
      .option('-m, --user-metadata <key=value>', 'user defined {key}={value} pairs that must be present in the signature for successful verification (repeatable)', collectUserMetadata)
      .addOption(maxSignaturesOption())
      .option('--scope <scope>', 'trust policy scope for an --oci-layout artifact (required with --oci-layout, as in notation)')
      .option('--recursive', 'for an image index: the index and every manifest it lists must verify')
      .addOption(new Option('-o, --output <format>', 'output format').choices(['text', 'json']).default('text'))),
  ).action(async (reference: string, options: VerifyOptions) => {
    const maxSignatures = parseMaxSignatures(options.maxSignatures);
    const required = attestationRequirements(options);
    if (Boolean(options.ociLayout) !== (options.scope !== undefined)) {
      throw new CliError('--oci-layout and --scope must be used together (notation requires a trust policy scope for an OCI layout)', ExitCode.USAGE);
    }
    const config = loadConfig(configDirFor(options, io));
    const target = await openTarget(reference, options, io);
    const request = {
      repository: target.repository,
      tagOrDigest: target.tagOrDigest,
      displayReference: target.displayReference,
      scope: options.scope ?? target.repositoryName,
      policy: config.policy,
      stores: withBuiltInTrustStores(config.stores),
      userMetadata: options.userMetadata,
      maxSignatures,
      // Only AWS Signer signatures are checked this way; the client is made for the profile's region when needed.
      revocation: new AwsSignerRevocationChecker((region) => new SignerClient({ region })),
      certificateRevocation: new OcspCrlRevocationValidator(httpRevocationFetcher()),
    };
    // Each required attestation is verified under the same trust policy statement as the image (the same scope),
    // once the image itself verified: the attestations are about the reference given (for --recursive, the index).
    // --user-metadata is a requirement of the image's signature, not of the attestations'.
    const { userMetadata: _imageOnly, ...attestationRequest } = request;
    const attestations = async (verified: boolean, digest: string) =>
      verified && required.length > 0
        ? verifyRequiredAttestations({ ...attestationRequest, tagOrDigest: digest, displayReference: `${target.repositoryName}@${digest}` }, required)
        : [];
    if (options.recursive) {
      const recursive = await verifyImageRecursively(request);
      const verdicts = await attestations(recursive.verified, recursive.digest);
      const verified = recursive.verified && verdicts.every((verdict) => verdict.verified);
      setExitCode(verified ? ExitCode.OK : ExitCode.FAILURE);
      if (options.output === 'json') {
        io.stdout(`${JSON.stringify(withAttestations(recursive, verdicts, required.length > 0), undefined, 2)}\n`);
        return;
      }
      if (recursive.digest && target.tagOrDigest !== recursive.digest) tagWarning(io, 'verify', target.tagOrDigest);
      for (const outcome of recursive.outcomes) await printText(outcome, target.repositoryName, target, io);
      printAttestationVerdicts(verdicts, target.repositoryName, io);
      return;
    }
    const outcome = await verifyImage(request);
    const verdicts = await attestations(outcome.verified, outcome.digest);
    const verified = outcome.verified && verdicts.every((verdict) => verdict.verified);
    setExitCode(verified ? ExitCode.OK : ExitCode.FAILURE);
    if (options.output === 'json') {
      io.stdout(`${JSON.stringify(withAttestations(outcome, verdicts, required.length > 0), undefined, 2)}\n`);
      return;
    }
    if (outcome.digest && target.tagOrDigest !== outcome.digest) tagWarning(io, 'verify', target.tagOrDigest);
    await printText(outcome, target.repositoryName, target, io);
    printAttestationVerdicts(verdicts, target.repositoryName, io);
  });
}

/**
 * The JSON verdict with `attestations` (each required attestation's verdict) when attestations were required.
 * `verified` is then the verdict of the image and its attestations together, and a failed attestation is the
 * `error` (code verification-failed), so a script that reads `verified` never accepts an image without them.
 */
function withAttestations<T extends { readonly verified: boolean; readonly error?: unknown }>(
  verdict: T,
  attestations: readonly AttestationVerification[],
  required: boolean,
): T | (T & { attestations: readonly AttestationVerification[] }) {
  if (!required) return verdict;
  const failed = attestations.find((attestation) => !attestation.verified);
  if (!verdict.verified || !failed) return { ...verdict, attestations };
  return {
    ...verdict,
    verified: false,
    error: { code: 'verification-failed', message: failed.failure?.message ?? `${failed.type} attestation required` },
    attestations,
  };
}

/** A trust policy or trust store the command cannot use is a usage error naming the file (as with --output json). */
function loadConfig(dir: string): ReturnType<typeof loadConfigDir> {
  try {
    return loadConfigDir(dir);
  } catch (error) {
    if (error instanceof TrustPolicyError) throw new CliError(error.message, ExitCode.USAGE, 'invalid-trust-policy');
    if (error instanceof TrustStoreError) throw new CliError(error.message, ExitCode.USAGE, 'trust-store');
    throw error;
  }
}

async function printText(
  outcome: VerificationOutcome,
  repositoryName: string,
  target: Parameters<typeof describeSignatureAt>[0],
  io: CliIo,
): Promise<void> {
  for (const result of outcome.results) {
    if (result.action === 'log' && !result.ok) {
      // notation verify: `Warning: <type> was set to "log" and failed with error: <message>`.
      io.stderr(`Warning: ${result.type} was set to "log" and failed with error: ${result.message}\n`);
    }
  }
  if (!outcome.verified) {
    io.stderr(`Error: ${outcome.error?.message ?? 'signature verification failed'}\n`);
    return;
  }
  const pinned = `${repositoryName}@${outcome.digest}`;
  if (outcome.level === 'skip') {
    io.stdout(`Trust policy is configured to skip signature verification for ${pinned}\n`);
    return;
  }
  io.stdout(`Successfully verified signature for ${pinned}\n`);
  if (!outcome.signatureDigest) return;
  const described = await describeSignatureAt(target, outcome.signatureDigest, outcome.digest);
  const metadata = Object.entries(described.signedArtifact.annotations ?? {});
  if (metadata.length > 0) {
    io.stdout('\nThe artifact was signed with the following user metadata.\n\n');
    io.stdout(table([['KEY', 'VALUE'], ...metadata]));
  }
}
