import { Command } from 'commander';
import { listSignatures } from '../../notary/list-signatures';
import { MediaType } from '../../oci/media-types';
import { CliContext } from '../context';
import { addRegistryOptions, forReference, openTarget, RegistryCliOptions } from '../registry-options';

/** `signed-image list <ref>`: the digests of the image's Notary signatures, as `notation list` prints them. */
export function registerList(program: Command, { io }: CliContext): void {
  addRegistryOptions(
    program
      .command('list')
      .alias('ls')
      .description('list the Notary signatures of an image (OCI 1.1 and legacy signature manifests)')
      .argument('<ref>', 'image reference: <registry>/<repository>:<tag> or @<digest>'),
  ).action(async (reference: string, options: RegistryCliOptions) => {
    const target = await openTarget(reference, options, io);
    const { subject, signatures } = await forReference(target.displayReference, async () => {
      const resolved = await target.repository.resolve(target.tagOrDigest);
      return { subject: resolved, signatures: await listSignatures(target.repository, resolved) };
    });
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
