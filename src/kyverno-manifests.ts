/**
 * Options of `TrustPolicy.kyvernoManifests()`: where kyverno-notation-aws and Kyverno run on the cluster, which pods
 * are checked, and what a failed check does.
 *
 * The defaults match upstream's `configs/install.yaml` (nirmata/kyverno-notation-aws) and Kyverno's Helm chart
 * installed as release `kyverno` in namespace `kyverno`. For kyverno-notation-aws installed with its Helm chart, set
 * `serviceName` to the chart's `<fullname>-svc` (e.g. `kyverno-notation-aws-svc` for release `kyverno-notation-aws`)
 * and `serviceNamespace` to the release namespace.
 */
export interface KyvernoManifestOptions {
  /**
   * The name of the Kyverno `ClusterPolicy` that denies pods (and, through Kyverno's autogen, Deployments and the
   * other pod controllers) whose images do not verify. The digest mutation policy is named `<name>-digests`.
   *
   * @default - `<policyName>-check-images`
   */
  readonly clusterPolicyName?: string;

  /**
   * The namespaces whose pods are checked.
   *
   * @default - every namespace except `serviceNamespace`, `kyvernoNamespace` and `kube-system` (checking the service's
   * own pods would deadlock the cluster when the service restarts)
   */
  readonly namespaces?: string[];

  /**
   * Image reference globs the extension service verifies (others are let through).
   *
   * @default - the policy's registry scopes: `<scope>:*` and `<scope>@*` each, or `*` when a statement has scope `*`
   */
  readonly imageReferences?: string[];

  /**
   * Also rewrite image tags to the verified digests, in a second `ClusterPolicy` (Kyverno turns autogen off for a
   * policy with a JSON-patch mutation, so it cannot share the validate policy). Not allowed with `auditOnly`.
   *
   * @default - true, false with `auditOnly`
   */
  readonly mutateDigest?: boolean;

  /**
   * Report failures without blocking pods: `validationFailureAction: Audit` and `failurePolicy: Ignore` (the service
   * answers a failed verification with HTTP 406, which Kyverno counts as a rule error, and an error under
   * `failurePolicy: Fail` denies the request even in audit mode). Failures then show as errors in policy reports.
   *
   * @default false (`Enforce`, `failurePolicy: Fail`)
   */
  readonly auditOnly?: boolean;

  /**
   * The namespace kyverno-notation-aws runs in.
   *
   * @default 'kyverno-notation-aws'
   */
  readonly serviceNamespace?: string;

  /**
   * The name of kyverno-notation-aws's Service (also its `SERVICE_NAME`, which names its TLS secret
   * `<serviceName>.<serviceNamespace>.svc.tls-pair`).
   *
   * @default 'svc' (upstream's install.yaml; the Helm chart names it `<fullname>-svc`)
   */
  readonly serviceName?: string;

  /**
   * The kyverno-notation-aws `checkimages` endpoint.
   *
   * @default - `https://<serviceName>.<serviceNamespace>/checkimages`
   */
  readonly serviceUrl?: string;

  /**
   * The Kubernetes API path of the secret holding the service's TLS certificate (`tls.crt`), as
   * `/api/v1/namespaces/<namespace>/secrets/<name>`.
   *
   * @default - `/api/v1/namespaces/<serviceNamespace>/secrets/<serviceName>.<serviceNamespace>.svc.tls-pair`
   */
  readonly tlsSecretPath?: string;

  /**
   * The namespace Kyverno runs in: its admission and reports controllers are given `get` on the TLS secret (Kyverno
   * 1.12 and later no longer read every secret) and it is left out of the checked namespaces.
   *
   * @default 'kyverno'
   */
  readonly kyvernoNamespace?: string;

  /**
   * The service accounts of the Kyverno controllers that call the service: admission (pods as they are admitted)
   * and reports (background scans).
   *
   * @default ['kyverno-admission-controller', 'kyverno-reports-controller'] (Kyverno's Helm chart, release `kyverno`)
   */
  readonly kyvernoServiceAccounts?: string[];
}
