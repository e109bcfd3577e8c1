/**
 * The EKS running-digest check and `set image`, run as CodeBuild runs them: the buildspec's build commands in one
 * bash, with a fake `kubectl` on PATH that answers with fixture objects in the shape `kubectl get -o json` gives
 * (apps/v1 Deployment, v1 PodList) and records what it was asked. jq is the real one (CodeBuild's standard image has it).
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eksCheckBuildSpec, eksDeployBuildSpec } from '../../src/private/buildspecs';

const REPOSITORY = '111122223333.dkr.ecr.us-east-1.amazonaws.com/shop/web';
const DIGEST = `sha256:${'a'.repeat(64)}`;
const OLD_DIGEST = `sha256:${'b'.repeat(64)}`;
/** Platform manifests of the index DIGEST, which the gate verified with it. */
const AMD64 = `sha256:${'c'.repeat(64)}`;
const ARM64 = `sha256:${'d'.repeat(64)}`;

const FAKE_KUBECTL = `#!/usr/bin/env bash
set -eu
echo "$*" >> "$FIXTURES/calls.txt"
case " $* " in
  *" get deployment "*) cat "$FIXTURES/deployment.json" ;;
  *" get pods "*)
    while [ $# -gt 0 ]; do if [ "$1" = "-l" ]; then printf '%s' "$2" > "$FIXTURES/selector.txt"; fi; shift; done
    cat "$FIXTURES/pods.json" ;;
  *" set image "*|*" rollout status "*|*" get replicasets "*|*" get events "*) echo "fake kubectl: $*" ;;
  *) echo "fake kubectl: unexpected arguments: $*" >&2; exit 2 ;;
esac
`;

interface Pod {
  readonly name: string;
  readonly image?: string;
  readonly imageID?: string;
  readonly phase?: string;
  readonly terminating?: boolean;
  readonly container?: string;
}

function podList(pods: Pod[]) {
  return {
    apiVersion: 'v1',
    kind: 'List',
    items: pods.map((pod) => ({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: pod.name,
        namespace: 'shop',
        labels: { app: 'web' },
        ...(pod.terminating ? { deletionTimestamp: '2026-12-01T10:00:00Z', deletionGracePeriodSeconds: 30 } : {}),
      },
      spec: { containers: [{ name: pod.container ?? 'app', image: pod.image ?? `${REPOSITORY}@${DIGEST}` }, { name: 'sidecar', image: 'envoy:v1' }] },
      status: {
        phase: pod.phase ?? 'Running',
        containerStatuses: [
          { name: pod.container ?? 'app', image: pod.image ?? `${REPOSITORY}@${DIGEST}`, imageID: pod.imageID ?? `${REPOSITORY}@${DIGEST}`, ready: true },
          { name: 'sidecar', image: 'envoy:v1', imageID: `docker.io/library/envoy@${OLD_DIGEST}`, ready: true },
        ],
      },
    })),
  };
}

const DEPLOYMENT = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', namespace: 'shop' },
  spec: {
    selector: {
      matchLabels: { app: 'web' },
      matchExpressions: [
        { key: 'tier', operator: 'In', values: ['frontend', 'canary'] },
        { key: 'legacy', operator: 'DoesNotExist' },
        { key: 'track', operator: 'NotIn', values: ['debug'] },
        { key: 'team', operator: 'Exists' },
      ],
    },
  },
};

/** Runs a buildspec's build phase in a temp dir with the fake kubectl; returns its exit code, output and what kubectl saw. */
function runBuild(buildSpec: Record<string, any>, fixtures: { deployment?: unknown; pods?: unknown }, env: Record<string, string> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'eks-check-'));
  try {
    // The fixtures and the fake kubectl live apart from the build's working directory, which the commands write to.
    const bin = join(dir, 'bin');
    const work = join(dir, 'work');
    mkdirSync(bin);
    mkdirSync(work);
    writeFileSync(join(bin, 'kubectl'), FAKE_KUBECTL);
    chmodSync(join(bin, 'kubectl'), 0o755);
    writeFileSync(join(bin, 'deployment.json'), JSON.stringify(fixtures.deployment ?? DEPLOYMENT));
    writeFileSync(join(bin, 'pods.json'), JSON.stringify(fixtures.pods ?? podList([])));
    const script = (buildSpec.phases.build.commands as string[]).join('\n');
    const result = spawnSync('bash', ['-c', script], {
      cwd: work,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        PATH: `${bin}:${process.env.PATH}`,
        HOME: dir,
        FIXTURES: bin,
        NAMESPACE: 'shop',
        DEPLOYMENT: 'web',
        CONTAINER: 'app',
        IMAGE_URI: REPOSITORY,
        IMAGE_DIGEST: DIGEST,
        ...env,
      },
    });
    const read = (name: string) => {
      try {
        return readFileSync(join(bin, name), 'utf8');
      } catch {
        return undefined;
      }
    };
    return { status: result.status, stdout: result.stdout, stderr: result.stderr, selector: read('selector.txt'), calls: read('calls.txt') ?? '' };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const check = (pods: Pod[], env?: Record<string, string>, deployment?: unknown) =>
  runBuild(eksCheckBuildSpec(), { pods: podList(pods), deployment }, env);

