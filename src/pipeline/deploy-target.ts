import { Token } from 'aws-cdk-lib';
import * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as eks from 'aws-cdk-lib/aws-eks';
import { DEFAULT_KUBECTL_VERSION } from '../private/buildspecs';

/** An ECS service to deploy the signed image to. */
export interface EcsDeployTargetOptions {
  /** The service (Fargate or EC2); its task definition must have a container named `containerName`. */
  readonly service: ecs.IBaseService;
  /** The container whose image the pipeline replaces (written to `imagedefinitions.json`). */
  readonly containerName: string;
}

/** An EKS deployment to deploy the signed image to. */
export interface EksDeployTargetOptions {
  /** The cluster; the deploy and check builds run `aws eks update-kubeconfig` for it. */
  readonly cluster: eks.ICluster;
  /**
   * @default 'default'
   */
  readonly namespace?: string;
  /** The Deployment whose container image the pipeline sets, by digest. */
  readonly deployment: string;
  /** The container in the Deployment's pod template. */
  readonly container: string;
  /**
   * kubectl version installed in the deploy and check builds (from dl.k8s.io). The builds fail when the cluster's
   * version is outside kubectl's supported skew (one minor version either way). Give `kubectlSha256` with it.
   * @default '1.35.7' (its SHA-256 is pinned)
   */
  readonly kubectlVersion?: string;
  /**
   * The SHA-256 of the linux/amd64 kubectl binary of `kubectlVersion`, as published in
   * `https://dl.k8s.io/release/v<version>/bin/linux/amd64/kubectl.sha256`; the builds refuse any other binary.
   * @default - the pinned checksum of the default version; required when `kubectlVersion` is set
   */
  readonly kubectlSha256?: string;
  /**
   * The VPC the deploy and check builds run in, for a cluster whose API endpoint is private. Its subnets need a
   * route to dl.k8s.io and the EKS API, and the cluster's security group must allow HTTPS from the builds.
   * @default - no VPC (the cluster's public endpoint)
   */
  readonly vpc?: ec2.IVpc;
  /**
   * The subnets of `vpc` the builds run in.
   * @default - the VPC's private subnets
   */
  readonly subnetSelection?: ec2.SubnetSelection;
  /**
   * The security groups of the builds in `vpc`.
   * @default - a security group is created
   */
  readonly securityGroups?: ec2.ISecurityGroup[];
}

/** Actions of your own for the Deploy stage, run after the verify gate. */
export interface CustomDeployTargetOptions {
  /**
   * The actions; reference the signed image as `#{Build.IMAGE_URI}@#{Build.IMAGE_DIGEST}`. Their run order
   * must be 2 or more, so the verify gate (run order 1) runs first.
   */
  readonly actions: codepipeline.IAction[];
}

/** The kind of deploy target. */
export enum DeployTargetType {
  /** An ECS service. */
  ECS = 'ECS',
  /** An EKS Deployment. */
  EKS = 'EKS',
  /** Actions of your own. */
  CUSTOM = 'CUSTOM',
  /** No deployment. */
  NONE = 'NONE',
}

/** Where the Deploy stage deploys the verified image, always by digest. */
export class DeployTarget {
  /** An ECS service, with the standard ECS deploy action and a post-deploy check of the running tasks' digests. */
  public static ecs(options: EcsDeployTargetOptions): DeployTarget {
    if (!options.containerName) throw new Error('DeployTarget.ecs: containerName must not be empty');
    return new DeployTarget(DeployTargetType.ECS, options, undefined, undefined);
  }

  /** An EKS Deployment, updated with kubectl (`set image … @sha256:…`) from CodeBuild, and its pods checked afterwards. */
  public static eks(options: EksDeployTargetOptions): DeployTarget {
    for (const field of ['deployment', 'container'] as const) {
      if (!options[field]) throw new Error(`DeployTarget.eks: ${field} must not be empty`);
    }
    const { kubectlVersion, kubectlSha256 } = options;
    if (kubectlVersion !== undefined && !Token.isUnresolved(kubectlVersion) && !/^\d+\.\d+\.\d+$/.test(kubectlVersion)) {
      throw new Error(`DeployTarget.eks: kubectlVersion "${kubectlVersion}" must be a release version such as "1.35.7"`);
    }
    if (kubectlSha256 !== undefined && !Token.isUnresolved(kubectlSha256) && !/^[0-9a-f]{64}$/.test(kubectlSha256)) {
      throw new Error(`DeployTarget.eks: kubectlSha256 "${kubectlSha256}" must be 64 lower-case hexadecimal digits`);
    }
    if ((kubectlVersion === undefined) !== (kubectlSha256 === undefined)) {
      throw new Error(`DeployTarget.eks: give kubectlVersion and kubectlSha256 together (the checksum of that version's linux/amd64 kubectl from dl.k8s.io), or neither for kubectl ${DEFAULT_KUBECTL_VERSION}`);
    }
    if (options.vpc === undefined && (options.subnetSelection !== undefined || options.securityGroups !== undefined)) {
      throw new Error('DeployTarget.eks: subnetSelection and securityGroups need vpc');
    }
    return new DeployTarget(DeployTargetType.EKS, undefined, options, undefined);
  }

  /** Actions of your own, after the verify gate. */
  public static custom(options: CustomDeployTargetOptions): DeployTarget {
    if (options.actions.length === 0) throw new Error('DeployTarget.custom: give at least one action');
    return new DeployTarget(DeployTargetType.CUSTOM, undefined, undefined, options);
  }

  /** No deployment: the Deploy stage only runs the verify gate (e.g. images consumed elsewhere). */
  public static none(): DeployTarget {
    return new DeployTarget(DeployTargetType.NONE, undefined, undefined, undefined);
  }

  /** The kind of target. */
  public readonly type: DeployTargetType;
  /** The ECS service, for `DeployTargetType.ECS`. */
  public readonly ecsOptions?: EcsDeployTargetOptions;
  /** The EKS Deployment, for `DeployTargetType.EKS`. */
  public readonly eksOptions?: EksDeployTargetOptions;
  /** Your actions, for `DeployTargetType.CUSTOM`. */
  public readonly customOptions?: CustomDeployTargetOptions;

  private constructor(
    type: DeployTargetType,
    ecsOptions: EcsDeployTargetOptions | undefined,
    eksOptions: EksDeployTargetOptions | undefined,
    customOptions: CustomDeployTargetOptions | undefined,
  ) {
    this.type = type;
    this.ecsOptions = ecsOptions;
    this.eksOptions = eksOptions;
    this.customOptions = customOptions;
  }
}
