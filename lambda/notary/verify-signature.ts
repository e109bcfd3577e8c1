/**
 * Verification of one signature envelope against one artifact (notaryproject/specifications specs/signing-and-verification-workflow.md): integrity,
 * authenticity with the trusted identity, expiry, authentic timestamp and revocation, each enforced,
 * logged or skipped as the trust policy level says. Pure apart from the revocation checker passed in.
 */
import { algorithmForKey, verifyWith } from './algorithms';
import { awsSignerPluginError, isAwsSignerEnvelope, matchAwsSignerIdentity } from './aws-signer-identity';
import { ParsedCertificate, sameBytes } from './certificate';
import { validateCertificateChain } from './certificate-chain';
import { chainRevocation } from './chain-revocation';
import { parseJwsEnvelope } from './jws';
import { sameContent } from './payload';
import { verifyTimestamp } from './timestamp';
import { CheckResult, CheckType, ParsedEnvelope, SignatureVerification, SignatureVerificationInput } from './types';
import { isSubsetDN, parseDistinguishedName } from '../../src/shared/distinguished-name';
import { MediaType } from '../oci/media-types';

const X509_SUBJECT = 'x509.subject:';

/** Verifies one envelope; never throws for a bad signature (the result says why). */
export async function verifySignature(input: SignatureVerificationInput): Promise<SignatureVerification> {
  const results: CheckResult[] = [];
  const now = input.now ?? new Date();
  let envelope: ParsedEnvelope | undefined;

  /** Records a check; returns the failure message when the check failed and is enforced. */
  const record = (type: CheckType, ok: boolean, message: string): string | undefined => {
    const action = input.verification.actions[type];
    results.push({ type, action, ok, message });
    return !ok && action === 'enforce' ? message : undefined;
  };
  const stop = (failure: string): SignatureVerification => ({ verified: false, results, failure, envelope });

  // 1. Integrity (always enforced): envelope, chain shape, algorithm, signature, signed descriptor.
  let chain: ParsedCertificate[];
  try {
    if (input.envelopeMediaType !== MediaType.JWS) {
      throw new Error(`signature envelope format with media type "${input.envelopeMediaType}" is not supported`);
    }
    envelope = parseJwsEnvelope(input.envelope);
    chain = validateCertificateChain(envelope.certificateChain);
    checkSignature(envelope, chain[0]);
    const signed = envelope.payload.targetArtifact;
    if (!sameContent(signed, input.target)) {
      throw new Error(
        `content descriptor mismatch: the signature is for ${signed.digest} (${signed.mediaType}, ${signed.size} bytes), not for ${input.target.digest} (${input.target.mediaType}, ${input.target.size} bytes)`,
      );
    }
  } catch (error) {
    return stop(record('integrity', false, (error as Error).message) as string);
  }
  const failure = record('integrity', true, `signature is valid: ${envelope.algorithm} by "${chain[0].subject}" over ${input.target.digest}`);
  if (failure) return stop(failure);

  // An envelope that names the AWS Signer plugin is verified by the plugin's rules only; what the plugin would
  // answer with an error fails the signature at every level (authenticity is where notation reports it).
  if (isAwsSignerEnvelope(envelope)) {
    const actions = input.verification.actions;
    const capabilities = { trustedIdentity: actions.authenticity !== 'skip', revocation: actions.revocation !== 'skip' };
    const pluginError = capabilities.trustedIdentity || capabilities.revocation
      ? awsSignerPluginError(envelope, input.trustedIdentities, capabilities)
      : undefined;
    if (pluginError) {
      results.push({ type: 'authenticity', action: 'enforce', ok: false, message: pluginError });
      return stop(pluginError);
    }
  }

  const steps: Array<[CheckType, () => Promise<{ ok: boolean; message: string }> | { ok: boolean; message: string }]> = [
    ['authenticity', () => authenticity(envelope as ParsedEnvelope, chain, input)],
    ['expiry', () => expiry(envelope as ParsedEnvelope, now)],
    ['authenticTimestamp', () => authenticTimestamp(envelope as ParsedEnvelope, chain, input, now)],
    ['revocation', () => revocation(envelope as ParsedEnvelope, chain, input)],
  ];
  for (const [type, run] of steps) {
    if (input.verification.actions[type] === 'skip') {
      results.push({ type, action: 'skip', ok: true, message: `${type} check skipped by the trust policy` });
      continue;
    }
    const { ok, message } = await run();
    const enforced = record(type, ok, message);
    if (enforced) return stop(enforced);
  }

  const required = Object.entries(input.userMetadata ?? {});
  if (required.length > 0) {
    const signed = envelope.payload.targetArtifact.annotations ?? {};
    const missing = required.filter(([key, value]) => signed[key] !== value).map(([key, value]) => `${key}=${value}`);
    const ok = missing.length === 0;
    const message = ok
      ? `the signature carries the required metadata ${required.map(([key, value]) => `${key}=${value}`).join(', ')}`
      : `unable to find specified metadata in the signature: ${missing.join(', ')}`;
    results.push({ type: 'userMetadata', action: 'enforce', ok, message });
    if (!ok) return stop(message);
  }
  return { verified: true, results, envelope };
}

