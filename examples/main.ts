/**
 * Example app: a signed image pipeline for a small web service on ECS Fargate.
 *
 *   npx cdk synth                                  # offline, no AWS account needed
 *   npx cdk deploy -c connectionArn=arn:aws:codeconnections:... -c owner=me -c repo=my-service
 *
 * A second stack, EnforcedServiceExample, puts a service and a jobs cluster under EcsSignatureEnforcement
 * (`-c enforcement=AUDIT` to report only).
 *
 * cdk-nag's AwsSolutions checks run on every synth (`-c nag=false` turns them off).
 */
import { App, Aspects } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
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
if (app.node.tryGetContext('nag') !== 'false') {
  for (const checked of [stack, enforced]) Aspects.of(checked).add(new AwsSolutionsChecks());
}
app.synth();
