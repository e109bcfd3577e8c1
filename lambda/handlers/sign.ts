/**
 * The sign handler (ImageSigner): signs an image, pinned by digest, with every configured AWS Signer
 * signing profile in turn (or with the one `signingProfileArn` selects), and writes provenance annotations
 * into the signed payload.
 *
 * Environment (set by the ImageSigner construct):
 * - `SIGNING_PROFILES`: JSON array of `{"profileName": string, "profileOwner"?: string, "profileArn": string}`;
 *   the image is signed with each, in order, unless `signingProfileArn` selects one of them.
 * - `ALLOWED_REPOSITORIES`: JSON array of repository URIs (`<registry>/<repository>`) this function may
 *   sign in; any other image is refused (defense in depth next to the role's ECR permissions).
 * - `SIGNATURE_MANIFEST_FORMAT`: `oci-1.1` (default) or `legacy`.
 * - `SIGN_INDEX_CHILDREN`: `true` (default) or `false`: whether an image index is signed with every manifest it lists.
 * - `AWS_REGION` (set by Lambda): the pipeline's region, for its ARN in a provenance.
 * - `REGISTRY_PLAIN_HTTP_HOSTS`: tests and local runs only, see registry.ts.
 *
 * Parameters (UserParameters JSON of a CodePipeline job, or the event of a direct invocation):
 * `imageUri` (required, pinned by digest), `userMetadata` (object of strings), `force` (sign again even if a
 * valid signature by the same profile over the same annotations exists), `signingProfileArn` (the
 * `profileArn` of one of the SIGNING_PROFILES: sign with that profile only; SignedImagePipeline passes it so
 * that each Sign action signs with one profile in turn; an ARN that is not configured fails the invocation
 * before anything is read or signed), `buildId` (CodeBuild build id or ARN), `pipelineExecutionId`,
 * `sourceRevision`, `recursive` (for an image index: sign the index and every manifest it lists, each with
its own signature, platform manifests first; default SIGN_INDEX_CHILDREN). An EventBridge "ECR Image Action" push event is accepted as a direct invocation too.
 * `attachProvenance` (a job only, with `buildId`: after signing, attach a SLSA provenance assembled from CodeBuild and
 * CodePipeline's answers, signed by the last profile; see pipeline-provenance.ts), `sourceRepository`, `sourceBranch`,
 * `sourceCommit` (the source it records) and `sbomFormat` (`spdx` or `cyclonedx`: attach the input artifact's
 * `sbom.json`, signed).
 *
 * Job output variables: `IMAGE_DIGEST`, `SIGNATURE_DIGEST` (the last profile's signature),
 * `SIGNATURES` (every profile's signature digest, comma-separated, in profile order) and `SIGNING_JOB_ARN`
 * (the last profile's signing job, when a new signature was made). With attestations: `PROVENANCE_DIGEST`, `SBOM_DIGEST` (the
 * attestation manifests). With `signingProfileArn`, the last (and
 * only) profile is the selected one.
 */
import { AwsClients, awsClients } from './clients';
import { abortable } from './deadline';
import { LambdaContext } from './event';
import { errorFields, Logger } from './log';
import { isPlainObject, ParameterError, Parameters } from './parameters';
// eslint-disable-next-line import/order
import type { Build } from '@aws-sdk/client-codebuild';
import { attachPipelineAttestations, AttachedAttestations, AttestationRequest, SBOM_FILE } from './pipeline-attestations';
import { buildAnnotations, checkPayloadSize, describeBuild, parseBuildReference, PROVENANCE_PREFIX, ProvenanceAnnotation } from './provenance';
import { openImage, PLAIN_HTTP_HOSTS_ENV, plainHttpRegistries } from './registry';
import { coldStartConfig, ConfigurationError, Handler, HandlerOptions, JobResult, runHandler, WorkInput } from './runner';
import { SIGNING_PROFILE_NAME } from '../../src/shared/aws-signer';
import { IMAGE_PARAMETERS, SIGN_PARAMETERS } from '../../src/shared/handler-parameters';
import { RESERVED_METADATA_PREFIX } from '../notary/sign-image';
import { signImageRecursively } from '../notary/sign-index';
import { SignatureManifestFormat } from '../notary/signature-manifest';
import { parseCertificateFile } from '../notary/trust-store';
import { MediaType } from '../oci/media-types';
import { parseReference } from '../oci/reference';
import { DEFAULT_LIMITS, OciRepository } from '../oci/repository';
import { AwsSignerSigner, parseSigningProfileArn, SigningProfile } from '../signers/aws-signer';

