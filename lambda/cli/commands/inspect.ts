import { Command, Option } from 'commander';
import { CertificateDescription } from '../../notary/describe-signature';
import { SignatureStore } from '../../notary/signature-store';
import { MediaType } from '../../oci/media-types';
import { Descriptor } from '../../oci/types';
import { attestationBranches, listAttestationsWithSignatures } from '../attestation-listing';
import { CliContext } from '../context';
import { CliError } from '../io';
import { listAtMost, maxSignaturesOption, parseMaxSignatures, tagWarning } from '../listing-options';
import { addRegistryOptions, forReference, openTarget, RegistryCliOptions } from '../registry-options';
import { describeSignatureAt, SignatureDetails } from '../signature-details';
import { renderTree, TreeNode } from '../tree';

interface InspectOptions extends RegistryCliOptions {
  readonly output: 'tree' | 'text' | 'json';
  readonly maxSignatures: string;
}

/**
 * notation 1.x's inspect JSON (cmd/notation/inspect.go at v1.3.2: signatureOutput). Go writes map keys sorted
 * and a payload without annotations as `"userDefinedAttributes": null`.
 */
interface InspectedSignature {
  readonly mediaType: string;
  readonly digest: string;
  readonly signatureAlgorithm: string;
  readonly signedAttributes: Record<string, string>;
  readonly userDefinedAttributes: Record<string, string> | null;
  readonly unsignedAttributes: Record<string, unknown>;
  readonly certificates: InspectedCertificate[];
  readonly signedArtifact: { readonly mediaType: string; readonly digest: string; readonly size: number };
}

/**
 * An attestation (`signed-image attest`) in inspect's JSON, under the key `Attestations` next to notation's
 * `Signatures` (written only when the image has attestations, so notation's output is unchanged otherwise):
 * its type, manifest descriptor and its own signatures in the shape of `Signatures`.
 */
interface InspectedAttestation {
  readonly type: string;
  readonly artifactType: string;
  readonly mediaType: string;
  readonly digest: string;
  readonly size: number;
  readonly Signatures: InspectedSignature[];
}

interface InspectedCertificate {
  readonly SHA256Fingerprint: string;
  readonly issuedTo: string;
  readonly issuedBy: string;
  readonly expiry: string;
}

/** notation-core-go's names for the JWS algorithms (proto.EncodeSigningAlgorithm). */
const ALGORITHM_NAMES: Readonly<Record<string, string>> = {
  ES256: 'ECDSA-SHA-256',
  ES384: 'ECDSA-SHA-384',
  ES512: 'ECDSA-SHA-512',
  PS256: 'RSASSA-PSS-SHA-256',
  PS384: 'RSASSA-PSS-SHA-384',
  PS512: 'RSASSA-PSS-SHA-512',
};

/**
 * `signed-image inspect <ref>`: every signature's algorithm, signed, user defined and unsigned attributes,
 * certificate chain and signed artifact, in notation's JSON shape (`-o json`) or tree (`-o tree`, the
 * default), then the image's attestations with their signatures (`Attestations` in the JSON). It does not
 * verify. A signature that cannot be read is reported on stderr and fails the command after the others are
 * shown, as in notation.
 */
