import { Token } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';
import { KyvernoManifestOptions } from '../kyverno-manifests';
import { validationError } from './errors';

/** What `renderKyvernoManifests` needs from a trust policy. */
export interface KyvernoPolicyInput {
  /** The policy's Kubernetes name (unique per policy on a cluster). */
  readonly policyName: string;
  /** The notation trust stores: type (`signingAuthority`, `ca`, `tsa`), name and PEM bundle. */
  readonly trustStores: { readonly type: string; readonly name: string; readonly pem: string }[];
  /** The notation trust policy statements, as in `trustpolicy.json`. */
  readonly statements: any[];
  /** The image reference globs of the policy's registry scopes. */
  readonly imageReferences: string[];
}

const NOTATION_API_VERSION = 'notation.nirmata.io/v1alpha1';
const KYVERNO_STORE_TYPES = ['ca', 'signingAuthority'];
/** Kubernetes name rules: namespaces and Services are DNS labels, most other objects DNS subdomains. */
const DNS_LABEL = { pattern: /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, maxLength: 63 };
const DNS_SUBDOMAIN = { pattern: /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/, maxLength: 253 };
const SECRET_PATH = /^\/api\/v1\/namespaces\/([^/]+)\/secrets\/([^/]+)$/;

/**
 * The kyverno-notation-aws and Kyverno manifests of a trust policy, in apply order: TrustStores, the TrustPolicy,
 * the Role and RoleBinding that let Kyverno read the service's TLS secret, the validate ClusterPolicy, and the
 * digest mutation ClusterPolicy (unless turned off).
 */
