/**
 * `npm run demo`: the whole signing story offline, in a temporary OCI image layout (no registry, no AWS, no
 * root). Creates an image, signs it with a freshly generated key, verifies it under a strict trust policy,
 * then tampers with the image and with the signature and shows each rejection with its reason. Last, it synthesizes
 * the example pipeline app and summarizes its stages, IAM statements and cdk-nag result.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { summarizeExamplePipeline } from './pipeline-summary';
import { CliIo } from '../lambda/cli/io';
import { runCli } from '../lambda/cli/main';
import { listSignatures } from '../lambda/notary/list-signatures';
import { buildSignatureManifest, parseSignatureManifest } from '../lambda/notary/signature-manifest';
import { OciLayoutRepository } from '../lambda/oci/layout-repository';
import { MediaType } from '../lambda/oci/media-types';
import { Descriptor } from '../lambda/oci/types';
import { createRandomImage, pushImage } from '../test/util/images';
import { trustPolicy, writeNotationConfig } from '../test/util/notation-config';
import { createChain } from '../test/util/pki';

interface Step {
  readonly name: string;
  readonly expected: 'verified' | 'rejected' | 'ok';
  readonly exitCode: number;
  readonly detail: string;
}

const steps: Step[] = [];

async function cli(name: string, expected: Step['expected'], argv: string[]): Promise<number> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = { stdout: (text) => (stdout += text), stderr: (text) => (stderr += text), readStdin: async () => '', env: {} };
  const exitCode = await runCli(argv, io);
  console.log(`\n$ signed-image ${argv.map((arg) => (arg.includes(' ') ? `'${arg}'` : arg)).join(' ')}`);
  const output = `${stdout}${stderr}`.trimEnd();
  if (output) console.log(output.replace(/^/gm, '  '));
  console.log(`  (exit code ${exitCode})`);
  const lastLine = output.split('\n').filter((line) => line.trim()).pop() ?? '';
  // The reason, without the signature digest and file paths that precede it.
  const reason = lastLine.replace(/^Error: /, '').replace(/^\s*sha256:[0-9a-f]{64}: /, '').replace(/"[^"]*@sha256:[0-9a-f]{64}"/, '<image>').trim();
  steps.push({ name, expected, exitCode, detail: reason.length > 100 ? `${reason.slice(0, 97)}...` : reason });
  return exitCode;
}

function heading(text: string): void {
  console.log(`\n=== ${text}`);
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'signed-image-demo-'));
  const layoutDir = join(work, 'app');
  const layout = new OciLayoutRepository(layoutDir);

  heading('1. A small image in an OCI image layout');
  const image = await pushImage(layout, createRandomImage({ layerBytes: 1024 }), 'v1');
  console.log(`  ${layoutDir}:v1 → ${image.digest}`);

  heading('2. A signing key and certificate chain (generated now: root → intermediate → code signing leaf)');
  const chain = await createChain({ keySpec: 'EC-384', leaf: { subject: 'CN=demo builder,O=Demo Org,L=Seattle,ST=WA,C=US' } });
  const keyFile = join(work, 'builder.key.pem');
  const certFile = join(work, 'builder.chain.pem');
  writeFileSync(keyFile, chain.leaf.keyPem, { mode: 0o600 });
  writeFileSync(certFile, chain.chainPem);
  const configDir = writeNotationConfig(
    trustPolicy({ registryScopes: ['local/app'], level: 'strict', trustStores: ['ca:demo'], trustedIdentities: ['x509.subject: C=US, ST=WA, O=Demo Org'] }),
    { 'ca:demo': chain.root.pem },
  );
  console.log(`  key ${keyFile}\n  chain ${certFile}\n  notation config dir ${configDir} (strict trust policy for local/app, trust store ca:demo)`);
  const untrusted = await createChain({ leaf: { subject: 'CN=somebody else,O=Other Org,ST=WA,C=US' } });
  const untrustedKey = join(work, 'other.key.pem');
  const untrustedCert = join(work, 'other.chain.pem');
  writeFileSync(untrustedKey, untrusted.leaf.keyPem, { mode: 0o600 });
  writeFileSync(untrustedCert, untrusted.chainPem);

  heading('3. Sign and verify');
  await cli('sign the image', 'ok', ['sign', '--oci-layout', '--key', keyFile, '--cert', certFile, '-m', 'build=demo-1', `${layoutDir}:v1`]);
  await cli('list its signatures', 'ok', ['list', '--oci-layout', `${layoutDir}:v1`]);
  await cli('verify under the strict policy', 'verified', ['verify', '--oci-layout', '--scope', 'local/app', '--config-dir', configDir, `${layoutDir}:v1`]);

  heading('4. Tamper with the image: a different image is pushed under the same tag');
  await pushImage(layout, createRandomImage({ layerBytes: 1024 }), 'v1');
  await cli('verify the replaced image', 'rejected', ['verify', '--oci-layout', '--scope', 'local/app', '--config-dir', configDir, `${layoutDir}:v1`]);

  heading('5. Tamper with the signature: one byte of the signature envelope changes on disk');
  const [signature] = await listSignatures(layout, image);
  const manifest = await layout.fetchManifest(signature.digest);
  const envelope = parseSignatureManifest(manifest.bytes, image).envelope;
  const blobPath = join(layoutDir, 'blobs', 'sha256', envelope.digest.slice('sha256:'.length));
  const original = readFileSync(blobPath);
  const tampered = Buffer.from(original);
  const at = tampered.indexOf('"signature":"') + 20;
  tampered[at] = tampered[at] === 0x41 ? 0x42 : 0x41;
  writeFileSync(blobPath, tampered);
  await cli('verify with a tampered signature', 'rejected', ['verify', '--oci-layout', '--scope', 'local/app', '--config-dir', configDir, `${layoutDir}@${image.digest}`]);
  writeFileSync(blobPath, original);

  heading('6. Forge a signature: change one byte of the signature value and store it with consistent digests');
  const forgedImage = await pushImage(layout, createRandomImage({ layerBytes: 1024 }), 'v3');
  await cli('sign v3', 'ok', ['sign', '--oci-layout', '--key', keyFile, '--cert', certFile, `${layoutDir}:v3`]);
  await replaceSignatureWithForgery(layout, layoutDir, forgedImage);
  await cli('verify the forged signature', 'rejected', ['verify', '--oci-layout', '--scope', 'local/app', '--config-dir', configDir, `${layoutDir}:v3`]);

  heading('7. A valid signature by a key the trust policy does not trust');
  const other = await pushImage(layout, createRandomImage({ layerBytes: 1024 }), 'v2');
  await cli('sign v2 with an untrusted key', 'ok', ['sign', '--oci-layout', '--key', untrustedKey, '--cert', untrustedCert, `${layoutDir}:v2`]);
  await cli('verify the untrusted signature', 'rejected', ['verify', '--oci-layout', '--scope', 'local/app', '--config-dir', configDir, `${layoutDir}@${other.digest}`]);

  heading('8. The original signature still verifies once the envelope is restored');
  await cli('verify the original image by digest', 'verified', ['verify', '--oci-layout', '--scope', 'local/app', '--config-dir', configDir, '-m', 'build=demo-1', `${layoutDir}@${image.digest}`]);

  heading('9. The pipeline: synthesize the example app (examples/) with cdk-nag');
  const pipeline = summarizeExamplePipeline((line) => console.log(line));
  const expectedStages = ['Source', 'Build', 'Sign', 'Deploy', 'Verify'];
  steps.push({
    name: 'synthesize the example pipeline',
    expected: 'ok',
    exitCode: pipeline.stages.join() === expectedStages.join() && pipeline.nagErrors === 0 ? 0 : 1,
    detail: '',
  });

  heading('Summary');
  let failures = 0;
  for (const step of steps) {
    const pass = step.expected === 'rejected' ? step.exitCode === 1 : step.exitCode === 0;
    if (!pass) failures++;
    const verdict = step.expected === 'rejected' ? (step.exitCode === 1 ? 'rejected' : 'NOT REJECTED') : step.exitCode === 0 ? step.expected : 'FAILED';
    console.log(`  ${pass ? 'PASS' : 'FAIL'}  ${step.name.padEnd(36)} ${verdict.padEnd(9)} ${step.expected === 'rejected' ? step.detail : ''}`.trimEnd());
  }
  console.log(`\n${steps.length - failures} of ${steps.length} steps behaved as expected. Files are in ${work}`);
  if (failures > 0) process.exitCode = 1;
}

/**
 * Replaces the image's only signature by a forgery: the same envelope with one byte of the signature value
 * changed, pushed with correct digests (so only the cryptographic check can catch it).
 */
