/**
 * A fault-injecting HTTP proxy on loopback in front of a distribution registry. Each request is either
 * forwarded faithfully or hit by one fault, chosen by a seeded PRNG keyed on the request (method, path and
 * how many times that request was seen), so a run's fault schedule does not depend on how concurrent
 * requests interleave.
 *
 * Faults before forwarding (the registry never sees the request): 503, 429 with Retry-After, connection
 * reset. Faults after forwarding (the registry applied the request, the answer is damaged): connection
 * reset, slow headers, a slowly dripped body, a truncated body, a Content-Length longer or shorter than the
 * body, and other bytes than the ones the registry sent. A body fault on an answer without a body becomes
 * a reset after forwarding: the write happened, its answer is lost.
 */
import { createHash } from 'node:crypto';
import { createServer, IncomingMessage, request as httpRequest, Server, ServerResponse } from 'node:http';
import { AddressInfo, Socket } from 'node:net';

export const FAULT_KINDS = [
  'status-503',
  'status-429',
  'reset-before',
  'reset-after',
  'slow-headers',
  'slow-body',
  'truncated-body',
  'long-content-length',
  'short-content-length',
  'corrupt-body',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** Faults that need a response body to damage. */
const BODY_FAULTS: ReadonlySet<FaultKind> = new Set(['slow-body', 'truncated-body', 'long-content-length', 'short-content-length', 'corrupt-body']);

export interface FaultRequest {
  readonly method: string;
  /** The path without the query. */
  readonly path: string;
  readonly body: Buffer;
}

export interface FaultSettings {
  /** Share of requests faulted, 0 to 1. */
  readonly rate: number;
  /** The faults drawn from, uniformly. @default every kind */
  readonly kinds?: readonly FaultKind[];
  /** Which requests may be faulted. @default every request */
  readonly applies?: (request: FaultRequest) => boolean;
  /** Upper bound of the delay of slow faults; each delay is drawn from [slowMs / 4, slowMs]. @default 300 */
  readonly slowMs?: number;
  /** Retry-After seconds sent with 429. @default 1 */
  readonly retryAfterSeconds?: number;
}

export interface FaultStats {
  requests: number;
  faulted: number;
  forwarded: number;
  readonly byKind: Record<FaultKind, number>;
  /** `METHOD path` of the requests that reached the registry, in order. */
  readonly forwardedRequests: string[];
}

export interface FaultProxy {
  /** `127.0.0.1:<port>` */
  readonly host: string;
  readonly stats: FaultStats;
  /** Replaces the fault settings for the requests that arrive from now on. */
  configure(settings: FaultSettings): void;
  /** Zeroes the statistics. */
  resetStats(): void;
  close(): Promise<void>;
}

interface Upstream {
  readonly status: number;
  readonly statusMessage: string;
  readonly headers: Array<[string, string]>;
  readonly body: Buffer;
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'proxy-connection', 'upgrade']);

/** A uniform number in [0, 1) from the seed and a key: SHA-256 as a keyed PRNG. */
export function seededRandom(seed: number, key: string): number {
  return createHash('sha256').update(`${seed}\u0000${key}`).digest().readUInt32BE(0) / 2 ** 32;
}

/** A delay that does not keep the process alive once the tests are done. */
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

function emptyStats(): FaultStats {
  return {
    requests: 0,
    faulted: 0,
    forwarded: 0,
    byKind: Object.fromEntries(FAULT_KINDS.map((kind) => [kind, 0])) as Record<FaultKind, number>,
    forwardedRequests: [],
  };
}

