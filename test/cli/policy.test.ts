import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runSignedImage } from '../util/cli';

const dir = mkdtempSync(join(tmpdir(), 'signed-image-policy-'));

function policyFile(name: string, document: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof document === 'string' ? document : JSON.stringify(document));
  return path;
}

const AWS_POLICY = {
  version: '1.0',
  trustPolicies: [
    {
      name: 'aws-signer-tp',
      registryScopes: ['*'],
      signatureVerification: { level: 'strict' },
      trustStores: ['signingAuthority:aws-signer-ts'],
      trustedIdentities: ['arn:aws:signer:us-west-2:111122223333:/signing-profiles/ecr_signing_profile'],
    },
  ],
};

describe('signed-image policy validate', () => {
  test('accepts a valid policy and names its statements', async () => {
    const file = policyFile('valid.json', AWS_POLICY);
    const run = await runSignedImage(['policy', 'validate', file]);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(`Trust policy ${file} is valid: 1 statement(s): "aws-signer-tp"\n`);
  });

  test('rejects an invalid rule, naming the file, the statement and the field', async () => {
    const statement = { ...AWS_POLICY.trustPolicies[0], signatureVerification: { level: 'strict', override: { integrity: 'log' } } };
    const file = policyFile('override.json', { version: '1.0', trustPolicies: [statement] });
    const run = await runSignedImage(['policy', 'validate', file]);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain(file);
    expect(run.stderr).toContain('"aws-signer-tp"');
    expect(run.stderr).toMatch(/integrity/);
  });

  test('rejects a file that is not JSON', async () => {
    const file = policyFile('garbage.json', '{"version": "1.0", ');
    const run = await runSignedImage(['policy', 'validate', file]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(file);
  });

  test('reports a missing file', async () => {
    const run = await runSignedImage(['policy', 'validate', join(dir, 'absent.json')]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('absent.json');
  });

  test('a missing argument is a usage error', async () => {
    const run = await runSignedImage(['policy', 'validate']);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/missing required argument/);
  });
});
