import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Annotations, CfnOutput, Names, Stack, Token } from 'aws-cdk-lib';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as iam from 'aws-cdk-lib/aws-iam';
import { RegionInfo } from 'aws-cdk-lib/region-info';
import { Construct } from 'constructs';
import { KyvernoManifestOptions } from './kyverno-manifests';
import { validationError } from './private/errors';
import { renderKyvernoManifests } from './private/kyverno';
import { withPlaceholders } from './private/placeholders';
import { grantRevocationStatus, partitionRevocationResources, profileRevocationResources, revocationResources } from './private/revocation-grants';
import { AWS_SIGNER_TRUST_STORE_CERTIFICATES, AWS_SIGNER_TRUST_STORES, AwsSignerTrustStore, awsSignerTrustStore } from './shared/aws-signer';
import {
  isAwsSignerProfileArn,
  parseTrustPolicy,
  TRUST_STORE_NAME,
  TRUST_STORE_TYPES,
  TrustPolicyStatement,
  TrustStoreType,
  validateTrustPolicyDocument,
  VERIFICATION_LEVELS,
} from './shared/trust-policy';
import { INotationSigningProfile } from './signing-profile';

/** Notary Project verification levels: what each level does with each check (notation's trust policy `level`). */
export enum VerificationLevel {
  /** Every check is enforced: integrity, authenticity, authentic timestamp, expiry, revocation. */
  STRICT = 'strict',
  /** Integrity and authenticity are enforced; authentic timestamp, expiry and revocation are only logged. */
  PERMISSIVE = 'permissive',
  /** Integrity is enforced; everything else is only logged. */
  AUDIT = 'audit',
  /** No signature is verified (the statement must then have no signing profiles). */
  SKIP = 'skip',
}

/** What a verification check does when it fails (notation's `override` values). */
export enum VerificationAction {
  /** A failure fails the verification. */
  ENFORCE = 'enforce',
  /** A failure is logged; the verification goes on. */
  LOG = 'log',
  /** The check does not run (allowed only for revocation). */
  SKIP = 'skip',
}

/** When the authentic (signing) timestamp is verified (notation's `verifyTimestamp`). */
export enum TimestampVerification {
  /** Always (notation's default). */
  ALWAYS = 'always',
  /** Only once the signing certificate has expired. */
  AFTER_CERT_EXPIRY = 'afterCertExpiry',
}

/**
 * Per-check overrides of a verification level (notation's `signatureVerification.override`).
 * Integrity cannot be overridden, and only revocation may be skipped.
 */
export interface VerificationOverrides {
  /**
   * @default - as the level says
   */
  readonly authenticity?: VerificationAction;
  /**
   * @default - as the level says
   */
  readonly authenticTimestamp?: VerificationAction;
  /**
   * @default - as the level says
   */
  readonly expiry?: VerificationAction;
  /**
   * @default - as the level says
   */
  readonly revocation?: VerificationAction;
}

/** What every trust policy statement is made of, except its name and signing profiles. */
export interface TrustPolicyStatementBaseProps {
  /**
   * Trust only the current version of each signing profile: the trusted identities become profile version ARNs
   * instead of profile ARNs (which accept every version).
   *
   * @default false
   */
  readonly pinVersions?: boolean;

  /**
   * Registry scopes (`<registry>/<repository>`, no tag or digest; `*` for every repository) the statement applies to.
   *
   * @default - none; give `registryScopes`, `repositories` or both
   */
  readonly registryScopes?: string[];

  /**
   * ECR repositories the statement applies to: each adds the scope
   * `<account>.dkr.ecr.<region>.<urlSuffix>/<repositoryName>` (resolved by CloudFormation where it is a token).
   *
   * @default - none; give `registryScopes`, `repositories` or both
   */
  readonly repositories?: ecr.IRepository[];

  /**
   * The verification level.
   *
   * @default VerificationLevel.STRICT
   */
  readonly level?: VerificationLevel;

  /**
   * Per-check overrides of the level, e.g. `{ revocation: VerificationAction.LOG }`.
   *
   * @default - none
   */
  readonly overrides?: VerificationOverrides;

