/**
 * The EKS deploy and check steps: their CodeBuild projects as synthesized, and their shell run by bash against a
 * fake kubectl (served by a fake curl as the "download"), so the checksum, version-skew and admission-denial paths
 * run for real.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { eksCluster, fullPipeline, newStack } from './support';
import { DeployTarget, EksDeployTargetOptions } from '../../src';

const PINNED_SHA256 = '12e97f9d23a9f6cbb87b89becd6bd291e1a858a3379a4e11e2c822c4c1530052';
const DENIAL = 'Error creating: admission webhook "validate.kyverno.svc-fail" denied the request: resource Pod/shop/web-7d4b9c-x8k2p ' +
  'was blocked due to the following policies tp-apps-check-images: verify-image-signatures: failed to load context: 406 signature verification failed';

interface EksProject {
  readonly description: string;
  readonly env: Record<string, string>;
  readonly commands: string[];
  readonly vpcConfig?: any;
}

function eksProjects(options: Partial<EksDeployTargetOptions> = {}, configure?: (stack: Stack) => Partial<EksDeployTargetOptions>): EksProject[] {
  const stack = newStack();
  fullPipeline(stack, { deploy: DeployTarget.eks({ cluster: eksCluster(stack), namespace: 'shop', deployment: 'web', container: 'app', ...options, ...configure?.(stack) }) });
  const projects = Object.values(Template.fromStack(stack).findResources('AWS::CodeBuild::Project')).map((p: any) => p.Properties);
  return projects
    .filter((p) => JSON.parse(p.Source.BuildSpec).phases.install?.commands.some((c: string) => c.includes('kubectl')))
    .map((p) => {
      const spec = JSON.parse(p.Source.BuildSpec);
      return {
        description: p.Description,
        env: Object.fromEntries(p.Environment.EnvironmentVariables.map((v: any) => [v.Name, v.Value])),
        commands: [...spec.phases.install.commands, ...spec.phases.build.commands],
        vpcConfig: p.VpcConfig,
      };
    });
}

const FAKE_KUBECTL = `#!/usr/bin/env bash
echo "kubectl $*" >> "$FAKE_LOG"
args=" $* "
case "$args" in
  *" version -o json "*) printf '{"clientVersion":{"major":"1","minor":"35"},"serverVersion":{"major":"1","minor":"%s"}}\\n' "$FAKE_SERVER_MINOR";;
  *" set image "*) ;;
  *" rollout status "*) [ "$FAKE_ROLLOUT" = ok ];;
  *" get deployment "*" -o json "*) echo '{"spec":{"selector":{"matchLabels":{"app":"web"}}}}';;
  *" get deployment "*) echo 3;;
  *" get replicasets "*) echo web-7d4b9c;;
  *" get pods "*) printf '{"items":[{"metadata":{"name":"web-7d4b9c-x8k2p"},"spec":{"containers":[{"name":"app","image":"%s"}]},"status":{"phase":"Running","containerStatuses":[{"name":"app","imageID":"%s"}]}}]}' "$IMAGE_URI@$IMAGE_DIGEST" "$IMAGE_URI@$IMAGE_DIGEST";;
  *" get events "*) case "$args" in *"involvedObject.name=web-7d4b9c,"*"reason=FailedCreate"*) [ -z "$FAKE_DENIAL" ] || echo "$FAKE_DENIAL";; esac;;
  *) echo "unexpected: kubectl $*" >&2; exit 2;;
esac
`;

interface Run {
  readonly status: number | null;
  readonly stderr: string;
  readonly log: string;
  readonly installed: boolean;
  readonly seconds: number;
}

/** Runs a step's commands in one bash (as CodeBuild does), kubectl installed into a temporary directory. */
function runStep(project: EksProject, fake: { serverMinor?: string; rollout?: 'ok' | 'stuck'; denial?: string; sha256?: string } = {}): Run {
  const dir = mkdtempSync(path.join(tmpdir(), 'eks-step-'));
  const fakes = path.join(dir, 'fakes');
  const bin = path.join(dir, 'bin');
  execFileSync('mkdir', ['-p', fakes, bin]);
  writeFileSync(path.join(dir, 'kubectl-release'), FAKE_KUBECTL);
  writeFileSync(path.join(fakes, 'curl'), `#!/usr/bin/env bash\nwhile [ $# -gt 0 ]; do [ "$1" = -o ] && cp "${dir}/kubectl-release" "$2"; shift; done\n`);
  writeFileSync(path.join(fakes, 'aws'), '#!/usr/bin/env bash\necho "aws $*" >> "$FAKE_LOG"\n');
  for (const tool of ['curl', 'aws']) chmodSync(path.join(fakes, tool), 0o755);
  const log = path.join(dir, 'log');
  writeFileSync(log, '');
  const script = project.commands.join('\n').split('/usr/local/bin/kubectl').join(path.join(bin, 'kubectl'));
  const started = Date.now();
  const result = spawnSync('bash', ['-c', script], {
    cwd: dir,
    encoding: 'utf8',
    timeout: 30_000,
    env: {
      ...process.env,
      ...project.env,
      ...(fake.sha256 ? { KUBECTL_SHA256: fake.sha256 } : {}),
      PATH: `${bin}:${fakes}:${process.env.PATH}`,
      AWS_REGION: 'us-east-1',
      IMAGE_URI: '111122223333.dkr.ecr.us-east-1.amazonaws.com/web',
      IMAGE_DIGEST: `sha256:${'a'.repeat(64)}`,
      FAKE_LOG: log,
      FAKE_SERVER_MINOR: fake.serverMinor ?? '34',
      FAKE_ROLLOUT: fake.rollout ?? 'ok',
      FAKE_DENIAL: fake.denial ?? '',
    },
  });
  let installed = true;
  try {
    readFileSync(path.join(bin, 'kubectl'));
  } catch {
    installed = false;
  }
  return { status: result.status, stderr: result.stderr, log: readFileSync(log, 'utf8'), installed, seconds: (Date.now() - started) / 1000 };
}

