/**
 * Example app: a signed image pipeline for a small web service on ECS Fargate.
 *
 *   npx cdk synth                                  # offline, no AWS account needed
 *   npx cdk deploy -c connectionArn=arn:aws:codeconnections:... -c owner=me -c repo=my-service
 *
 * cdk-nag's AwsSolutions checks run on every synth (`-c nag=false` turns them off).
 */
import { App, Aspects } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { SignedServiceStack } from './signed-service-stack';

const app = new App();
const connectionArn = app.node.tryGetContext('connectionArn') as string | undefined;
const stack = new SignedServiceStack(app, 'SignedServiceExample', {
  connection: connectionArn
    ? { connectionArn, owner: app.node.getContext('owner'), repo: app.node.getContext('repo'), branch: app.node.tryGetContext('branch') }
    : undefined,
});
if (app.node.tryGetContext('nag') !== 'false') Aspects.of(stack).add(new AwsSolutionsChecks());
app.synth();