  /**
   * When to verify the authentic signing timestamp.
   *
   * @default - notation's default (always); the key is left out of the document
   */
  readonly verifyTimestamp?: TimestampVerification;

  /**
   * The name of the `signingAuthority` trust store holding the AWS Signer root certificate.
   *
   * @default - `aws-signer-ts` in the `aws` partition and `aws-us-gov-signer-ts` in `aws-us-gov` (the names AWS's
   * notation installer uses); both stores when the stack's partition is known only at deploy time
   */
  readonly trustStoreName?: string;
}

/** Properties of a `TrustPolicy`: its first statement, and how it is named and published. */
export interface TrustPolicyProps extends TrustPolicyStatementBaseProps {
  /**
   * The signing profiles whose signatures are trusted (their ARNs become the trusted identities).
   * Must be empty for `VerificationLevel.SKIP` and non-empty otherwise.
   */
  readonly signingProfiles: INotationSigningProfile[];

  /**
   * The name of the first statement.
   *
   * @default 'aws-signer-tp'
   */
  readonly statementName?: string;

  /**
   * The policy's name where it is a named resource: the kyverno-notation-aws `TrustPolicy` (Kubernetes name rules:
   * lower-case letters, digits and `-`).
   *
   * @default - generated from the construct path
   */
  readonly policyName?: string;

  /**
   * Publish the trust policy JSON as a stack output, for the people who audit the stack.
   *
   * @default false
   */
  readonly emitOutput?: boolean;
}

/** A further statement of a `TrustPolicy`. */
export interface TrustPolicyStatementOptions extends TrustPolicyStatementBaseProps {
  /** The statement name, unique in the policy. */
  readonly name: string;

  /**
   * The signing profiles whose signatures are trusted.
   *
   * @default - none (only valid with `VerificationLevel.SKIP`)
   */
  readonly signingProfiles?: INotationSigningProfile[];
}

/** Options of `TrustPolicy.fromJson` and `TrustPolicy.fromFile`: what a `trustpolicy.json` does not hold. */
export interface TrustPolicyImportOptions {
  /**
   * The certificates of the trust stores the policy names, other than the AWS Signer stores this library has built in
   * (`signingAuthority:aws-signer-ts` and `signingAuthority:aws-us-gov-signer-ts`): notation's `<type>:<name>`
   * (e.g. `ca:corp-root`, `tsa:timestamping`) to PEM text of one or more certificates, the files of
   * `notation cert ls`. A store given here replaces a built-in one of the same name.
   *
   * @default - only the built-in AWS Signer stores
   */
  readonly trustStores?: { [store: string]: string };

  /**
   * ECR repositories that the policy's registry scopes cover: `ImageVerifier` and `EcsSignatureEnforcement` read
   * them when they are given no `repositories` of their own.
   *
   * @default - none; give the verifier and the enforcement their `repositories`
   */
  readonly repositories?: ecr.IRepository[];

  /**
   * The policy's name where it is a named resource: the kyverno-notation-aws `TrustPolicy`.
   *
   * @default - generated from the construct path
   */
  readonly policyName?: string;

  /**
   * Publish the trust policy JSON as a stack output.
   *
   * @default false
   */
  readonly emitOutput?: boolean;
}

interface StatementConfig {
  readonly name: string;
  readonly signingProfiles: INotationSigningProfile[];
  readonly props: TrustPolicyStatementBaseProps;
  readonly prop: string;
  /** A statement of an imported `trustpolicy.json`, rendered as it was written. */
  readonly imported?: TrustPolicyStatement;
}

/** What `fromJson` and `fromFile` checked before the construct is made. */
interface ImportedPolicy {
  readonly statements: readonly TrustPolicyStatement[];
  readonly trustStores: Readonly<Record<string, string>>;
  readonly repositories: ecr.IRepository[];
}

const KUBERNETES_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/**
 * A Notary Project trust policy (`trustpolicy.json`, version 1.0) for images signed with AWS Signer, with its trust
 * stores, rendered for the `ImageVerifier` function, for notation, and for kyverno-notation-aws on EKS.
 *
 * The policy is checked at synth time with the same rules the verifier applies: a bad policy fails `cdk synth` with
 * a message naming the statement and the field.
 */
