import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import Ajv from 'ajv';
import { Stack } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { newStack } from './support';
import { KyvernoManifestOptions, NotationSigningProfile, TimestampVerification, TrustPolicy, VerificationAction, VerificationLevel } from '../../src';

const PROFILE_ARN = 'arn:aws:signer:us-east-1:111122223333:/signing-profiles/release_signer';
const SCOPE = '111122223333.dkr.ecr.us-east-1.amazonaws.com/app';
const CRDS = path.join(__dirname, '..', 'fixtures', 'crds');

/**
 * A validator for a CRD schema from test/fixtures/crds, strict as the API server's field validation (kubectl apply's
 * default): an object schema with `properties` rejects other fields unless it preserves unknown fields.
 */
function crdValidator(file: string) {
  const strict = (node: any): any => {
    if (Array.isArray(node)) return node.map(strict);
    if (!node || typeof node !== 'object') return node;
    const out: any = Object.fromEntries(Object.entries(node).map(([key, value]) => [key, key === 'properties'
      ? Object.fromEntries(Object.entries(value as object).map(([name, schema]) => [name, strict(schema)]))
      : strict(value)]));
    if (out.properties && out.additionalProperties === undefined && !out['x-kubernetes-preserve-unknown-fields']) out.additionalProperties = false;
    return out;
  };
  const crd = JSON.parse(readFileSync(path.join(CRDS, file), 'utf8'));
  // Kubernetes' x-kubernetes-* keywords and int32/int64 formats are not JSON Schema: Ajv is told to ignore them.
  const validate = new Ajv({ strict: false, allErrors: true, validateFormats: false }).compile(strict(crd.openAPIV3Schema));
  return { kind: crd.kind as string, apiVersion: `${crd.group}/${crd.version}`, validate };
}

const VALIDATORS = [
  crdValidator('kyverno-notation-aws-truststores.json'),
  crdValidator('kyverno-notation-aws-trustpolicies.json'),
  crdValidator('kyverno-1.11.0-clusterpolicies.json'),
  crdValidator('kyverno-1.19.0-clusterpolicies.json'),
];

/** The schema errors of a manifest against every fixture CRD of its kind (none when it is valid). */
function schemaErrors(manifest: any): string[] {
  const validators = VALIDATORS.filter((v) => v.kind === manifest.kind && v.apiVersion === manifest.apiVersion);
  if (validators.length === 0) throw new Error(`no CRD fixture for ${manifest.apiVersion} ${manifest.kind}`);
  return validators.flatMap((v) => (v.validate(manifest) ? [] : v.validate.errors!.map((e) => `${v.kind} ${e.instancePath} ${e.message}`)));
}

function newPolicy(stack: Stack = newStack({ env: { region: 'us-east-1' } }), id = 'Policy', policyName = 'tp-apps') {
  const profile = NotationSigningProfile.fromSigningProfileAttributes(stack, `${id}Profile`, {
    signingProfileArn: PROFILE_ARN,
    signingProfileVersion: 'v1',
  });
  const overrides = { revocation: VerificationAction.LOG };
  return new TrustPolicy(stack, id, { signingProfiles: [profile], registryScopes: [SCOPE], policyName, overrides });
}

function byKind(manifests: any[], kind: string, name?: string): any[] {
  return manifests.filter((m) => m.kind === kind && (name === undefined || m.metadata.name === name));
}

