/**
 * Downloads OCSP responses and CRLs over plain HTTP (the only scheme notation accepts for them): bounded in
 * time and size, no credentials, at most three redirects and only to http URLs.
 */
import { request } from 'node:http';
import { RevocationFetcher } from './certificate-revocation';

const MAX_REDIRECTS = 3;

export function httpRevocationFetcher(): RevocationFetcher {
  return { fetch: (url, options) => fetchOnce(url, options, 0) };
}

function fetchOnce(url: string, options: { body?: Uint8Array; maxBytes: number; timeoutMs: number }, redirects: number): Promise<Uint8Array> {
  const target = new URL(url);
  if (target.protocol !== 'http:') return Promise.reject(new Error(`${target.protocol} URLs are not supported, only http`));
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = options.body
      ? { 'content-type': 'application/ocsp-request', 'content-length': options.body.byteLength }
      : {};
    const req = request(target, { method: options.body ? 'POST' : 'GET', headers, timeout: options.timeoutMs }, (res) => {
      const status = res.statusCode ?? 0;
      if (status >= 300 && status < 400 && res.headers.location) {
        res.resume();
        if (redirects >= MAX_REDIRECTS) return reject(new Error(`more than ${MAX_REDIRECTS} redirects from ${url}`));
        return resolve(fetchOnce(new URL(res.headers.location, target).toString(), options, redirects + 1));
      }
      if (status !== 200) {
        res.resume();
        return reject(new Error(`response had status code ${status}`));
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > options.maxBytes) {
          req.destroy(new Error(`the response exceeds ${options.maxBytes} bytes`));
          return;
        }
        chunks.push(chunk);
      });
      res.on('end', () => resolve(new Uint8Array(Buffer.concat(chunks))));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no response within ${options.timeoutMs} ms`)));
    req.on('error', reject);
    req.end(options.body);
  });
}
