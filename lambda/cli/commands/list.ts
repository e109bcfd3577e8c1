import { Command } from 'commander';
import { SignatureStore } from '../../notary/signature-store';
import { MediaType } from '../../oci/media-types';
import { attestationBranches, listAttestationsWithSignatures } from '../attestation-listing';
import { CliContext } from '../context';
import { listAtMost, maxSignaturesOption, parseMaxSignatures, tagWarning } from '../listing-options';
import { addRegistryOptions, forReference, openTarget, RegistryCliOptions } from '../registry-options';
import { renderTree, TreeNode } from '../tree';

/**
 * `signed-image list <ref>`: the digests of the image's Notary signatures, as `notation list` prints them, then its
 * attestations (`signed-image attest`) by artifactType, each with its own signatures under it, as `oras discover`
 * shows the referrer tree.
 */
export function registerList(program: Command, { io }: CliContext): void {
  addRegistryOptions(
    program
      .command('list')
      .alias('ls')
      .description('list the Notary signatures of an image (OCI 1.1 and legacy signature manifests) and its attestations with theirs')
      .argument('<ref>', 'image reference: <registry>/<repository>:<tag> or @<digest>')
      .addOption(maxSignaturesOption()),
  ).action(async (reference: string, options: RegistryCliOptions & { maxSignatures: string }) => {
    const max = parseMaxSignatures(options.maxSignatures);
    const target = await openTarget(reference, options, io);
    const { subject, signatures, attestations } = await forReference(
      target.displayReference,
      async () => {
        // The manifest's own bytes name the subject, as verify resolves it: a header alone is not trusted.
        const resolved = await new SignatureStore(target.repository).resolve(target.tagOrDigest, target.displayReference);
        if (resolved.digest !== target.tagOrDigest) tagWarning(io, 'list', target.tagOrDigest);
        return {
          subject: resolved,
          signatures: await listAtMost(target.repository, resolved, max, io),
          attestations: await listAttestationsWithSignatures(target.repository, resolved, max, io),
        };
      },
      options,
    );
    const resolved = `${target.repositoryName}@${subject.digest}`;
    if (signatures.length === 0 && attestations.length === 0) {
      io.stdout(`${resolved} has no associated signature\n`);
      return;
    }
    const digestNode = (descriptor: { digest: string }): TreeNode => ({ label: descriptor.digest });
    const branches: TreeNode[] = signatures.length > 0 ? [{ label: MediaType.NOTARY_SIGNATURE, children: signatures.map(digestNode) }] : [];
    io.stdout(renderTree({ label: resolved, children: [...branches, ...attestationBranches(attestations, digestNode)] }));
  });
}