export interface SigningProfileConfig {
  readonly profileName: string;
  readonly profileOwner?: string;
  readonly profileArn: string;
  /** The profile's region (from its ARN): SignPayload is called there. */
  readonly region: string;
}

export interface SignConfig {
  readonly profiles: readonly SigningProfileConfig[];
  /** Normalised `<registry>/<repository>` names. */
  readonly allowedRepositories: ReadonlySet<string>;
  readonly manifestFormat: SignatureManifestFormat;
  /** Sign an image index with every manifest it lists unless a request says otherwise. */
  readonly signIndexChildren: boolean;
  readonly plainHttp: ReadonlySet<string>;
  /** The roots AWS Signer's envelopes must chain to. @default AWS's published root of each profile's partition */
  readonly signerRoots?: readonly Uint8Array[];
  /** The function's region (`AWS_REGION`): the pipeline's, for its ARN in the provenance. */
  readonly region?: string;
}

const ACCOUNT = /^[0-9]{12}$/;
const MAX_PROFILES = 20;

function parseJsonEnv(env: Readonly<Record<string, string | undefined>>, name: string): unknown {
  const text = env[name];
  if (text === undefined || text.trim() === '') throw new ConfigurationError(`${name} is not set; the ImageSigner construct sets it`);
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ConfigurationError(`${name} is not valid JSON: ${(error as Error).message}`);
  }
}