export class TrustPolicy extends Construct {
  /**
   * A trust policy from the text of a `trustpolicy.json` (version 1.0, as `notation policy show` prints it), e.g. the
   * one a security team keeps: its statements are kept as written, checked with every rule notation applies. The
   * certificates of trust stores other than AWS Signer's come in `options.trustStores`. Statements added with
   * `addStatement` come after the imported ones. Nothing is added to `scope` when the policy or a store is invalid.
   */
  public static fromJson(scope: Construct, id: string, json: string, options: TrustPolicyImportOptions = {}): TrustPolicy {
    return TrustPolicy.fromDocument(scope, id, json, 'TrustPolicy.fromJson', options);
  }

  /** A trust policy from a `trustpolicy.json` file, read at synth time (see `fromJson`). */
  public static fromFile(scope: Construct, id: string, path: string, options: TrustPolicyImportOptions = {}): TrustPolicy {
    let json: string;
    try {
      json = readFileSync(path, 'utf8');
    } catch (error) {
      throw validationError('TrustPolicyFileUnreadable', `TrustPolicy.fromFile: cannot read "${path}": ${(error as Error).message}`, scope);
    }
    return TrustPolicy.fromDocument(scope, id, json, `TrustPolicy.fromFile(${JSON.stringify(path)})`, options);
  }

  /** Handed from `fromDocument` to the constructor, which cannot take it as a prop (it is no part of the API). */
  private static pendingImport: ImportedPolicy | undefined;

  private static fromDocument(scope: Construct, id: string, json: string, what: string, options: TrustPolicyImportOptions): TrustPolicy {
    let statements: readonly TrustPolicyStatement[];
    try {
      statements = parseTrustPolicy(json).trustPolicies;
    } catch (error) {
      throw validationError('TrustPolicyJsonInvalid', `${what}: ${(error as Error).message}`, scope);
    }
    const trustStores = importedTrustStores(scope, what, statements, options.trustStores ?? {});
    TrustPolicy.pendingImport = { statements, trustStores, repositories: options.repositories ?? [] };
    try {
      return new TrustPolicy(scope, id, { signingProfiles: [], policyName: options.policyName, emitOutput: options.emitOutput });
    } finally {
      TrustPolicy.pendingImport = undefined;
    }
  }

  /** The policy's name as a named resource (the kyverno-notation-aws `TrustPolicy`). */
  public readonly policyName: string;

  private readonly statements: StatementConfig[] = [];
  private readonly partition: string | undefined;
  private readonly revocationGrantees: iam.IGrantable[] = [];
  private readonly imported: ImportedPolicy | undefined;

  constructor(scope: Construct, id: string, props: TrustPolicyProps) {
    super(scope, id);
    this.imported = TrustPolicy.pendingImport;
    TrustPolicy.pendingImport = undefined;

    this.partition = stackPartition(Stack.of(this));
    if (this.partition !== undefined && !awsSignerTrustStore(this.partition)) {
      throw validationError(
        'PartitionUnknown',
        `TrustPolicy: there is no AWS Signer root certificate for partition "${this.partition}" (known: ${Object.keys(AWS_SIGNER_TRUST_STORES).join(', ')})`,
        this,
      );
    }

    const policyName = props.policyName;
    if (policyName !== undefined && !Token.isUnresolved(policyName) && (!KUBERNETES_NAME.test(policyName) || policyName.length > 63)) {
      throw validationError('PolicyNameInvalid', `policyName "${props.policyName}" is invalid: use at most 63 lower-case letters, digits and "-", starting and ending with a letter or digit`, this);
    }
    this.policyName =
      props.policyName ?? Names.uniqueResourceName(this, { maxLength: 63, separator: '-', allowedSpecialCharacters: '-' }).toLowerCase().replace(/^-+|-+$/g, '');

    if (this.imported) {
      for (const statement of this.imported.statements) {
        this.addStatementConfig({ name: statement.name, signingProfiles: [], props: {}, prop: `statement ${JSON.stringify(statement.name)}`, imported: statement });
      }
    } else {
      this.addStatementConfig({ name: props.statementName ?? 'aws-signer-tp', signingProfiles: props.signingProfiles, props, prop: 'TrustPolicy props' });
    }

    if (props.emitOutput) {
      new CfnOutput(this, 'TrustPolicyJson', {
        description: 'Notary Project trust policy (trustpolicy.json) the image verifier applies',
        value: this.toJsonString(),
      });
    }

    this.node.addValidation({ validate: () => this.validateDocument() });
  }

