/**
 * RFC 3161 timestamp countersignatures (specs/signature-specification.md and specs/signing-and-verification-workflow.md): the TimeStampToken in the
 * envelope's unprotected header proves when the primitive signature existed.
 */
import { createHash, webcrypto } from 'node:crypto';
import * as asn1js from 'asn1js';
import { Certificate, ContentInfo, CryptoEngine, SignedData, TSTInfo, setEngine } from 'pkijs';
import { OID, ParsedCertificate, parseCertificate, toArrayBuffer } from './certificate';
import { validateCertificateChain } from './certificate-chain';

const ID_SIGNED_DATA = '1.2.840.113549.1.7.2';
const ID_CT_TST_INFO = '1.2.840.113549.1.9.16.1.4';
const HASHES: Readonly<Record<string, 'sha256' | 'sha384' | 'sha512'>> = {
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
};

let engineReady = false;
function useNodeCrypto(): void {
  if (engineReady) return;
  setEngine('node', new CryptoEngine({ name: 'node', crypto: webcrypto as unknown as Crypto }));
  engineReady = true;
}

export interface VerifiedTimestamp {
  readonly genTime: Date;
  /** Accuracy in milliseconds (0 when the token states none). */
  readonly accuracyMs: number;
  readonly tsaSubject: string;
  /** The timestamping certificate chain the token verified with, leaf first (its revocation is checked next). */
  readonly tsaChain: readonly ParsedCertificate[];
}

/**
 * Verifies `token` over the primitive `signature`: a signed TSTInfo whose message imprint is the hash of the
 * signature, signed by a timestamping certificate that chains to `tsaAnchors` and was valid at genTime, and
 * whose time (± accuracy) lies within every signing certificate's validity. Throws an Error saying why not.
 */
export async function verifyTimestamp(
  token: Uint8Array,
  signature: Uint8Array,
  tsaAnchors: readonly Uint8Array[],
  signingChain: readonly ParsedCertificate[],
): Promise<VerifiedTimestamp> {
  useNodeCrypto();
  let signedData: SignedData;
  let tstInfo: TSTInfo;
  try {
    const contentInfo = ContentInfo.fromBER(toArrayBuffer(token));
    if (contentInfo.contentType !== ID_SIGNED_DATA) throw new Error('it is not CMS SignedData');
    signedData = new SignedData({ schema: contentInfo.content });
    if (signedData.encapContentInfo.eContentType !== ID_CT_TST_INFO) throw new Error('its content type is not id-ct-TSTInfo');
    const content = signedData.encapContentInfo.eContent;
    if (!content) throw new Error('it has no TSTInfo');
    tstInfo = TSTInfo.fromBER(content.getValue());
  } catch (error) {
    throw new Error(`failed to parse timestamp countersignature: ${(error as Error).message}`);
  }

  const hash = HASHES[tstInfo.messageImprint.hashAlgorithm.algorithmId];
  if (!hash) throw new Error(`timestamp countersignature uses an unsupported hash algorithm ${tstInfo.messageImprint.hashAlgorithm.algorithmId}`);
  const expected = createHash(hash).update(signature).digest();
  if (!expected.equals(Buffer.from(tstInfo.messageImprint.hashedMessage.valueBlock.valueHexView))) {
    throw new Error('timestamp countersignature does not cover the signature: its message imprint differs');
  }
  if (tsaAnchors.length === 0) throw new Error('no trusted TSA certificates are found to verify the timestamp countersignature');

  const genTime = tstInfo.genTime;
  let result;
  try {
    result = await signedData.verify({
      signer: 0,
      // For a TSTInfo, pkijs checks the message imprint against `data` and refuses to verify without it.
      data: toArrayBuffer(signature),
      checkChain: true,
      extendedMode: true,
      checkDate: genTime,
      trustedCerts: tsaAnchors.map((der) => Certificate.fromBER(toArrayBuffer(der))),
    });
  } catch (error) {
    throw new Error(`failed to verify the timestamp countersignature: ${(error as { message?: string }).message ?? String(error)}`);
  }
  if (!result.signatureVerified || !result.signerCertificate) throw new Error('failed to verify the timestamp countersignature: its signature is invalid');
  const tsaChain = (result.certificatePath.length > 0 ? result.certificatePath : [result.signerCertificate]).map(
    (certificate, index) => parseCertificate(new Uint8Array(certificate.toSchema().toBER()), `timestamp certificate ${index + 1}`),
  );
  const leaf = tsaChain[0];
  checkSigningCertificateAttribute(signedData, leaf);
  if (!leaf.extendedKeyUsage?.oids.includes(OID.timeStamping)) {
    throw new Error(`timestamp certificate with subject "${leaf.subject}" is not a timestamping certificate`);
  }
  validateCertificateChain(tsaChain.map((certificate) => certificate.der), 'timestamping');

  const accuracy = tstInfo.accuracy;
  const accuracyMs = accuracy ? (accuracy.seconds ?? 0) * 1000 + (accuracy.millis ?? 0) + (accuracy.micros ?? 0) / 1000 : 0;
  const earliest = genTime.getTime() - accuracyMs;
  const latest = genTime.getTime() + accuracyMs;
  for (const certificate of signingChain) {
    if (earliest < certificate.notBefore.getTime()) {
      throw new Error(`timestamp can be before certificate "${certificate.subject}" validity period, it will be valid from "${certificate.notBefore.toISOString()}"`);
    }
    if (latest > certificate.notAfter.getTime()) {
      throw new Error(`timestamp can be after certificate "${certificate.subject}" validity period, it was expired at "${certificate.notAfter.toISOString()}"`);
    }
  }
  return { genTime, accuracyMs, tsaSubject: leaf.subject, tsaChain };
}

