import { CliError, ExitCode } from './io';

/**
 * Collects repeated `{key}={value}` options into an object (a commander option parser), as notation's
 * ParseFlagMap does: the key and the value must not be empty, and a key may appear once.
 */
export function collectKeyValue(value: string, previous: Record<string, string> = {}, option: string): Record<string, string> {
  const separator = value.indexOf('=');
  if (separator <= 0 || separator === value.length - 1) {
    throw new CliError(`${option} "${value}" is not in the form key=value`, ExitCode.USAGE);
  }
  const key = value.slice(0, separator);
  if (key in previous) {
    throw new CliError(`${option} key "${key}" is given more than once`, ExitCode.USAGE);
  }
  return { ...previous, [key]: value.slice(separator + 1) };
}