export function registerInspect(program: Command, { io }: CliContext): void {
  addRegistryOptions(
    program
      .command('inspect')
      .description('inspect all signatures associated with the signed artifact, and its attestations with theirs (no verification)')
      .argument('<ref>', 'image reference: <registry>/<repository>:<tag> or @<digest>')
      .addOption(maxSignaturesOption())
      .addOption(new Option('-o, --output <format>', 'output format: tree (also "text") or json').choices(['tree', 'text', 'json']).default('tree')),
  ).action(async (reference: string, options: InspectOptions) => {
    const max = parseMaxSignatures(options.maxSignatures);
    const json = options.output === 'json';
    const target = await openTarget(reference, options, io);
    let skipped = false;
    const { subject, signatures, attestations } = await forReference(
      target.displayReference,
      async () => {
        // The manifest's own bytes name the subject, as verify resolves it: a header alone is not trusted.
        const resolved = await new SignatureStore(target.repository).resolve(target.tagOrDigest, target.displayReference);
        if (resolved.digest !== target.tagOrDigest) tagWarning(io, 'inspect', target.tagOrDigest);
        const describeAll = async (listed: readonly Descriptor[], signedArtifact: Descriptor): Promise<InspectedSignature[]> => {
          const inspected: InspectedSignature[] = [];
          for (const signature of listed) {
            try {
              inspected.push(toNotationShape(await describeSignatureAt(target, signature.digest, signedArtifact), json));
            } catch (error) {
              io.stderr(`Warning: Skipping signature ${signature.digest} because of error: ${(error as Error).message}\n`);
              skipped = true;
            }
          }
          return inspected;
        };
        const ofImage = await describeAll(await listAtMost(target.repository, resolved, max, io), resolved);
        const ofAttestations: InspectedAttestation[] = [];
        for (const attestation of await listAttestationsWithSignatures(target.repository, resolved, max, io)) {
          const { mediaType, digest, size } = attestation.descriptor;
          // The signatures' subject is the attestation manifest as listed; describeSignatureAt checks each against it.
          const attestationSubject = { mediaType, digest, size };
          ofAttestations.push({
            type: attestation.type,
            artifactType: attestation.descriptor.artifactType ?? '',
            mediaType,
            digest,
            size,
            Signatures: await describeAll(attestation.signatures, attestationSubject),
          });
        }
        return { subject: resolved, signatures: ofImage, attestations: ofAttestations };
      },
      options,
    );
    const pinned = `${target.repositoryName}@${subject.digest}`;
    if (json) {
      // notation 1.x: `Signatures` is a Go struct field without a json tag (inspectOutput in cmd/notation/inspect.go
      // up to v1.3.2), so that is its key; notation 2 renamed it `signatures`.
      const output = { mediaType: subject.mediaType, Signatures: signatures, ...(attestations.length > 0 ? { Attestations: attestations } : {}) };
      io.stdout(`${JSON.stringify(output, undefined, 4)}\n`);
    } else if (signatures.length === 0 && attestations.length === 0) {
      io.stdout(`${pinned} has no associated signature\n`);
    } else {
      const branches: TreeNode[] = signatures.length > 0 ? [{ label: MediaType.NOTARY_SIGNATURE, children: signatures.map(signatureNode) }] : [];
      const attested = attestationBranches(
        attestations.map((attestation) => ({ descriptor: attestation, signatures: attestation.Signatures })),
        signatureNode,
      );
      const tree = renderTree({ label: pinned, children: [...branches, ...attested] });
      io.stdout(`Inspecting all signatures for signed artifact\n${tree}`);
    }
    if (skipped) throw new CliError('at least one signature was skipped and not displayed');
  });
}

function toNotationShape(signature: SignatureDetails, json: boolean): InspectedSignature {
  const time = (iso: string | undefined) => (iso === undefined ? undefined : formatTime(iso, json));
  const signedAttributes: Record<string, string> = { signingScheme: signature.signingScheme };
  const signingTime = time(signature.signingTime ?? signature.authenticSigningTime);
  if (signingTime) signedAttributes.signingTime = signingTime;
  const expiry = time(signature.expiry);
  if (expiry) signedAttributes.expiry = expiry;
  for (const [key, value] of Object.entries(signature.signedAttributes)) signedAttributes[key] = typeof value === 'string' ? value : JSON.stringify(value);
  const unsignedAttributes: Record<string, unknown> = {};
  if (signature.signingAgent) unsignedAttributes.signingAgent = signature.signingAgent;
  if (signature.timestamp) {
    unsignedAttributes.timestampSignature =
      'error' in signature.timestamp
        ? { error: signature.timestamp.error }
        : {
          timestamp: formatTimestampRange(signature.timestamp.genTime, signature.timestampAccuracyMs, json),
          certificates: signature.timestamp.certificates.map((certificate) => certificateShape(certificate, json)),
        };
  }
  const { annotations, ...artifact } = signature.signedArtifact;
  return {
    mediaType: signature.mediaType,
    digest: signature.signatureDigest,
    signatureAlgorithm: ALGORITHM_NAMES[signature.signatureAlgorithm] ?? signature.signatureAlgorithm,
    signedAttributes: sortedKeys(signedAttributes),
    userDefinedAttributes: annotations ? sortedKeys(annotations) : null,
    unsignedAttributes: sortedKeys(unsignedAttributes),
    certificates: signature.certificateChain.map((certificate) => certificateShape(certificate, json)),
    signedArtifact: { mediaType: artifact.mediaType, digest: artifact.digest, size: artifact.size },
  };
}