/** Reads and validates the function's configuration. Throws ConfigurationError naming the variable. */
export function loadSignConfig(env: Readonly<Record<string, string | undefined>>, log?: Logger): SignConfig {
  const profilesJson = parseJsonEnv(env, 'SIGNING_PROFILES');
  if (!Array.isArray(profilesJson) || profilesJson.length === 0) {
    throw new ConfigurationError('SIGNING_PROFILES must be a non-empty JSON array of {"profileName", "profileOwner"?, "profileArn"}');
  }
  if (profilesJson.length > MAX_PROFILES) throw new ConfigurationError(`SIGNING_PROFILES has ${profilesJson.length} profiles; at most ${MAX_PROFILES} are supported`);
  const profiles = profilesJson.map((entry, index): SigningProfileConfig => {
    const where = `SIGNING_PROFILES[${index}]`;
    if (!isPlainObject(entry)) throw new ConfigurationError(`${where} must be an object`);
    const { profileName, profileOwner, profileArn } = entry;
    if (typeof profileName !== 'string' || !SIGNING_PROFILE_NAME.test(profileName)) {
      throw new ConfigurationError(`${where}.profileName must be a signing profile name (2 to 64 letters, digits or underscores)`);
    }
    if (profileOwner !== undefined && (typeof profileOwner !== 'string' || !ACCOUNT.test(profileOwner))) {
      throw new ConfigurationError(`${where}.profileOwner must be a 12-digit AWS account id`);
    }
    if (typeof profileArn !== 'string') throw new ConfigurationError(`${where}.profileArn must be a signing profile ARN (arn:aws:signer:<region>:<account>:/signing-profiles/<name>)`);
    let arn: SigningProfile;
    try {
      arn = parseSigningProfileArn(profileArn);
    } catch (error) {
      throw new ConfigurationError(`${where}.profileArn: ${(error as Error).message}`);
    }
    if (arn.name !== profileName) {
      throw new ConfigurationError(`${where}.profileArn names profile "${arn.name}" but profileName is "${profileName}"`);
    }
    if (profileOwner !== undefined && arn.account !== profileOwner) {
      throw new ConfigurationError(`${where}.profileArn is in account ${arn.account} but profileOwner is ${profileOwner}`);
    }
    return { profileName, profileOwner: profileOwner as string | undefined, profileArn, region: arn.region };
  });
  const signerRoots = env[AWS_SIGNER_ROOTS_ENV]?.trim() ? parseRootsEnv(env[AWS_SIGNER_ROOTS_ENV] as string) : undefined;

  const repositoriesJson = parseJsonEnv(env, 'ALLOWED_REPOSITORIES');
  if (!Array.isArray(repositoriesJson)) throw new ConfigurationError('ALLOWED_REPOSITORIES must be a JSON array of repository URIs (<registry>/<repository>)');
  const allowedRepositories = new Set<string>();
  repositoriesJson.forEach((entry, index) => {
    const where = `ALLOWED_REPOSITORIES[${index}]`;
    if (typeof entry !== 'string') throw new ConfigurationError(`${where} must be a string`);
    let name: string;
    try {
      const reference = parseReference(entry);
      if (reference.tag || reference.digest) throw new Error('a repository URI has no tag or digest');
      name = reference.repositoryName;
    } catch (error) {
      throw new ConfigurationError(`${where} is not a repository URI (<registry>/<repository>): ${(error as Error).message}`);
    }
    allowedRepositories.add(name);
  });

  const format = env.SIGNATURE_MANIFEST_FORMAT?.trim() || 'oci-1.1';
  if (format !== 'oci-1.1' && format !== 'legacy') {
    throw new ConfigurationError(`SIGNATURE_MANIFEST_FORMAT must be "oci-1.1" or "legacy", got "${format.slice(0, 50)}"`);
  }
  const children = env.SIGN_INDEX_CHILDREN?.trim() || 'true';
  if (children !== 'true' && children !== 'false') {
    throw new ConfigurationError(`SIGN_INDEX_CHILDREN must be "true" or "false", got "${children.slice(0, 50)}"`);
  }
  return {
    profiles,
    allowedRepositories,
    manifestFormat: format,
    signIndexChildren: children === 'true',
    plainHttp: plainHttpRegistries(env[PLAIN_HTTP_HOSTS_ENV], log),
    signerRoots,
    ...(env.AWS_REGION ? { region: env.AWS_REGION } : {}),
  };
}

/**
 * Optional: PEM roots that AWS Signer's envelopes must chain to, instead of AWS's published root of each
 * profile's partition (a private test CA standing in for AWS Signer).
 */
export const AWS_SIGNER_ROOTS_ENV = 'AWS_SIGNER_ROOTS';

function parseRootsEnv(pem: string): Uint8Array[] {
  try {
    return parseCertificateFile(new TextEncoder().encode(pem), AWS_SIGNER_ROOTS_ENV);
  } catch (error) {
    throw new ConfigurationError(`${AWS_SIGNER_ROOTS_ENV} must hold PEM certificates: ${(error as Error).message}`);
  }
}

/** One profile's signature. */
export interface ProfileSignature {
  readonly profileArn: string;
  readonly signatureDigest: string;
  /** True when an existing valid signature by this profile over the same annotations was kept. */
  readonly reused: boolean;
  readonly signingJobArn?: string;
  /**
   * For an image index signed with its manifests: every manifest's signature, the listed manifests first and
   * the index last (the index's is `signatureDigest`).
   */
  readonly manifests?: readonly { readonly digest: string; readonly signatureDigest: string; readonly reused: boolean }[];
}

