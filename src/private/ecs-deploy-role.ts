import { ArnFormat, Lazy, Stack } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { acknowledgeWildcardGrants } from './wildcard-grants';

/**
 * What aws-cdk-lib's `EcsDeployAction` grants the action role on `*` when it binds
 * (aws-codepipeline-actions/lib/ecs/deploy-action.ts, after CodePipeline's list for the standard ECS action).
 */
const ECS_DEPLOY_ACTIONS = new Set([
  'ecs:DescribeServices', 'ecs:DescribeTaskDefinition', 'ecs:DescribeTasks', 'ecs:ListTasks',
  'ecs:RegisterTaskDefinition', 'ecs:TagResource', 'ecs:UpdateService', 'iam:PassRole',
]);

/**
 * The role of the ECS deploy action of one service, with the action's permissions on that service's resources
 * (Service Authorization Reference, Amazon ECS):
 *
 * - `ecs:DescribeServices`, `ecs:UpdateService` on the service (`service/<cluster>/<service>`);
 * - `ecs:DescribeTasks` on the cluster's tasks, `ecs:ListTasks` on its container instances (condition `ecs:cluster`);
 * - `ecs:RegisterTaskDefinition`, and `ecs:TagResource` only while registering (`ecs:CreateAction`), on the revisions
 *   of the service's task definition family (`task-definition/<family>:*`);
 * - `ecs:DescribeTaskDefinition` on `*` (it has no resource type);
 * - `iam:PassRole` on the task definition's task and execution roles, only to `ecs-tasks.amazonaws.com`.
 *
 * A service imported without its task definition (`fromServiceArnWithCluster`, `fromFargateServiceAttributes`) has no
 * known family or roles: then registering and tagging cover every family of the service's account and region
 * (`task-definition/*`), and `iam:PassRole` every role of that account (`role/*`), still only to `ecs-tasks.amazonaws.com`.
 *
 * `EcsDeployAction` adds its own statements on `*` to the role it is given; this role drops those, keeping the
 * artifact grants the action adds. Only the pipeline role that runs the action may assume it.
 */
export class EcsDeployActionRole extends iam.Role {
  private readonly trusted: { arn?: string };
  private sealed = false;

