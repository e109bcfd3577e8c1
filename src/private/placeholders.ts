import { Token } from 'aws-cdk-lib';

/** A string-encoded token: `${Token[NAME.123]}`. */
const STRING_TOKEN = /\$\{Token\[[^\]]+\]\}/g;

/**
 * A copy of a trust policy document where every value known only at deploy time is replaced by a placeholder that
 * satisfies the rules a real value would (so the rest of the document can be validated at synth time):
 *
 * - a registry scope that is a token as a whole becomes `123456789012.dkr.ecr.us-east-1.amazonaws.com/placeholder<N>`;
 * - a trusted identity that is a token as a whole becomes `arn:aws:signer:us-east-1:123456789012:/signing-profiles/placeholder<N>`;
 * - a token inside a string (e.g. the account of a repository URI) becomes `placeholder<N>`, valid in a host name
 *   and in a repository path alike.
 *
 * Tokens that resolve to the same CloudFormation expression get the same placeholder (`stack.resolve` as `resolve`),
 * so duplicates stay duplicates.
 */
export function withPlaceholders(document: unknown, resolve: (token: string) => unknown = (token) => token): unknown {
  const placeholders = new Map<string, string>();
  const placeholder = (token: string): string => {
    const key = JSON.stringify(resolve(token));
    let value = placeholders.get(key);
    if (value === undefined) {
      value = `placeholder${placeholders.size + 1}`;
      placeholders.set(key, value);
    }
    return value;
  };

  const replace = (value: unknown, field: string | undefined): unknown => {
    if (Array.isArray(value)) return value.map((entry) => replace(entry, field));
    if (typeof value === 'object' && value !== null) {
      return Object.fromEntries(Object.entries(value).map(([key, entry]) => [key, replace(entry, key)]));
    }
    if (typeof value !== 'string' || !Token.isUnresolved(value)) return value;

    const inline = value.replace(STRING_TOKEN, (token) => `\u0000${placeholder(token)}\u0000`);
    const whole = /^\u0000[^\u0000]+\u0000$/.test(inline) || !inline.includes('\u0000');
    if (whole) {
      const name = placeholder(value);
      if (field === 'registryScopes') return `123456789012.dkr.ecr.us-east-1.amazonaws.com/${name}`;
      if (field === 'trustedIdentities') return `arn:aws:signer:us-east-1:123456789012:/signing-profiles/${name}`;
      return name;
    }
    return inline.replace(/\u0000/g, '');
  };
  return replace(document, undefined);
}
