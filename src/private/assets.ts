import * as fs from 'fs';
import * as path from 'path';

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
    throw new Error(
      `The bundled "${name}" is missing (${entry} does not exist). ` +
        'Run `npx projen bundle` (or `npx projen compile`) to bundle the lambda/ entry points into assets/.',
    );
  }
  return directory;
}

/** The rules module of the trust policy engine (`assets/trust-policy-rules/index.js`), loaded at synth time. */
export interface TrustPolicyRules {
  /** Throws an error whose message names the statement and the field when the policy JSON is invalid. */
  validateTrustPolicyDocument(json: string): void;
}

let rules: TrustPolicyRules | undefined;

/** Loads the bundled trust policy rules once (they are plain JavaScript, bundled from lambda/notary/trust-policy.ts). */
export function trustPolicyRules(): TrustPolicyRules {
  if (!rules) {
    const entry = path.join(assetDirectory('trust-policy-rules'), 'index.js');
    // The rules are bundled JavaScript outside the jsii module: load them at run time.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const loaded = require(entry) as Partial<TrustPolicyRules>;
    if (typeof loaded.validateTrustPolicyDocument !== 'function') {
      throw new Error(`${entry} does not export validateTrustPolicyDocument(json): rebuild it with \`npx projen bundle\``);
    }
    rules = loaded as TrustPolicyRules;
  }
  return rules;
}
