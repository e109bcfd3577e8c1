/**
 * Certificate chain and certificate requirements of the Notary signature specification
 * (notaryproject/specifications specs/signature-specification.md, "Certificate Requirements").
 */
import { algorithmForKey } from './algorithms';
import { isSelfSigned, OID, ParsedCertificate, parseCertificate, sameBytes } from './certificate';

const LEAF_FORBIDDEN_KEY_USAGES = ['keyEncipherment', 'dataEncipherment', 'keyAgreement', 'keyCertSign', 'cRLSign', 'encipherOnly', 'decipherOnly'] as const;
const LEAF_FORBIDDEN_EKUS: Readonly<Record<string, string>> = {
  [OID.serverAuth]: 'ServerAuth',
  [OID.clientAuth]: 'ClientAuth',
  [OID.emailProtection]: 'EmailProtection',
  [OID.timeStamping]: 'TimeStamping',
  [OID.ocspSigning]: 'OCSPSigning',
  [OID.anyExtendedKeyUsage]: 'Any',
};
const SHA1_SIGNATURES: readonly string[] = [OID.sha1WithRSA, OID.ecdsaWithSHA1];

export type ChainPurpose = 'codeSigning' | 'timestamping';

/**
 * Parses `chain` (DER, leaf first) and checks its shape and every certificate's requirements, without
 * checking validity periods (the authentic timestamp step does). Throws an Error in notation's wording.
 */
export function validateCertificateChain(chain: readonly Uint8Array[], purpose: ChainPurpose = 'codeSigning'): ParsedCertificate[] {
  if (chain.length === 0) throw new Error('certificate chain must contain at least one certificate');
  const certificates = chain.map((der, index) => parseCertificate(der, `certificate ${index + 1} of the chain`));
  for (const certificate of certificates) {
    if (SHA1_SIGNATURES.includes(certificate.signatureAlgorithm)) {
      throw new Error(`certificate with subject "${certificate.subject}" is signed with SHA-1, which is not allowed`);
    }
  }
  const leaf = certificates[0];
  if (certificates.length === 1) {
    if (!isSelfSigned(leaf)) {
      throw new Error(`invalid self-signed certificate. subject: "${leaf.subject}". Error: the certificate is not self-signed`);
    }
  } else {
    for (let i = 0; i < certificates.length - 1; i++) {
      const child = certificates[i];
      const parent = certificates[i + 1];
      if (isSelfSigned(child)) {
        throw new Error(`invalid certificates or certificate with subject "${child.subject}" is self-signed. Certificate chain must not contain self-signed intermediate certificates`);
      }
      if (!sameBytes(child.rawIssuer, parent.rawSubject) || !child.isSignedBy(parent)) {
        throw new Error(`invalid certificate chain: certificate with subject "${child.subject}" is not issued by "${parent.subject}"`);
      }
    }
    const root = certificates[certificates.length - 1];
    if (!isSelfSigned(root)) {
      throw new Error(`root certificate with subject "${root.subject}" is not self-signed. Certificate chain must end with a valid self-signed root certificate`);
    }
    certificates.slice(1).forEach((ca, index) => checkCa(ca, index + 1));
  }
  if (purpose === 'codeSigning') checkCodeSigningLeaf(leaf);
  else checkTimestampingLeaf(leaf);
  return certificates;
}

function checkCa(certificate: ParsedCertificate, index: number): void {
  const { basicConstraints, keyUsage, subject } = certificate;
  if (!basicConstraints?.ca) {
    throw new Error(`certificate with subject "${subject}": ca field in basic constraints must be present, critical, and set to true`);
  }
  if (basicConstraints.pathLength !== undefined && basicConstraints.pathLength < index - 1) {
    throw new Error(`certificate with subject "${subject}" is a ca certificate with max path length ${basicConstraints.pathLength} but the chain has ${index - 1} certificates below it`);
  }
  if (!keyUsage?.critical) throw new Error(`certificate with subject "${subject}": key usage extension must be present and critical`);
  if (!keyUsage.usages.has('keyCertSign')) throw new Error(`certificate with subject "${subject}": key usage must have the bit positions for key cert sign set`);
}

function checkCodeSigningLeaf(leaf: ParsedCertificate): void {
  const { basicConstraints, keyUsage, extendedKeyUsage, subject } = leaf;
  if (basicConstraints?.ca) throw new Error(`the signing certificate of the certificate chain with subject "${subject}" is invalid: it is a ca certificate, which is not allowed as a signing certificate`);
  if (!keyUsage?.critical) throw new Error(`the signing certificate with subject "${subject}" is invalid: key usage extension must be present and critical`);
  if (!keyUsage.usages.has('digitalSignature')) {
    throw new Error(`the signing certificate with subject "${subject}" is invalid: key usage must have the bit positions for digital signature set`);
  }
  for (const usage of LEAF_FORBIDDEN_KEY_USAGES) {
    if (keyUsage.usages.has(usage)) throw new Error(`the signing certificate with subject "${subject}" is invalid: key usage must not have the bit position for ${usage} set`);
  }
  for (const oid of extendedKeyUsage?.oids ?? []) {
    const name = LEAF_FORBIDDEN_EKUS[oid];
    if (name) throw new Error(`the signing certificate with subject "${subject}" is invalid: extended key usage must not contain ${name} eku`);
  }
  try {
    algorithmForKey(leaf.publicKey);
  } catch (error) {
    throw new Error(`the signing certificate with subject "${subject}" is invalid: ${(error as Error).message}`);
  }
}

function checkTimestampingLeaf(leaf: ParsedCertificate): void {
  const { keyUsage, extendedKeyUsage, subject } = leaf;
  if (!keyUsage) throw new Error(`timestamping certificate with subject "${subject}" must have the key usage extension`);
  if (!keyUsage.usages.has('digitalSignature')) throw new Error(`timestamping certificate with subject "${subject}" must have the digital signature key usage`);
  if (!extendedKeyUsage?.critical || extendedKeyUsage.oids.length !== 1 || extendedKeyUsage.oids[0] !== OID.timeStamping) {
    throw new Error(`timestamping certificate with subject "${subject}" must have a critical extended key usage extension with only the timestamping usage`);
  }
}
