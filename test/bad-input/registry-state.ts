/**
 * What the test registry holds under a name prefix: its repositories (from the catalog) and each one's
 * tags. Other suites write to the same registry at the same time, so a snapshot only looks at repositories
 * whose names start with the caller's prefix.
 */
import { plainRegistry } from '../harness/env';

export type RegistrySnapshot = Record<string, string[]>;

async function getJson<T>(path: string): Promise<T> {
  const response = await fetch(`http://${plainRegistry()}${path}`, { signal: AbortSignal.timeout(10_000) });
  if (!response.ok) throw new Error(`GET ${path} answered ${response.status}`);
  return (await response.json()) as T;
}

/** The repositories whose names start with `prefix`, with their sorted tags. */
export async function snapshot(prefix: string): Promise<RegistrySnapshot> {
  const repositories: string[] = [];
  let last = '';
  // The catalog is paged; a bounded number of pages covers every repository the suites create.
  for (let page = 0; page < 50; page++) {
    const { repositories: names = [] } = await getJson<{ repositories?: string[] }>(`/v2/_catalog?n=1000${last ? `&last=${encodeURIComponent(last)}` : ''}`);
    repositories.push(...names.filter((name) => name.startsWith(prefix)));
    if (names.length < 1000) break;
    last = names[names.length - 1];
  }
  const result: RegistrySnapshot = {};
  for (const name of repositories.sort()) {
    const { tags } = await getJson<{ tags: string[] | null }>(`/v2/${name}/tags/list`);
    result[name] = [...(tags ?? [])].sort();
  }
  return result;
}