/** ESS signing certificate attributes (RFC 2634, RFC 5035): a hash of the TSA certificate inside the signed attributes. */
const SIGNING_CERTIFICATE = '1.2.840.113549.1.9.16.2.12';
const SIGNING_CERTIFICATE_V2 = '1.2.840.113549.1.9.16.2.47';

/**
 * RFC 3161 section 2.4.1: the token's signed attributes must name the TSA certificate (ESSCertID or ESSCertIDv2),
 * so that the certificate the signature was checked with cannot be swapped for another with the same key.
 */
function checkSigningCertificateAttribute(signedData: SignedData, signer: ParsedCertificate): void {
  const attributes = signedData.signerInfos[0]?.signedAttrs?.attributes ?? [];
  const attribute = attributes.find((a) => a.type === SIGNING_CERTIFICATE_V2) ?? attributes.find((a) => a.type === SIGNING_CERTIFICATE);
  if (!attribute) throw new Error('timestamp countersignature has no signing certificate attribute (ESS SigningCertificate)');
  let hashName: string;
  let certHash: Buffer;
  try {
    // SigningCertificate(V2) ::= SEQUENCE { certs SEQUENCE OF ESSCertID(v2), ... }; the first names the signer.
    const certs = (attribute.values[0] as asn1js.Sequence).valueBlock.value[0] as asn1js.Sequence;
    const fields = (certs.valueBlock.value[0] as asn1js.Sequence).valueBlock.value;
    if (attribute.type === SIGNING_CERTIFICATE) {
      hashName = 'sha1';
      certHash = Buffer.from((fields[0] as asn1js.OctetString).valueBlock.valueHexView);
    } else {
      // ESSCertIDv2 ::= SEQUENCE { hashAlgorithm AlgorithmIdentifier DEFAULT sha256, certHash OCTET STRING, ... }
      const explicitAlgorithm = fields[0] instanceof asn1js.Sequence;
      const algorithmIdentifier = explicitAlgorithm ? (fields[0] as asn1js.Sequence).valueBlock.value[0] : undefined;
      const algorithm = (algorithmIdentifier as asn1js.ObjectIdentifier | undefined)?.getValue();
      hashName = algorithm === undefined ? 'sha256' : HASHES[algorithm];
      if (!hashName) throw new Error(`unsupported hash algorithm ${algorithm}`);
      certHash = Buffer.from((fields[explicitAlgorithm ? 1 : 0] as asn1js.OctetString).valueBlock.valueHexView);
    }
  } catch (error) {
    throw new Error(`timestamp countersignature has a malformed signing certificate attribute: ${(error as Error).message}`);
  }
  if (!createHash(hashName).update(signer.der).digest().equals(certHash)) {
    throw new Error(`timestamp countersignature's signing certificate attribute does not name its signer "${signer.subject}"`);
  }
}