async function replaceSignatureWithForgery(layout: OciLayoutRepository, layoutDir: string, image: Descriptor): Promise<void> {
  const [genuine] = await listSignatures(layout, image);
  const { bytes } = await layout.fetchManifest(genuine.digest);
  const envelopeDescriptor = parseSignatureManifest(bytes, image).envelope;
  const envelope = JSON.parse(Buffer.from(await layout.fetchBlob(envelopeDescriptor)).toString('utf8'));
  const signature = Buffer.from(envelope.signature, 'base64url');
  const middle = Math.floor(signature.length / 2);
  signature[middle] = signature[middle] === 0 ? 1 : signature[middle] - 1;
  envelope.signature = signature.toString('base64url');
  const forged = new TextEncoder().encode(JSON.stringify(envelope));
  const forgedDescriptor = await layout.pushBlob(forged, MediaType.JWS);
  await layout.pushBlob(new TextEncoder().encode('{}'), MediaType.OCI_EMPTY);
  const manifest = buildSignatureManifest({ subject: image, envelope: forgedDescriptor, format: 'oci-1.1', envelopeBytes: forged, signingTime: new Date() });
  await layout.pushManifest(manifest, MediaType.OCI_MANIFEST);
  // Drop the genuine signature from the layout's index, as if it had never been pushed.
  const indexPath = join(layoutDir, 'index.json');
  const index = JSON.parse(readFileSync(indexPath, 'utf8'));
  index.manifests = index.manifests.filter((entry: Descriptor) => entry.digest !== genuine.digest);
  writeFileSync(indexPath, JSON.stringify(index));
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
