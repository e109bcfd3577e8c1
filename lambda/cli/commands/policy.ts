import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { Command } from 'commander';
import { parseTrustPolicy } from '../../../src/shared/trust-policy';
import { loadTrustPolicy } from '../../notary/config-dir';
import { addCommonOptions, CommonCliOptions, configDirFor } from '../common-options';
import { CliContext } from '../context';
import { CliError, ExitCode, Prompter } from '../io';
import { NotationPaths } from '../notation-dir';

/**
 * `signed-image policy import|show|validate`: notation's trust policy commands (cmd/notation/policy) on the
 * configuration directory, and `validate`, which applies every trust policy rule as `cdk synth` and verify do.
 */
export function registerPolicy(program: Command, { io }: CliContext): void {
  const policy = program.command('policy').description('manage trust policy configuration for signature verification');

  addCommonOptions(policy.command('import').description('import trust policy configuration from a JSON file'))
    .argument('<file_path>', 'the trust policy file')
    .option('--force', 'override the existing trust policy configuration, never prompt')
    .action(async (file: string, options: CommonCliOptions & { force?: boolean }) => {
      const text = readPolicyFile(file);
      validate(text, file);
      const dir = configDirFor(options, io);
      // Replace the file verify reads: trustpolicy.oci.json when present, else notation 1.x's trustpolicy.json.
      const target = existsSync(NotationPaths.ociTrustPolicy(dir)) ? NotationPaths.ociTrustPolicy(dir) : NotationPaths.legacyTrustPolicy(dir);
      if (existsSync(target)) {
        // notation cmd/notation/policy/import.go: ask unless --force.
        if (!options.force && !(await new Prompter(io).confirm('The trust policy file already exists, do you want to overwrite it?'))) return;
        if (options.force) io.stderr('Warning: existing trust policy configuration file will be overwritten\n');
      }
      mkdirSync(dirname(target), { recursive: true, mode: 0o700 });
      const temporary = `${target}.${process.pid}.tmp`;
      writeFileSync(temporary, text, { mode: 0o600 });
      renameSync(temporary, target);
      io.stdout('Trust policy configuration imported successfully.\n');
    });

  addCommonOptions(policy.command('show').description('show trust policy configuration')).action((options: CommonCliOptions) => {
    const dir = configDirFor(options, io);
    const path = [NotationPaths.ociTrustPolicy(dir), NotationPaths.legacyTrustPolicy(dir)].find((candidate) => existsSync(candidate));
    if (!path) {
      throw new CliError(
        `failed to show trust policy as the trust policy file does not exist (looked for ${NotationPaths.ociTrustPolicy(dir)} and ${NotationPaths.legacyTrustPolicy(dir)}).\nYou can import one using \`signed-image policy import <path-to-policy.json>\``,
      );
    }
    const text = readFileSync(path, 'utf8');
    io.stdout(text.endsWith('\n') ? text : `${text}\n`);
    try {
      loadTrustPolicy(dir);
    } catch (error) {
      throw new CliError(
        `${(error as Error).message}\nExisting trust policy configuration is invalid, you may update or create a new one via \`signed-image policy import <path-to-policy.json>\``,
        ExitCode.FAILURE,
        'invalid-trust-policy',
      );
    }
  });

  addCommonOptions(policy.command('validate').description('validate a trust policy document (trustpolicy.json, version 1.0)'))
    .argument('<file>', 'the trust policy file')
    .action((file: string) => {
      const document = validate(readPolicyFile(file), file);
      const names = document.trustPolicies.map((statement) => `"${statement.name}"`).join(', ');
      io.stdout(`Trust policy ${file} is valid: ${document.trustPolicies.length} statement(s): ${names}\n`);
    });
}

function readPolicyFile(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new CliError(`cannot read trust policy "${file}": ${(error as Error).message}`);
  }
}

function validate(text: string, file: string): ReturnType<typeof parseTrustPolicy> {
  try {
    return parseTrustPolicy(text);
  } catch (error) {
    throw new CliError(`${file}: ${(error as Error).message}`, ExitCode.FAILURE, 'invalid-trust-policy');
  }
}