  /** The ECR repositories given to the policy's statements (the `ImageVerifier` reads them by default). */
  public get repositories(): ecr.IRepository[] {
    const repositories: ecr.IRepository[] = [];
    for (const given of [this.imported?.repositories ?? [], ...this.statements.map((statement) => statement.props.repositories ?? [])]) {
      for (const repository of given) {
        if (!repositories.includes(repository)) repositories.push(repository);
      }
    }
    return repositories;
  }

  /**
   * Grants checking the revocation status of the signatures this policy trusts (`signer:GetRevocationStatus`).
   *
   * The `ImageVerifier` and `EcsSignatureEnforcement` functions get this grant. The resources are the signing
   * profiles of the statements that check revocation (each profile ARN with its versions, `<profile ARN>/*`, or the
   * version it pins with `pinVersions`) and the signing jobs of each profile's account and region
   * (`arn:<partition>:signer:<region>:<account>:/signing-jobs/*`). For a policy from `fromJson`, its AWS Signer
   * profile ARNs; its `x509.subject` identities under a store holding an AWS Signer root may name any profile, so they
   * get every profile and job of the partition. Statements added later extend the grant; statements whose revocation
   * check is skipped add nothing.
   */
  public grantRevocationCheck(grantee: iam.IGrantable): iam.Grant {
    this.revocationGrantees.push(grantee);
    const resources = [...new Set(this.statements.flatMap((statement) => this.revocationResourcesOf(statement)))];
    return resources.length > 0 ? grantRevocationStatus(grantee, resources) : iam.Grant.drop(grantee, 'checking revocation: no statement of the trust policy checks it');
  }

  /** Adds a statement (for other repositories, other signing profiles or another level). */
  public addStatement(options: TrustPolicyStatementOptions): void {
    this.addStatementConfig({
      name: options.name,
      signingProfiles: options.signingProfiles ?? [],
      props: options,
      prop: `addStatement(${JSON.stringify(options.name)})`,
    });
  }

  /**
   * The trust policy document (`trustpolicy.json`), as an object. Values known only at deploy time (ARNs of profiles
   * made in the stack, repository URIs) are tokens: render it with `toJsonString()` (or `Stack.toJsonString`).
   */
  public get document(): any {
    return {
      version: '1.0',
      trustPolicies: this.statements.map((statement) => this.renderStatement(statement)),
    };
  }

  /** The trust policy JSON as a string, resolved by CloudFormation at deploy time (for environment variables, outputs). */
  public toJsonString(): string {
    return Stack.of(this).toJsonString(this.document);
  }

  /**
   * The trust stores the policy names, as notation `<type>:<name>` (e.g. `signingAuthority:aws-signer-ts`) to the
   * PEM text of their certificates: the AWS Signer root of the stack's partition (both roots when the partition is
   * known only at deploy time).
   */
  public get trustStores(): { [store: string]: string } {
    const stores: { [store: string]: string } = {};
    for (const statement of this.statements) {
      if (statement.imported) {
        for (const store of statement.imported.trustStores ?? []) stores[store] = this.imported!.trustStores[store];
        continue;
      }
      if (levelOf(statement.props) === VerificationLevel.SKIP) continue;
      for (const store of this.storesOf(statement.props)) stores[`signingAuthority:${store.name}`] = store.pem;
    }
    return stores;
  }

