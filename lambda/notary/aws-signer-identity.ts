/** AWS Signer trusted identities, as the AWS Signer Notation plugin matches them (aws/aws-signer-notation-plugin, verifier). */
import { AwsSigner } from './jws';
import { ParsedEnvelope } from './types';
import { SIGNING_PROFILE_NAME_CHARACTERS } from '../../src/shared/aws-signer';

const WILDCARD_MESSAGE = 'The AWSSigner plugin does not support wildcard identity in the trust policy.';
const PROFILE_VERSION_RESOURCE = new RegExp(`^/signing-profiles/${SIGNING_PROFILE_NAME_CHARACTERS}/[a-zA-Z0-9]+$`);
const JOB_RESOURCE = /^\/signing-jobs\/[a-zA-Z0-9-]+$/;

/** Whether the envelope was made by AWS Signer (or in its shape), to be verified with the plugin's rules. */
export function isAwsSignerEnvelope(envelope: ParsedEnvelope): boolean {
  return envelope.protectedHeaders['io.cncf.notary.verificationPlugin'] === AwsSigner.plugin;
}

/** The signed signing profile version ARN, e.g. `arn:aws:signer:us-west-2:111122223333:/signing-profiles/app/Ab12Cd34Ef`. */
export function signingProfileVersionArn(envelope: ParsedEnvelope): string | undefined {
  const value = envelope.protectedHeaders[AwsSigner.signingProfileVersion];
  return typeof value === 'string' ? value : undefined;
}

export function signingJobArn(envelope: ParsedEnvelope): string | undefined {
  const value = envelope.protectedHeaders[AwsSigner.signingJob];
  return typeof value === 'string' ? value : undefined;
}

/** The parts of a signer ARN: `arn:<partition>:signer:<region>:<account>:<resource>`. */
export interface SignerArn {
  readonly partition: string;
  readonly region: string;
  readonly account: string;
  /** `/signing-profiles/<name>` or `/signing-profiles/<name>/<version>`. */
  readonly resource: string;
}

export function parseSignerArn(arn: string): SignerArn | undefined {
  const parts = arn.split(':');
  if (parts.length !== 6 || parts[0] !== 'arn' || parts[2] !== 'signer') return undefined;
  return { partition: parts[1], region: parts[3], account: parts[4], resource: parts[5] };
}

/** The result of matching the signed profile version against the trusted identities. */
export interface IdentityMatch {
  readonly ok: boolean;
  readonly message: string;
}

/**
 * Profile ARNs match every version of the profile (the version ARN up to its last `/`); version ARNs match
 * exactly; both case-insensitively. Identities that are not signer profile ARNs are ignored.
 */
export function matchAwsSignerIdentity(envelope: ParsedEnvelope, trustedIdentities: readonly string[]): IdentityMatch {
  if (trustedIdentities.includes('*')) return { ok: false, message: WILDCARD_MESSAGE };
  const signed = signingProfileVersionArn(envelope);
  if (!signed) return { ok: false, message: `signature has no "${AwsSigner.signingProfileVersion}" attribute` };
  const signedLower = signed.toLowerCase();
  const signedProfile = signedLower.slice(0, signedLower.lastIndexOf('/'));
  for (const identity of trustedIdentities) {
    const arn = parseSignerArn(identity);
    if (!arn || !arn.resource.startsWith('/signing-profiles/')) continue;
    const segments = arn.resource.split('/').length;
    const wanted = identity.toLowerCase();
    if ((segments === 3 && signedProfile === wanted) || (segments === 4 && signedLower === wanted)) {
      return { ok: true, message: `Signature publisher matched "${identity}" trusted identity.` };
    }
  }
  return { ok: false, message: `Signature publisher doesn't match any trusted identities. (signed by ${signed})` };
}

/** Whether a trusted identity is one the AWS Signer plugin matches: a signing profile or profile version ARN. */
function isSigningProfileIdentity(identity: string): boolean {
  const arn = parseSignerArn(identity);
  return arn !== undefined && arn.resource.startsWith('/signing-profiles/');
}

function isArnOf(value: unknown, resource: RegExp): value is string {
  if (typeof value !== 'string') return false;
  const arn = parseSignerArn(value);
  return arn !== undefined && arn.partition !== '' && arn.region !== '' && /^[0-9]{12}$/.test(arn.account) && resource.test(arn.resource);
}

/** The capabilities notation asks the plugin to verify: those whose check the level does not skip. */
export interface PluginCapabilities {
  readonly trustedIdentity: boolean;
  readonly revocation: boolean;
}

/**
 * The error the AWS Signer plugin answers `verify-signature` with, or undefined when it would verify. notation-go
 * fails the signature on any plugin error whatever the level (notation-go verifier/verifier.go `processSignature`),
 * unlike a failed capability result, which the level may only log. Follows the plugin's `validate` and its
 * attribute parsing (aws/aws-signer-notation-plugin internal/verifier/verifier.go), stricter in one place: a
 * signed attribute that is not an ARN of its kind is refused like one that is missing, and a trust policy that
 * names no signing profile can never trust an AWS Signer signature, so it is refused outright.
 * Not called when both capabilities are skipped (notation does not run the plugin then).
 */
export function awsSignerPluginError(
  envelope: ParsedEnvelope,
  trustedIdentities: readonly string[],
  capabilities: PluginCapabilities,
): string | undefined {
  const fail = (reason: string) => `failed to verify with plugin ${AwsSigner.plugin}: ${reason}`;
  if (trustedIdentities.includes('*')) return fail(WILDCARD_MESSAGE);
  if (envelope.signingScheme !== 'notary.x509.signingAuthority') return fail(`'${envelope.signingScheme}' signing scheme is not supported`);
  if (!isArnOf(envelope.protectedHeaders[AwsSigner.signingProfileVersion], PROFILE_VERSION_RESOURCE)) {
    return fail(`unable to parse attribute "${AwsSigner.signingProfileVersion}".`);
  }
  if (capabilities.revocation && !isArnOf(envelope.protectedHeaders[AwsSigner.signingJob], JOB_RESOURCE)) {
    return fail(`unable to parse attribute "${AwsSigner.signingJob}".`);
  }
  if (capabilities.trustedIdentity && !trustedIdentities.some(isSigningProfileIdentity)) {
    return fail('the trust policy names no AWS Signer signing profile ARN among its trusted identities, so no AWS Signer signature can match');
  }
  return undefined;
}
