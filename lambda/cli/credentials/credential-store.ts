/**
 * Registry credentials as notation finds them (notation internal/auth/credentials.go, on
 * oras-go registry/remote/credentials): notation's own config.json when it configures any auth, else
 * docker's config.json (`$DOCKER_CONFIG/config.json` or `~/.docker/config.json`), each with `credHelpers`
 * (per registry), then `credsStore`, then `auths` (plaintext, read only). Credentials are never logged.
 */
import { accessSync, constants, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { BasicCredentials } from '../../oci/credentials';
import { DOCKER_HUB } from '../../oci/reference';
import { CliError, ExitCode } from '../io';
import { homeDirectory, NotationPaths } from '../notation-dir';
import { CredentialHelper, HelperNotFoundError } from './credential-helper';

type Env = Readonly<Record<string, string | undefined>>;

interface AuthEntry {
  readonly auth?: string;
  readonly username?: string;
  readonly password?: string;
  readonly identitytoken?: string;
}

interface ConfigFile {
  auths?: Record<string, AuthEntry>;
  credsStore?: string;
  credHelpers?: Record<string, string>;
  [other: string]: unknown;
}

/** Where credentials for a registry came from, for `--debug` (never the credentials themselves). */
export interface FoundCredentials {
  readonly credentials: BasicCredentials;
  readonly source: string;
}

/** Docker Hub's credentials live under its legacy index address (oras-go ServerAddressFromHostname). */
const DOCKER_HUB_SERVER = 'https://index.docker.io/v1/';

export function serverAddress(registry: string): string {
  return registry === DOCKER_HUB ? DOCKER_HUB_SERVER : registry;
}

export class CredentialStore {
  /**
   * notation's config.json when it configures auth, else docker's when it does, else the platform's default
   * credential helper when it is installed (oras-go NewDefaultNativeStore), else notation's config.json.
   */
  static forEnvironment(configDir: string, env: Env, platform: NodeJS.Platform = process.platform): CredentialStore {
    const notation = CredentialStore.load(NotationPaths.config(configDir), env);
    if (notation.isAuthConfigured) return notation;
    const docker = CredentialStore.load(dockerConfigPath(env), env);
    if (docker.isAuthConfigured) return docker;
    const native = defaultNativeHelper(env, platform);
    if (native) return new CredentialStore(notation.path, { credsStore: native }, env, 'the platform\'s default credential store');
    return notation;
  }

  static load(path: string, env: Env): CredentialStore {
    let config: ConfigFile = {};
    try {
      config = JSON.parse(readFileSync(path, 'utf8')) as ConfigFile;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
        throw new CliError(`cannot read the credentials configuration ${path}: ${(error as Error).message}`);
      }
    }
    if (typeof config !== 'object' || config === null || Array.isArray(config)) {
      throw new CliError(`the credentials configuration ${path} is not a JSON object`);
    }
    return new CredentialStore(path, config, env);
  }

  private constructor(
    readonly path: string,
    private readonly config: ConfigFile,
    private readonly env: Env,
    /** What the configuration is, for messages: the file, or the platform's default store. */
    private readonly origin: string = path,
  ) {}

  get isAuthConfigured(): boolean {
    const { credsStore, credHelpers = {}, auths = {} } = this.config;
    return Boolean(credsStore) || Object.keys(credHelpers).length > 0 || Object.keys(auths).length > 0;
  }

  /** The helper (`docker-credential-<name>`) that holds this registry's credentials, if any. */
  helperFor(registry: string): string | undefined {
    return this.config.credHelpers?.[serverAddress(registry)] ?? this.config.credHelpers?.[registry] ?? this.config.credsStore;
  }

  async get(registry: string): Promise<FoundCredentials | undefined> {
    const server = serverAddress(registry);
    const helper = this.helperFor(registry);
    if (helper) {
      const found = await new CredentialHelper(helper, this.env).get(server);
      return found && { credentials: found, source: `credential helper docker-credential-${helper} (${this.origin})` };
    }
    const entry = this.authEntry(server);
    if (!entry) return undefined;
    const source = `"auths" of ${this.path}`;
    if (entry.identitytoken) {
      throw new CliError(`the credentials for ${registry} in ${source} are an identity token, which is not supported: log in with a user name and password`);
    }
    if (entry.auth) {
      const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon <= 0) throw new CliError(`the "auth" value for ${registry} in ${source} is not base64 of user:password`);
      return { credentials: { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) }, source };
    }
    if (entry.username && entry.password !== undefined) return { credentials: { username: entry.username, password: entry.password }, source };
    return undefined;
  }

  /**
   * Saves credentials through the configured helper. Like notation (AllowPlaintextPut: false), it refuses to
   * write a password in plaintext into config.json.
   */
  async store(registry: string, credentials: BasicCredentials): Promise<string> {
    const helper = this.helperFor(registry);
    if (!helper) {
      throw new CliError(
        `the credentials could not be saved because a credentials store is required to securely store the password: set "credsStore" or "credHelpers" in ${this.path} (see https://docs.docker.com/reference/cli/docker/login/#credential-stores)`,
      );
    }
    await new CredentialHelper(helper, this.env).store(serverAddress(registry), credentials);
    return `docker-credential-${helper}`;
  }

  /** Removes the registry's credentials from its helper and from `auths`. Resolves to false when there were none. */
  async erase(registry: string): Promise<boolean> {
    const server = serverAddress(registry);
    let erased = false;
    const helper = this.helperFor(registry);
    if (helper) {
      try {
        erased = await new CredentialHelper(helper, this.env).erase(server);
      } catch (error) {
        if (!(error instanceof HelperNotFoundError)) throw error;
      }
    }
    const auths = this.config.auths ?? {};
    const keys = Object.keys(auths).filter((key) => key === server || hostname(key) === server);
    if (keys.length > 0) {
      for (const key of keys) delete auths[key];
      this.save();
      erased = true;
    }
    return erased;
  }

  private authEntry(server: string): AuthEntry | undefined {
    const auths = this.config.auths ?? {};
    if (auths[server]) return auths[server];
    // Legacy keys such as "https://registry.example.com/v1/" (oras-go config.go, ToHostname).
    const key = Object.keys(auths).find((candidate) => hostname(candidate) === server);
    return key === undefined ? undefined : auths[key];
  }

  private save(): void {
    mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
    const temporary = `${this.path}.${process.pid}.tmp`;
    writeFileSync(temporary, `${JSON.stringify(this.config, undefined, '\t')}\n`, { mode: 0o600 });
    renameSync(temporary, this.path);
  }
}

