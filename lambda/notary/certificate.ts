/**
 * X.509 certificates as the Notary rules need them: extensions with their criticality (pkijs parses the
 * ASN.1), keys and signatures (node crypto). Parsed certificates are cached by content, so a warm
 * verifier parses a chain once.
 */
import { createHash, KeyObject, X509Certificate as NodeCertificate } from 'node:crypto';
import * as asn1js from 'asn1js';
import { AttributeTypeAndValue, BasicConstraints, Certificate, CRLDistributionPoints, ExtKeyUsage, GeneralName, InfoAccess } from 'pkijs';

export type KeyUsageName =
  | 'digitalSignature' | 'nonRepudiation' | 'keyEncipherment' | 'dataEncipherment' | 'keyAgreement'
  | 'keyCertSign' | 'cRLSign' | 'encipherOnly' | 'decipherOnly';

const KEY_USAGE_BITS: readonly KeyUsageName[] = [
  'digitalSignature', 'nonRepudiation', 'keyEncipherment', 'dataEncipherment', 'keyAgreement',
  'keyCertSign', 'cRLSign', 'encipherOnly', 'decipherOnly',
];

export const OID = {
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extendedKeyUsage: '2.5.29.37',
  crlDistributionPoints: '2.5.29.31',
  authorityInfoAccess: '1.3.6.1.5.5.7.1.1',
  freshestCrl: '2.5.29.46',
  ocspAccessMethod: '1.3.6.1.5.5.7.48.1',
  codeSigning: '1.3.6.1.5.5.7.3.3',
  timeStamping: '1.3.6.1.5.5.7.3.8',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
  emailProtection: '1.3.6.1.5.5.7.3.4',
  ocspSigning: '1.3.6.1.5.5.7.3.9',
  anyExtendedKeyUsage: '2.5.29.37.0',
  sha1WithRSA: '1.2.840.113549.1.1.5',
  ecdsaWithSHA1: '1.2.840.10045.4.1',
} as const;

/** Attribute names Go's `pkix.Name.String()` knows; notation rejects every other attribute in identities. */
const ATTRIBUTE_NAMES: Readonly<Record<string, string>> = {
  '2.5.4.6': 'C',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '2.5.4.3': 'CN',
  '2.5.4.5': 'SERIALNUMBER',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.9': 'STREET',
  '2.5.4.17': 'POSTALCODE',
};

export interface ParsedCertificate {
  readonly der: Uint8Array;
  /** Lowercase hex SHA-256 of the DER bytes. */
  readonly sha256: string;
  /** The subject as Go prints it (reversed RDN order, e.g. `CN=leaf,O=Acme,ST=WA,C=US`). */
  readonly subject: string;
  readonly issuer: string;
  /** Subject attributes by name, or why the subject cannot be used as an identity. */
  readonly subjectAttributes: Readonly<Record<string, string>> | { readonly error: string };
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly publicKey: KeyObject;
  readonly basicConstraints?: { readonly ca: boolean; readonly pathLength?: number; readonly critical: boolean };
  readonly keyUsage?: { readonly usages: ReadonlySet<KeyUsageName>; readonly critical: boolean };
  readonly extendedKeyUsage?: { readonly oids: readonly string[]; readonly critical: boolean };
  readonly signatureAlgorithm: string;
  /** Whether the certificate names OCSP or CRL endpoints (it can be revoked). */
  readonly hasRevocationEndpoints: boolean;
  /** OCSP responder URIs of the authority information access extension (Go's `Certificate.OCSPServer`). */
  readonly ocspUrls: readonly string[];
  /** Full-name URIs of the CRL distribution points (Go's `Certificate.CRLDistributionPoints`). */
  readonly crlUrls: readonly string[];
  /** Whether the certificate names a delta CRL (freshest CRL extension). */
  readonly hasFreshestCrl: boolean;
  /** The serial number's DER integer content bytes. */
  readonly serialNumber: Uint8Array;
  readonly rawSubject: Uint8Array;
  readonly rawIssuer: Uint8Array;
  /** The DER TBSCertificate (what the issuer signed). */
  readonly tbs: Uint8Array;
  /** Whether `issuer` signed this certificate (signature check only). */
  isSignedBy(issuer: ParsedCertificate): boolean;
}

const cache = new Map<string, ParsedCertificate>();
const CACHE_SIZE = 256;

/** Parses a DER certificate; throws an Error naming `what` when it is not one. */
export function parseCertificate(der: Uint8Array, what = 'certificate'): ParsedCertificate {
  const sha256 = createHash('sha256').update(der).digest('hex');
  const cached = cache.get(sha256);
  if (cached) return cached;
  const parsed = parse(der, sha256, what);
  if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value as string);
  cache.set(sha256, parsed);
  return parsed;
}

