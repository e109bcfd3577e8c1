/**
 * The verify handler (ImageVerifier): verifies an image, pinned by digest, under the function's trust
 * policy, with the same engine as the CLI's `signed-image verify`.
 *
 * Environment (set by the ImageVerifier construct):
 * - `TRUST_POLICY`: notation's trustpolicy.json as a JSON string; validated at cold start, a bad policy
 *   fails every invocation with the policy error.
 * - `TRUST_STORES` (optional): JSON object `{"<type>:<name>": "<PEM certificates>"}`, merged over the
 *   built-in AWS Signer stores `signingAuthority:aws-signer-ts` and `signingAuthority:aws-us-gov-signer-ts`.
 * - `MAX_SIGNATURES` (optional): signatures tried at most (default 100).
 * - `REQUIRED_ATTESTATIONS` (optional): the signed attestations an image must carry besides its signature
 *   (src/shared/attestation-requirements.ts), checked after it verified (attestation-gate.ts); a job then also outputs
 *   `PROVENANCE_DIGEST` and `SBOM_DIGEST`, a direct invocation returns `attestations`.
 * - `REGISTRY_PLAIN_HTTP_HOSTS`: tests and local runs only, see registry.ts.
 *
 * Parameters: `imageUri` (required, pinned by digest), `userMetadata` (required key/values of the signed
 * payload's annotations), `containerName` (with an input artifact: the one container its imagedefinitions.json
 * may name). A direct invocation returns the verdict (`verified` false included) with every check's result; a job
 * succeeds with output variables `VERIFIED` (`true`), `IMAGE_URI` (the repository), `IMAGE_DIGEST`, `VERIFIED_DIGESTS`
 * (`IMAGE_DIGEST` and, for an image index, every manifest it lists, comma-separated: the digests a runtime may
 * report for it, which the post-deploy checks accept) and `SIGNATURE_DIGEST` (absent at level skip), or fails with
 * notation's wording.
 *
 * As the pipeline's verify gate, the job also takes the Build artifact as input: its imagedefinitions.json must
 * deploy exactly the image verified here (checked before any registry call), and the job writes the checked file as
 * its output artifact, the one the deploy action deploys. So what is deployed is what was verified, whatever the
 * build wrote.
 *
 * An image index verifies only when the index and every manifest it lists verify (each under its own signature,
 * as the ImageSigner signs an index): ECS and the kubelet report the index digest of a multi-arch tag, while
 * nodes pull a platform manifest. A platform manifest verifies on its own.
 */
import { readArtifactFile, writeArtifact } from './artifacts';
import { checkAttestationGate } from './attestation-gate';
import { certificateRevocationOf } from './certificate-revocation';
import { PipelineClients, pipelineClients } from './clients';
import { abortable } from './deadline';
import { LambdaContext } from './event';
import { checkImageDefinitions, IMAGE_DEFINITIONS_FILE, ImageDefinition, MAX_IMAGE_DEFINITIONS_BYTES } from './image-definitions';
import { jobPipeline, partitionOf } from './job-context';
import { Logger } from './log';
import { ParameterError, Parameters } from './parameters';
import { openImage } from './registry';
import { coldStartConfig, Handler, HandlerOptions, JobResult, runHandler, WorkInput } from './runner';
import { loadVerifyConfig, VerifyConfig } from './verify-config';
import { IMAGE_PARAMETERS, VERIFY_PARAMETERS } from '../../src/shared/handler-parameters';
import { AttestationVerification } from '../notary/attestation-verify';
import { CertificateRevocationValidator, VerificationOutcome } from '../notary/types';
import { verifyImageRecursively } from '../notary/verify-index';
import { AwsSignerRevocationChecker } from '../revocation/aws-signer';


// `containerName` comes from the action's image hand-off (ImageVerifier sets it), never from additionalParameters.
const VERIFY_FIELDS = [...IMAGE_PARAMETERS, ...VERIFY_PARAMETERS, 'containerName'];

/** A verification, and the repository it was for (`<registry>/<repository>`, the gate's `IMAGE_URI`). */
export interface VerifyResult {
  /** The image's outcome, or, when a manifest an index lists did not verify, that manifest's. */
  readonly outcome: VerificationOutcome;
  readonly repositoryUri: string;
  /** For an image index: the index's outcome, then each listed manifest's. */
  readonly manifests?: readonly VerificationOutcome[];
  /** The required attestations checked (`REQUIRED_ATTESTATIONS`), in order, up to the first that failed. */
  readonly attestations?: readonly AttestationVerification[];
}

/**
 * The image definitions the job hands on: with an input artifact, its imagedefinitions.json, which must deploy
 * exactly `verifiedImage` to `containerName`. Read before any registry call, so a wrong file costs nothing.
 */
