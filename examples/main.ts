/**
 * Example app: a signed image pipeline for a small web service on ECS Fargate.
 *
 *   npx cdk synth                                  # offline, no AWS account needed
 *   npx cdk deploy -c connectionArn=arn:aws:codeconnections:... -c owner=me -c repo=my-service
 *
 * A second stack, EnforcedServiceExample, puts a service and a jobs cluster under EcsSignatureEnforcement
 * (`-c enforcement=AUDIT` to report only).
 *
 * cdk-nag's AwsSolutions checks run on every synth: cdk-nag v3, a policy validation plugin that fails the synth on any
 * unacknowledged finding (`-c nag=v2` runs cdk-nag v2's aspect instead, `-c nag=false` neither).
 */
import { App, Aspects, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import * as nagV2 from 'cdk-nag-v2';
import { EnforcedServiceStack } from './enforced-service-stack';
import { SignedServiceStack } from './signed-service-stack';
import { EnforcementMode } from '../src';

const app = new App();
const connectionArn = app.node.tryGetContext('connectionArn') as string | undefined;
const stack = new SignedServiceStack(app, 'SignedServiceExample', {
  connection: connectionArn
    ? { connectionArn, owner: app.node.getContext('owner'), repo: app.node.getContext('repo'), branch: app.node.tryGetContext('branch') }
    : undefined,
});
const enforced = new EnforcedServiceStack(app, 'EnforcedServiceExample', {
  mode: app.node.tryGetContext('enforcement') === 'AUDIT' ? EnforcementMode.AUDIT : EnforcementMode.ENFORCE,
});
const nag = String(app.node.tryGetContext('nag') ?? 'v3');
if (nag === 'v3') {
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
} else if (nag === 'v2') {
  for (const checked of [stack, enforced]) Aspects.of(checked).add(new nagV2.AwsSolutionsChecks());
} else if (nag !== 'false') {
  throw new Error(`-c nag=${nag}: expected v3 (the default), v2 or false`);
}
app.synth();
