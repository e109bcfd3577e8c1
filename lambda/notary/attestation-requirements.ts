/**
 * What a verifier requires of a SLSA Provenance v1 predicate: the builder, and the source it was built from.
 *
 * The source is a `buildDefinition.resolvedDependencies` entry, as SLSA's build types record it: `uri`
 * `git+<repository>@<ref>` with `digest.gitCommit` (slsa-framework/slsa-github-generator, "SLSA v1.0 build
 * type"), or `<repository>#<ref>` with `digest.sha1` (moby/buildkit docs/attestations/slsa-definitions.md).
 */
import { isPlainObject } from './encoding';

export interface ProvenanceRequirements {
  /** `runDetails.builder.id` must equal this. @default any builder */
  readonly builderId?: string;
  /** A source dependency must come from this repository (`https://github.com/org/repo`; `git+` and `.git` are ignored). @default any */
  readonly sourceRepository?: string;
  /** The source's commit (`digest.gitCommit` or `digest.sha1`) must equal this. @default any */
  readonly sourceRevision?: string;
  /** The source's ref must be `refs/heads/<this>`. @default any */
  readonly sourceBranch?: string;
}

/** A source dependency of a provenance predicate. */
export interface ProvenanceSource {
  readonly repository: string;
  readonly ref?: string;
  readonly revision?: string;
}

/** The builder id and the git sources a provenance predicate records. */
export interface ProvenanceSummary {
  readonly builderId: string;
  readonly buildType: string;
  readonly sources: readonly ProvenanceSource[];
}

export function summarizeProvenance(predicate: Record<string, unknown>): ProvenanceSummary {
  const definition = predicate.buildDefinition as Record<string, unknown>;
  const builder = (predicate.runDetails as Record<string, unknown>).builder as Record<string, unknown>;
  const dependencies = Array.isArray(definition.resolvedDependencies) ? definition.resolvedDependencies : [];
  const sources = dependencies.flatMap((dependency): ProvenanceSource[] => {
    if (!isPlainObject(dependency) || typeof dependency.uri !== 'string') return [];
    const digest = isPlainObject(dependency.digest) ? dependency.digest : {};
    const revision = [digest.gitCommit, digest.sha1].find((value): value is string => typeof value === 'string');
    const source = parseSourceUri(dependency.uri);
    if (!source || (!dependency.uri.startsWith('git+') && revision === undefined)) return [];
    return [{ ...source, ...(revision !== undefined ? { revision } : {}) }];
  });
  return { builderId: builder.id as string, buildType: definition.buildType as string, sources };
}

/** `git+https://host/repo@refs/heads/main` or `https://host/repo.git#refs/heads/main` → repository and ref. */
function parseSourceUri(uri: string): { repository: string; ref?: string } | undefined {
  const withoutScheme = uri.startsWith('git+') ? uri.slice(4) : uri;
  const match = /^([a-z][a-z0-9+.-]*:\/\/[^@#]+?)(?:[@#](.+))?$/i.exec(withoutScheme);
  if (!match) return undefined;
  return { repository: normalizeRepository(match[1]), ...(match[2] !== undefined ? { ref: match[2] } : {}) };
}

function normalizeRepository(repository: string): string {
  return repository.replace(/^git\+/, '').replace(/\/+$/, '').replace(/\.git$/, '');
}

/**
 * Why the provenance does not meet `requirements`, naming the field; undefined when it does. Every source
 * requirement must hold for one and the same source dependency.
 */
export function unmetProvenanceRequirement(summary: ProvenanceSummary, requirements: ProvenanceRequirements): string | undefined {
  if (requirements.builderId !== undefined && summary.builderId !== requirements.builderId) {
    return `runDetails.builder.id is "${summary.builderId}", not the required builder "${requirements.builderId}"`;
  }
  const { sourceRepository, sourceRevision, sourceBranch } = requirements;
  if (sourceRepository === undefined && sourceRevision === undefined && sourceBranch === undefined) return undefined;
  if (summary.sources.length === 0) {
    return 'buildDefinition.resolvedDependencies records no git source, so the required source cannot be checked';
  }
  const wantedRepository = sourceRepository === undefined ? undefined : normalizeRepository(sourceRepository);
  const fromRepository = summary.sources.filter((source) => wantedRepository === undefined || source.repository === wantedRepository);
  if (fromRepository.length === 0) {
    return `source repository: no buildDefinition.resolvedDependencies entry is from "${wantedRepository}" (found ${summary.sources.map((source) => `"${source.repository}"`).join(', ')})`;
  }
  if (sourceRevision !== undefined) {
    const atRevision = fromRepository.filter((source) => source.revision === sourceRevision);
    if (atRevision.length === 0) {
      return `source revision: the source was built at ${fromRepository.map((source) => `"${source.revision ?? 'no digest'}"`).join(', ')}, not the required "${sourceRevision}"`;
    }
    if (sourceBranch !== undefined && !atRevision.some((source) => source.ref === `refs/heads/${sourceBranch}`)) {
      return `source branch: the source ref is ${atRevision.map((source) => `"${source.ref ?? 'none'}"`).join(', ')}, not the required "refs/heads/${sourceBranch}"`;
    }
    return undefined;
  }
  if (sourceBranch !== undefined && !fromRepository.some((source) => source.ref === `refs/heads/${sourceBranch}`)) {
    return `source branch: the source ref is ${fromRepository.map((source) => `"${source.ref ?? 'none'}"`).join(', ')}, not the required "refs/heads/${sourceBranch}"`;
  }
  return undefined;
}
