/**
 * The pipeline's CodeBuild buildspecs. Shell kept small and strict (`set -eu` semantics per command), so a
 * security reviewer can read exactly what runs with the build role.
 */

/**
 * The variables the Build stage's later actions read from the build (`#{Build.<name>}`): a buildspec of one's own
 * must export them.
 */
export const IMAGE_BUILD_EXPORTS = ['IMAGE_URI', 'IMAGE_DIGEST', 'SOURCE_REVISION', 'CODEBUILD_BUILD_ARN'];

/**
 * The BuildKit image of the multi-arch builder (`docker buildx create --driver docker-container`), pinned by the digest
 * of its multi-arch index (Docker Hub `moby/buildkit:v0.33.1`). CodeBuild's standard images ship the buildx plugin
 * (aws/aws-codebuild-docker-images `ubuntu/standard/7.0/Dockerfile`: `DOCKER_BUILDX_VERSION` 0.32.1) and start
 * dockerd with the classic image store, whose `docker` driver cannot build or push several platforms at once; the
 * `docker-container` driver can (docs.docker.com/build/building/multi-platform). The build's `BUILDKIT_IMAGE`
 * variable replaces it, e.g. with a copy in ECR.
 */
export const DEFAULT_BUILDKIT_IMAGE = 'moby/buildkit:v0.33.1@sha256:cec9f139f45e93c5c69c60f8b07cfad9f43f4ef6b6a6cd917527fea5ff2e3dea';

/**
 * The image that registers QEMU user-mode emulators with the host kernel's binfmt_misc, so that the builder runs the
 * `RUN` steps of foreign platforms. CodeBuild's standard images register none (their Dockerfiles install no QEMU or
 * binfmt), and BuildKit's documentation gives `docker run --privileged --rm tonistiigi/binfmt --install <arch>` for
 * hosts without them (moby/buildkit `docs/multi-platform.md`). Pinned by the digest of Docker Hub's
 * `tonistiigi/binfmt:qemu-v10.2.3` index. The build's `BINFMT_IMAGE` variable replaces it.
 */
export const DEFAULT_BINFMT_IMAGE = 'tonistiigi/binfmt:qemu-v10.2.3@sha256:400a4873b838d1b89194d982c45e5fb3cda4593fbfd7e08a02e76b03b21166f0';

/** Each build argument NAME comes from the variable BUILD_ARG_NAME, as one word: no value is parsed by the shell. */
const BUILD_ARGS = 'build_args=(); for name in $DOCKER_BUILD_ARG_NAMES; do value_var="BUILD_ARG_${name}"; build_args+=(--build-arg "${name}=${!value_var}"); done; ';

/** What the build writes once `IMAGE_DIGEST` is known. */
const PUSHED = [
  'echo "Pushed $IMAGE_URI@$IMAGE_DIGEST"',
  'printf \'[{"name":"%s","imageUri":"%s@%s"}]\' "$CONTAINER_NAME" "$IMAGE_URI" "$IMAGE_DIGEST" > imagedefinitions.json',
];

/** `docker build` and `docker push` of one platform; the digest is the one `docker push` reports from the registry. */
const SINGLE_PLATFORM_BUILD = [
  'set -euo pipefail',
  BUILD_ARGS + 'docker build --file "$DOCKERFILE" --tag "$IMAGE_URI:$IMAGE_TAG" "${build_args[@]}" "$DOCKER_CONTEXT"',
  'docker push "$IMAGE_URI:$IMAGE_TAG" | tee push.log',
  // The digest the registry returned for the pushed manifest; from here on the image is referenced by it.
  "IMAGE_DIGEST=$(sed -n 's/.*digest: \\(sha256:[0-9a-f]\\{64\\}\\).*/\\1/p' push.log | tail -n 1)",
  'test -n "$IMAGE_DIGEST" || { echo "docker push did not report the pushed digest" >&2; exit 1; }',
  ...PUSHED,
];

