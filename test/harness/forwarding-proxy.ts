/**
 * A loopback HTTP proxy in front of a loopback registry, for tests and the benchmarks: it forwards each request as it
 * came (method, path, headers, body) and pipes the answer back, optionally after a delay, answering some requests
 * itself, or watching each one until its answer ends.
 */
import { createServer, IncomingMessage, request as httpRequest, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';

/** How one request is forwarded. */
export interface ForwardOptions {
  /** Sent upstream instead of the request's own body (already read by the caller). */
  readonly body?: Buffer;
  /** Headers added to the answer, from the upstream status. */
  readonly answerHeaders?: (status: number) => Record<string, string>;
  /** Called when the upstream answer has been piped back. */
  readonly onEnd?: () => void;
}

/** Forwards `request` to `upstream` (`host:port`) and pipes the answer into `response`; 502 when upstream fails. */
export function forward(upstream: string, request: IncomingMessage, response: ServerResponse, options: ForwardOptions = {}): void {
  const [host, port] = upstream.split(':');
  const upstreamRequest = httpRequest({ host, port: Number(port), method: request.method, path: request.url, headers: request.headers }, (answer) => {
    const status = answer.statusCode ?? 502;
    response.writeHead(status, { ...answer.headers, ...options.answerHeaders?.(status) });
    answer.pipe(response);
    if (options.onEnd) answer.on('end', options.onEnd);
  });
  upstreamRequest.on('error', () => (response.headersSent ? response.destroy() : response.writeHead(502).end()));
  if (options.body) upstreamRequest.end(options.body);
  else request.pipe(upstreamRequest);
}

/** What a forwarding proxy does besides forwarding. */
export interface ForwardingProxyOptions {
  /** Holds every forwarded request this long first. */
  readonly delayMs?: number;
  /** Decides when each request is forwarded: calls `go` when it should be (instead of `delayMs`). */
  readonly hold?: (request: IncomingMessage, go: () => void) => void;
  /** Answers a request itself instead of forwarding it: returns true when it did. */
  readonly intercept?: (request: IncomingMessage, response: ServerResponse) => boolean;
  /** Called when a request arrives; the function it returns, when its answer has been piped back. */
  readonly onRequest?: (request: IncomingMessage) => (() => void) | void;
}

export interface ForwardingProxy {
  /** `127.0.0.1:<port>`. */
  readonly host: string;
  readonly server: Server;
  /** Closes the server and every connection still open. */
  close(): Promise<void>;
}

/** Starts a forwarding proxy to `upstream` (`host:port`) on a loopback port. */
export async function startForwardingProxy(upstream: string, options: ForwardingProxyOptions = {}): Promise<ForwardingProxy> {
  const server = createServer((request, response) => {
    if (options.intercept?.(request, response)) return;
    const onEnd = options.onRequest?.(request) ?? undefined;
    const go = () => forward(upstream, request, response, { onEnd });
    if (options.hold) options.hold(request, go);
    else if (options.delayMs) setTimeout(go, options.delayMs);
    else go();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    host: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    server,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
