/** AWS Signer trusted identities, as the AWS Signer Notation plugin matches them (notary-formats 8d). */
import { AwsSigner } from './jws';
import { ParsedEnvelope } from './types';

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
  if (trustedIdentities.includes('*')) {
    return { ok: false, message: 'The AWSSigner plugin does not support wildcard identity in the trust policy.' };
  }
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