describe('EKS running-digest check (the buildspec commands against kubectl output)', () => {
  test('passes when every pod runs the verified digest, selecting pods with the whole selector (matchLabels and matchExpressions)', () => {
    const result = check([{ name: 'web-1' }, { name: 'web-2' }]);
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.selector).toBe('app=web,tier in (frontend,canary),!legacy,track notin (debug),team');
    expect(result.stdout).toContain(`ok pod web-1 runs ${DIGEST}`);
    expect(result.stdout).toContain(`ok pod web-2 runs ${DIGEST}`);
  });

  test('a selector of matchExpressions only is used whole', () => {
    const deployment = { ...DEPLOYMENT, spec: { selector: { matchExpressions: [{ key: 'app', operator: 'In', values: ['web'] }] } } };
    const result = check([{ name: 'web-1' }], {}, deployment);
    expect(result.status).toBe(0);
    expect(result.selector).toBe('app in (web)');
  });

  test('fails for a pod that runs another digest, naming the pod and the digest', () => {
    const result = check([{ name: 'web-1' }, { name: 'web-2', imageID: `${REPOSITORY}@${OLD_DIGEST}` }]);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`fail pod web-2 container app runs ${REPOSITORY}@${OLD_DIGEST}, not the verified ${DIGEST}`);
  });

  test('fails for a longer digest that starts with the verified one (the comparison is exact)', () => {
    const result = check([{ name: 'web-1', imageID: `${REPOSITORY}@${DIGEST}00` }]);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`runs ${REPOSITORY}@${DIGEST}00, not the verified ${DIGEST}`);
  });

  test('fails for an image ID that merely ends with the digest without the "@" (docker-pullable forms included, exact after the last @)', () => {
    expect(check([{ name: 'web-1', imageID: `docker-pullable://${REPOSITORY}@${DIGEST}` }]).status).toBe(0);
    const result = check([{ name: 'web-1', imageID: `${REPOSITORY}-${DIGEST}` }]);
    expect(result.status).toBe(1);
  });

  test('fails for a pod whose container is set to a tag, even when the running image ID has the digest', () => {
    const result = check([{ name: 'web-1', image: `${REPOSITORY}:latest` }]);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`fail pod web-1 container app is set to ${REPOSITORY}:latest, not the verified ${REPOSITORY}@${DIGEST}`);
  });

  test('a terminating old pod is left out and listed; the same pod not terminating fails the check', () => {
    const old = { name: 'web-old', image: `${REPOSITORY}@${OLD_DIGEST}`, imageID: `${REPOSITORY}@${OLD_DIGEST}` };
    const terminating = check([{ name: 'web-1' }, { ...old, terminating: true }]);
    expect(terminating.status).toBe(0);
    expect(terminating.stdout).toContain('skip pod web-old is terminating; not checked');

    const running = check([{ name: 'web-1' }, old]);
    expect(running.status).toBe(1);
    expect(running.stderr).toContain('fail pod web-old');
  });

  test('finished pods are left out; a pending pod set to the verified image is listed and not yet counted', () => {
    const result = check([{ name: 'web-1' }, { name: 'evicted', phase: 'Failed', imageID: `${REPOSITORY}@${OLD_DIGEST}` }, { name: 'web-new', phase: 'Pending', imageID: '' }]);
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('skip pod evicted has finished (Failed)');
    expect(result.stdout).toContain('skip pod web-new is Pending and has not started app yet');
  });

  test('fails when no pod runs the container, or a pod lacks it', () => {
    const none = check([]);
    expect(none.status).toBe(1);
    expect(none.stderr).toContain('has no running pod with container app');
    const other = check([{ name: 'web-1', container: 'main' }]);
    expect(other.status).toBe(1);
    expect(other.stderr).toContain('fail pod web-1 has no container app');
  });

  describe('a multi-arch image: VERIFIED_DIGESTS lists the index and the manifests the gate verified', () => {
    const verified = { VERIFIED_DIGESTS: [DIGEST, AMD64, ARM64].join(',') };

    test('pods reporting the index or a verified platform manifest as their image ID pass', () => {
      const result = check([{ name: 'web-1' }, { name: 'web-2', imageID: `${REPOSITORY}@${ARM64}` }], verified);
      expect(result.stderr).toBe('');
      expect(result.status).toBe(0);
      expect(result.stdout).toContain(`ok pod web-1 runs ${DIGEST}`);
      expect(result.stdout).toContain(`ok pod web-2 runs ${ARM64}, a manifest of the verified ${DIGEST}`);
    });

    test('a pod reporting an unrelated digest fails; so does a platform manifest when the action passes no list', () => {
      const unrelated = check([{ name: 'web-1', imageID: `${REPOSITORY}@${AMD64}` }, { name: 'web-2', imageID: `${REPOSITORY}@${OLD_DIGEST}` }], verified);
      expect(unrelated.status).toBe(1);
      expect(unrelated.stderr).toContain(`fail pod web-2 container app runs ${REPOSITORY}@${OLD_DIGEST}, not the verified ${DIGEST}`);
      expect(unrelated.stderr).not.toContain('web-1');

      const withoutList = check([{ name: 'web-1', imageID: `${REPOSITORY}@${AMD64}` }]);
      expect(withoutList.status).toBe(1);
      expect(withoutList.stderr).toContain(`fail pod web-1 container app runs ${REPOSITORY}@${AMD64}, not the verified ${DIGEST}`);
    });

    test('the pod spec must still name the verified index: a platform manifest set as the image fails', () => {
      const result = check([{ name: 'web-1', image: `${REPOSITORY}@${AMD64}`, imageID: `${REPOSITORY}@${AMD64}` }], verified);
      expect(result.status).toBe(1);
      expect(result.stderr).toContain(`is set to ${REPOSITORY}@${AMD64}, not the verified ${REPOSITORY}@${DIGEST}`);
    });

    test.each([
      ['a list that does not start with IMAGE_DIGEST', [AMD64, DIGEST].join(',')],
      ['a list of something else', `${DIGEST},latest`],
      ['a prefix of a digest', `${DIGEST},sha256:abc`],
    ])('refuses %s before asking kubectl anything', (_name, list) => {
      const result = check([{ name: 'web-1' }], { VERIFIED_DIGESTS: list });
      expect(result.status).toBe(1);
      expect(result.stderr).toContain('VERIFIED_DIGESTS must be the digests the verify gate verified');
      expect(result.calls).toBe('');
    });
  });

  test.each([
    ['an empty digest', { IMAGE_DIGEST: '' }],
    ['a short digest', { IMAGE_DIGEST: 'sha256:abc' }],
    ['a repository with a tag', { IMAGE_URI: `${REPOSITORY}:v1` }],
    ['a repository with a digest', { IMAGE_URI: `${REPOSITORY}@${DIGEST}` }],
  ])('refuses %s from the action before asking kubectl anything', (_name, env) => {
    const result = check([{ name: 'web-1' }], env);
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('IMAGE_URI and IMAGE_DIGEST must be the verified repository and digest');
    expect(result.calls).toBe('');
  });
});

describe('EKS deploy (set image)', () => {
  test('sets the container to the verified repository pinned by the verified digest, then waits for the rollout', () => {
    const result = runBuild(eksDeployBuildSpec(), {});
    expect(result.status).toBe(0);
    const calls = result.calls.trim().split('\n');
    expect(calls[0]).toBe(`-n shop set image deployment/web app=${REPOSITORY}@${DIGEST}`);
    expect(calls.some((call) => call.startsWith('-n shop rollout status deployment/web'))).toBe(true);
  });

  test('refuses a tag instead of a digest', () => {
    const result = runBuild(eksDeployBuildSpec(), {}, { IMAGE_DIGEST: 'latest' });
    expect(result.status).toBe(1);
    expect(result.calls).toBe('');
  });
});
