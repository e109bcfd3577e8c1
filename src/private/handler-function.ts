import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { assetDirectory } from './assets';
import { acknowledge } from './nag';
import { HandlerFunctionOptions } from '../handler-options';
import { validationError } from './errors';
import { grantUnscoped, VPC_NETWORK_INTERFACE_ACTIONS } from './grants';

/**
 * The default runtime: the newest Node.js runtime of aws-cdk-lib 2.276 (also with an older aws-cdk-lib that does not
 * name it yet).
 */
export const DEFAULT_RUNTIME = lambda.Runtime.ALL.find((runtime) => runtime.name === 'nodejs24.x')
  ?? new lambda.Runtime('nodejs24.x', lambda.RuntimeFamily.NODEJS, { supportsInlineCode: true });
/**
 * The oldest Node.js major version accepted: nodejs20.x is deprecated by Lambda (2026-04-30; functions on it can no
 * longer be created from 2027-02-01).
 */
const MINIMUM_NODE_VERSION = 22;

export interface HandlerFunctionConfig {
  /** The bundle under `assets/` (`sign-handler`, `verify-handler`). */
  readonly assetName: string;
  readonly description: string;
  readonly environment: { [key: string]: string };
  readonly options: HandlerFunctionOptions;
}

export interface HandlerFunctionParts {
  readonly function: lambda.Function;
  readonly role: iam.Role;
  readonly logGroup: logs.LogGroup;
}

/**
 * A Lambda function on a pre-bundled handler (`Code.fromAsset`, handler `index.handler`) with its own role and log
 * group. The role holds no managed policy: only what the caller grants, plus writing to this log group.
 */
export function createHandlerFunction(scope: Construct, config: HandlerFunctionConfig): HandlerFunctionParts {
  const { options } = config;
  const memorySize = options.memorySize ?? 512;
  if (!Number.isInteger(memorySize) || memorySize < 128 || memorySize > 10240) {
    throw validationError('MemorySizeInvalid', `memorySize: ${memorySize} MiB is outside what Lambda accepts (a whole number from 128 to 10240)`, scope);
  }
  const timeout = options.timeout ?? Duration.minutes(2);
  if (!timeout.isUnresolved() && (timeout.toMilliseconds() < 1000 || timeout.toSeconds() > 900)) {
    throw validationError('TimeoutInvalid', `timeout: ${timeout.toHumanString()} is outside what Lambda accepts (1 second to 15 minutes)`, scope);
  }
  const runtime = options.runtime ?? DEFAULT_RUNTIME;
  const nodeVersion = /^nodejs(\d+)/.exec(runtime.name)?.[1];
  if (runtime.family !== lambda.RuntimeFamily.NODEJS || (nodeVersion !== undefined && Number(nodeVersion) < MINIMUM_NODE_VERSION)) {
    throw validationError(
      'RuntimeUnsupported',
      `runtime: ${runtime.name} is not a Node.js ${MINIMUM_NODE_VERSION} or later runtime (nodejs20.x is deprecated by Lambda); ` +
        `use ${DEFAULT_RUNTIME.name} (the default) or nodejs22.x`,
      scope,
    );
  }

  if (options.vpc === undefined && (options.vpcSubnets !== undefined || options.securityGroups !== undefined)) {
    throw validationError('FunctionNetworkWithoutVpc', 'vpcSubnets and securityGroups need vpc: give the VPC the function runs in', scope);
  }

  const role = new iam.Role(scope, 'ServiceRole', {
    assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    description: `Role of ${config.description}`,
  });
  const logGroup = new logs.LogGroup(scope, 'LogGroup', {
    retention: options.logRetention ?? logs.RetentionDays.ONE_YEAR,
    removalPolicy: options.logRemovalPolicy ?? RemovalPolicy.RETAIN,
  });
  // Explicit least privilege instead of AWSLambdaBasicExecutionRole: write to this log group only.
  logGroup.grantWrite(role);

  const fn = new lambda.Function(scope, 'Function', {
    code: lambda.Code.fromAsset(assetDirectory(config.assetName)),
    handler: 'index.handler',
    runtime,
    architecture: options.architecture ?? lambda.Architecture.ARM_64,
    memorySize,
    timeout,
    role,
    logGroup,
    // The bundles are minified with source maps beside them (scripts/bundle.mjs): stack traces in the logs name
    // the lambda/ sources and lines, as aws-lambda-nodejs does for `sourceMap: true`.
    environment: { NODE_OPTIONS: '--enable-source-maps', ...config.environment },
    description: options.description ?? config.description,
    functionName: options.functionName,
    vpc: options.vpc,
    vpcSubnets: options.vpcSubnets,
    securityGroups: options.securityGroups,
  });
  // aws-cdk-lib adds AWSLambdaVPCAccessExecutionRole only to a role it creates itself; Lambda needs these to attach the
  // function to its subnets (Lambda Developer Guide, "Giving Lambda functions access to resources in an Amazon VPC").
  if (options.vpc) grantUnscoped(role, VPC_NETWORK_INTERFACE_ACTIONS);

  // Acknowledged for the default runtime whether it is implied or passed explicitly (`runtime: NODEJS_24_X`): the
  // choice is the same. Another runtime older than the newest is the user's choice, and cdk-nag reports it.
  const latest = latestRuntime(runtime.family);
  if (runtime.name === DEFAULT_RUNTIME.name && latest !== undefined && latest.name !== runtime.name) {
    acknowledge(fn, [
      {
        id: 'AwsSolutions-L1',
        reason:
          `The default runtime ${runtime.name} is the runtime the bundled handlers are built and tested for, and a supported ` +
          `Lambda runtime; set the runtime prop to use ${latest.name}.`,
      },
    ]);
  }
  return { function: fn, role, logGroup };
}

/** The newest runtime of a family this aws-cdk-lib knows (what cdk-nag's AwsSolutions-L1 compares with). */
function latestRuntime(family: lambda.RuntimeFamily | undefined): lambda.Runtime | undefined {
  const version = (runtime: lambda.Runtime) => Number(/(\d+(?:\.\d+)?)/.exec(runtime.name)?.[1] ?? 0);
  return lambda.Runtime.ALL.filter((runtime) => runtime.family === family && /^nodejs\d/.test(runtime.name))
    .sort((a, b) => version(a) - version(b))
    .pop();
}