async function imageDefinitionsToHandOn(
  input: WorkInput,
  parameters: Parameters,
  verifiedImage: string,
  clients: PipelineClients,
): Promise<ImageDefinition[] | undefined> {
  const { inputs, outputs } = input.artifacts;
  const containerName = parameters.optionalString('containerName', {
    maxLength: 255,
    pattern: /^[A-Za-z0-9_-]+$/,
    expected: 'an ECS container name (letters, digits, "-" and "_")',
  });
  if (inputs.length > 1 || outputs.length > 1) {
    throw new ParameterError(`the verify action takes at most one input artifact (the Build's ${IMAGE_DEFINITIONS_FILE}) and one output artifact; it has ${inputs.length} and ${outputs.length}`);
  }
  if (inputs.length === 0) {
    if (outputs.length > 0) throw new ParameterError(`the verify action has an output artifact but no input artifact with the ${IMAGE_DEFINITIONS_FILE} to check and hand on`);
    if (containerName !== undefined) parameters.fail('containerName', `is given, but the action has no input artifact with an ${IMAGE_DEFINITIONS_FILE} to check`);
    return undefined;
  }
  if (containerName === undefined) parameters.fail('containerName', `is required with an input artifact: the container its ${IMAGE_DEFINITIONS_FILE} deploys`);
  input.step(`reading ${IMAGE_DEFINITIONS_FILE} of input artifact "${inputs[0].name}"`);
  const content = await readArtifactFile(clients.artifactStore, input.artifacts, inputs[0], IMAGE_DEFINITIONS_FILE, MAX_IMAGE_DEFINITIONS_BYTES);
  try {
    return checkImageDefinitions(content, verifiedImage, containerName);
  } catch (error) {
    throw new ParameterError(`input artifact "${inputs[0].name}": ${(error as Error).message}; nothing is deployed`);
  }
}

async function verify(
  input: WorkInput,
  config: VerifyConfig,
  clients: PipelineClients,
  certificateRevocation: CertificateRevocationValidator,
): Promise<VerifyResult> {
  const parameters = new Parameters(input.parameters, input.source, VERIFY_FIELDS);
  const reference = parameters.imageUri();
  const userMetadata = parameters.optionalStringMap('userMetadata', { maxEntries: 32, maxKeyLength: 128, maxValueLength: 1024 });
  const repositoryUri = `${reference.registry}/${reference.repository}`;
  const definitions = await imageDefinitionsToHandOn(input, parameters, `${repositoryUri}@${reference.digest}`, clients);

  const log = input.log.child({ imageUri: reference.toString(), digest: reference.digest });
  const opened = openImage(reference, { clients, plainHttp: config.plainHttp });
  input.step(`verifying ${opened.displayReference}`);
  const started = Date.now();
  const request = {
    repository: abortable(opened.repository, input.signal),
    tagOrDigest: opened.tagOrDigest,
    displayReference: opened.displayReference,
    scope: opened.repositoryName,
    policy: config.policy,
    stores: config.stores,
    revocation: new AwsSignerRevocationChecker((region) => clients.signer(region)),
    certificateRevocation,
    maxSignatures: config.maxSignatures,
  };
  const { outcomes } = await verifyImageRecursively({ ...request, userMetadata });
  if (input.signal.aborted) throw input.signal.reason;
  let outcome = outcomes.find((candidate) => !candidate.verified) ?? outcomes[0];
  let attestations: readonly AttestationVerification[] | undefined;
  if (outcome.verified && config.attestations) {
    // The attestations are about the image (the index of a multi-arch build), signed under the same trust policy.
    const gate = await checkAttestationGate({
      required: config.attestations,
      request: { ...request, tagOrDigest: outcomes[0].digest },
      runningPipelineArn: input.jobId ? () => runningPipelineArn(clients, input.jobId!, config.region, input.step) : undefined,
      step: input.step,
    });
    if (input.signal.aborted) throw input.signal.reason;
    attestations = gate.verifications;
    for (const verification of gate.verifications) {
      log.info(verification.verified ? `${verification.type} attestation verified` : `${verification.type} attestation not verified`, {
        attestationType: verification.type,
        verified: verification.verified,
        attestationDigest: verification.attestationDigest,
        signatureDigest: verification.signatureDigest,
        code: verification.failure?.reason,
      });
    }
    if (!gate.ok) outcome = { ...outcome, verified: false, error: { code: 'verification-failed', message: gate.message } };
  }
  for (const result of outcomes.flatMap((candidate) => candidate.results)) {
    if (!result.ok && result.action === 'log') log.warn(`${result.type} check failed (logged, not enforced): ${result.message}`, { check: result.type });
  }
  log.info(outcome.verified ? 'verified' : 'not verified', {
    verified: outcome.verified,
    level: outcome.level,
    signatureDigest: outcome.signatureDigest,
    code: outcome.error?.code,
    error: outcome.error?.message,
    durationMs: Date.now() - started,
  });
  const [output] = input.artifacts.outputs;
  if (outcome.verified && definitions && output) {
    input.step(`writing ${IMAGE_DEFINITIONS_FILE} to output artifact "${output.name}"`);
    await writeArtifact(clients.artifactStore, input.artifacts, output, [[IMAGE_DEFINITIONS_FILE, Buffer.from(JSON.stringify(definitions))]]);
    log.info(`handed on ${IMAGE_DEFINITIONS_FILE} as output artifact ${output.name}`);
  }
  return { outcome, repositoryUri, ...(outcomes.length > 1 ? { manifests: outcomes } : {}), ...(attestations ? { attestations } : {}) };
}

