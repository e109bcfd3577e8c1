import { createHash } from 'node:crypto';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { forward } from './forwarding-proxy';

/** A recorded referrer: the descriptor the referrers API lists for it. */
interface Referrer {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
}

export interface ReferrersServerOptions {
  /** `host:port` of the distribution registry to front. */
  readonly upstream: string;
  /** Entries per referrers page; more are linked with `Link: <…>; rel="next"`. @default 100 */
  readonly pageSize?: number;
  /** Filter by `artifactType` on the server and say so with `OCI-Filters-Applied`. @default true */
  readonly applyFilters?: boolean;
  /**
   * Record pushed referrers and answer with `OCI-Subject`. When false the API answers every listing with an
   * empty index and no push gets `OCI-Subject` (a registry that has the API but does not index). @default true
   */
  readonly indexReferrers?: boolean;
}

export interface ReferrersServer {
  /** `127.0.0.1:<port>` */
  readonly host: string;
  /** `METHOD path?query` of every request received, in order. */
  readonly requests: string[];
  close(): Promise<void>;
}

const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
const REFERRERS_PATH = /^\/v2\/(.+)\/referrers\/([a-z0-9]+:[a-f0-9]+)$/;
const MANIFEST_PATH = /^\/v2\/(.+)\/manifests\/([^/]+)$/;

/**
 * A loopback proxy in front of a distribution registry that adds the OCI referrers API the distribution
 * registry lacks (as ECR has it): manifests pushed with a `subject` are recorded and answered with
 * `OCI-Subject`, and `GET /v2/<name>/referrers/<digest>` lists them, filtered and paginated.
 */
export async function startReferrersServer(options: ReferrersServerOptions): Promise<ReferrersServer> {
  const pageSize = options.pageSize ?? 100;
  const applyFilters = options.applyFilters ?? true;
  const indexReferrers = options.indexReferrers ?? true;
  const referrers = new Map<string, Referrer[]>();
  const requests: string[] = [];

  const serveReferrers = (url: URL, name: string, digest: string, response: ServerResponse) => {
    const artifactType = url.searchParams.get('artifactType');
    const all = referrers.get(`${name}@${digest}`) ?? [];
    const selected = applyFilters && artifactType ? all.filter((r) => r.artifactType === artifactType) : all;
    const page = Number(url.searchParams.get('page') ?? '0');
    const entries = selected.slice(page * pageSize, (page + 1) * pageSize);
    const headers: Record<string, string> = { 'content-type': 'application/vnd.oci.image.index.v1+json' };
    if (applyFilters && artifactType) headers['oci-filters-applied'] = 'artifactType';
    if ((page + 1) * pageSize < selected.length) {
      const next = new URLSearchParams(url.searchParams);
      next.set('page', String(page + 1));
      headers.link = `<${url.pathname}?${next.toString()}>; rel="next"`;
    }
    response
      .writeHead(200, headers)
      .end(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: entries }));
  };

  const proxy = (request: IncomingMessage, response: ServerResponse, body?: Buffer, answerHeaders?: (status: number) => Record<string, string>) =>
    forward(options.upstream, request, response, { body, answerHeaders });

  const server: Server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    requests.push(`${request.method} ${url.pathname}${url.search}`);
    const referrersMatch = REFERRERS_PATH.exec(url.pathname);
    if (request.method === 'GET' && referrersMatch) {
      serveReferrers(url, referrersMatch[1], referrersMatch[2], response);
      return;
    }
    const manifestMatch = MANIFEST_PATH.exec(url.pathname);
    if (request.method === 'PUT' && manifestMatch) {
      const chunks: Buffer[] = [];
      let size = 0;
      request.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_MANIFEST_BYTES) request.destroy();
        else chunks.push(chunk);
      });
      request.on('end', () => {
        const body = Buffer.concat(chunks);
        proxy(request, response, body, (status) => {
          const recorded = status === 201 && indexReferrers ? recordReferrer(manifestMatch[1], body, request.headers['content-type'] ?? '') : undefined;
          return recorded ? { 'oci-subject': recorded } : ({} as Record<string, string>);
        });
      });
      return;
    }
    proxy(request, response);
  });

  function recordReferrer(name: string, body: Buffer, mediaType: string): string | undefined {
    let manifest: { subject?: { digest?: string }; artifactType?: string; config?: { mediaType?: string }; annotations?: Record<string, string> };
    try {
      manifest = JSON.parse(body.toString('utf8'));
    } catch {
      return undefined;
    }
    const subject = manifest.subject?.digest;
    if (!subject) return undefined;
    const digest = `sha256:${createHash('sha256').update(body).digest('hex')}`;
    const list = referrers.get(`${name}@${subject}`) ?? [];
    if (!list.some((r) => r.digest === digest)) {
      list.push({
        mediaType,
        digest,
        size: body.length,
        artifactType: manifest.artifactType ?? manifest.config?.mediaType,
        ...(manifest.annotations ? { annotations: manifest.annotations } : {}),
      });
    }
    referrers.set(`${name}@${subject}`, list);
    return subject;
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    host: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