  /**
   * Kubernetes manifests for EKS clusters running kyverno-notation-aws, in apply order: one `TrustStore` per trust
   * store and the `TrustPolicy` (`notation.nirmata.io/v1alpha1`, their names prefixed with `policyName` so policies of
   * several stacks can share a cluster), a `Role` and `RoleBinding` letting Kyverno's controllers read the service's
   * TLS secret, a Kyverno `ClusterPolicy` that sends each pod's images to the service's `checkimages` endpoint and
   * denies the pod unless they verify (Kyverno's autogen extends it to Deployments and the other pod controllers),
   * and a second `ClusterPolicy` rewriting tags to the verified digests. Values known only at deploy time are tokens
   * (e.g. for `eks.Cluster.addManifest`). The CRDs cannot express `verifyTimestamp`: a statement that sets it gets a
   * synth-time warning, and the service applies notation's default (always).
   */
  public kyvernoManifests(options: KyvernoManifestOptions = {}): any[] {
    const timestamped = this.statements.filter(
      (statement) => (statement.imported?.signatureVerification.verifyTimestamp ?? statement.props.verifyTimestamp) !== undefined,
    );
    if (timestamped.length > 0) {
      Annotations.of(this).addWarningV2(
        'cdk-signed-image-pipeline:kyvernoVerifyTimestamp',
        `verifyTimestamp is set on statement(s) ${timestamped.map((statement) => JSON.stringify(statement.name)).join(', ')}, ` +
          'but the kyverno-notation-aws TrustPolicy CRD has no such field: the manifests leave it out and the service verifies the timestamp always',
      );
    }
    return renderKyvernoManifests(
      this,
      {
        policyName: this.policyName,
        trustStores: Object.entries(this.trustStores).map(([store, pem]) => ({
          type: store.slice(0, store.indexOf(':')),
          name: store.slice(store.indexOf(':') + 1),
          pem,
        })),
        statements: this.statements.map((statement) => this.renderStatement(statement)),
        imageReferences: this.imageReferenceGlobs(),
      },
      options,
    );
  }

  private imageReferenceGlobs(): string[] {
    const scopes = this.statements.flatMap(registryScopesOf);
    if (scopes.includes('*')) return ['*'];
    return scopes.flatMap((scope) => [`${scope}:*`, `${scope}@*`]);
  }

  private addStatementConfig(config: StatementConfig): void {
    const { props, prop } = config;
    if (config.imported) {
      // Checked whole by parseTrustPolicy in fromDocument, and with the other statements at synth.
      this.addChecked(config);
      return;
    }
    if (!Token.isUnresolved(config.name) && config.name === '') throw validationError('StatementNameEmpty', `${prop}: the statement name must not be empty`, this);
    const level = levelOf(props);
    if (level === VerificationLevel.SKIP) {
      if (config.signingProfiles.length > 0) {
        throw validationError('SkipStatementProfiles', `${prop}: signingProfiles must be empty when level is VerificationLevel.SKIP (a skip statement trusts no identity)`, this);
      }
    } else if (config.signingProfiles.length === 0) {
      throw validationError('StatementProfilesMissing', `${prop}: signingProfiles must name at least one signing profile to trust (level "${level}")`, this);
    }
    if ((props.registryScopes ?? []).length === 0 && (props.repositories ?? []).length === 0) {
      throw validationError(
        'StatementScopeMissing',
        `${prop}: give registryScopes, repositories or both: the registry scopes the statement applies to (registryScopes: ['*'] for every repository)`,
        this,
      );
    }
    if (props.trustStoreName !== undefined && !Token.isUnresolved(props.trustStoreName) && !TRUST_STORE_NAME.test(props.trustStoreName)) {
      throw validationError('TrustStoreNameInvalid', `${prop}: trustStoreName "${props.trustStoreName}" is invalid: trust store names are letters, digits, "_", "." and "-"`, this);
    }
    if (props.pinVersions) {
      for (const profile of config.signingProfiles) {
        if (!hasKnownVersion(profile)) {
          throw validationError(
            'PinnedVersionUnknown',
            `${prop}: pinVersions trusts each profile's version ARN, and the imported signing profile ${profile.node.path} has none: pass ` +
              'signingProfileVersionArn (or signingProfileVersion) to NotationSigningProfile.fromSigningProfileAttributes, or leave pinVersions off',
            this,
          );
        }
      }
    }
    this.addChecked(config);
  }

  private addChecked(config: StatementConfig): void {
    this.statements.push(config);
    const revocation = this.revocationResourcesOf(config);
    if (revocation.length > 0) for (const grantee of this.revocationGrantees) grantRevocationStatus(grantee, revocation);
  }

