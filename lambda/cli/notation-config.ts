/**
 * The settings of notation's `config.json` that change what a command does (notation-go config/config.go):
 * `insecureRegistries` (registries reached over plain HTTP, pkg/configutil IsRegistryInsecure) and
 * `signatureFormat` (the default of `sign --signature-format`). Its credential settings are read by the
 * credential store.
 */
import { readFileSync } from 'node:fs';
import { CliError } from './io';
import { NotationPaths } from './notation-dir';

export interface NotationConfig {
  readonly insecureRegistries: readonly string[];
  readonly signatureFormat?: string;
}

export function readNotationConfig(configDir: string): NotationConfig {
  const path = NotationPaths.config(configDir);
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { insecureRegistries: [] };
    throw new CliError(`cannot read notation's configuration ${path}: ${(error as Error).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new CliError(`notation's configuration ${path} is not a JSON object`);
  const { insecureRegistries, signatureFormat } = parsed as { insecureRegistries?: unknown; signatureFormat?: unknown };
  if (insecureRegistries !== undefined && insecureRegistries !== null && !(Array.isArray(insecureRegistries) && insecureRegistries.every((entry) => typeof entry === 'string'))) {
    throw new CliError(`"insecureRegistries" in ${path} must be a list of registry hosts`);
  }
  return {
    insecureRegistries: (insecureRegistries as string[] | undefined | null) ?? [],
    ...(typeof signatureFormat === 'string' && signatureFormat ? { signatureFormat } : {}),
  };
}

/**
 * Whether notation reaches the registry over plain HTTP without --insecure-registry (cmd/notation/registry.go
 * getAuthClient): it is listed in `insecureRegistries` (case-insensitively), or it is `localhost:<port>`.
 */
export function isInsecureByDefault(registry: string, config: NotationConfig): boolean {
  if (config.insecureRegistries.some((entry) => entry.toLowerCase() === registry.toLowerCase())) return true;
  // Go's net.SplitHostPort: "localhost" without a port is an error there, so only localhost:<port> counts.
  return /^localhost:\d*$/.test(registry);
}
