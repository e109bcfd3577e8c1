import { existsSync } from 'node:fs';
import { SignerClient } from '@aws-sdk/client-signer';
import { CliError, ExitCode } from './io';
import { loadTrustStores } from '../notary/config-dir';
import { awsSignerRoots } from '../notary/trust-store';
import { AwsSignerSigner } from '../signers/aws-signer';

/** The plugin name AWS's documentation tells notation users to type (AWS Signer notation plugin). */
export const AWS_SIGNER_PLUGIN = 'com.amazonaws.signer.notation.plugin';

/** The plugin configuration keys of the AWS Signer plugin that this CLI honours. */
const AWS_PLUGIN_CONFIG = new Set(['aws-region', 'aws-profile']);

/** Only the AWS Signer plugin is built in; any other plugin is refused before anything is signed. */
export function checkPlugin(plugin: string, id: string, pluginConfig: Readonly<Record<string, string>> = {}): void {
  if (plugin !== AWS_SIGNER_PLUGIN) {
    throw new CliError(
      `plugin "${plugin}" is not supported: signed-image signs with AWS Signer built in (--plugin ${AWS_SIGNER_PLUGIN}), with a local key (--key) or a key from the signing key list`,
      ExitCode.USAGE,
    );
  }
  if (!id.startsWith('arn:')) {
    throw new CliError(`--id "${id}" is not an AWS Signer signing profile ARN (arn:aws:signer:<region>:<account>:/signing-profiles/<name>)`, ExitCode.USAGE);
  }
  for (const key of Object.keys(pluginConfig)) {
    if (!AWS_PLUGIN_CONFIG.has(key)) {
      throw new CliError(`--plugin-config key "${key}" is not supported for ${AWS_SIGNER_PLUGIN}: use ${[...AWS_PLUGIN_CONFIG].join(' or ')}`, ExitCode.USAGE);
    }
  }
}

/**
 * An AWS Signer signer for a signing profile ARN (the ARN names the profile's region and owner, which signing
 * and the check of the returned envelope need). `aws-profile` selects a shared config profile. The envelope
 * must chain to AWS's published root of the profile's partition or to a certificate of the configuration's
 * `signingAuthority` trust stores, where notation users keep the AWS Signer roots they trust.
 */
export function awsSigner(
  profileArn: string,
  env: Readonly<Record<string, string | undefined>>,
  pluginConfig: Readonly<Record<string, string>> = {},
  configDir?: string,
): AwsSignerSigner {
  if (!profileArn.startsWith('arn:')) {
    throw new CliError(
      `AWS Signer signing profile: give the signing profile ARN (arn:aws:signer:<region>:<account>:/signing-profiles/<name>), not "${profileArn}": the ARN names the profile's region and owner`,
      ExitCode.USAGE,
    );
  }
  const profileOption = pluginConfig['aws-profile'] ? { profile: pluginConfig['aws-profile'] } : {};
  try {
    const region = profileArn.split(':')[3];
    const client = new SignerClient({ region, ...profileOption });
    return new AwsSignerSigner({ client, profileArn, roots: signerRoots(profileArn, env, configDir) });
  } catch (error) {
    throw new CliError(`AWS Signer signing profile: ${(error as Error).message}`, ExitCode.USAGE);
  }
}

function signerRoots(profileArn: string, env: Readonly<Record<string, string | undefined>>, configDir?: string): Uint8Array[] | undefined {
  const builtIn = awsSignerRoots(profileArn.split(':')[1] ?? '') ?? [];
  const dir = configDir ?? env.NOTATION_CONFIG;
  if (!dir || !existsSync(dir)) return builtIn.length > 0 ? builtIn : undefined;
  const configured = [...loadTrustStores(dir)].filter(([name]) => name.startsWith('signingAuthority:')).flatMap(([, certificates]) => certificates);
  return [...builtIn, ...configured];
}