/**
 * `docker buildx build --platform $DOCKER_PLATFORMS --push`: one image index with a manifest per platform. QEMU
 * emulators are registered for the architectures the host does not run natively; the builder is BuildKit in a
 * container. `IMAGE_DIGEST` is the index's digest as BuildKit pushed it (`--metadata-file`, `containerimage.digest`),
 * and it must equal what the registry answers for the tag, or the build fails.
 */
const MULTI_PLATFORM_BUILD = [
  'set -euo pipefail',
  'native=$(docker version --format "{{.Server.Arch}}"); ' +
    'foreign=$(for platform in ${DOCKER_PLATFORMS//,/ }; do arch=$(cut -d/ -f2 <<< "$platform"); [ "$arch" = "$native" ] || echo "$arch"; done | sort -u | paste -sd, -); ' +
    'if [ -n "$foreign" ]; then echo "Registering QEMU emulators for $foreign (host: $native)"; docker run --privileged --rm "$BINFMT_IMAGE" --install "$foreign"; fi',
  'docker buildx create --name signed-image-builder --driver docker-container --driver-opt "image=$BUILDKIT_IMAGE" --bootstrap --use',
  BUILD_ARGS +
    'docker buildx build --platform "$DOCKER_PLATFORMS" --file "$DOCKERFILE" --tag "$IMAGE_URI:$IMAGE_TAG" "${build_args[@]}" ' +
    '--metadata-file buildx-metadata.json --push "$DOCKER_CONTEXT"',
  'IMAGE_DIGEST=$(python3 -c \'import json,sys; print(json.load(open(sys.argv[1])).get("containerimage.digest", ""))\' buildx-metadata.json)',
  'registry_digest=$(docker buildx imagetools inspect "$IMAGE_URI:$IMAGE_TAG" --format "{{json .Manifest}}" | python3 -c \'import json,sys; print(json.load(sys.stdin).get("digest", ""))\')',
  '[[ "$IMAGE_DIGEST" =~ ^sha256:[0-9a-f]{64}$ && "$IMAGE_DIGEST" == "$registry_digest" ]] || ' +
    '{ echo "docker buildx pushed \'$IMAGE_DIGEST\' but the registry answers \'$registry_digest\' for $IMAGE_URI:$IMAGE_TAG" >&2; exit 1; }',
  ...PUSHED,
];

/**
 * The SBOM of the pushed image, by its digest, as `sbom.json` (`$SBOM_FORMAT`: `spdx` or `cyclonedx`): syft
 * `$SYFT_VERSION`, the linux_amd64 release archive from github.com/anchore/syft, installed only when its SHA-256 is
 * `$SYFT_SHA256` (the value in the release's `syft_<version>_checksums.txt`). syft reads the image from the registry
 * (`registry:` source) with the docker login above; for an image index it reads the build host's platform.
 */
const SBOM_COMMANDS = [
  'set -euo pipefail',
  'syft_dir=$(mktemp -d)',
  'curl -sSfL -o "$syft_dir/syft.tar.gz" "https://github.com/anchore/syft/releases/download/v${SYFT_VERSION}/syft_${SYFT_VERSION}_linux_amd64.tar.gz"',
  'echo "$SYFT_SHA256  $syft_dir/syft.tar.gz" | sha256sum --check --status || ' +
    '{ echo "syft v$SYFT_VERSION from github.com does not have the SHA-256 $SYFT_SHA256; it is not run" >&2; exit 1; }',
  'tar -xzf "$syft_dir/syft.tar.gz" -C "$syft_dir" syft',
  '"$syft_dir/syft" "registry:$IMAGE_URI@$IMAGE_DIGEST" --output "${SBOM_FORMAT}-json=sbom.json"',
  'echo "Wrote the $SBOM_FORMAT SBOM of $IMAGE_URI@$IMAGE_DIGEST"',
];

/** The file the Sign stage attaches as the image's SBOM (lambda/handlers/pipeline-attestations.ts, SBOM_FILE). */
export const SBOM_FILE = 'sbom.json';

/** How the default buildspec builds. */
export interface ImageBuildSpecOptions {
  /** Build an image index for `$DOCKER_PLATFORMS` with docker buildx instead of one platform with docker build. */
  readonly multiPlatform?: boolean;
  /** Write the image's SBOM as `sbom.json` into the artifact (needs `SYFT_VERSION`, `SYFT_SHA256`, `SBOM_FORMAT`). */
  readonly sbom?: boolean;
}

