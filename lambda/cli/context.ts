import { CliIo } from './io';

/** What every command needs from the program that runs it. */
export interface CliContext {
  readonly io: CliIo;
  /** Sets the exit code for a command that completed but failed (e.g. an image that did not verify). */
  readonly setExitCode: (code: number) => void;
}
