import { Command } from 'commander';
import { CliIo } from './io';
import { notationConfigDir } from './notation-dir';

/** notation's logging flags (cmd/notation/internal/flag/options.go LoggingFlagOpts), on every command. */
export interface CommonCliOptions {
  readonly debug?: boolean;
  readonly verbose?: boolean;
  readonly configDir?: string;
}

export function addCommonOptions(command: Command): Command {
  return command
    .option('-d, --debug', 'debug mode: print what the command reads and where credentials come from (never the credentials)')
    .option('-v, --verbose', 'verbose mode')
    .option('--config-dir <dir>', 'notation configuration directory (default: $NOTATION_CONFIG, $XDG_CONFIG_HOME/notation or ~/.config/notation)');
}

/** Progress (verbose) and diagnostics (debug) on stderr, so stdout stays parseable. */
export class CliLog {
  constructor(private readonly io: CliIo, private readonly options: CommonCliOptions) {}

  get debugEnabled(): boolean {
    return this.options.debug === true;
  }

  info(message: string): void {
    if (this.options.verbose || this.options.debug) this.io.stderr(`${message}\n`);
  }

  debug(message: string): void {
    if (this.options.debug) this.io.stderr(`[debug] ${message}\n`);
  }
}

/** The configuration directory this command uses, logged with --debug. */
export function configDirFor(options: CommonCliOptions, io: CliIo): string {
  const dir = notationConfigDir(io.env, options.configDir);
  new CliLog(io, options).debug(`notation configuration directory: ${dir}`);
  return dir;
}
