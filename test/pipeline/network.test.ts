import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { ecsService, nagFindings, newStack, s3Source } from './support';
import { DeployTarget, ImageVerifier, NotationSigningProfile, ScanSeverity, SignedImagePipeline, TrustPolicy } from '../../src';

function networked() {
  const stack = newStack();
  const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Network', {
    vpcId: 'vpc-0123456789abcdef0', availabilityZones: ['us-east-1a', 'us-east-1b'], privateSubnetIds: ['subnet-0a1b2c3d4e5f60001', 'subnet-0a1b2c3d4e5f60002'],
  });
  const securityGroup = ec2.SecurityGroup.fromSecurityGroupId(stack, 'Egress', 'sg-0123456789abcdef0');
  new SignedImagePipeline(stack, 'Pipeline', {
    source: s3Source(stack),
    deploy: DeployTarget.ecs({ service: ecsService(stack), containerName: 'web' }),
    scanGate: { severity: ScanSeverity.HIGH },
    network: { vpc, securityGroups: [securityGroup] },
  });
  return stack;
}

describe('SignedImagePipeline network', () => {
  test('the build and scan gate projects and the sign and verify functions run in the given subnets with the given security group', () => {
    const template = Template.fromStack(networked());
    const projects = Object.values(template.findResources('AWS::CodeBuild::Project'));
    expect(projects).toHaveLength(2);
    for (const project of projects) {
      expect(project.Properties.VpcConfig).toEqual({ VpcId: 'vpc-0123456789abcdef0', Subnets: ['subnet-0a1b2c3d4e5f60001', 'subnet-0a1b2c3d4e5f60002'], SecurityGroupIds: ['sg-0123456789abcdef0'] });
    }
    const functions = Object.entries(template.findResources('AWS::Lambda::Function')).filter(([id]) => /Signer|Verifier/.test(id));
    expect(functions).toHaveLength(2);
    for (const [, fn] of functions) expect(fn.Properties.VpcConfig).toEqual({ SubnetIds: ['subnet-0a1b2c3d4e5f60001', 'subnet-0a1b2c3d4e5f60002'], SecurityGroupIds: ['sg-0123456789abcdef0'] });
  });

  test('the functions\' roles get the network interface actions Lambda needs (its own role gets no AWSLambdaVPCAccessExecutionRole)', () => {
    const template = Template.fromStack(networked());
    for (const prefix of ['PipelineSignerServiceRoleDefaultPolicy', 'PipelineVerifierServiceRoleDefaultPolicy']) {
      const [policy] = Object.entries(template.findResources('AWS::IAM::Policy')).filter(([id]) => id.startsWith(prefix)).map(([, p]) => p);
      const statements = policy.Properties.PolicyDocument.Statement as { Action: string | string[]; Resource: unknown }[];
      const onAll = statements.filter((s) => s.Resource === '*').flatMap((s) => [s.Action].flat());
      expect(onAll).toEqual(expect.arrayContaining([
        'ec2:CreateNetworkInterface', 'ec2:DescribeNetworkInterfaces', 'ec2:DescribeSubnets',
        'ec2:DeleteNetworkInterface', 'ec2:AssignPrivateIpAddresses', 'ec2:UnassignPrivateIpAddresses',
      ]));
    }
  });

  test.each(['v2', 'v3'] as const)('cdk-nag %s clean', (version) => {
    expect(nagFindings(networked(), version).errors).toEqual([]);
  });

  test('a standalone function: vpcSubnets without vpc is refused, naming both', () => {
    const stack = newStack();
    const policy = new TrustPolicy(stack, 'Policy', { signingProfiles: [new NotationSigningProfile(stack, 'Profile')], registryScopes: ['*'] });
    expect(() => new ImageVerifier(stack, 'Verifier', { trustPolicy: policy, repositories: [], vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS } }))
      .toThrow(/vpcSubnets and securityGroups need vpc/);
  });
});
