/**
 * A registry that answers a manifest request with 100 MB, with an HTML page or with JSON that is not a
 * manifest: sign and verify refuse it with an error naming the image and the problem, read at most the
 * size limit (the server counts what it could send before the client went away, and the process memory
 * stays bounded), and write nothing to the registry.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, IncomingMessage, Server, ServerResponse } from 'node:http';
import { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MediaType } from '../../lambda/oci/media-types';
import { DEFAULT_LIMITS } from '../../lambda/oci/repository';
import { runSignedImage } from '../util/cli';
import { trustPolicy, writeNotationConfig } from '../util/notation-config';
import { createChain, TestChain } from '../util/pki';

const HUNDRED_MB = 100 * 1024 * 1024;
const CHUNK = 64 * 1024;

interface FakeRegistry {
  readonly host: string;
  /** `METHOD path` of every request. */
  readonly requests: string[];
  /** Manifest body bytes written per case, up to the moment the client went away. */
  readonly bytesSent: Record<string, number>;
  close(): Promise<void>;
}

type Answer = (request: IncomingMessage, response: ServerResponse, count: (bytes: number) => void) => void;

/** Streams `total` bytes of `{` in 64 KiB chunks, one per millisecond, honouring backpressure, until the client goes away. */
function streamSlowly(response: ServerResponse, total: number, count: (bytes: number) => void): void {
  const chunk = Buffer.alloc(CHUNK, 0x7b);
  let sent = 0;
  const next = () => {
    if (response.destroyed || response.writableEnded) return;
    if (sent >= total) {
      response.end();
      return;
    }
    sent += CHUNK;
    count(CHUNK);
    if (response.write(chunk)) setTimeout(next, 1).unref();
    else response.once('drain', () => setTimeout(next, 1).unref());
  };
  next();
}

const HTML = '<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body><h1>Bad Gateway</h1><p>nginx</p></body></html>\n';

/** The manifest answer of each repository `bad/<case>`. */
const ANSWERS: Record<string, Answer> = {
  'huge-streamed': (_req, res, count) => {
    res.writeHead(200, { 'content-type': MediaType.OCI_MANIFEST });
    streamSlowly(res, HUNDRED_MB, count);
  },
  'huge-declared': (_req, res, count) => {
    res.writeHead(200, { 'content-type': MediaType.OCI_MANIFEST, 'content-length': String(HUNDRED_MB) });
    streamSlowly(res, HUNDRED_MB, count);
  },
  'html-page': (_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(HTML);
  },
  'html-error': (_req, res) => {
    res.writeHead(403, { 'content-type': 'text/html' }).end(HTML.replace(/502 Bad Gateway|Bad Gateway/g, '403 Forbidden'));
  },
  'json-array': (_req, res) => {
    res.writeHead(200, { 'content-type': MediaType.OCI_MANIFEST }).end('[1, 2, 3]');
  },
  'json-object': (_req, res) => {
    res.writeHead(200, { 'content-type': MediaType.OCI_MANIFEST }).end(JSON.stringify({ hello: 'world' }));
  },
  'json-bad-layers': (_req, res) => {
    res.writeHead(200, { 'content-type': MediaType.OCI_MANIFEST }).end(JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.OCI_MANIFEST,
      config: { mediaType: MediaType.OCI_CONFIG, digest: `sha256:${'a'.repeat(64)}`, size: 2 },
      layers: 'all of them',
    }));
  },
};

async function startFakeRegistry(): Promise<FakeRegistry> {
  const requests: string[] = [];
  const bytesSent: Record<string, number> = {};
  const server: Server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    req.resume();
    const match = /^\/v2\/bad\/([a-z-]+)\/manifests\/([^/?]+)$/.exec(req.url ?? '');
    const answer = match && match[2] === 'v1' ? ANSWERS[match[1]] : undefined;
    if (req.url === '/v2/') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    } else if (answer && req.method === 'GET') {
      answer(req, res, (bytes) => (bytesSent[match![1]] = (bytesSent[match![1]] ?? 0) + bytes));
    } else if (answer && req.method === 'HEAD') {
      res.writeHead(405).end();
    } else {
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ errors: [{ code: 'MANIFEST_UNKNOWN', message: 'unknown' }] }));
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    host: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    bytesSent,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