/**
 * The platform's default credential helper when `docker-credential-<name>` is on PATH (oras-go
 * registry/remote/credentials native_store_{linux,darwin,windows}.go): `pass` when the `pass` program is
 * installed, else `secretservice` on Linux; `osxkeychain` on macOS; `wincred` on Windows.
 */
export function defaultNativeHelper(env: Env, platform: NodeJS.Platform): string | undefined {
  let name: string;
  if (platform === 'darwin') name = 'osxkeychain';
  else if (platform === 'win32') name = 'wincred';
  else if (platform === 'linux') name = onPath('pass', env, platform) ? 'pass' : 'secretservice';
  else return undefined;
  return onPath(`docker-credential-${name}`, env, platform) ? name : undefined;
}

function onPath(program: string, env: Env, platform: NodeJS.Platform): boolean {
  const separator = platform === 'win32' ? ';' : ':';
  const names = platform === 'win32' ? [`${program}.exe`, `${program}.cmd`, `${program}.bat`] : [program];
  for (const dir of (env.PATH ?? env.Path ?? '').split(separator)) {
    if (!dir) continue;
    for (const name of names) {
      try {
        const path = join(dir, name);
        if (statSync(path).isFile()) {
          accessSync(path, constants.X_OK);
          return true;
        }
      } catch {
        // not there, or not executable
      }
    }
  }
  return false;
}

/** docker's config file: `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`. */
export function dockerConfigPath(env: Env): string {
  if (env.DOCKER_CONFIG) return join(env.DOCKER_CONFIG, 'config.json');
  const home = homeDirectory(env);
  if (!home) throw new CliError('cannot find docker\'s config.json: set DOCKER_CONFIG or HOME', ExitCode.USAGE);
  return join(home, '.docker', 'config.json');
}

function hostname(key: string): string {
  return key.replace(/^[a-z][a-z0-9+.-]*:\/\//i, '').replace(/\/.*$/, '');
}