const FAKE_SHA256 = createHash('sha256').update(FAKE_KUBECTL).digest('hex');
const deployStep = (projects: EksProject[]) => projects.find((p) => p.description.startsWith('Sets the Deployment image'))!;

describe('EKS steps: the kubectl download', () => {
  test('the default kubectl 1.35.7 comes with its pinned dl.k8s.io SHA-256 (issue 16.9, 16.11)', () => {
    const projects = eksProjects();
    expect(projects).toHaveLength(2);
    for (const project of projects) expect(project.env).toMatchObject({ KUBECTL_VERSION: '1.35.7', KUBECTL_SHA256: PINNED_SHA256 });
  });

  test('a binary whose SHA-256 differs is refused and never installed; the matching one is installed (issue 16.9)', () => {
    for (const project of eksProjects()) {
      const refused = runStep(project); // the fake "download" is not kubectl 1.35.7
      expect(refused.status).toBe(1);
      expect(refused.stderr).toContain(`kubectl v1.35.7 from dl.k8s.io does not have the SHA-256 ${PINNED_SHA256}; it is not installed`);
      expect(refused.installed).toBe(false);
      expect(refused.log).toBe('');

      const accepted = runStep(project, { sha256: FAKE_SHA256 });
      expect(accepted.stderr).toBe('');
      expect(accepted.status).toBe(0);
      expect(accepted.installed).toBe(true);
      expect(accepted.log).toContain('aws eks update-kubeconfig --name prod --region us-east-1');
    }
  });

  test('another version needs its checksum, passed to both steps', () => {
    const sha = 'b'.repeat(64);
    for (const project of eksProjects({ kubectlVersion: '1.34.10', kubectlSha256: sha })) {
      expect(project.env).toMatchObject({ KUBECTL_VERSION: '1.34.10', KUBECTL_SHA256: sha });
    }
  });

  test.each<[Partial<EksDeployTargetOptions>, RegExp]>([
    [{ kubectlVersion: '1.34.10' }, /give kubectlVersion and kubectlSha256 together/],
    [{ kubectlSha256: 'b'.repeat(64) }, /give kubectlVersion and kubectlSha256 together/],
    [{ kubectlVersion: 'v1.34', kubectlSha256: 'b'.repeat(64) }, /kubectlVersion "v1.34" must be a release version such as "1.35.7"/],
    [{ kubectlVersion: '1.34.10', kubectlSha256: 'B'.repeat(64) }, /kubectlSha256 "B+" must be 64 lower-case hexadecimal digits/],
  ])('bad input %j is refused, naming the prop', (options, message) => {
    const stack = newStack();
    expect(() => DeployTarget.eks({ cluster: eksCluster(stack), deployment: 'web', container: 'app', ...options })).toThrow(message);
  });

  test('a cluster outside kubectl\'s version skew fails the step with both versions; one minor apart passes (issue 16.11)', () => {
    const [project] = eksProjects();
    const old = runStep(project, { sha256: FAKE_SHA256, serverMinor: '33+' });
    expect(old.status).toBe(1);
    expect(old.stderr).toContain('kubectl 1.35 is outside the supported version skew of cluster prod (1.33): set kubectlVersion and kubectlSha256');
    expect(old.log).not.toContain('set image');
    for (const minor of ['34+', '35', '36']) expect(runStep(project, { sha256: FAKE_SHA256, serverMinor: minor }).status).toBe(0);
  });
});

