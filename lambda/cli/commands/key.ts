import { resolve } from 'node:path';
import { Command } from 'commander';
import { addCommonOptions, CommonCliOptions, configDirFor } from '../common-options';
import { CliContext } from '../context';
import { CliError, ExitCode } from '../io';
import { collectKeyValue } from '../key-value';
import { checkPlugin } from '../signer-plugin';
import { SigningKeys } from '../signing-keys';
import { table } from '../table';

interface KeyAddOptions extends CommonCliOptions {
  readonly plugin?: string;
  readonly id?: string;
  readonly pluginConfig?: Record<string, string>;
  readonly key?: string;
  readonly cert?: string;
  readonly default?: boolean;
}

/** `signed-image key add|list|update|delete`: notation's signing key list, signingkeys.json (notation cmd/notation/key.go). */
export function registerKey(program: Command, { io }: CliContext): void {
  const key = program.command('key').description('manage keys used for signing');

  addCommonOptions(key.command('add').description('add key to signing key list'))
    .argument('<key_name>', 'name of the key')
    .option('--plugin <plugin_name>', 'signing plugin name: com.amazonaws.signer.notation.plugin (AWS Signer, built in)')
    .option('--id <id>', 'key id (required if --plugin is set): the AWS Signer signing profile ARN')
    .option('--plugin-config <key=value>', '{key}={value} pairs passed to the plugin: aws-region, aws-profile (repeatable)', (value: string, previous?: Record<string, string>) =>
      collectKeyValue(value, previous, '--plugin-config'),
    )
    .option('-k, --key <file>', 'a local PEM private key, instead of --plugin (with --cert)')
    .option('-c, --cert <file>', 'the local key\'s PEM certificate chain, signing certificate first')
    .option('--default', 'mark as default')
    .action((name: string, options: KeyAddOptions) => {
      const local = options.key !== undefined || options.cert !== undefined;
      if (local === (options.plugin !== undefined)) throw new CliError('give either --plugin and --id, or --key and --cert', ExitCode.USAGE);
      const keys = SigningKeys.load(configDirFor(options, io));
      if (local) {
        if (options.key === undefined || options.cert === undefined) throw new CliError('--key and --cert must be given together', ExitCode.USAGE);
        keys.add({ name, keyPath: resolve(options.key), certPath: resolve(options.cert) }, options.default === true);
      } else {
        if (options.id === undefined) throw new CliError('--id is required with --plugin', ExitCode.USAGE);
        checkPlugin(options.plugin!, options.id, options.pluginConfig);
        const pluginConfig = options.pluginConfig ? { pluginConfig: options.pluginConfig } : {};
        keys.add({ name, id: options.id, pluginName: options.plugin, ...pluginConfig }, options.default === true);
      }
      keys.save();
      io.stdout(options.default ? `${name}: marked as default\n` : `${name}\n`);
    });

  addCommonOptions(key.command('list').alias('ls').description('list keys used for signing')).action((options: CommonCliOptions) => {
    const keys = SigningKeys.load(configDirFor(options, io));
    const rows = keys.keys.map((suite) => [
      // notation internal/ioutil PrintKeyMap: `* ` before the default key's name only.
      `${suite.name === keys.defaultName ? '* ' : ''}${suite.name}`,
      suite.keyPath ?? '',
      suite.certPath ?? '',
      suite.id ?? '',
      suite.pluginName ?? '',
    ]);
    io.stdout(table([['NAME', 'KEY PATH', 'CERTIFICATE PATH', 'ID', 'PLUGIN NAME'], ...rows]));
  });

  addCommonOptions(key.command('update').alias('set').description('update key in signing key list'))
    .argument('<key_name>', 'name of the key')
    .option('--default', 'mark as default')
    .action((name: string, options: CommonCliOptions & { default?: boolean }) => {
      const keys = SigningKeys.load(configDirFor(options, io));
      if (!options.default) {
        keys.resolve(name);
        return;
      }
      keys.markDefault(name);
      keys.save();
      io.stdout(`${name}: marked as default\n`);
    });

  addCommonOptions(key.command('delete').description('remove key from signing key list'))
    .argument('<key_name...>', 'names of the keys')
    .action((names: string[], options: CommonCliOptions) => {
      const keys = SigningKeys.load(configDirFor(options, io));
      const defaultName = keys.defaultName;
      keys.delete(names);
      keys.save();
      if (names.length === 1) {
        const what = names[0] === defaultName ? `default key ${names[0]}` : names[0];
        io.stdout(`Removed ${what} from Notation signing key list. The source key still exists.\n`);
        return;
      }
      io.stdout('Removed the following keys from Notation signing key list. The source keys still exist.\n');
      for (const name of names) io.stdout(`${name}${name === defaultName ? ' (default)' : ''}\n`);
    });
}
