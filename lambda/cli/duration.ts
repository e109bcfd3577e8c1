import { CliError, ExitCode } from './io';

const UNIT_SECONDS: Readonly<Record<string, number>> = { d: 86_400, h: 3_600, m: 60, s: 1 };

/** Parses notation-style durations such as `24h`, `7d`, `1h30m` into seconds. */
export function parseDuration(value: string, option: string): number {
  if (!/^(\d+[dhms])+$/.test(value)) {
    throw new CliError(`${option} "${value}" is not a duration such as 30m, 24h, 7d or 1h30m`, ExitCode.USAGE);
  }
  let seconds = 0;
  for (const [, amount, unit] of value.matchAll(/(\d+)([dhms])/g)) seconds += Number(amount) * UNIT_SECONDS[unit];
  if (seconds <= 0 || !Number.isSafeInteger(seconds)) throw new CliError(`${option} "${value}" must be a positive duration`, ExitCode.USAGE);
  return seconds;
}
