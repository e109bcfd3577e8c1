import { stopRegistry } from './distribution-registry';

/** Stops the registries started by the global setup, by PID, and removes their storage. */
export default async function globalTeardown(): Promise<void> {
  for (const registry of globalThis.__SIGNED_IMAGE_REGISTRIES__ ?? []) {
    stopRegistry(registry);
  }
}
