/** The verdict on an X.509 chain's OCSP and CRL results, shared by verification and by timestamping at sign time. */
import { ParsedCertificate } from './certificate';
import { CertificateRevocation, CertificateRevocationValidator } from './types';

/**
 * OCSP and CRL status of an X.509 chain, in notation-go's wording (verifier.go verifyRevocation and
 * verifyTimestamp): any revoked certificate fails it, then any whose status is unknown.
 */
export async function chainRevocation(
  chain: readonly ParsedCertificate[],
  validator: CertificateRevocationValidator | undefined,
  role: 'signing certificate' | 'timestamping certificate',
): Promise<{ ok: boolean; message: string }> {
  if (!validator) {
    const revocable = chain.find((certificate) => certificate.hasRevocationEndpoints);
    if (!revocable) return { ok: true, message: 'no certificate in the chain names an OCSP or CRL endpoint, so none can be revoked' };
    return { ok: false, message: `${role} with subject "${revocable.subject}" revocation status is unknown: OCSP and CRL checking is not configured` };
  }
  let verdict;
  try {
    verdict = chainRevocationVerdict(chain, await validator.validate(chain));
  } catch (error) {
    return { ok: false, message: `unable to check revocation status, err: ${(error as Error).message}` };
  }
  if (verdict.status === 'ok') return { ok: true, message: `no ${role} of the chain is revoked` };
  const status = verdict.status === 'revoked' ? 'is revoked' : 'revocation status is unknown';
  const details = verdict.details && verdict.details.length > 0 ? ` (${verdict.details.join('; ')})` : '';
  return { ok: false, message: `${role} with subject "${verdict.subject}" ${status}${details}` };
}

/**
 * The chain's verdict, as notation-go's revocationFinalResult gives it: revoked if any certificate is revoked,
 * else unknown if any is unknown, naming the certificate nearest the leaf with that status.
 */
function chainRevocationVerdict(
  chain: readonly ParsedCertificate[],
  results: readonly CertificateRevocation[],
): { readonly status: 'ok' | 'revoked' | 'unknown'; readonly subject?: string; readonly details?: readonly string[] } {
  for (const status of ['revoked', 'unknown'] as const) {
    const index = results.findIndex((result) => result.status === status);
    if (index >= 0) return { status, subject: chain[index].subject, details: results[index].details };
  }
  return { status: 'ok' };
}
