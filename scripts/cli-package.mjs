// Builds the standalone `signed-image-cli` npm package into dist/cli-package (or the directory given as the first
// argument): the bundled CLI, which carries all its dependencies, and a package.json without dependencies, so a
// security team installs the CLI with `npm install -g` without aws-cdk-lib and the construct library.
// Run after `npx projen bundle`; the package task then smoke-tests the bin.
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = resolve(process.argv[2] ?? join(ROOT, 'dist', 'cli-package'));
const bundle = join(ROOT, 'assets', 'cli', 'index.js');
if (!existsSync(bundle)) throw new Error(`${bundle} is missing: run npx projen bundle first`);

const library = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, 'bin'), { recursive: true });
copyFileSync(bundle, join(out, 'bin', 'signed-image.js'));
chmodSync(join(out, 'bin', 'signed-image.js'), 0o755);
copyFileSync(join(ROOT, 'LICENSE'), join(out, 'LICENSE'));
const manifest = {
  name: 'signed-image-cli',
  version: library.version,
  description: 'The signed-image CLI of cdk-signed-image-pipeline alone: sign and verify container images as Notary Project signatures (notation compatible), with AWS Signer built in',
  license: library.license,
  repository: library.repository,
  keywords: ['notation', 'notary', 'aws-signer', 'container', 'signing', 'cli'],
  bin: { 'signed-image': 'bin/signed-image.js' },
  files: ['bin/signed-image.js', 'LICENSE', 'README.md'],
  engines: { node: library.engines?.node ?? '>= 22.0.0' },
};
writeFileSync(join(out, 'package.json'), `${JSON.stringify(manifest, undefined, 2)}\n`);
writeFileSync(
  join(out, 'README.md'),
  `# signed-image-cli\n\nThe \`signed-image\` CLI of [cdk-signed-image-pipeline](${library.homepage ?? library.repository?.url ?? ''}) as a ` +
    'package without dependencies (the bundle carries them):\n\n```sh\nnpm install -g signed-image-cli\nsigned-image --help\n```\n\n' +
    'Its commands and flags follow notation 1.x; see the "signed-image CLI" section of the construct library\'s README.\n',
);
console.log(`wrote ${out} (signed-image-cli ${manifest.version})`);
