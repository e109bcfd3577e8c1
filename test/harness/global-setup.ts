import { randomBytes } from 'node:crypto';
import { RunningRegistry, startRegistry } from './distribution-registry';
import { TEST_ENV } from './env';

declare global {
  // eslint-disable-next-line no-var
  var __SIGNED_IMAGE_REGISTRIES__: RunningRegistry[] | undefined;
}

/** Starts two real distribution registries on loopback: one plain, one with htpasswd basic auth. */
export default async function globalSetup(): Promise<void> {
  const username = 'tester';
  const password = randomBytes(12).toString('hex');
  const [plain, withAuth] = await Promise.all([
    startRegistry(),
    startRegistry({ basicAuth: { username, password } }),
  ]);
  globalThis.__SIGNED_IMAGE_REGISTRIES__ = [plain, withAuth];
  process.env[TEST_ENV.plainRegistry] = plain.host;
  process.env[TEST_ENV.authRegistry] = withAuth.host;
  process.env[TEST_ENV.authUsername] = username;
  process.env[TEST_ENV.authPassword] = password;
}
