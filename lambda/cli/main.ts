import { Command, CommanderError } from 'commander';
import { registerInspect } from './commands/inspect';
import { registerList } from './commands/list';
import { registerPolicy } from './commands/policy';
import { registerSign } from './commands/sign';
import { registerVerify } from './commands/verify';
import { CliContext } from './context';
import { CliError, CliIo, ExitCode, processIo } from './io';

/**
 * Runs the `signed-image` CLI and resolves to its exit code. Commands write through `io`, so tests run
 * them in-process; the bundled `bin` calls this with the process streams.
 */
export async function runCli(argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  let exitCode: number = ExitCode.OK;
  const program = new Command('signed-image')
    .description('Sign and verify container images as Notary Project signatures (notation compatible)')
    .version(VERSION)
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr });
  const context: CliContext = { io, setExitCode: (code: number) => (exitCode = code) };
  registerSign(program, context);
  registerVerify(program, context);
  registerList(program, context);
  registerInspect(program, context);
  registerPolicy(program, context);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version exit through here with code 0.
      return error.exitCode === 0 ? ExitCode.OK : ExitCode.USAGE;
    }
    if (error instanceof CliError) {
      io.stderr(`Error: ${error.message}\n`);
      return error.exitCode;
    }
    io.stderr(`Error: ${error instanceof Error ? error.message : String(error)}\n`);
    return ExitCode.FAILURE;
  }
}

declare const __VERSION__: string | undefined;
const VERSION = typeof __VERSION__ === 'string' ? __VERSION__ : '0.0.0';


if (require.main === module) {
  void runCli(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
