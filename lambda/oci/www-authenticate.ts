/** A parsed `WWW-Authenticate` challenge, e.g. `Bearer realm="https://auth/token",service="reg",scope="repository:app:pull"`. */
export interface AuthChallenge {
  /** Lowercased scheme: `basic`, `bearer`, ... */
  readonly scheme: string;
  /** Parameters with lowercased names. */
  readonly params: Readonly<Record<string, string>>;
}

const MAX_HEADER_LENGTH = 8192;

/**
 * Parses the first challenge of a `WWW-Authenticate` header (registries send one). Quoted values may hold
 * commas and `\"` escapes. Returns undefined for an empty or unparseable header.
 */
export function parseWwwAuthenticate(header: string | null | undefined): AuthChallenge | undefined {
  if (!header) return undefined;
  const text = header.slice(0, MAX_HEADER_LENGTH);
  const schemeMatch = /^\s*([A-Za-z0-9!#$%&'*+.^_`|~-]+)(?:\s+|$)/.exec(text);
  if (!schemeMatch) return undefined;
  const params: Record<string, string> = {};
  let position = schemeMatch[0].length;
  const param = /\s*([A-Za-z0-9!#$%&'*+.^_`|~-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,"]*))\s*(?:,|$)/y;
  while (position < text.length) {
    param.lastIndex = position;
    const match = param.exec(text);
    if (!match) break;
    const value = match[2] !== undefined ? match[2].replace(/\\(.)/g, '$1') : match[3];
    params[match[1].toLowerCase()] = value;
    position = param.lastIndex;
  }
  return { scheme: schemeMatch[1].toLowerCase(), params };
}
