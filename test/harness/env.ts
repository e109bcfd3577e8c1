/**
 * The registries started by the jest global setup, shared by all test files through the environment
 * (global setup runs before the workers start, so they inherit it).
 */
export const TEST_ENV = {
  plainRegistry: 'SIGNED_IMAGE_TEST_REGISTRY',
  authRegistry: 'SIGNED_IMAGE_TEST_AUTH_REGISTRY',
  authUsername: 'SIGNED_IMAGE_TEST_AUTH_USERNAME',
  authPassword: 'SIGNED_IMAGE_TEST_AUTH_PASSWORD',
} as const;

function required(name: string): string {
  const value = process.env[name];
  if (!value) {
    throw new Error(`${name} is not set: the jest global setup (test/harness/global-setup.ts) did not run`);
  }
  return value;
}

/** `127.0.0.1:<port>` of the plain-HTTP distribution registry without auth. */
export function plainRegistry(): string {
  return required(TEST_ENV.plainRegistry);
}

/** The distribution registry with htpasswd basic auth, and its credentials. */
export function authRegistry(): { host: string; username: string; password: string } {
  return {
    host: required(TEST_ENV.authRegistry),
    username: required(TEST_ENV.authUsername),
    password: required(TEST_ENV.authPassword),
  };
}
