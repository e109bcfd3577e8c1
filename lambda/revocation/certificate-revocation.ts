/**
 * OCSP, then CRL, for every certificate of a chain but the root, as notation-core-go's revocation.Validator
 * checks it (revocation/revocation.go ValidateContext): a certificate with OCSP responders is asked in turn
 * until one answers good or revoked; when OCSP leaves the status unknown and the certificate has CRL
 * distribution points, the CRLs decide (OCSPFallbackCRL). Only chains that already verified up to a trusted
 * root come here, so the URLs are the trusted CA's.
 */
import { CRL_MAX_BYTES, CrlAnswer, evaluateCrl } from './crl';
import { evaluateOcspResponse, OCSP_MAX_RESPONSE_BYTES, ocspRequest, OcspAnswer } from './ocsp';
import { ParsedCertificate } from '../notary/certificate';
import { CertificateRevocation, CertificateRevocationValidator } from '../notary/types';

/** Downloads revocation data; rejects on a non-200 answer, a timeout or more than `maxBytes`. */
export interface RevocationFetcher {
  fetch(url: string, options: { readonly body?: Uint8Array; readonly maxBytes: number; readonly timeoutMs: number }): Promise<Uint8Array>;
}

/** notation's verifier: an OCSP client with a 2 s timeout; notation's CLI fetches CRLs with a 5 s timeout. */
const OCSP_TIMEOUT_MS = 2000;
const CRL_TIMEOUT_MS = 5000;
/** A good or revoked answer is reused until its nextUpdate, and for an hour at most. */
const CACHE_TTL_MS = 3600_000;
const CACHE_ENTRIES = 256;

/** The certificate being checked, its issuer and the time the answers are judged at. */
interface Subject {
  readonly certificate: ParsedCertificate;
  readonly issuer: ParsedCertificate;
  readonly now: Date;
}

export class OcspCrlRevocationValidator implements CertificateRevocationValidator {
  private readonly cache = new Map<string, { answer: CertificateRevocation; until: number }>();

  constructor(private readonly fetcher: RevocationFetcher) {}

  async validate(chain: readonly ParsedCertificate[]): Promise<CertificateRevocation[]> {
    if (chain.length === 0) throw new Error('chain does not contain any certificates');
    const root: CertificateRevocation = { status: 'nonRevokable', method: 'none', details: [] };
    const checks = chain.slice(0, -1).map((certificate, index) => this.check(certificate, chain[index + 1]));
    return [...(await Promise.all(checks)), root];
  }

  private async check(certificate: ParsedCertificate, issuer: ParsedCertificate): Promise<CertificateRevocation> {
    if (certificate.ocspUrls.length === 0 && certificate.crlUrls.length === 0) {
      return { status: 'nonRevokable', method: 'none', details: [] };
    }
    const key = `${certificate.sha256}/${issuer.sha256}`;
    const cached = this.cache.get(key);
    if (cached && cached.until > Date.now()) return cached.answer;

    const subject: Subject = { certificate, issuer, now: new Date() };
    const details: string[] = [];
    let answer: OcspAnswer | CrlAnswer | undefined;
    let method: CertificateRevocation['method'] = 'OCSP';
    for (const url of certificate.ocspUrls) {
      const ocsp = await this.askOcsp(url, subject);
      details.push(`OCSP ${url}: ${ocsp.message}`);
      answer = ocsp;
      // A responder's own "unknown" is an answer: the other responders are not asked (notation-core-go ocsp.CertCheckStatus).
      if (ocsp.status !== 'unknown' || ocsp.responderUnknown) break;
    }
    if ((!answer || answer.status === 'unknown') && certificate.crlUrls.length > 0) {
      method = answer ? 'OCSPFallbackCRL' : 'CRL';
      answer = await this.checkCrls(subject, details);
    }
    const result: CertificateRevocation = { status: toStatus(answer), method, details };
    if (answer && answer.status !== 'unknown') this.remember(key, result, answer.nextUpdate);
    return result;
  }

  private async askOcsp(url: string, { certificate, issuer, now }: Subject): Promise<OcspAnswer> {
    if (!isHttpUrl(url)) return { status: 'unknown', message: 'OCSPServer protocol is not supported (only http)', responderUnknown: false };
    try {
      const request = ocspRequest(certificate, issuer);
      const body = await this.fetcher.fetch(url, { body: request, maxBytes: OCSP_MAX_RESPONSE_BYTES, timeoutMs: OCSP_TIMEOUT_MS });
      return evaluateOcspResponse(body, certificate, issuer, now);
    } catch (error) {
      return { status: 'unknown', message: (error as Error).message, responderUnknown: false };
    }
  }

  /** Every distribution point must answer; the first that fails or revokes decides (notation-core-go crl.CertCheckStatus). */
  private async checkCrls({ certificate, issuer, now }: Subject, details: string[]): Promise<CrlAnswer> {
    let last: CrlAnswer = { status: 'unknown', message: 'no CRL distribution point' };
    for (const url of certificate.crlUrls) {
      if (!isHttpUrl(url)) {
        last = { status: 'unknown', message: 'unsupported scheme. Only supports CRL URL in HTTP protocol' };
      } else {
        try {
          const body = await this.fetcher.fetch(url, { maxBytes: CRL_MAX_BYTES, timeoutMs: CRL_TIMEOUT_MS });
          last = evaluateCrl(body, certificate, issuer, now);
        } catch (error) {
          last = { status: 'unknown', message: `failed to download CRL: ${(error as Error).message}` };
        }
      }
      details.push(`CRL ${url}: ${last.message}`);
      if (last.status !== 'good') return last;
    }
    return last;
  }

  private remember(key: string, answer: CertificateRevocation, nextUpdate: Date): void {
    if (this.cache.size >= CACHE_ENTRIES) this.cache.delete(this.cache.keys().next().value as string);
    this.cache.set(key, { answer, until: Math.min(nextUpdate.getTime(), Date.now() + CACHE_TTL_MS) });
  }
}

function toStatus(answer: OcspAnswer | CrlAnswer | undefined): CertificateRevocation['status'] {
  if (!answer) return 'unknown';
  return answer.status === 'good' ? 'ok' : answer.status;
}

function isHttpUrl(url: string): boolean {
  try {
    return new URL(url).protocol === 'http:';
  } catch {
    return false;
  }
}
