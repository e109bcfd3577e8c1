import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { ATTESTATION_TYPES, attestationDocument, AttestationType, InvalidAttestationError, MAX_ATTESTATION_BYTES } from '../../notary/attestation';
import { attachAttestation, AttachAttestationResult } from '../../notary/attestation-attach';
import { SignRequestError } from '../../notary/sign-image';
import { sha256Digest } from '../../oci/digest';
import { MediaType } from '../../oci/media-types';
import { CliLog } from '../common-options';
import { CliContext } from '../context';
import { CliError, ExitCode } from '../io';
import { addRegistryOptions, forReference, openTarget } from '../registry-options';
import { addSignerOptions, checkSignatureFormat, createSigner, SignerCliOptions } from '../signer-options';

interface AttestOptions extends SignerCliOptions {
  readonly type: AttestationType;
  readonly predicate: string;
  readonly output: 'text' | 'json';
}

/**
 * `signed-image attest <ref> --type <type> --predicate <file>`: attaches a SLSA provenance (the statement is built
 * around the predicate, with the image as its subject) or an SPDX / CycloneDX SBOM to the image as an OCI 1.1
 * referrer, and signs that attestation manifest with the same signers and options as `sign`, so `verify
 * --require-attestation <type>` checks it under the image's trust policy.
 */
export function registerAttest(program: Command, { io }: CliContext): void {
  addRegistryOptions(
    addSignerOptions(
      program
        .command('attest')
        .description('attach a signed SLSA provenance or SBOM to an image (an OCI referrer, signed as a Notary signature)')
        .argument('<ref>', 'image reference: <registry>/<repository>:<tag> or @<digest>')
        .addOption(new Option('--type <type>', 'attestation type').choices(ATTESTATION_TYPES).makeOptionMandatory())
        .requiredOption('--predicate <file>', 'for slsa-provenance: the SLSA Provenance v1 predicate (JSON; the in-toto statement is built); for spdx / cyclonedx: the SBOM JSON document'),
    ).addOption(new Option('-o, --output <format>', 'output format').choices(['text', 'json']).default('text')),
  ).action(async (reference: string, options: AttestOptions) => {
    checkSignatureFormat(options, io);
    const document = readPredicate(options);
    // Registry options first: a password typed after -p out of habit fails here, without being echoed.
    const target = await openTarget(reference, options, io);
    const signer = createSigner(options, io);
    new CliLog(io, options).info(`Attaching a ${options.type} attestation to ${target.displayReference}, signed with ${signer.description}`);
    const result = await forReference(
      target.displayReference,
      async () => {
        try {
          return await attachAttestation({
            repository: target.repository,
            tagOrDigest: target.tagOrDigest,
            type: options.type,
            document,
            subjectName: target.repositoryName,
            signer,
            manifestFormat: options.signatureManifest,
          });
        } catch (error) {
          if (error instanceof InvalidAttestationError) throw new CliError(`--predicate ${options.predicate}: ${error.message}`, ExitCode.USAGE);
          if (error instanceof SignRequestError) throw new CliError(error.message, ExitCode.USAGE);
          throw error;
        }
      },
      options,
    );
    if (target.tagOrDigest !== result.image.digest) {
      io.stderr(`Warning: Always attest the artifact using digest(@sha256:...) rather than a tag(:${target.tagOrDigest}) because tags are mutable and a tag reference can point to a different artifact than the one attested.\n`);
    }
    report(result, options, target.repositoryName, (text) => io.stdout(text));
  });
}

/**
 * Reads and checks the --predicate file before the registry is contacted: a missing file, a file that is not JSON
 * or not a document of the type is a usage error and nothing is pushed. (attachAttestation checks it again, for
 * the resolved image, before it pushes.)
 */
function readPredicate(options: AttestOptions): Uint8Array {
  let bytes: Buffer;
  try {
    bytes = readFileSync(options.predicate);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new CliError(`--predicate ${options.predicate}: ${code === 'ENOENT' ? 'no such file' : (error as Error).message}`, ExitCode.USAGE);
  }
  if (bytes.byteLength > MAX_ATTESTATION_BYTES) {
    throw new CliError(`--predicate ${options.predicate}: ${bytes.byteLength} bytes is more than the ${MAX_ATTESTATION_BYTES} bytes verifiers read`, ExitCode.USAGE);
  }
  try {
    // The statement's subject is the image, not known yet: any sha256 descriptor checks the predicate the same way.
    attestationDocument(options.type, { mediaType: MediaType.OCI_MANIFEST, digest: sha256Digest(bytes), size: bytes.byteLength }, 'image', bytes);
  } catch (error) {
    if (error instanceof InvalidAttestationError) throw new CliError(`--predicate ${options.predicate}: ${error.message}`, ExitCode.USAGE);
    throw error;
  }
  return bytes;
}

/** notation sign's lines for the attestation manifest and its signature, after the attachment; or the same as JSON. */
function report(result: AttachAttestationResult, options: AttestOptions, repositoryName: string, write: (text: string) => void): void {
  const { image, attestation, signature } = result;
  if (options.output === 'json') {
    const json = {
      reference: `${repositoryName}@${image.digest}`,
      type: options.type,
      artifactType: attestation.artifactType,
      attestationDigest: attestation.digest,
      signatureDigest: signature.signatureDigest,
      ...(signature.signingJobArn ? { signingJobArn: signature.signingJobArn } : {}),
    };
    write(`${JSON.stringify(json, undefined, 2)}\n`);
    return;
  }
  write(`Attached the ${options.type} attestation ${repositoryName}@${attestation.digest} (${attestation.artifactType}) to ${repositoryName}@${image.digest}\n`);
  write(`Successfully signed ${repositoryName}@${attestation.digest}\n`);
  write(`Pushed the signature to ${repositoryName}@${signature.signatureDigest}\n`);
  if (signature.signingJobArn) write(`Signing job: ${signature.signingJobArn}\n`);
}