/** Builds and pushes the image; exports the digest the registry returned (never recomputed). */
export function imageBuildSpec(options: ImageBuildSpecOptions = {}): Record<string, unknown> {
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
        // The SBOM step runs in the build phase, after the push, so that a failed build writes none.
        'commands': [...(options.multiPlatform ? MULTI_PLATFORM_BUILD : SINGLE_PLATFORM_BUILD), ...(options.sbom ? SBOM_COMMANDS.slice(1) : [])],
      },
    },
    artifacts: { files: ['imagedefinitions.json', ...(options.sbom ? [SBOM_FILE] : [])] },
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
 * Refuses to go on unless `VERIFIED_DIGESTS` (the gate's, `#{DeployGate.VERIFIED_DIGESTS}`; `IMAGE_DIGEST` alone
 * when the action passes none) is a list of digests that starts with `IMAGE_DIGEST`.
 */
const VERIFIED_DIGESTS_GUARD =
  'VERIFIED_DIGESTS="${VERIFIED_DIGESTS:-$IMAGE_DIGEST}"; ' +
  '[[ "$VERIFIED_DIGESTS" =~ ^sha256:[0-9a-f]{64}(,sha256:[0-9a-f]{64})*$ && "${VERIFIED_DIGESTS%%,*}" == "$IMAGE_DIGEST" ]] || ' +
  '{ echo "VERIFIED_DIGESTS must be the digests the verify gate verified, $IMAGE_DIGEST first (#{DeployGate.VERIFIED_DIGESTS}), got \'$VERIFIED_DIGESTS\'" >&2; exit 1; }';

/**
 * One line per pod of the selector: `ok`, `skip` (terminating, finished, or not started yet with the verified image
 * set) or `fail`, with the reason. The pod's image must equal the verified `<repository>@<digest>` exactly, and the
 * running image ID's digest (after its last `@`) must be one of the verified digests exactly: the image's, or for an
 * image index one of the manifests it lists that the gate verified. The kubelet's `imageID` is the CRI `imageRef`,
 * which containerd gives as the repo digest the image was pulled by, the index digest for a multi-arch image
 * (kubernetes/kubernetes#108689, containerd/containerd#12787); a runtime that reports the pulled platform manifest
 * passes only when the gate verified that manifest.
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
  'else ($status.imageID | split("@") | last) as $running | ' +
  'if ([$verified | split(",")[] | select(. == $running)] | length) == 0 then "fail pod \\($pod) container \\($c) runs \\($status.imageID), not the verified \\($digest)" ' +
  'elif .status.phase != "Running" then "skip pod \\($pod) is \\(.status.phase)" ' +
  'elif $running == $digest then "ok pod \\($pod) runs \\($digest)" ' +
  'else "ok pod \\($pod) runs \\($running), a manifest of the verified \\($digest)" end end end';

/**
 * Checks that every pod of the Deployment (its whole selector) runs the verified digest in the container, or one of
 * the manifests the gate verified with it, exactly; terminating and finished pods are listed and left out.
 */
export function eksCheckBuildSpec(): Record<string, unknown> {
  return kubectlBuildSpec([
    VERIFIED_IMAGE_GUARD,
    VERIFIED_DIGESTS_GUARD,
    'kubectl -n "$NAMESPACE" get deployment "$DEPLOYMENT" -o json > deployment.json',
    `selector=$(jq -r '${SELECTOR_JQ}' deployment.json)`,
    'test -n "$selector" || { echo "deployment/$DEPLOYMENT in namespace $NAMESPACE has an empty selector" >&2; exit 1; }',
    'kubectl -n "$NAMESPACE" get pods -l "$selector" -o json > pods.json',
    `jq -r --arg c "$CONTAINER" --arg image "$IMAGE_URI@$IMAGE_DIGEST" --arg digest "$IMAGE_DIGEST" --arg verified "$VERIFIED_DIGESTS" '${PODS_JQ}' pods.json > pods.txt`,
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
