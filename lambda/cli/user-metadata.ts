import { collectKeyValue } from './key-value';

/** Collects repeated `--user-metadata key=value` options into an object (commander option parser). */
export function collectUserMetadata(value: string, previous: Record<string, string> = {}): Record<string, string> {
  return collectKeyValue(value, previous, '--user-metadata');
}
