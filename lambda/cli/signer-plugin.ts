import { SignerClient } from '@aws-sdk/client-signer';
import { CliError, ExitCode } from './io';
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
 * An AWS Signer signer for a profile name or ARN. An ARN names its region; a name uses the plugin's
 * `aws-region`, else AWS_REGION / AWS_DEFAULT_REGION. `aws-profile` selects a shared config profile.
 */
export function awsSigner(
  profile: string,
  env: Readonly<Record<string, string | undefined>>,
  pluginConfig: Readonly<Record<string, string>> = {},
): AwsSignerSigner {
  const profileOption = pluginConfig['aws-profile'] ? { profile: pluginConfig['aws-profile'] } : {};
  try {
    if (profile.startsWith('arn:')) {
      const region = profile.split(':')[3];
      return AwsSignerSigner.fromProfileArn(new SignerClient({ region, ...profileOption }), profile);
    }
    const region = pluginConfig['aws-region'] ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
    return new AwsSignerSigner({ client: new SignerClient({ region, ...profileOption }), profileName: profile });
  } catch (error) {
    throw new CliError(`AWS Signer signing profile: ${(error as Error).message}`, ExitCode.USAGE);
  }
}
