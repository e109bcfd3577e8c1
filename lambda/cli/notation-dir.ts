import { isAbsolute, join } from 'node:path';
import { CliError, ExitCode } from './io';

type Env = Readonly<Record<string, string | undefined>>;

/**
 * notation's configuration directory: `$NOTATION_CONFIG` (notation cmd/notation/main.go), else Go's
 * os.UserConfigDir() joined with `notation` (notation-go dir/path.go): `$XDG_CONFIG_HOME/notation`, else
 * `~/.config/notation`. An explicit `--config-dir` wins over all of them.
 */
export function notationConfigDir(env: Env, explicit?: string): string {
  if (explicit) return explicit;
  if (env.NOTATION_CONFIG) return env.NOTATION_CONFIG;
  // Go ignores a relative XDG_CONFIG_HOME, as the XDG base directory spec says.
  if (env.XDG_CONFIG_HOME && isAbsolute(env.XDG_CONFIG_HOME)) return join(env.XDG_CONFIG_HOME, 'notation');
  const home = homeDirectory(env);
  if (!home) {
    throw new CliError('cannot find the notation configuration directory: set NOTATION_CONFIG, XDG_CONFIG_HOME or HOME, or give --config-dir', ExitCode.USAGE);
  }
  return join(home, '.config', 'notation');
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
