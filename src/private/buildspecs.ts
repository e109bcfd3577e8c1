/**
 * The pipeline's CodeBuild buildspecs. Shell kept small and strict (`set -eu` semantics per command), so a
 * security reviewer can read exactly what runs with the build role.
 */

/** Builds and pushes the image; exports the digest the registry returned (never recomputed). */
export function imageBuildSpec(): Record<string, unknown> {
  return {
    version: '0.2',
    env: {
      'shell': 'bash',
      'exported-variables': ['IMAGE_URI', 'IMAGE_DIGEST', 'IMAGE_TAG', 'SOURCE_REVISION', 'CODEBUILD_BUILD_ARN'],
    },
    phases: {
      pre_build: {
        'on-failure': 'ABORT',
        'commands': [
          'set -euo pipefail',
          'IMAGE_URI="$REPOSITORY_URI"',
          'IMAGE_TAG="build-${CODEBUILD_BUILD_NUMBER}"',
          'SOURCE_REVISION="${CODEBUILD_RESOLVED_SOURCE_VERSION:-unknown}"',
          'aws ecr get-login-password --region "$AWS_REGION" | docker login --username AWS --password-stdin "${REPOSITORY_URI%%/*}"',
        ],
      },
      build: {
        'on-failure': 'ABORT',
        'commands': [
          'set -euo pipefail',
          'docker build --file "$DOCKERFILE" --tag "$IMAGE_URI:$IMAGE_TAG" $DOCKER_BUILD_ARGS "$DOCKER_CONTEXT"',
          'docker push "$IMAGE_URI:$IMAGE_TAG" | tee push.log',
          // The digest the registry returned for the pushed manifest; from here on the image is referenced by it.
          "IMAGE_DIGEST=$(sed -n 's/.*digest: \\(sha256:[0-9a-f]\\{64\\}\\).*/\\1/p' push.log | tail -n 1)",
          'test -n "$IMAGE_DIGEST" || { echo "docker push did not report the pushed digest" >&2; exit 1; }',
          'echo "Pushed $IMAGE_URI@$IMAGE_DIGEST"',
          'printf \'[{"name":"%s","imageUri":"%s@%s"}]\' "$CONTAINER_NAME" "$IMAGE_URI" "$IMAGE_DIGEST" > imagedefinitions.json',
        ],
      },
    },
    artifacts: { files: ['imagedefinitions.json'] },
  };
}

/** Waits (bounded) for the ECR scan of the image and fails when findings reach the blocking severities. */
export function scanGateBuildSpec(): Record<string, unknown> {
  return {
    version: '0.2',
    env: { shell: 'bash' },
    phases: {
      build: {
        commands: [
          'set -euo pipefail',
          'echo "Waiting up to ${SCAN_WAIT_SECONDS}s for the scan of $REPOSITORY_NAME@$IMAGE_DIGEST"',
          'deadline=$((SECONDS + SCAN_WAIT_SECONDS))',
          'until status=$(aws ecr describe-image-scan-findings --repository-name "$REPOSITORY_NAME" --image-id imageDigest="$IMAGE_DIGEST" ' +
            "--query 'imageScanStatus.status' --output text 2>/dev/null) && [ \"$status\" = COMPLETE ]; do " +
            'if [ $SECONDS -ge $deadline ]; then echo "The image scan did not complete within ${SCAN_WAIT_SECONDS}s (status: ${status:-none}); signing is blocked" >&2; exit 1; fi; ' +
            'sleep 10; done',
          'aws ecr describe-image-scan-findings --repository-name "$REPOSITORY_NAME" --image-id imageDigest="$IMAGE_DIGEST" ' +
            "--query 'imageScanFindings.findingSeverityCounts' --output json > counts.json",
          'cat counts.json',
          'blocked=0; for severity in $BLOCKING_SEVERITIES; do ' +
            'count=$(python3 -c "import json,sys; print((json.load(open(\'counts.json\')) or {}).get(sys.argv[1], 0))" "$severity"); ' +
            'if [ "$count" -gt 0 ]; then echo "$count $severity finding(s) in $REPOSITORY_NAME@$IMAGE_DIGEST" >&2; blocked=1; fi; done',
          'if [ $blocked -ne 0 ]; then echo "Signing is blocked: findings at or above $SEVERITY_THRESHOLD" >&2; exit 1; fi',
          'echo "No findings at or above $SEVERITY_THRESHOLD"',
        ],
      },
    },
  };
}

const KUBECONFIG_COMMANDS = [
  'set -euo pipefail',
  'curl -sSfL -o /usr/local/bin/kubectl "https://dl.k8s.io/release/v${KUBECTL_VERSION}/bin/linux/amd64/kubectl"',
  'chmod +x /usr/local/bin/kubectl',
  'aws eks update-kubeconfig --name "$CLUSTER_NAME" --region "$AWS_REGION"',
];

/** Sets the Deployment's container image by digest and waits for the rollout (as in the AWS Security blog's flow). */
export function eksDeployBuildSpec(): Record<string, unknown> {
  return kubectlBuildSpec([
    'kubectl -n "$NAMESPACE" set image "deployment/$DEPLOYMENT" "$CONTAINER=$IMAGE_URI@$IMAGE_DIGEST"',
    'kubectl -n "$NAMESPACE" rollout status "deployment/$DEPLOYMENT" --timeout=10m',
  ]);
}

/** Checks that every pod of the Deployment runs the signed digest in the container. */
export function eksCheckBuildSpec(): Record<string, unknown> {
  return kubectlBuildSpec([
    'selector=$(kubectl -n "$NAMESPACE" get deployment "$DEPLOYMENT" -o go-template=\'{{range $k, $v := .spec.selector.matchLabels}}{{$k}}={{$v}},{{end}}\')',
    'kubectl -n "$NAMESPACE" get pods -l "${selector%,}" --field-selector=status.phase=Running ' +
      '-o go-template=\'{{range .items}}{{$pod := .metadata.name}}{{range .status.containerStatuses}}{{$pod}} {{.name}} {{.imageID}}{{"\\n"}}{{end}}{{end}}\' ' +
      '| awk -v c="$CONTAINER" \'$2 == c { print $1, $3 }\' > running.txt',
    'test -s running.txt || { echo "deployment/$DEPLOYMENT in namespace $NAMESPACE has no running pod with container $CONTAINER" >&2; exit 1; }',
    'while read -r pod image; do case "$image" in *"@$IMAGE_DIGEST") echo "pod $pod runs $IMAGE_DIGEST";; ' +
      '*) echo "pod $pod in namespace $NAMESPACE runs $image, not the signed $IMAGE_DIGEST" >&2; exit 1;; esac; done < running.txt',
  ]);
}

/** A buildspec that installs kubectl, points it at the cluster, then runs `commands` strictly. */
function kubectlBuildSpec(commands: string[]): Record<string, unknown> {
  return {
    version: '0.2',
    env: { shell: 'bash' },
    phases: {
      install: { commands: KUBECONFIG_COMMANDS },
      build: { commands: ['set -euo pipefail', ...commands] },
    },
  };
}
