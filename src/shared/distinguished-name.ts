/**
 * `x509.subject` values of trusted identities: distinguished names as RFC 4514 writes them, with notation's extra
 * rules (notation-go internal/pkix ParseDistinguishedName and IsSubsetDN). Pure, shared by the trust policy rules
 * and the engine's identity check.
 */

/** Parses an `x509.subject` DN as notation does: C, ST (or S) and O required; no multi-valued RDNs, duplicates or `#` values. */
export function parseDistinguishedName(value: string): Record<string, string> {
  const name = value.trim();
  const attributes: Record<string, string> = {};
  for (const rdn of splitUnescaped(name, ',')) {
    if (splitUnescaped(rdn, '+').length > 1) throw new Error(`distinguished name (DN) "${name}" has multi-valued RDN attributes, remove multi-valued RDN attributes as they are not supported`);
    const equals = rdn.indexOf('=');
    if (equals <= 0) throw new Error(`distinguished name (DN) "${name}" is not valid, it must contain at least one RDN attribute of the form TYPE=value`);
    let type = rdn.slice(0, equals).trim().toUpperCase();
    const raw = rdn.slice(equals + 1).trim();
    if (raw.startsWith('#')) throw new Error(`distinguished name (DN) "${name}" has a hex-encoded value for "${type}", which is not supported`);
    if (type === 'S') type = 'ST';
    if (!/^[A-Z][A-Z0-9-]*$/.test(type)) throw new Error(`distinguished name (DN) "${name}" has an invalid attribute type "${type}"`);
    if (type in attributes) throw new Error(`distinguished name (DN) "${name}" has duplicate RDN attribute for "${type}", DN can only have unique RDN attributes`);
    attributes[type] = unescapeValue(raw, name);
  }
  for (const required of ['C', 'ST', 'O']) {
    if (!attributes[required]) throw new Error(`distinguished name (DN) "${name}" has no mandatory RDN attribute for "${required}", it must contain 'C', 'ST', and 'O' RDN attributes at a minimum`);
  }
  return attributes;
}

/** Whether every attribute of `subset` is in `dn` with the same value. */
export function isSubsetDN(subset: Readonly<Record<string, string>>, dn: Readonly<Record<string, string>>): boolean {
  return Object.entries(subset).every(([type, value]) => dn[type] === value);
}

function splitUnescaped(text: string, separator: string): string[] {
  const parts: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (char === '\\' && i + 1 < text.length) {
      current += char + text[++i];
    } else if (char === '"') {
      quoted = !quoted;
      current += char;
    } else if (char === separator && !quoted) {
      parts.push(current);
      current = '';
    } else {
      current += char;
    }
  }
  parts.push(current);
  return parts;
}

function unescapeValue(raw: string, name: string): string {
  const value = raw.startsWith('"') && raw.endsWith('"') && raw.length >= 2 ? raw.slice(1, -1) : raw;
  let result = '';
  for (let i = 0; i < value.length; i++) {
    if (value[i] !== '\\') {
      result += value[i];
      continue;
    }
    const hex = value.slice(i + 1, i + 3);
    if (/^[0-9a-fA-F]{2}$/.test(hex)) {
      result += String.fromCharCode(parseInt(hex, 16));
      i += 2;
    } else if (i + 1 < value.length) {
      result += value[++i];
    } else {
      throw new Error(`distinguished name (DN) "${name}" ends with an unfinished escape`);
    }
  }
  return result;
}
