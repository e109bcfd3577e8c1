import { CliError, ExitCode } from './io';

/** Collects repeated `--user-metadata key=value` options into an object (commander option parser). */
export function collectUserMetadata(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const separator = value.indexOf('=');
  if (separator <= 0) {
    throw new CliError(`--user-metadata "${value}" is not in the form key=value`, ExitCode.USAGE);
  }
  const key = value.slice(0, separator);
  if (key in previous) {
    throw new CliError(`--user-metadata key "${key}" is given more than once`, ExitCode.USAGE);
  }
  return { ...previous, [key]: value.slice(separator + 1) };
}
