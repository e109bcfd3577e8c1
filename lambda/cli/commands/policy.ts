import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { parseTrustPolicy } from '../../notary/trust-policy';
import { CliContext } from '../context';
import { CliError } from '../io';

/** `signed-image policy validate <file>`: applies every trust policy rule, as `cdk synth` and verify do. */
export function registerPolicy(program: Command, { io }: CliContext): void {
  const policy = program.command('policy').description('work with Notary trust policies');
  policy
    .command('validate')
    .description('validate a trust policy document (trustpolicy.json, version 1.0)')
    .argument('<file>', 'the trust policy file')
    .action((file: string) => {
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (error) {
        throw new CliError(`cannot read trust policy "${file}": ${(error as Error).message}`);
      }
      try {
        const document = parseTrustPolicy(text);
        const names = document.trustPolicies.map((statement) => `"${statement.name}"`).join(', ');
        io.stdout(`Trust policy ${file} is valid: ${document.trustPolicies.length} statement(s): ${names}\n`);
      } catch (error) {
        throw new CliError(`${file}: ${(error as Error).message}`);
      }
    });
}
