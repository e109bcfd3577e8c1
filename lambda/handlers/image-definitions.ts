/**
 * `imagedefinitions.json`, the file CodePipeline's standard ECS deploy action reads: a JSON array of
 * `{"name": "<container>", "imageUri": "<image>"}` (CodePipeline user guide, "imagedefinitions.json file for Amazon
 * ECS standard deployment actions"). The verify gate accepts the Build's file only when it deploys exactly the image
 * it verified, to exactly one container, and hands on the file it checked.
 */

export const IMAGE_DEFINITIONS_FILE = 'imagedefinitions.json';
/** The Build's file is a few hundred bytes; anything this large is not an image definitions file. */
export const MAX_IMAGE_DEFINITIONS_BYTES = 64 * 1024;

/** An image definitions file that does not deploy exactly the verified image; the message names the entry. */
export class ImageDefinitionsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ImageDefinitionsError';
  }
}

export interface ImageDefinition {
  readonly name: string;
  readonly imageUri: string;
}

/**
 * Checks the Build's `imagedefinitions.json`: one entry, for `containerName`, whose `imageUri` is exactly
 * `verifiedImage` (`<registry>/<repository>@sha256:<hex>`). A tag, another repository, another digest, another or an
 * extra container, or any other field is refused. Returns the file the deploy action gets.
 */
export function checkImageDefinitions(content: Uint8Array, verifiedImage: string, containerName: string): ImageDefinition[] {
  const shown = (value: unknown) => {
    const text = typeof value === 'string' ? value : JSON.stringify(value) ?? String(value);
    return JSON.stringify(text.length > 300 ? `${text.slice(0, 300)}…` : text);
  };
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(content).toString('utf8'));
  } catch {
    throw new ImageDefinitionsError(`${IMAGE_DEFINITIONS_FILE} is not valid JSON`);
  }
  if (!Array.isArray(json) || json.length === 0) {
    throw new ImageDefinitionsError(`${IMAGE_DEFINITIONS_FILE} must be a JSON array with one entry {"name": "${containerName}", "imageUri": "${verifiedImage}"}`);
  }
  const definitions = json.map((entry: unknown, index): ImageDefinition => {
    const where = `${IMAGE_DEFINITIONS_FILE} entry ${index + 1}`;
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) throw new ImageDefinitionsError(`${where} is not an object`);
    const extra = Object.keys(entry).filter((key) => key !== 'name' && key !== 'imageUri');
    if (extra.length > 0) throw new ImageDefinitionsError(`${where} has the field ${shown(extra[0])}; only "name" and "imageUri" are deployed`);
    const { name, imageUri } = entry as Record<string, unknown>;
    if (typeof name !== 'string' || name === '') throw new ImageDefinitionsError(`${where} has no container name`);
    if (name !== containerName) {
      throw new ImageDefinitionsError(`${where} is for container ${shown(name)}; the pipeline deploys the verified image to container "${containerName}" only`);
    }
    if (imageUri !== verifiedImage) {
      throw new ImageDefinitionsError(
        `${where} (container "${name}") deploys ${shown(imageUri)}, which is not the verified image ${verifiedImage}`,
      );
    }
    return { name, imageUri };
  });
  if (definitions.length > 1) {
    throw new ImageDefinitionsError(`${IMAGE_DEFINITIONS_FILE} has ${definitions.length} entries for container "${containerName}"; give it once`);
  }
  return definitions;
}
