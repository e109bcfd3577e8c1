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
 * - `REGISTRY_PLAIN_HTTP_HOSTS`: tests and local runs only, see registry.ts.
 *
 * Parameters: `imageUri` (required, pinned by digest), `userMetadata` (required key/values of the signed
 * payload's annotations). A direct invocation returns the verdict (`verified` false included) with every
 * check's result; a job succeeds with output variables `VERIFIED` (`true`), `IMAGE_DIGEST` and
 * `SIGNATURE_DIGEST` (absent at level skip), or fails with notation's wording.
 */
import { AwsClients, awsClients } from './clients';
import {
  abortable,
  coldStartConfig,
  ConfigurationError,
  Handler,
  HandlerOptions,
  isPlainObject,
  JobResult,
  LambdaContext,
  Parameters,
  runHandler,
  WorkInput,
} from './job';
import { Logger } from './log';
import { openImage, PLAIN_HTTP_HOSTS_ENV, plainHttpRegistries } from './registry';
import { parseTrustPolicy, TRUST_STORE_NAME, TRUST_STORE_TYPES, TrustPolicyDocument } from '../notary/trust-policy';
import { readTrustStoreFile, withBuiltInTrustStores } from '../notary/trust-store';
import { NamedTrustStores, VerificationOutcome } from '../notary/types';
import { DEFAULT_MAX_SIGNATURES, verifyImage } from '../notary/verify-image';
import { AwsSignerRevocationChecker } from '../signers/aws-revocation';

export interface VerifyConfig {
  readonly policy: TrustPolicyDocument;
  readonly stores: NamedTrustStores;
  readonly maxSignatures: number;
  readonly plainHttp: ReadonlySet<string>;
}

const MAX_SIGNATURES_LIMIT = 1000;

/** Reads and validates the function's configuration. Throws ConfigurationError naming the variable. */
export function loadVerifyConfig(env: Readonly<Record<string, string | undefined>>, log?: Logger): VerifyConfig {
  const policyText = env.TRUST_POLICY;
  if (policyText === undefined || policyText.trim() === '') throw new ConfigurationError('TRUST_POLICY is not set; the ImageVerifier construct sets it');
  let policy: TrustPolicyDocument;
  try {
    policy = parseTrustPolicy(policyText);
  } catch (error) {
    throw new ConfigurationError(`TRUST_POLICY is not a valid trust policy: ${(error as Error).message}`);
  }

  const stores = new Map<string, Uint8Array[]>();
  const storesText = env.TRUST_STORES;
  if (storesText !== undefined && storesText.trim() !== '') {
    let json: unknown;
    try {
      json = JSON.parse(storesText);
    } catch (error) {
      throw new ConfigurationError(`TRUST_STORES is not valid JSON: ${(error as Error).message}`);
    }
    if (!isPlainObject(json)) throw new ConfigurationError('TRUST_STORES must be a JSON object {"<type>:<name>": "<PEM certificates>"}');
    for (const [key, pem] of Object.entries(json)) {
      const where = `TRUST_STORES[${JSON.stringify(key)}]`;
      const colon = key.indexOf(':');
      const type = key.slice(0, colon);
      const name = key.slice(colon + 1);
      if (colon < 0 || !(TRUST_STORE_TYPES as readonly string[]).includes(type) || !TRUST_STORE_NAME.test(name)) {
        throw new ConfigurationError(`${where}: a trust store is named <type>:<name> with type ${TRUST_STORE_TYPES.join(', ')} and a name of letters, digits, ".", "_" or "-"`);
      }
      if (typeof pem !== 'string') throw new ConfigurationError(`${where} must be a string of PEM certificates`);
      try {
        stores.set(key, readTrustStoreFile(new TextEncoder().encode(pem), key, where));
      } catch (error) {
        throw new ConfigurationError(`${where}: ${(error as Error).message}`);
      }
    }
  }
  const merged = withBuiltInTrustStores(stores);
  for (const statement of policy.trustPolicies) {
    if (statement.signatureVerification.level === 'skip') continue;
    for (const store of statement.trustStores ?? []) {
      if (!merged.has(store)) {
        log?.warn(`trust policy statement "${statement.name}" names trust store "${store}", which TRUST_STORES does not define; its images will fail verification`);
      }
    }
  }

  let maxSignatures = DEFAULT_MAX_SIGNATURES;
  const maxText = env.MAX_SIGNATURES?.trim();
  if (maxText) {
    maxSignatures = Number(maxText);
    if (!/^\d+$/.test(maxText) || maxSignatures < 1 || maxSignatures > MAX_SIGNATURES_LIMIT) {
      throw new ConfigurationError(`MAX_SIGNATURES must be a whole number from 1 to ${MAX_SIGNATURES_LIMIT}, got "${maxText.slice(0, 50)}"`);
    }
  }
  return { policy, stores: merged, maxSignatures, plainHttp: plainHttpRegistries(env[PLAIN_HTTP_HOSTS_ENV], log) };
}

const VERIFY_FIELDS = ['imageUri', 'userMetadata'];

async function verify(input: WorkInput, config: VerifyConfig, clients: AwsClients): Promise<VerificationOutcome> {
  const parameters = new Parameters(input.parameters, input.source, VERIFY_FIELDS);
  const reference = parameters.imageUri();
  const userMetadata = parameters.optionalStringMap('userMetadata', { maxEntries: 32, maxKeyLength: 128, maxValueLength: 1024 });

  const log = input.log.child({ imageUri: reference.toString(), digest: reference.digest });
  const opened = openImage(reference, { clients, plainHttp: config.plainHttp });
  input.step(`verifying ${opened.displayReference}`);
  const started = Date.now();
  const outcome = await verifyImage({
    repository: abortable(opened.repository, input.signal),
    tagOrDigest: opened.tagOrDigest,
    displayReference: opened.displayReference,
    scope: opened.repositoryName,
    policy: config.policy,
    stores: config.stores,
    userMetadata,
    revocation: new AwsSignerRevocationChecker((region) => clients.signer(region)),
    maxSignatures: config.maxSignatures,
  });
  if (input.signal.aborted) throw input.signal.reason;
  for (const result of outcome.results) {
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
  return outcome;
}

/** The job outcome: output variables when verified; notation's message otherwise. */
export function verifyJobResult(outcome: VerificationOutcome): JobResult {
  if (!outcome.verified) {
    return { ok: false, message: outcome.error?.message ?? `signature verification failed for ${outcome.reference}` };
  }
  const outputVariables: Record<string, string> = { VERIFIED: 'true', IMAGE_DIGEST: outcome.digest };
  if (outcome.signatureDigest) outputVariables.SIGNATURE_DIGEST = outcome.signatureDigest;
  const checks = outcome.results.map((result) => `${result.type}: ${result.action}${result.ok ? '' : ' (failed)'}`).join(', ');
  return {
    ok: true,
    outputVariables,
    summary: `Verified ${outcome.reference} at level ${outcome.level}${outcome.signatureDigest ? ` by signature ${outcome.signatureDigest}` : ''}. ${checks}`,
  };
}

export type VerifyHandlerOptions = HandlerOptions;

/** A verify handler; its configuration is read and validated once, when it is created (cold start). */
export function createVerifyHandler(options: VerifyHandlerOptions = {}): Handler {
  const logger = options.logger ?? new Logger();
  const clients = options.clients ?? awsClients;
  const config = coldStartConfig('verify', logger, () => loadVerifyConfig(options.env ?? process.env, logger.child({ handler: 'verify' })));
  return (event, context) =>
    runHandler<VerificationOutcome>(
      {
        name: 'verify',
        logger,
        timeoutHint: 'that the registry and AWS Signer (GetRevocationStatus) answer in time',
        codePipeline: () => clients().codePipeline(),
        work: (input) => verify(input, config(), clients()),
        jobResult: verifyJobResult,
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