export function renderKyvernoManifests(scope: IConstruct, input: KyvernoPolicyInput, options: KyvernoManifestOptions): any[] {
  const serviceNamespace = checkName(scope, 'serviceNamespace', options.serviceNamespace ?? 'kyverno-notation-aws', DNS_LABEL);
  const serviceName = checkName(scope, 'serviceName', options.serviceName ?? 'svc', DNS_LABEL);
  const kyvernoNamespace = checkName(scope, 'kyvernoNamespace', options.kyvernoNamespace ?? 'kyverno', DNS_LABEL);
  const serviceAccounts = (options.kyvernoServiceAccounts ?? ['kyverno-admission-controller', 'kyverno-reports-controller'])
    .map((account) => checkName(scope, 'kyvernoServiceAccounts', account, DNS_SUBDOMAIN));
  if (serviceAccounts.length === 0) throw validationError('KyvernoServiceAccountsEmpty', 'kyvernoManifests: kyvernoServiceAccounts must name at least one service account', scope);
  for (const namespace of options.namespaces ?? []) checkName(scope, 'namespaces', namespace, DNS_LABEL);
  const auditOnly = options.auditOnly ?? false;
  if (auditOnly && options.mutateDigest === true) {
    // Kyverno 1.11 denies a request whenever a mutate rule errors, whatever the failurePolicy
    // (kyverno/kyverno v1.11.0 pkg/webhooks/resource/mutation/mutation.go), so audit mode cannot mutate.
    throw validationError('KyvernoMutateInAuditMode', 'kyvernoManifests: mutateDigest cannot be combined with auditOnly (a failed verification would still deny the pod)', scope);
  }

  // The service names its TLS secret <SERVICE_NAME>.<namespace>.svc.tls-pair (kyverno/pkg tls, as in install.yaml).
  const tlsSecretPath = options.tlsSecretPath ?? `/api/v1/namespaces/${serviceNamespace}/secrets/${serviceName}.${serviceNamespace}.svc.tls-pair`;
  if (Token.isUnresolved(tlsSecretPath)) throw validationError('KyvernoSecretPathUnresolved', 'kyvernoManifests: tlsSecretPath must be known at synth time (it names the secret Kyverno is given access to)', scope);
  const secret = SECRET_PATH.exec(tlsSecretPath);
  if (!secret) throw validationError('KyvernoSecretPathInvalid', `kyvernoManifests: tlsSecretPath "${tlsSecretPath}" must be /api/v1/namespaces/<namespace>/secrets/<name>`, scope);
  const [, secretNamespace, secretName] = secret;

  const { policyName } = input;
  // Store names are prefixed with the policy name: the service keeps one directory per trustStoreName and deletes
  // it with any TrustStore of that name (kyverno-notation-verifier kubenotation/internal/controller/truststore_controller.go).
  // A store of another type than signingAuthority gets its type in the name too: `ca:corp` and `tsa:corp` may both exist.
  const storeName = (type: string, name: string) =>
    `${policyName}-${type === 'signingAuthority' ? '' : `${type.toLowerCase()}-`}${name.toLowerCase().replace(/[^a-z0-9-]/g, '-')}`;
  const storeReference = (store: string) => {
    const type = store.slice(0, store.indexOf(':'));
    return `${type}:${storeName(type, store.slice(store.indexOf(':') + 1))}`;
  };
  // The TrustStore CRD's type is an enum of ca and signingAuthority (nirmata/kyverno-notation-aws configs/crds/notation.nirmata.io_truststores.yaml).
  const timestamping = input.trustStores.find((store) => !KYVERNO_STORE_TYPES.includes(store.type));
  if (timestamping) {
    throw validationError(
      'KyvernoTrustStoreType',
      `kyvernoManifests: trust store "${timestamping.type}:${timestamping.name}" has a type the kyverno-notation-aws TrustStore cannot hold (it takes ${KYVERNO_STORE_TYPES.join(' and ')})`,
      scope,
    );
  }
  const trustStores = input.trustStores.map((store) => ({
    apiVersion: NOTATION_API_VERSION,
    kind: 'TrustStore',
    metadata: { name: storeName(store.type, store.name) },
    spec: { trustStoreName: storeName(store.type, store.name), type: store.type, caBundle: store.pem },
  }));
  const trustPolicy = {
    apiVersion: NOTATION_API_VERSION,
    kind: 'TrustPolicy',
    metadata: { name: policyName },
    spec: {
      version: '1.0',
      trustPolicyName: policyName,
      trustPolicies: input.statements.map((statement) => {
        // The TrustPolicy CRD has no verifyTimestamp; override is an object (possibly empty).
        const { signatureVerification, trustStores: stores, ...rest } = statement;
        return {
          ...rest,
          signatureVerification: { level: signatureVerification.level, override: signatureVerification.override ?? {} },
          ...(stores ? { trustStores: stores.map(storeReference) } : {}),
        };
      }),
    },
  };

  // Kyverno 1.12+ no longer grants its controllers `get` on every secret (kyverno/kyverno charts/kyverno/templates/
  // {admission,reports}-controller/clusterrole.yaml); the apiCall reading the certificate needs this one.
  const roleName = `${policyName}-read-tls-secret`;
  const role = {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'Role',
    metadata: { name: roleName, namespace: secretNamespace },
    rules: [{ apiGroups: [''], resources: ['secrets'], resourceNames: [secretName], verbs: ['get'] }],
  };
  const roleBinding = {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'RoleBinding',
    metadata: { name: roleName, namespace: secretNamespace },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: roleName },
    subjects: serviceAccounts.map((name) => ({ kind: 'ServiceAccount', name, namespace: kyvernoNamespace })),
  };

  const resources = {
    kinds: ['Pod'],
    operations: ['CREATE', 'UPDATE'],
    ...(options.namespaces && options.namespaces.length > 0 ? { namespaces: [...options.namespaces] } : {}),
  };
  const exclude = options.namespaces && options.namespaces.length > 0
    ? {}
    : { exclude: { any: [{ resources: { namespaces: [...new Set([serviceNamespace, kyvernoNamespace, 'kube-system'])] } }] } };
  const context = [
    { name: 'tlscerts', apiCall: { urlPath: tlsSecretPath, jmesPath: 'base64_decode( data."tls.crt" )' } },
    {
      name: 'response',
      apiCall: {
        method: 'POST',
        data: [
          { key: 'images', value: '{{images}}' },
          { key: 'imageReferences', value: options.imageReferences ?? input.imageReferences },
          { key: 'trustPolicy', value: policyName },
        ],
        service: { url: options.serviceUrl ?? `https://${serviceName}.${serviceNamespace}/checkimages`, caBundle: '{{ tlscerts }}' },
      },
    },
  ];
  const match = { any: [{ resources }] };
  const baseName = options.clusterPolicyName !== undefined
    ? checkName(scope, 'clusterPolicyName', options.clusterPolicyName, DNS_SUBDOMAIN)
    : `${policyName}-check-images`.slice(0, 63).replace(/-+$/, '');
  const validatePolicy = {
    apiVersion: 'kyverno.io/v1',
    kind: 'ClusterPolicy',
    metadata: { name: baseName },
    spec: {
      validationFailureAction: auditOnly ? 'Audit' : 'Enforce',
      failurePolicy: auditOnly ? 'Ignore' : 'Fail',
      webhookTimeoutSeconds: 30,
      schemaValidation: false,
      rules: [
        {
          name: 'verify-image-signatures',
          match,
          ...exclude,
          context,
          validate: {
            message: '{{ response.message }}',
            deny: { conditions: { all: [{ key: '{{ response.verified }}', operator: 'Equals', value: false }] } },
          },
        },
      ],
    },
  };
  const manifests: any[] = [...trustStores, trustPolicy, role, roleBinding, validatePolicy];
  if (options.mutateDigest ?? !auditOnly) {
    manifests.push({
      apiVersion: 'kyverno.io/v1',
      kind: 'ClusterPolicy',
      metadata: { name: `${baseName}-digests` },
      spec: {
        failurePolicy: 'Fail',
        webhookTimeoutSeconds: 30,
        schemaValidation: false,
        rules: [
          {
            name: 'replace-tags-with-digests',
            match,
            ...exclude,
            context,
            mutate: {
              foreach: [
                {
                  list: 'response.results',
                  patchesJson6902: "- path: '{{ element.path }}'\n  op: '{{ element.op }}'\n  value: '{{ element.value }}'",
                },
              ],
            },
          },
        ],
      },
    });
  }
  return manifests;
}

function checkName(scope: IConstruct, option: string, value: string, rule: { pattern: RegExp; maxLength: number }): string {
  if (!Token.isUnresolved(value) && (!rule.pattern.test(value) || value.length > rule.maxLength)) {
    throw validationError('KubernetesNameInvalid', `kyvernoManifests: ${option} "${value}" is not a valid Kubernetes name (lower-case letters, digits and "-")`, scope);
  }
  return value;
}
