/**
 * The README quick start's first command, `npm run demo` (scripts/demo.ts), as a user runs it: every step behaves
 * as it says (sign, list, verify, and each tampering rejected for its reason), and the example pipeline synthesizes.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const ROOT = join(__dirname, '..');

test('npm run demo: 11 of 11 steps behave as expected, offline', () => {
  const run = spawnSync(process.execPath, [join(ROOT, 'node_modules', 'tsx', 'dist', 'cli.mjs'), join(ROOT, 'scripts', 'demo.ts')], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 240_000,
  });
  expect(run.stdout).not.toMatch(/^\s*FAIL /m);
  expect(run.stdout).toMatch(/^\s*PASS\s+verify under the strict policy\s+verified/m);
  expect(run.stdout).toMatch(/^\s*PASS\s+verify the untrusted signature\s+rejected\s+signature is not produced by a trusted signer/m);
  expect(run.stdout).toContain('11 of 11 steps behaved as expected.');
  expect(run.status).toBe(0);
}, 300_000);
