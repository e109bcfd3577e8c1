import * as fs from 'fs';
import * as path from 'path';
import { unscopedValidationError } from './errors';

/**
 * The directory of a bundled `lambda/` entry point (`assets/<name>/`), holding `index.js`.
 *
 * The package ships `assets/` next to `lib/`: from `lib/private/` (compiled) or `src/private/` (tests run from
 * source) the directory is two levels up. Throws a clear error when the bundle has not been built.
 */
export function assetDirectory(name: string): string {
  const directory = path.join(__dirname, '..', '..', 'assets', name);
  const entry = path.join(directory, 'index.js');
  if (!fs.existsSync(entry)) {
    throw unscopedValidationError(
      'HandlerBundleMissing',
      `The bundled "${name}" is missing (${entry} does not exist). ` +
        'Run `npx projen bundle` (or `npx projen compile`) to bundle the lambda/ entry points into assets/.',
    );
  }
  return directory;
}
