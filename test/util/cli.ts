import { CliIo } from '../../lambda/cli/io';
import { runCli } from '../../lambda/cli/main';

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the `signed-image` CLI in-process with captured output. */
export async function runSignedImage(
  argv: readonly string[],
  options: { stdin?: string; env?: Record<string, string | undefined> } = {},
): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    stdout: (text) => (stdout += text),
    stderr: (text) => (stderr += text),
    readStdin: async () => options.stdin ?? '',
    env: options.env ?? {},
  };
  const code = await runCli(argv, io);
  return { code, stdout, stderr };
}
