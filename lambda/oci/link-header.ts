/**
 * The target of the `rel="next"` link of a `Link` header (`<url>; rel="next"`), resolved against the
 * request URL, or undefined when there is none.
 */
export function nextLink(header: string | null | undefined, requestUrl: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.slice(0, 8192).split(/,(?=\s*<)/)) {
    const match = /^\s*<([^>]*)>\s*((?:;[^;]*)*)$/.exec(part);
    if (!match) continue;
    const isNext = match[2]
      .split(';')
      .some((attribute) => /^\s*rel\s*=\s*"?([^"]*)"?\s*$/i.exec(attribute)?.[1].split(/\s+/).includes('next'));
    if (isNext) return new URL(match[1], requestUrl).toString();
  }
  return undefined;
}