  constructor(scope: Construct, id: string, service: ecs.IBaseService) {
    const stack = Stack.of(scope);
    const trusted: { arn?: string } = {};
    super(scope, id, {
      description: `Deploys the verified image to the ECS service ${service.node.path}`,
      // The pipeline role, once the pipeline binds the action (grantAssumeRole); the account until then.
      assumedBy: new iam.ArnPrincipal(Lazy.string({ produce: () => trusted.arn ?? stack.formatArn({ service: 'iam', region: '', account: stack.account, resource: 'root' }) })),
    });
    this.trusted = trusted;

    const env = { account: service.env.account, region: service.env.region };
    const ecsArn = (resource: string, resourceName: string) =>
      stack.formatArn({ service: 'ecs', ...env, resource, resourceName, arnFormat: ArnFormat.SLASH_RESOURCE_NAME });
    const clusterName = service.cluster.clusterName;
    const taskDefinition = (service as Partial<ecs.BaseService>).taskDefinition;
    const family = taskDefinition?.family;
    const taskDefinitions = ecsArn('task-definition', family !== undefined ? `${family}:*` : '*');

    this.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['ecs:DescribeServices', 'ecs:UpdateService'],
      resources: [ecsArn('service', `${clusterName}/${service.serviceName}`)],
    }));
    this.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['ecs:DescribeTasks'], resources: [ecsArn('task', `${clusterName}/*`)] }));
    this.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['ecs:ListTasks'],
      resources: [ecsArn('container-instance', `${clusterName}/*`)],
      conditions: { ArnEquals: { 'ecs:cluster': service.cluster.clusterArn } },
    }));
    this.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['ecs:RegisterTaskDefinition'], resources: [taskDefinitions] }));
    this.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['ecs:TagResource'],
      resources: [taskDefinitions],
      conditions: { StringEquals: { 'ecs:CreateAction': 'RegisterTaskDefinition' } },
    }));
    this.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['ecs:DescribeTaskDefinition'], resources: ['*'] }));
    // The roles of the task definition when the template is written (an execution role may be added after this role).
    const taskRoles = (definition: ecs.TaskDefinition) => [definition.taskRole, ...(definition.executionRole ? [definition.executionRole] : [])];
    this.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['iam:PassRole'],
      resources: taskDefinition
        ? Lazy.list({ produce: () => taskRoles(taskDefinition).map((role) => role.roleArn) })
        : [stack.formatArn({ service: 'iam', region: '', account: env.account, resource: 'role', resourceName: '*', arnFormat: ArnFormat.SLASH_RESOURCE_NAME })],
      conditions: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
    }));
    this.sealed = true;

    acknowledgeWildcardGrants(this, [
      {
        reason:
          'ECS deploy action: ecs:DescribeTasks on the service\'s cluster\'s tasks (task/<cluster>/*) and ecs:ListTasks on its container ' +
          'instances (container-instance/<cluster>/*, with the ecs:cluster condition): the tasks of a deployment exist only once it runs.',
        matches: (statement, flatten) => statement.actions.every((a) => a === 'ecs:DescribeTasks' || a === 'ecs:ListTasks') &&
          statement.resources.every((r) => r.endsWith(`:task/${flatten(clusterName)}/*`) || r.endsWith(`:container-instance/${flatten(clusterName)}/*`)),
      },
      {
        reason: family !== undefined
          ? 'ECS deploy action: ecs:RegisterTaskDefinition, and ecs:TagResource only while registering (ecs:CreateAction), on the revisions of ' +
            'the service\'s task definition family (task-definition/<family>:*): each deployment registers the next revision.'
          : 'ECS deploy action for an imported service, whose task definition the stack does not know: ecs:RegisterTaskDefinition, and ' +
            'ecs:TagResource only while registering (ecs:CreateAction), on the task definitions of the service\'s account and region ' +
            '(task-definition/*).',
        matches: (statement, flatten) => statement.actions.every((a) => a === 'ecs:RegisterTaskDefinition' || a === 'ecs:TagResource') &&
          statement.resources.every((r) => r === flatten(taskDefinitions)),
      },
      {
        reason: 'ECS deploy action: ecs:DescribeTaskDefinition has no resource type; it reads the service\'s current task definition to copy it.',
        matches: (statement) => statement.actions.every((a) => a === 'ecs:DescribeTaskDefinition') && statement.resources.every((r) => r === '*'),
      },
      {
        reason:
          'ECS deploy action for an imported service, whose task and execution roles the stack does not know: iam:PassRole on the roles of ' +
          'the service\'s account (role/*), only to ecs-tasks.amazonaws.com (iam:PassedToService).',
        matches: (statement) => taskDefinition === undefined && statement.actions.every((a) => a === 'iam:PassRole') &&
          statement.resources.every((r) => r.endsWith(':role/*')),
      },
    ]);
  }

  /** Trusts the principal the pipeline grants the assumption to: the pipeline role. */
  public grantAssumeRole(identity: iam.IPrincipal): iam.Grant {
    const arn = (identity as Partial<iam.IRole>).roleArn;
    if (arn !== undefined && this.trusted.arn === undefined) {
      this.trusted.arn = arn;
    } else if (arn !== undefined && arn !== this.trusted.arn) {
      this.assumeRolePolicy?.addStatements(new iam.PolicyStatement({ actions: ['sts:AssumeRole'], principals: [new iam.ArnPrincipal(arn)] }));
    }
    return super.grantAssumeRole(identity);
  }

  /** Drops `EcsDeployAction`'s statements on `*` for the actions this role grants on the service's resources. */
  public addToPrincipalPolicy(statement: iam.PolicyStatement): iam.AddToPrincipalPolicyResult {
    const wildcard = statement.effect === iam.Effect.ALLOW && statement.notActions.length === 0 &&
      statement.resources.length === 1 && statement.resources[0] === '*';
    if (!this.sealed || !wildcard || !statement.actions.some((action) => ECS_DEPLOY_ACTIONS.has(action))) {
      return super.addToPrincipalPolicy(statement);
    }
    const others = statement.actions.filter((action) => !ECS_DEPLOY_ACTIONS.has(action));
    // Anything else the action asks for stays, on "*", where the cdk-nag check reports it.
    if (others.length > 0) return super.addToPrincipalPolicy(statement.copy({ actions: others }));
    return { statementAdded: true, policyDependable: this };
  }
}
