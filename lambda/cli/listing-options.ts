import { Option } from 'commander';
import { CliError, CliIo, ExitCode } from './io';
import { listSignatures } from '../notary/list-signatures';
import { OciRepository } from '../oci/repository';
import { Descriptor } from '../oci/types';

/** notation's `--max-signatures` (verify, list, inspect): default 100. */
export function maxSignaturesOption(): Option {
  return new Option('--max-signatures <n>', 'maximum number of signatures to evaluate or examine').default('100');
}

export function parseMaxSignatures(value: string): number {
  const max = Number(value);
  if (!Number.isInteger(max) || max < 1) throw new CliError(`max-signatures value ${value} must be a positive number`, ExitCode.USAGE);
  return max;
}

/** The first `max` signatures; a warning on stderr when there are more (notation's ErrorExceedMaxSignatures). */
export async function listAtMost(repository: OciRepository, subject: Descriptor, max: number, io: CliIo): Promise<Descriptor[]> {
  const signatures = await listSignatures(repository, subject, { maxSignatures: max + 1 });
  if (signatures.length <= max) return signatures;
  io.stderr(`Warning: exceeded configured limit of max signatures ${max} to examine\n`);
  return signatures.slice(0, max);
}

/** notation's warning when a tag was resolved to a digest (cmd/notation/manifest.go resolveReferenceWithWarning). */
export function tagWarning(io: CliIo, operation: string, tag: string): void {
  io.stderr(
    `Warning: Always ${operation} the artifact using digest(@sha256:...) rather than a tag(:${tag}) because resolved digest may not point to the same signed artifact, as tags are mutable.\n`,
  );
}
