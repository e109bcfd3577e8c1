import * as iam from 'aws-cdk-lib/aws-iam';
import { grantUnscoped } from './private/grants';

/**
 * The revocation status of AWS Signer signatures (`signer:GetRevocationStatus`), which verifiers of AWS Signer
 * signatures ask for. The API has no resource type, so a grant covers every profile's signatures, as
 * `ecr.AuthorizationToken` does for registry logins.
 */
export class SignerRevocationStatus {
  /**
   * Grants checking whether AWS Signer signatures, their signing jobs, profiles or certificates were revoked
   * (`signer:GetRevocationStatus`).
   *
   * The statement's resource is `*`; the grant acknowledges the resulting cdk-nag `AwsSolutions-IAM5[Resource::*]`
   * finding on the policy it lands in, with that reason.
   */
  public static grantRead(grantee: iam.IGrantable): iam.Grant {
    return grantUnscoped(grantee, ['signer:GetRevocationStatus']);
  }

  private constructor() {}
}
