/**
 * Test PKI: generated keys and certificates (never checked in). Chains are root → intermediate → leaf by
 * default, with every certificate property a test may need to get wrong on purpose.
 */
import 'reflect-metadata';
import { KeyObject, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

export type KeySpec = 'EC-256' | 'EC-384' | 'EC-521' | 'RSA-2048' | 'RSA-3072' | 'RSA-4096';

const KEY_ALGORITHMS: Record<KeySpec, { generate: RsaHashedKeyGenParams | EcKeyGenParams; sign: Algorithm & { hash?: string } }> = {
  'EC-256': { generate: { name: 'ECDSA', namedCurve: 'P-256' }, sign: { name: 'ECDSA', hash: 'SHA-256' } },
  'EC-384': { generate: { name: 'ECDSA', namedCurve: 'P-384' }, sign: { name: 'ECDSA', hash: 'SHA-384' } },
  'EC-521': { generate: { name: 'ECDSA', namedCurve: 'P-521' }, sign: { name: 'ECDSA', hash: 'SHA-512' } },
  'RSA-2048': { generate: rsa(2048), sign: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } },
  'RSA-3072': { generate: rsa(3072), sign: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } },
  'RSA-4096': { generate: rsa(4096), sign: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } },
};

function rsa(modulusLength: number): RsaHashedKeyGenParams {
  return { name: 'RSASSA-PKCS1-v1_5', modulusLength, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' };
}

export interface TestCertificate {
  readonly der: Uint8Array;
  readonly pem: string;
  /** The private key as a node KeyObject. */
  readonly key: KeyObject;
  readonly keyPem: string;
  readonly subject: string;
  readonly keySpec: KeySpec;
  /** For issuing further certificates. */
  readonly keys: CryptoKeyPair;
  readonly certificate: x509.X509Certificate;
}

export interface CertificateOptions {
  /** @default a name derived from the role */
  readonly subject?: string;
  /** @default 'EC-256' */
  readonly keySpec?: KeySpec;
  /** @default now minus one hour */
  readonly notBefore?: Date;
  /** @default now plus one year */
  readonly notAfter?: Date;
  /** Key usage flags; `null` omits the extension. */
  readonly keyUsage?: number | null;
  /** @default true */
  readonly keyUsageCritical?: boolean;
  /** `null` omits basic constraints. */
  readonly basicConstraints?: { readonly ca: boolean; readonly pathLength?: number; readonly critical?: boolean } | null;
  readonly extendedKeyUsage?: readonly string[];
  readonly extendedKeyUsageCritical?: boolean;
  /** Adds a CRL distribution point (the certificate becomes revocable). */
  readonly crlUrl?: string;
  /** Adds an OCSP responder (authority information access). */
  readonly ocspUrl?: string;
  /** Adds a freshest CRL (delta CRL) extension naming this URL. */
  readonly freshestCrlUrl?: string;
  /** Signature algorithm override for the issuer's signature, e.g. SHA-1. */
  readonly signingHash?: 'SHA-1' | 'SHA-256' | 'SHA-384' | 'SHA-512';
}

const HOUR = 3600_000;
let serial = 1;

async function generateKeys(spec: KeySpec): Promise<CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(KEY_ALGORITHMS[spec].generate, true, ['sign', 'verify'])) as CryptoKeyPair;
}