function certificateShape(certificate: CertificateDescription, json: boolean): InspectedCertificate {
  return {
    SHA256Fingerprint: certificate.sha256Fingerprint,
    issuedTo: certificate.subject,
    issuedBy: certificate.issuer,
    expiry: formatTime(certificate.notAfter, json),
  };
}

/** Go's encoding/json writes a map's keys in sorted order. */
function sortedKeys<T>(record: Readonly<Record<string, T>>): Record<string, T> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** tspclient-go Timestamp.Format: `[genTime - accuracy, genTime + accuracy]`. */
function formatTimestampRange(genTime: string, accuracyMs: number, json: boolean): string {
  const at = new Date(genTime).getTime();
  return `[${formatTime(new Date(at - accuracyMs).toISOString(), json)}, ${formatTime(new Date(at + accuracyMs).toISOString(), json)}]`;
}

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** notation prints times as RFC 3339 in JSON and in Go's ANSIC layout (`Mon Jan _2 15:04:05 2006`) in the tree. */
function formatTime(iso: string, json: boolean): string {
  const date = new Date(iso);
  if (json) return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
  const clock = date.toISOString().slice(11, 19);
  return `${DAYS[date.getUTCDay()]} ${MONTHS[date.getUTCMonth()]} ${String(date.getUTCDate()).padStart(2, ' ')} ${clock} ${date.getUTCFullYear()}`;
}

function signatureNode(signature: InspectedSignature): TreeNode {
  const pairs = (record: Record<string, string>): TreeNode[] =>
    Object.keys(record).length === 0 ? [{ label: '(empty)' }] : Object.entries(record).map(([key, value]) => ({ label: `${key}: ${value}` }));
  const certificates = (list: readonly InspectedCertificate[]): TreeNode => ({
    label: 'certificates',
    children: list.map((certificate) => ({
      label: `SHA256 fingerprint: ${certificate.SHA256Fingerprint}`,
      children: [{ label: `issued to: ${certificate.issuedTo}` }, { label: `issued by: ${certificate.issuedBy}` }, { label: `expiry: ${certificate.expiry}` }],
    })),
  });
  const unsigned: TreeNode[] = [];
  for (const [key, value] of Object.entries(signature.unsignedAttributes)) {
    if (typeof value === 'string') {
      unsigned.push({ label: `${key}: ${value}` });
    } else if ('error' in (value as object)) {
      unsigned.push({ label: 'timestamp signature', children: [{ label: `error: ${(value as { error: string }).error}` }] });
    } else {
      const timestamp = value as { timestamp: string; certificates: InspectedCertificate[] };
      unsigned.push({ label: 'timestamp signature', children: [{ label: `timestamp: ${timestamp.timestamp}` }, certificates(timestamp.certificates)] });
    }
  }
  return {
    label: signature.digest,
    children: [
      { label: `media type: ${signature.mediaType}` },
      { label: `signature algorithm: ${signature.signatureAlgorithm}` },
      { label: 'signed attributes', children: pairs(signature.signedAttributes) },
      { label: 'user defined attributes', children: pairs(signature.userDefinedAttributes ?? {}) },
      { label: 'unsigned attributes', children: unsigned.length > 0 ? unsigned : [{ label: '(empty)' }] },
      certificates(signature.certificates),
      {
        label: 'signed artifact',
        children: [
          { label: `media type: ${signature.signedArtifact.mediaType}` },
          { label: `digest: ${signature.signedArtifact.digest}` },
          { label: `size: ${signature.signedArtifact.size}` },
        ],
      },
    ],
  };
}