describe('EKS steps: network and rollout', () => {
  test('vpc, subnets and security groups configure both projects, for private clusters (issue 16.10)', () => {
    const projects = eksProjects({}, (stack) => {
      const vpc = ec2.Vpc.fromVpcAttributes(stack, 'PrivateVpc', {
        vpcId: 'vpc-0a1b2c3d4e5f60718', availabilityZones: ['us-east-1a'], privateSubnetIds: ['subnet-0a1b2c3d4e5f60718'], isolatedSubnetIds: ['subnet-0f1e2d3c4b5a69788'],
      });
      return {
        vpc,
        subnetSelection: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED },
        securityGroups: [ec2.SecurityGroup.fromSecurityGroupId(stack, 'Sg', 'sg-0a1b2c3d4e5f60718')],
      };
    });
    for (const project of projects) expect(project.vpcConfig).toEqual({ VpcId: 'vpc-0a1b2c3d4e5f60718', Subnets: ['subnet-0f1e2d3c4b5a69788'], SecurityGroupIds: ['sg-0a1b2c3d4e5f60718'] });
    expect(eksProjects().every((project) => project.vpcConfig === undefined)).toBe(true);
    const stack = newStack();
    expect(() => DeployTarget.eks({ cluster: eksCluster(stack), deployment: 'web', container: 'app', securityGroups: [] })).toThrow(/subnetSelection and securityGroups need vpc/);
  });

  test('admission denying the new pods fails the deploy at once with the denial, not at the rollout timeout (issue 16.12)', () => {
    const denied = runStep(deployStep(eksProjects()), { sha256: FAKE_SHA256, rollout: 'stuck', denial: DENIAL });
    expect(denied.status).toBe(1);
    expect(denied.stderr).toContain(`Admission denied the new pods of deployment/web (replicaset web-7d4b9c): ${DENIAL}`);
    expect(denied.seconds).toBeLessThan(20);
    expect(denied.log).toMatch(/kubectl -n shop set image deployment\/web app=111122223333\.dkr\.ecr\.us-east-1\.amazonaws\.com\/web@sha256:a{64}/);
    expect(denied.log).toContain('kubectl -n shop rollout status deployment/web --timeout=20s');
  });

  test('a completed rollout passes without reading events', () => {
    const done = runStep(deployStep(eksProjects()), { sha256: FAKE_SHA256 });
    expect(done.status).toBe(0);
    expect(done.log).not.toContain('get events');
  });
});
