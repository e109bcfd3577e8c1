/** Revocation of AWS Signer signatures through `GetRevocationStatus`, as the AWS Signer plugin checks it. */
import { GetRevocationStatusCommand, SignerClient } from '@aws-sdk/client-signer';
import { NOTATION_PLATFORM_ID } from '../../src/shared/aws-signer';
import { signingJobArn, signingProfileVersionArn } from '../notary/aws-signer-identity';
import { parseCertificate, tbsSha384 } from '../notary/certificate';
import { ParsedEnvelope, RevocationChecker } from '../notary/types';

/**
 * `certificateHashes` for GetRevocationStatus: for each certificate, hex SHA-384 of its TBSCertificate
 * followed by its issuer's; the root is its own issuer.
 */
export function certificateHashes(chain: readonly Uint8Array[]): string[] {
  const hashes = chain.map((der, index) => tbsSha384(parseCertificate(der, `certificate ${index + 1} of the chain`)));
  return hashes.map((hash, index) => hash + (hashes[index + 1] ?? hash));
}

/** Asks AWS Signer whether the signature, its profile, its job or a certificate of its chain was revoked. */
export class AwsSignerRevocationChecker implements RevocationChecker {
  /** @param clientFor the Signer client for a region (a signature is checked in its profile's region). */
  constructor(private readonly clientFor: (region: string) => SignerClient) {}

  async check(envelope: ParsedEnvelope): Promise<{ revoked: boolean; message: string }> {
    const profileVersionArn = signingProfileVersionArn(envelope);
    const jobArn = signingJobArn(envelope);
    if (!profileVersionArn || !jobArn || !envelope.authenticSigningTime) {
      throw new Error('the signature lacks the AWS Signer attributes GetRevocationStatus needs (profile version, job, authentic signing time)');
    }
    const region = profileVersionArn.split(':')[3];
    const output = await this.clientFor(region).send(
      new GetRevocationStatusCommand({
        signatureTimestamp: envelope.authenticSigningTime,
        platformId: NOTATION_PLATFORM_ID,
        profileVersionArn,
        jobArn,
        certificateHashes: certificateHashes(envelope.certificateChain),
      }),
    );
    const revoked = output.revokedEntities ?? [];
    if (revoked.length === 0) return { revoked: false, message: 'Signature is not revoked.' };
    const resources = revoked.filter((entity) => entity.startsWith('arn'));
    const messages = [
      ...(resources.length > 0 ? [`Resource(s) ${resources.join(', ')} have been revoked.`] : []),
      ...(resources.length < revoked.length ? ['Certificate(s) have been revoked.'] : []),
    ];
    return { revoked: true, message: messages.join(' ') };
  }
}
