/**
 * Handler test support: the local registry, a SignPayload fake that makes AWS-Signer-shaped envelopes with
 * a test CA (real cryptography), aws-sdk-client-mock stubs for every AWS client a handler uses,
 * CodePipeline job events that carry artifact credentials, a Lambda context and a console capture.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { CodeBuildClient } from '@aws-sdk/client-codebuild';
import {
  CodePipelineClient,
  PutJobFailureResultCommand,
  PutJobFailureResultCommandInput,
  PutJobSuccessResultCommand,
  PutJobSuccessResultCommandInput,
} from '@aws-sdk/client-codepipeline';
import { ECSClient } from '@aws-sdk/client-ecs';
import { S3Client } from '@aws-sdk/client-s3';
import { GetRevocationStatusCommand, SignerClient, SignPayloadCommand, SignPayloadCommandInput } from '@aws-sdk/client-signer';
import { AwsClientStub, mockClient } from 'aws-sdk-client-mock';
import { AwsClients, regionalClients } from '../../lambda/handlers/clients';
import { PLAIN_HTTP_HOSTS_ENV } from '../../lambda/handlers/registry';
import { listSignatures } from '../../lambda/notary/list-signatures';
import { parseSignatureManifest } from '../../lambda/notary/signature-manifest';
import { RegistryRepository } from '../../lambda/oci/registry-repository';
import { Descriptor } from '../../lambda/oci/types';
import { LocalKeySigner } from '../../lambda/signers/local-key';
import { plainRegistry } from '../harness/env';
import { createRandomImage, pushImage } from '../util/images';
import { createChain, TestChain } from '../util/pki';

export const ACCOUNT = '111122223333';
export const REGION = 'us-east-1';

/** A signing profile as the constructs describe it, and its version ARN as AWS Signer signs with it. */
export interface TestProfile {
  readonly profileName: string;
  readonly profileArn: string;
  readonly profileVersionArn: string;
}

export function testProfile(profileName: string, version = 'AbCdEf1234'): TestProfile {
  const profileArn = `arn:aws:signer:${REGION}:${ACCOUNT}:/signing-profiles/${profileName}`;
  return { profileName, profileArn, profileVersionArn: `${profileArn}/${version}` };
}

/** Secrets a CodePipeline job event carries: they must never appear in a log line. */
export const ARTIFACT_CREDENTIALS = {
  accessKeyId: 'ASIAARTIFACTKEY00001',
  secretAccessKey: 'artifact-secret-access-key-Zx9Qw8Er7Ty6',
  sessionToken: 'artifact-session-token-Mn5Bv4Cx3Lk2Jh1Gf0',
};

/** An artifact of a job event, in the artifact store (CodePipeline user guide, Lambda invoke action's example event). */
export function jobArtifact(name: string, objectKey: string, bucketName = 'pipeline-artifacts'): Record<string, unknown> {
  return { name, revision: null, location: { type: 'S3', s3Location: { bucketName, objectKey } } };
}

/** A CodePipeline Lambda invoke job event. `userParameters` undefined leaves the field out. */
export function jobEvent(
  userParameters: string | undefined,
  jobId: string = randomUUID(),
  artifacts: { inputArtifacts?: unknown[]; outputArtifacts?: unknown[]; encryptionKey?: unknown } = {},
): Record<string, unknown> {
  return {
    'CodePipeline.job': {
      id: jobId,
      accountId: ACCOUNT,
      data: {
        actionConfiguration: {
          configuration: {
            FunctionName: 'signer',
            ...(userParameters === undefined ? {} : { UserParameters: userParameters }),
          },
        },
        inputArtifacts: artifacts.inputArtifacts ?? [],
        outputArtifacts: artifacts.outputArtifacts ?? [],
        artifactCredentials: ARTIFACT_CREDENTIALS,
        ...(artifacts.encryptionKey ? { encryptionKey: artifacts.encryptionKey } : {}),
      },
    },
  };
}

/** A Lambda context whose remaining time counts down from `remainingMs`. */
export function lambdaContext(remainingMs = 60_000): { awsRequestId: string; getRemainingTimeInMillis(): number } {
  const started = Date.now();
  return { awsRequestId: `req-${randomUUID()}`, getRemainingTimeInMillis: () => remainingMs - (Date.now() - started) };
}

/** Collects console output (the handlers' JSON log lines) until `restore`. */
export function captureConsole(): { lines: string[]; text(): string; restore(): void } {
  const lines: string[] = [];
  const spies = (['log', 'info', 'warn', 'error', 'debug'] as const).map((method) =>
    jest.spyOn(console, method).mockImplementation((...args: unknown[]) => {
      lines.push(args.map((arg) => (typeof arg === 'string' ? arg : JSON.stringify(arg))).join(' '));
    }),
  );
  return {
    lines,
    text: () => lines.join('\n'),
    restore: () => spies.forEach((spy) => spy.mockRestore()),
  };
}

