/**
 * A CodePipeline job's artifacts: where its input and output artifacts are in the artifact store (S3), and the
 * temporary credentials CodePipeline gives the job to read and write them (`data.artifactCredentials`, the action
 * role's). CodePipeline user guide, "Example JSON event" of the Lambda invoke action: input and output artifacts are
 * zip files at `location.s3Location` {bucketName, objectKey}, encrypted with `data.encryptionKey` when the store
 * has a KMS key. The credentials are handed to the S3 client only, never logged.
 */
// lambda/ is bundled by esbuild, so its AWS SDK clients are devDependencies.
// eslint-disable-next-line import/no-extraneous-dependencies
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { describeType, isPlainObject, ParameterError } from './parameters';
import { readZipEntry, writeZip, ZipError } from './zip';

export interface ArtifactLocation {
  /** The artifact's name in the pipeline. */
  readonly name: string;
  readonly bucketName: string;
  readonly objectKey: string;
}

export interface ArtifactCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
}

export interface JobArtifacts {
  readonly inputs: readonly ArtifactLocation[];
  readonly outputs: readonly ArtifactLocation[];
  readonly credentials?: ArtifactCredentials;
  /** The artifact store's KMS key, when it has one. */
  readonly kmsKeyId?: string;
}

/** An artifact zip larger than this is refused before it is read. */
export const MAX_ARTIFACT_BYTES = 5 * 1024 * 1024;

/** Reads the artifacts of a job's `data`. Throws ParameterError naming the field for a malformed event. */
export function parseJobArtifacts(data: Record<string, unknown>): JobArtifacts {
  const locations = (field: 'inputArtifacts' | 'outputArtifacts'): ArtifactLocation[] => {
    const value = data[field] ?? [];
    if (!Array.isArray(value)) throw new ParameterError(`the job's data.${field} must be an array, got ${describeType(value)}`);
    return value.map((artifact: unknown, index) => {
      const where = `the job's data.${field}[${index}]`;
      const location = isPlainObject(artifact) && isPlainObject(artifact.location) ? artifact.location : undefined;
      const s3 = location && location.type === 'S3' && isPlainObject(location.s3Location) ? location.s3Location : undefined;
      if (!isPlainObject(artifact) || typeof artifact.name !== 'string' || !s3 || typeof s3.bucketName !== 'string' || typeof s3.objectKey !== 'string') {
        throw new ParameterError(`${where} must be {"name": ..., "location": {"type": "S3", "s3Location": {"bucketName": ..., "objectKey": ...}}}`);
      }
      return { name: artifact.name, bucketName: s3.bucketName, objectKey: s3.objectKey };
    });
  };
  const credentials = data.artifactCredentials;
  const key = data.encryptionKey;
  return {
    inputs: locations('inputArtifacts'),
    outputs: locations('outputArtifacts'),
    credentials:
      isPlainObject(credentials) &&
      typeof credentials.accessKeyId === 'string' &&
      typeof credentials.secretAccessKey === 'string' &&
      typeof credentials.sessionToken === 'string'
        ? { accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.secretAccessKey, sessionToken: credentials.sessionToken }
        : undefined,
    kmsKeyId: isPlainObject(key) && key.type === 'KMS' && typeof key.id === 'string' ? key.id : undefined,
  };
}

/** The artifact store, with the job's credentials. */
export type ArtifactStore = (credentials: ArtifactCredentials) => S3Client;

function client(store: ArtifactStore, artifacts: JobArtifacts, artifact: ArtifactLocation): S3Client {
  if (!artifacts.credentials) throw new ParameterError(`the job event carries no artifact credentials to read or write artifact "${artifact.name}"`);
  return store(artifacts.credentials);
}

/** The file `fileName` of an input artifact, or a ParameterError naming the artifact and the file. */
export async function readArtifactFile(
  store: ArtifactStore,
  artifacts: JobArtifacts,
  artifact: ArtifactLocation,
  fileName: string,
  maxBytes: number,
): Promise<Uint8Array> {
  const response = await client(store, artifacts, artifact).send(new GetObjectCommand({ Bucket: artifact.bucketName, Key: artifact.objectKey }));
  if (response.ContentLength !== undefined && response.ContentLength > MAX_ARTIFACT_BYTES) {
    throw new ParameterError(`input artifact "${artifact.name}" is ${response.ContentLength} bytes; at most ${MAX_ARTIFACT_BYTES} are read`);
  }
  const archive = await response.Body!.transformToByteArray();
  let content: Uint8Array | undefined;
  try {
    content = readZipEntry(archive, fileName, maxBytes);
  } catch (error) {
    if (error instanceof ZipError) throw new ParameterError(`input artifact "${artifact.name}": ${error.message}`);
    throw error;
  }
  if (!content) throw new ParameterError(`input artifact "${artifact.name}" has no ${fileName} at its root`);
  return content;
}

/** Writes an output artifact: a zip of `files`, encrypted with the store's KMS key when it has one. */
export async function writeArtifact(
  store: ArtifactStore,
  artifacts: JobArtifacts,
  artifact: ArtifactLocation,
  files: ReadonlyArray<readonly [string, Uint8Array]>,
): Promise<void> {
  await client(store, artifacts, artifact).send(new PutObjectCommand({
    Bucket: artifact.bucketName,
    Key: artifact.objectKey,
    Body: writeZip(files),
    ContentType: 'application/zip',
    ...(artifacts.kmsKeyId ? { ServerSideEncryption: 'aws:kms' as const, SSEKMSKeyId: artifacts.kmsKeyId } : {}),
  }));
}