describe('kyvernoManifests: upstream CRD schemas (kyverno-notation-aws, Kyverno 1.11.0 and 1.19.0)', () => {
  const cases: Array<[string, KyvernoManifestOptions]> = [
    ['defaults', {}],
    ['named namespaces', { namespaces: ['apps', 'shop'] }],
    ['audit only', { auditOnly: true }],
    ['Helm chart names', { serviceName: 'kyverno-notation-aws-svc', serviceNamespace: 'signing', kyvernoNamespace: 'kyverno-system' }],
  ];
  test.each(cases)('%s: every manifest validates against its CRD', (_name, options) => {
    const policy = newPolicy();
    const base = NotationSigningProfile.fromSigningProfileAttributes(Stack.of(policy), 'Base', { signingProfileArn: PROFILE_ARN.replace('release', 'base') });
    policy.addStatement({ name: 'base', signingProfiles: [base], registryScopes: ['111122223333.dkr.ecr.us-east-1.amazonaws.com/base'], level: VerificationLevel.PERMISSIVE });
    policy.addStatement({ name: 'skip-dev', registryScopes: ['111122223333.dkr.ecr.us-east-1.amazonaws.com/dev'], level: VerificationLevel.SKIP });
    const manifests = policy.kyvernoManifests(options);
    const custom = manifests.filter((m) => m.apiVersion !== 'rbac.authorization.k8s.io/v1');
    expect(custom.length).toBeGreaterThanOrEqual(3);
    for (const manifest of custom) expect(schemaErrors(manifest)).toEqual([]);
  });

  test('the strict schemas reject what the CRDs cannot hold (verifyTimestamp, an unknown spec field)', () => {
    const [, trustPolicy, , , clusterPolicy] = newPolicy().kyvernoManifests();
    const timestamped = structuredClone(trustPolicy);
    timestamped.spec.trustPolicies[0].signatureVerification.verifyTimestamp = 'always';
    expect(schemaErrors(timestamped)).toEqual([expect.stringContaining('must NOT have additional properties')]);
    const unknown = structuredClone(clusterPolicy);
    unknown.spec.failureAction = 'Enforce';
    expect(schemaErrors(unknown)).toHaveLength(2); // both Kyverno versions
  });
});

