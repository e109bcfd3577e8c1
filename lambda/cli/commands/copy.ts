import { Command, Option } from 'commander';
import { copyImage, CopyEvent, CopyImageError, DEFAULT_MAX_COPY_BLOB_BYTES } from '../../notary/copy-image';
import { isValidDigest } from '../../oci/digest';
import { parseReference } from '../../oci/reference';
import { addCommonOptions, CliLog } from '../common-options';
import { CliContext } from '../context';
import { CliError, ExitCode } from '../io';
import { addCredentialOptions, forReference, openTarget, RegistryCliOptions } from '../registry-options';

interface CopyOptions extends RegistryCliOptions {
  readonly maxBlobBytes: string;
}

/**
 * `signed-image copy <src> <dst>`: copies an image (an index with every manifest it lists, or one manifest) and
 * all its Notary signatures to another repository or registry, digests unchanged, so `verify` passes at the
 * destination. Blobs are mounted when both are on the same registry; what the destination has is skipped.
 */
export function registerCopy(program: Command, { io }: CliContext): void {
  addCredentialOptions(addCommonOptions(
    program
      .command('copy')
      .description('copy an image with its Notary signatures to another repository or registry, digests unchanged')
      .argument('<src>', 'source image: <registry>/<repository>:<tag> or @<digest>')
      .argument('<dst>', 'destination: <registry>/<repository>, optionally :<tag> (default: the source tag) or @<the source digest>')
      .option('--insecure-registry', 'use HTTP protocol while connecting to registries. Should be used only for testing')
      .option('--plain-http', 'the same as --insecure-registry')
      .addOption(new Option('--max-blob-bytes <n>', 'refuse blobs larger than this; one blob is held in memory at a time').default(String(DEFAULT_MAX_COPY_BLOB_BYTES))),
  )).action(async (sourceReference: string, destinationReference: string, options: CopyOptions) => {
    const maxBlobBytes = Number(options.maxBlobBytes);
    if (!Number.isSafeInteger(maxBlobBytes) || maxBlobBytes <= 0) throw new CliError(`--max-blob-bytes "${options.maxBlobBytes}" is not a positive integer`, ExitCode.USAGE);
    const source = await openTarget(sourceReference, options, io);
    const destination = await openTarget(withSourceRef(destinationReference, source.tagOrDigest), options, io);
    const log = new CliLog(io, options);
    const destinationTag = isValidDigest(destination.tagOrDigest) ? undefined : destination.tagOrDigest;

    const progress = (event: CopyEvent) => {
      const line = `${event.action === 'skipped' ? 'Exists ' : event.action === 'mounted' ? 'Mounted' : 'Copied '} ${event.kind} ${event.digest}${event.kind === 'tag' ? '' : ` (${event.size} bytes)`}`;
      if (event.action === 'skipped') log.info(line);
      else io.stderr(`${line}\n`);
    };
    const result = await forReference(
      source.displayReference,
      async () => {
        try {
          return await copyImage({
            source: source.repository,
            tagOrDigest: source.tagOrDigest,
            destination: destination.repository,
            tag: destinationTag,
            expectedDigest: destinationTag === undefined ? destination.tagOrDigest : undefined,
            maxBlobBytes,
            onProgress: progress,
          });
        } catch (error) {
          if (error instanceof CopyImageError) throw new CliError(error.message, ExitCode.FAILURE);
          throw error;
        }
      },
      options,
    );
    const nothing = result.copied + result.mounted === 0;
    io.stdout(
      `${nothing ? 'Nothing to copy: ' : 'Copied '}${source.repositoryName}@${result.target.digest} ${nothing ? 'is at' : 'to'} ${destination.repositoryName}@${result.target.digest}`
      + `${destinationTag ? ` (tag ${destinationTag})` : ''}: ${result.copied} copied, ${result.mounted} mounted, ${result.skipped} already there, ${result.bytesUploaded} bytes uploaded\n`,
    );
  });
}

/** `<registry>/<repository>` without a tag or digest takes the source's. */
function withSourceRef(destination: string, sourceTagOrDigest: string): string {
  let hasRef: boolean;
  try {
    hasRef = parseReference(destination).tagOrDigest !== undefined;
  } catch {
    hasRef = false;
  }
  if (hasRef) return destination;
  return `${destination}${isValidDigest(sourceTagOrDigest) ? '@' : ':'}${sourceTagOrDigest}`;
}