/** Starts the proxy in front of `upstream` (`host:port` of a plain HTTP registry). */
export async function startFaultProxy(upstream: string, seed: number, initial: FaultSettings = { rate: 0 }): Promise<FaultProxy> {
  const [upstreamHost, upstreamPort] = upstream.split(':');
  let settings = initial;
  let stats = emptyStats();
  const seen = new Map<string, number>();
  const sockets = new Set<Socket>();

  const choose = (request: FaultRequest): { kind?: FaultKind; random: (label: string) => number } => {
    const key = `${request.method} ${request.path}`;
    const occurrence = (seen.get(key) ?? 0) + 1;
    seen.set(key, occurrence);
    const random = (label: string) => seededRandom(seed, `${key}#${occurrence}#${label}`);
    if (settings.rate <= 0 || (settings.applies && !settings.applies(request))) return { random };
    if (random('fault?') >= settings.rate) return { random };
    const kinds = settings.kinds ?? FAULT_KINDS;
    return { kind: kinds[Math.floor(random('kind') * kinds.length)], random };
  };

  const forward = (incoming: IncomingMessage, body: Buffer): Promise<Upstream> =>
    new Promise((resolve, reject) => {
      const headers = { ...incoming.headers };
      delete headers['transfer-encoding'];
      delete headers.connection;
      if (body.length > 0 || incoming.headers['content-length'] !== undefined) headers['content-length'] = String(body.length);
      const outgoing = httpRequest(
        { host: upstreamHost, port: Number(upstreamPort), method: incoming.method, path: incoming.url, headers, agent: false },
        (answer) => {
          const chunks: Buffer[] = [];
          answer.on('data', (chunk: Buffer) => chunks.push(chunk));
          answer.on('error', reject);
          answer.on('end', () => {
            const pairs: Array<[string, string]> = [];
            for (let i = 0; i + 1 < answer.rawHeaders.length; i += 2) pairs.push([answer.rawHeaders[i], answer.rawHeaders[i + 1]]);
            resolve({ status: answer.statusCode ?? 502, statusMessage: answer.statusMessage ?? '', headers: pairs, body: Buffer.concat(chunks) });
          });
        },
      );
      outgoing.on('error', reject);
      outgoing.end(body);
    });

  const reset = (socket: Socket) => {
    if (typeof socket.resetAndDestroy === 'function') socket.resetAndDestroy();
    else socket.destroy();
  };

  /** Writes the answer on the raw socket with the given Content-Length, then closes the connection. */
  const writeRaw = (socket: Socket, answer: Upstream, contentLength: number, body: Buffer, end: 'close' | 'reset') => {
    const lines = [`HTTP/1.1 ${answer.status} ${answer.statusMessage || 'OK'}`];
    for (const [name, value] of answer.headers) if (!HOP_BY_HOP.has(name.toLowerCase())) lines.push(`${name}: ${value}`);
    lines.push(`Content-Length: ${contentLength}`, 'Connection: close', '', '');
    socket.write(Buffer.concat([Buffer.from(lines.join('\r\n'), 'latin1'), body]), () => {
      if (end === 'reset') reset(socket);
      else socket.end();
    });
  };

  const respond = (response: ServerResponse, answer: Upstream, isHead: boolean) => {
    const headers: Record<string, string | string[]> = {};
    for (const [name, value] of answer.headers) {
      const lower = name.toLowerCase();
      if (HOP_BY_HOP.has(lower) && !(isHead && lower === 'content-length')) continue;
      const previous = headers[lower];
      headers[lower] = previous === undefined ? value : [...(Array.isArray(previous) ? previous : [previous]), value];
    }
    if (!isHead) headers['content-length'] = String(answer.body.length);
    response.writeHead(answer.status, answer.statusMessage, headers);
    response.end(isHead ? undefined : answer.body);
  };

  const handle = async (incoming: IncomingMessage, response: ServerResponse, body: Buffer) => {
    stats.requests++;
    const path = (incoming.url ?? '/').split('?')[0];
    const method = incoming.method ?? 'GET';
    const isHead = method === 'HEAD';
    const { kind, random } = choose({ method, path, body });
    const socket = incoming.socket;
    if (kind) {
      stats.faulted++;
      stats.byKind[kind]++;
    }
    const slowMs = settings.slowMs ?? 300;
    const delay = () => Math.round(slowMs / 4 + random('delay') * (slowMs * 3 / 4));

    if (kind === 'status-503') {
      response.writeHead(503, { 'content-type': 'text/plain' }).end('fault proxy: service unavailable\n');
      return;
    }
    if (kind === 'status-429') {
      response.writeHead(429, { 'content-type': 'text/plain', 'retry-after': String(settings.retryAfterSeconds ?? 1) }).end('slow down\n');
      return;
    }
    if (kind === 'reset-before') {
      reset(socket);
      return;
    }

    let answer: Upstream;
    try {
      answer = await forward(incoming, body);
    } catch (error) {
      response.writeHead(502, { 'content-type': 'text/plain' }).end(`fault proxy: upstream failed: ${(error as Error).message}\n`);
      return;
    }
    stats.forwarded++;
    stats.forwardedRequests.push(`${method} ${path}`);
    if (!kind) {
      respond(response, answer, isHead);
      return;
    }
    const effective: FaultKind = BODY_FAULTS.has(kind) && (isHead || answer.body.length < 2) ? 'reset-after' : kind;
    const bytes = answer.body;
    switch (effective) {
      case 'reset-after':
        reset(socket);
        return;
      case 'slow-headers':
        await sleep(delay());
        if (!socket.destroyed) respond(response, answer, isHead);
        return;
      case 'slow-body': {
        const pieces = 4;
        const pause = delay() / pieces;
        const headers = answer.headers.filter(([name]) => !HOP_BY_HOP.has(name.toLowerCase()));
        response.writeHead(answer.status, answer.statusMessage, [...headers.flat(), 'content-length', String(bytes.length)]);
        const size = Math.ceil(bytes.length / pieces);
        for (let offset = 0; offset < bytes.length && !socket.destroyed; offset += size) {
          response.write(bytes.subarray(offset, offset + size));
          await sleep(pause);
        }
        if (!socket.destroyed) response.end();
        return;
      }
      case 'truncated-body':
        writeRaw(socket, answer, bytes.length, bytes.subarray(0, Math.floor(bytes.length / 2)), 'reset');
        return;
      case 'long-content-length':
        writeRaw(socket, answer, bytes.length + 16, bytes, 'close');
        return;
      case 'short-content-length':
        writeRaw(socket, answer, bytes.length - 1, bytes, 'close');
        return;
      case 'corrupt-body': {
        const damaged = Buffer.from(bytes);
        const at = Math.floor(random('offset') * damaged.length);
        damaged[at] = (damaged[at] + 1) % 256;
        respond(response, { ...answer, body: damaged }, false);
        return;
      }
      default:
        respond(response, answer, isHead);
    }
  };

  const server: Server = createServer((incoming, response) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => {
      handle(incoming, response, Buffer.concat(chunks)).catch(() => incoming.socket.destroy());
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  // A client that gave up may leave its socket half written: never let that crash the proxy.
  server.on('clientError', (_error, socket) => socket.destroy());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));

  return {
    host: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    get stats() {
      return stats;
    },
    configure: (next) => {
      settings = next;
    },
    resetStats: () => {
      stats = emptyStats();
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