/** What a direct invocation returns. */
export interface SignResult {
  /** `<registry>/<repository>@<digest>` */
  readonly imageUri: string;
  readonly imageDigest: string;
  /** The last profile's signature digest (absent when skipped). */
  readonly signatureDigest?: string;
  /** The last profile's signing job, when it made a new signature. */
  readonly signingJobArn?: string;
  readonly signatures: ProfileSignature[];
  /** The annotations signed in the payload: userMetadata and provenance. */
  readonly annotations: Record<string, string>;
  /** Why nothing was signed (the digest is a Notary signature, e.g. a push event for a signature). */
  readonly skipped?: string;
  /** The signed attestations attached (`attachProvenance`, `sbomFormat`), signed by the last profile. */
  readonly attestations?: AttachedAttestations;
}

const SIGN_FIELDS = [...IMAGE_PARAMETERS, ...SIGN_PARAMETERS];

interface SignRequest {
  readonly reference: ReturnType<Parameters['imageUri']>;
  /** The profiles to sign with, in order: all configured ones, or the one `signingProfileArn` selects. */
  readonly profiles: readonly SigningProfileConfig[];
  readonly annotations: Record<string, string>;
  readonly force: boolean;
  /** Sign an image index with every manifest it lists. */
  readonly recursive: boolean;
  readonly build?: ReturnType<typeof parseBuildReference>;
  readonly attestations: AttestationRequest;
}

/** Validates the parameters; nothing is read or sent before this passes. */
export function parseSignParameters(values: Record<string, unknown>, source: WorkInput['source'], config: SignConfig): SignRequest {
  const parameters = new Parameters(values, source, SIGN_FIELDS);
  const reference = parameters.imageUri();
  const userMetadata = parameters.optionalStringMap('userMetadata', {
    maxEntries: 32,
    maxKeyLength: 128,
    maxValueLength: 1024,
    reservedPrefixes: [
      { prefix: RESERVED_METADATA_PREFIX, reason: 'reserved by the Notary Project' },
      { prefix: PROVENANCE_PREFIX, reason: 'used for provenance annotations' },
    ],
  });
  const force = parameters.optionalBoolean('force') ?? false;
  const recursive = parameters.optionalBoolean('recursive') ?? config.signIndexChildren;
  const profiles = selectProfiles(parameters, config.profiles);
  const buildId = parameters.optionalString('buildId', { maxLength: 512 });
  const build = buildId === undefined ? undefined : parseBuildReference(buildId);
  if (buildId !== undefined && !build) {
    parameters.fail('buildId', 'must be a CodeBuild build id (<project>:<uuid>, CODEBUILD_BUILD_ID) or build ARN (CODEBUILD_BUILD_ARN)');
  }
  const pipelineExecutionId = parameters.optionalString('pipelineExecutionId', {
    maxLength: 128,
    pattern: /^[A-Za-z0-9-]+$/,
    expected: 'a CodePipeline execution id such as #{codepipeline.PipelineExecutionId}',
  });
  const sourceRevision = parameters.optionalString('sourceRevision', { maxLength: 1024 });
  const attestations = parseAttestationParameters(parameters, build !== undefined);

  if (!config.allowedRepositories.has(reference.repositoryName)) {
    const allowed = [...config.allowedRepositories];
    const listed = allowed.length === 0 ? 'none' : allowed.slice(0, 10).join(', ') + (allowed.length > 10 ? `, … (${allowed.length} in all)` : '');
    parameters.fail(
      'imageUri',
      `names repository "${reference.repositoryName}", which this function may not sign in; it signs in: ${listed} (ALLOWED_REPOSITORIES)`,
    );
  }

  const annotations: Record<string, string> = { ...userMetadata };
  if (pipelineExecutionId) annotations[ProvenanceAnnotation.PIPELINE_EXECUTION_ID] = pipelineExecutionId;
  if (sourceRevision) annotations[ProvenanceAnnotation.SOURCE_REVISION] = sourceRevision;
  checkPayloadSize(annotations, `${source}: userMetadata and the provenance parameters`);
  return { reference, profiles, annotations, force, recursive, build, attestations };
}

