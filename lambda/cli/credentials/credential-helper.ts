import { spawn } from 'node:child_process';
import { BasicCredentials } from '../../oci/credentials';
import { CliError } from '../io';

type Env = Readonly<Record<string, string | undefined>>;

/** The helper program is not installed (not on PATH). */
export class HelperNotFoundError extends CliError {
  constructor(readonly program: string) {
    super(`the credential helper ${program} is not installed (not found on PATH)`);
  }
}

/** What every helper prints when it holds nothing for a server (docker-credential-helpers credentials/error.go). */
const NOT_FOUND = 'credentials not found in native keychain';
const TIMEOUT_MS = 60_000;

/**
 * A docker credential helper, `docker-credential-<name>` on PATH, spoken to by its protocol
 * (github.com/docker/docker-credential-helpers): `get`/`erase` read the server address on stdin, `store` reads
 * `{ServerURL, Username, Secret}`. Its output is never put in messages, which could carry a secret.
 */
export class CredentialHelper {
  readonly program: string;

  constructor(name: string, private readonly env: Env) {
    if (!/^[A-Za-z0-9._-]+$/.test(name)) throw new CliError(`credential helper name "${name}" is not valid`);
    this.program = `docker-credential-${name}`;
  }

  async get(server: string): Promise<BasicCredentials | undefined> {
    const result = await this.run('get', server);
    if (result.code !== 0) {
      if (result.stdout.includes(NOT_FOUND) || result.stderr.includes(NOT_FOUND)) return undefined;
      throw new CliError(`${this.program} get failed for ${server} (exit code ${result.code})`);
    }
    let parsed: { Username?: unknown; Secret?: unknown };
    try {
      parsed = JSON.parse(result.stdout) as typeof parsed;
    } catch {
      throw new CliError(`${this.program} get printed something that is not JSON for ${server}`);
    }
    if (typeof parsed.Username !== 'string' || typeof parsed.Secret !== 'string') {
      throw new CliError(`${this.program} get did not return a Username and a Secret for ${server}`);
    }
    if (parsed.Username === '<token>') {
      throw new CliError(`${this.program} holds an identity token for ${server}, which is not supported: log in with a user name and password`);
    }
    return parsed.Secret === '' && parsed.Username === '' ? undefined : { username: parsed.Username, password: parsed.Secret };
  }

  async store(server: string, credentials: BasicCredentials): Promise<void> {
    const input = JSON.stringify({ ServerURL: server, Username: credentials.username, Secret: credentials.password });
    const result = await this.run('store', input);
    if (result.code !== 0) throw new CliError(`${this.program} store failed for ${server} (exit code ${result.code})`);
  }

  /** Resolves to false when the helper held nothing for the server. */
  async erase(server: string): Promise<boolean> {
    const result = await this.run('erase', server);
    if (result.code === 0) return true;
    if (result.stdout.includes(NOT_FOUND) || result.stderr.includes(NOT_FOUND)) return false;
    throw new CliError(`${this.program} erase failed for ${server} (exit code ${result.code})`);
  }

  private run(action: string, input: string): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve, reject) => {
      const child = spawn(this.program, [action], { env: { ...this.env }, stdio: ['pipe', 'pipe', 'pipe'], timeout: TIMEOUT_MS });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
      child.on('error', (error: NodeJS.ErrnoException) => {
        reject(error.code === 'ENOENT' ? new HelperNotFoundError(this.program) : new CliError(`cannot run ${this.program}: ${error.message}`));
      });
      child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
      child.stdin.on('error', () => undefined);
      child.stdin.end(input);
    });
  }
}
