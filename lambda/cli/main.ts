import { Command, CommanderError } from 'commander';
import { registerAttest } from './commands/attest';
import { registerCert } from './commands/cert';
import { registerCopy } from './commands/copy';
import { registerInspect } from './commands/inspect';
import { registerKey } from './commands/key';
import { registerList } from './commands/list';
import { registerLogin } from './commands/login';
import { registerPolicy } from './commands/policy';
import { registerSign } from './commands/sign';
import { registerVerify } from './commands/verify';
import { registerVersion } from './commands/version';
import { CliContext } from './context';
import { CliError, CliErrorCode, CliIo, ExitCode, processIo } from './io';

/**
 * Runs the `signed-image` CLI and resolves to its exit code. Commands write through `io`, so tests run
 * them in-process; the bundled `bin` calls this with the process streams.
 */
export async function runCli(argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  let exitCode: number = ExitCode.OK;
  let running: Command | undefined;
  let usageError: string | undefined;
  const program = new Command('signed-image')
    .description('Sign and verify container images as Notary Project signatures (notation compatible), with signed provenance and SBOM attestations')
    .version(VERSION)
    .showHelpAfterError(wantsJson(argv) ? false : '(run with --help for usage)')
    .exitOverride()
    .configureOutput({
      writeOut: io.stdout,
      writeErr: io.stderr,
      // With --output json a usage error is reported as JSON instead (below).
      outputError: (text, write) => (wantsJson(argv) ? (usageError = text.replace(/^error: /, '').trim()) : write(text)),
    })
    .hook('preAction', (_, actionCommand) => {
      running = actionCommand;
    });
  const context: CliContext = { io, setExitCode: (code: number) => (exitCode = code) };
  registerSign(program, context);
  registerAttest(program, context);
  registerVerify(program, context);
  registerList(program, context);
  registerInspect(program, context);
  registerCopy(program, context);
  registerCert(program, context);
  registerKey(program, context);
  registerPolicy(program, context);
  registerLogin(program, context);
  registerVersion(program, context, VERSION);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (error) {
    const json = running ? running.opts().output === 'json' : wantsJson(argv);
    if (error instanceof CommanderError) {
      // --help and --version exit through here with code 0.
      if (error.exitCode === 0) return ExitCode.OK;
      if (json) printJsonError(io, 'usage', usageError ?? error.message.replace(/^error: /, ''));
      return ExitCode.USAGE;
    }
    const cliError = error instanceof CliError ? error : undefined;
    const message = error instanceof Error ? error.message : String(error);
    if (json) {
      printJsonError(io, cliError?.code ?? 'failed', message);
    } else {
      io.stderr(`Error: ${message}\n`);
      if (running?.opts().debug && error instanceof Error && error.stack) io.stderr(`${error.stack}\n`);
    }
    return cliError?.exitCode ?? ExitCode.FAILURE;
  }
}

/** `{"error": {"code", "message"}}` on stdout, the shape verify --output json uses. */
function printJsonError(io: CliIo, code: CliErrorCode, message: string): void {
  io.stdout(`${JSON.stringify({ error: { code, message } }, undefined, 2)}\n`);
}

/** Whether the command line asks for JSON output, for errors before the command runs. */
function wantsJson(argv: readonly string[]): boolean {
  return argv.some((arg, index) => arg === '--output=json' || arg === '-ojson' || ((arg === '-o' || arg === '--output') && argv[index + 1] === 'json'));
}

declare const __VERSION__: string | undefined;
const VERSION = typeof __VERSION__ === 'string' ? __VERSION__ : '0.0.0';

if (require.main === module) {
  // The AWS SDK warns once per process that its releases after January 2027 need Node.js 22 (@aws-sdk/core
  // submodules/client/emitWarningIfUnsupportedVersion.ts); on every CLI call that is noise, so the bin turns off
  // that one warning with the SDK's own switch. Other warnings still print.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  void runCli(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
