import * as iam from 'aws-cdk-lib/aws-iam';
import { unscopedValidationError } from './private/errors';
import { grantUnscoped } from './private/grants';
import { grantRevocationStatus, revocationResources } from './private/revocation-grants';
import type { INotationSigningProfile } from './signing-profile';

/**
 * The revocation status of AWS Signer signatures (`signer:GetRevocationStatus`), which verifiers of AWS Signer
 * signatures ask for. IAM authorizes the call on the signature's signing profile and its signing job, so a grant
 * names the profiles whose signatures are checked; `TrustPolicy.grantRevocationCheck` grants it for the profiles a
 * trust policy trusts.
 */
export class SignerRevocationStatus {
  /**
   * Grants checking whether AWS Signer signatures, their signing jobs, profiles or certificates were revoked
   * (`signer:GetRevocationStatus`).
   *
   * With `signingProfiles`, the statement's resources are those profiles (`<profile ARN>` and `<profile ARN>/*`, its
   * versions) and the signing jobs of each profile's account and region (`arn:<partition>:signer:<region>:<account>:/signing-jobs/*`);
   * without, `*` (signatures of any profile), for a verifier whose trusted identities the stack does not know. The
   * grant acknowledges the resulting cdk-nag `AwsSolutions-IAM5` findings on the policy it lands in, with the reason.
   *
   * @param grantee the principal that checks revocation
   * @param signingProfiles the profiles whose signatures it checks
   */
  public static grantRead(grantee: iam.IGrantable, signingProfiles?: INotationSigningProfile[]): iam.Grant {
    if (signingProfiles === undefined) return grantUnscoped(grantee, ['signer:GetRevocationStatus']);
    if (signingProfiles.length === 0) {
      throw unscopedValidationError(
        'RevocationProfilesEmpty',
        'SignerRevocationStatus.grantRead: signingProfiles must name at least one profile (omit it to grant the check for signatures of any profile)',
      );
    }
    return grantRevocationStatus(grantee, signingProfiles.flatMap((profile) => revocationResources(profile, false)));
  }

  private constructor() {}
}
