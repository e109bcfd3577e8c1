import * as codepipeline from 'aws-cdk-lib/aws-codepipeline';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as eks from 'aws-cdk-lib/aws-eks';

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
   * kubectl version installed in the deploy and check builds.
   * @default '1.31.4'
   */
  readonly kubectlVersion?: string;
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