describe('kyvernoManifests: behaviour on a cluster', () => {
  test('TrustStores and the TrustPolicy are named after the policy, so two policies on one cluster never share an object (issue 16.7)', () => {
    const stack = newStack({ env: { region: 'us-east-1' } });
    const one = newPolicy(stack, 'One', 'tp-one').kyvernoManifests();
    const two = newPolicy(stack, 'Two', 'tp-two').kyvernoManifests();
    const key = (m: any) => `${m.kind}/${m.metadata.namespace ?? ''}/${m.metadata.name}`;
    const names = [...one, ...two].map(key);
    expect(new Set(names).size).toBe(names.length);
    const storeNames = [...one, ...two].filter((m) => m.kind === 'TrustStore').map((m) => m.spec.trustStoreName);
    expect(storeNames).toEqual(['tp-one-aws-signer-ts', 'tp-two-aws-signer-ts']);
    const [store] = byKind(one, 'TrustStore');
    expect(store).toEqual({
      apiVersion: 'notation.nirmata.io/v1alpha1',
      kind: 'TrustStore',
      metadata: { name: 'tp-one-aws-signer-ts' },
      spec: { trustStoreName: 'tp-one-aws-signer-ts', type: 'signingAuthority', caBundle: expect.stringContaining('-----BEGIN CERTIFICATE-----') },
    });
    expect(byKind(one, 'TrustPolicy')[0]).toEqual({
      apiVersion: 'notation.nirmata.io/v1alpha1',
      kind: 'TrustPolicy',
      metadata: { name: 'tp-one' },
      spec: {
        version: '1.0',
        trustPolicyName: 'tp-one',
        trustPolicies: [{
          name: 'aws-signer-tp',
          registryScopes: [SCOPE],
          signatureVerification: { level: 'strict', override: { revocation: 'log' } },
          trustStores: ['signingAuthority:tp-one-aws-signer-ts'],
          trustedIdentities: [PROFILE_ARN],
        }],
      },
    });
  });

  test('by default every namespace but the service\'s, Kyverno\'s and kube-system is checked, so the service can restart (issue 16.1)', () => {
    const manifests = newPolicy().kyvernoManifests({ serviceNamespace: 'signing' });
    for (const policy of byKind(manifests, 'ClusterPolicy')) {
      const [rule] = policy.spec.rules;
      expect(rule.match.any[0].resources).toEqual({ kinds: ['Pod'], operations: ['CREATE', 'UPDATE'] });
      expect(rule.exclude).toEqual({ any: [{ resources: { namespaces: ['signing', 'kyverno', 'kube-system'] } }] });
    }
  });

  test('named namespaces are checked as named, with no exclusion', () => {
    const manifests = newPolicy().kyvernoManifests({ namespaces: ['apps'] });
    for (const policy of byKind(manifests, 'ClusterPolicy')) {
      expect(policy.spec.rules[0].match.any[0].resources.namespaces).toEqual(['apps']);
      expect(policy.spec.rules[0].exclude).toBeUndefined();
    }
  });

  test('audit only: nothing can deny a pod (Audit, failurePolicy Ignore, no mutate policy), since a failed verification is an HTTP 406 error (issue 16.2)', () => {
    const manifests = newPolicy().kyvernoManifests({ auditOnly: true });
    const policies = byKind(manifests, 'ClusterPolicy');
    expect(policies).toHaveLength(1);
    expect(policies[0].spec).toMatchObject({ validationFailureAction: 'Audit', failurePolicy: 'Ignore' });
    expect(policies[0].spec.rules.map((rule: any) => Object.keys(rule).filter((k) => ['validate', 'mutate'].includes(k)))).toEqual([['validate']]);
    expect(() => newPolicy().kyvernoManifests({ auditOnly: true, mutateDigest: true })).toThrow(/mutateDigest cannot be combined with auditOnly/);
  });

  test('enforce: both policies fail closed on an error from the service', () => {
    const policies = byKind(newPolicy().kyvernoManifests(), 'ClusterPolicy');
    expect(policies.map((p) => [p.metadata.name, p.spec.failurePolicy, p.spec.validationFailureAction])).toEqual([
      ['tp-apps-check-images', 'Fail', 'Enforce'],
      ['tp-apps-check-images-digests', 'Fail', undefined],
    ]);
  });

  test('Kyverno\'s admission and reports controllers may get the service\'s TLS secret, and only it (Kyverno 1.12+ RBAC, issue 16.3)', () => {
    const manifests = newPolicy().kyvernoManifests();
    expect(byKind(manifests, 'Role')).toEqual([{
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: { name: 'tp-apps-read-tls-secret', namespace: 'kyverno-notation-aws' },
      rules: [{ apiGroups: [''], resources: ['secrets'], resourceNames: ['svc.kyverno-notation-aws.svc.tls-pair'], verbs: ['get'] }],
    }]);
    expect(byKind(manifests, 'RoleBinding')).toEqual([{
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'tp-apps-read-tls-secret', namespace: 'kyverno-notation-aws' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'tp-apps-read-tls-secret' },
      subjects: [
        { kind: 'ServiceAccount', name: 'kyverno-admission-controller', namespace: 'kyverno' },
        { kind: 'ServiceAccount', name: 'kyverno-reports-controller', namespace: 'kyverno' },
      ],
    }]);
    // The Role must name the secret the policy's apiCall reads.
    const [validate] = byKind(manifests, 'ClusterPolicy');
    expect(validate.spec.rules[0].context[0].apiCall.urlPath).toBe('/api/v1/namespaces/kyverno-notation-aws/secrets/svc.kyverno-notation-aws.svc.tls-pair');
  });

  test('upstream install.yaml names by default; the Helm chart\'s <fullname>-svc names with serviceName (issue 16.5)', () => {
    const response = (manifests: any[]) => byKind(manifests, 'ClusterPolicy')[0].spec.rules[0].context;
    const [secret, call] = response(newPolicy().kyvernoManifests());
    expect(call.apiCall.service.url).toBe('https://svc.kyverno-notation-aws/checkimages');
    expect(secret.apiCall.urlPath).toBe('/api/v1/namespaces/kyverno-notation-aws/secrets/svc.kyverno-notation-aws.svc.tls-pair');

    const chart = newPolicy().kyvernoManifests({ serviceName: 'kyverno-notation-aws-svc' });
    const [chartSecret, chartCall] = response(chart);
    expect(chartCall.apiCall.service.url).toBe('https://kyverno-notation-aws-svc.kyverno-notation-aws/checkimages');
    expect(chartSecret.apiCall.urlPath).toBe('/api/v1/namespaces/kyverno-notation-aws/secrets/kyverno-notation-aws-svc.kyverno-notation-aws.svc.tls-pair');
    expect(byKind(chart, 'Role')[0].rules[0].resourceNames).toEqual(['kyverno-notation-aws-svc.kyverno-notation-aws.svc.tls-pair']);
    expect(chartCall.apiCall.data).toEqual([
      { key: 'images', value: '{{images}}' },
      { key: 'imageReferences', value: [`${SCOPE}:*`, `${SCOPE}@*`] },
      { key: 'trustPolicy', value: 'tp-apps' },
    ]);
  });

  test('validate and mutate are separate policies, and the validate policy qualifies for Kyverno autogen (issue 16.6)', () => {
    const [validate, mutate] = byKind(newPolicy().kyvernoManifests(), 'ClusterPolicy');
    // Kyverno's CanAutoGen (kyverno/kyverno pkg/autogen/v1/autogen.go, the same in v1.11.0 pkg/autogen/autogen.go):
    // no JSON-patch mutation in the policy, and only Pod kinds without names or selectors in match and exclude.
    const canAutoGen = (policy: any) => policy.spec.rules.every((rule: any) =>
      !rule.mutate?.patchesJson6902 && !(rule.mutate?.foreach ?? []).some((f: any) => f.patchesJson6902) &&
      [...rule.match.any, ...(rule.exclude?.any ?? [])].every(({ resources }: any) =>
        (resources.kinds ?? ['Pod']).every((kind: string) => kind === 'Pod') && !resources.name && !resources.names && !resources.selector));
    expect(canAutoGen(validate)).toBe(true);
    expect(canAutoGen(mutate)).toBe(false);
    expect(validate.spec.rules[0].validate.deny.conditions.all).toEqual([{ key: '{{ response.verified }}', operator: 'Equals', value: false }]);
    expect(mutate.spec.rules[0].mutate.foreach[0]).toEqual({
      list: 'response.results',
      patchesJson6902: "- path: '{{ element.path }}'\n  op: '{{ element.op }}'\n  value: '{{ element.value }}'",
    });
    expect(validate.metadata.annotations).toBeUndefined(); // no autogen-controllers override
  });

  test('verifyTimestamp cannot be expressed in the CRD: a synth-time warning names the statement (issue 16.8)', () => {
    const stack = newStack({ env: { region: 'us-east-1' } });
    const policy = newPolicy(stack);
    policy.kyvernoManifests();
    expect(Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('verifyTimestamp'))).toEqual([]);
    policy.addStatement({ name: 'late', signingProfiles: [], registryScopes: ['*'], level: VerificationLevel.SKIP, verifyTimestamp: TimestampVerification.AFTER_CERT_EXPIRY });
    const [trustPolicy] = byKind(policy.kyvernoManifests(), 'TrustPolicy');
    expect(JSON.stringify(trustPolicy)).not.toContain('verifyTimestamp');
    expect(Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('verifyTimestamp is set on statement\\(s\\) "late"'))).toHaveLength(1);
  });

  test('the Kyverno token caveat (kyverno-notation-aws --reviewKyvernoToken, Kyverno 1.16.4+, 1.17.2+, 1.18+) is in the README (issue 16.4)', () => {
    const readme = readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8');
    expect(readme).toContain('--reviewKyvernoToken=false');
    expect(readme).toMatch(/1\.16\.4.*1\.17\.2.*1\.18/s);
  });

  test('options and audit mode with every namespace and a wildcard scope', () => {
    const stack = newStack();
    const profile = NotationSigningProfile.fromSigningProfileAttributes(stack, 'P', { signingProfileArn: PROFILE_ARN });
    const policy = new TrustPolicy(stack, 'Policy', { signingProfiles: [profile], registryScopes: ['*'] });
    const manifests = policy.kyvernoManifests({ auditOnly: true, clusterPolicyName: 'verify-images' });
    expect(manifests.map((m) => m.kind)).toEqual(['TrustStore', 'TrustStore', 'TrustPolicy', 'Role', 'RoleBinding', 'ClusterPolicy']);
    expect(manifests[5].metadata.name).toBe('verify-images');
    expect(manifests[5].spec.rules[0].context[1].apiCall.data[1]).toEqual({ key: 'imageReferences', value: ['*'] });
    expect(manifests[2].metadata.name).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
  });
});

describe('kyvernoManifests: bad input names the option', () => {
  test.each<[KyvernoManifestOptions, RegExp]>([
    [{ serviceNamespace: 'Signing' }, /serviceNamespace "Signing" is not a valid Kubernetes name/],
    [{ serviceName: 'svc.x' }, /serviceName "svc.x"/],
    [{ kyvernoNamespace: '' }, /kyvernoNamespace ""/],
    [{ namespaces: ['apps', 'Bad_NS'] }, /namespaces "Bad_NS"/],
    [{ kyvernoServiceAccounts: [] }, /kyvernoServiceAccounts must name at least one/],
    [{ clusterPolicyName: 'Verify' }, /clusterPolicyName "Verify"/],
    [{ tlsSecretPath: '/api/v1/secrets/tls' }, /tlsSecretPath "\/api\/v1\/secrets\/tls" must be \/api\/v1\/namespaces\/<namespace>\/secrets\/<name>/],
  ])('%j', (options, message) => {
    expect(() => newPolicy().kyvernoManifests(options)).toThrow(message);
  });
});
