/**
 * Synthesizes the example app (examples/) with cdk-nag v3's AwsSolutions checks and summarizes what a security
 * review looks at: the pipeline's stages and actions, every IAM statement, and the cdk-nag result.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { SignedServiceStack } from '../examples/signed-service-stack';
import { flattenReference } from '../src/private/wildcard-grants';

const ROOT = join(__dirname, '..');

export interface PipelineSummary {
  readonly stages: string[];
  readonly nagErrors: number;
  readonly nagWarnings: number;
}

/** Prints the summary; the handler bundles are built first when they are missing (a fresh clone). */
export function summarizeExamplePipeline(print: (line: string) => void = console.log): PipelineSummary {
  if (!existsSync(join(ROOT, 'assets', 'sign-handler', 'index.js'))) {
    const bundled = spawnSync(process.execPath, [join(ROOT, 'scripts', 'bundle.mjs')], { encoding: 'utf8' });
    if (bundled.status !== 0) throw new Error(`bundling the handlers failed: ${bundled.stderr}`);
  }
  const started = Date.now();
  const app = new App();
  const stack = new SignedServiceStack(app, 'SignedServiceExample', { env: { account: '111122223333', region: 'us-east-1' } });
  const template = Template.fromStack(stack).toJSON();
  // cdk-nag v3 on the synthesized tree: what its policy validation plugin reports after `cdk synth`.
  const findings = new AwsSolutionsChecks().validateScope(app).violations.flatMap((violation) =>
    violation.violatingResources.map((resource) => ({ id: `${resource.constructPath}`, rule: violation.ruleName, text: violation.description, severity: violation.severity })));
  const errors = findings.filter((finding) => finding.severity === 'error');
  const warnings = findings.filter((finding) => finding.severity !== 'error');
  const resources = template.Resources as Record<string, any>;
  print(`  synthesized examples/ (stack SignedServiceExample, ${Object.keys(resources).length} resources) in ${Date.now() - started} ms`);

  print('\n  Stages and actions (run order):');
  const pipeline = Object.values(resources).find((resource) => resource.Type === 'AWS::CodePipeline::Pipeline');
  const stages: string[] = [];
  for (const stage of pipeline.Properties.Stages) {
    stages.push(stage.Name);
    const actions = (stage.Actions as any[]).map((action) => `${action.RunOrder}. ${action.Name} (${action.ActionTypeId.Provider})`);
    print(`    ${stage.Name.padEnd(7)} ${actions.join(', ')}`);
  }

  print('\n  IAM statements (role policy: actions → resources):');
  let statements = 0;
  for (const [id, policy] of Object.entries(resources).filter(([, resource]) => resource.Type === 'AWS::IAM::Policy')) {
    print(`    ${id.replace(/DefaultPolicy[0-9A-F]{8}$/, '')}`);
    for (const statement of policy.Properties.PolicyDocument.Statement) {
      statements++;
      const actions = [statement.Action].flat().join(', ');
      const targets = [statement.Resource].flat().map(flattenReference).join(', ');
      print(`      ${actions} → ${targets}${statement.Condition ? ` (if ${Object.keys(statement.Condition).join(', ')})` : ''}`);
    }
  }

  const acknowledged = Object.values(resources).flatMap((resource) => resource.Metadata?.cdk_nag?.rules_to_suppress ?? []);
  const acknowledgedFindings = acknowledged.reduce((count: number, rule: any) => count + Math.max(1, rule.applies_to?.length ?? 0), 0);
  print(`\n  ${statements} IAM statements in ${Object.values(resources).filter((r) => r.Type === 'AWS::IAM::Policy').length} policies`);
  print(`  cdk-nag AwsSolutions: ${errors.length} errors, ${warnings.length} warnings unacknowledged; ` +
    `${acknowledgedFindings} findings acknowledged with reasons (${acknowledged.length} acknowledgements)`);
  for (const finding of [...errors, ...warnings]) print(`    ${finding.id}: ${finding.rule}: ${finding.text.split('\n')[0]}`);
  return { stages, nagErrors: errors.length, nagWarnings: warnings.length };
}
