import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CliIo } from '../../lambda/cli/io';
import { runCli } from '../../lambda/cli/main';

export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * A home directory of its own for each test file, so the CLI's default configuration directory
 * (~/.config/notation) and docker's config (~/.docker/config.json) are never the machine's.
 */
export const TEST_HOME = mkdtempSync(join(tmpdir(), 'signed-image-home-'));

/** Runs the `signed-image` CLI in-process with captured output, with HOME set to TEST_HOME unless `env` is given. */
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
    env: options.env ?? { HOME: TEST_HOME },
  };
  const code = await runCli(argv, io);
  return { code, stdout, stderr };
}