/** `attachProvenance`, the source it records, and `sbomFormat`. */
function parseAttestationParameters(parameters: Parameters, hasBuild: boolean): AttestationRequest {
  const provenance = parameters.optionalBoolean('attachProvenance') ?? false;
  if (provenance && !hasBuild) parameters.fail('attachProvenance', 'needs buildId: the provenance records the build CodeBuild reports');
  const repository = parameters.optionalString('sourceRepository', {
    maxLength: 2048,
    pattern: /^[a-z][a-z0-9+.-]*:\/\/[^\s@#]+$/i,
    expected: 'a repository URL such as https://github.com/org/repo',
  });
  const branch = parameters.optionalString('sourceBranch', { maxLength: 255 });
  const commit = parameters.optionalString('sourceCommit', { maxLength: 64, pattern: /^[0-9a-f]{40}([0-9a-f]{24})?$/, expected: 'a git commit id (#{Source.CommitId})' });
  if ((branch !== undefined || commit !== undefined) && repository === undefined) parameters.fail('sourceRepository', 'is required with sourceBranch or sourceCommit');
  const sbomFormat = parameters.optionalString('sbomFormat', { maxLength: 16, pattern: /^(spdx|cyclonedx)$/, expected: '"spdx" or "cyclonedx"' }) as AttestationRequest['sbomFormat'];
  return {
    provenance,
    ...(sbomFormat ? { sbomFormat } : {}),
    ...(repository !== undefined
      ? { source: { repository, ...(branch !== undefined ? { branch } : {}), ...(commit !== undefined ? { commit } : {}) } }
      : {}),
  };
}

/** The configured profile `signingProfileArn` names, or every configured profile when it is absent. */
function selectProfiles(parameters: Parameters, configured: readonly SigningProfileConfig[]): readonly SigningProfileConfig[] {
  const selected = parameters.optionalString('signingProfileArn', { maxLength: 2048 });
  if (selected === undefined) return configured;
  const profile = configured.find((candidate) => candidate.profileArn === selected);
  if (profile) return [profile];
  const shown = JSON.stringify(selected.length > 300 ? `${selected.slice(0, 300)}…` : selected);
  const listed = configured.slice(0, 10).map((candidate) => candidate.profileArn).join(', ') +
    (configured.length > 10 ? `, … (${configured.length} in all)` : '');
  return parameters.fail(
    'signingProfileArn',
    `${shown} is not a signing profile this function signs with; it signs with: ${listed} (SIGNING_PROFILES)`,
  );
}

/** Whether the manifest is a Notary signature (signing one would make push-triggered signing loop). */
async function notarySignatureCheck(repository: OciRepository, digest: string): Promise<boolean> {
  const { bytes } = await repository.fetchManifest(digest, { maxBytes: DEFAULT_LIMITS.manifestBytes });
  let manifest: unknown;
  try {
    manifest = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    return false;
  }
  if (!isPlainObject(manifest)) return false;
  const config = isPlainObject(manifest.config) ? manifest.config : {};
  return manifest.artifactType === MediaType.NOTARY_SIGNATURE || config.mediaType === MediaType.NOTARY_SIGNATURE;
}

function signingHint(errorName: string | undefined, profile: SigningProfileConfig): string {
  switch (errorName) {
    case 'AccessDeniedException':
      return `; the function's role needs signer:SignPayload on ${profile.profileArn}` +
        (profile.profileOwner ? ` and the profile owner ${profile.profileOwner} must allow it` : '');
    case 'ResourceNotFoundException':
      return `; check that signing profile ${profile.profileArn} exists and is active`;
    default:
      return '';
  }
}

async function signWithProfiles(input: WorkInput, config: SignConfig, clients: AwsClients): Promise<SignResult> {
  const request = parseSignParameters(input.parameters, input.source, config);
  const { reference } = request;
  const digest = reference.digest!;
  const pinned = `${reference.repositoryName}@${digest}`;
  const log = input.log.child({ imageUri: reference.toString(), digest });

  const annotations = { ...request.annotations };
  let build: Build | undefined;
  if (request.attestations.provenance && input.invocation !== 'job') {
    throw new ParameterError(`${input.source}: attachProvenance needs a CodePipeline job: the provenance names the pipeline that runs the job`);
  }
  if (request.attestations.sbomFormat && input.artifacts.inputs.length === 0) {
    throw new ParameterError(`${input.source}: sbomFormat needs the Build artifact as the action's input artifact (it holds ${SBOM_FILE})`);
  }
  if (request.build) {
    input.step(`reading build ${request.build.id} from CodeBuild`);
    build = await describeBuild(clients.codeBuild(request.build.region), request.build);
    const provenance = buildAnnotations(build);
    Object.assign(annotations, provenance);
    log.info('read the build provenance', { buildArn: provenance[ProvenanceAnnotation.BUILD_ARN] });
    checkPayloadSize(annotations, 'userMetadata and the provenance annotations');
  }

  const opened = openImage(reference, { clients, plainHttp: config.plainHttp });
  const repository = abortable(opened.repository, input.signal);

  input.step(`reading the image manifest ${pinned}`);
  let isSignature: boolean;
  try {
    isSignature = await notarySignatureCheck(repository, digest);
  } catch (error) {
    throw new Error(`could not sign ${opened.displayReference}: ${(error as Error).message}`, { cause: error });
  }
  if (isSignature) {
    const skipped = `${pinned} is a Notary signature, not an image; signatures are not signed`;
    log.info(skipped);
    return { imageUri: pinned, imageDigest: digest, signatures: [], annotations, skipped };
  }

  const signatures: ProfileSignature[] = [];
  let lastSigner: AwsSignerSigner | undefined;
  for (const profile of request.profiles) {
    input.step(`signing ${pinned} with signing profile ${profile.profileArn}`);
    const started = Date.now();
    const signer = lastSigner = abortable(
      new AwsSignerSigner({ client: clients.signer(profile.region), profileArn: profile.profileArn, roots: config.signerRoots }),
      input.signal,
    );
    try {
      // An image index is signed with every manifest it lists unless `recursive` is false; the index comes last.
      const { results } = await signImageRecursively({
        repository,
        tagOrDigest: digest,
        signer,
        userMetadata: annotations,
        force: request.force,
        manifestFormat: config.manifestFormat,
        recursive: request.recursive,
      });
      const result = results[results.length - 1];
      signatures.push({
        profileArn: profile.profileArn,
        signatureDigest: result.signatureDigest,
        reused: result.reused,
        signingJobArn: result.signingJobArn,
        ...(results.length > 1
          ? { manifests: results.map((signed) => ({ digest: signed.target.digest, signatureDigest: signed.signatureDigest, reused: signed.reused })) }
          : {}),
      });
      log.info(result.reused ? 'kept the existing signature' : 'signed', {
        profileArn: profile.profileArn,
        signatureDigest: result.signatureDigest,
        reused: result.reused,
        signingJobArn: result.signingJobArn,
        durationMs: Date.now() - started,
      });
    } catch (error) {
      if (input.signal.aborted) throw input.signal.reason;
      log.warn('signing failed', { profileArn: profile.profileArn, ...errorFields(error) });
      const code = (error as { code?: string }).code ?? (error as Error).name;
      throw new Error(
        `could not sign ${opened.displayReference} with signing profile ${profile.profileArn}: ${(error as Error).message}${signingHint(code, profile)}`,
        { cause: error },
      );
    }
  }
  const last = signatures[signatures.length - 1];
  let attestations: AttachedAttestations | undefined;
  if (request.attestations.provenance || request.attestations.sbomFormat) {
    try {
      attestations = await attachPipelineAttestations({
        input,
        request: request.attestations,
        repository,
        imageDigest: digest,
        signer: lastSigner!,
        manifestFormat: config.manifestFormat,
        clients,
        build,
        region: config.region,
      });
    } catch (error) {
      if (input.signal.aborted) throw input.signal.reason;
      throw new Error(`signed ${opened.displayReference}, but could not attach its attestations: ${(error as Error).message}`, { cause: error });
    }
  }
  return {
    ...(attestations ? { attestations } : {}),
    imageUri: pinned,
    imageDigest: digest,
    signatureDigest: last.signatureDigest,
    signingJobArn: last.signingJobArn,
    signatures,
    annotations,
  };
}

/** The job outcome: output variables on success; a signature digest that was skipped fails the job. */
export function signJobResult(result: SignResult): JobResult {
  if (result.skipped || !result.signatureDigest) return { ok: false, message: result.skipped ?? `nothing was signed for ${result.imageUri}` };
  const outputVariables: Record<string, string> = {
    IMAGE_DIGEST: result.imageDigest,
    SIGNATURE_DIGEST: result.signatureDigest,
    SIGNATURES: result.signatures.map((signature) => signature.signatureDigest).join(','),
  };
  if (result.signingJobArn) outputVariables.SIGNING_JOB_ARN = result.signingJobArn;
  if (result.attestations?.provenanceDigest) outputVariables.PROVENANCE_DIGEST = result.attestations.provenanceDigest;
  if (result.attestations?.sbomDigest) outputVariables.SBOM_DIGEST = result.attestations.sbomDigest;
  const lines = result.signatures.map(
    (signature) => `${signature.profileArn}: ${signature.signatureDigest}${signature.reused ? ' (existing signature kept)' : ''}`,
  );
  return { ok: true, outputVariables, summary: `Signed ${result.imageUri}\n${lines.join('\n')}` };
}

/** `{imageUri}` of an EventBridge "ECR Image Action" push event; other events are passed on unchanged. */
export function signParametersOf(event: Record<string, unknown>): Record<string, unknown> {
  if (event.source !== 'aws.ecr' || event['detail-type'] !== 'ECR Image Action') return event;
  const detail = isPlainObject(event.detail) ? event.detail : {};
  if (detail['action-type'] !== 'PUSH' || detail.result !== 'SUCCESS') {
    throw new ParameterError('the event: only successful ECR image pushes ("action-type": "PUSH", "result": "SUCCESS") are signed');
  }
  const { account, region } = event;
  const name = detail['repository-name'];
  const digest = detail['image-digest'];
  if (typeof account !== 'string' || typeof region !== 'string' || typeof name !== 'string' || typeof digest !== 'string') {
    throw new ParameterError('the event: an ECR push event needs account, region, detail.repository-name and detail.image-digest');
  }
  const suffix = region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com';
  return { imageUri: `${account}.dkr.ecr.${region}.${suffix}/${name}@${digest}` };
}

export interface SignHandlerOptions extends Omit<HandlerOptions, 'clients'> {
  /** @default the clients of this execution environment */
  readonly clients?: () => AwsClients;
}

/** A sign handler; its configuration is read and validated once, when it is created (cold start). */
export function createSignHandler(options: SignHandlerOptions = {}): Handler {
  const logger = options.logger ?? new Logger();
  const clients = options.clients ?? awsClients;
  const config = coldStartConfig('sign', logger, () => loadSignConfig(options.env ?? process.env, logger.child({ handler: 'sign' })));
  return (event, context) =>
    runHandler<SignResult>(
      {
        name: 'sign',
        logger,
        timeoutHint: 'that the registry, AWS Signer and CodeBuild answer in time',
        codePipeline: () => clients().codePipeline(),
        directParameters: signParametersOf,
        work: (input) => signWithProfiles(input, config(), clients()),
        jobResult: signJobResult,
      },
      event,
      context,
    );
}

let defaultHandler: Handler | undefined = process.env.AWS_LAMBDA_FUNCTION_NAME ? createSignHandler() : undefined;

/** The Lambda entry point. */
export async function handler(event: unknown, context?: Partial<LambdaContext>): Promise<unknown> {
  defaultHandler ??= createSignHandler();
  return defaultHandler(event, context);
}