function parse(der: Uint8Array, sha256: string, what: string): ParsedCertificate {
  let node: NodeCertificate;
  let certificate: Certificate;
  try {
    node = new NodeCertificate(der);
    certificate = Certificate.fromBER(toArrayBuffer(der));
  } catch (error) {
    throw new Error(`${what} is not a valid X.509 certificate: ${(error as Error).message}`);
  }
  // DER is canonical: bytes after the certificate would let the same signature verify with other bytes.
  if (node.raw.length !== der.length) {
    throw new Error(`${what} is not a valid X.509 certificate: ${der.length - node.raw.length} bytes follow the DER certificate`);
  }
  let basicConstraints: ParsedCertificate['basicConstraints'];
  let keyUsage: ParsedCertificate['keyUsage'];
  let extendedKeyUsage: ParsedCertificate['extendedKeyUsage'];
  const ocspUrls: string[] = [];
  const crlUrls: string[] = [];
  let hasFreshestCrl = false;
  for (const extension of certificate.extensions ?? []) {
    const critical = extension.critical === true;
    switch (extension.extnID) {
      case OID.basicConstraints: {
        const value = extension.parsedValue as BasicConstraints;
        const pathLength = typeof value.pathLenConstraint === 'number' ? value.pathLenConstraint : value.pathLenConstraint?.valueBlock.valueDec;
        basicConstraints = { ca: value.cA === true, pathLength, critical };
        break;
      }
      case OID.keyUsage:
        keyUsage = { usages: keyUsages(extension.parsedValue as asn1js.BitString), critical };
        break;
      case OID.extendedKeyUsage:
        extendedKeyUsage = { oids: (extension.parsedValue as ExtKeyUsage).keyPurposes, critical };
        break;
      case OID.crlDistributionPoints:
        for (const point of (extension.parsedValue as CRLDistributionPoints | undefined)?.distributionPoints ?? []) {
          if (Array.isArray(point.distributionPoint)) crlUrls.push(...uris(point.distributionPoint));
        }
        break;
      case OID.authorityInfoAccess:
        for (const description of (extension.parsedValue as InfoAccess | undefined)?.accessDescriptions ?? []) {
          if (description.accessMethod === OID.ocspAccessMethod) ocspUrls.push(...uris([description.accessLocation]));
        }
        break;
      case OID.freshestCrl:
        hasFreshestCrl = true;
        break;
    }
  }
  const tbs = new Uint8Array(certificate.tbsView);
  const rawIssuer = new Uint8Array(certificate.issuer.valueBeforeDecode);
  const rawSubject = new Uint8Array(certificate.subject.valueBeforeDecode);
  return {
    der,
    sha256,
    subject: goName(certificate.subject.typesAndValues),
    issuer: goName(certificate.issuer.typesAndValues),
    subjectAttributes: identityAttributes(certificate.subject.typesAndValues),
    notBefore: certificate.notBefore.value,
    notAfter: certificate.notAfter.value,
    publicKey: node.publicKey,
    basicConstraints,
    keyUsage,
    extendedKeyUsage,
    signatureAlgorithm: certificate.signatureAlgorithm.algorithmId,
    hasRevocationEndpoints: ocspUrls.length > 0 || crlUrls.length > 0,
    ocspUrls,
    crlUrls,
    hasFreshestCrl,
    serialNumber: new Uint8Array(certificate.serialNumber.valueBlock.valueHexView),
    rawSubject,
    rawIssuer,
    tbs,
    isSignedBy: (issuer) => {
      try {
        return node.verify(issuer.publicKey);
      } catch {
        return false;
      }
    },
  };
}

/** The uniformResourceIdentifier (type 6) names among `names`. */
function uris(names: readonly GeneralName[]): string[] {
  return names.filter((name) => name.type === 6 && typeof name.value === 'string').map((name) => name.value as string);
}

function keyUsages(bits: asn1js.BitString): Set<KeyUsageName> {
  const bytes = bits.valueBlock.valueHexView;
  const usages = new Set<KeyUsageName>();
  // Bit 0 (digitalSignature) is the most significant bit of the first byte.
  const bitString = Array.from(bytes, (byte) => byte.toString(2).padStart(8, '0')).join('');
  KEY_USAGE_BITS.forEach((name, index) => {
    if (bitString[index] === '1') usages.add(name);
  });
  return usages;
}

function attributeValue(attribute: AttributeTypeAndValue): string {
  const value = attribute.value as { valueBlock?: { value?: unknown } };
  return typeof value.valueBlock?.value === 'string' ? value.valueBlock.value : '';
}

function goName(attributes: readonly AttributeTypeAndValue[]): string {
  return [...attributes]
    .reverse()
    .map((attribute) => {
      const name = ATTRIBUTE_NAMES[attribute.type];
      if (!name) return `${attribute.type}=#${Buffer.from(attribute.value.toBER()).toString('hex')}`;
      return `${name}=${escapeValue(attributeValue(attribute))}`;
    })
    .join(',');
}

function escapeValue(value: string): string {
  return value.replace(/([,+"\\<>;])/g, '\\$1').replace(/^([ #])/, '\\$1').replace(/ $/, '\\ ');
}

function identityAttributes(attributes: readonly AttributeTypeAndValue[]): Record<string, string> | { error: string } {
  const result: Record<string, string> = {};
  for (const attribute of attributes) {
    const name = ATTRIBUTE_NAMES[attribute.type];
    if (!name) return { error: `its subject has attribute ${attribute.type}, which X.509 trusted identities do not support` };
    if (name in result) return { error: `its subject has duplicate RDN attribute for "${name}"` };
    result[name] = attributeValue(attribute);
  }
  for (const required of ['C', 'ST', 'O']) {
    if (!result[required]) return { error: `its subject has no mandatory RDN attribute for "${required}"` };
  }
  return result;
}

/** Lowercase hex SHA-384 of the TBSCertificate, as AWS Signer's revocation API names certificates. */
export function tbsSha384(certificate: ParsedCertificate): string {
  return createHash('sha384').update(certificate.tbs).digest('hex');
}

/** A copy of `bytes` in its own ArrayBuffer (pkijs takes ArrayBuffers). */
export function toArrayBuffer(bytes: Uint8Array): ArrayBuffer {
  return bytes.slice().buffer as ArrayBuffer;
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  return Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength)) === 0;
}

/** Self-issued (issuer = subject) and self-signed. */
export function isSelfSigned(certificate: ParsedCertificate): boolean {
  return sameBytes(certificate.rawIssuer, certificate.rawSubject) && certificate.isSignedBy(certificate);
}
