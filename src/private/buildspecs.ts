/**
 * The pipeline's CodeBuild buildspecs. Shell kept small and strict (`set -eu` semantics per command), so a
 * security reviewer can read exactly what runs with the build role.
 */

/**
 * The variables the Build stage's later actions read from the build (`#{Build.<name>}`): a buildspec of one's own
 * must export them.
 */
export const IMAGE_BUILD_EXPORTS = ['IMAGE_URI', 'IMAGE_DIGEST', 'SOURCE_REVISION', 'CODEBUILD_BUILD_ARN'];

/** Builds and pushes the image; exports the digest the registry returned (never recomputed). */
export function imageBuildSpec(): Record<string, unknown> {
  return {
    version: '0.2',
    env: {
      'shell': 'bash',
      'exported-variables': [...IMAGE_BUILD_EXPORTS, 'IMAGE_TAG'],
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
          // Each build argument NAME comes from the variable BUILD_ARG_NAME, as one word: no value is parsed by the shell.
          'build_args=(); for name in $DOCKER_BUILD_ARG_NAMES; do value_var="BUILD_ARG_${name}"; build_args+=(--build-arg "${name}=${!value_var}"); done; ' +
            'docker build --file "$DOCKERFILE" --tag "$IMAGE_URI:$IMAGE_TAG" "${build_args[@]}" "$DOCKER_CONTEXT"',
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

/**
 * The kubectl release the EKS steps install by default, and the SHA-256 of its linux/amd64 binary as dl.k8s.io
 * publishes it (`v1.35.7/bin/linux/amd64/kubectl.sha256`), recorded in kubernetes/kops
 * `pkg/assets/assetdata/k8s-1.35.yaml` at 268927e26409f861634e18f3632c9dd483c350cf (generated from dl.k8s.io) and
 * identical in rancher's kubectl pins for v1.35.7.
 */
export const DEFAULT_KUBECTL_VERSION = '1.35.7';
export const DEFAULT_KUBECTL_SHA256 = '12e97f9d23a9f6cbb87b89becd6bd291e1a858a3379a4e11e2c822c4c1530052';

const KUBECONFIG_COMMANDS = [
  'set -euo pipefail',
  'download=$(mktemp -d)',
  'curl -sSfL -o "$download/kubectl" "https://dl.k8s.io/release/v${KUBECTL_VERSION}/bin/linux/amd64/kubectl"',
  'echo "$KUBECTL_SHA256  $download/kubectl" | sha256sum --check --status || ' +
    '{ echo "kubectl v$KUBECTL_VERSION from dl.k8s.io does not have the SHA-256 $KUBECTL_SHA256; it is not installed" >&2; exit 1; }',
  'install -m 0755 "$download/kubectl" /usr/local/bin/kubectl',
  'aws eks update-kubeconfig --name "$CLUSTER_NAME" --region "$AWS_REGION"',
  // kubectl supports API servers one minor version older or newer (https://kubernetes.io/releases/version-skew-policy/).
  'minors=$(kubectl version -o json | python3 -c \'import json,re,sys; v=json.load(sys.stdin); ' +
    'print(*(re.sub("[^0-9]", "", v[k]["minor"]) for k in ("clientVersion", "serverVersion")))\')',
  'read -r client server <<< "$minors"',
  'if [ $((client - server)) -gt 1 ] || [ $((server - client)) -gt 1 ]; then ' +
    'echo "kubectl 1.$client is outside the supported version skew of cluster $CLUSTER_NAME (1.$server): set kubectlVersion and kubectlSha256" >&2; exit 1; fi',
];

/** Refuses to go on unless the variables the action passes (from the verify gate) are a repository and a digest. */
const VERIFIED_IMAGE_GUARD =
  '[[ "$IMAGE_DIGEST" =~ ^sha256:[0-9a-f]{64}$ && "$IMAGE_URI" == */* && "$IMAGE_URI" != *@* && "${IMAGE_URI##*/}" != *:* ]] || ' +
  '{ echo "IMAGE_URI and IMAGE_DIGEST must be the verified repository and digest (#{DeployGate.IMAGE_URI}, #{DeployGate.IMAGE_DIGEST}), got \'$IMAGE_URI\' and \'$IMAGE_DIGEST\'" >&2; exit 1; }';

/** Sets the Deployment's container image by the verified digest and waits for the rollout (as in the AWS Security blog's flow). */
export function eksDeployBuildSpec(): Record<string, unknown> {
  return kubectlBuildSpec([
    VERIFIED_IMAGE_GUARD,
    'kubectl -n "$NAMESPACE" set image "deployment/$DEPLOYMENT" "$CONTAINER=$IMAGE_URI@$IMAGE_DIGEST"',
    // Waits for the rollout, failing at once with the reason when admission denies the new ReplicaSet's pods
    // (a FailedCreate event "admission webhook ... denied the request"), instead of at the timeout.
    'deadline=$((SECONDS + 600))',
    'until kubectl -n "$NAMESPACE" rollout status "deployment/$DEPLOYMENT" --timeout=20s; do ' +
      'revision=$(kubectl -n "$NAMESPACE" get deployment "$DEPLOYMENT" -o go-template=\'{{index .metadata.annotations "deployment.kubernetes.io/revision"}}\'); ' +
      'replicaset=$(kubectl -n "$NAMESPACE" get replicasets -o go-template="{{range .items}}{{\\$rs := .}}{{range .metadata.ownerReferences}}' +
      '{{if and (eq .kind \\"Deployment\\") (eq .name \\"$DEPLOYMENT\\")}}{{if eq (index \\$rs.metadata.annotations \\"deployment.kubernetes.io/revision\\") \\"$revision\\"}}' +
      '{{\\$rs.metadata.name}}{{end}}{{end}}{{end}}{{end}}"); ' +
      'denial=$(kubectl -n "$NAMESPACE" get events --field-selector "involvedObject.kind=ReplicaSet,involvedObject.name=$replicaset,reason=FailedCreate" ' +
      '-o go-template=\'{{range .items}}{{.message}}{{"\\n"}}{{end}}\' | grep "denied the request" | tail -n 1 || true); ' +
      'if [ -n "$denial" ]; then echo "Admission denied the new pods of deployment/$DEPLOYMENT (replicaset $replicaset): $denial" >&2; exit 1; fi; ' +
      'if [ $SECONDS -ge $deadline ]; then echo "deployment/$DEPLOYMENT did not finish its rollout within 10 minutes" >&2; exit 1; fi; ' +
      'done',
  ]);
}

/**
 * The Deployment's whole label selector (`matchLabels` and `matchExpressions`, Kubernetes LabelSelector) in
 * kubectl's `-l` syntax: `k=v`, `k in (a,b)`, `k notin (a,b)`, `k`, `!k`.
 */
const SELECTOR_JQ =
  '.spec.selector as $s | [($s.matchLabels // {} | to_entries[] | "\\(.key)=\\(.value)"), (($s.matchExpressions // [])[] | ' +
  'if .operator == "In" then "\\(.key) in (\\(.values | join(",")))" ' +
  'elif .operator == "NotIn" then "\\(.key) notin (\\(.values | join(",")))" ' +
  'elif .operator == "Exists" then .key elif .operator == "DoesNotExist" then "!\\(.key)" ' +
  'else error("unsupported selector operator \\(.operator)") end)] | join(",")';

/**
 * One line per pod of the selector: `ok`, `skip` (terminating, finished, or not started yet with the verified image
 * set) or `fail`, with the reason. The running image ID's digest (after its last `@`) and the pod's image must equal
 * the verified ones exactly.
 */
const PODS_JQ =
  '.items[] | .metadata.name as $pod | ' +
  'if .metadata.deletionTimestamp != null then "skip pod \\($pod) is terminating; not checked" ' +
  'elif .status.phase == "Succeeded" or .status.phase == "Failed" then "skip pod \\($pod) has finished (\\(.status.phase)); not checked" ' +
  'else ([.spec.containers[]? | select(.name == $c)][0]) as $spec | ([.status.containerStatuses[]? | select(.name == $c)][0]) as $status | ' +
  'if $spec == null then "fail pod \\($pod) has no container \\($c)" ' +
  'elif $spec.image != $image then "fail pod \\($pod) container \\($c) is set to \\($spec.image), not the verified \\($image)" ' +
  'elif ($status.imageID // "") == "" then ' +
  '(if .status.phase == "Running" then "fail pod \\($pod) container \\($c) reports no image ID" else "skip pod \\($pod) is \\(.status.phase) and has not started \\($c) yet" end) ' +
  'elif ($status.imageID | split("@") | last) != $digest then "fail pod \\($pod) container \\($c) runs \\($status.imageID), not the verified \\($digest)" ' +
  'elif .status.phase == "Running" then "ok pod \\($pod) runs \\($digest)" ' +
  'else "skip pod \\($pod) is \\(.status.phase)" end end';

/**
 * Checks that every pod of the Deployment (its whole selector) runs the verified digest in the container, exactly;
 * terminating and finished pods are listed and left out.
 */
export function eksCheckBuildSpec(): Record<string, unknown> {
  return kubectlBuildSpec([
    VERIFIED_IMAGE_GUARD,
    'kubectl -n "$NAMESPACE" get deployment "$DEPLOYMENT" -o json > deployment.json',
    `selector=$(jq -r '${SELECTOR_JQ}' deployment.json)`,
    'test -n "$selector" || { echo "deployment/$DEPLOYMENT in namespace $NAMESPACE has an empty selector" >&2; exit 1; }',
    'kubectl -n "$NAMESPACE" get pods -l "$selector" -o json > pods.json',
    `jq -r --arg c "$CONTAINER" --arg image "$IMAGE_URI@$IMAGE_DIGEST" --arg digest "$IMAGE_DIGEST" '${PODS_JQ}' pods.json > pods.txt`,
    'cat pods.txt',
    'if grep -q "^fail " pods.txt; then echo "deployment/$DEPLOYMENT in namespace $NAMESPACE does not run only the verified $IMAGE_DIGEST:" >&2; grep "^fail " pods.txt >&2; exit 1; fi',
    'grep -q "^ok " pods.txt || { echo "deployment/$DEPLOYMENT in namespace $NAMESPACE ($selector) has no running pod with container $CONTAINER" >&2; exit 1; }',
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
