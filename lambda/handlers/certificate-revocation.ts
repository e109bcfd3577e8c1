/**
 * The OCSP and CRL validator of the handlers that verify signatures (verify, ECS enforcement). Its own module, so
 * the bundles of the other handlers do not carry the OCSP and CRL code.
 */
import type { HandlerOptions } from './runner';
import { CertificateRevocationValidator } from '../notary/types';
import { OcspCrlRevocationValidator } from '../revocation/certificate-revocation';
import { httpRevocationFetcher } from '../revocation/http-fetcher';

/** The validator given, else one per execution environment over HTTP (its answers are cached across invocations). */
export function certificateRevocationOf(options: Pick<HandlerOptions, 'certificateRevocation'>): CertificateRevocationValidator {
  return options.certificateRevocation ?? new OcspCrlRevocationValidator(httpRevocationFetcher());
}