function checkSignature(envelope: ParsedEnvelope, leaf: ParsedCertificate): void {
  const algorithm = algorithmForKey(leaf.publicKey);
  if (algorithm.jws !== envelope.algorithm) {
    throw new Error(
      `mismatch between signature algorithm derived from signing certificate (${algorithm.jws}) and signing algorithm specified (${envelope.algorithm})`,
    );
  }
  if (!verifyWith(algorithm, leaf.publicKey, envelope.signingInput, envelope.signature)) {
    throw new Error('signature is invalid. Error: the signature does not match the signed content and the signing certificate');
  }
}

function authenticity(envelope: ParsedEnvelope, chain: ParsedCertificate[], input: SignatureVerificationInput): { ok: boolean; message: string } {
  const storeType = envelope.signingScheme === 'notary.x509' ? 'ca' : 'signingAuthority';
  const anchors = input.trustAnchors[storeType];
  if (anchors.length === 0) {
    const reason = `the trust policy names no "${storeType}" trust store for signing scheme ${envelope.signingScheme}`;
    return { ok: false, message: `no trusted certificates are found to verify authenticity: ${reason}` };
  }
  const trusted = chain.find((certificate) => anchors.some((anchor) => sameBytes(anchor, certificate.der)));
  if (!trusted) return { ok: false, message: "signature is not produced by a trusted signer: the signature's certificate chain does not contain any trusted certificate" };

  const identity = isAwsSignerEnvelope(envelope)
    ? matchAwsSignerIdentity(envelope, input.trustedIdentities)
    : matchX509Identity(chain[0], input.trustedIdentities);
  if (!identity.ok) return identity;
  return { ok: true, message: `chain trusted through "${trusted.subject}"; ${identity.message}` };
}

function matchX509Identity(leaf: ParsedCertificate, trustedIdentities: readonly string[]): { ok: boolean; message: string } {
  if (trustedIdentities.includes('*')) return { ok: true, message: 'any identity is trusted ("*")' };
  const identities = trustedIdentities
    .filter((identity) => identity.startsWith(X509_SUBJECT))
    .map((identity) => identity.slice(X509_SUBJECT.length).trim());
  if (identities.length === 0) return { ok: false, message: 'no x509 trusted identities are configured in the trust policy' };
  const attributes = leaf.subjectAttributes;
  if ('error' in attributes) return { ok: false, message: `signing certificate "${leaf.subject}" cannot be matched to trusted identities: ${attributes.error}` };
  const match = identities.find((identity) => {
    try {
      return isSubsetDN(parseDistinguishedName(identity), attributes as Record<string, string>);
    } catch {
      return false;
    }
  });
  if (!match) {
    return {
      ok: false,
      message: `signing certificate from the digital signature does not match the X.509 trusted identities [${identities.join('; ')}] defined in the trust policy (signed by "${leaf.subject}")`,
    };
  }
  return { ok: true, message: `signing certificate "${leaf.subject}" matches trusted identity "${match}"` };
}

