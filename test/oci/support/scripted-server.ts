import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';

export type Handler = (request: IncomingMessage, response: ServerResponse, index: number) => void;

export interface ScriptedServer {
  /** `127.0.0.1:<port>` */
  readonly host: string;
  /** `METHOD path` of every request received, in order. */
  readonly requests: string[];
  /** Bytes written by handlers through `writeCounted`. */
  bytesWritten: number;
  close(): Promise<void>;
}

/** A loopback HTTP server whose answers a test scripts (retries, tampered bodies, huge bodies). */
export async function startScriptedServer(handler: Handler): Promise<ScriptedServer> {
  const requests: string[] = [];
  const server: Server = createServer((request, response) => {
    requests.push(`${request.method} ${request.url}`);
    handler(request, response, requests.length - 1);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const state: ScriptedServer = {
    host: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    bytesWritten: 0,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return state;
}

/**
 * Streams `total` bytes in 64 KiB chunks, honouring backpressure and stopping when the client goes away;
 * counts what it wrote in `server.bytesWritten`.
 */
export function streamBytes(server: ScriptedServer, response: ServerResponse, total: number): void {
  const chunk = Buffer.alloc(64 * 1024, 0x7b);
  let sent = 0;
  const write = () => {
    while (sent < total && !response.destroyed) {
      sent += chunk.length;
      server.bytesWritten += chunk.length;
      if (!response.write(chunk)) {
        response.once('drain', write);
        return;
      }
    }
    if (!response.destroyed) response.end();
  };
  response.on('close', () => undefined);
  write();
}
