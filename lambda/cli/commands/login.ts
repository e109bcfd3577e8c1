import { Command } from 'commander';
import { addCommonOptions, CliLog, CommonCliOptions, configDirFor } from '../common-options';
import { CliContext } from '../context';
import { CredentialStore } from '../credentials/credential-store';
import { checkCredentials } from '../credentials/ping';
import { CliError, ExitCode, Prompter } from '../io';
import { addCredentialOptions, explicitCredentials, RegistryCliOptions } from '../registry-options';

/**
 * `signed-image login <server>` and `logout <server>` (notation cmd/notation/login.go, logout.go): the
 * credentials are checked against the registry, then saved in the credential store notation uses (a
 * credential helper; never plaintext in config.json).
 */
export function registerLogin(program: Command, { io }: CliContext): void {
  addCredentialOptions(addCommonOptions(program.command('login').description('log in to an OCI registry')))
    .argument('<server>', 'registry host, e.g. registry.example.com or localhost:5000')
    .option('--insecure-registry', 'use HTTP protocol while connecting to registries. Should be used only for testing')
    .option('--plain-http', 'the same as --insecure-registry')
    .action(async (server: string, options: RegistryCliOptions) => {
      const registry = registryHost(server);
      const prompter = new Prompter(io);
      const given = (await explicitCredentials(options, io, { allowMissingPassword: true })) ?? (await promptCredentials(prompter));
      // notation login reads a missing password at a prompt (from stdin when it is not a terminal).
      const password = given.password ?? (await prompter.line('Password: ', { secret: true }));
      if (!password) throw new CliError('password required', ExitCode.USAGE);
      const credentials = { username: given.username, password };
      const store = CredentialStore.forEnvironment(configDirFor(options, io), io.env);
      await checkCredentials(registry, credentials, options.insecureRegistry === true || options.plainHttp === true);
      const where = await store.store(registry, credentials);
      new CliLog(io, options).info(`credentials for ${registry} saved with ${where}`);
      io.stdout('Login Succeeded\n');
    });

  addCommonOptions(program.command('logout').description('log out from the logged in registries'))
    .argument('<server>', 'registry host')
    .action(async (server: string, options: CommonCliOptions) => {
      const registry = registryHost(server);
      const store = CredentialStore.forEnvironment(configDirFor(options, io), io.env);
      if (!(await store.erase(registry))) io.stderr(`Warning: there were no credentials for ${registry} in ${store.path}\n`);
      io.stdout('Logout Succeeded\n');
    });
}

/** notation login without credentials asks for the user name, then the password. */
async function promptCredentials(prompter: Prompter): Promise<{ username: string; password?: string }> {
  const username = (await prompter.line('Username: ')).trim();
  // notation takes an empty user name as "the password is an identity token", which signed-image does not support.
  if (!username) throw new CliError('username required: signed-image logs in with a user name and password, not with an identity token', ExitCode.USAGE);
  return { username };
}

/** A registry host, with a scheme or a trailing path tolerated as docker does (`https://host/`). */
function registryHost(server: string): string {
  const host = server.replace(/^https?:\/\//, '').replace(/\/.*$/, '');
  if (!/^[A-Za-z0-9.-]+(:\d+)?$|^\[[0-9A-Fa-f:]+\](:\d+)?$/.test(host)) {
    throw new CliError(`"${server}" is not a registry host such as registry.example.com or localhost:5000`, ExitCode.USAGE);
  }
  return host;
}
