import { Command, Option } from 'commander';
import { describeSignature, SignatureDescription } from '../../notary/describe-signature';
import { listSignatures } from '../../notary/list-signatures';
import { parseSignatureManifest } from '../../notary/signature-manifest';
import { DEFAULT_LIMITS } from '../../oci/repository';
import { CliContext } from '../context';
import { addRegistryOptions, forReference, openTarget, RegistryCliOptions } from '../registry-options';

interface InspectOptions extends RegistryCliOptions {
  readonly output: 'text' | 'json';
}

type Inspected = SignatureDescription | { readonly signatureDigest: string; readonly error: string };

/**
 * `signed-image inspect <ref>`: every signature's scheme, times, signed attributes (AWS Signer profile) and
 * certificate chain with SHA-256 fingerprints, as `notation inspect` shows them. It does not verify.
 */
export function registerInspect(program: Command, { io }: CliContext): void {
  addRegistryOptions(
    program
      .command('inspect')
      .description('show the signatures of an image: signer, times, attributes and certificate chains (no verification)')
      .argument('<ref>', 'image reference: <registry>/<repository>:<tag> or @<digest>')
      .addOption(new Option('-o, --output <format>', 'output format').choices(['text', 'json']).default('text')),
  ).action(async (reference: string, options: InspectOptions) => {
    const target = await openTarget(reference, options, io);
    const { subject, signatures } = await forReference(target.displayReference, async () => {
      const resolved = await target.repository.resolve(target.tagOrDigest);
      const described: Inspected[] = [];
      for (const signature of await listSignatures(target.repository, resolved)) {
        try {
          const manifest = await target.repository.fetchManifest(signature.digest, { maxBytes: DEFAULT_LIMITS.manifestBytes });
          const parsed = parseSignatureManifest(manifest.bytes, resolved);
          const envelope = await target.repository.fetchBlob(parsed.envelope, { maxBytes: DEFAULT_LIMITS.envelopeBytes });
          described.push(describeSignature(signature.digest, envelope, parsed.envelope.mediaType));
        } catch (error) {
          described.push({ signatureDigest: signature.digest, error: (error as Error).message });
        }
      }
      return { subject: resolved, signatures: described };
    });
    const pinned = `${target.repositoryName}@${subject.digest}`;
    if (options.output === 'json') {
      io.stdout(`${JSON.stringify({ reference: pinned, mediaType: subject.mediaType, signatures }, undefined, 2)}\n`);
      return;
    }
    if (signatures.length === 0) {
      io.stdout(`${pinned} has no associated signature\n`);
      return;
    }
    io.stdout(`Inspecting all signatures for signed artifact\n${pinned}\n`);
    signatures.forEach((signature, index) => io.stdout(tree(signature, index === signatures.length - 1)));
  });
}

function tree(signature: Inspected, last: boolean): string {
  const lines: string[] = [];
  const branch = last ? '└── ' : '├── ';
  const indent = last ? '    ' : '│   ';
  lines.push(`${branch}${signature.signatureDigest}`);
  if ('error' in signature) {
    lines.push(`${indent}└── error: ${signature.error}`);
    return `${lines.join('\n')}\n`;
  }
  const fields: Array<[string, string | undefined]> = [
    ['signature algorithm', signature.signatureAlgorithm],
    ['signature envelope type', signature.mediaType],
    ['signing scheme', signature.signingScheme],
    ['signing time', signature.signingTime],
    ['authentic signing time', signature.authenticSigningTime],
    ['expiry', signature.expiry ?? 'never'],
    ['signing agent', signature.signingAgent],
    ['signing profile version', signature.signingProfileVersionArn],
    ['signing job', signature.signingJobArn],
    ['signed artifact', `${signature.signedArtifact.digest} (${signature.signedArtifact.mediaType}, ${signature.signedArtifact.size} bytes)`],
    ['timestamp countersignature', signature.timestamped ? 'present' : 'none'],
  ];
  for (const [name, value] of fields) if (value !== undefined) lines.push(`${indent}├── ${name}: ${value}`);
  for (const [key, value] of Object.entries(signature.signedArtifact.annotations ?? {})) lines.push(`${indent}├── user metadata ${key}: ${value}`);
  lines.push(`${indent}└── certificates`);
  signature.certificateChain.forEach((certificate, index) => {
    const lastCertificate = index === signature.certificateChain.length - 1;
    const certificateIndent = `${indent}    ${lastCertificate ? '    ' : '│   '}`;
    lines.push(`${indent}    ${lastCertificate ? '└──' : '├──'} SHA256 fingerprint: ${certificate.sha256Fingerprint}`);
    lines.push(`${certificateIndent}├── subject: ${certificate.subject}`);
    lines.push(`${certificateIndent}├── issuer: ${certificate.issuer}`);
    lines.push(`${certificateIndent}└── valid: ${certificate.notBefore} to ${certificate.notAfter}`);
  });
  return `${lines.join('\n')}\n`;
}
