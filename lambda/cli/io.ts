import { VerificationErrorCode } from '../notary/types';

/** Where the CLI reads and writes, injectable so the commands run in-process in tests. */
export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** Reads all of standard input (for `--password-stdin`). */
  readonly readStdin: () => Promise<string>;
  readonly env: Readonly<Record<string, string | undefined>>;
}

export const ExitCode = {
  OK: 0,
  /** The operation failed, or the image did not verify. */
  FAILURE: 1,
  /** The command line was wrong: unknown option, missing argument, malformed reference. */
  USAGE: 2,
} as const;

/**
 * Machine-readable error codes printed with `--output json`: the verify codes, plus `usage`
 * for a wrong command line and `failed` for anything else.
 */
export type CliErrorCode = VerificationErrorCode | 'usage' | 'failed';

/** An error the CLI reports as one line on stderr (or a JSON object with `--output json`) with the given exit code. */
export class CliError extends Error {
  readonly code: CliErrorCode;
  constructor(message: string, readonly exitCode: number = ExitCode.FAILURE, code?: CliErrorCode) {
    super(message);
    this.name = 'CliError';
    this.code = code ?? (exitCode === ExitCode.USAGE ? 'usage' : 'failed');
  }
}

export function processIo(): CliIo {
  return {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    readStdin: async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(Buffer.from(chunk));
      return Buffer.concat(chunks).toString('utf8');
    },
    env: process.env,
  };
}