let registry: FakeRegistry;
let chain: TestChain;
let keyFile: string;
let certFile: string;
let configDir: string;

beforeAll(async () => {
  registry = await startFakeRegistry();
  chain = await createChain();
  const dir = mkdtempSync(join(tmpdir(), 'bad-registry-'));
  keyFile = join(dir, 'key.pem');
  certFile = join(dir, 'chain.pem');
  writeFileSync(keyFile, chain.leaf.keyPem);
  writeFileSync(certFile, chain.chainPem);
  configDir = writeNotationConfig(trustPolicy({ trustStores: ['ca:test'] }), { 'ca:test': chain.root.pem });
});
afterAll(() => registry.close());

/** The requests about `bad/<name>` that could write (anything but GET and HEAD). */
const writes = (name: string) => registry.requests.filter((request) => request.includes(`/bad/${name}/`) && !/^(GET|HEAD) /.test(request));

/** The problem each answer must be reported with, after the image reference. */
const PROBLEMS: Record<string, (reference: string) => string> = {
  'huge-streamed': (ref) => `manifest ${ref} is larger than the limit of ${DEFAULT_LIMITS.manifestBytes} bytes`,
  'huge-declared': (ref) => `manifest ${ref} is ${HUNDRED_MB} bytes, more than the limit of ${DEFAULT_LIMITS.manifestBytes} bytes`,
  'html-page': (ref) => `invalid manifest ${ref}: registry ${ref.split('/')[0]} answered with "text/html", not a manifest`,
  'html-error': (ref) => `registry ${ref.split('/')[0]} answered 403 Forbidden for manifest ${ref}`,
  'json-array': (ref) => `invalid manifest ${ref}: expected a JSON object`,
  'json-object': (ref) => `invalid manifest ${ref}: schemaVersion must be 2`,
  'json-bad-layers': (ref) => `invalid manifest ${ref}: layers must be an array of at most 10000 descriptors`,
};

describe('a registry that answers a manifest request with something other than a manifest', () => {
  test.each(Object.keys(ANSWERS).map((name) => [name]))('%s: sign and verify fail naming the image and the problem, and nothing is written', async (name) => {
    const reference = `${registry.host}/bad/${name}:v1`;
    const sign = await runSignedImage(['sign', '--plain-http', '-k', keyFile, '-c', certFile, reference]);
    const verify = await runSignedImage(['verify', '--plain-http', '--config-dir', configDir, reference]);

    expect(sign).toEqual({ code: 1, stdout: '', stderr: `Error: ${reference}: ${PROBLEMS[name](reference)}\n` });
    expect(verify).toEqual({ code: 1, stdout: '', stderr: `Error: ${PROBLEMS[name](reference)}\n` });
    expect(writes(name)).toEqual([]);
  });

  test('a 100 MB manifest is refused at the size limit without being buffered: bytes sent and memory stay bounded', async () => {
    const reference = `${registry.host}/bad/huge-streamed:v1`;
    registry.bytesSent['huge-streamed'] = 0;
    const baseline = process.memoryUsage();
    let peak = 0;
    const sampler = setInterval(() => {
      const now = process.memoryUsage();
      peak = Math.max(peak, now.heapUsed + now.arrayBuffers - baseline.heapUsed - baseline.arrayBuffers);
    }, 2);
    let run;
    try {
      run = await runSignedImage(['verify', '--plain-http', '--config-dir', configDir, '-o', 'json', reference]);
    } finally {
      clearInterval(sampler);
    }
    // The client stops reading at the limit; what the server could send beyond it sits in socket buffers.
    const sent = registry.bytesSent['huge-streamed'];
    expect(sent).toBeGreaterThan(DEFAULT_LIMITS.manifestBytes);
    expect(sent).toBeLessThan(4 * DEFAULT_LIMITS.manifestBytes);
    expect(peak).toBeLessThan(48 * 1024 * 1024);
    expect(run.code).toBe(1);
    expect(JSON.parse(run.stdout).error).toEqual({ code: 'registry', message: PROBLEMS['huge-streamed'](reference) });
    expect(writes('huge-streamed')).toEqual([]);
  });
});
