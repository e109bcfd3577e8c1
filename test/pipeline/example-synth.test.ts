/**
 * `npx cdk synth SignedServiceExample > template.yaml` in examples/: the CLI prints the template on stdout, and the
 * app (examples/cdk.json: the bundle script, then the app) runs with the CLI's stdout, so both must keep it clean.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { ENV } from './support';
import { EnforcedServiceStack } from '../../examples/enforced-service-stack';
import { SignedServiceStack } from '../../examples/signed-service-stack';

const ROOT = join(__dirname, '..', '..');

describe('the example app writes nothing but the template to stdout', () => {
  test('the bundle script reports on stderr', () => {
    const outdir = mkdtempSync(join(tmpdir(), 'bundle-'));
    try {
      const run = spawnSync(process.execPath, [join(ROOT, 'scripts', 'bundle.mjs'), '--outdir', outdir], { encoding: 'utf8', timeout: 120_000 });
      expect(run.status).toBe(0);
      expect(run.stdout).toBe('');
      expect(run.stderr).toMatch(/^bundled \d+ entry points/);
      expect(existsSync(join(outdir, 'sign-handler', 'index.js'))).toBe(true);
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });

  test('the app itself prints nothing while it synthesizes both stacks with cdk-nag', () => {
    const outdir = mkdtempSync(join(tmpdir(), 'cdk-out-'));
    try {
      const run = spawnSync(join(ROOT, 'node_modules', '.bin', 'tsx'), ['main.ts'], {
        cwd: join(ROOT, 'examples'),
        encoding: 'utf8',
        timeout: 180_000,
        // What the CDK CLI passes its app (aws-cdk-lib cx-api: CDK_OUTDIR, CDK_CONTEXT_JSON).
        env: { ...process.env, CDK_OUTDIR: outdir, CDK_CONTEXT_JSON: '{}' },
      });
      expect(run.stderr).not.toMatch(/Error/);
      expect(run.status).toBe(0);
      expect(run.stdout).toBe('');
      expect(existsSync(join(outdir, 'SignedServiceExample.template.json'))).toBe(true);
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });
});

describe('the example app', () => {
  test('every log group (the pipeline\'s, the service\'s, the VPC flow logs) is deleted with its stack (the example uses RemovalPolicy.DESTROY)', () => {
    const app = new App();
    for (const stack of [new SignedServiceStack(app, 'SignedServiceExample', { env: ENV }), new EnforcedServiceStack(app, 'EnforcedServiceExample', { env: ENV })]) {
      const groups = Object.entries(Template.fromStack(stack).findResources('AWS::Logs::LogGroup'));
      expect(groups.length).toBeGreaterThan(1);
      for (const [id, group] of groups) expect({ id, policy: group.DeletionPolicy }).toEqual({ id, policy: 'Delete' });
    }
  });
});

describe('the example\'s first execution', () => {
  const app = new App();
  const template = Template.fromStack(new SignedServiceStack(app, 'SignedServiceExample', { env: ENV }));

  test('the placeholder container sets no command, so the deployed signed image starts with its own CMD', () => {
    const [definition] = Object.values(template.findResources('AWS::ECS::TaskDefinition'));
    const web = definition.Properties.ContainerDefinitions.find((c: { Name: string }) => c.Name === 'web');
    expect(web.Command).toBeUndefined();
    expect(web.EntryPoint).toBeUndefined();
  });

  test('examples/service is uploaded to the source key before the pipeline (which runs once on creation) exists', () => {
    const [[uploadId, upload]] = Object.entries(template.findResources('Custom::CDKBucketDeployment'));
    expect(upload.Properties.Extract).toBe(false);
    const [pipeline] = Object.values(template.findResources('AWS::CodePipeline::Pipeline'));
    expect(pipeline.DependsOn).toContain(uploadId);
    const key = template.toJSON().Outputs.SourceObjectKey.Value;
    expect(pipeline.Properties.Stages[0].Actions[0].Configuration.S3ObjectKey).toEqual(key);
    expect(template.toJSON().Outputs.SourceBucketName).toBeDefined();
  });
});
