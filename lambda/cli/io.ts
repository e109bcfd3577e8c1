import { createInterface } from 'node:readline';
import { VerificationErrorCode } from '../notary/types';

/** Where the CLI reads and writes, injectable so the commands run in-process in tests. */
export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  /** Reads all of standard input (for `--password-stdin`). */
  readonly readStdin: () => Promise<string>;
  /**
   * Reads one line typed at a prompt, echoing it (confirmations, a user name); `secret` turns the echo off on a
   * terminal (a password). Without it the prompts read the lines of `readStdin`.
   */
  readonly readLine?: (options?: { readonly secret?: boolean }) => Promise<string>;
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
    readLine: ({ secret = false } = {}) => (secret && process.stdin.isTTY ? readSecretFromTerminal() : readOneLine()),
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

/** One line of standard input, leaving the rest unread (node:readline stops at the first line end). */
function readOneLine(): Promise<string> {
  return new Promise((resolve) => {
    const lines = createInterface({ input: process.stdin, terminal: false });
    let answered = false;
    lines.once('line', (line) => {
      answered = true;
      lines.close();
      resolve(line);
    });
    lines.once('close', () => {
      if (!answered) resolve('');
    });
  });
}

/** A line typed at the terminal without echo (as golang.org/x/term ReadPassword, which notation login uses). */
function readSecretFromTerminal(): Promise<string> {
  return new Promise((resolve, reject) => {
    const stdin = process.stdin;
    let typed = '';
    const done = (error?: Error) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.removeListener('data', onData);
      process.stderr.write('\n');
      if (error) reject(error);
      else resolve(typed);
    };
    const onData = (chunk: Buffer) => {
      for (const char of chunk.toString('utf8')) {
        if (char === '\r' || char === '\n' || char === '\u0004') return done();
        if (char === '\u0003') return done(new CliError('interrupted'));
        if (char === '\u007f' || char === '\b') typed = typed.slice(0, -1);
        else typed += char;
      }
    };
    stdin.setRawMode(true);
    stdin.resume();
    stdin.on('data', onData);
  });
}

/**
 * Answers prompts one line at a time: from the terminal when the io reads lines, else from the lines of
 * standard input read once (tests, pipes).
 */
export class Prompter {
  private buffered?: Promise<string[]>;

  constructor(private readonly io: CliIo) {}

  async line(prompt: string, options: { readonly secret?: boolean } = {}): Promise<string> {
    // notation prints its prompts on stdout; stderr keeps stdout what the command answers.
    this.io.stderr(prompt);
    if (this.io.readLine) return (await this.io.readLine(options)).replace(/\r$/, '');
    this.buffered ??= this.io.readStdin().then((text) => text.split('\n'));
    const lines = await this.buffered;
    return (lines.shift() ?? '').replace(/\r$/, '');
  }

  /** notation's cmdutil.AskForConfirmation: `<prompt> [y/N] `, yes for "y" or "yes" (any case); else "Operation cancelled.". */
  async confirm(prompt: string): Promise<boolean> {
    const answer = (await this.line(`${prompt} [y/N] `)).trim().toLowerCase();
    if (answer === 'y' || answer === 'yes') return true;
    this.io.stdout('Operation cancelled.\n');
    return false;
  }
}