/** A fresh repository on the plain-HTTP test registry, with one pushed image (tag `v1`). */
export async function pushTestImage(prefix: string): Promise<{ repository: RegistryRepository; name: string; image: Descriptor; uri: string }> {
  const host = plainRegistry();
  const name = `${prefix}-${randomBytes(4).toString('hex')}`;
  const repository = new RegistryRepository({ registry: host, repository: name, plainHttp: true });
  const image = await pushImage(repository, createRandomImage(), 'v1');
  return { repository, name, image, uri: `${host}/${name}` };
}

/** A test CA and a local signer in AWS Signer's shape for each profile. */
export class FakeAwsSigner {
  static async create(profiles: readonly TestProfile[]): Promise<FakeAwsSigner> {
    const chain = await createChain({ keySpec: 'EC-384' });
    return new FakeAwsSigner(chain, profiles);
  }

  readonly signers = new Map<string, LocalKeySigner>();

  private constructor(readonly chain: TestChain, profiles: readonly TestProfile[]) {
    for (const profile of profiles) {
      this.signers.set(
        profile.profileName,
        new LocalKeySigner({
          key: chain.leaf.key,
          certificateChain: chain.chain,
          signingAuthority: { signingProfileVersionArn: profile.profileVersionArn },
        }),
      );
    }
  }

  /** What SignPayload answers: the whole JWS envelope, as AWS Signer returns it. */
  async signPayload(input: SignPayloadCommandInput) {
    const signer = this.signers.get(input.profileName ?? '');
    if (!signer) throw Object.assign(new Error(`no profile ${input.profileName}`), { name: 'ResourceNotFoundException' });
    const signed = await signer.sign(input.payload as Uint8Array);
    return {
      signature: signed.envelope,
      jobId: signed.signingJobArn?.split('/').pop(),
      jobOwner: ACCOUNT,
      metadata: { 'com.amazonaws.signer.signingJob': signed.signingJobArn ?? '' },
    };
  }

  /** `TRUST_STORES` holding this CA's root under `signingAuthority:<name>`. */
  trustStores(name = 'test'): string {
    return JSON.stringify({ [`signingAuthority:${name}`]: this.chain.root.pem });
  }
}

/** A strict trust policy trusting `identities` through `signingAuthority:<store>`, for every registry. */
export function trustPolicy(identities: readonly string[], store = 'test', level = 'strict'): string {
  return JSON.stringify({
    version: '1.0',
    trustPolicies: [
      {
        name: 'images',
        registryScopes: ['*'],
        signatureVerification: { level },
        trustStores: [`signingAuthority:${store}`],
        trustedIdentities: identities,
      },
    ],
  });
}

/** The signed payload annotations of each signature of `image`, read back from the registry. */
export async function signedAnnotations(repository: RegistryRepository, image: Descriptor): Promise<Array<Record<string, string>>> {
  const result: Array<Record<string, string>> = [];
  for (const signature of await listSignatures(repository, image)) {
    const manifest = await repository.fetchManifest(signature.digest);
    const parsed = parseSignatureManifest(manifest.bytes, image);
    const envelope = JSON.parse(Buffer.from(await repository.fetchBlob(parsed.envelope)).toString('utf8')) as { payload: string };
    const payload = JSON.parse(Buffer.from(envelope.payload, 'base64url').toString('utf8')) as {
      targetArtifact: { annotations?: Record<string, string> };
    };
    result.push(payload.targetArtifact.annotations ?? {});
  }
  return result;
}

/** Stubs of the AWS clients (every instance of each class), and handler clients built on them. */
export interface AwsMocks {
  readonly signer: AwsClientStub<SignerClient>;
  readonly codePipeline: AwsClientStub<CodePipelineClient>;
  readonly codeBuild: AwsClientStub<CodeBuildClient>;
  readonly ecs: AwsClientStub<ECSClient>;
  /** The artifact store. */
  readonly s3: AwsClientStub<S3Client>;
  /** Handler clients in REGION whose calls reach the stubs only. */
  readonly clients: () => AwsClients;
  /**
   * Clears calls and behaviours, then answers: SignPayload through `fake` (when given), GetRevocationStatus
   * "nothing revoked", PutJobSuccessResult and PutJobFailureResult `{}`.
   */
  reset(fake?: FakeAwsSigner): void;
  restore(): void;
}

