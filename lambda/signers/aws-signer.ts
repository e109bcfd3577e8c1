/** Signing with AWS Signer: one `SignPayload` call returns the whole Notary JWS envelope. */
import { SignerClient, SignPayloadCommand } from '@aws-sdk/client-signer';
import { SIGNING_PROFILE_NAME } from '../../src/shared/aws-signer';
import { parseSignerArn, signingProfileVersionArn } from '../notary/aws-signer-identity';
import { SignedEnvelope, Signer, SignerTrust } from '../notary/signer';
import { awsSignerRoots } from '../notary/trust-store';
import { ParsedEnvelope } from '../notary/types';
import { MediaType } from '../oci/media-types';

const ACCOUNT = /^[0-9]{12}$/;
/** `SignPayload`'s `payload`: length 1 to 4096 (AWS Signer API reference, SignPayload request parameters). */
export const MAX_SIGN_PAYLOAD_BYTES = 4096;

export interface AwsSignerSignerOptions {
  /** The client for the profile's region. */
  readonly client: SignerClient;
  /**
   * The signing profile ARN, `arn:<partition>:signer:<region>:<account>:/signing-profiles/<name>`
   * (platform Notation-OCI-SHA384-ECDSA), as the AWS Signer plugin takes it as its key id.
   */
  readonly profileArn: string;
  /**
   * The DER roots AWS Signer's envelopes must chain to.
   * @default the AWS Signer Notation root of the profile's partition
   */
  readonly roots?: readonly Uint8Array[];
}

/** An AWS SDK error passed on with the profile it concerned. */
export class AwsSignerError extends Error {
  constructor(message: string, readonly code: string | undefined, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AwsSignerError';
  }
}

/** A signing profile ARN split into the parts SignPayload and identity checks need. */
export interface SigningProfile {
  readonly arn: string;
  readonly partition: string;
  readonly region: string;
  readonly account: string;
  readonly name: string;
}

/**
 * Parses a signing profile ARN; throws naming what is wrong. A profile version ARN is refused with the
 * profile ARN to use instead: the AWS Signer plugin takes only a profile ARN as its key id
 * (aws/aws-signer-notation-plugin internal/signer/signer.go, `getProfileName`), and signing always uses the
 * profile's current version.
 */
export function parseSigningProfileArn(profileArn: string): SigningProfile {
  const arn = parseSignerArn(profileArn);
  const segments = arn?.resource.split('/') ?? [];
  if (!arn || segments[0] !== '' || segments[1] !== 'signing-profiles' || !segments[2] || !arn.partition || !arn.region) {
    throw new Error(`"${profileArn}" is not an AWS Signer signing profile ARN (arn:aws:signer:<region>:<account>:/signing-profiles/<name>)`);
  }
  if (segments.length === 4) {
    const profile = profileArn.slice(0, profileArn.lastIndexOf('/'));
    throw new Error(`"${profileArn}" is a signing profile version ARN; sign with the signing profile ARN "${profile}" (AWS Signer always signs with the profile's current version)`);
  }
  if (segments.length !== 3) {
    throw new Error(`"${profileArn}" is not an AWS Signer signing profile ARN (arn:aws:signer:<region>:<account>:/signing-profiles/<name>)`);
  }
  if (!SIGNING_PROFILE_NAME.test(segments[2])) {
    throw new Error(`signing profile name "${segments[2]}" is not valid: 2 to 64 letters, digits or underscores`);
  }
  if (!ACCOUNT.test(arn.account)) throw new Error(`signing profile ARN "${profileArn}" does not name a 12-digit AWS account`);
  return { arn: profileArn, partition: arn.partition, region: arn.region, account: arn.account, name: segments[2] };
}

export class AwsSignerSigner implements Signer {
  /** A signer for a profile ARN, as the notation plugin's key id. */
  static fromProfileArn(client: SignerClient, profileArn: string): AwsSignerSigner {
    return new AwsSignerSigner({ client, profileArn });
  }

  readonly description: string;
  readonly trust: SignerTrust;
  readonly profile: SigningProfile;

  constructor(private readonly options: AwsSignerSignerOptions) {
    this.profile = parseSigningProfileArn(options.profileArn);
    const roots = options.roots ?? awsSignerRoots(this.profile.partition);
    if (!roots || roots.length === 0) {
      throw new Error(`AWS Signer publishes no Notation root certificate for partition "${this.profile.partition}" of ${options.profileArn}`);
    }
    this.trust = { storeType: 'signingAuthority', trustAnchors: [...roots], trustedIdentities: [this.profile.arn] };
    this.description = `AWS Signer profile "${this.profile.name}" of account ${this.profile.account}`;
  }

  async sign(payload: Uint8Array): Promise<SignedEnvelope> {
    if (payload.byteLength > MAX_SIGN_PAYLOAD_BYTES) {
      throw new AwsSignerError(
        `the signed payload is ${payload.byteLength} bytes, but AWS Signer SignPayload takes at most ${MAX_SIGN_PAYLOAD_BYTES} bytes; use fewer or shorter user metadata entries`,
        'PayloadTooLarge',
      );
    }
    let output;
    try {
      output = await this.options.client.send(
        new SignPayloadCommand({
          payload,
          payloadFormat: MediaType.NOTARY_PAYLOAD,
          profileName: this.profile.name,
          // Always sent, as the plugin does: a same-named profile of the caller's account is another profile.
          profileOwner: this.profile.account,
        }),
      );
    } catch (error) {
      const name = (error as Error).name;
      throw new AwsSignerError(`AWS Signer SignPayload with ${this.description} failed: ${name}: ${(error as Error).message}`, name, { cause: error });
    }
    if (!output.signature || output.signature.byteLength === 0) {
      throw new AwsSignerError(`AWS Signer SignPayload with ${this.description} returned no signature envelope`, undefined);
    }
    // The engine checks the envelope (descriptor, scheme, chain, profile) before anything is pushed.
    return { envelope: output.signature, mediaType: MediaType.JWS, annotations: output.metadata ? { ...output.metadata } : undefined };
  }

  /** The signed profile version ARN is `<this profile ARN>/<version>`: same partition, region, account and name. */
  isSameIdentity(envelope: ParsedEnvelope): boolean {
    const signed = signingProfileVersionArn(envelope);
    if (!signed?.startsWith(`${this.profile.arn}/`)) return false;
    const version = signed.slice(this.profile.arn.length + 1);
    return /^[a-zA-Z0-9]+$/.test(version);
  }
}
