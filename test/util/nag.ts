import { App, Aspects, Stack, Stage, Validations } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import * as nagV3 from 'cdk-nag';
import * as nagV2 from 'cdk-nag-v2';
import { IConstruct } from 'constructs';

/** The cdk-nag major versions the library's acknowledgements are written for (src/private/nag.ts). */
export type NagVersion = 'v2' | 'v3';
export const NAG_VERSIONS: NagVersion[] = ['v2', 'v3'];

/** An unacknowledged cdk-nag finding: the CloudFormation resource's construct path and the rule (with the finding). */
export interface NagFinding {
  /** The construct path without a leading slash, e.g. `TestStack/Signer/Function/Resource`. */
  readonly path: string;
  /** The rule id, with the finding of a granular rule: `AwsSolutions-IAM5[Resource::*]`. */
  readonly ruleId: string;
  readonly level: 'error' | 'warning';
  readonly message: string;
}

/**
 * Runs cdk-nag's AwsSolutions pack the way each major version is registered and returns every unacknowledged finding
 * below `scope` (its stack's resources when `scope` is a stack):
 *
 * - v2: `Aspects.of(scope).add(new AwsSolutionsChecks())`; findings are synthesis annotations;
 * - v3: a policy validation plugin that aws-cdk-lib runs on the construct tree after synthesis, once the aspects
 *   (among them the library's acknowledgement aspects) have run. The app is synthesized, then the pack's
 *   `validateScope` lists the findings: what the plugin's `validate` does with `context.appConstruct` (cdk-nag v3,
 *   `src/nag-pack.ts`). `synthWithNagV3` takes the registered-plugin path itself.
 */
export function nagFindings(version: NagVersion, scope: IConstruct): NagFinding[] {
  const root = scope.node.root as App;
  if (version === 'v2') {
    Aspects.of(scope).add(new nagV2.AwsSolutionsChecks({ verbose: true }));
    root.synth();
    const findings: NagFinding[] = [];
    for (const stack of stacksBelow(scope)) {
      const annotations = Annotations.fromStack(stack);
      for (const [level, messages] of [
        ['error', annotations.findError('*', Match.stringLikeRegexp('^AwsSolutions-'))],
        ['warning', annotations.findWarning('*', Match.stringLikeRegexp('^AwsSolutions-'))],
      ] as const) {
        for (const message of messages) {
          const text = String(message.entry.data);
          const path = message.id.replace(/^\//, '');
          if (!isBelow(path, scope)) continue;
          findings.push({ path, ruleId: /^(AwsSolutions-[A-Za-z0-9]+(?:\[[^\]]*\])?)/.exec(text)?.[1] ?? text, level, message: text });
        }
      }
    }
    return findings;
  }
  root.synth();
  const report = new nagV3.AwsSolutionsChecks(undefined, { verbose: true }).validateScope(root);
  return report.violations.flatMap((violation) =>
    violation.violatingResources
      .filter((resource) => isBelow(resource.constructPath ?? '', scope))
      .map((resource) => ({
        path: resource.constructPath ?? '',
        ruleId: violation.ruleName,
        level: violation.severity === 'error' ? ('error' as const) : ('warning' as const),
        message: `${violation.ruleName}: ${violation.description}`,
      })),
  );
}

/** Synthesizes the app with cdk-nag v3 registered as aws-cdk-lib's policy validation plugin; throws when it reports a violation. */
export function synthWithNagV3(app: App): void {
  Validations.of(app).addPlugins(new nagV3.AwsSolutionsChecks(app, { verbose: true }));
  app.synth();
}

function stacksBelow(scope: IConstruct): Stack[] {
  const stacks = scope.node.findAll().filter((construct): construct is Stack => Stack.isStack(construct));
  return stacks.length > 0 ? stacks : [Stack.of(scope)];
}

function isBelow(path: string, scope: IConstruct): boolean {
  if (Stage.isStage(scope) && scope.node.scope === undefined) return true;
  return path === scope.node.path || path.startsWith(`${scope.node.path}/`);
}
