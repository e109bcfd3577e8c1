import { isAbsolute, join, win32 } from 'node:path';
import { CliError, ExitCode } from './io';

type Env = Readonly<Record<string, string | undefined>>;

/**
 * notation's configuration directory: `$NOTATION_CONFIG` (notation cmd/notation/main.go), else Go's
 * os.UserConfigDir() joined with `notation` (notation-go dir/path.go). On Linux that is `$XDG_CONFIG_HOME/notation`,
 * else `$HOME/.config/notation`; on macOS `$HOME/Library/Application Support/notation`; on Windows
 * `%AppData%\notation`. An explicit `--config-dir` wins over all of them.
 *
 * Where os.UserConfigDir fails (a relative `$XDG_CONFIG_HOME`, no `$HOME`), notation-go falls back to `.notation`
 * in the working directory. That would take the trust policy and trust stores from whatever directory the command
 * runs in (a checked-out repository in CI), so this is a usage error naming the way out instead.
 */
export function notationConfigDir(env: Env, explicit?: string, platform: NodeJS.Platform = process.platform): string {
  if (explicit) return explicit;
  if (env.NOTATION_CONFIG) return env.NOTATION_CONFIG;
  const fail = (why: string): never => {
    throw new CliError(
      `cannot find the notation configuration directory: ${why} (notation would fall back to ./.notation); set NOTATION_CONFIG or give --config-dir`,
      ExitCode.USAGE,
    );
  };
  if (platform === 'win32') {
    if (!env.AppData && !env.APPDATA) fail('%AppData% is not defined');
    return win32.join((env.AppData ?? env.APPDATA)!, 'notation');
  }
  if (platform === 'darwin') {
    if (!env.HOME) fail('$HOME is not defined');
    return join(env.HOME!, 'Library', 'Application Support', 'notation');
  }
  // Go os.UserConfigDir on Unix: a non-empty XDG_CONFIG_HOME must be absolute.
  if (env.XDG_CONFIG_HOME) {
    if (!isAbsolute(env.XDG_CONFIG_HOME)) fail(`the path in $XDG_CONFIG_HOME ("${env.XDG_CONFIG_HOME}") is relative`);
    return join(env.XDG_CONFIG_HOME, 'notation');
  }
  if (!env.HOME) fail('neither $XDG_CONFIG_HOME nor $HOME are defined');
  return join(env.HOME!, '.config', 'notation');
}

export function homeDirectory(env: Env): string | undefined {
  return env.HOME || env.USERPROFILE || undefined;
}

/** The files notation keeps in its configuration directory (notation-go dir/path.go). */
export const NotationPaths = {
  config: (dir: string) => join(dir, 'config.json'),
  signingKeys: (dir: string) => join(dir, 'signingkeys.json'),
  ociTrustPolicy: (dir: string) => join(dir, 'trustpolicy.oci.json'),
  legacyTrustPolicy: (dir: string) => join(dir, 'trustpolicy.json'),
  localKeys: (dir: string) => join(dir, 'localkeys'),
  trustStore: (dir: string, type: string, name: string) => join(dir, 'truststore', 'x509', type, name),
};