  /**
   * The `signer:GetRevocationStatus` resources of a statement's trusted identities; none when it does not check
   * revocation. An imported statement's profile ARNs give their profiles; its other identities need every profile of
   * the partition, and only where a trust store holds an AWS Signer root (other signatures are checked with OCSP or
   * CRLs, not by AWS Signer).
   */
  private revocationResourcesOf(statement: StatementConfig): string[] {
    const { imported } = statement;
    if (!imported) {
      const level = levelOf(statement.props);
      const revocation = statement.props.overrides?.revocation ?? (level === VerificationLevel.SKIP ? VerificationAction.SKIP : undefined);
      if (revocation === VerificationAction.SKIP) return [];
      return statement.signingProfiles.flatMap((profile) => revocationResources(profile, statement.props.pinVersions ?? false));
    }
    const verification = imported.signatureVerification;
    if ((verification.override?.revocation ?? VERIFICATION_LEVELS[verification.level].revocation) === 'skip') return [];
    // The partitions whose AWS Signer root a store of the statement holds: any of their profiles may sign.
    const partitions = [...new Set((imported.trustStores ?? []).flatMap((store) => awsSignerPartitions(this.imported!.trustStores[store])))];
    return [...new Set((imported.trustedIdentities ?? []).flatMap((identity) =>
      isAwsSignerProfileArn(identity) ? profileRevocationResources(identity) : partitions.flatMap(partitionRevocationResources),
    ))];
  }

  private renderStatement(statement: StatementConfig): any {
    if (statement.imported) return JSON.parse(JSON.stringify(statement.imported));
    const { props } = statement;
    const level = levelOf(props);
    const override = Object.fromEntries(
      (['authenticity', 'authenticTimestamp', 'expiry', 'revocation'] as const)
        .filter((check) => props.overrides?.[check] !== undefined)
        .map((check) => [check, props.overrides![check]]),
    );
    const signatureVerification = {
      level,
      ...(Object.keys(override).length > 0 ? { override } : {}),
      ...(props.verifyTimestamp !== undefined ? { verifyTimestamp: props.verifyTimestamp } : {}),
    };
    const rendered: any = { name: statement.name, registryScopes: registryScopesOf(statement), signatureVerification };
    if (level !== VerificationLevel.SKIP) {
      rendered.trustStores = this.storesOf(props).map((store) => `signingAuthority:${store.name}`);
      rendered.trustedIdentities = statement.signingProfiles.map((profile) =>
        props.pinVersions ? profile.signingProfileVersionArn : profile.signingProfileArn,
      );
    }
    return rendered;
  }

  /** The named stores of a statement: the partition's AWS Signer root, or both roots when the partition is a token. */
  private storesOf(props: TrustPolicyStatementBaseProps): AwsSignerTrustStore[] {
    const known = this.partition !== undefined ? [AWS_SIGNER_TRUST_STORES[this.partition]] : Object.values(AWS_SIGNER_TRUST_STORES);
    if (props.trustStoreName === undefined) return known;
    // One named store holding the root (or roots) of the partition(s) the stack may deploy to.
    return [{ name: props.trustStoreName, pem: known.map((store) => store.pem).join('\n') }];
  }

  private validateDocument(): string[] {
    const document = this.document;
    const resolved = Stack.of(this).resolve(document);
    const hasTokens = JSON.stringify(resolved) !== JSON.stringify(document);
    try {
      validateTrustPolicyDocument(JSON.stringify(withPlaceholders(document, (token) => Stack.of(this).resolve(token))));
      return [];
    } catch (error) {
      const message = (error as Error).message;
      return [
        `Invalid trust policy: ${message}` +
          (hasTokens ? ' (values known only at deploy time are shown as "placeholder<N>" in this check)' : ''),
      ];
    }
  }
}

function levelOf(props: TrustPolicyStatementBaseProps): VerificationLevel {
  return props.level ?? VerificationLevel.STRICT;
}