export function mockAws(): AwsMocks {
  const mocks = {
    signer: mockClient(SignerClient),
    codePipeline: mockClient(CodePipelineClient),
    codeBuild: mockClient(CodeBuildClient),
    ecs: mockClient(ECSClient),
    s3: mockClient(S3Client),
  };
  const clients = regionalClients(REGION);
  return {
    ...mocks,
    clients: () => clients,
    reset(fake) {
      Object.values(mocks).forEach((mock) => mock.reset());
      if (fake) mocks.signer.on(SignPayloadCommand).callsFake((input: SignPayloadCommandInput) => fake.signPayload(input));
      mocks.signer.on(GetRevocationStatusCommand).resolves({ revokedEntities: [] });
      mocks.codePipeline.on(PutJobSuccessResultCommand).resolves({});
      mocks.codePipeline.on(PutJobFailureResultCommand).resolves({});
    },
    restore() {
      Object.values(mocks).forEach((mock) => mock.restore());
    },
  };
}

/** The job results a handler reported to CodePipeline, in order. */
export function reportedResults(codePipeline: AwsClientStub<CodePipelineClient>): {
  successes: PutJobSuccessResultCommandInput[];
  failures: PutJobFailureResultCommandInput[];
} {
  return {
    successes: codePipeline.commandCalls(PutJobSuccessResultCommand).map((call) => call.args[0].input),
    failures: codePipeline.commandCalls(PutJobFailureResultCommand).map((call) => call.args[0].input),
  };
}

/** The one failure reported for `jobId` (and no success); fails the test otherwise. */
export function reportedFailure(codePipeline: AwsClientStub<CodePipelineClient>, jobId: string): string {
  const { successes, failures } = reportedResults(codePipeline);
  expect(successes).toHaveLength(0);
  expect(failures).toHaveLength(1);
  expect(failures[0].jobId).toBe(jobId);
  expect(failures[0].failureDetails?.type).toBe('JobFailed');
  return failures[0].failureDetails?.message ?? '';
}

/** The one success reported for `jobId` (and no failure); fails the test otherwise. */
export function reportedSuccess(codePipeline: AwsClientStub<CodePipelineClient>, jobId: string): PutJobSuccessResultCommandInput {
  const { successes, failures } = reportedResults(codePipeline);
  expect(failures.map((failure) => failure.failureDetails?.message)).toEqual([]);
  expect(successes).toHaveLength(1);
  expect(successes[0].jobId).toBe(jobId);
  return successes[0];
}

/** Environment for a handler reaching the plain-HTTP test registry. */
export function registryEnv(): Record<string, string> {
  return { [PLAIN_HTTP_HOSTS_ENV]: plainRegistry() };
}

/**
 * Fails the test if a captured log line holds the event or a credential: the artifact credentials, any
 * part of a job event's `data`, or any of `secrets`.
 */
export function expectCleanLogs(text: string, secrets: readonly string[] = []): void {
  for (const secret of [...Object.values(ARTIFACT_CREDENTIALS), ...secrets]) expect(text).not.toContain(secret);
  expect(text).not.toContain('artifactCredentials');
  expect(text).not.toContain('actionConfiguration');
  expect(text).not.toContain('UserParameters":');
}

/**
 * The life cycle every handler test file shares: before each test the AWS mocks are reset (SignPayload answered by
 * `signer()` when given) and the console is captured; after it the captured lines must be clean
 * (`expectCleanLogs`); after the file the mocks are restored. Returns the current test's captured text.
 */
export function handlerTestLifecycle(aws: AwsMocks, signer?: () => FakeAwsSigner): { readonly lines: readonly string[]; text(): string } {
  let logs: ReturnType<typeof captureConsole> | undefined;
  beforeEach(() => {
    aws.reset(signer?.());
    logs = captureConsole();
  });
  afterEach(() => {
    logs!.restore();
    expectCleanLogs(logs!.text());
  });
  afterAll(() => aws.restore());
  return {
    get lines() {
      return logs!.lines;
    },
    text: () => logs!.text(),
  };
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A stubbed AWS call that answers only after `ms`, to let the deadline guard fire while it is in flight. */
export class SlowCall {
  calls = 0;
  /** Whether a call has answered. */
  answered = false;
  private readonly pending: Array<Promise<unknown>> = [];

  constructor(private readonly ms: number) {}

  /** A `callsFake` implementation answering with `answer` after the delay. */
  answer<A extends unknown[], T>(answer: (...args: A) => T | Promise<T>): (...args: A) => Promise<T> {
    return (...args) => {
      this.calls++;
      const result = sleep(this.ms).then(() => answer(...args));
      this.pending.push(result.then(() => sleep(100)).finally(() => (this.answered = true)));
      return result;
    };
  }

  /** Resolves once every call has answered and what the handler did next has had time to run. */
  async settled(): Promise<void> {
    await Promise.allSettled(this.pending);
  }
}
