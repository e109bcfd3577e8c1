/**
 * notation's signing key list, `signingkeys.json` in the configuration directory (notation-go config/keys.go):
 * `{"default": "<name>", "keys": [{"name", "keyPath", "certPath"} | {"name", "id", "pluginName", "pluginConfig"}]}`.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { CliError, ExitCode } from './io';
import { NotationPaths } from './notation-dir';

export interface KeySuite {
  readonly name: string;
  readonly keyPath?: string;
  readonly certPath?: string;
  readonly id?: string;
  readonly pluginName?: string;
  readonly pluginConfig?: Readonly<Record<string, string>>;
}

export interface SigningKeysDocument {
  readonly default?: string;
  readonly keys: readonly KeySuite[];
}

/** notation's name rule for keys and named stores (truststore.IsValidFileName). */
export const NAME_PATTERN = /^[a-zA-Z0-9_.-]+$/;

export class SigningKeys {
  static load(configDir: string): SigningKeys {
    const path = NotationPaths.signingKeys(configDir);
    let text: string;
    try {
      text = readFileSync(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return new SigningKeys(path, { keys: [] });
      throw new CliError(`cannot read the signing key list ${path}: ${(error as Error).message}`);
    }
    let document: SigningKeysDocument;
    try {
      document = JSON.parse(text) as SigningKeysDocument;
    } catch (error) {
      throw new CliError(`the signing key list ${path} is not valid JSON: ${(error as Error).message}`);
    }
    if (!Array.isArray(document?.keys) || document.keys.some((key) => typeof key?.name !== 'string')) {
      throw new CliError(`the signing key list ${path} must have a "keys" array of objects with a "name"`);
    }
    return new SigningKeys(path, document);
  }

  private constructor(readonly path: string, private document: SigningKeysDocument) {}

  get keys(): readonly KeySuite[] {
    return this.document.keys;
  }

  get defaultName(): string | undefined {
    return this.document.default || undefined;
  }

  /** The named key, or the default one when no name is given. Throws a usage error saying what to do. */
  resolve(name?: string): KeySuite {
    const wanted = name ?? this.defaultName;
    if (wanted === undefined) {
      throw new CliError(
        `no signing key was given and ${this.path} has no default key: give --key <name>, --key <file> --cert <file> or --signer-profile, or mark a key as default (signed-image key update --default <name>)`,
        ExitCode.USAGE,
      );
    }
    const key = this.document.keys.find((candidate) => candidate.name === wanted);
    if (!key) throw new CliError(`signing key "${wanted}" is not in ${this.path} (see signed-image key list)`, ExitCode.USAGE);
    return key;
  }

  add(key: KeySuite, markDefault: boolean): void {
    if (!NAME_PATTERN.test(key.name)) throw new CliError(`key name "${key.name}" needs to follow [a-zA-Z0-9_.-]+ format`, ExitCode.USAGE);
    if (this.document.keys.some((candidate) => candidate.name === key.name)) {
      throw new CliError(`signing key "${key.name}" is already in ${this.path}`, ExitCode.USAGE);
    }
    this.document = { default: markDefault ? key.name : this.document.default, keys: [...this.document.keys, key] };
  }

  markDefault(name: string): void {
    this.resolve(name);
    this.document = { ...this.document, default: name };
  }

  /** Removes the named keys from the list (the key files stay, as in notation). Resolves to whether the default went. */
  delete(names: readonly string[]): boolean {
    for (const name of names) this.resolve(name);
    const removedDefault = this.defaultName !== undefined && names.includes(this.defaultName);
    this.document = {
      default: removedDefault ? undefined : this.document.default,
      keys: this.document.keys.filter((key) => !names.includes(key.name)),
    };
    return removedDefault;
  }

  save(): void {
    mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
    const temporary = `${this.path}.${process.pid}.tmp`;
    writeFileSync(temporary, `${JSON.stringify(this.document, undefined, 4)}\n`, { mode: 0o600 });
    renameSync(temporary, this.path);
  }
}