function registryScopesOf(statement: StatementConfig): string[] {
  if (statement.imported) return [...statement.imported.registryScopes];
  const { props } = statement;
  return [...(props.registryScopes ?? []), ...(props.repositories ?? []).map((repository) => repository.repositoryUri)];
}

const AWS_SIGNER_ROOT_PARTITIONS: ReadonlyMap<string, string> = new Map(
  Object.entries(AWS_SIGNER_TRUST_STORES).map(([partition, store]) => [new X509Certificate(store.pem).fingerprint256, partition]),
);
const CERTIFICATE_PEM = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/**
 * The certificates of each trust store an imported policy names: from `given`, else built in. Throws naming the
 * store when a statement names one that is neither, when a given store is malformed or holds something other than
 * certificates, or when a given store is named by no statement (a misspelt key would otherwise be ignored).
 */
function importedTrustStores(
  scope: Construct,
  what: string,
  statements: readonly TrustPolicyStatement[],
  given: Record<string, string>,
): Record<string, string> {
  for (const [store, pem] of Object.entries(given)) {
    const colon = store.indexOf(':');
    const type = store.slice(0, colon);
    if (colon < 0 || !TRUST_STORE_TYPES.includes(type as TrustStoreType) || !TRUST_STORE_NAME.test(store.slice(colon + 1))) {
      throw validationError(
        'TrustStoreKeyInvalid',
        `${what}: trustStores key "${store}" is not <type>:<name> with type ${TRUST_STORE_TYPES.join(', ')} and a name of letters, digits, "_", "." and "-"`,
        scope,
      );
    }
    const certificates = Token.isUnresolved(pem) ? undefined : pem.match(CERTIFICATE_PEM);
    if (!certificates || pem.replace(CERTIFICATE_PEM, '').trim() !== '') {
      throw validationError('TrustStorePemInvalid', `${what}: trustStores["${store}"] must be PEM text holding only CERTIFICATE blocks, known at synth time`, scope);
    }
    for (const [index, certificate] of certificates.entries()) {
      try {
        new X509Certificate(certificate);
      } catch (error) {
        throw validationError('TrustStorePemInvalid', `${what}: certificate #${index + 1} of trustStores["${store}"] is not a valid X.509 certificate: ${(error as Error).message}`, scope);
      }
    }
  }
  const stores: Record<string, string> = {};
  for (const statement of statements) {
    for (const store of statement.trustStores ?? []) {
      const pem = given[store] ?? AWS_SIGNER_TRUST_STORE_CERTIFICATES[store];
      if (pem === undefined) {
        throw validationError(
          'TrustStoreMissing',
          `${what}: statement ${JSON.stringify(statement.name)} names trust store "${store}", which is not built in (${Object.keys(AWS_SIGNER_TRUST_STORE_CERTIFICATES).join(', ')}): ` +
            `give its certificates as options.trustStores["${store}"] (PEM text)`,
          scope,
        );
      }
      stores[store] = pem;
    }
  }
  const unused = Object.keys(given).filter((store) => stores[store] === undefined);
  if (unused.length > 0) {
    throw validationError('TrustStoreUnused', `${what}: trustStores ${unused.map((store) => `"${store}"`).join(', ')} named by no statement of the policy`, scope);
  }
  return stores;
}

/** The partitions whose AWS Signer root certificate PEM text holds (their signatures verify under the store). */
function awsSignerPartitions(pem: string): string[] {
  return (pem.match(CERTIFICATE_PEM) ?? []).flatMap((certificate) => {
    const partition = AWS_SIGNER_ROOT_PARTITIONS.get(new X509Certificate(certificate).fingerprint256);
    return partition ? [partition] : [];
  });
}

/** The stack's partition when it is known at synth time (from the stack, or from its region), else undefined. */
function stackPartition(stack: Stack): string | undefined {
  if (!Token.isUnresolved(stack.partition)) return stack.partition;
  if (!Token.isUnresolved(stack.region)) return RegionInfo.get(stack.region).partition;
  return undefined;
}

/** Whether a profile's version ARN is known (an imported profile has it only when its attributes give it). */
function hasKnownVersion(profile: INotationSigningProfile): boolean {
  try {
    return profile.signingProfileVersionArn !== undefined;
  } catch {
    return false;
  }
}