function expiry(envelope: ParsedEnvelope, now: Date): { ok: boolean; message: string } {
  if (!envelope.expiry) return { ok: true, message: 'signature has no expiry' };
  if (now.getTime() >= envelope.expiry.getTime()) return { ok: false, message: `digital signature has expired on "${envelope.expiry.toISOString()}"` };
  return { ok: true, message: `signature expires on "${envelope.expiry.toISOString()}"` };
}

async function authenticTimestamp(
  envelope: ParsedEnvelope,
  chain: ParsedCertificate[],
  input: SignatureVerificationInput,
  now: Date,
): Promise<{ ok: boolean; message: string }> {
  if (envelope.signingScheme === 'notary.x509.signingAuthority') {
    const signedAt = envelope.authenticSigningTime as Date;
    for (const certificate of chain) {
      if (signedAt < certificate.notBefore || signedAt > certificate.notAfter) {
        const message = `certificate "${certificate.subject}" was not valid when the digital signature was produced at "${signedAt.toISOString()}"`;
        return { ok: false, message };
      }
    }
    return { ok: true, message: `every certificate was valid at the authentic signing time "${signedAt.toISOString()}"` };
  }
  const tsaAnchors = input.trustAnchors.tsa;
  const expired = chain.some((certificate) => now > certificate.notAfter);
  const useTimestamp = tsaAnchors.length > 0 && (input.verification.verifyTimestamp === 'always' || expired);
  if (useTimestamp) {
    if (!envelope.timestampToken) return { ok: false, message: 'no timestamp countersignature was found in the signature envelope' };
    try {
      const timestamp = await verifyTimestamp(envelope.timestampToken, envelope.signature, tsaAnchors, chain);
      // notation-go verifier.go verifyTimestamp, step 5: the timestamping chain's revocation is part of the timestamp's authenticity.
      const revoked = await chainRevocation(timestamp.tsaChain, input.certificateRevocation, 'timestamping certificate');
      if (!revoked.ok) return revoked;
      return { ok: true, message: `timestamped at "${timestamp.genTime.toISOString()}" by "${timestamp.tsaSubject}"` };
    } catch (error) {
      return { ok: false, message: (error as Error).message };
    }
  }
  for (const certificate of chain) {
    if (now < certificate.notBefore) {
      return { ok: false, message: `verification time is before certificate "${certificate.subject}" validity period, it will be valid from "${certificate.notBefore.toISOString()}"` };
    }
    if (now > certificate.notAfter) {
      return { ok: false, message: `verification time is after certificate "${certificate.subject}" validity period, it was expired at "${certificate.notAfter.toISOString()}"` };
    }
  }
  return { ok: true, message: 'every certificate is valid at the verification time (no trusted timestamp required)' };
}

async function revocation(
  envelope: ParsedEnvelope,
  chain: ParsedCertificate[],
  input: SignatureVerificationInput,
): Promise<{ ok: boolean; message: string }> {
  if (isAwsSignerEnvelope(envelope)) {
    if (!input.revocation) return { ok: false, message: 'revocation status could not be checked: no AWS Signer revocation checker is configured' };
    try {
      const status = await input.revocation.check(envelope);
      return { ok: !status.revoked, message: status.message };
    } catch (error) {
      return { ok: false, message: `GetRevocationStatus call failed with error: ${(error as Error).message}` };
    }
  }
  return chainRevocation(chain, input.certificateRevocation, 'signing certificate');
}