async function issue(
  role: 'root' | 'ca' | 'leaf' | 'tsa',
  options: CertificateOptions,
  issuer?: TestCertificate,
): Promise<TestCertificate> {
  const keySpec = options.keySpec ?? 'EC-256';
  const keys = await generateKeys(keySpec);
  const subject = options.subject ?? `CN=Test ${role} ${serial},O=Notary Test,L=Seattle,ST=WA,C=US`;
  const isCa = role === 'root' || role === 'ca';
  const extensions: x509.Extension[] = [];
  const basicConstraints = options.basicConstraints === undefined ? (isCa ? { ca: true, critical: true } : null) : options.basicConstraints;
  if (basicConstraints) {
    extensions.push(new x509.BasicConstraintsExtension(basicConstraints.ca, basicConstraints.pathLength, basicConstraints.critical ?? true));
  }
  // eslint-disable-next-line no-bitwise
  const defaultUsage = isCa ? x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign : x509.KeyUsageFlags.digitalSignature;
  const keyUsage = options.keyUsage === undefined ? defaultUsage : options.keyUsage;
  if (keyUsage !== null) extensions.push(new x509.KeyUsagesExtension(keyUsage, options.keyUsageCritical ?? true));
  const eku = options.extendedKeyUsage ?? (role === 'leaf' ? [x509.ExtendedKeyUsage.codeSigning] : role === 'tsa' ? [x509.ExtendedKeyUsage.timeStamping] : undefined);
  if (eku) extensions.push(new x509.ExtendedKeyUsageExtension([...eku], options.extendedKeyUsageCritical ?? role === 'tsa'));
  if (options.crlUrl) extensions.push(new x509.CRLDistributionPointsExtension([options.crlUrl]));
  if (options.ocspUrl) extensions.push(new x509.AuthorityInfoAccessExtension({ ocsp: options.ocspUrl }));
  if (options.freshestCrlUrl) {
    const points = new x509.CRLDistributionPointsExtension([options.freshestCrlUrl]);
    extensions.push(new x509.Extension('2.5.29.46', false, points.value));
  }
  extensions.push(await x509.SubjectKeyIdentifierExtension.create(keys.publicKey));

  const signerSpec = issuer?.keySpec ?? keySpec;
  const signingAlgorithm = { ...KEY_ALGORITHMS[signerSpec].sign, ...(options.signingHash ? { hash: options.signingHash } : {}) };
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: (serial++).toString(16).padStart(4, '0'),
    subject: derOrder(subject),
    issuer: derOrder(issuer?.subject ?? subject),
    notBefore: options.notBefore ?? new Date(Date.now() - HOUR),
    notAfter: options.notAfter ?? new Date(Date.now() + 365 * 24 * HOUR),
    signingAlgorithm,
    publicKey: keys.publicKey,
    signingKey: issuer?.keys.privateKey ?? keys.privateKey,
    extensions,
  });
  const der = new Uint8Array(certificate.rawData);
  const key = KeyObject.from(keys.privateKey);
  return {
    der,
    pem: certificate.toString('pem'),
    key,
    keyPem: key.export({ type: 'pkcs8', format: 'pem' }).toString(),
    subject,
    keySpec,
    keys,
    certificate,
  };
}

/**
 * RFC 4514 strings list the last RDN first (`CN=…,O=…,C=US`); the DER sequence starts with C. @peculiar/x509
 * encodes a string in the order written, so reverse it (test subjects have no escaped commas).
 */
function derOrder(name: string): string {
  return name.split(',').reverse().join(',');
}

export function createRoot(options: CertificateOptions = {}): Promise<TestCertificate> {
  return issue('root', options);
}

export function createIntermediate(issuer: TestCertificate, options: CertificateOptions = {}): Promise<TestCertificate> {
  return issue('ca', options, issuer);
}

/** A code signing leaf issued by `issuer`, or self-signed when `issuer` is omitted. */
export function createLeaf(issuer: TestCertificate | undefined, options: CertificateOptions = {}): Promise<TestCertificate> {
  return issue('leaf', options, issuer);
}

/** A timestamping certificate (EKU timeStamping, critical). */
export function createTsaLeaf(issuer: TestCertificate, options: CertificateOptions = {}): Promise<TestCertificate> {
  return issue('tsa', options, issuer);
}

export interface TestChain {
  readonly root: TestCertificate;
  readonly intermediate: TestCertificate;
  readonly leaf: TestCertificate;
  /** DER, leaf first. */
  readonly chain: Uint8Array[];
  /** PEM, leaf first (what `--cert` takes). */
  readonly chainPem: string;
}

/** root → intermediate → code signing leaf. */
export async function createChain(options: { leaf?: CertificateOptions; keySpec?: KeySpec; root?: CertificateOptions } = {}): Promise<TestChain> {
  const keySpec = options.keySpec ?? 'EC-256';
  const root = await createRoot({ keySpec, ...options.root });
  const intermediate = await createIntermediate(root, { keySpec });
  const leaf = await createLeaf(intermediate, { keySpec, ...options.leaf });
  return { root, intermediate, leaf, chain: [leaf.der, intermediate.der, root.der], chainPem: [leaf.pem, intermediate.pem, root.pem].join('\n') };
}
