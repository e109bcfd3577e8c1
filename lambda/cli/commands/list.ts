import { Command } from 'commander';
import { SignatureStore } from '../../notary/signature-store';
import { MediaType } from '../../oci/media-types';
import { CliContext } from '../context';
import { listAtMost, maxSignaturesOption, parseMaxSignatures, tagWarning } from '../listing-options';
import { addRegistryOptions, forReference, openTarget, RegistryCliOptions } from '../registry-options';

/** `signed-image list <ref>`: the digests of the image's Notary signatures, as `notation list` prints them. */
export function registerList(program: Command, { io }: CliContext): void {
  addRegistryOptions(
    program
      .command('list')
      .alias('ls')
      .description('list the Notary signatures of an image (OCI 1.1 and legacy signature manifests)')
      .argument('<ref>', 'image reference: <registry>/<repository>:<tag> or @<digest>')
      .addOption(maxSignaturesOption()),
  ).action(async (reference: string, options: RegistryCliOptions & { maxSignatures: string }) => {
    const max = parseMaxSignatures(options.maxSignatures);
    const target = await openTarget(reference, options, io);
    const { subject, signatures } = await forReference(
      target.displayReference,
      async () => {
        // The manifest's own bytes name the subject, as verify resolves it: a header alone is not trusted.
        const resolved = await new SignatureStore(target.repository).resolve(target.tagOrDigest, target.displayReference);
        if (resolved.digest !== target.tagOrDigest) tagWarning(io, 'list', target.tagOrDigest);
        return { subject: resolved, signatures: await listAtMost(target.repository, resolved, max, io) };
      },
      options,
    );
    const resolved = `${target.repositoryName}@${subject.digest}`;
    if (signatures.length === 0) {
      io.stdout(`${resolved} has no associated signature\n`);
      return;
    }
    io.stdout(`${resolved}\n└── ${MediaType.NOTARY_SIGNATURE}\n`);
    signatures.forEach((signature, i) => {
      io.stdout(`    ${i === signatures.length - 1 ? '└──' : '├──'} ${signature.digest}\n`);
    });
  });
}
