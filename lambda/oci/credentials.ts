/** A registry user name and password (or an ECR `AWS` token). Never put these in messages or logs. */
export interface BasicCredentials {
  readonly username: string;
  readonly password: string;
}

/** Produces credentials when a registry asks for them; undefined means anonymous. */
export type CredentialSource = () => Promise<BasicCredentials | undefined>;

export function basicAuthorization(credentials: BasicCredentials): string {
  return `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`, 'utf8').toString('base64')}`;
}
