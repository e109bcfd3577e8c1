/** Signing with AWS Signer: one `SignPayload` call returns the whole Notary JWS envelope. */
import { SignerClient, SignPayloadCommand } from '@aws-sdk/client-signer';
import { SignedEnvelope, Signer } from './signer';
import { parseSignerArn, signingJobArn, signingProfileVersionArn } from '../notary/aws-signer-identity';
import { ParsedEnvelope } from '../notary/types';
import { MediaType } from '../oci/media-types';

const PROFILE_NAME = /^[a-zA-Z0-9_]{2,64}$/;
const ACCOUNT = /^[0-9]{12}$/;

export interface AwsSignerSignerOptions {
  readonly client: SignerClient;
  /** The signing profile's name (platform Notation-OCI-SHA384-ECDSA). */
  readonly profileName: string;
  /** The account that owns the profile, for cross-account signing. @default the caller's account */
  readonly profileOwner?: string;
}

/** An AWS SDK error passed on with the profile it concerned. */
export class AwsSignerError extends Error {
  constructor(message: string, readonly code: string | undefined, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AwsSignerError';
  }
}

export class AwsSignerSigner implements Signer {
  /** A signer for a profile ARN (`arn:aws:signer:<region>:<account>:/signing-profiles/<name>`), as the notation plugin's key id. */
  static fromProfileArn(client: SignerClient, profileArn: string): AwsSignerSigner {
    const arn = parseSignerArn(profileArn);
    const segments = arn?.resource.split('/') ?? [];
    if (!arn || segments[1] !== 'signing-profiles' || !segments[2]) {
      throw new Error(`"${profileArn}" is not an AWS Signer signing profile ARN (arn:aws:signer:<region>:<account>:/signing-profiles/<name>)`);
    }
    return new AwsSignerSigner({ client, profileName: segments[2], profileOwner: arn.account });
  }

  readonly description: string;

  constructor(private readonly options: AwsSignerSignerOptions) {
    if (!PROFILE_NAME.test(options.profileName)) {
      throw new Error(`signing profile name "${options.profileName}" is not valid: 2 to 64 letters, digits or underscores`);
    }
    if (options.profileOwner !== undefined && !ACCOUNT.test(options.profileOwner)) {
      throw new Error(`signing profile owner "${options.profileOwner}" is not a 12-digit AWS account id`);
    }
    this.description = `AWS Signer profile "${options.profileName}"${options.profileOwner ? ` of account ${options.profileOwner}` : ''}`;
  }

  async sign(payload: Uint8Array): Promise<SignedEnvelope> {
    let output;
    try {
      output = await this.options.client.send(
        new SignPayloadCommand({
          payload,
          payloadFormat: MediaType.NOTARY_PAYLOAD,
          profileName: this.options.profileName,
          profileOwner: this.options.profileOwner,
        }),
      );
    } catch (error) {
      const name = (error as Error).name;
      throw new AwsSignerError(`AWS Signer SignPayload with ${this.description} failed: ${name}: ${(error as Error).message}`, name, { cause: error });
    }
    if (!output.signature || output.signature.byteLength === 0) {
      throw new AwsSignerError(`AWS Signer SignPayload with ${this.description} returned no signature envelope`, undefined);
    }
    const envelope = output.signature;
    return {
      envelope,
      mediaType: MediaType.JWS,
      annotations: output.metadata ? { ...output.metadata } : undefined,
      signingJobArn: jobArnOf(envelope),
    };
  }

  isSameIdentity(envelope: ParsedEnvelope): boolean {
    const signed = signingProfileVersionArn(envelope);
    const arn = signed ? parseSignerArn(signed) : undefined;
    if (!arn) return false;
    const [, kind, name] = arn.resource.split('/');
    return kind === 'signing-profiles' && name === this.options.profileName && (!this.options.profileOwner || arn.account === this.options.profileOwner);
  }
}

/** The signing job ARN from the envelope's signed attributes (AWS Signer puts it there). */
function jobArnOf(envelope: Uint8Array): string | undefined {
  try {
    const json = JSON.parse(Buffer.from(envelope).toString('utf8')) as { protected?: string };
    const headers = JSON.parse(Buffer.from(json.protected ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
    return signingJobArn({ protectedHeaders: headers } as unknown as ParsedEnvelope);
  } catch {
    return undefined;
  }
}
