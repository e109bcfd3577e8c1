/**
 * The target platforms of a multi-arch build (`imageBuild.platforms`), checked at synth time.
 *
 * A platform is `linux/<architecture>[/<variant>]`, as `docker buildx build --platform` takes it and as the OCI image
 * index records it (image-spec image-index.md, `platform.os`, `platform.architecture`, `platform.variant`, with Go's
 * GOOS and GOARCH values). Only Linux: BuildKit on CodeBuild's Linux hosts builds Linux images. The architectures and
 * variants are those BuildKit's QEMU emulators (tonistiigi/binfmt) and containerd's platform matching know
 * (containerd/platforms `normalizeArch`: arm's v5 to v8, amd64's v1 to v4, arm64's v8 and v9 forms).
 */
import { Token } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';
import { validationError } from './errors';

const VARIANTS: { readonly [architecture: string]: readonly string[] } = {
  amd64: ['v1', 'v2', 'v3', 'v4'],
  arm64: ['v8', 'v8.1', 'v8.2', 'v8.3', 'v8.4', 'v8.5', 'v8.6', 'v8.7', 'v8.8', 'v8.9', 'v9', 'v9.1', 'v9.2', 'v9.3', 'v9.4', 'v9.5'],
  arm: ['v5', 'v6', 'v7', 'v8'],
  386: [],
  ppc64le: [],
  s390x: [],
  riscv64: [],
  mips64le: [],
  loong64: [],
};

/** CodeBuild runs one build for every platform; beyond a handful, emulated builds outlast any build timeout. */
const MAX_PLATFORMS = 8;

/**
 * Checks `platforms` (a value holding a token is left to the build) and returns them comma-separated, as
 * `docker buildx build --platform` takes them. Throws a ValidationError naming `imageBuild.platforms`.
 */
export function checkPlatforms(platforms: readonly string[], scope: IConstruct): string {
  const fail = (code: string, problem: string): never => {
    throw validationError(code, `SignedImagePipeline: imageBuild.platforms: ${problem}`, scope);
  };
  if (platforms.length === 0) fail('PlatformsEmpty', 'give at least one platform, e.g. ["linux/amd64", "linux/arm64"], or omit it for a single-platform docker build');
  if (platforms.length > MAX_PLATFORMS) fail('PlatformsTooMany', `${platforms.length} platforms; at most ${MAX_PLATFORMS} are built`);
  const seen = new Set<string>();
  for (const platform of platforms) {
    if (Token.isUnresolved(platform)) continue;
    const shown = JSON.stringify(platform.length > 100 ? `${platform.slice(0, 100)}…` : platform);
    const [os, architecture, variant, ...rest] = platform.split('/');
    if (os !== 'linux' || architecture === undefined || rest.length > 0) {
      fail('PlatformInvalid', `${shown} is not a platform of the form linux/<architecture>[/<variant>], such as "linux/amd64" or "linux/arm/v7"`);
    }
    const variants = VARIANTS[architecture];
    if (variants === undefined) {
      fail('PlatformArchitectureUnknown', `${shown} names architecture "${architecture}"; the architectures are ${Object.keys(VARIANTS).join(', ')}`);
    }
    if (variant !== undefined && !variants.includes(variant)) {
      fail(
        'PlatformVariantUnknown',
        `${shown} names variant "${variant}" of ${architecture}; ` + (variants.length ? `its variants are ${variants.join(', ')}` : `${architecture} has no variants`),
      );
    }
    if (seen.has(platform)) fail('PlatformDuplicate', `${shown} is given twice`);
    seen.add(platform);
  }
  return platforms.join(',');
}