/** The ARN of the pipeline that runs job `jobId` (GetJobDetails), the builder a `builderIsPipeline` provenance must name. */
async function runningPipelineArn(
  clients: PipelineClients,
  jobId: string,
  region: string | undefined,
  step: (description: string) => void,
): Promise<string> {
  if (!region) throw new Error('AWS_REGION is not set: the pipeline\'s region is needed for its ARN');
  step(`reading job ${jobId} from CodePipeline`);
  return (await jobPipeline(clients.codePipeline(), jobId, region, partitionOf(region))).pipelineArn;
}

/** The job outcome: output variables when verified; notation's message otherwise. */
export function verifyJobResult({ outcome, repositoryUri, manifests, attestations }: VerifyResult): JobResult {
  if (!outcome.verified) {
    return { ok: false, message: outcome.error?.message ?? `signature verification failed for ${outcome.reference}` };
  }
  const outputVariables: Record<string, string> = {
    VERIFIED: 'true',
    IMAGE_URI: repositoryUri,
    IMAGE_DIGEST: outcome.digest,
    VERIFIED_DIGESTS: verifiedDigests(outcome, manifests).join(','),
  };
  if (outcome.signatureDigest) outputVariables.SIGNATURE_DIGEST = outcome.signatureDigest;
  for (const verification of attestations ?? []) {
    const name = verification.type === 'slsa-provenance' ? 'PROVENANCE_DIGEST' : 'SBOM_DIGEST';
    if (verification.attestationDigest) outputVariables[name] = verification.attestationDigest;
  }
  const checks = outcome.results.map((result) => `${result.type}: ${result.action}${result.ok ? '' : ' (failed)'}`).join(', ');
  return {
    ok: true,
    outputVariables,
    summary: `Verified ${outcome.reference}${manifests ? ` and the ${manifests.length - 1} manifests it lists` : ''} at level ${outcome.level}${outcome.signatureDigest ? ` by signature ${outcome.signatureDigest}` : ''}. ${checks}`,
  };
}

/**
 * The digests that verified: the image's, then (for an image index) each listed manifest's, once each. Only called
 * when every outcome verified; an outcome that did not is never listed.
 */
export function verifiedDigests(outcome: VerificationOutcome, manifests?: readonly VerificationOutcome[]): string[] {
  const digests = [outcome.digest];
  for (const manifest of manifests ?? []) {
    if (manifest.verified && !digests.includes(manifest.digest)) digests.push(manifest.digest);
  }
  return digests;
}

export type VerifyHandlerOptions = HandlerOptions;

/** A verify handler; its configuration is read and validated once, when it is created (cold start). */
export function createVerifyHandler(options: VerifyHandlerOptions = {}): Handler {
  const logger = options.logger ?? new Logger();
  const clients = options.clients ?? pipelineClients;
  const certificateRevocation = certificateRevocationOf(options);
  const config = coldStartConfig('verify', logger, () => loadVerifyConfig(options.env ?? process.env, logger.child({ handler: 'verify' })));
  return (event, context) =>
    runHandler<VerifyResult>(
      {
        name: 'verify',
        logger,
        timeoutHint: 'that the registry and AWS Signer (GetRevocationStatus) answer in time',
        codePipeline: () => clients().codePipeline(),
        work: (input) => verify(input, config(), clients(), certificateRevocation),
        jobResult: verifyJobResult,
        directResult: (result) => ({
          ...result.outcome,
          ...(result.manifests ? { manifests: result.manifests } : {}),
          ...(result.attestations ? { attestations: result.attestations } : {}),
        }),
      },
      event,
      context,
    );
}

let defaultHandler: Handler | undefined = process.env.AWS_LAMBDA_FUNCTION_NAME ? createVerifyHandler() : undefined;

/** The Lambda entry point. */
export async function handler(event: unknown, context?: Partial<LambdaContext>): Promise<unknown> {
  defaultHandler ??= createVerifyHandler();
  return defaultHandler(event, context);
}
